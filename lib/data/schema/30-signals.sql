-- Signals and their de-duplication state: cp-dedupe (lib/dedupe.c).
-- Documented in cp-dedupe(1).  Times are RFC 3339 UTC text except where
-- an integer (seconds since the epoch) is needed for range scans.

-- Every signal cp-dedupe has seen, new or corroborating.  Later stages
-- read it: search (FTS over title and text, keyed by rowid), the account
-- health view (signals per week), reconcile (documents never carried to a
-- signal).  Written once per signal id; a rerun of the same input finds
-- the id here and emits nothing.
CREATE TABLE signals (
	seq          INTEGER PRIMARY KEY,           -- the rowid (FTS content key)
	tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
	id           TEXT NOT NULL,                 -- sig_…
	account_ids  TEXT NOT NULL DEFAULT '[]',    -- JSON array
	document_id  TEXT NOT NULL,
	cluster_id   TEXT NOT NULL,                 -- clu_…
	source       TEXT,
	url          TEXT,
	title        TEXT,
	text         TEXT NOT NULL DEFAULT '',
	lang         TEXT,
	themes       TEXT NOT NULL DEFAULT '[]',    -- JSON array of theme objects
	entities     TEXT NOT NULL DEFAULT '[]',    -- JSON array of entity objects
	published_at TEXT,
	fetched_at   TEXT,
	created_at   TEXT NOT NULL,
	UNIQUE (tenant_id, id)
) STRICT;
CREATE INDEX signals_document ON signals(tenant_id, document_id);
CREATE INDEX signals_published ON signals(tenant_id, published_at);

-- Stories: the first signal leads, later ones corroborate.
CREATE TABLE clusters (
	tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
	id              TEXT NOT NULL,              -- clu_…
	lead_signal_id  TEXT NOT NULL,
	size            INTEGER NOT NULL DEFAULT 1, -- signals in the story
	first_published TEXT,
	last_published  TEXT,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	version         INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;

-- Near-duplicate state per signal, one row per signals row (sig is its
-- seq), appended in the same order: the 64-bit SimHash (the signal's
-- fingerprint), the MinHash signature (32 little-endian uint32), the
-- exact-copy key (a 128-bit hash of the word sequence, NULL for a signal
-- without text), the event keys ("m:1.2e9 h:600 p:okoye d:2026-10-27
-- n:1.3e6 q:3 t:<job title>"), the (account, theme) pairs it is filed
-- under (each string as its length, a colon and its bytes; job postings
-- use the theme "job:<function>"; postings = 1 when one does) and the
-- publication time.  cp-dedupe reads the rows of the weeks around what it
-- decides into memory with one range scan (fpindex.h) and never reads
-- them by any other key than sig, so the only index is the one on time:
-- appending keeps every write in the newest part of the file.
CREATE TABLE dedupe_fingerprints (
	sig        INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL,
	published  INTEGER NOT NULL,
	signal_id  TEXT NOT NULL,
	cluster_id TEXT NOT NULL,
	simhash    INTEGER NOT NULL,
	minhash    BLOB NOT NULL,
	textkey    TEXT,
	keys       TEXT NOT NULL DEFAULT '',
	pairs      TEXT NOT NULL DEFAULT '',
	postings   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX dedupe_fingerprints_published
	ON dedupe_fingerprints(tenant_id, published);
-- job postings alone, for the hiring-surge count, which looks back
-- further (30 days) than the clustering window
CREATE INDEX dedupe_fingerprints_postings
	ON dedupe_fingerprints(tenant_id, published) WHERE postings = 1;
