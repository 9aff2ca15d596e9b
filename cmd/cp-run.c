/*
 * cp-run — the whole pipeline, for cron ("clientpulse run").
 *
 *   cp-fetch | cp-extract | cp-dedupe | cp-score | cp-card  [then cp-push]
 *
 * Holds an exclusive flock(2) on a lock file beside the state file, so
 * overlapping cron runs wait (or, with --no-wait, skip) and never
 * interleave.  The stages are connected through this process: it relays
 * each stage's output to the next and counts the records on the way, so
 * every stage's records in/out, duration and exit status land in the runs
 * tables whatever the stages themselves report.  Their standard error is
 * kept aside and shown only when something went wrong: cron mails only
 * when there is something to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-run [--push] [--no-wait] [--stages LIST] [--print]\n"
	"              [--stage-arg STAGE=ARG]... [--log stderr|syslog]\n"
	"              [--db FILE] [-q] [-v]\n"
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
#define MAXARGS 32
#define RELAYBUF (256 * 1024)

static const char *const known[] = {
	"fetch", "extract", "dedupe", "score", "card", "push", NULL
};

struct stage {
	const char *name;
	char *argv[MAXARGS + 8];
	int nargs;
	pid_t pid;
	int errfd;              /* its stderr, kept in an unlinked file */
	long in, out;           /* records in and out */
	double t0, t1;
	int status;             /* exit status, 128+N for a signal */
	char started[CP_TIME_MAX];
};

/* Bytes in flight from one stage to the next (or to us at the end). */
struct relay {
	int src, dst;           /* dst -1: the end of the pipeline */
	char *buf;
	size_t len, off;
	long lines;
	int eof, broken;
};

static struct stage stages[MAXSTAGES];
static int nstages;
static char *self_dir;
static int print_out;

