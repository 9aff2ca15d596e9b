-- Core schema: tenants, users, accounts, access grants, settings, audit.
-- Owned by the foundation (lib/db.c, lib/rbac.c, lib/account.c,
-- lib/audit.c).  Every row carries tenant_id; every mutable row carries
-- version for optimistic concurrency (UPDATE ... WHERE id=? AND version=?).
-- Times are RFC 3339 UTC text.  Documented in clientpulse-state(5).

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE tenants (
	id               INTEGER PRIMARY KEY,
	name             TEXT NOT NULL UNIQUE,
	review_sla_hours INTEGER NOT NULL DEFAULT 48 CHECK (review_sla_hours > 0),
	created_at       TEXT NOT NULL,
	version          INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE users (
	id         INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
	login      TEXT NOT NULL,
	name       TEXT,
	email      TEXT,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'am', 'viewer')),
	manager_id INTEGER REFERENCES users(id),
	active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	version    INTEGER NOT NULL DEFAULT 1,
	UNIQUE (tenant_id, login)
) STRICT;
CREATE INDEX users_login ON users(login);
CREATE INDEX users_manager ON users(tenant_id, manager_id);

-- Account ids are chosen by the tenant (or derived from the domain/name),
-- so they are unique within a tenant only: the key is (tenant_id, id).
CREATE TABLE accounts (
	tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
	id                TEXT NOT NULL,
	name              TEXT NOT NULL,
	aliases           TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
	domain            TEXT,
	ticker            TEXT,
	cik               TEXT,
	industry          TEXT,
	segment           TEXT,
	tier              INTEGER,
	owner_id          INTEGER REFERENCES users(id),
	feeds             TEXT NOT NULL DEFAULT '[]',   -- JSON array of URLs
	greenhouse_token  TEXT,
	lever_site        TEXT,
	hubspot_id        TEXT,
	salesforce_id     TEXT,
	meta              TEXT NOT NULL DEFAULT '{}',   -- JSON object
	deleted_at        TEXT,
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	version           INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX accounts_domain ON accounts(tenant_id, domain);
CREATE INDEX accounts_owner ON accounts(tenant_id, owner_id);
CREATE INDEX accounts_cik ON accounts(cik) WHERE cik IS NOT NULL;

-- Explicit grants on top of ownership (an AM covering for a colleague,
-- a viewer's read scope).
CREATE TABLE account_access (
	tenant_id  INTEGER NOT NULL,
	account_id TEXT NOT NULL,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	granted_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, account_id, user_id),
	FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX account_access_user ON account_access(user_id);

-- Append-only, hash-chained audit log (lib/audit.c).  hash is SHA-256 of
-- prev_hash and the entry's canonical JSON; the triggers refuse updates
-- and deletes, and cp-reconcile / clientpulse audit --verify walk the
-- chain, so tampering by someone who drops the triggers is still found.
CREATE TABLE audit (
	seq         INTEGER PRIMARY KEY,
	ts          TEXT NOT NULL,
	tenant_id   INTEGER,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	entity_type TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	diff        TEXT NOT NULL,     -- JSON {"old":…,"new":…}
	reason      TEXT,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_entity ON audit(entity_id);
CREATE INDEX audit_actor ON audit(actor);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
