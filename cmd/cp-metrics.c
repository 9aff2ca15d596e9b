/*
 * cp-metrics — the state file as Prometheus metrics ("clientpulse
 * metrics"): documents, signals, stories, cards, pushes, runs and their
 * stages, stuck counts, time to card, for one tenant.
 *
 * Written to stdout, or with --textfile DIR atomically to
 * DIR/clientpulse_TENANT.prom for node_exporter's textfile collector
 * (a cron job every few minutes; the collector never sees half a file).
 * Everything is read in one transaction, so the numbers agree.
 */
#include <ctype.h>
#include <stdbool.h>
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
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-metrics [--textfile DIR] [--stuck-after DURATION]\n"
	"                  [--db FILE] [--tenant NAME] [--as USER] [-q] [-v]\n"
	"Prometheus metrics of the state file, to stdout or, with --textfile,\n"
	"atomically into DIR for node_exporter.  See cp-metrics(1).\n";

enum { OPT_TEXTFILE = CP_OPT_LOCAL, OPT_STUCK };

static const struct option longopts[] = {
	{ "textfile", required_argument, NULL, OPT_TEXTFILE },
	{ "stuck-after", required_argument, NULL, OPT_STUCK },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static struct {
	sqlite3 *db;
	cp_user me;
	strbuf out;
	time_t now;
	char now_s[CP_TIME_MAX];
	long stuck_after;
} M;

/* Seconds between two of our timestamps, as SQL. */
/* rounded to the millisecond: julianday() arithmetic is not exact */
#define SECONDS(a, b) "round((julianday(" a ") - julianday(" b ")) * 86400.0, 3)"

static sqlite3_stmt *query(const char *sql)
{
	sqlite3_stmt *st = cp_db_prepare(M.db, sql);
	int i, n = sqlite3_bind_parameter_count(st);

	/* ?1 is always the tenant, ?2 the time now */
	for (i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		if (!name || !strcmp(name, "?1"))
			sqlite3_bind_int64(st, i, M.me.tenant_id);
		else if (!strcmp(name, "?2"))
			cp_db_bind_text(st, i, M.now_s);
	}
	return st;
}

static double scalar(const char *sql)
{
	sqlite3_stmt *st = query(sql);
	double v = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* (reconcile.h has this too, but links the CRM client and libcurl) */
static bool has_table(const char *name)
{
	sqlite3_stmt *st = cp_db_prepare(M.db, "SELECT 1 FROM sqlite_master"
	    " WHERE type = 'table' AND name = ?");
	bool has;

	cp_db_bind_text(st, 1, name);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

static double epoch(const char *t)
{
	time_t v;
	return t && cp_time_parse(t, &v) ? (double)v : 0;
}

static void one(const char *name, const char *type, const char *help,
    double v)
{
	const char *l[] = { "tenant", M.me.tenant, NULL };

	cp_prom_family(&M.out, name, type, help);
	cp_prom_sample(&M.out, name, l, v);
}

/* A family whose samples come from "SELECT label, value" rows. */
static void by(const char *name, const char *type, const char *help,
    const char *label, const char *sql)
{
	sqlite3_stmt *st = query(sql);

	cp_prom_family(&M.out, name, type, help);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *l[] = { "tenant", M.me.tenant, label,
		    cp_db_col_text(st, 0), NULL };
		cp_prom_sample(&M.out, name, l, sqlite3_column_double(st, 1));
	}
	sqlite3_finalize(st);
}

static void documents(void)
{
	by("clientpulse_documents_total", "counter", "Documents fetched and "
	    "logged, by source.", "source", "SELECT source, count(*) FROM"
	    " fetch_log WHERE tenant_id = ?1 GROUP BY source ORDER BY source");
	one("clientpulse_documents_pending", "gauge", "Documents logged but "
	    "not yet written out by cp-fetch.", scalar("SELECT count(*) FROM"
	    " fetch_log WHERE tenant_id = ?1 AND status = 'pending'"));
	one("clientpulse_signals_total", "counter", "Signals stored by "
	    "cp-dedupe, new and corroborating.", scalar("SELECT count(*) FROM"
	    " signals WHERE tenant_id = ?1"));
	one("clientpulse_stories_total", "counter", "Stories (clusters) "
	    "signals were folded into.", scalar("SELECT count(*) FROM clusters"
	    " WHERE tenant_id = ?1"));
	one("clientpulse_duplicates_total", "counter", "Signals folded into "
	    "an existing story (repeats of a story).", scalar("SELECT"
	    " coalesce(sum(size - 1), 0) FROM clusters WHERE tenant_id = ?1"));
}

static void cards(void)
{
	by("clientpulse_cards", "gauge", "Cards by review status.", "status",
	    "WITH s(status) AS (VALUES ('pending_review'), ('approved'),"
	    " ('rejected'), ('pushed')) SELECT s.status, (SELECT count(*)"
	    " FROM cards c WHERE c.tenant_id = ?1 AND c.status = s.status)"
	    " FROM s");
	if (has_table("push_outbox")) {
		sqlite3_stmt *st = query("SELECT target, state, count(*) FROM"
		    " push_outbox WHERE tenant_id = ?1 GROUP BY target, state"
		    " ORDER BY target, state");
		cp_prom_family(&M.out, "clientpulse_pushes", "gauge", "Rows of "
		    "the push outbox by target and state.");
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *l[] = { "tenant", M.me.tenant, "target",
			    cp_db_col_text(st, 0), "state", cp_db_col_text(st, 1),
			    NULL };
			cp_prom_sample(&M.out, "clientpulse_pushes", l,
			    sqlite3_column_double(st, 2));
		}
		sqlite3_finalize(st);
	}
}

static void runs(void)
{
	static const char *const stages[] = { "fetch", "extract", "dedupe",
	    "score", "card", "push", NULL };
	static const struct {
		const char *name, *type, *help, *col;
	} last[] = {
		{ "clientpulse_stage_duration_seconds", "gauge", "Duration of "
		  "the stage in its last run.", "duration_ms / 1000.0" },
		{ "clientpulse_stage_first_record_seconds", "gauge", "Time from "
		  "the start of the stage to its first record out, last run.",
		  "first_out_ms / 1000.0" },
		{ "clientpulse_stage_records_in", "gauge", "Records into the "
		  "stage in its last run.", "records_in" },
		{ "clientpulse_stage_records_out", "gauge", "Records out of the "
		  "stage in its last run.", "records_out" },
		{ "clientpulse_stage_exit_status", "gauge", "Exit status of the "
		  "stage in its last run.", "exit_status" },
		{ NULL, NULL, NULL, NULL }
	};
	int i, k;

	by("clientpulse_runs_total", "counter", "Runs of clientpulse run, by "
	    "how they ended.", "status", "WITH s(status) AS (VALUES ('ok'),"
	    " ('failed'), ('killed'), ('running')) SELECT s.status,"
	    " (SELECT count(*) FROM runs r WHERE r.tenant_id = ?1"
	    " AND r.status = s.status) FROM s");
	{
		sqlite3_stmt *st = query("SELECT max(started_at) FROM runs"
		    " WHERE tenant_id = ?1");
		double v = 0;
		if (sqlite3_step(st) == SQLITE_ROW)
			v = epoch((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		one("clientpulse_run_last_start_timestamp_seconds", "gauge",
		    "Start of the last run (0: never).", v);
	}
	cp_prom_family(&M.out, "clientpulse_stage_last_success_timestamp_seconds",
	    "gauge", "When the stage last finished with exit status 0.");
	for (i = 0; stages[i]; i++) {
		sqlite3_stmt *st = query("SELECT max(finished_at) FROM run_stages"
		    " WHERE tenant_id = ?1 AND stage = ?3 AND phase = 'run'"
		    " AND exit_status = 0");
		const char *l[] = { "tenant", M.me.tenant, "stage", stages[i],
		    NULL };
		cp_db_bind_text(st, 3, stages[i]);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			cp_prom_sample(&M.out, "clientpulse_stage_last_success_"
			    "timestamp_seconds", l, epoch((const char *)
			    sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	for (k = 0; last[k].name; k++) {
		char *sql = xasprintf("SELECT %s FROM run_stages WHERE"
		    " tenant_id = ?1 AND stage = ?3 AND phase = 'run'"
		    " ORDER BY run_id DESC LIMIT 1", last[k].col);
		cp_prom_family(&M.out, last[k].name, last[k].type, last[k].help);
		for (i = 0; stages[i]; i++) {
			sqlite3_stmt *st = query(sql);
			const char *l[] = { "tenant", M.me.tenant, "stage",
			    stages[i], NULL };
			cp_db_bind_text(st, 3, stages[i]);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_type(st, 0) != SQLITE_NULL)
				cp_prom_sample(&M.out, last[k].name, l,
				    sqlite3_column_double(st, 0));
			sqlite3_finalize(st);
		}
		free(sql);
	}
	by("clientpulse_stage_seconds_total", "counter", "Seconds spent in "
	    "each stage over all runs (recoveries included).", "stage",
	    "SELECT stage, sum(duration_ms) / 1000.0 FROM run_stages"
	    " WHERE tenant_id = ?1 GROUP BY stage ORDER BY stage");
	by("clientpulse_stage_records_out_total", "counter", "Records out "
	    "of each stage over all runs.", "stage", "SELECT stage,"
	    " sum(records_out) FROM run_stages WHERE tenant_id = ?1"
	    " GROUP BY stage ORDER BY stage");
}

static void stuck(void)
{
	char cutoff[CP_TIME_MAX], since[CP_TIME_MAX];
	sqlite3_stmt *st;
	double docs = 0, pushes = 0, reviews;

	cp_time_format(M.now - M.stuck_after, cutoff);
	cp_time_format(M.now - 7 * 86400, since);
	st = query("SELECT count(*) FROM fetch_log l WHERE l.tenant_id = ?1"
	    " AND l.fetched_at >= ?3 AND l.fetched_at < ?4 AND NOT EXISTS"
	    " (SELECT 1 FROM signals s WHERE s.tenant_id = l.tenant_id"
	    "  AND s.document_id = l.doc_id)");
	cp_db_bind_text(st, 3, since);
	cp_db_bind_text(st, 4, cutoff);
	if (sqlite3_step(st) == SQLITE_ROW)
		docs = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	if (has_table("push_outbox")) {
		st = query("SELECT count(*) FROM push_outbox WHERE tenant_id = ?1"
		    " AND state = 'sending' AND coalesce(sent_at, updated_at) < ?3");
		cp_db_bind_text(st, 3, cutoff);
		if (sqlite3_step(st) == SQLITE_ROW)
			pushes = sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
	}
	reviews = scalar("SELECT count(*) FROM cards c JOIN tenants t"
	    " ON t.id = c.tenant_id WHERE c.tenant_id = ?1"
	    " AND c.status = 'pending_review' AND " SECONDS("?2", "c.created_at")
	    " > t.review_sla_hours * 3600.0");
	cp_prom_family(&M.out, "clientpulse_stuck", "gauge", "Things stuck "
	    "now: documents fetched but never carried to a signal, pushes left "
	    "sending, cards pending past the review SLA.");
	{
		const char *d[] = { "tenant", M.me.tenant, "kind", "documents",
		    NULL };
		const char *p[] = { "tenant", M.me.tenant, "kind", "pushes", NULL };
		const char *r[] = { "tenant", M.me.tenant, "kind", "reviews",
		    NULL };
		cp_prom_sample(&M.out, "clientpulse_stuck", d, docs);
		cp_prom_sample(&M.out, "clientpulse_stuck", p, pushes);
		cp_prom_sample(&M.out, "clientpulse_stuck", r, reviews);
	}
	by("clientpulse_reconcile_findings", "gauge", "Findings of each "
	    "cp-reconcile check the last time it ran.", "check", "SELECT"
	    " check_name, found FROM reconcile_checks WHERE tenant_id = ?1"
	    " ORDER BY check_name");
	st = query("SELECT check_name, ran_at FROM reconcile_checks"
	    " WHERE tenant_id = ?1 ORDER BY check_name");
	cp_prom_family(&M.out, "clientpulse_reconcile_last_run_timestamp_seconds",
	    "gauge", "When each cp-reconcile check last ran.");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *l[] = { "tenant", M.me.tenant, "check",
		    cp_db_col_text(st, 0), NULL };
		cp_prom_sample(&M.out, "clientpulse_reconcile_last_run_"
		    "timestamp_seconds", l, epoch(cp_db_col_text(st, 1)));
	}
	sqlite3_finalize(st);
}

/* Observations from "SELECT seconds" rows, as a histogram family. */
static void histogram(const char *name, const char *help, const char *sql)
{
	static const double bounds[] = { 1, 5, 15, 30, 60, 300, 900, 1800,
	    3600, 7200, 21600, 86400, 259200, 604800 };
	const char *l[] = { "tenant", M.me.tenant, NULL };
	sqlite3_stmt *st = query(sql);
	double *v = NULL;
	size_t n = 0, cap = 0;

	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
		v[n] = sqlite3_column_double(st, 0);
		if (v[n] < 0)
			v[n] = 0;
		n++;
	}
	sqlite3_finalize(st);
	cp_prom_family(&M.out, name, "histogram", help);
	cp_prom_histogram(&M.out, name, l, bounds, sizeof bounds /
	    sizeof *bounds, v, n);
	free(v);
}

static void latency(void)
{
	histogram("clientpulse_time_to_card_seconds", "From the first fetch "
	    "of a card's evidence to the card committed.", "SELECT "
	    SECONDS("created_at", "first_fetched_at") " FROM cards"
	    " WHERE tenant_id = ?1 AND first_fetched_at IS NOT NULL");
	histogram("clientpulse_time_to_review_seconds", "From a card "
	    "committed to its review decision.", "SELECT "
	    SECONDS("decided_at", "created_at") " FROM cards WHERE"
	    " tenant_id = ?1 AND decided_at IS NOT NULL");
}

static char *file_name(const char *tenant)
{
	char *name = xasprintf("clientpulse_%s.prom", tenant), *p;

	for (p = name + 12; *p && strcmp(p, ".prom"); p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			*p = '_';
	return name;
}

int main(int argc, char **argv)
{
	const char *textfile = NULL;
	int c, rc;

	cp_cli_init(argc, argv);
	M.stuck_after = 3600;
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		if (c == OPT_TEXTFILE)
			textfile = optarg;
		else if (c == OPT_STUCK && (!cp_duration_parse(optarg,
		    &M.stuck_after) || M.stuck_after < 0))
			cp_usage_error(usage, "--stuck-after: expected a duration "
			    "such as 1h, not '%s'", optarg);
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, CP_DB_READONLY, &M.db)))
		return rc;
	if ((rc = cp_whoami(M.db, cp_cli.as, cp_cli.tenant, &M.me)))
		goto out;
	if (M.me.role != CP_ROLE_ADMIN) {
		cp_err("permission denied: role %s may not read the tenant's "
		    "metrics (admin only)", cp_role_name(M.me.role));
		rc = CP_EX_NOPERM;
		goto out;
	}
	M.now = cp_now();
	cp_time_format(M.now, M.now_s);
	/* one snapshot: the numbers agree with each other */
	if ((rc = cp_db_exec(M.db, "BEGIN")))
		goto out;
	documents();
	cards();
	runs();
	stuck();
	latency();
	one("clientpulse_metrics_generated_timestamp_seconds", "gauge",
	    "When these metrics were written.", (double)M.now);
	cp_db_rollback(M.db);
	if (textfile) {
		char *name = file_name(M.me.tenant);
		rc = cp_write_atomic(textfile, name, M.out.buf, M.out.len);
		if (!rc)
			cp_info("%s/%s: %zu bytes", textfile, name, M.out.len);
		free(name);
	} else {
		fwrite(M.out.buf, 1, M.out.len, stdout);
		rc = cp_output_close();
	}
out:
	sb_free(&M.out);
	cp_db_close(M.db);
	return rc;
}
