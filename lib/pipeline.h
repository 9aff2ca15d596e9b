/*
 * pipeline.h — ClientPulse stages as child processes, connected through
 * the caller, counted on the way (cp-run, cp-reconcile --fix).
 *
 * Stage i's standard output goes to a pipe read by the caller, which
 * relays it to stage i+1 and counts the lines (records) going by; so
 * every stage's records in and out are known whatever the stage itself
 * reports.  The first stage reads in_fd (or /dev/null); the last stage's
 * output is copied to out_fd (or counted and dropped).  Each stage's
 * standard error goes to an unlinked temporary file, kept for the
 * failure message (cp_stage_errtail).
 *
 * Children die with the caller (PR_SET_PDEATHSIG on Linux) and keep the
 * caller's run lock open (keep_fd): a stage that outlived a killed cp-run
 * would still hold the lock, so the next run can never interleave with it.
 *
 * Binaries are looked for beside the running program first, then in
 * PATH, so cron's minimal PATH does not matter.
 */
#ifndef CP_PIPELINE_H
#define CP_PIPELINE_H

#include <stdbool.h>
#include <sys/types.h>

#include "timefmt.h"

#define CP_STAGE_MAXARGS 48

typedef struct cp_stage {
	char name[24];                 /* "extract" */
	char *argv[CP_STAGE_MAXARGS + 1];  /* owned; argv[0] the binary */
	int argc;
	/* results of cp_pipeline_run */
	pid_t pid;
	int errfd;                     /* its stderr (-1 before it ran) */
	long in, out;                  /* records (lines) in and out */
	double t0, t1, tfirst;         /* monotonic: start, exit, first output */
	char started[CP_TIME_MAX];
	int status;                    /* exit status, 128+N for signal N */
	bool ran;
} cp_stage;

/* A stage running cp-NAME (beside this program, else from PATH). */
void cp_stage_init(cp_stage *s, const char *name);
/* Append an argument (copied); false when there is no room. */
bool cp_stage_arg(cp_stage *s, const char *arg);
void cp_stage_free(cp_stage *s);

/*
 * Run n stages as one pipeline to the end: start them, relay, wait.
 * in_fd: the first stage's standard input (-1: /dev/null; the caller
 * keeps ownership).  out_fd: where the last stage's output goes (-1: count
 * and drop; a write error there drops the rest quietly).  keep_fd: a
 * descriptor the children keep open (-1: none).  0, or an exit code when
 * the pipeline could not be started (reported); the stages' own statuses
 * are in st[i].status.
 */
int cp_pipeline_run(cp_stage *st, int n, int in_fd, int out_fd, int keep_fd);

/* The last maxlines lines of a stage's standard error (caller frees). */
char *cp_stage_errtail(const cp_stage *s, int maxlines);

/* An unlinked read-write temporary file, or -1 after a message. */
int cp_tempfd(void);

/*
 * The run lock: an exclusive flock(2) on STATE.lock (suffix NULL) or
 * STATE.lock.SUFFIX beside the state file, shared by every process that
 * runs stages against it.  wait: block until it is free.  Returns the
 * descriptor (>= 0), -1 when it is held and wait is false, or -2 after a
 * message.
 */
int cp_runlock(const char *db_path, const char *suffix, bool wait);

#endif
