-- The push outbox: approved cards on their way into the CRMs (cp-push,
-- lib/outbox.c and lib/crm*.c).  Documented in cp-push(1).
--
-- Approving a card inserts one row per CRM action and active target in
-- the approval's own transaction (cp_review_on_approve), so an approved
-- card always has its rows and a rolled-back approval never has any.
-- cp-push then walks each row through
--
--     queued -> sending -> done | retry_wait | failed
--
-- A row is 'sending' from the commit that claims it (before any request
-- leaves) until its outcome is committed, so a row found 'sending' when no
-- cp-push holds the push lock was interrupted: the request may or may not
-- have been applied, and the next run looks the object up by idem_key
-- before sending again.  uncertain = 1 says the same of a row waiting for
-- another attempt after an ambiguous failure (a timeout, a reset
-- connection, a 5xx after the request went out).
CREATE TABLE push_outbox (
	id              INTEGER PRIMARY KEY,
	tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
	card_id         TEXT NOT NULL REFERENCES cards(id),
	account_id      TEXT NOT NULL,
	target          TEXT NOT NULL CHECK (target IN ('hubspot', 'salesforce',
	                    'webhook', 'file')),
	action          TEXT NOT NULL CHECK (action IN ('note', 'task',
	                    'opportunity', 'card')),
	-- "cpk_" + 32 hex digits of SHA-256 over card id, target and action:
	-- stored in the CRM object (custom property, external id field,
	-- Idempotency-Key header) so a retry finds instead of duplicating
	idem_key        TEXT NOT NULL UNIQUE,
	payload         TEXT NOT NULL,       -- JSON, fixed at approval
	state           TEXT NOT NULL DEFAULT 'queued'
	                CHECK (state IN ('queued', 'sending', 'done',
	                    'retry_wait', 'failed')),
	uncertain       INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
	attempts        INTEGER NOT NULL DEFAULT 0,  -- requests answered or lost
	next_attempt_at TEXT,                -- retry_wait: not before then
	remote_id       TEXT,                -- the CRM's id once done
	error           TEXT,                -- the last error (the CRM's words)
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	sent_at         TEXT,                -- last claim: a request may have
	                                     -- left from then on
	done_at         TEXT,
	version         INTEGER NOT NULL DEFAULT 1,
	UNIQUE (card_id, target, action),
	FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id)
) STRICT;
-- cp-push's claim and --status walk a tenant's rows by state.
CREATE INDEX push_outbox_state ON push_outbox(tenant_id, state,
	next_attempt_at);

-- A target stopped until a time by the CRM itself: HubSpot's daily limit
-- (until the next day), Salesforce's REQUEST_LIMIT_EXCEEDED.  Rows of a
-- held target stay queued; cp-push skips the target until "until".
CREATE TABLE push_holds (
	tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
	target     TEXT NOT NULL,
	until      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, target)
) STRICT, WITHOUT ROWID;
