/*
 * audit.h — the append-only, hash-chained audit log.
 *
 * Every review, push, fix and administrative change calls cp_audit()
 * inside the same transaction as the change itself, so the log and the
 * state can never disagree.  Each entry stores the SHA-256 of the previous
 * entry (prev_hash; 64 zeros for the first) and its own hash over
 * prev_hash + "\n" + the canonical JSON (sorted keys) of
 * {seq, ts, tenant_id, actor, action, entity_type, entity_id, diff, reason}.
 * Changing, inserting or deleting a row in the middle breaks the chain at
 * that row; cp_audit_verify() finds the first break.  The head hash
 * (cp_audit_head) can be recorded elsewhere to detect truncation of the
 * tail as well.
 */
#ifndef CP_AUDIT_H
#define CP_AUDIT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "id.h"

/*
 * Append an entry.  old_v and new_v (may be NULL) are the entity before
 * and after; only the keys that differ are stored (the JSON diff).
 * Must run inside a write transaction (cp_db_begin).  0 or an exit code.
 */
int cp_audit(sqlite3 *db, int64_t tenant_id, const char *actor,
    const char *action, const char *entity_type, const char *entity_id,
    const json_t *old_v, const json_t *new_v, const char *reason);

/* Walk the chain.  Returns 0 when intact; 1 after setting *bad_seq to the
 * first broken entry and *why (static string) to the reason; or an exit
 * code > 1 on a database error.  *count gets the number of entries. */
int cp_audit_verify(sqlite3 *db, int64_t *count, int64_t *bad_seq,
    const char **why);

/* The hash of the newest entry (64 zeros when empty). */
int cp_audit_head(sqlite3 *db, char out[CP_SHA256_HEX]);

/* {"old":{changed keys},"new":{changed keys}}; new reference. */
json_t *cp_json_diff(const json_t *old_v, const json_t *new_v);

#endif
