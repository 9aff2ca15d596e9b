/*
 * cp-doctor — is this installation healthy? ("clientpulse doctor")
 *
 * One line per check, for a person or a monitoring check:
 *
 *   ok        state              /var/lib/clientpulse/acme.db: integrity ok, schema 1
 *   degraded  stage fetch        last success 2h ago, overdue (interval 15m)
 *
 * Exit 0 when every check is ok, 1 when something is degraded (works, but
 * needs attention), 2 when something is broken.  Secrets are checked for
 * presence only and never printed.  The doctor only looks: the state file
 * is opened read-only, nothing is migrated, repaired or sent.
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
#include "outbox.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-doctor [--json] [--online] [--db FILE] [--config FILE]\n"
	"                 [-q] [-v]\n"
	"Check the state file, configuration, credentials, pipeline runs,\n"
	"reconcile and disk space; exit 0 healthy, 1 degraded, 2 broken.\n"
	"See cp-doctor(1).\n";

enum { OPT_JSON = CP_OPT_LOCAL, OPT_ONLINE };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "online", no_argument, NULL, OPT_ONLINE },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

enum health { OK = 0, DEGRADED = 1, BROKEN = 2 };
static const char *const hname[] = { "ok", "degraded", "broken" };

static int json_out, online, worst;
static time_t now;

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
		printf("%-9s %-20s %s\n", hname[h], check, detail);
	}
}

static void ago(time_t secs, char *out, size_t n)
{
	if (secs < 0)
		snprintf(out, n, "in the future (clock?)");
	else if (secs < 120)
		snprintf(out, n, "%lds ago", (long)secs);
	else if (secs < 7200)
		snprintf(out, n, "%ldm ago", (long)secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, n, "%ldh ago", (long)secs / 3600);
	else
		snprintf(out, n, "%ldd ago", (long)secs / 86400);
}

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT 1 FROM sqlite_master"
	    " WHERE type = 'table' AND name = ?");
	bool has;

	cp_db_bind_text(st, 1, name);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

static long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	long n = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- the state file ----------------------------------------------------- */

static int check_state(const char *path, sqlite3 **out)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *res;
	int rc, v, mine = cp_db_schema_version();

	if (access(path, F_OK) != 0) {
		report(BROKEN, "state", "%s: no state file (clientpulse init)", path);
		return CP_EX_NOINPUT;
	}
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
	if (v > mine)
		report(BROKEN, "state", "%s: schema %d is newer than this "
		    "ClientPulse (%d): upgrade the binaries", path, v, mine);
	else if (v < mine)
		report(DEGRADED, "state", "%s: schema %d, this ClientPulse writes "
		    "%d: run clientpulse init to migrate", path, v, mine);
	else
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

/* ---- services and their credentials ------------------------------------- */

static void check_online(const char *name, const char *url)
{
	cp_http_opts o;
	cp_http *h;
	cp_http_req *r;
	char check[64];

	snprintf(check, sizeof check, "online %s", name);
	cp_http_opts_default(&o);
	o.user_agent = cp_conf("http.user_agent", NULL,
	    "ClientPulse-doctor/" CP_VERSION);
	o.retries = 0;
	o.timeout = 10;
	h = cp_http_new(&o);
	r = cp_http_req_new("HEAD", url);
	/* any answer means reachable: the doctor sends no credentials */
	if (cp_http_do(h, r) == 0 || r->status > 0)
		report(OK, check, "%s reachable (HTTP %ld)", url, r->status);
	else
		report(DEGRADED, check, "%s unreachable: %s", url, r->error);
	cp_http_req_free(r);
	cp_http_free(h);
}

/* A secret by its key and environment variable; presence only. */
static bool secret(const char *key, const char *env)
{
	const char *s = cp_secret(key, env, NULL);
	return s && *s;
}

