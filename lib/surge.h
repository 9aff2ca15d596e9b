/*
 * surge.h — hiring surges: job postings counted per account and job
 * function over a window (scoring.conf [hiring_surge]).
 *
 * cp-score records every job-posting signal it sees in score_postings
 * (idempotent: one row per signal), so a surge is counted across runs;
 * a surge is the set of postings published within window_days before
 * the newest one.  When it holds at least min_postings, cp-score emits
 * one hiring_surge opportunity citing them all.
 */
#ifndef CP_SURGE_H
#define CP_SURGE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "score.h"
#include "sigview.h"

struct cp_posting {
	char *signal_id, *url, *title, *quote, *source_name;
	char *published_at, *fetched_at;
	double reliability;
	time_t published;
};

typedef struct cp_surge {
	struct cp_posting *p;       /* oldest first, then by signal id */
	size_t n;
} cp_surge;

/* Remember a job-posting signal (sv->job_function set) for an account,
 * inside the caller's transaction.  0 or an exit code. */
int cp_surge_record(sqlite3 *db, int64_t tenant_id, const char *account_id,
    const cp_sigview *sv);
/* The postings of the window ending at the newest posting of (account,
 * function), into out (cp_surge_free after).  0 or an exit code. */
int cp_surge_window(sqlite3 *db, int64_t tenant_id, const char *account_id,
    const char *function, const cp_scorecfg *c, cp_surge *out);
void cp_surge_free(cp_surge *s);

#endif
