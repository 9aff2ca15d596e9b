/*
 * reconcile.h — the checks behind cp-reconcile: each looks at one kind of
 * state that can go wrong without anyone noticing, reports what it finds
 * as finding records and, when asked (fix) and when it is safe, repairs
 * it and audits each repair.
 *
 * A check is a name, a one-line description and a function that walks
 * the state of one tenant (ctx->me->tenant_id) and calls
 * cp_reconcile_finding() for every problem, with fixed already decided:
 * a check that repairs collects first, repairs, then reports.  Adding a
 * check is adding an entry to cp_checks (lib/reconcile.c) and its
 * function; the ones that talk to a CRM live apart (reconcile_push.c) so
 * the rest never links libcurl.
 *
 * Severities: "info" (worth knowing, no action needed), "warning" (needs
 * attention: counted by the exit status), "error" (something is broken).
 */
#ifndef CP_RECONCILE_H
#define CP_RECONCILE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <time.h>

#include "rbac.h"
#include "replay.h"

typedef struct cp_reconcile cp_reconcile;

/* Called for each finding (the record is borrowed). */
typedef void (*cp_finding_fn)(cp_reconcile *r, const json_t *finding);

struct cp_reconcile {
	sqlite3 *db;
	const cp_user *me;
	const char *actor;         /* audit actor (cp_user_actor) */
	const char *db_path;
	bool fix;                  /* --fix */
	bool deep;                 /* --deep: every pushed object, not a sample */
	long stuck_after;          /* seconds (--stuck-after, default 1h) */
	long lookback;             /* seconds (--lookback, default 7d) */
	long quiet_after;          /* seconds a source may bring nothing (30d) */
	int cursor_runs;           /* N runs (--cursor-runs, default 3) */
	int sample;                /* pushed objects sampled (--sample, 20) */
	const char *notify;        /* --notify CMD, or NULL */
	time_t now;
	char now_s[CP_TIME_MAX];
	cp_runopts run;            /* how to run stages for replays */
	cp_finding_fn emit;
	void *arg;
	/* the current check's counts (kept by cp_reconcile_finding) */
	const char *check;
	long found, fixed, serious, notify_failed;
	bool skipped;              /* the check could not look (said why) */
	char skip_reason[160];
};

typedef struct cp_check {
	const char *name;          /* "stuck_documents" */
	const char *what;          /* one line, for --list */
	int (*run)(cp_reconcile *r);   /* 0, or an exit code after a message */
} cp_check;

/* Every check, in the order they run; ends with name NULL. */
extern const cp_check cp_checks[];
const cp_check *cp_check_find(const char *name);

/* Defaults for everything but db, me, actor, db_path, emit. */
void cp_reconcile_defaults(cp_reconcile *r);

/*
 * Report one finding of the current check.  extra (stolen, may be NULL)
 * holds more fields for the record (tenant, account, am…).  severity is
 * "info", "warning" or "error".
 */
void cp_reconcile_finding(cp_reconcile *r, const char *severity,
    const char *entity, bool fixed, json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* The check looked at nothing, and why (a missing table, a busy lock). */
void cp_reconcile_skip(cp_reconcile *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "3d 4h", "2h 10m", "45m", "30s" into out. */
void cp_human_age(long secs, char *out, size_t n);

/* Whether the state file has a table (checks of features not yet there). */
bool cp_has_table(sqlite3 *db, const char *name);

/* The push checks (reconcile_push.c). */
int cp_check_stuck_pushes(cp_reconcile *r);
int cp_check_crm_drift(cp_reconcile *r);

#endif
