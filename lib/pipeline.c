/*
 * pipeline.c — stages as child processes, relayed and counted (pipeline.h).
 *
 * One poll loop moves bytes: from each stage's output pipe into a buffer,
 * from the buffer into the next stage's input pipe.  Both ends are
 * non-blocking, so a slow stage never stalls the others beyond the
 * buffer it has filled; a stage whose reader died has its output drained
 * and dropped, so it sees EPIPE only if it keeps writing to us, never a
 * hang.
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
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "pipeline.h"
#include "strbuf.h"

#define RELAYBUF (256 * 1024)
#define RELAYMAX (256 * 1024 * 1024)
#define MAXPIPE 16

/*
 * A relay keeps reading a stage's output even when the next stage does
 * not read, growing its buffer up to RELAYMAX: a stage that writes while
 * holding the state file's write lock (and the next one waiting for that
 * lock before it reads again) then never blocks on a full pipe, so the
 * two cannot deadlock; beyond RELAYMAX the pipe pushes back as usual.
 */
struct relay {
	int src, dst;           /* dst -1: nowhere (dropped) */
	bool sink;              /* dst is the caller's out_fd (blocking) */
	char *buf;
	size_t len, off, cap;
	long lines;
	bool eof, seen;
};

static char *bindir(void)
{
	static char dir[PATH_MAX];
	static int done;
	char *slash;
	ssize_t n;

	if (done)
		return *dir ? dir : NULL;
	done = 1;
	n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n <= 0) {
		*dir = '\0';
		return NULL;
	}
	dir[n] = '\0';
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		*dir = '\0';
	return *dir ? dir : NULL;
}