static char *find_dir(void)
{
	char buf[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (!(slash = strrchr(buf, '/')))
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

/* The static name of a known stage, or NULL. */
static const char *known_stage(const char *s)
{
	int i;

	for (i = 0; known[i]; i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return NULL;
}

static void add_stage(const char *name, const char *db)
{
	struct stage *s = &stages[nstages++];
	char *path = NULL;

	s->name = name;
	if (self_dir) {
		path = xasprintf("%s/cp-%s", self_dir, name);
		if (access(path, X_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	s->argv[s->nargs++] = path ? path : xasprintf("cp-%s", name);
	s->argv[s->nargs++] = xstrdup("--db");
	s->argv[s->nargs++] = xstrdup(db);
	s->errfd = -1;
}

static void add_arg(const char *spec)
{
	const char *eq = strchr(spec, '=');
	int i;

	for (i = 0; eq && i < nstages; i++)
		if (strlen(stages[i].name) == (size_t)(eq - spec) &&
		    !strncmp(stages[i].name, spec, (size_t)(eq - spec))) {
			if (stages[i].nargs < MAXARGS)
				stages[i].argv[stages[i].nargs++] = xstrdup(eq + 1);
			return;
		}
	cp_die(CP_EX_USAGE, "--stage-arg %s: expected STAGE=ARG for a stage "
	    "of this run", spec);
}

/* An unlinked temporary file for a stage's stderr. */
static int errfile(void)
{
	char path[] = "/tmp/cp-run.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		cp_die(CP_EX_OSERR, "temporary file: %s", strerror(errno));
	unlink(path);
	return fd;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/*
 * Start every stage.  Stage i reads relay i-1's dst and writes into relay
 * i's src; the first reads /dev/null.
 */
static int start(struct relay *r, int first, int last)
{
	int i;

	for (i = first; i < last; i++) {
		struct stage *s = &stages[i];
		int out[2], in[2] = { -1, -1 };

		if (pipe(out) < 0 || (i > first && pipe(in) < 0))
			cp_die(CP_EX_OSERR, "pipe: %s", strerror(errno));
		s->errfd = errfile();
		s->t0 = cp_monotonic();
		cp_time_format(cp_now(), s->started);
		s->pid = fork();
		if (s->pid < 0)
			cp_die(CP_EX_OSERR, "fork: %s", strerror(errno));
		if (s->pid == 0) {
			int nul = open("/dev/null", O_RDONLY);
			signal(SIGPIPE, SIG_DFL);
			dup2(i > first ? in[0] : nul, 0);
			dup2(out[1], 1);
			dup2(s->errfd, 2);
			/* close everything else we hold: each stage must see
			 * EOF exactly when its relay closes */
			{
				int fd;
				for (fd = 3; fd < 256; fd++)
					close(fd);
			}
			s->argv[s->nargs] = NULL;
			execvp(s->argv[0], s->argv);
			fprintf(stderr, "cp-run: %s: %s\n", s->argv[0],
			    strerror(errno));
			_exit(127);
		}
		close(out[1]);
		if (i > first) {
			close(in[0]);
			r[i - 1].dst = in[1];
			nonblock(in[1]);
		}
		r[i].src = out[0];
		r[i].dst = -1;
		r[i].buf = xmalloc(RELAYBUF);
		nonblock(out[0]);
	}
	return 0;
}

static void count_lines(struct relay *r, const char *p, size_t n)
{
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		r->lines++;
		p++;
	}
}

static void relay_close_dst(struct relay *r)
{
	if (r->dst >= 0) {
		close(r->dst);
		r->dst = -1;
	}
}

/* Move bytes until every stage's output has been read and passed on. */
static void pump(struct relay *r, int first, int last)
{
	struct pollfd pf[2 * MAXSTAGES];
	int map[2 * MAXSTAGES];

	for (;;) {
		int n = 0, i;

		for (i = first; i < last; i++) {
			if (!r[i].eof && r[i].len < RELAYBUF) {
				pf[n].fd = r[i].src;
				pf[n].events = POLLIN;
				map[n++] = i;
			}
			if (r[i].len > r[i].off && r[i].dst >= 0) {
				pf[n].fd = r[i].dst;
				pf[n].events = POLLOUT;
				map[n++] = -1 - i;
			}
		}
		if (n == 0)
			return;
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			cp_die(CP_EX_OSERR, "poll: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct relay *x;
			ssize_t k;

			if (!pf[i].revents)
				continue;
			if (map[i] >= 0) {
				x = &r[map[i]];
				k = read(x->src, x->buf + x->len, RELAYBUF - x->len);
				if (k > 0) {
					count_lines(x, x->buf + x->len, (size_t)k);
					x->len += (size_t)k;
					/* the end of the pipeline: to stdout with
					 * --print, else counted and dropped; a
					 * relay whose next stage died drops too */
					if (map[i] == last - 1) {
						if (print_out && !x->broken &&
						    fwrite(x->buf, 1, x->len, stdout) !=
						    x->len)
							x->broken = 1;
						x->len = x->off = 0;
					}
				} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
					x->eof = 1;
					close(x->src);
				}
			} else {
				x = &r[-1 - map[i]];
				k = write(x->dst, x->buf + x->off, x->len - x->off);
				if (k > 0) {
					x->off += (size_t)k;
				} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
					/* the next stage is gone: stop feeding it */
					x->broken = 1;
					relay_close_dst(x);
				}
				if (x->dst < 0 || x->off == x->len)
					x->off = x->len = 0;
			}
		}
		for (i = first; i < last; i++) {
			if (r[i].dst < 0 && r[i].len && i < last - 1)
				r[i].len = r[i].off = 0;   /* broken: drop */
			if (r[i].eof && r[i].len == r[i].off)
				relay_close_dst(&r[i]);
		}
	}
}

static void reap(int first, int last)
{
	int i, left = last - first;

	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = first; i < last; i++)
			if (stages[i].pid == p) {
				stages[i].t1 = cp_monotonic();
				stages[i].status = WIFEXITED(st) ? WEXITSTATUS(st) :
				    128 + WTERMSIG(st);
				left--;
			}
	}
}

/* The last lines of a stage's stderr, for the failure message. */
static char *tail_err(int fd, int maxlines)
{
	strbuf sb = CP_STRBUF_INIT;
	char buf[8192];
	ssize_t n;
	size_t i;
	int lines = 0;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sb_add(&sb, buf, (size_t)n);
	while (sb.len && sb.buf[sb.len - 1] == '\n')
		sb_truncate(&sb, sb.len - 1);
	for (i = sb.len; i > 0; i--)
		if (sb.buf[i - 1] == '\n' && ++lines >= maxlines)
			break;
	{
		char *t = xstrdup(sb.len ? sb.buf + i : "");
		sb_free(&sb);
		return t;
	}
}

static int64_t run_begin(sqlite3 *db, const char *list)
{
	char ts[CP_TIME_MAX], host[256] = "";
	sqlite3_stmt *st;
	int64_t id = 0;

	gethostname(host, sizeof host - 1);
	cp_time_format(cp_now(), ts);
	if (cp_db_begin(db))
		return 0;
	/* We hold the lock: a run still marked running was killed. */
	st = cp_db_prepare(db, "UPDATE runs SET status = 'killed',"
	    " finished_at = coalesce(finished_at, ?) WHERE status = 'running'");
	cp_db_bind_text(st, 1, ts);
	cp_db_step_done(db, st);
	sqlite3_finalize(st);
	st = cp_db_prepare(db, "INSERT INTO runs(started_at, host, pid, stages)"
	    " VALUES (?, ?, ?, ?)");
	cp_db_bind_text(st, 1, ts);
	cp_db_bind_text(st, 2, host);
	sqlite3_bind_int64(st, 3, (int64_t)getpid());
	cp_db_bind_text(st, 4, list);
	if (!cp_db_step_done(db, st))
		id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	if (!id || cp_db_commit(db))
		return 0;
	return id;
}

static int run_end(sqlite3 *db, int64_t id, int status, const char *error)
{
	char ts[CP_TIME_MAX];
	sqlite3_stmt *st;
	int i, rc;

	cp_time_format(cp_now(), ts);
	if ((rc = cp_db_begin(db)))
		return rc;
	for (i = 0; i < nstages; i++) {
		struct stage *s = &stages[i];
		char *err = s->status ? tail_err(s->errfd, 1) : NULL;

		st = cp_db_prepare(db, "INSERT INTO run_stages(run_id, stage,"
		    " started_at, finished_at, duration_ms, records_in,"
		    " records_out, exit_status, error)"
		    " VALUES (?,?,?,?,?,?,?,?,?)");
		sqlite3_bind_int64(st, 1, id);
		cp_db_bind_text(st, 2, s->name);
		cp_db_bind_text(st, 3, s->started);
		cp_db_bind_text(st, 4, ts);
		sqlite3_bind_int64(st, 5, (int64_t)((s->t1 - s->t0) * 1000));
		sqlite3_bind_int64(st, 6, s->in);
		sqlite3_bind_int64(st, 7, s->out);
		sqlite3_bind_int(st, 8, s->status);
		cp_db_bind_text(st, 9, err && *err ? err : NULL);
		rc = cp_db_step_done(db, st);
		sqlite3_finalize(st);
		free(err);
		if (rc) {
			cp_db_rollback(db);
			return rc;
		}
	}
	st = cp_db_prepare(db, "UPDATE runs SET finished_at = ?, status = ?,"
	    " exit_status = ?, error = ? WHERE id = ?");
	cp_db_bind_text(st, 1, ts);
	cp_db_bind_text(st, 2, status ? "failed" : "ok");
	sqlite3_bind_int(st, 3, status);
	cp_db_bind_text(st, 4, error);
	sqlite3_bind_int64(st, 5, id);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

static int take_lock(const char *dbpath, int nowait)
{
	char *path = xasprintf("%s.lock", dbpath);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		cp_err("lock %s: %s", path, strerror(errno));
		free(path);
		return -CP_EX_CANTCREAT;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (nowait) {
			cp_info("another run holds %s; skipping", path);
			free(path);
			close(fd);
			return -1000;
		}
		cp_info("waiting for the run holding %s", path);
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	}
	free(path);
	return fd;
}

static void set_stages(const char *list, const char *db, int push)
{
	char *copy = xstrdup(list), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		const char *name = known_stage(tok);
		if (!name)
			cp_die(CP_EX_USAGE, "--stages: unknown stage '%s'", tok);
		if (nstages >= MAXSTAGES - 1)
			cp_die(CP_EX_USAGE, "--stages: too many stages");
		add_stage(name, db);
	}
	free(copy);
	if (push)
		add_stage("push", db);
}

int main(int argc, char **argv)
{
	const char *list = "fetch,extract,dedupe,score,card", *dbpath;
	const char *stage_args[64];
	int nstage_args = 0, push = 0, nowait = 0, c, rc, lockfd, i;
	int status = 0;
	struct relay relays[MAXSTAGES];
	sqlite3 *db;
	int64_t run_id;
	strbuf errmsg = CP_STRBUF_INIT;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_PUSH: push = 1; break;
		case OPT_NOWAIT: nowait = 1; break;
		case OPT_STAGES: list = optarg; break;
		case OPT_PRINT: print_out = 1; break;
		case OPT_STAGEARG:
			if (nstage_args < 64)
				stage_args[nstage_args++] = optarg;
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
	if ((rc = cp_cli_ready()))
		return rc;
	dbpath = cp_cli.db ? cp_cli.db : cp_db_default_path();
	if ((rc = cp_db_open(dbpath, 0, &db)))
		return rc;
	self_dir = find_dir();
	set_stages(list, dbpath, push);
	for (i = 0; i < nstage_args; i++)
		add_arg(stage_args[i]);

	lockfd = take_lock(dbpath, nowait);
	if (lockfd == -1000) {
		cp_db_close(db);
		return CP_EX_OK;
	}
	if (lockfd < 0) {
		cp_db_close(db);
		return -lockfd;
	}
	if (!(run_id = run_begin(db, list))) {
		cp_db_close(db);
		return CP_EX_TEMPFAIL;
	}
	/* the pipeline proper, then push on its own: it reads the outbox
	 * in the state file, not the cards going by */
	memset(relays, 0, sizeof relays);
	{
		int groups[2][2] = { { 0, nstages - push }, { nstages - push,
		    nstages } };
		int g;
		for (g = 0; g < 2; g++) {
			int a = groups[g][0], b = groups[g][1];
			if (a >= b)
				continue;
			start(relays, a, b);
			pump(relays, a, b);
			reap(a, b);
			for (i = a; i < b; i++) {
				stages[i].out = relays[i].lines;
				stages[i].in = i > a ? relays[i - 1].lines : 0;
				free(relays[i].buf);
			}
		}
	}

	/* report: quiet on success, the failing stages' words otherwise */
	for (i = 0; i < nstages; i++) {
		struct stage *s = &stages[i];
		if (s->status) {
			char *t = tail_err(s->errfd, 20);
			if (!status)
				status = s->status >= 128 ? CP_EX_SOFTWARE :
				    s->status == 127 ? CP_EX_UNAVAILABLE : s->status;
			cp_err("stage %s failed (exit %d)%s%s", s->name, s->status,
			    *t ? ":\n" : "", t);
			if (errmsg.len)
				sb_adds(&errmsg, "; ");
			sb_addf(&errmsg, "%s exit %d", s->name, s->status);
			free(t);
		}
		cp_info("%-8s in %6ld  out %6ld  %7.3fs  exit %d", s->name, s->in,
		    s->out, s->t1 - s->t0, s->status);
	}
	rc = run_end(db, run_id, status, errmsg.len ? errmsg.buf : NULL);
	sb_free(&errmsg);
	for (i = 0; i < nstages; i++) {
		int k;
		for (k = 0; k < stages[i].nargs; k++)
			free(stages[i].argv[k]);
		if (stages[i].errfd >= 0)
			close(stages[i].errfd);
	}
	cp_db_close(db);
	close(lockfd);
	free(self_dir);
	if (print_out && fflush(stdout) == EOF && errno != EPIPE) {
		cp_err("write error: %s", strerror(errno));
		return CP_EX_IOERR;
	}
	return status ? status : rc;
}
