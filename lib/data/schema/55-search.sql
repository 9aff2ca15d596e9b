-- Search (cp-search, lib/search.c): full-text indexes over cards and
-- signals (assets have assets_fts, 40-score.sql) and the vectors of the
-- optional semantic search.  Documented in cp-search(1).
--
-- Every index uses the same tokenizer as assets_fts, so one query string
-- means the same thing against all three: Unicode words, case and
-- diacritics folded ("Café" finds "cafe"), '_' inside a word (theme ids
-- stay one token), English stemming ("acquisitions" finds "acquired").

-- Cards.  What a card is found by, computed from its row alone: title;
-- body (the narrative whatever its shape, the next step, the first eight
-- quotes of evidence); account (the name the card was made with, and the id);
-- theme (the id and the playbook's name).  The same row always gives the
-- same text, which an external-content index needs: removing a row from
-- the index takes exactly the text that was indexed.  A record that is
-- not valid JSON indexes its title only (no writer is ever refused for
-- the sake of search).  No json_each() here: FTS5 reads this view itself
-- (rebuild, integrity-check, snippets) and a table-valued function inside
-- it fails there with "SQL logic error" (SQLite 3.40).
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

-- Keyed by the cards rowid.  VACUUM keeps the rowids of a table without
-- an INTEGER PRIMARY KEY (tests/cp-search.bats checks it); should a
-- future SQLite not, cp-search --reindex rebuilds the index.
CREATE VIRTUAL TABLE cards_fts USING fts5(title, body, account, theme,
	content = 'search_card_text', content_rowid = 'rid',
	tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'");

-- Every writer of cards (cp-card, cp-inbox, cp-push, a person with the
-- sqlite3 shell) keeps the index in step.  The old text is taken before
-- the change (BEFORE triggers), the new one after it.  Only changes to
-- the columns the text is made of touch the index: a status change alone
-- (cp-push) costs nothing here.
CREATE TRIGGER cards_fts_insert AFTER INSERT ON cards BEGIN
	INSERT INTO cards_fts(rowid, title, body, account, theme)
	SELECT rid, title, body, account, theme FROM search_card_text
	WHERE rid = new.rowid;
END;
CREATE TRIGGER cards_fts_unindex BEFORE UPDATE OF title, record, account_id,
	theme ON cards BEGIN
	INSERT INTO cards_fts(cards_fts, rowid, title, body, account, theme)
	SELECT 'delete', rid, title, body, account, theme FROM search_card_text
	WHERE rid = old.rowid;
END;
CREATE TRIGGER cards_fts_reindex AFTER UPDATE OF title, record, account_id,
	theme ON cards BEGIN
	INSERT INTO cards_fts(rowid, title, body, account, theme)
	SELECT rid, title, body, account, theme FROM search_card_text
	WHERE rid = new.rowid;
END;
CREATE TRIGGER cards_fts_delete BEFORE DELETE ON cards BEGIN
	INSERT INTO cards_fts(cards_fts, rowid, title, body, account, theme)
	SELECT 'delete', rid, title, body, account, theme FROM search_card_text
	WHERE rid = old.rowid;
END;

-- Signals: title and text, keyed by signals.seq, as 30-signals.sql
-- offers.  No trigger: cp-dedupe stores thousands of signals a second and
-- indexing an article's text costs more than storing it, so the index
-- catches up instead.  Signals are written once and never change their
-- title or text, so everything above a mark (the setting
-- search.signals_indexed, the highest seq indexed) is what is missing:
-- cp-search indexes it before it searches, and cp-search --index does it
-- ahead of time (after cp-dedupe in cron).  cp-search --reindex rebuilds
-- the whole index from the table.
CREATE VIRTUAL TABLE signals_fts USING fts5(title, text,
	content = 'signals', content_rowid = 'seq',
	tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'");

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
