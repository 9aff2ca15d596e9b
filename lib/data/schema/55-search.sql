-- Search (cp-search, lib/search.c): full-text indexes over cards and
-- signals (assets have assets_fts, 40-score.sql) and the vectors of the
-- optional semantic search.  Documented in cp-search(1).
--
-- Every index uses the same tokenizer as assets_fts, so one query string
-- means the same thing against all three: Unicode words, case and
-- diacritics folded ("Café" finds "cafe"), '_' inside a word (theme ids
-- stay one token), English stemming ("acquisitions" finds "acquired").

-- Why the indexes are caught up rather than written by the writers:
-- indexing a card's text costs cp-card more than storing the card does
-- (measured: 5,100 cards per CPU second without, 2,750 with an index
-- kept by triggers), and cp-dedupe's signals are bigger still.  So the
-- writers pay for nothing when they insert (new rows are found above a
-- mark) and for a small note when they change a card, and cp-search
-- brings the indexes up to date before it searches -- or ahead of time,
-- with cp-search --index after the pipeline in cron.

-- Cards.  What a card is found by, computed from its row alone: title;
-- body (the narrative whatever its shape, the next step, the first eight
-- quotes of evidence); account (the name the card was made with, and the
-- id); theme (the id and the playbook's name).  A record that is not
-- valid JSON is found by its title only.
CREATE VIEW search_card_text(rid, title, body, account, theme) AS
SELECT c.rowid, c.title,
	CASE WHEN json_valid(c.record) THEN
		CASE json_type(c.record, '$.narrative')
		WHEN 'text' THEN json_extract(c.record, '$.narrative')
		WHEN 'object' THEN
			coalesce(json_extract(c.record, '$.narrative.what_happened'), '')
			|| char(10) ||
			coalesce(json_extract(c.record, '$.narrative.why_it_matters'), '')
			|| char(10) ||
			coalesce(json_extract(c.record, '$.narrative.why_now'), '')
			|| char(10) ||
			coalesce(json_extract(c.record, '$.narrative.next_step'), '')
		ELSE '' END
		|| char(10) || coalesce(json_extract(c.record, '$.next_step'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[0].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[1].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[2].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[3].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[4].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[5].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[6].quote'), '')
		|| char(10) || coalesce(json_extract(c.record, '$.evidence[7].quote'), '')
	ELSE '' END,
	CASE WHEN json_valid(c.record) THEN
		coalesce(json_extract(c.record, '$.account_name'), '')
	ELSE '' END || ' ' || c.account_id,
	c.theme || ' ' || CASE WHEN json_valid(c.record) THEN
		coalesce(json_extract(c.record, '$.playbook_name'), '')
	ELSE '' END
FROM cards c;

-- The index keeps its own copy of the text (a card changes, and removing
-- its old words from an index needs the words as they were indexed), so
-- snippets show what was indexed.  Keyed by the cards rowid: VACUUM
-- keeps the rowids of a table without an INTEGER PRIMARY KEY
-- (tests/cp-search.bats checks it); should a future SQLite not,
-- cp-search --reindex rebuilds from the cards.
CREATE VIRTUAL TABLE cards_fts USING fts5(title, body, account, theme,
	tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'");

-- Who may see each indexed card, in rows a hundred to a page: a search
-- walks thousands of matches through the caller's scope, and reading
-- each card's own row (a few KB of record) for its account would touch a
-- page per match.  Written with the card's index entry.
CREATE TABLE search_card_keys (
	rid        INTEGER PRIMARY KEY,     -- cards.rowid
	tenant_id  INTEGER NOT NULL,
	account_id TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;

-- What is missing from the index: the cards inserted since, above a
-- mark (the setting search.cards_indexed, the highest rowid indexed: new
-- rows get higher rowids), and the cards changed or deleted since, noted
-- here by these triggers at the cost of one small insert.  Every writer
-- of cards (cp-card, cp-inbox, cp-push, a person with the sqlite3 shell)
-- is covered; cp-card's inserts pay nothing (a trigger on them cost it
-- 7%).  A change of status alone (cp-push) changes nothing searchable
-- and leaves no note.
CREATE TABLE search_card_dirty (
	rid INTEGER PRIMARY KEY             -- cards.rowid
) STRICT;
CREATE TRIGGER cards_search_update AFTER UPDATE OF title, record, account_id,
	theme, tenant_id, created_at ON cards BEGIN
	INSERT OR IGNORE INTO search_card_dirty(rid) VALUES (new.rowid);
END;
CREATE TRIGGER cards_search_delete AFTER DELETE ON cards BEGIN
	INSERT OR IGNORE INTO search_card_dirty(rid) VALUES (old.rowid);
END;

-- Signals: title and text, keyed by signals.seq, as 30-signals.sql
-- offers; the text stays in signals (external content).  No trigger:
-- signals are written once and never change their title or text, so
-- everything above a mark (the setting search.signals_indexed, the
-- highest seq indexed) is what is missing.  cp-search --reindex rebuilds
-- the whole index from the table.
CREATE VIRTUAL TABLE signals_fts USING fts5(title, text,
	content = 'signals', content_rowid = 'seq',
	tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'");

-- Who may see each indexed signal, written with its index entry: one row
-- per account the signal names (account_id '' when it names none).  The
-- account index also answers "this account's signals by week" (the
-- health view of cp-account show) for every indexed signal; the ones
-- above the mark are read from signals itself.
CREATE TABLE search_signal_keys (
	seq          INTEGER NOT NULL,      -- signals.seq
	account_id   TEXT NOT NULL,
	tenant_id    INTEGER NOT NULL,
	published_at TEXT,
	PRIMARY KEY (seq, account_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_signal_keys_account ON search_signal_keys(tenant_id,
	account_id, published_at);

-- Semantic search (cp-search --semantic, --hybrid): one embedding per
-- item and model, as dim little-endian float32 values.  rid is the
-- item's rowid (cards.rowid, signals.seq, assets.seq); version is the
-- item's version when it was embedded (cards and assets change; signals
-- are always 1), so a changed card is embedded again.
CREATE TABLE search_vectors (
	kind      TEXT NOT NULL CHECK (kind IN ('card', 'signal', 'asset')),
	rid       INTEGER NOT NULL,
	model     TEXT NOT NULL,
	tenant_id INTEGER NOT NULL,
	version   INTEGER NOT NULL,
	dim       INTEGER NOT NULL CHECK (dim > 0),
	vec       BLOB NOT NULL CHECK (length(vec) = 4 * dim),
	PRIMARY KEY (kind, model, rid)
) STRICT, WITHOUT ROWID;
