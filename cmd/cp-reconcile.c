/*
 * cp-reconcile — keep the state honest ("clientpulse reconcile").
 *
 * Runs each check of lib/reconcile (reconcile.h) over the caller's
 * tenant: finding records on stdout, one summary line per check on
 * stderr, and with --fix the repairs that are safe, each audited.  Meant
 * for cron, daily; exit 0 when clean, 1 when something needs a person,
 * more on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "rbac.h"
#include "reconcile.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-reconcile [--fix] [--check NAME]... [--notify CMD]\n"
	"                    [--stuck-after DURATION] [--lookback DURATION]\n"
	"                    [--cursor-runs N] [--quiet-after DURATION]\n"
	"                    [--deep] [--sample N] [--db FILE] [--tenant NAME]\n"
	"                    [--as USER] [--config FILE] [-q] [-v]\n"
	"       cp-reconcile --list\n"
	"Find stuck, drifted and broken state; with --fix repair what is safe.\n"
	"See cp-reconcile(1).\n";

enum { OPT_FIX = CP_OPT_LOCAL, OPT_CHECK, OPT_NOTIFY, OPT_STUCK,
       OPT_LOOKBACK, OPT_CURSOR_RUNS, OPT_QUIET_AFTER, OPT_DEEP, OPT_SAMPLE,
       OPT_LIST };

static const struct option longopts[] = {
	{ "fix", no_argument, NULL, OPT_FIX },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "notify", required_argument, NULL, OPT_NOTIFY },
	{ "stuck-after", required_argument, NULL, OPT_STUCK },
	{ "lookback", required_argument, NULL, OPT_LOOKBACK },
	{ "cursor-runs", required_argument, NULL, OPT_CURSOR_RUNS },
	{ "quiet-after", required_argument, NULL, OPT_QUIET_AFTER },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "list", no_argument, NULL, OPT_LIST },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

#define MAXCHECKS 32

static void emit(cp_reconcile *r, const json_t *f)
{
	(void)r;
	cp_emit(f);
}

static long duration(const char *opt, const char *arg)
{
	long v;

	if (!cp_duration_parse(arg, &v) || v < 0)
		cp_usage_error(usage, "%s: expected a duration such as 90m, 24h, "
		    "7d, not '%s'", opt, arg);
	return v;
}

static int number(const char *opt, const char *arg, int lo, int hi)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v < lo || v > hi)
		cp_usage_error(usage, "%s: expected a number from %d to %d", opt,
		    lo, hi);
	return (int)v;
}

static void record_check(cp_reconcile *r, int status)
{
	sqlite3_stmt *st;

	if (cp_db_begin(r->db))
		return;
	st = cp_db_prepare(r->db, "INSERT INTO reconcile_checks(tenant_id,"
	    " check_name, ran_at, found, fixed, status) VALUES (?,?,?,?,?,?)"
	    " ON CONFLICT (tenant_id, check_name) DO UPDATE SET"
	    " ran_at = excluded.ran_at, found = excluded.found,"
	    " fixed = excluded.fixed, status = excluded.status,"
	    " version = version + 1");
	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, r->check);
	cp_db_bind_text(st, 3, r->now_s);
	sqlite3_bind_int64(st, 4, r->found);
	sqlite3_bind_int64(st, 5, r->fixed);
	sqlite3_bind_int(st, 6, status);
	if (cp_db_step_done(r->db, st))
		cp_db_rollback(r->db);
	else
		cp_db_commit(r->db);
	sqlite3_finalize(st);
}

/* One line per check on stderr; under -q only the checks with something
 * for a person (a warning or error left, a failed notify): cron mails
 * those. */
