/*
 * cp-report — the product's KPIs for a period ("clientpulse report"):
 * coverage, relevance, time to card, time to review, stuck states,
 * explainability and pushes, per tenant, team and account manager, as
 * the caller may see them (report.h).
 *
 *   cp-report [--since 30d] [--until TIME] [--json | --csv] [--html FILE]
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "ndjson.h"
#include "rbac.h"
#include "report.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-report [--since DURATION|TIME] [--until TIME]\n"
	"                 [--json | --csv] [--html FILE]\n"
	"                 [--db FILE] [--tenant NAME] [--as USER] [-q] [-v]\n"
	"KPIs per tenant, team and account manager over a period.\n"
	"See cp-report(1).\n";

enum { OPT_SINCE = CP_OPT_LOCAL, OPT_UNTIL, OPT_JSON, OPT_CSV, OPT_HTML };

static const struct option longopts[] = {
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "html", required_argument, NULL, OPT_HTML },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* A time, or a duration back from until. */
static time_t when(const char *opt, const char *arg, time_t until)
{
	time_t t;
	long d;

	if (cp_time_parse(arg, &t))
		return t;
	if (cp_duration_parse(arg, &d) && d > 0)
		return until - d;
	cp_usage_error(usage, "%s: expected a time (2026-11-01) or a duration "
	    "(30d), not '%s'", opt, arg);
}

static int write_html(const char *path, const strbuf *sb)
{
	char *a = xstrdup(path), *b = xstrdup(path);
	int rc = cp_write_atomic(dirname(a), basename(b), sb->buf, sb->len);

	free(a);
	free(b);
	return rc;
}

int main(int argc, char **argv)
{
	const char *since_arg = "30d", *until_arg = NULL, *html = NULL;
	int c, rc, json = 0, csv = 0;
	time_t since, until;
	cp_report rep;
	strbuf out = CP_STRBUF_INIT;
	sqlite3 *db;
	cp_user me;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_SINCE: since_arg = optarg; break;
		case OPT_UNTIL: until_arg = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_CSV: csv = 1; break;
		case OPT_HTML: html = optarg; break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (json && csv)
		cp_usage_error(usage, "--json and --csv: choose one");
	/* the period ends after this second: a card made just now counts */
	until = until_arg ? when("--until", until_arg, cp_now()) : cp_now() + 1;
	since = when("--since", since_arg, until);
	if (since >= until)
		cp_usage_error(usage, "--since must be before --until");
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, CP_DB_READONLY, &db)))
		return rc;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)) ||
	    (rc = cp_db_exec(db, "BEGIN"))) {
		cp_db_close(db);
		return rc;
	}
	rc = cp_report_build(db, &me, since, until, &rep);
	cp_db_rollback(db);
	cp_db_close(db);
	if (rc)
		return rc;
	if (html) {
		cp_report_html(&rep, &out);
		rc = write_html(html, &out);
		sb_reset(&out);
	}
	if (!rc && (json || csv || !html)) {
		if (json)
			cp_report_json(&rep, &out);
		else if (csv)
			cp_report_csv(&rep, &out);
		else
			cp_report_text(&rep, &out, cp_term_color(1),
			    !cp_u_locale_utf8());
		fwrite(out.buf, 1, out.len, stdout);
		rc = cp_output_close();
	}
	sb_free(&out);
	cp_report_free(&rep);
	return rc;
}
