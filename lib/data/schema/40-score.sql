-- Scoring: playbooks, assets (with their full-text index), the decisions
-- that feedback priors are derived from, the scoring configurations cards
-- were scored with, and the job postings hiring surges are counted from.
-- Owned by lib/playbook.c, lib/asset.c, lib/priors.c, lib/score.c;
-- documented in cp-score(1), cp-playbook(1), cp-asset(1).

-- A playbook answers a kind of situation (cp-playbook(1)).  record is the
-- normalised playbook as imported; the columns are what queries need.
CREATE TABLE playbooks (
	tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	themes     TEXT NOT NULL CHECK (json_valid(themes)),  -- JSON array
	record     TEXT NOT NULL CHECK (json_valid(record)),
	active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) STRICT;

-- Case studies, whitepapers, decks (cp-asset(1)).  seq is the rowid the
-- full-text index refers to; the triggers keep the index in step, so any
-- writer of assets keeps search right.
CREATE TABLE assets (
	seq        INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
	id         TEXT NOT NULL,
	kind       TEXT NOT NULL,
	title      TEXT NOT NULL,
	url        TEXT NOT NULL,
	summary    TEXT NOT NULL DEFAULT '',
	themes     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(themes)),
	industries TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(industries)),
	tags       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
	record     TEXT NOT NULL CHECK (json_valid(record)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	UNIQUE (tenant_id, id)
) STRICT;

-- Theme ids keep their underscores as one token ("m_and_a"); porter
-- stemming lets "acquisitions" find "acquisition".
CREATE VIRTUAL TABLE assets_fts USING fts5(title, summary, themes,
	industries, tags, tokenize = "porter unicode61 tokenchars '_'");

CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
	INSERT INTO assets_fts(rowid, title, summary, themes, industries, tags)
	VALUES (new.seq, new.title, new.summary,
	    (SELECT group_concat(value, ' ') FROM json_each(new.themes)),
	    (SELECT group_concat(value, ' ') FROM json_each(new.industries)),
	    (SELECT group_concat(value, ' ') FROM json_each(new.tags)));
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE ON assets BEGIN
	DELETE FROM assets_fts WHERE rowid = old.seq;
	INSERT INTO assets_fts(rowid, title, summary, themes, industries, tags)
	VALUES (new.seq, new.title, new.summary,
	    (SELECT group_concat(value, ' ') FROM json_each(new.themes)),
	    (SELECT group_concat(value, ' ') FROM json_each(new.industries)),
	    (SELECT group_concat(value, ' ') FROM json_each(new.tags)));
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
	DELETE FROM assets_fts WHERE rowid = old.seq;
END;

-- What account managers decided about cards (written by cp-inbox).
-- Feedback priors are derived from these rows every time cp-score runs,
-- never kept as a running number: cp-score --priors shows the rows behind
-- each prior.  theme, playbook_id and segment are copied from the card
-- and its account at decision time, so a later change of the account's
-- segment does not move old feedback.
CREATE TABLE decisions (
	id          INTEGER PRIMARY KEY,
	tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
	card_id     TEXT NOT NULL REFERENCES cards(id),
	user_id     INTEGER NOT NULL REFERENCES users(id),
	decision    TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'refine')),
	reason      TEXT CHECK (reason IS NULL OR reason IN ('not_relevant',
	            'already_known', 'bad_timing', 'wrong_account', 'other')),
	note        TEXT,
	theme       TEXT NOT NULL,
	playbook_id TEXT,
	segment     TEXT,
	decided_at  TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_prior ON decisions(tenant_id, theme, playbook_id,
	segment, decided_at);
CREATE INDEX decisions_card ON decisions(card_id);

-- Every scoring configuration an opportunity was scored with, by version
-- (the first 16 hex digits of the SHA-256 of its text), so that
-- cp-score --explain CARD_ID recomputes a card with the exact weights it
-- was scored with, whatever the configuration is today.
CREATE TABLE scoring_configs (
	version    TEXT PRIMARY KEY,
	text       TEXT NOT NULL,
	origin     TEXT NOT NULL,
	created_at TEXT NOT NULL
) STRICT;

-- Job postings seen by cp-score, per account and job function: a hiring
-- surge is counted over a window that may span several runs.
CREATE TABLE score_postings (
	tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
	signal_id    TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	function     TEXT NOT NULL,
	title        TEXT NOT NULL,
	url          TEXT NOT NULL,
	quote        TEXT NOT NULL,
	source_name  TEXT NOT NULL,
	reliability  REAL NOT NULL,
	published_at TEXT NOT NULL,
	fetched_at   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, signal_id)
) STRICT;
CREATE INDEX score_postings_window ON score_postings(tenant_id, account_id,
	function, published_at);
