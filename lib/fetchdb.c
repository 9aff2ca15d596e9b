/*
 * fetchdb.c — cp-fetch's state (fetchdb.h).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fetchdb.h"
#include "mem.h"
#include "timefmt.h"

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

int cp_fsrc_load(sqlite3 *db, int64_t tenant_id, const char *kind,
    const char *url, cp_fsrc *out)
{
	sqlite3_stmt *st = cp_db_prepare_cached(db, "SELECT etag, last_modified, "
	    "cursor_id, cursor_at, failures FROM fetch_sources WHERE "
	    "tenant_id = ? AND kind = ? AND url = ?");
	int rc;

	memset(out, 0, sizeof *out);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, kind);
	cp_db_bind_text(st, 3, url);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->etag = col(st, 0);
		out->last_modified = col(st, 1);
		out->cursor_id = col(st, 2);
		out->cursor_at = col(st, 3);
		out->failures = (long)sqlite3_column_int64(st, 4);
		out->exists = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cp_db_error(db, "reading fetch_sources");
	return 0;
}

void cp_fsrc_free(cp_fsrc *s)
{
	free(s->etag);
	free(s->last_modified);
	free(s->cursor_id);
	free(s->cursor_at);
	memset(s, 0, sizeof *s);
}

int cp_fsrc_save(sqlite3 *db, int64_t tenant_id, const char *kind,
    const char *url, const cp_fsrc_result *r)
{
	sqlite3_stmt *st;
	int rc;

	st = cp_db_prepare_cached(db, "INSERT INTO fetch_sources (tenant_id, kind, "
	    "url, last_fetched_at, last_status, last_error, failures, "
	    "items_seen, docs_emitted, last_ok_at) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, CASE WHEN ?6 IS NULL THEN 0 ELSE 1 END, ?7, ?8, "
	    "CASE WHEN ?6 IS NULL THEN ?4 END) "
	    "ON CONFLICT (tenant_id, kind, url) DO UPDATE SET "
	    "last_fetched_at = ?4, last_status = ?5, last_error = ?6, "
	    "failures = CASE WHEN ?6 IS NULL THEN 0 ELSE failures + 1 END, "
	    "items_seen = items_seen + ?7, docs_emitted = docs_emitted + ?8, "
	    "last_ok_at = CASE WHEN ?6 IS NULL THEN ?4 ELSE last_ok_at END, "
	    "version = version + 1");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, kind);
	cp_db_bind_text(st, 3, url);
	cp_db_bind_text(st, 4, r->now);
	if (r->status)
		sqlite3_bind_int64(st, 5, r->status);
	cp_db_bind_text(st, 6, r->error);
	sqlite3_bind_int64(st, 7, r->seen);
	sqlite3_bind_int64(st, 8, r->emitted);
	rc = cp_db_step_done(db, st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc || !r->advance)
		return rc;
	/* validators and cursor: only for a response fully written out.
	 * A 304 keeps the stored validators (NULL here means "unchanged"
	 * only for a 304; a 200 without ETag clears the stored one). */
	st = cp_db_prepare_cached(db, "UPDATE fetch_sources SET "
	    "etag = CASE WHEN ?4 = 304 THEN etag ELSE ?5 END, "
	    "last_modified = CASE WHEN ?4 = 304 THEN last_modified ELSE ?6 END, "
	    "cursor_id = coalesce(?7, cursor_id), "
	    "cursor_at = CASE WHEN ?8 IS NOT NULL AND (cursor_at IS NULL OR "
	    "?8 > cursor_at) THEN ?8 ELSE cursor_at END "
	    "WHERE tenant_id = ?1 AND kind = ?2 AND url = ?3");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, kind);
	cp_db_bind_text(st, 3, url);
	sqlite3_bind_int64(st, 4, r->status);
	cp_db_bind_text(st, 5, r->etag);
	cp_db_bind_text(st, 6, r->last_modified);
	cp_db_bind_text(st, 7, r->cursor_id);
	cp_db_bind_text(st, 8, r->cursor_at);
	rc = cp_db_step_done(db, st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The statements run once per document stay prepared (a prepare costs
 * more than the insert it serves). */
enum { ST_STATE, ST_PENDING, ST_RECORD, ST_EMITTED, NST };
static sqlite3_stmt *cache[NST];
static sqlite3 *cache_db;

void cp_fetchdb_release(void)
{
	int i;

	for (i = 0; i < NST; i++) {
		if (cache[i])
			sqlite3_finalize(cache[i]);
		cache[i] = NULL;
	}
	cache_db = NULL;
}

static sqlite3_stmt *cached(sqlite3 *db, int which, const char *sql)
{
	if (cache_db && cache_db != db)
		cp_fetchdb_release();
	cache_db = db;
	if (!cache[which])
		cache[which] = cp_db_prepare(db, sql);
	sqlite3_reset(cache[which]);
	sqlite3_clear_bindings(cache[which]);
	return cache[which];
}

/* Step a cached statement that returns no rows. */
static int step_cached(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return cp_db_error(db, "writing fetch_log");
}

int cp_flog_state(sqlite3 *db, int64_t tenant_id, const char *doc_id,
    char hash[CP_SHA256_HEX])
{
	sqlite3_stmt *st = cached(db, ST_STATE, "SELECT status, content_hash "
	    "FROM fetch_log WHERE tenant_id = ? AND doc_id = ?");
	int state = CP_FLOG_NONE;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, doc_id);
	if (hash)
		hash[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW) {
		state = strcmp(cp_db_col_text(st, 0), "emitted") ?
		    CP_FLOG_PENDING : CP_FLOG_EMITTED;
		if (hash) {
			strncpy(hash, cp_db_col_text(st, 1), CP_SHA256_HEX - 1);
			hash[CP_SHA256_HEX - 1] = '\0';
		}
	}
	sqlite3_reset(st);
	return state;
}