static void summary(const cp_reconcile *r, int rc)
{
	bool quiet = cp_log_level() < CP_LOG_WARN;

	if (rc)
		cp_err("%s: error (exit %d)", r->check, rc);
	else if (r->skipped)
		cp_log(CP_LOG_WARN, "%s: skipped (%s)", r->check, r->skip_reason);
	else if (!r->found)
		cp_log(CP_LOG_WARN, "%s: clean", r->check);
	else
		cp_log(quiet && (r->serious || r->notify_failed) ?
		    CP_LOG_ERROR : CP_LOG_WARN, "%s: %ld found, %ld "
		    "fixed%s", r->check, r->found, r->fixed, r->notify &&
		    r->notify_failed ? ", notify failed" : r->notify ?
		    ", notified" : "");
}

int main(int argc, char **argv)
{
	const cp_check *only[MAXCHECKS], *c;
	int nonly = 0, list = 0, ch, rc, status = 0, i;
	bool serious = false, notify_failed = false;
	cp_reconcile r;
	cp_user me;
	char actor[300];
	sqlite3 *db;

	cp_cli_init(argc, argv);
	cp_reconcile_defaults(&r);
	while ((ch = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(ch, optarg, usage))
			continue;
		switch (ch) {
		case OPT_FIX: r.fix = true; break;
		case OPT_DEEP: r.deep = true; break;
		case OPT_LIST: list = 1; break;
		case OPT_NOTIFY: r.notify = optarg; break;
		case OPT_STUCK: r.stuck_after = duration("--stuck-after", optarg);
			break;
		case OPT_LOOKBACK: r.lookback = duration("--lookback", optarg);
			break;
		case OPT_QUIET_AFTER:
			r.quiet_after = duration("--quiet-after", optarg);
			break;
		case OPT_CURSOR_RUNS:
			r.cursor_runs = number("--cursor-runs", optarg, 1, 10000);
			break;
		case OPT_SAMPLE:
			r.sample = number("--sample", optarg, 0, 1000000);
			break;
		case OPT_CHECK:
			if (!(c = cp_check_find(optarg)))
				cp_usage_error(usage, "--check: unknown check '%s' "
				    "(see --list)", optarg);
			if (nonly < MAXCHECKS)
				only[nonly++] = c;
			break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (list) {
		for (c = cp_checks; c->name; c++)
			printf("%-17s %s\n", c->name, c->what);
		return cp_output_close();
	}
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		return rc;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me))) {
		cp_db_close(db);
		return rc;
	}
	if (me.role != CP_ROLE_ADMIN) {
		cp_err("permission denied: role %s may not reconcile the tenant "
		    "(admin only)", cp_role_name(me.role));
		cp_db_close(db);
		return CP_EX_NOPERM;
	}
	cp_user_actor(&me, actor, sizeof actor);
	r.db = db;
	r.me = &me;
	r.actor = actor;
	r.db_path = cp_db_filename(db);
	r.now = cp_now();
	cp_time_format(r.now, r.now_s);
	r.run.db_path = r.db_path;
	r.run.tenant = me.tenant;
	r.run.as = cp_cli.as;
	r.run.config = cp_cli.config;
	r.emit = emit;

	for (i = 0; cp_checks[i].name; i++) {
		int k, wanted = !nonly;
		for (k = 0; k < nonly; k++)
			if (only[k] == &cp_checks[i])
				wanted = 1;
		if (!wanted)
			continue;
		r.check = cp_checks[i].name;
		r.found = r.fixed = r.serious = r.notify_failed = 0;
		r.skipped = false;
		rc = cp_checks[i].run(&r);
		fflush(stdout);
		summary(&r, rc);
		record_check(&r, rc ? rc : r.serious ? 1 : 0);
		if (rc && rc > status)
			status = rc;
		if (r.serious)
			serious = true;
		if (r.notify_failed)
			notify_failed = true;
	}
	cp_db_close(db);
	if ((rc = cp_output_close()))
		return rc;
	if (status)
		return status;
	if (notify_failed)
		return CP_EX_TEMPFAIL;
	return serious ? CP_EX_FINDINGS : CP_EX_OK;
}
