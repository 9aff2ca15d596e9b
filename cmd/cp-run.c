/*
 * cp-run — the whole pipeline, for cron ("clientpulse run").
 *
 *   cp-fetch | cp-extract | cp-dedupe | cp-score | cp-card  [then cp-push]
 *
 * Holds an exclusive flock(2) on a lock file beside the state file, so
 * overlapping cron runs wait (or, with --no-wait, skip) and never
 * interleave.  The stages are connected through this process (pipeline.h):
 * it relays each stage's output to the next and counts the records on the
 * way, so every stage's records in/out, duration and exit status land in
 * the runs tables whatever the stages themselves report.  Their standard
 * error is kept aside and shown only when something went wrong: cron mails
 * only when there is something to read.
 *
 * Crash safety: a run still marked 'running' when the next one holds the
 * lock was killed.  Records in flight between stages died with it, and
 * the stages that had committed them would not pass them on again, so
 * the next run first replays the documents fetched since the killed run
 * began (replay.h) and then runs as usual.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "pipeline.h"
#include "rbac.h"
#include "replay.h"
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-run [--push] [--no-wait] [--stages LIST]\n"
	"              [--stage-arg STAGE=ARG]... [--print]\n"
	"              [--log stderr|syslog] [--db FILE] [--tenant NAME]\n"
	"              [--as USER] [--config FILE] [-q] [-v]\n"
	"Run fetch | extract | dedupe | score | card (then push) under a lock,\n"
	"recording every stage in the state file.  See cp-run(1).\n";

enum { OPT_PUSH = CP_OPT_LOCAL, OPT_NOWAIT, OPT_STAGES, OPT_PRINT,
       OPT_STAGEARG, OPT_LOG };

static const struct option longopts[] = {
	{ "push", no_argument, NULL, OPT_PUSH },
	{ "no-wait", no_argument, NULL, OPT_NOWAIT },
	{ "stages", required_argument, NULL, OPT_STAGES },
	{ "print", no_argument, NULL, OPT_PRINT },
	{ "stage-arg", required_argument, NULL, OPT_STAGEARG },
	{ "log", required_argument, NULL, OPT_LOG },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

#define MAXSTAGES 8
#define MAXSTAGEARGS 64

static const char *const known[] = {
	"fetch", "extract", "dedupe", "score", "card", "push", NULL
};

/* One stage as it will be recorded: the stage and its phase. */
struct done {
	const cp_stage *st;
	const char *phase;
};

static struct {
	sqlite3 *db;
	cp_user me;
	cp_runopts o;
	int64_t id;
	double t0;
	cp_stage st[MAXSTAGES];
	int nst, npush;
	cp_replay rep;
	long replayed;
	struct done done[MAXSTAGES + CP_REPLAY_MAXSTAGES];
	int ndone;
	int print;
	const char *kind;       /* "pipeline" or "push" (push only) */
} R;

static const char *known_stage(const char *s)
{
	int i;

	for (i = 0; known[i]; i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return NULL;
}

static bool has_stage(const char *name)
{
	int i;

	for (i = 0; i < R.nst; i++)
		if (!strcmp(R.st[i].name, name))
			return true;
	return false;
}

/* --stages: known names, each once, in pipeline order; push comes last
 * and runs on its own. */
static void set_stages(const char *list, int push)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	int last = -1, i;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		const char *name = known_stage(tok);
		if (!name)
			cp_usage_error(usage, "--stages: unknown stage '%s'", tok);
		for (i = 0; known[i] != name; i++)
			;
		if (i <= last)
			cp_usage_error(usage, "--stages: '%s' out of order or "
			    "repeated (fetch,extract,dedupe,score,card,push)", tok);
		last = i;
		if (!strcmp(name, "push"))
			push = 1;
		else
			cp_run_stage(&R.st[R.nst++], name, &R.o);
	}
	free(copy);
	if (push) {
		cp_run_stage(&R.st[R.nst++], "push", &R.o);
		R.npush = 1;
	}
	if (!R.nst)
		cp_usage_error(usage, "--stages: no stage given");
}

static void check_stage_args(void)
{
	int i;

	for (i = 0; i < R.o.nstage_args; i++) {
		const char *a = R.o.stage_args[i], *eq = strchr(a, '=');
		char name[24];

		if (!eq || eq == a || (size_t)(eq - a) >= sizeof name)
			cp_usage_error(usage, "--stage-arg %s: expected STAGE=ARG",
			    a);
		snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
		if (!known_stage(name))
			cp_usage_error(usage, "--stage-arg %s: unknown stage '%s'",
			    a, name);
	}
}

