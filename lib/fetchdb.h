/*
 * fetchdb.h — cp-fetch's tables in the state file (20-fetch.sql):
 * source cursors, the document log and the SEC ticker cache.
 *
 * Functions returning int return 0 or an exit code after reporting
 * (db.h conventions).  Writers run inside the caller's transaction when
 * one is open; none begins one itself.
 */
#ifndef CP_FETCHDB_H
#define CP_FETCHDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "id.h"

/* A source row (fetch_sources).  Strings are owned (free with
 * cp_fsrc_free); NULL when unset. */
typedef struct cp_fsrc {
	char *etag, *last_modified;
	char *cursor_id, *cursor_at;
	long failures;
	bool exists;
} cp_fsrc;

int cp_fsrc_load(sqlite3 *db, int64_t tenant_id, const char *kind,
    const char *url, cp_fsrc *out);
void cp_fsrc_free(cp_fsrc *s);

/* The outcome of one fetch of a source. */
typedef struct cp_fsrc_result {
	long status;              /* HTTP status, 0 when none */
	const char *error;        /* NULL on success */
	bool advance;             /* store validators and cursor below */
	const char *etag, *last_modified;
	const char *cursor_id, *cursor_at;
	long seen, emitted;
	const char *now;          /* RFC 3339 */
} cp_fsrc_result;

int cp_fsrc_save(sqlite3 *db, int64_t tenant_id, const char *kind,
    const char *url, const cp_fsrc_result *r);

/* Document log states. */
enum { CP_FLOG_NONE = 0, CP_FLOG_PENDING = 1, CP_FLOG_EMITTED = 2 };

/* State of a document and its stored content hash (hash may be NULL). */
int cp_flog_state(sqlite3 *db, int64_t tenant_id, const char *doc_id,
    char hash[CP_SHA256_HEX]);
/* Insert or replace the row as pending with the record. */
int cp_flog_pending(sqlite3 *db, int64_t tenant_id, const char *doc_id,
    const char *source, const char *source_url, const char *url,
    const char *published_at, const char *fetched_at, const char *hash,
    const char *record);
int cp_flog_emitted(sqlite3 *db, int64_t tenant_id, const char *doc_id);

/* Call fn for each logged record (oldest first) matching: tenant_id
 * (0: any), status (CP_FLOG_PENDING, CP_FLOG_EMITTED, or 0 for both),
 * fetched at or after since (NULL: any), source (NULL: any).  fn
 * returns 0 to go on.  The record text is borrowed for the call. */
typedef int (*cp_flog_fn)(int64_t tenant_id, const char *doc_id,
    const char *record, void *arg);
int cp_flog_each(sqlite3 *db, int64_t tenant_id, int status,
    const char *since, const char *source, cp_flog_fn fn, void *arg);

/* Finalise the statements kept prepared (before cp_db_close). */
void cp_fetchdb_release(void);

/* SEC ticker cache: CIK of ticker into cik[11]; returns true when known.
 * *fetched_at (may be NULL) gets the cache time (caller frees). */
bool cp_ticker_lookup(sqlite3 *db, const char *ticker, char cik[11]);
/* Age of the cache in seconds (-1 when empty). */
long cp_ticker_age(sqlite3 *db, long now);
/* Replace the whole cache (inside the caller's transaction). */
int cp_ticker_clear(sqlite3 *db);
int cp_ticker_store(sqlite3 *db, const char *ticker, const char *cik,
    const char *title, const char *now);

#endif
