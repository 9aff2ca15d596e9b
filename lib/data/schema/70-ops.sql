-- Operations: pipeline runs recorded by cp-run (clientpulse run) and the
-- last result of each cp-reconcile check; read by cp-doctor, cp-metrics
-- and cp-report.  Documented in cp-run(1) and cp-reconcile(1).

-- One row per run, written when the run starts (status 'running') and
-- completed when it ends.  kind says which lock it held: 'pipeline'
-- (STATE.lock: any of fetch … card, and push after them) or 'push' (a
-- push-only run, STATE.lock.push, so pushes every few minutes never wait
-- behind a long pipeline run).  A run still 'running' when the next one
-- of its kind takes the lock was killed: the next run marks it 'killed'
-- and replays the documents fetched since fetch_mark (recovered = 1 once
-- that worked).
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	host        TEXT NOT NULL,
	pid         INTEGER NOT NULL,
	kind        TEXT NOT NULL DEFAULT 'pipeline'
	            CHECK (kind IN ('pipeline', 'push')),
	stages      TEXT NOT NULL,               -- "fetch,extract,…"
	status      TEXT NOT NULL DEFAULT 'running'
	            CHECK (status IN ('running', 'ok', 'failed', 'killed')),
	exit_status INTEGER,
	error       TEXT,                        -- "card exit 78; …"
	duration_ms INTEGER,
	fetch_mark  INTEGER NOT NULL DEFAULT 0,  -- max(fetch_records.id) at start
	recovered   INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
	replayed    INTEGER NOT NULL DEFAULT 0,  -- documents replayed for killed runs
	version     INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX runs_started ON runs(tenant_id, started_at);
CREATE INDEX runs_status ON runs(status) WHERE status IN ('running', 'killed');

-- One row per stage of a run, in the order they ran: phase 'run' for the
-- pipeline (and push), 'recover' for the replay of a killed run's
-- documents.  Records in and out are counted by cp-run on the pipes;
-- first_out_ms is when the stage wrote its first record (latency).
CREATE TABLE run_stages (
	run_id       INTEGER NOT NULL REFERENCES runs(id),
	seq          INTEGER NOT NULL,
	tenant_id    INTEGER NOT NULL,
	phase        TEXT NOT NULL DEFAULT 'run' CHECK (phase IN ('run', 'recover')),
	stage        TEXT NOT NULL,
	started_at   TEXT NOT NULL,
	finished_at  TEXT,
	duration_ms  INTEGER,
	first_out_ms INTEGER,
	records_in   INTEGER NOT NULL DEFAULT 0,
	records_out  INTEGER NOT NULL DEFAULT 0,
	exit_status  INTEGER,
	error        TEXT,                       -- the last line of its stderr
	PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_stages_stage ON run_stages(tenant_id, stage, finished_at);

-- The last result of each cp-reconcile check per tenant (metrics, doctor).
CREATE TABLE reconcile_checks (
	tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
	check_name  TEXT NOT NULL,
	ran_at      TEXT NOT NULL,
	found       INTEGER NOT NULL DEFAULT 0,
	fixed       INTEGER NOT NULL DEFAULT 0,
	status      INTEGER NOT NULL DEFAULT 0,  -- 0 clean, 1 findings, >1 error
	version     INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, check_name)
) STRICT, WITHOUT ROWID;
