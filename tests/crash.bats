#!/usr/bin/env bats
# Crash safety of clientpulse run: a kill -9 at any moment, then another
# run, reaches the state an uninterrupted run reaches — the same cards
# with the same evidence and history, the same stories, every document
# logged and carried, nothing duplicated.
#
# The corpus is examples/ (23 documents from SEC filings, job boards and
# news feeds, 12 cards), offline; the clock is frozen so that times
# compare.  CRASH_TRIALS (default 30) and CRASH_SEED vary the kills.

load helper
load fixtures/ops/ops

NOW=2026-11-25T12:00:00Z

# The comparable state: everything a run decides, nothing about runs.
dump() {
	sqlite3 -batch -noheader "$1" <<'SQL'
SELECT 'card', id, tenant_id, account_id, assignee_id, status, version,
    score, theme, playbook_id, cluster_id, title, source, record,
    first_fetched_at, created_at, updated_at, decided_at
    FROM cards ORDER BY id;
SELECT 'evidence', card_id, signal_id, url, quote, published_at
    FROM card_evidence ORDER BY card_id, signal_id;
SELECT 'version', card_id, version, record FROM card_versions
    ORDER BY card_id, version;
SELECT 'cluster', id, lead_signal_id, size, first_published,
    last_published FROM clusters ORDER BY id;
SELECT 'signal', id, document_id, cluster_id, account_ids, themes
    FROM signals ORDER BY id;
SELECT 'document', doc_id, status, content_hash FROM fetch_log
    ORDER BY doc_id;
SELECT 'source', kind, url, etag, last_modified, cursor_id, cursor_at,
    failures FROM fetch_sources ORDER BY kind, url;
SQL
	if sqlite3 "$1" "SELECT 1 FROM sqlite_master WHERE name = 'push_outbox'" |
	    grep -q 1; then
		sqlite3 -batch -noheader "$1" "SELECT 'outbox', card_id, target,
		    action, idem_key, state, remote_id FROM push_outbox
		    ORDER BY idem_key"
	fi
}

