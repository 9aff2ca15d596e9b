#!/usr/bin/env bats
# cp-doctor: one line per check, --json, exit 0 healthy, 1 degraded,
# 2 broken; secrets checked for presence and never shown.

load helper
load fixtures/ops/ops
load servers/fetch-helper

T0=2026-11-25T12:00:00Z
T10=2026-11-25T12:10:00Z

setup() {
	cp_setup
	ops_config
	ops_ran_state
}

healthy() {
	at $T0 cp-reconcile -q --quiet-after 3650d --check stuck_documents \
	    --check review_sla --check audit_chain >/dev/null
}

# status CHECK: the status of one check in the last run's output
status_of() {
	echo "$output" | awk -v c="$1" '{ s = $1; $1 = ""; sub(/^ +/, "");
	    if (index($0, c " ") == 1) { print s; exit } }'
}

@test "a healthy installation: every check ok, exit 0" {
	healthy
	run at $T10 cp-doctor
	assert_equal "$status" 0
	refute_output --regexp '^(degraded|broken)'
	assert_line --regexp "^ok +state +$CLIENTPULSE_DB: integrity ok, schema [0-9]+$"
	assert_line --regexp '^ok +stage card +last success 10m ago$'
	assert_line --regexp '^ok +reconcile +last ran 10m ago: clean$'
	assert_line --regexp '^ok +audit +chain of [0-9]+ entries verifies$'
	assert_line --regexp '^ok +push +no CRM target configured'
	assert_line --regexp '^ok +disk '
}

@test "--json: one object per check" {
	healthy
	run at $T10 cp-doctor --json
	assert_equal "$status" 0
	echo "$output" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert all(set(r) == {"check", "status", "detail"} for r in rows), rows
assert all(r["status"] == "ok" for r in rows), rows
assert {"state", "config", "audit", "disk", "stage fetch"} <= {r["check"] for r in rows}'
}

@test "a stage that has not succeeded for two intervals is overdue (degraded)" {
	healthy
	run at 2026-11-25T12:45:00Z cp-doctor
	assert_equal "$status" 1
	assert_line --regexp '^degraded +stage fetch +last success 45m ago, overdue \(interval 900s\)$'
	echo "[run]" >>"$XDG_CONFIG_HOME/clientpulse/config"
	echo "interval = 1h" >>"$XDG_CONFIG_HOME/clientpulse/config"
	run at 2026-11-25T12:45:00Z cp-doctor
	assert_equal "$status" 0
}

@test "never ran, failed runs and killed runs are degraded" {
	cp "$BATS_FILE_TMPDIR/base.db" "$CLIENTPULSE_DB"
	run cp-doctor
	assert_equal "$status" 1
	assert_line --regexp '^degraded +runs +the pipeline has never run'
	CLIENTPULSE_CARD_NARRATIVE=bogus at $T0 clientpulse run 2>/dev/null || true
	run at $T0 cp-doctor
	assert_equal "$status" 1
	assert_line --regexp '^degraded +last run +the last run \(2026-11-25T12:00:00Z\) failed: card exit 78$'
	assert_line --regexp '^degraded +stage card +ran but never succeeded$'
	sql "INSERT INTO runs(tenant_id, started_at, host, pid, stages, status)
	    VALUES (1, '$T0', 'h', 1, 'fetch,extract,dedupe,score,card', 'killed')"
	run at $T0 cp-doctor
	assert_line --regexp '^degraded +recovery +1 killed run\(s\) not recovered yet'
}

@test "reconcile: never ran, findings left, clean" {
	run at $T10 cp-doctor
	assert_equal "$status" 1
	assert_line --regexp '^degraded +reconcile +never ran'
	at 2026-11-28T12:00:00Z cp-reconcile -q --check review_sla >/dev/null || true
	run at 2026-11-28T12:10:00Z cp-doctor
	assert_line --regexp '^degraded +reconcile +last ran 10m ago: 12 finding\(s\) left'
	run at 2026-12-05T12:00:00Z cp-doctor
	assert_line --regexp '^degraded +reconcile +last ran 7d ago \(daily expected\)$'
}

@test "a missing or damaged state file is broken (exit 2)" {
	run cp-doctor --db "$T/nothing.db"
	assert_equal "$status" 2
	assert_line --regexp "^broken +state +$T/nothing.db: no state file"
	head -c 8192 "$CLIENTPULSE_DB" >"$T/cut.db"
	printf 'garbage%.0s' $(seq 200) >>"$T/cut.db"
	run cp-doctor --db "$T/cut.db"
	assert_equal "$status" 2
	assert_line --regexp '^broken +state '
	sql "PRAGMA user_version = 99"
	run cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +state '
}

