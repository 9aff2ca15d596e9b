-- Cards: opportunities turned into something an account manager reviews.
-- Owned by lib/card.c (cp-card writes, cp-inbox reads and decides);
-- documented in cp-card(1) and clientpulse-state(5).
--
-- A card's id is "card_" + SHA-256 over tenant, account, playbook and
-- cluster, so a later opportunity for the same story finds the same card
-- and updates it (version + 1) while it is pending_review.  record holds
-- the full card (clientpulse-records(5)); the columns are what the inbox
-- sorts and filters by.  The foreign key on (tenant_id, account_id) makes
-- a card for another tenant's account impossible, whatever a record says.
CREATE TABLE cards (
	id               TEXT PRIMARY KEY,
	tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
	account_id       TEXT NOT NULL,
	assignee_id      INTEGER REFERENCES users(id),
	status           TEXT NOT NULL DEFAULT 'pending_review'
	                 CHECK (status IN ('pending_review', 'approved',
	                     'rejected', 'pushed')),
	version          INTEGER NOT NULL DEFAULT 1,
	score            REAL NOT NULL CHECK (score >= 0 AND score <= 100),
	theme            TEXT NOT NULL,
	playbook_id      TEXT,
	cluster_id       TEXT,
	title            TEXT NOT NULL,
	source           TEXT,
	record           TEXT NOT NULL,    -- JSON; no json_valid() CHECK:
	                                   -- it parses 5 KB per card written
	config_version   TEXT,
	first_fetched_at TEXT,
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL,
	decided_at       TEXT,
	FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id)
) STRICT;
-- The inbox's indexes (a tenant's queue by score, one person's cards, one
-- account's cards) are in 50-inbox.sql, next to the queries that use
-- them: cards_scope_queue (tenant_id, status, score DESC, …),
-- cards_inbox (tenant_id, assignee_id, status, …) and cards_account_queue
-- (tenant_id, account_id, …).  Every index here is paid on every card
-- written (cp-card stores thousands a second), so none is duplicated.

-- The evidence a card rests on: one row per signal, with the quoted
-- sentence and its source URL (both required: a card without evidence is
-- not explainable).
CREATE TABLE card_evidence (
	card_id      TEXT NOT NULL REFERENCES cards(id),
	signal_id    TEXT NOT NULL,
	url          TEXT NOT NULL CHECK (url <> ''),
	quote        TEXT NOT NULL CHECK (quote <> ''),
	published_at TEXT,
	PRIMARY KEY (card_id, signal_id)
) STRICT, WITHOUT ROWID;

-- Every version of every card, as it was (history for the inbox and for
-- cp-reconcile); written in the same transaction as the change.
CREATE TABLE card_versions (
	card_id    TEXT NOT NULL REFERENCES cards(id),
	version    INTEGER NOT NULL,
	record     TEXT NOT NULL,
	actor      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (card_id, version)
) STRICT;