void cp_stage_init(cp_stage *s, const char *name)
{
	const char *dir = bindir();
	char *path = NULL;

	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->errfd = -1;
	if (dir) {
		path = xasprintf("%s/cp-%s", dir, name);
		if (access(path, X_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	s->argv[s->argc++] = path ? path : xasprintf("cp-%s", name);
}

bool cp_stage_arg(cp_stage *s, const char *arg)
{
	if (s->argc >= CP_STAGE_MAXARGS)
		return false;
	s->argv[s->argc++] = xstrdup(arg);
	return true;
}

void cp_stage_free(cp_stage *s)
{
	int i;

	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	s->argc = 0;
	if (s->errfd >= 0)
		close(s->errfd);
	s->errfd = -1;
}

int cp_tempfd(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/cp-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);

	if (fd < 0)
		cp_err("temporary file %s: %s", path, strerror(errno));
	else
		unlink(path);
	free(path);
	return fd;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* In the child: the stage's descriptors, then exec; never returns. */
static void child(cp_stage *s, int in, int out, int keep, pid_t parent)
{
	int fd;

#ifdef __linux__
	/* die with cp-run: a half pipeline must not outlive its relay */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(128 + SIGKILL);
#else
	(void)parent;
#endif
	signal(SIGPIPE, SIG_DFL);
	if (in < 0)
		in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(s->errfd, 2) < 0)
		_exit(CP_EX_OSERR);
	if (keep >= 0)
		fcntl(keep, F_SETFD, 0);
	/* nothing else of ours: each stage must see EOF exactly when its
	 * relay closes */
	for (fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
	s->argv[s->argc] = NULL;
	execvp(s->argv[0], s->argv);
	fprintf(stderr, "%s: %s: %s\n", cp_prog(), s->argv[0], strerror(errno));
	_exit(127);
}

static int start(cp_stage *st, int n, struct relay *r, int in_fd, int out_fd,
    int keep_fd)
{
	pid_t self = getpid();
	int i;

	for (i = 0; i < n; i++) {
		cp_stage *s = &st[i];
		int out[2], in[2] = { -1, -1 };

		if (pipe(out) < 0 || (i > 0 && pipe(in) < 0)) {
			cp_err("pipe: %s", strerror(errno));
			return CP_EX_OSERR;
		}
		if ((s->errfd = cp_tempfd()) < 0)
			return CP_EX_CANTCREAT;
		s->t0 = cp_monotonic();
		cp_time_format(cp_now(), s->started);
		fflush(NULL);
		if ((s->pid = fork()) < 0) {
			cp_err("fork: %s", strerror(errno));
			return CP_EX_OSERR;
		}
		if (s->pid == 0)
			child(s, i > 0 ? in[0] : in_fd, out[1], keep_fd, self);
		s->ran = true;
		close(out[1]);
		if (i > 0) {
			close(in[0]);
			r[i - 1].dst = in[1];
			nonblock(in[1]);
		}
		r[i].src = out[0];
		r[i].dst = -1;
		r[i].buf = xmalloc(RELAYBUF);
		r[i].cap = RELAYBUF;
		nonblock(out[0]);
	}
	if (n > 0 && out_fd >= 0) {
		r[n - 1].dst = out_fd;
		r[n - 1].sink = true;
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

static void drop_dst(struct relay *r)
{
	if (r->dst >= 0 && !r->sink)
		close(r->dst);
	r->dst = -1;
	r->len = r->off = 0;
}

/* The caller's out_fd: written whole, blocking; a failure drops the rest. */
static void to_sink(struct relay *r)
{
	while (r->dst >= 0 && r->off < r->len) {
		ssize_t k = write(r->dst, r->buf + r->off, r->len - r->off);
		if (k > 0)
			r->off += (size_t)k;
		else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && errno == EAGAIN) {
			struct pollfd pf = { r->dst, POLLOUT, 0 };
			poll(&pf, 1, -1);
		} else
			r->dst = -1;
	}
	r->len = r->off = 0;
}

/* Room to read into: the bytes already passed on are dropped first,
 * then the buffer grows (up to RELAYMAX). */
static bool room(struct relay *r)
{
	if (r->len < r->cap)
		return true;
	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
		return true;
	}
	if (r->cap >= RELAYMAX)
		return false;
	r->cap *= 2;
	r->buf = xrealloc(r->buf, r->cap);
	return true;
}

static bool can_read(const struct relay *r)
{
	return !r->eof && (r->len < r->cap || r->off || r->cap < RELAYMAX);
}

static void on_read(cp_stage *s, struct relay *r)
{
	ssize_t k;

	if (!room(r))
		return;
	k = read(r->src, r->buf + r->len, r->cap - r->len);

	if (k > 0) {
		if (!r->seen) {
			r->seen = true;
			s->tfirst = cp_monotonic();
		}
		count_lines(r, r->buf + r->len, (size_t)k);
		r->len += (size_t)k;
		if (r->sink)
			to_sink(r);
		else if (r->dst < 0)
			r->len = r->off = 0;    /* nowhere to go: dropped */
	} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
		r->eof = true;
		close(r->src);
		r->src = -1;
	}
}

static void on_write(struct relay *r)
{
	ssize_t k = write(r->dst, r->buf + r->off, r->len - r->off);

	if (k > 0)
		r->off += (size_t)k;
	else if (k < 0 && errno != EAGAIN && errno != EINTR)
		drop_dst(r);    /* the next stage is gone: stop feeding it */
	if (r->off == r->len)
		r->off = r->len = 0;
}

/* Move bytes until every stage's output has been read and passed on. */
static int pump(cp_stage *st, struct relay *r, int n)
{
	struct pollfd pf[2 * MAXPIPE];
	int map[2 * MAXPIPE];

	for (;;) {
		int k = 0, i;

		for (i = 0; i < n; i++) {
			if (can_read(&r[i])) {
				pf[k].fd = r[i].src;
				pf[k].events = POLLIN;
				map[k++] = i;
			}
			if (r[i].len > r[i].off && r[i].dst >= 0 && !r[i].sink) {
				pf[k].fd = r[i].dst;
				pf[k].events = POLLOUT;
				map[k++] = -1 - i;
			}
		}
		if (k == 0)
			return 0;
		if (poll(pf, (nfds_t)k, -1) < 0) {
			if (errno == EINTR)
				continue;
			cp_err("poll: %s", strerror(errno));
			return CP_EX_OSERR;
		}
		for (i = 0; i < k; i++) {
			if (!pf[i].revents)
				continue;
			if (map[i] >= 0)
				on_read(&st[map[i]], &r[map[i]]);
			else
				on_write(&r[-1 - map[i]]);
		}
		for (i = 0; i < n; i++)
			if (r[i].eof && r[i].len == r[i].off && !r[i].sink &&
			    r[i].dst >= 0)
				drop_dst(&r[i]);    /* all passed on: EOF for the next */
	}
}

static void reap(cp_stage *st, int n)
{
	int i, left = 0;

	for (i = 0; i < n; i++)
		if (st[i].ran && st[i].pid > 0)
			left++;
	while (left > 0) {
		int w;
		pid_t p = waitpid(-1, &w, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++)
			if (st[i].pid == p) {
				st[i].t1 = cp_monotonic();
				st[i].status = WIFEXITED(w) ? WEXITSTATUS(w) :
				    128 + WTERMSIG(w);
				st[i].pid = 0;
				left--;
			}
	}
}

int cp_pipeline_run(cp_stage *st, int n, int in_fd, int out_fd, int keep_fd)
{
	struct relay r[MAXPIPE];
	int i, rc;

	if (n <= 0)
		return 0;
	if (n > MAXPIPE) {
		cp_err("too many stages (%d)", n);
		return CP_EX_SOFTWARE;
	}
	memset(r, 0, sizeof r);
	for (i = 0; i < n; i++)
		r[i].src = r[i].dst = -1;
	rc = start(st, n, r, in_fd, out_fd, keep_fd);
	if (!rc)
		rc = pump(st, r, n);
	/* on a failure to start, close what we hold so the started stages
	 * see EOF or EPIPE and end */
	for (i = 0; i < n; i++) {
		if (r[i].src >= 0)
			close(r[i].src);
		if (r[i].dst >= 0 && !r[i].sink)
			close(r[i].dst);
	}
	reap(st, n);
	for (i = 0; i < n; i++) {
		st[i].out = r[i].lines;
		if (i > 0)
			st[i].in = r[i - 1].lines;
		free(r[i].buf);
	}
	return rc;
}

char *cp_stage_errtail(const cp_stage *s, int maxlines)
{
	strbuf sb = CP_STRBUF_INIT;
	char buf[8192];
	ssize_t n;
	size_t i;
	int lines = 0;
	off_t at = 0;

	if (s->errfd < 0)
		return xstrdup("");
	/* at most the last 64 KiB: a stage that logged a flood of rejects
	 * is summed up by its last lines */
	if (lseek(s->errfd, 0, SEEK_END) > 65536)
		at = lseek(s->errfd, 0, SEEK_END) - 65536;
	lseek(s->errfd, at, SEEK_SET);
	while ((n = read(s->errfd, buf, sizeof buf)) > 0)
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

int cp_runlock(const char *db_path, const char *suffix, bool wait)
{
	char *path = suffix ? xasprintf("%s.lock.%s", db_path, suffix) :
	    xasprintf("%s.lock", db_path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		cp_err("lock %s: %s", path, strerror(errno));
		free(path);
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			cp_err("lock %s: %s", path, strerror(errno));
			free(path);
			close(fd);
			return -2;
		}
		if (!wait) {
			free(path);
			close(fd);
			return -1;
		}
		cp_info("waiting for the run holding %s", path);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR) {
				cp_err("lock %s: %s", path, strerror(errno));
				free(path);
				close(fd);
				return -2;
			}
	}
	free(path);
	return fd;
}