int cp_flog_pending(sqlite3 *db, int64_t tenant_id, const char *doc_id,
    const char *source, const char *source_url, const char *url,
    const char *published_at, const char *fetched_at, const char *hash,
    const char *record)
{
	sqlite3_stmt *st = cached(db, ST_PENDING, "INSERT INTO fetch_log "
	    "(tenant_id, doc_id, source, source_url, url, published_at, "
	    "fetched_at, status, content_hash) VALUES (?, ?, ?, ?, "
	    "?, ?, ?, 'pending', ?) ON CONFLICT (tenant_id, doc_id) DO "
	    "UPDATE SET status = 'pending', url = excluded.url, "
	    "published_at = excluded.published_at, fetched_at = "
	    "excluded.fetched_at, content_hash = excluded.content_hash, "
	    "version = version + 1");
	int rc;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, doc_id);
	cp_db_bind_text(st, 3, source);
	cp_db_bind_text(st, 4, source_url);
	cp_db_bind_text(st, 5, url);
	cp_db_bind_text(st, 6, published_at);
	cp_db_bind_text(st, 7, fetched_at);
	cp_db_bind_text(st, 8, hash);
	if ((rc = step_cached(db, st)))
		return rc;
	st = cached(db, ST_RECORD, "INSERT INTO fetch_records (tenant_id, "
	    "doc_id, record) VALUES (?, ?, ?) ON CONFLICT (tenant_id, doc_id) "
	    "DO UPDATE SET record = excluded.record");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, doc_id);
	cp_db_bind_text(st, 3, record);
	return step_cached(db, st);
}

int cp_flog_emitted(sqlite3 *db, int64_t tenant_id, const char *doc_id)
{
	sqlite3_stmt *st = cached(db, ST_EMITTED, "UPDATE fetch_log SET "
	    "status = 'emitted', version = version + 1 WHERE tenant_id = ? "
	    "AND doc_id = ?");

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, doc_id);
	return step_cached(db, st);
}

int cp_flog_each(sqlite3 *db, int64_t tenant_id, int status,
    const char *since, const char *source, cp_flog_fn fn, void *arg)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT l.tenant_id, l.doc_id, "
	    "r.record FROM fetch_log l JOIN fetch_records r USING (tenant_id, "
	    "doc_id) WHERE (?1 = 0 OR l.tenant_id = ?1) AND "
	    "(?2 IS NULL OR l.status = ?2) AND (?3 IS NULL OR "
	    "l.fetched_at >= ?3) AND (?4 IS NULL OR l.source = ?4) "
	    "ORDER BY l.fetched_at, r.id");
	int rc = 0, s;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, status == CP_FLOG_PENDING ? "pending" :
	    status == CP_FLOG_EMITTED ? "emitted" : NULL);
	cp_db_bind_text(st, 3, since);
	cp_db_bind_text(st, 4, source);
	while ((s = sqlite3_step(st)) == SQLITE_ROW && !rc)
		rc = fn(sqlite3_column_int64(st, 0), cp_db_col_text(st, 1),
		    cp_db_col_text(st, 2), arg);
	sqlite3_finalize(st);
	if (!rc && s != SQLITE_DONE && s != SQLITE_ROW)
		return cp_db_error(db, "reading fetch_log");
	return rc;
}

bool cp_ticker_lookup(sqlite3 *db, const char *ticker, char cik[11])
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT cik FROM sec_tickers "
	    "WHERE ticker = ?");
	bool found = false;

	cp_db_bind_text(st, 1, ticker);
	if (sqlite3_step(st) == SQLITE_ROW) {
		strncpy(cik, cp_db_col_text(st, 0), 10);
		cik[10] = '\0';
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

long cp_ticker_age(sqlite3 *db, long now)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT min(fetched_at) FROM "
	    "sec_tickers");
	long age = -1;
	time_t t;

	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    cp_time_parse(cp_db_col_text(st, 0), &t))
		age = now - (long)t;
	sqlite3_finalize(st);
	return age;
}

int cp_ticker_clear(sqlite3 *db)
{
	return cp_db_exec(db, "DELETE FROM sec_tickers");
}

int cp_ticker_store(sqlite3 *db, const char *ticker, const char *cik,
    const char *title, const char *now)
{
	sqlite3_stmt *st = cp_db_prepare(db, "INSERT OR REPLACE INTO "
	    "sec_tickers (ticker, cik, title, fetched_at) VALUES (?, ?, ?, ?)");
	int rc;

	cp_db_bind_text(st, 1, ticker);
	cp_db_bind_text(st, 2, cik);
	cp_db_bind_text(st, 3, title);
	cp_db_bind_text(st, 4, now);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}
