/*
 * cp-doctor — is this installation healthy? ("clientpulse doctor")
 *
 * One line per check, for a person or a monitoring check:
 *
 *   ok        state        /var/lib/clientpulse/acme.db: integrity ok, schema 1
 *   degraded  stage fetch  last success 2h ago, overdue (interval 15m)
 *
 * Exit 0 when every check is ok, 1 when something is degraded (works, but
 * needs attention), 2 when something is broken.  Secrets are checked for
 * presence only and never printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-doctor [--json] [--online] [--db FILE] [-q] [-v]\n"
	"Check the state file, configuration, credentials, pipeline runs and\n"
	"disk space; exit 0 healthy, 1 degraded, 2 broken.  See cp-doctor(1).\n";

enum { OPT_JSON = CP_OPT_LOCAL, OPT_ONLINE };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "online", no_argument, NULL, OPT_ONLINE },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

enum health { OK = 0, DEGRADED = 1, BROKEN = 2 };
static const char *const hname[] = { "ok", "degraded", "broken" };

static int json_out, worst;

__attribute__((format(printf, 3, 4)))
static void report(enum health h, const char *check, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	cp_log_redact(detail);
	if ((int)h > worst)
		worst = (int)h;
	if (json_out) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "check", check, "status",
		    hname[h], "detail", detail);
		cp_emit(o);
		json_decref(o);
	} else {
		printf("%-9s %-18s %s\n", hname[h], check, detail);
	}
}

static void ago(time_t secs, char *out, size_t n)
{
	if (secs < 120)
		snprintf(out, n, "%lds ago", (long)secs);
	else if (secs < 7200)
		snprintf(out, n, "%ldm ago", (long)secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, n, "%ldh ago", (long)secs / 3600);
	else
		snprintf(out, n, "%ldd ago", (long)secs / 86400);
}

static int check_state(const char *path, sqlite3 **out)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *res;
	int rc, v;

	/* read-only: the doctor looks, it does not migrate or repair */
	if ((rc = cp_db_open(path, CP_DB_READONLY, &db))) {
		report(BROKEN, "state", "%s: cannot be opened (exit %d)", path, rc);
		return rc;
	}
	st = cp_db_prepare(db, "PRAGMA integrity_check");
	rc = sqlite3_step(st);
	res = rc == SQLITE_ROW ? cp_db_col_text(st, 0) : sqlite3_errmsg(db);
	if (strcmp(res, "ok") != 0) {
		report(BROKEN, "state", "%s: integrity check: %.200s", path, res);
		sqlite3_finalize(st);
		cp_db_close(db);
		return CP_EX_DATAERR;
	}
	sqlite3_finalize(st);
	st = cp_db_prepare(db, "PRAGMA user_version");
	sqlite3_step(st);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	report(OK, "state", "%s: integrity ok, schema %d", path, v);
	*out = db;
	return 0;
}

static void check_config(void)
{
	int rc = cp_config_load(cp_cli.config);

	if (rc)
		report(BROKEN, "config", "configuration file has errors "
		    "(see above)");
	else
		report(OK, "config", "%s", cp_cli.config ? cp_cli.config :
		    "default location parsed (or absent: all defaults)");
}

/*
 * A service counts as configured when its settings are present; then its
 * secret must be present too.  Only presence is reported, never a value.
 */
struct service {
	const char *name, *setting, *secret, *env, *url_key, *url_default;
};