static void push_target(cp_target t)
{
	char check[64];
	const char *url = NULL;

	snprintf(check, sizeof check, "push %s", cp_target_name(t));
	switch (t) {
	case CP_TGT_HUBSPOT:
		url = cp_conf("hubspot.base_url", NULL, "https://api.hubapi.com");
		if (!secret("hubspot.token", "CLIENTPULSE_HUBSPOT_TOKEN"))
			report(BROKEN, check, "hubspot.token is missing from the "
			    "credentials file");
		else
			report(OK, check, "hubspot.token present; %s", url);
		break;
	case CP_TGT_SALESFORCE: {
		/* an instance URL kept with the token is redacted like it */
		bool hidden = (url = cp_secret("salesforce.instance_url", NULL,
		    NULL)) != NULL;
		if (!url)
			url = cp_conf("salesforce.instance_url", NULL, NULL);
		if (!secret("salesforce.access_token",
		    "CLIENTPULSE_SALESFORCE_ACCESS_TOKEN"))
			report(BROKEN, check, "salesforce.access_token is missing "
			    "from the credentials file");
		else if (!url)
			report(BROKEN, check, "no instance URL: salesforce."
			    "instance_url in the credentials or configuration");
		else
			report(OK, check, "salesforce.access_token present; %s",
			    hidden ? "instance URL in the credentials file" : url);
		break;
	}
	case CP_TGT_WEBHOOK:
		url = cp_conf("webhook.url", NULL, NULL);
		if (!url || !*url)
			report(BROKEN, check, "webhook.url is not set");
		else if (!secret("webhook.secret", "CLIENTPULSE_WEBHOOK_SECRET"))
			report(BROKEN, check, "webhook.secret is missing from the "
			    "credentials file");
		else
			report(OK, check, "webhook.secret present; %s", url);
		break;
	default: {
		const char *path = cp_conf("file.path", NULL, "-");
		char *dir = xstrdup(path), *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (!strcmp(path, "-"))
			report(OK, check, "push records to standard output");
		else if (access(slash ? (*dir ? dir : "/") : ".", W_OK) != 0)
			report(BROKEN, check, "%s: directory not writable", path);
		else
			report(OK, check, "push records appended to %s", path);
		free(dir);
		url = NULL;
		break;
	}
	}
	if (online && url && *url)
		check_online(cp_target_name(t), url);
}

/*
 * The CRM targets cp-push will use (push.targets, else what the last
 * cp-push recorded), then the model endpoints when they are configured.
 * Only presence is reported, never a value.
 */
static void check_credentials(sqlite3 *db)
{
	const char *url, *narr = cp_conf("card.narrative", NULL, "template");
	unsigned mask = db ? cp_outbox_active_targets(db) : 0;
	int err = 0, t;

	cp_secret("doctor.probe", NULL, &err);
	if (err) {
		report(BROKEN, "credentials", "credentials file is unsafe or "
		    "unreadable (see above)");
		return;
	}
	if (!mask)
		report(OK, "push", "no CRM target configured (push.targets)");
	for (t = 0; t < CP_TGT_N; t++)
		if (mask & (1u << t))
			push_target((cp_target)t);
	url = cp_conf("llm.url", NULL, NULL);
	if (!strcmp(narr, "llm") || url) {
		if (!url || !cp_conf("llm.model", NULL, NULL))
			report(!strcmp(narr, "llm") ? BROKEN : DEGRADED, "llm",
			    "llm.url and llm.model must both be set%s",
			    !strcmp(narr, "llm") ? " (card.narrative = llm)" : "");
		else
			/* a local model server often needs no key */
			report(OK, "llm", "%s, model %s, llm.api_key %s", url,
			    cp_conf("llm.model", NULL, ""), secret("llm.api_key",
			    "CLIENTPULSE_LLM_API_KEY") ? "present" : "absent");
		if (online && url)
			check_online("llm", url);
	}
	if ((url = cp_conf("embed.url", NULL, NULL)) != NULL) {
		if (!cp_conf("embed.model", NULL, NULL))
			report(DEGRADED, "embed", "embed.url is set but embed.model "
			    "is not");
		else
			report(OK, "embed", "%s, embed.api_key %s", url,
			    secret("embed.api_key", "CLIENTPULSE_EMBED_API_KEY") ?
			    "present" : "absent");
		if (online)
			check_online("embed", url);
	}
}

/* SEC EDGAR refuses clients that do not name a contact; cp-fetch checks
 * it before fetching, so a missing one silently stops every filing. */
static void check_sec(sqlite3 *db)
{
	const char *ua = cp_conf("http.user_agent", NULL, NULL);

	if (!count(db, "SELECT count(*) FROM accounts WHERE cik IS NOT NULL"
	    " AND deleted_at IS NULL"))
		return;
	if (!ua || !cp_http_ua_has_contact(ua))
		report(BROKEN, "sec", "accounts have CIKs but http.user_agent "
		    "names no contact e-mail or URL: cp-fetch will not ask SEC "
		    "EDGAR");
	else
		report(OK, "sec", "user agent names a contact");
}

/* ---- runs --------------------------------------------------------------- */

static void last_run(sqlite3 *db)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT status, error, started_at"
	    " FROM runs WHERE kind = 'pipeline' AND status <> 'running'"
	    " ORDER BY id DESC LIMIT 1");
	long killed = count(db, "SELECT count(*) FROM runs WHERE"
	    " status = 'killed' AND recovered = 0");

	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *status = cp_db_col_text(st, 0);
		if (!strcmp(status, "failed"))
			report(DEGRADED, "last run", "the last run (%s) failed: %s",
			    cp_db_col_text(st, 2), cp_db_col_text(st, 1));
		else
			report(OK, "last run", "the last run (%s) ended %s",
			    cp_db_col_text(st, 2), status);
	}
	sqlite3_finalize(st);
	if (killed)
		report(DEGRADED, "recovery", "%ld killed run(s) not recovered yet: "
		    "the next full clientpulse run replays them", killed);
}

