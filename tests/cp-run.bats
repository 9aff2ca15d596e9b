#!/usr/bin/env bats
# cp-run (clientpulse run): the pipeline under a lock, every stage
# recorded, quiet when it works, the failing stage named when not.

load helper
load fixtures/ops/ops
load servers/fetch-helper

setup() {
	cp_setup
	ops_config
	ops_base_state
}

@test "a run is quiet, records every stage and makes the cards" {
	run clientpulse run
	assert_equal "$status" 0
	assert_output ""
	assert_equal "$(sql "SELECT kind, status, exit_status, error IS NULL,
	    stages FROM runs")" "pipeline|ok|0|1|fetch,extract,dedupe,score,card"
	run sql "SELECT stage, phase, records_in, records_out, exit_status
	    FROM run_stages ORDER BY seq"
	assert_output - <<'EOF'
fetch|run|0|23|0
extract|run|23|23|0
dedupe|run|23|23|0
score|run|23|12|0
card|run|12|12|0
EOF
	assert_equal "$(sql "SELECT count(*) FROM cards")" 12
	# every stage got the state file and the tenant, and wrote at once
	assert_equal "$(sql "SELECT count(*) FROM run_stages WHERE
	    duration_ms >= 0 AND finished_at >= started_at AND tenant_id = 1")" 5
	measure "5 stages, 23 documents, 12 cards in $(sql "SELECT duration_ms
	    FROM runs") ms"
}

@test "a second run finds nothing new and changes nothing" {
	clientpulse run
	before=$(sql "SELECT id, version FROM cards ORDER BY id")
	run clientpulse run
	assert_equal "$status" 0
	assert_output ""
	assert_equal "$(sql "SELECT id, version FROM cards ORDER BY id")" "$before"
	assert_equal "$(sql "SELECT records_out FROM run_stages WHERE run_id = 2
	    AND stage = 'fetch'")" 0
}

@test "-v reports each stage's counts on stderr" {
	run clientpulse run -v
	assert_equal "$status" 0
	assert_line --regexp '^cp-run: info: fetch +in +0 +out +23 .* exit 0$'
	assert_line --regexp '^cp-run: info: card +in +12 +out +12 .* exit 0$'
}

@test "a failing stage is named with its own words and fails the run" {
	CLIENTPULSE_CARD_NARRATIVE=bogus run clientpulse run
	assert_equal "$status" 78
	assert_line "cp-run: stage card failed (exit 78):"
	assert_line "cp-card: card.narrative: expected template or llm, not 'bogus'"
	refute_line --partial "stage fetch"
	assert_equal "$(sql "SELECT status, exit_status, error FROM runs")" \
	    "failed|78|card exit 78"
	assert_equal "$(sql "SELECT error FROM run_stages WHERE stage = 'card'")" \
	    "cp-card: card.narrative: expected template or llm, not 'bogus'"
}

@test "a stage refusing a --stage-arg is a configuration error (78), its usage shown" {
	run clientpulse run --stage-arg card=--narrative=bogus
	assert_equal "$status" 78
	assert_line "cp-run: stage card failed (exit 64):"
	assert_line "cp-card: --narrative: expected template or llm, not 'bogus'"
	assert_equal "$(sql "SELECT exit_status FROM runs")" 78
}

