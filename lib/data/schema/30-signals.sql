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
CREATE INDEX signals_cluster ON signals(tenant_id, cluster_id);
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

-- Near-duplicate state per signal: the 64-bit SimHash (the signal's
-- fingerprint), the MinHash signature (32 little-endian uint32), the
-- exact-copy key (a 128-bit hash of the word sequence), the event
-- keys ("m:1.2e9 h:600 p:okoye d:2026-10-27 n:1.3e6 q:3 t:<job title>")
-- and the publication time.  sig is the signals rowid (the benchmark
-- stores fingerprints without signals rows).
CREATE TABLE dedupe_fingerprints (
	sig        INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL,
	signal_id  TEXT NOT NULL,
	cluster_id TEXT NOT NULL,
	simhash    INTEGER NOT NULL,
	minhash    BLOB NOT NULL,
	keys       TEXT NOT NULL DEFAULT '',
	published  INTEGER NOT NULL,
	textkey    TEXT                   -- exact-copy key (words, hashed)
) STRICT;

-- The indexes below lead with week, the week of publication (seconds
-- since the epoch / 604800): new rows land in this week's small, hot part
-- of each index instead of anywhere in it, so writing stays as cheap with
-- a million rows as with a thousand, and a lookup visits only the weeks
-- its window touches.

-- The banded LSH index: one row per band of each MinHash signature.  A
-- lookup reads at most 8 rows per band and week through the primary key,
-- so its cost does not grow with the number of stored fingerprints.
CREATE TABLE dedupe_bands (
	tenant_id INTEGER NOT NULL,
	week      INTEGER NOT NULL,
	band      INTEGER NOT NULL,
	sig       INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, week, band, sig)
) STRICT, WITHOUT ROWID;

-- Event index for paraphrases: one row per (account, theme) of a signal;
-- job postings use the theme "job:<function>".
CREATE TABLE dedupe_events (
	tenant_id  INTEGER NOT NULL,
	week       INTEGER NOT NULL,
	account_id TEXT NOT NULL,
	theme      TEXT NOT NULL,
	published  INTEGER NOT NULL,
	sig        INTEGER NOT NULL,
	cluster_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, week, account_id, theme, published, sig)
) STRICT, WITHOUT ROWID;