/* A stage that has not succeeded for two of its intervals is stalled:
 * the silent failure of watchers that nobody notices for weeks. */
static void check_runs(sqlite3 *db)
{
	static const char *const pipeline[] = { "fetch", "extract", "dedupe",
	    "score", "card", "push", NULL };
	long interval = 900, push_interval = 300;
	sqlite3_stmt *st;
	int i;

	cp_duration_parse(cp_conf("run.interval", NULL, "15m"), &interval);
	cp_duration_parse(cp_conf("run.push_interval", NULL, "5m"),
	    &push_interval);
	if (!count(db, "SELECT count(*) FROM runs")) {
		report(DEGRADED, "runs", "the pipeline has never run "
		    "(clientpulse run)");
		return;
	}
	last_run(db);
	for (i = 0; pipeline[i]; i++) {
		long iv = strcmp(pipeline[i], "push") ? interval : push_interval;
		char check[64], when[32];
		time_t last = 0, lastany = 0;

		st = cp_db_prepare(db, "SELECT max(CASE WHEN exit_status = 0 THEN"
		    " finished_at END), max(finished_at) FROM run_stages"
		    " WHERE stage = ? AND phase = 'run'");
		cp_db_bind_text(st, 1, pipeline[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			cp_time_parse(cp_db_col_text(st, 0), &last);
			cp_time_parse(cp_db_col_text(st, 1), &lastany);
		}
		sqlite3_finalize(st);
		snprintf(check, sizeof check, "stage %s", pipeline[i]);
		if (!lastany) {
			/* pushing is optional: no CRM, no push runs */
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

static void check_reconcile(sqlite3 *db)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT max(ran_at),"
	    " sum(CASE WHEN status = 1 THEN found - fixed ELSE 0 END),"
	    " sum(status > 1) FROM reconcile_checks");
	char when[32];
	time_t t = 0;

	if (sqlite3_step(st) == SQLITE_ROW &&
	    cp_time_parse(cp_db_col_text(st, 0), &t)) {
		long open = (long)sqlite3_column_int64(st, 1);
		long errors = (long)sqlite3_column_int64(st, 2);
		ago(now - t, when, sizeof when);
		if (now - t > 2 * 86400)
			report(DEGRADED, "reconcile", "last ran %s (daily expected)",
			    when);
		else if (errors)
			report(DEGRADED, "reconcile", "last ran %s: %ld check(s) "
			    "failed", when, errors);
		else if (open)
			report(DEGRADED, "reconcile", "last ran %s: %ld finding(s) "
			    "left (cp-reconcile)", when, open);
		else
			report(OK, "reconcile", "last ran %s: clean", when);
	} else {
		report(DEGRADED, "reconcile", "never ran (cp-reconcile, daily)");
	}
	sqlite3_finalize(st);
}

static void check_outbox(sqlite3 *db)
{
	long failed, holds;

	if (!has_table(db, "push_outbox"))
		return;
	failed = count(db, "SELECT count(*) FROM push_outbox WHERE"
	    " state = 'failed'");
	holds = count(db, "SELECT count(*) FROM push_holds WHERE until >"
	    " strftime('%Y-%m-%dT%H:%M:%SZ', 'now')");
	if (failed)
		report(DEGRADED, "outbox", "%ld push(es) failed for good "
		    "(cp-push --status, --retry)", failed);
	else if (holds)
		report(DEGRADED, "outbox", "%ld target(s) held by their CRM's "
		    "limit", holds);
	else
		report(OK, "outbox", "%ld queued, none failed", count(db,
		    "SELECT count(*) FROM push_outbox WHERE state IN ('queued',"
		    " 'retry_wait')"));
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
	const char *where = ".";
	struct statvfs sv;

	if (slash) {
		*slash = '\0';
		where = *dir ? dir : "/";
	}
	if (statvfs(where, &sv) < 0) {
		report(DEGRADED, "disk", "%s: %s", where, strerror(errno));
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
	int c, rc;
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
	now = cp_now();
	path = cp_cli.db ? cp_cli.db : cp_db_default_path();
	check_config();
	if (check_state(path, &db) == 0) {
		check_runs(db);
		check_reconcile(db);
		check_outbox(db);
		check_audit(db);
		check_sec(db);
	}
	check_credentials(db);
	check_disk(path);
	cp_db_close(db);
	rc = cp_output_close();
	return rc ? rc : worst;
}
