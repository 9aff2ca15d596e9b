-- Operations: pipeline runs recorded by cp-run (clientpulse run), read by
-- cp-doctor, cp-metrics and cp-report.  Owned by lib/runs.c.

CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	host        TEXT NOT NULL,
	pid         INTEGER NOT NULL,
	stages      TEXT NOT NULL,               -- "fetch,extract,…"
	status      TEXT NOT NULL DEFAULT 'running'
	            CHECK (status IN ('running', 'ok', 'failed', 'killed')),
	exit_status INTEGER,
	error       TEXT
) STRICT;
CREATE INDEX runs_started ON runs(started_at);

-- One row per stage per run: what went in and out, how long, how it ended.
CREATE TABLE run_stages (
	run_id      INTEGER NOT NULL REFERENCES runs(id),
	stage       TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	duration_ms INTEGER,
	records_in  INTEGER NOT NULL DEFAULT 0,
	records_out INTEGER NOT NULL DEFAULT 0,
	exit_status INTEGER,
	error       TEXT,
	PRIMARY KEY (run_id, stage)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_stages_stage ON run_stages(stage, finished_at);