static int64_t max_fetch_record(void)
{
	sqlite3_stmt *st = cp_db_prepare(R.db, "SELECT coalesce(max(id), 0)"
	    " FROM fetch_records");
	int64_t v = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int run_begin(const char *list)
{
	char ts[CP_TIME_MAX], host[256] = "";
	sqlite3_stmt *st;
	int rc;

	gethostname(host, sizeof host - 1);
	cp_time_format(cp_now(), ts);
	if ((rc = cp_db_begin(R.db)))
		return rc;
	/* We hold the lock: a run still marked running was killed.  Only a
	 * run that fetched can have left documents in flight. */
	st = cp_db_prepare(R.db, "UPDATE runs SET status = 'killed',"
	    " recovered = instr(stages, 'fetch') = 0,"
	    " version = version + 1 WHERE status = 'running' AND kind = ?");
	cp_db_bind_text(st, 1, R.kind);
	rc = cp_db_step_done(R.db, st);
	sqlite3_finalize(st);
	if (!rc) {
		st = cp_db_prepare(R.db, "INSERT INTO runs(tenant_id, started_at,"
		    " host, pid, kind, stages, fetch_mark)"
		    " VALUES (?, ?, ?, ?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, R.me.tenant_id);
		cp_db_bind_text(st, 2, ts);
		cp_db_bind_text(st, 3, host);
		sqlite3_bind_int64(st, 4, (int64_t)getpid());
		cp_db_bind_text(st, 5, R.kind);
		cp_db_bind_text(st, 6, list);
		sqlite3_bind_int64(st, 7, max_fetch_record());
		rc = cp_db_step_done(R.db, st);
		R.id = sqlite3_last_insert_rowid(R.db);
		sqlite3_finalize(st);
	}
	if (rc) {
		cp_db_rollback(R.db);
		return rc;
	}
	return cp_db_commit(R.db);
}

static void done(const cp_stage *s, const char *phase)
{
	R.done[R.ndone].st = s;
	R.done[R.ndone++].phase = phase;
}

/*
 * The documents killed runs may have left in flight: those logged since
 * the earliest unrecovered killed run began (by record id, and by fetch
 * time for documents fetched again under an old id).  Written to fd.
 */
static int select_docs(int fd, long *n)
{
	sqlite3_stmt *st = cp_db_prepare(R.db,
	    "WITH k AS (SELECT min(fetch_mark) AS mark, min(started_at) AS t"
	    "   FROM runs WHERE tenant_id = ?1 AND status = 'killed'"
	    "   AND recovered = 0)"
	    " SELECT id, record FROM fetch_records WHERE tenant_id = ?1"
	    "   AND id > (SELECT mark FROM k)"
	    " UNION"
	    " SELECT r.id, r.record FROM fetch_log l JOIN fetch_records r"
	    "   ON r.tenant_id = l.tenant_id AND r.doc_id = l.doc_id"
	    "   WHERE l.tenant_id = ?1 AND l.fetched_at >= (SELECT t FROM k)"
	    " ORDER BY 1");
	int rc;

	*n = 0;
	sqlite3_bind_int64(st, 1, R.me.tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rec = (const char *)sqlite3_column_text(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		if (!rec || !cp_write_line(fd, rec, (size_t)len)) {
			sqlite3_finalize(st);
			cp_err("recovery: temporary file: %s", strerror(errno));
			return CP_EX_IOERR;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(R.db, "recovery: read documents");
}

static int killed_runs(void)
{
	sqlite3_stmt *st = cp_db_prepare(R.db, "SELECT count(*) FROM runs"
	    " WHERE tenant_id = ? AND status = 'killed' AND recovered = 0");
	int n = 0;

	sqlite3_bind_int64(st, 1, R.me.tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int mark_recovered(void)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = cp_db_begin(R.db)))
		return rc;
	st = cp_db_prepare(R.db, "UPDATE runs SET recovered = 1,"
	    " version = version + 1 WHERE tenant_id = ? AND status = 'killed'"
	    " AND recovered = 0");
	sqlite3_bind_int64(st, 1, R.me.tenant_id);
	rc = cp_db_step_done(R.db, st);
	sqlite3_finalize(st);
	if (rc) {
		cp_db_rollback(R.db);
		return rc;
	}
	return cp_db_commit(R.db);
}

/* Replay what killed runs left in flight; only a run that has every
 * stage from extract to card can carry it through. */
static int recover(void)
{
	static const char *const need[] = { "extract", "dedupe", "score",
	    "card", NULL };
	int n, i, fd, rc;
	long ndocs;

	if (!(n = killed_runs()))
		return 0;
	for (i = 0; need[i]; i++)
		if (!has_stage(need[i])) {
			cp_info("%d killed run(s) to recover; this run lacks "
			    "cp-%s, so the next full run will", n, need[i]);
			return 0;
		}
	if ((fd = cp_tempfd()) < 0)
		return CP_EX_CANTCREAT;
	if ((rc = select_docs(fd, &ndocs))) {
		close(fd);
		return rc;
	}
	cp_info("recovering %d killed run(s): replaying %ld document(s)", n,
	    ndocs);
	rc = cp_replay_docs(R.db, R.me.tenant_id, fd, ndocs, &R.o, &R.rep);
	close(fd);
	R.replayed = ndocs;
	for (i = 0; i < R.rep.nst; i++)
		done(&R.rep.st[i], "recover");
	cp_info("recovery: %ld fresh, %ld leads, %ld folded", R.rep.fresh,
	    R.rep.leads, R.rep.folded);
	if (!rc && cp_replay_ok(&R.rep))
		rc = mark_recovered();
	return rc;
}

static int record_stage(int seq, const struct done *d, const char *ts)
{
	const cp_stage *s = d->st;
	char *err = s->status ? cp_stage_errtail(s, 1) : NULL;
	sqlite3_stmt *st = cp_db_prepare(R.db, "INSERT INTO run_stages(run_id,"
	    " seq, tenant_id, phase, stage, started_at, finished_at,"
	    " duration_ms, first_out_ms, records_in, records_out, exit_status,"
	    " error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
	int rc;

	sqlite3_bind_int64(st, 1, R.id);
	sqlite3_bind_int(st, 2, seq);
	sqlite3_bind_int64(st, 3, R.me.tenant_id);
	cp_db_bind_text(st, 4, d->phase);
	cp_db_bind_text(st, 5, s->name);
	cp_db_bind_text(st, 6, s->started);
	cp_db_bind_text(st, 7, ts);
	sqlite3_bind_int64(st, 8, (int64_t)((s->t1 - s->t0) * 1000));
	if (s->tfirst > 0)
		sqlite3_bind_int64(st, 9, (int64_t)((s->tfirst - s->t0) * 1000));
	sqlite3_bind_int64(st, 10, s->in);
	sqlite3_bind_int64(st, 11, s->out);
	sqlite3_bind_int(st, 12, s->status);
	cp_db_bind_text(st, 13, err && *err ? cp_log_redact(err) : NULL);
	rc = cp_db_step_done(R.db, st);
	sqlite3_finalize(st);
	free(err);
	return rc;
}

static int run_end(int status, const char *error)
{
	char ts[CP_TIME_MAX];
	sqlite3_stmt *st;
	int i, rc;

	cp_time_format(cp_now(), ts);
	if ((rc = cp_db_begin(R.db)))
		return rc;
	for (i = 0; i < R.ndone && !rc; i++)
		rc = record_stage(i + 1, &R.done[i], ts);
	if (!rc) {
		st = cp_db_prepare(R.db, "UPDATE runs SET finished_at = ?,"
		    " status = ?, exit_status = ?, error = ?, duration_ms = ?,"
		    " replayed = ?, version = version + 1 WHERE id = ?");
		cp_db_bind_text(st, 1, ts);
		cp_db_bind_text(st, 2, status ? "failed" : "ok");
		sqlite3_bind_int(st, 3, status);
		cp_db_bind_text(st, 4, error);
		sqlite3_bind_int64(st, 5,
		    (int64_t)((cp_monotonic() - R.t0) * 1000));
		sqlite3_bind_int64(st, 6, R.replayed);
		sqlite3_bind_int64(st, 7, R.id);
		rc = cp_db_step_done(R.db, st);
		sqlite3_finalize(st);
	}
	if (rc) {
		cp_db_rollback(R.db);
		return rc;
	}
	return cp_db_commit(R.db);
}

/* A stage's status as the run's: a signal is a crash (70), a binary
 * that could not be run is a missing service (69), a stage refusing its
 * arguments is a configuration problem (78: --stage-arg, not cp-run's
 * own command line). */
static int run_status(int st)
{
	return st >= 128 ? CP_EX_SOFTWARE : st == 127 ? CP_EX_UNAVAILABLE :
	    st == CP_EX_USAGE ? CP_EX_CONFIG : st;
}

/* Quiet on success; otherwise each failed stage with its last words. */
static int report(strbuf *errmsg)
{
	int i, status = 0;

	for (i = 0; i < R.ndone; i++) {
		const cp_stage *s = R.done[i].st;
		bool rec = !strcmp(R.done[i].phase, "recover");

		if (s->status) {
			char *t = cp_stage_errtail(s, 20);
			if (!status)
				status = run_status(s->status);
			cp_err("%sstage %s failed (exit %d)%s%s", rec ?
			    "recovery: " : "", s->name, s->status, *t ? ":\n" : "",
			    cp_log_redact(t));
			if (errmsg->len)
				sb_adds(errmsg, "; ");
			sb_addf(errmsg, "%s%s exit %d", rec ? "recover " : "",
			    s->name, s->status);
			free(t);
		}
		cp_info("%s%-8s in %6ld  out %6ld  %7.3fs  exit %d", rec ?
		    "recover " : "", s->name, s->in, s->out, s->t1 - s->t0,
		    s->status);
	}
	return status;
}

static int pipeline(int lockfd)
{
	int n = R.nst - R.npush, rc = 0, i;

	R.o.keep_fd = lockfd;
	if ((rc = recover()))
		return rc;
	/* the pipeline proper, then push on its own: it reads the outbox
	 * in the state file, not the cards going by */
	if (n > 0) {
		if (R.print)
			fflush(stdout);
		rc = cp_pipeline_run(R.st, n, -1, R.print ? 1 : -1, lockfd);
		for (i = 0; i < n; i++)
			if (R.st[i].ran)
				done(&R.st[i], "run");
	}
	if (!rc && R.npush) {
		rc = cp_pipeline_run(&R.st[n], 1, -1, R.print ? 1 : -1, lockfd);
		if (R.st[n].ran)
			done(&R.st[n], "run");
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *list = "fetch,extract,dedupe,score,card", *dbpath;
	const char *stage_args[MAXSTAGEARGS];
	int push = 0, nowait = 0, c, rc, lockfd, status, i;
	strbuf errmsg = CP_STRBUF_INIT;

	cp_cli_init(argc, argv);
	memset(&R, 0, sizeof R);
	R.t0 = cp_monotonic();
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_PUSH: push = 1; break;
		case OPT_NOWAIT: nowait = 1; break;
		case OPT_STAGES: list = optarg; break;
		case OPT_PRINT: R.print = 1; break;
		case OPT_STAGEARG:
			if (R.o.nstage_args >= MAXSTAGEARGS)
				cp_usage_error(usage, "--stage-arg: at most %d",
				    MAXSTAGEARGS);
			stage_args[R.o.nstage_args++] = optarg;
			break;
		case OPT_LOG:
			if (!strcmp(optarg, "syslog"))
				cp_log_set_syslog(1);
			else if (strcmp(optarg, "stderr"))
				cp_usage_error(usage, "--log: expected stderr or "
				    "syslog, not '%s'", optarg);
			break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	R.o.stage_args = stage_args;
	check_stage_args();
	if ((rc = cp_cli_ready()))
		return rc;
	dbpath = cp_cli.db ? cp_cli.db : cp_db_default_path();
	if ((rc = cp_db_open(dbpath, 0, &R.db)))
		return rc;
	/* who runs it decides the tenant: every stage gets it, so a state
	 * file with several tenants runs one tenant per cp-run */
	if ((rc = cp_whoami(R.db, cp_cli.as, cp_cli.tenant, &R.me))) {
		cp_db_close(R.db);
		return rc;
	}
	R.o.db_path = dbpath;
	R.o.tenant = R.me.tenant;
	R.o.as = cp_cli.as;
	R.o.config = cp_cli.config;
	R.o.keep_fd = -1;
	/* Every stage passes each record on (and commits it) at once: a card
	 * follows its document within the run instead of after a pipe
	 * buffer's worth of others, and no stage sits on a write
	 * transaction while waiting for input another stage cannot write
	 * without the same lock (cp-run(1)). */
	R.o.unbuffered = true;
	set_stages(list, push);
	/* a push-only run has a lock of its own: pushes every few minutes
	 * need not wait behind a long pipeline run (cp-push serialises
	 * itself on its own lock) */
	R.kind = R.nst == R.npush ? "push" : "pipeline";

	if ((lockfd = cp_runlock(dbpath, R.nst == R.npush ? "push" : NULL,
	    !nowait)) < 0) {
		for (i = 0; i < R.nst; i++)
			cp_stage_free(&R.st[i]);
		cp_db_close(R.db);
		if (lockfd == -1) {
			cp_info("another %s run holds its lock; skipping",
			    R.kind);
			return CP_EX_OK;
		}
		return CP_EX_CANTCREAT;
	}
	if ((rc = run_begin(list))) {
		close(lockfd);
		cp_db_close(R.db);
		return rc;
	}
	rc = pipeline(lockfd);
	status = report(&errmsg);
	if (rc && !status) {
		status = rc;
		sb_addf(&errmsg, "cp-run exit %d", rc);
	}
	rc = run_end(status, errmsg.len ? errmsg.buf : NULL);
	sb_free(&errmsg);
	cp_replay_free(&R.rep);
	for (i = 0; i < R.nst; i++)
		cp_stage_free(&R.st[i]);
	cp_db_close(R.db);
	close(lockfd);
	if (R.print && fflush(stdout) == EOF && errno != EPIPE) {
		cp_err("write error: %s", strerror(errno));
		return CP_EX_IOERR;
	}
	return status ? status : rc;
}