static const struct service services[] = {
	{ "hubspot", "hubspot.base_url", "hubspot.token",
	  "CLIENTPULSE_HUBSPOT_TOKEN", "hubspot.base_url",
	  "https://api.hubapi.com" },
	{ "salesforce", "salesforce.instance_url", "salesforce.access_token",
	  "CLIENTPULSE_SALESFORCE_ACCESS_TOKEN", "salesforce.instance_url", NULL },
	{ "webhook", "webhook.url", "webhook.secret", "CLIENTPULSE_WEBHOOK_SECRET",
	  "webhook.url", NULL },
	{ "llm", "llm.url", "llm.api_key", "CLIENTPULSE_LLM_API_KEY", "llm.url",
	  NULL },
	{ "embed", "embed.url", "embed.api_key", "CLIENTPULSE_EMBED_API_KEY",
	  "embed.url", NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

static void check_online(const char *name, const char *url)
{
	cp_http_opts o;
	cp_http *h;
	cp_http_req *r;

	cp_http_opts_default(&o);
	o.user_agent = cp_conf("http.user_agent", NULL,
	    "ClientPulse-doctor/" CP_VERSION);
	o.retries = 0;
	o.timeout = 10;
	h = cp_http_new(&o);
	r = cp_http_req_new("HEAD", url);
	if (cp_http_do(h, r) == 0)
		report(OK, name, "%s reachable (HTTP %ld)", url, r->status);
	else
		report(DEGRADED, name, "%s unreachable: %s", url, r->error);
	cp_http_req_free(r);
	cp_http_free(h);
}

static void check_credentials(int online)
{
	const struct service *s;
	int any = 0, err = 0;

	cp_secret("doctor.probe", NULL, &err);
	if (err) {
		report(BROKEN, "credentials", "credentials file is unsafe or "
		    "unreadable (see above)");
		return;
	}
	for (s = services; s->name; s++) {
		const char *set = cp_conf(s->setting, NULL, NULL);
		char check[64];

		if (!set && !cp_secret(s->secret, NULL, NULL))
			continue;
		any = 1;
		snprintf(check, sizeof check, "credentials %s", s->name);
		if (cp_secret(s->secret, s->env, NULL))
			report(OK, check, "%s present", s->secret);
		else
			/* a local model server often needs no key; a CRM
			 * always does */
			report(!strcmp(s->name, "llm") || !strcmp(s->name, "embed") ?
			    DEGRADED : BROKEN, check, "%s is configured but %s is "
			    "missing from the credentials file", s->name,
			    s->secret);
		if (online) {
			const char *url = cp_conf(s->url_key, NULL, s->url_default);
			if (url)
				check_online(s->name, url);
		}
	}
	if (!any)
		report(OK, "credentials", "no CRM or model endpoint configured");
}

/* A stage that has not succeeded for two of its intervals is stalled:
 * the silent failure of watchers that nobody notices for weeks. */
static void check_runs(sqlite3 *db)
{
	static const char *const pipeline[] = { "fetch", "extract", "dedupe",
	    "score", "card", "push", NULL };
	long interval = 900, push_interval = 300;
	time_t now = cp_now();
	sqlite3_stmt *st;
	int i, ran = 0;

	cp_duration_parse(cp_conf("run.interval", NULL, "15m"), &interval);
	cp_duration_parse(cp_conf("run.push_interval", NULL, "5m"),
	    &push_interval);
	st = cp_db_prepare(db, "SELECT count(*) FROM runs");
	if (sqlite3_step(st) == SQLITE_ROW)
		ran = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!ran) {
		report(DEGRADED, "runs", "the pipeline has never run "
		    "(clientpulse run)");
		return;
	}
	for (i = 0; pipeline[i]; i++) {
		long iv = strcmp(pipeline[i], "push") ? interval : push_interval;
		char check[64], when[32];
		time_t last = 0, lastany = 0;

		st = cp_db_prepare(db, "SELECT max(CASE WHEN exit_status = 0 THEN"
		    " finished_at END), max(finished_at) FROM run_stages"
		    " WHERE stage = ?");
		cp_db_bind_text(st, 1, pipeline[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			cp_time_parse(cp_db_col_text(st, 0), &last);
			cp_time_parse(cp_db_col_text(st, 1), &lastany);
		}
		sqlite3_finalize(st);
		snprintf(check, sizeof check, "stage %s", pipeline[i]);
		if (!lastany) {
			if (strcmp(pipeline[i], "push"))
				report(DEGRADED, check, "never ran");
			continue;
		}
		if (!last) {
			report(DEGRADED, check, "ran but never succeeded");
			continue;
		}
		ago(now - last, when, sizeof when);
		if (now - last > 2 * iv)
			report(DEGRADED, check, "last success %s, overdue "
			    "(interval %lds)", when, iv);
		else
			report(OK, check, "last success %s", when);
	}
}

static void check_audit(sqlite3 *db)
{
	int64_t n = 0, bad = 0;
	const char *why = NULL;
	int rc = cp_audit_verify(db, &n, &bad, &why);

	if (rc == 0)
		report(OK, "audit", "chain of %lld entries verifies", (long long)n);
	else if (rc == 1)
		report(BROKEN, "audit", "chain broken at entry %lld: %s",
		    (long long)bad, why);
	else
		report(BROKEN, "audit", "cannot read the audit log");
}

static void check_disk(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct statvfs sv;

	if (slash)
		*slash = '\0';
	if (statvfs(slash ? (*dir ? dir : "/") : ".", &sv) < 0) {
		report(DEGRADED, "disk", "%s: %s", dir, strerror(errno));
	} else {
		double freeb = (double)sv.f_bavail * (double)sv.f_frsize;
		double total = (double)sv.f_blocks * (double)sv.f_frsize;
		double pct = total > 0 ? 100.0 * freeb / total : 0;
		enum health h = freeb < 100e6 || pct < 1 ? BROKEN :
		    pct < 10 ? DEGRADED : OK;
		report(h, "disk", "%.1f GB free (%.0f%%) beside the state file",
		    freeb / 1e9, pct);
	}
	free(dir);
}

int main(int argc, char **argv)
{
	int c, online = 0;
	const char *path;
	sqlite3 *db = NULL;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		if (c == OPT_JSON)
			json_out = 1;
		else if (c == OPT_ONLINE)
			online = 1;
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	path = cp_cli.db ? cp_cli.db : cp_db_default_path();
	check_config();
	if (check_state(path, &db) == 0) {
		check_runs(db);
		check_audit(db);
	}
	check_credentials(online);
	check_disk(path);
	cp_db_close(db);
	{
		int rc = cp_output_close();
		return rc ? rc : worst;
	}
}