@test "a stage binary that cannot be run is a missing service (69)" {
	mkdir bin
	for b in "$CP_BIN"/*; do ln -s "$b" bin/; done
	rm bin/cp-score
	PATH="$PWD/bin:/usr/bin:/bin" run "$PWD/bin/cp-run"
	# symlinks resolve to the real directory, where cp-score exists
	assert_equal "$status" 0
	cp "$CP_BIN/cp-run" bin/cp-run.real && rm bin/cp-run &&
	    mv bin/cp-run.real bin/cp-run
	PATH="$PWD/bin:/usr/bin:/bin" run "$PWD/bin/cp-run"
	assert_equal "$status" 69
	assert_line --partial "stage score failed (exit 127)"
	assert_line --partial "cp-score: No such file or directory"
}

@test "--stages runs a part of the pipeline; bad lists are usage errors" {
	run clientpulse run --stages fetch,extract --print
	assert_equal "$status" 0
	assert_equal "$(echo "$output" | grep -c '"type":"signal"')" 23
	assert_equal "$(sql "SELECT count(*) FROM cards")" 0
	run clientpulse run --stages extract,fetch
	assert_equal "$status" 64
	assert_line --partial "out of order or repeated"
	run clientpulse run --stages fetch,frobnicate
	assert_equal "$status" 64
	assert_line --partial "unknown stage 'frobnicate'"
	run clientpulse run --stage-arg nothing
	assert_equal "$status" 64
	assert_line --partial "expected STAGE=ARG"
	run clientpulse run --stage-arg bogus=--x
	assert_equal "$status" 64
	run clientpulse run --log nowhere
	assert_equal "$status" 64
	run clientpulse run extra
	assert_equal "$status" 64
	assert_equal "$(sql "SELECT count(*) FROM runs")" 1
}

@test "--print writes the cards the run made" {
	run clientpulse run --print
	assert_equal "$status" 0
	assert_equal "$(echo "$output" | grep -c '"type":"card"')" 12
}

@test "--log syslog keeps the failure on stderr too" {
	CLIENTPULSE_CARD_NARRATIVE=bogus run clientpulse run --log syslog
	assert_equal "$status" 78
	assert_line "cp-run: stage card failed (exit 78):"
}

@test "someone who is not a user of the state file is refused before anything runs" {
	run clientpulse run --as nobody-here
	assert_equal "$status" 77
	assert_output --partial "unknown user 'nobody-here'"
	assert_equal "$(sql "SELECT count(*) FROM runs")" 0
}

# A news feed that answers after a delay keeps a run busy in cp-fetch.
slow_feed() {
	start_server
	cp "$EXAMPLES/feeds/wire.xml" "$SRV/slow.xml"
	behave "{\"/slow.xml\": {\"delay\": $1}}"
	cat >>"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
feed = $BASE/slow.xml
CONF
}

wait_for_run() {
	local i
	for i in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM runs WHERE status = 'running'")" = 1 ] &&
		    return 0
		sleep 0.05
	done
	return 1
}

@test "the lock: a second run waits for the first, or skips with --no-wait" {
	slow_feed 1.5
	clientpulse run 2>"$T/first.err" 3>&- &
	first=$!
	wait_for_run
	t0=$(date +%s.%N)
	run clientpulse run --no-wait -v
	assert_equal "$status" 0
	assert_output --partial "another pipeline run holds its lock; skipping"
	assert_equal "$(sql "SELECT count(*) FROM runs")" 1
	run clientpulse run
	assert_equal "$status" 0
	waited=$(echo "$(date +%s.%N) - $t0" | bc)
	wait "$first"
	assert_equal "$(sql "SELECT count(*) FROM runs WHERE status = 'ok'")" 2
	# the second started only when the first had finished: never interleaved
	assert_equal "$(sql "SELECT (SELECT started_at FROM runs WHERE id = 2) >=
	    (SELECT finished_at FROM runs WHERE id = 1)")" 1
	[ "$(echo "$waited > 0.8" | bc)" = 1 ]
	measure "the second run waited ${waited%???????} s for the lock"
}

@test "a push-only run has its own lock and does not wait behind the pipeline" {
	slow_feed 2
	clientpulse run 3>&- &
	first=$!
	wait_for_run
	ls "$CLIENTPULSE_DB.lock"
	run clientpulse run --stages push --no-wait
	# cp-push may not be installed yet: either way it did not skip
	refute_output --partial "skipping"
	assert_equal "$(sql "SELECT kind FROM runs WHERE id = 2")" push
	[ "$(sql "SELECT status FROM runs WHERE id = 1")" = running ]
	wait "$first"
}

@test "kill -9: the stages die with the run, the next run marks it killed and recovers" {
	slow_feed 3
	killable clientpulse run 3>&- &
	pid=$!
	wait_for_run
	sleep 0.3
	kill -9 "$pid"
	wait "$pid" || true
	# no stage outlives its run (PR_SET_PDEATHSIG), so nothing holds the lock
	sleep 0.2
	run pgrep -f -- "--db $CLIENTPULSE_DB"
	assert_equal "$status" 1
	behave '{}'
	run clientpulse run -v
	assert_equal "$status" 0
	assert_output --partial "recovering 1 killed run(s)"
	assert_equal "$(sql "SELECT id, status, recovered FROM runs ORDER BY id")" \
	    "$(printf '1|killed|1\n2|ok|0')"
	assert_equal "$(sql "SELECT count(*) FROM cards")" 12
}

@test "a killed run is recovered only by a run that can carry documents to cards" {
	sql "INSERT INTO runs(tenant_id, started_at, host, pid, stages)
	    VALUES (1, '2026-01-01T00:00:00Z', 'h', 1, 'fetch,extract,dedupe,score,card')"
	run clientpulse run --stages fetch,extract -v
	assert_equal "$status" 0
	assert_output --partial "this run lacks cp-dedupe"
	assert_equal "$(sql "SELECT status, recovered FROM runs WHERE id = 1")" "killed|0"
	run clientpulse run
	assert_equal "$status" 0
	assert_equal "$(sql "SELECT status, recovered FROM runs WHERE id = 1")" "killed|1"
	assert_equal "$(sql "SELECT replayed FROM runs WHERE id = 3")" 23
	assert_equal "$(sql "SELECT count(*) FROM cards")" 12
}

@test "documents a killed run left between cp-dedupe and cp-card still become cards" {
	# what a kill between the stages leaves: signals stored, no cards
	clientpulse run --stages fetch,extract,dedupe
	assert_equal "$(sql "SELECT count(*) FROM signals")" 23
	sql "UPDATE runs SET status = 'running'"
	run clientpulse run -v
	assert_equal "$status" 0
	assert_output --partial "recovery: 0 fresh, 23 leads, 0 folded"
	assert_equal "$(sql "SELECT count(*) FROM cards")" 12
	assert_equal "$(sql "SELECT phase || ':' || stage FROM run_stages
	    WHERE run_id = 2 ORDER BY seq" | tr '\n' ' ')" \
	    "recover:extract recover:score recover:card run:fetch run:extract run:dedupe run:score run:card "
}

@test "the stages get --tenant: a state file with two tenants runs one per cp-run" {
	cp-init --tenant globex -q --as gary 2>/dev/null
	run clientpulse run --tenant acme
	assert_equal "$status" 0
	assert_equal "$(sql "SELECT count(*) FROM cards WHERE tenant_id = 1")" 12
	assert_equal "$(sql "SELECT tenant_id FROM runs")" 1
}
