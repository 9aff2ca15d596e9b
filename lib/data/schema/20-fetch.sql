-- Fetching: sources and their cursors, the document log, HTTP rate-limit
-- buckets and the SEC ticker cache.  Owned by cp-fetch (lib/fetchdb.c,
-- lib/http.c).  Documented in cp-fetch(1) and clientpulse-state(5).

-- One row per thing fetched for a tenant: a feed URL, a submissions JSON,
-- a job board.  The HTTP validators (etag, last_modified) and the cursor
-- (newest item seen) advance only after every document of the response
-- was written out and logged.
CREATE TABLE fetch_sources (
	tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
	kind            TEXT NOT NULL
	                CHECK (kind IN ('sec', 'news', 'jobs', 'web', 'file')),
	url             TEXT NOT NULL,
	etag            TEXT,
	last_modified   TEXT,
	cursor_id       TEXT,        -- identity of the newest item seen
	cursor_at       TEXT,        -- its date (RFC 3339)
	last_fetched_at TEXT,
	last_ok_at      TEXT,
	last_status     INTEGER,     -- HTTP status of the last attempt
	last_error      TEXT,        -- NULL after a success
	failures        INTEGER NOT NULL DEFAULT 0,  -- in a row
	items_seen      INTEGER NOT NULL DEFAULT 0,
	docs_emitted    INTEGER NOT NULL DEFAULT 0,
	version         INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, kind, url)
) STRICT, WITHOUT ROWID;

-- Every document cp-fetch emitted: 'pending' is written (with the
-- record) before the document goes to stdout, 'emitted' once stdout was
-- flushed.  A 'pending' row left by a crash is emitted again by the next
-- run; --replay re-emits emitted ones on request.  content_hash tells an
-- updated item from an unchanged one (--updates).
CREATE TABLE fetch_log (
	tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
	doc_id       TEXT NOT NULL,
	source       TEXT NOT NULL,  -- sec, news, jobs, web, file
	source_url   TEXT NOT NULL,  -- the fetch_sources url (or the file)
	url          TEXT NOT NULL,  -- the document's own URL
	published_at TEXT,
	fetched_at   TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('pending', 'emitted')),
	content_hash TEXT NOT NULL,
	version      INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, doc_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX fetch_log_pending ON fetch_log(status) WHERE status = 'pending';
CREATE INDEX fetch_log_fetched ON fetch_log(tenant_id, fetched_at);

-- The documents as written, kept apart from fetch_log so that flipping a
-- row to 'emitted' does not rewrite the record (a rowid table: records
-- are large).
CREATE TABLE fetch_records (
	id        INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	doc_id    TEXT NOT NULL,
	record    TEXT NOT NULL,
	UNIQUE (tenant_id, doc_id),
	FOREIGN KEY (tenant_id, doc_id) REFERENCES fetch_log(tenant_id, doc_id)
) STRICT;

-- Token buckets per host, shared by concurrent processes (lib/http.c).
-- A host's limit is the host's, not a tenant's: no tenant_id, like
-- settings.
CREATE TABLE http_buckets (
	host       TEXT PRIMARY KEY,
	tokens     REAL NOT NULL,
	updated_at REAL NOT NULL      -- seconds since the epoch
) STRICT, WITHOUT ROWID;

-- SEC company_tickers.json, cached (public data, shared by tenants).
CREATE TABLE sec_tickers (
	ticker     TEXT PRIMARY KEY,
	cik        TEXT NOT NULL,
	title      TEXT,
	fetched_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