setup_file() {
	export BASE="$BATS_FILE_TMPDIR/base"
	mkdir -p "$BASE/config"
	ops_config "$BASE/config"
	(
		export XDG_CONFIG_HOME="$BASE/config" HOME="$BASE"
		export CLIENTPULSE_NOW=$NOW
		export CLIENTPULSE_DB="$BASE/state.db"
		ops_state
		cp "$BASE/state.db" "$BASE/ref.db"
		export CLIENTPULSE_DB="$BASE/ref.db"
		t0=$(date +%s%N)
		clientpulse run
		echo $((($(date +%s%N) - t0) / 1000000)) >"$BASE/run_ms"
		clientpulse run
		# pushes: four cards approved, their actions queued for the
		# file target; the reference pushes them uninterrupted
		cp "$BASE/ref.db" "$BASE/push.db"
		export CLIENTPULSE_DB="$BASE/push.db" CLIENTPULSE_PUSH_TARGETS=file
		cp-inbox approve -q $(sqlite3 "$BASE/push.db" "SELECT id FROM cards
		    ORDER BY id LIMIT 4")
		cp "$BASE/push.db" "$BASE/push-ref.db"
		export CLIENTPULSE_DB="$BASE/push-ref.db"
		t0=$(date +%s%N)
		CLIENTPULSE_FILE_PATH="$BASE/push-ref.ndjson" clientpulse run --stages push
		echo $((($(date +%s%N) - t0) / 1000000)) >"$BASE/push_ms"
	)
	dump "$BASE/ref.db" >"$BASE/ref.txt"
	dump "$BASE/push-ref.db" >"$BASE/push-ref.txt"
}

setup() {
	cp_setup
	export XDG_CONFIG_HOME="$BASE/config" CLIENTPULSE_NOW=$NOW
}

# start a run, kill -9 it after $1 microseconds
kill_run_after() {
	killable clientpulse run 2>/dev/null 3>&- &
	local pid=$!
	sleep "$(printf '0.%06d' "$1")"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "the reference: an uninterrupted run makes the example cards" {
	grep -c '^card|' "$BASE/ref.txt"
	[ "$(grep -c '^card|' "$BASE/ref.txt")" -eq 12 ]
	[ "$(grep -c '^document|' "$BASE/ref.txt")" -eq 23 ]
	[ "$(grep -c '^signal|' "$BASE/ref.txt")" -eq 23 ]
	run grep -c '^document|[^|]*|pending' "$BASE/ref.txt"
	assert_output 0
}

@test "30 runs killed at random moments, each then run again, equal the reference" {
	local trials=${CRASH_TRIALS:-30} seed=${CRASH_SEED:-$$} i span
	local before mid after twice=0 bad=0
	span=$(( $(cat "$BASE/run_ms") * 1300 ))      # microseconds
	[ "$span" -lt 999999 ] || span=999999
	RANDOM=$seed
	before=0 mid=0 after=0
	for i in $(seq "$trials"); do
		cp "$BASE/state.db" "$CLIENTPULSE_DB"
		rm -f "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
		kill_run_after $(( (RANDOM * 32768 + RANDOM) % span ))
		# where the kill landed
		local docs cards
		docs=$(sql "SELECT count(*) FROM fetch_log")
		cards=$(sql "SELECT count(*) FROM cards")
		if [ "$docs" -eq 0 ]; then before=$((before + 1))
		elif [ "$cards" -lt 12 ]; then mid=$((mid + 1))
		else after=$((after + 1)); fi
		# every third trial: the recovering run is killed as well
		if [ $((i % 3)) -eq 0 ]; then
			kill_run_after $(( (RANDOM * 32768 + RANDOM) % span ))
			twice=$((twice + 1))
		fi
		run clientpulse run
		if [ "$status" -ne 0 ]; then
			echo "trial $i (seed $seed): the clean run failed ($status): $output"
			return 1
		fi
		dump "$CLIENTPULSE_DB" >"$T/got.txt"
		if ! diff "$BASE/ref.txt" "$T/got.txt" >"$T/diff.txt"; then
			echo "trial $i (seed $seed) differs from the reference:"
			cut -c1-300 "$T/diff.txt" | head -12
			bad=$((bad + 1))
		fi
		# the killed runs were marked and recovered
		[ "$(sql "SELECT count(*) FROM runs WHERE status = 'running'")" = 0 ]
		[ "$(sql "SELECT count(*) FROM runs WHERE status = 'killed'
		    AND recovered = 0")" = 0 ]
	done
	measure "$trials kills (seed $seed): $before before any document, $mid mid-pipeline, $after after the last card, $twice killed again while recovering; $((trials - bad)) equal the reference"
	[ "$bad" -eq 0 ]
}

# keys FILE: the idempotency keys of the complete push records in FILE
keys() {
	python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        print(json.loads(line)["key"])
    except ValueError:
        pass' "$1" | sort
}

@test "15 push runs killed at random moments, then run again: every action once" {
	local trials=${CRASH_PUSH_TRIALS:-15} seed=${CRASH_SEED:-$$} i span bad=0
	local partial=0
	span=$(( $(cat "$BASE/push_ms") * 1300 ))
	[ "$span" -lt 999999 ] || span=999999
	RANDOM=$seed
	export CLIENTPULSE_PUSH_TARGETS=file CLIENTPULSE_FILE_PATH="$T/push.ndjson"
	keys "$BASE/push-ref.ndjson" >"$T/ref-keys"
	# every queued action pushed once by the reference (how many depends
	# on which four cards sort first, and card ids hash the documents'
	# file:// URLs, so the checkout's path: 8 or 9)
	local queued
	queued=$(sqlite3 "$BASE/push.db" "SELECT count(*) FROM push_outbox")
	[ "$queued" -ge 4 ]
	[ "$(wc -l <"$T/ref-keys")" -eq "$queued" ]
	for i in $(seq "$trials"); do
		cp "$BASE/push.db" "$CLIENTPULSE_DB"
		rm -f "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm" "$T/push.ndjson"
		killable clientpulse run --stages push 2>/dev/null 3>&- &
		local pid=$!
		sleep "$(printf '0.%06d' $(( (RANDOM * 32768 + RANDOM) % span )))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		[ "$(sql "SELECT count(*) FROM push_outbox WHERE state = 'done'")" -lt "$queued" ] &&
		    partial=$((partial + 1))
		run clientpulse run --stages push
		if [ "$status" -ne 0 ]; then
			echo "push trial $i (seed $seed): the clean run failed: $output"
			return 1
		fi
		dump "$CLIENTPULSE_DB" >"$T/got.txt"
		keys "$T/push.ndjson" >"$T/got-keys"
		if ! diff "$BASE/push-ref.txt" "$T/got.txt" >"$T/diff.txt" ||
		    ! diff "$T/ref-keys" "$T/got-keys" >>"$T/diff.txt"; then
			echo "push trial $i (seed $seed) differs from the reference:"
			cut -c1-300 "$T/diff.txt" | head -12
			bad=$((bad + 1))
		fi
	done
	measure "$trials push kills (seed $seed): $partial left actions unpushed; $((trials - bad)) pushed every action exactly once"
	[ "$bad" -eq 0 ]
}

@test "a run killed after cp-dedupe stored signals still makes every card" {
	cp "$BASE/state.db" "$CLIENTPULSE_DB"
	# deterministic: the pipeline up to cp-dedupe, then a run marked as
	# killed, as a kill between cp-dedupe's commit and cp-card leaves it
	clientpulse run --stages fetch,extract,dedupe
	sql "UPDATE runs SET status = 'running'"
	run clientpulse run
	assert_equal "$status" 0
	dump "$CLIENTPULSE_DB" >"$T/got.txt"
	run diff "$BASE/ref.txt" "$T/got.txt"
	assert_success
}
