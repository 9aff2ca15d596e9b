/*
 * dedupe.h — folding repeats of one story into a cluster, in the state
 * file (schema: lib/data/schema/30-signals.sql).
 *
 * For each signal, in order:
 *   seen      its id is already in signals: nothing to do (a rerun);
 *   exact     a stored signal within the window has the same word
 *             sequence (a 128-bit hash; found through the bands);
 *   near      a stored MinHash signature shares an LSH band with its own
 *             and the estimated Jaccard similarity of their word shingles
 *             is at least the threshold (default 0.5), within the window,
 *             unless their amounts of money disagree (the same template
 *             about another deal);
 *   event     a stored signal of the same account and theme within the
 *             window (default 7 days) shares key entities: amounts (2),
 *             headcounts (2), people (1; 2 for leadership changes),
 *             dates (1), other large quantities (1), some wording
 *             (Jaccard ≥ 0.2: 1) — a score of 2 or more with no
 *             disagreeing amounts is the same event told in other words
 *             or another language; job postings match on account and title;
 *   new       otherwise the signal starts a cluster.
 *
 * Lookups go through the banded index and the (account, theme, time)
 * index, a few rows each, so their cost does not depend on how many
 * fingerprints are stored.  The caller owns the transaction.
 *
 * Job postings also feed a hiring-surge detector: when an account has
 * surge_min or more distinct postings of one function within
 * surge_window, the posting that reaches the mark and every later one
 * get the theme hiring_surge.
 */
#ifndef CP_DEDUPE_H
#define CP_DEDUPE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "id.h"

typedef struct cp_dedupe_opts {
	double threshold;     /* near-duplicate Jaccard, default 0.5 */
	long window;          /* seconds, default 7 days */
	int shingle;          /* words per shingle, default 3 */
	int explain;          /* print every decision on stderr */
	int surge_min;        /* postings, default 3 */
	long surge_window;    /* seconds, default 30 days */
} cp_dedupe_opts;

typedef struct cp_dedupe cp_dedupe;

typedef struct cp_dedupe_result {
	int seen;                         /* already stored: emit nothing */
	int is_new;                       /* first of its cluster */
	char cluster_id[CP_ID_MAX];
	char duplicate_of[CP_ID_MAX];     /* the cluster's lead, for updates */
	long corroborations;              /* signals before this one */
	json_t *surge;                    /* a hiring_surge theme, or NULL */
} cp_dedupe_result;

void cp_dedupe_defaults(cp_dedupe_opts *o);
/* Prepare the statements; 0 or an exit code. */
int cp_dedupe_open(sqlite3 *db, const cp_dedupe_opts *o, cp_dedupe **out);
void cp_dedupe_close(cp_dedupe *d);

/*
 * The same in two steps, for a caller that overlaps them: the pure
 * computation (signature, keys, serialisations; any thread, no state
 * file) and the decision with its writes (the state file's thread).
 * cp_dedupe_prepare returns NULL with a reason in err for a record to
 * reject; it keeps a reference to sig.
 */
typedef struct cp_dedupe_prep cp_dedupe_prep;
cp_dedupe_prep *cp_dedupe_prepare(const cp_dedupe_opts *o, json_t *sig,
    char *err, size_t errlen);
int cp_dedupe_apply(cp_dedupe *d, int64_t tenant_id, cp_dedupe_prep *p,
    cp_dedupe_result *r);
void cp_dedupe_prep_free(cp_dedupe_prep *p);

/*
 * Decide and store one signal (a checked signal record) of tenant_id.
 * r->surge is a new reference the caller releases.  0, CP_EX_DATAERR with
 * a reason in err (the caller rejects the line), or another exit code
 * (a state file error).
 */
int cp_dedupe_add(cp_dedupe *d, int64_t tenant_id, json_t *sig,
    cp_dedupe_result *r, char *err, size_t errlen);

#endif
