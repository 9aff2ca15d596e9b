/*
 * replay.h — the pipeline's stages with their common arguments, and the
 * replay of stored documents through them (cp-run's crash recovery,
 * cp-reconcile --fix for stuck documents).
 *
 * Why a replay needs more than running the stages again: cp-dedupe
 * commits a signal before passing it on and skips a signal it has
 * stored, so a signal stored by a run that was killed before cp-score
 * and cp-card saw it would never reach them again.  A replay therefore
 * extracts the stored documents again (cp-extract is a pure function of
 * the document) and splits the signals:
 *
 *   not stored               cp-dedupe | cp-score | cp-card, as new
 *   stored, lead of a story  cp-score | cp-card, with the cluster fields
 *                            cp-dedupe gave it (cluster_id, corroborations
 *                            0, its stored themes, which carry a hiring
 *                            surge), exactly what cp-dedupe had emitted
 *   stored, folded           nothing: cp-dedupe never passes those on
 *
 * Leads go first, as they did.  Every stage is idempotent (cp-card finds
 * the card by id and changes nothing when nothing is new), so replaying
 * a document that had gone all the way through changes nothing.  The
 * stages of a replay run one after the other, each from a file into a
 * file: a replay reads everything at once, and a stage running alone can
 * never wait for a write lock the next stage holds while that one waits
 * for its output.
 */
#ifndef CP_REPLAY_H
#define CP_REPLAY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

typedef struct cp_runopts {
	const char *db_path;           /* --db for every stage */
	const char *tenant;            /* --tenant (a name) or NULL */
	const char *as;                /* --as or NULL */
	const char *config;            /* --config or NULL */
	const char *const *stage_args; /* "stage=arg" each, nstage_args of them */
	int nstage_args;
	bool unbuffered;               /* --unbuffered for the NDJSON readers */
	int keep_fd;                   /* the run lock, kept by the children */
} cp_runopts;

/* Stage NAME with --db, --tenant, --as, --config and its stage args. */
void cp_run_stage(cp_stage *s, const char *name, const cp_runopts *o);

#define CP_REPLAY_MAXSTAGES 6

typedef struct cp_replay {
	long docs;          /* documents fed to cp-extract */
	long fresh;         /* signals not stored: through cp-dedupe */
	long leads;         /* stored leads: straight to cp-score */
	long folded;        /* stored, folded into a story: nothing to do */
	cp_stage st[CP_REPLAY_MAXSTAGES];   /* the stages that ran, in order */
	int nst;
} cp_replay;

/*
 * Replay the document records in docs_fd (one per line, ndocs of them,
 * read from the start) for tenant_id.  r gets the counts and the stages
 * (free them with cp_replay_free).  0, or an exit code when it could not
 * run (reported); a failed stage shows in its status and returns 0.
 */
int cp_replay_docs(sqlite3 *db, int64_t tenant_id, int docs_fd, long ndocs,
    const cp_runopts *o, cp_replay *r);
/* true when every stage of the replay exited 0 (or 65: some records
 * rejected, the rest carried) */
bool cp_replay_ok(const cp_replay *r);
void cp_replay_free(cp_replay *r);

/* Append a line (without its newline) to fd, whole; false on error. */
bool cp_write_line(int fd, const char *text, size_t len);

#endif