@test "a broken audit chain is broken" {
	healthy
	sql "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'x' WHERE seq = 2"
	run at $T10 cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +audit +chain broken at entry 2: '
}

@test "SEC: accounts with CIKs need a user agent that names a contact" {
	healthy
	sed -i 's/^user_agent = .*/user_agent = "ClientPulse"/' \
	    "$XDG_CONFIG_HOME/clientpulse/config"
	run at $T10 cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +sec +accounts have CIKs but http.user_agent names no contact'
}

@test "CRM credentials: present for each push target, never shown" {
	healthy
	token=pat-na1-DOCTOR-SECRET-TOKEN-0001
	run env CLIENTPULSE_PUSH_TARGETS=hubspot,webhook,salesforce,file \
	    CLIENTPULSE_FILE_PATH="$T/push.ndjson" cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +push hubspot +hubspot.token is missing from the credentials file$'
	assert_line --regexp '^broken +push webhook +webhook.url is not set$'
	assert_line --regexp '^broken +push salesforce +salesforce.access_token is missing'
	assert_line --regexp "^ok +push file +push records appended to $T/push.ndjson$"
	cat >"$XDG_CONFIG_HOME/clientpulse/credentials" <<CRED
[hubspot]
token = $token
[salesforce]
access_token = $token-sf
instance_url = https://acme.my.salesforce.com
[webhook]
secret = $token-wh
CRED
	chmod 600 "$XDG_CONFIG_HOME/clientpulse/credentials"
	run env CLIENTPULSE_PUSH_TARGETS=hubspot,webhook,salesforce \
	    CLIENTPULSE_WEBHOOK_URL=https://hooks.example.test/cp CLIENTPULSE_NOW=$T10 cp-doctor
	assert_equal "$status" 0
	assert_line --regexp '^ok +push hubspot +hubspot.token present; https://api.hubapi.com$'
	assert_line --regexp '^ok +push salesforce +salesforce.access_token present; instance URL in the credentials file$'
	assert_line --regexp '^ok +push webhook +webhook.secret present; https://hooks.example.test/cp$'
	refute_output --partial "$token"
	# a credentials file others can read is refused
	chmod 644 "$XDG_CONFIG_HOME/clientpulse/credentials"
	run env CLIENTPULSE_PUSH_TARGETS=hubspot cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +credentials +credentials file is unsafe'
	refute_output --partial "$token"
}

@test "LLM: llm narratives need an endpoint and a model; the key is optional" {
	healthy
	run env CLIENTPULSE_CARD_NARRATIVE=llm CLIENTPULSE_NOW=$T10 cp-doctor
	assert_equal "$status" 2
	assert_line --regexp '^broken +llm +llm.url and llm.model must both be set \(card.narrative = llm\)$'
	run env CLIENTPULSE_CARD_NARRATIVE=llm CLIENTPULSE_LLM_URL=http://127.0.0.1:9/v1 \
	    CLIENTPULSE_LLM_MODEL=small CLIENTPULSE_NOW=$T10 cp-doctor
	assert_equal "$status" 0
	assert_line --regexp '^ok +llm +http://127.0.0.1:9/v1, model small, llm.api_key absent$'
}

@test "--online: configured endpoints reachable or not" {
	healthy
	start_server
	echo ok >"$SRV/index.html"
	run env CLIENTPULSE_LLM_URL="$BASE/" CLIENTPULSE_LLM_MODEL=m CLIENTPULSE_NOW=$T10 cp-doctor --online
	assert_equal "$status" 0
	assert_line --regexp "^ok +online llm +$BASE/ reachable \(HTTP [0-9]+\)$"
	grep -q '^HEAD / ' "$SRV/requests.log"
	run env CLIENTPULSE_LLM_URL=http://127.0.0.1:9/ CLIENTPULSE_LLM_MODEL=m \
	    CLIENTPULSE_NOW=$T10 cp-doctor --online
	assert_equal "$status" 1
	assert_line --regexp '^degraded +online llm +http://127.0.0.1:9/ unreachable: '
}

@test "usage errors and write errors" {
	run cp-doctor extra
	assert_equal "$status" 64
	run cp-doctor --nope
	assert_equal "$status" 64
	run sh -c 'cp-doctor >/dev/full'
	assert_equal "$status" 74
}
