#!/usr/bin/env bats
# cp-reconcile: each check on a state file that has its problem and on
# one that does not; --fix repairs what is safe and audits it.

load helper
load fixtures/ops/ops
load fixtures/push/push

T0=2026-11-25T12:00:00Z
H2=2026-11-25T14:00:00Z        # two hours after the run
H49=2026-11-27T13:00:00Z       # 49 hours after

setup() {
	cp_setup
	ops_config
	ops_ran_state
}

# findings of one check, as "severity entity fixed" lines
findings() {
	grep '"type":"finding"' | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    print(f["severity"], f["entity"], str(f["fixed"]).lower())'
}

@test "a clean state: every check clean or skipped, nothing on stdout, exit 0" {
	at $H2 cp-reconcile --quiet-after 3650d --check stuck_documents \
	    --check stuck_pushes --check review_sla --check permission_drift \
	    --check audit_chain --check cursor_health >"$T/out" 2>"$T/err"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/out")" ""
	run cat "$T/err"
	assert_line "cp-reconcile: stuck_documents: clean"
	assert_line "cp-reconcile: stuck_pushes: clean"
	assert_line "cp-reconcile: review_sla: clean"
	assert_line "cp-reconcile: permission_drift: clean"
	assert_line "cp-reconcile: audit_chain: clean"
	assert_line "cp-reconcile: cursor_health: clean"
	assert_equal "${#lines[@]}" 6
	# -q: clean checks say nothing (cron mails only when there is news)
	run at $H2 cp-reconcile -q --quiet-after 3650d --check review_sla
	assert_equal "$status" 0
	assert_output ""
	# the last result of each check is kept for metrics and doctor
	assert_equal "$(sql "SELECT check_name, found, status FROM reconcile_checks
	    WHERE check_name = 'review_sla'")" "review_sla|0|0"
}

@test "--list names every check; --check picks some; bad options are usage errors" {
	run cp-reconcile --list
	assert_equal "$status" 0
	for c in stuck_documents stuck_pushes crm_drift review_sla \
	    permission_drift index_drift audit_chain cursor_health; do
		assert_line --regexp "^$c "
	done
	run cp-reconcile --check nonsense
	assert_equal "$status" 64
	assert_output --partial "unknown check 'nonsense'"
	run cp-reconcile --stuck-after soon
	assert_equal "$status" 64
	run cp-reconcile --cursor-runs 0
	assert_equal "$status" 64
	run cp-reconcile extra
	assert_equal "$status" 64
}

@test "only an admin reconciles" {
	run cp-reconcile --as alice
	assert_equal "$status" 77
	assert_output "cp-reconcile: permission denied: role am may not reconcile the tenant (admin only)"
	run cp-reconcile --as mona
	assert_equal "$status" 77
}

# --- documents stuck -------------------------------------------------------

fetched_only() {
	cp "$BATS_FILE_TMPDIR/base.db" "$CLIENTPULSE_DB"
	at $T0 clientpulse run --stages fetch
}

@test "stuck documents: fetched, never carried, found after an hour" {
	fetched_only
	run at 2026-11-25T12:30:00Z cp-reconcile --check stuck_documents
	assert_equal "$status" 0
	assert_output --partial "stuck_documents: clean"
	run at $H2 cp-reconcile --check stuck_documents
	assert_equal "$status" 1
	assert_line "cp-reconcile: stuck_documents: 23 found, 0 fixed"
	assert_equal "$(echo "$output" | findings | sort -u | awk '{print $1, $3}' |
	    uniq -c | tr -s ' ')" " 23 warning false"
	assert_output --partial '"detail":"fetched 2h 0m ago (emitted) and never carried to a signal"'
	# a fully carried state has none
	ops_ran_state
	run at $H2 cp-reconcile --check stuck_documents
	assert_equal "$status" 0
}

@test "stuck documents: --fix replays them through the pipeline and audits each" {
	fetched_only
	run at $H2 cp-reconcile --fix --check stuck_documents
	assert_equal "$status" 0
	assert_line "cp-reconcile: stuck_documents: 23 found, 23 fixed"
	assert_output --partial "replayed through the pipeline"
	assert_equal "$(sql "SELECT count(*) FROM signals")" 23
	assert_equal "$(sql "SELECT count(*) FROM cards")" 12
	assert_equal "$(sql "SELECT count(*) FROM audit WHERE action =
	    'document.replay' AND entity_type = 'document'")" 23
	run at $H2 cp-reconcile --check stuck_documents
	assert_equal "$status" 0
	run cp-audit --verify
	assert_equal "$status" 0
}

@test "stuck documents: one no stage accepts stays a finding, the rest are carried" {
	fetched_only
	doc=$(sql "SELECT doc_id FROM fetch_log ORDER BY doc_id LIMIT 1")
	sql "UPDATE fetch_records SET record = '{\"type\":\"document\",\"v\":1}'
	    WHERE doc_id = '$doc'"
	run at $H2 cp-reconcile --fix --check stuck_documents
	assert_equal "$status" 1
	assert_line "cp-reconcile: stuck_documents: 23 found, 22 fixed"
	echo "$output" | grep "\"entity\":\"$doc\"" | grep -q '"fixed":false'
	echo "$output" | grep "\"entity\":\"$doc\"" |
	    grep -q 'replayed, still no signal: cp-extract exit 65'
}

# --- review SLA ------------------------------------------------------------

@test "review SLA: cards pending past the SLA name the AM and their manager" {
	run at 2026-11-27T11:00:00Z cp-reconcile --check review_sla
	assert_equal "$status" 0
	run at $H49 cp-reconcile --check review_sla
	assert_equal "$status" 1
	assert_line "cp-reconcile: review_sla: 12 found, 0 fixed"
	assert_output --partial '"detail":"pending review for 2d 1h, over the 48h SLA: escalate to mona, manager of alice"'
	assert_output --partial '"detail":"pending review for 2d 1h, over the 48h SLA: escalate to mona, manager of bob"'
	assert_output --partial '"manager":"mona","manager_email":"mona@example.test"'
	# a decided card is no longer waiting; a longer SLA clears the rest
	card=$(sql "SELECT id FROM cards ORDER BY id LIMIT 1")
	cp-inbox approve "$card" --as alice
	run at $H49 cp-reconcile --check review_sla
	assert_line "cp-reconcile: review_sla: 11 found, 0 fixed"
	cp-inbox sla 72
	run at $H49 cp-reconcile --check review_sla
	assert_equal "$status" 0
}

@test "review SLA: --notify pipes each escalation to the command" {
	run at $H49 cp-reconcile --check review_sla --notify \
	    'cat >>"$HOME/notified.ndjson"; echo "$CLIENTPULSE_MANAGER $CLIENTPULSE_AM $CLIENTPULSE_ENTITY" >>"$HOME/who"'
	assert_equal "$status" 1
	assert_line "cp-reconcile: review_sla: 12 found, 0 fixed, notified"
	assert_equal "$(wc -l <"$HOME/notified.ndjson")" 12
	cp-validate --type finding "$HOME/notified.ndjson" >/dev/null
	assert_equal "$(awk '{print $1}' "$HOME/who" | sort -u)" mona
	assert_equal "$(grep -c ' alice card_' "$HOME/who")" 11
	run at $H49 cp-reconcile --check review_sla --notify 'exit 3'
	assert_equal "$status" 75
	assert_line --partial "--notify: the command exited 3 for card_"
	assert_line "cp-reconcile: review_sla: 12 found, 0 fixed, notify failed"
}

# --- permission drift ------------------------------------------------------

@test "permission drift: none while every assignee may hold their cards" {
	run at $H2 cp-reconcile --check permission_drift
	assert_equal "$status" 0
}

@test "permission drift: an AM who lost the account; --fix gives the card to the owner" {
	cp-account assign northwind --owner bob
	n=$(sql "SELECT count(*) FROM cards WHERE account_id = 'northwind'")
	run at $H2 cp-reconcile --check permission_drift
	assert_equal "$status" 1
	assert_line "cp-reconcile: permission_drift: $n found, 0 fixed"
	assert_output --partial "who lost access to the account"
	run at $H2 cp-reconcile --fix --check permission_drift
	assert_equal "$status" 0
	assert_line "cp-reconcile: permission_drift: $n found, $n fixed"
	assert_output --partial "reassigned to the account owner bob"
	assert_equal "$(sql "SELECT DISTINCT u.login || ' ' || c.version
	    FROM cards c JOIN users u ON u.id = c.assignee_id
	    WHERE c.account_id = 'northwind'")" "bob 2"
	assert_equal "$(sql "SELECT DISTINCT json_extract(record, '$.assignee')
	    FROM cards WHERE account_id = 'northwind'")" bob
	assert_equal "$(sql "SELECT count(*) FROM card_versions v JOIN cards c
	    ON c.id = v.card_id WHERE c.account_id = 'northwind' AND v.version = 2")" "$n"
	assert_equal "$(sql "SELECT count(*) FROM audit WHERE action = 'card.reassign'")" "$n"
	run cp-inbox --as bob --json
	assert_equal "$(echo "$output" | grep -c '"account_id":"northwind"')" "$n"
	run at $H2 cp-reconcile --check permission_drift
	assert_equal "$status" 0
}

@test "permission drift: a deactivated AM who still owns the account cannot be fixed alone" {
	cp-user deactivate bob
	n=$(sql "SELECT count(*) FROM cards c JOIN users u ON u.id = c.assignee_id
	    WHERE u.login = 'bob'")
	[ "$n" -gt 0 ]
	run at $H2 cp-reconcile --fix --check permission_drift
	assert_equal "$status" 1
	assert_line "cp-reconcile: permission_drift: $n found, 0 fixed"
	assert_output --partial "assigned to bob, who was deactivated; the account has no owner who may take it"
	assert_equal "$(sql "SELECT count(*) FROM audit WHERE action = 'card.reassign'")" 0
}

# --- index drift -----------------------------------------------------------

@test "index drift: asset index rows missing, orphaned or stale; --fix rebuilds" {
	run at $H2 cp-reconcile --check index_drift
	refute_output --partial '"entity":"assets_fts"'
	sql "DELETE FROM assets_fts WHERE rowid = (SELECT min(seq) FROM assets)"
	sql "INSERT INTO assets_fts(rowid, title) VALUES (999999, 'ghost')"
	run at $H2 cp-reconcile --check index_drift
	assert_equal "$status" 1
	assert_output --partial '"entity":"assets_fts","detail":"full-text index out of step: 1 rows missing, 1 orphans, 0 stale"'
	run at $H2 cp-reconcile --fix --check index_drift
	assert_output --partial '1 orphans, 0 stale; rebuilt","fixed":true'
	run at $H2 cp-reconcile --check index_drift
	refute_output --partial '"entity":"assets_fts"'
	assert_equal "$(sql "SELECT count(*) FROM assets_fts WHERE assets_fts MATCH 'ghost'")" 0
	assert_equal "$(sql "SELECT count(*) FROM audit WHERE action = 'index.rebuild' AND entity_id = 'assets_fts'")" 1
}

@test "index drift: the search indexes, which catch up, drift only below their marks" {
	# nothing indexed yet: every row is waiting above the marks, not missing
	run at $H2 cp-reconcile --check index_drift
	assert_equal "$status" 0
	cp-search --index >/dev/null 2>&1
	run at $H2 cp-reconcile --check index_drift
	assert_equal "$status" 0
	sql "INSERT INTO signals_fts(signals_fts, rowid, title, text)
	    SELECT 'delete', seq, title, text FROM signals ORDER BY seq LIMIT 2"
	sql "DELETE FROM cards_fts WHERE rowid = (SELECT min(rowid) FROM cards)"
	run at $H2 cp-reconcile --check index_drift
	assert_equal "$status" 1
	assert_output --partial '"entity":"signals_fts","detail":"full-text index out of step: 2 rows missing, 0 orphans, 0 stale (below its catch-up mark)"'
	assert_output --partial '"entity":"cards_fts","detail":"full-text index out of step: 1 rows missing'
	run at $H2 cp-reconcile --check index_drift --fix
	assert_equal "$status" 0
	assert_output --partial 'rebuilt (cp-search --reindex)","fixed":true'
	run at $H2 cp-reconcile --check index_drift
	assert_equal "$status" 0
	run cp-search --type signal Woodgrove
	assert_equal "$status" 0
	assert_output --partial "Woodgrove"
}

# --- audit chain -----------------------------------------------------------

@test "audit chain: intact, then an edited entry is an error finding" {
	run at $H2 cp-reconcile --check audit_chain
	assert_equal "$status" 0
	sql "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3"
	run at $H2 cp-reconcile --check audit_chain --fix
	assert_equal "$status" 1
	assert_output --partial '"check":"audit_chain","severity":"error","entity":"audit:3"'
	assert_line "cp-reconcile: audit_chain: 1 found, 0 fixed"
}

# --- cursor health ---------------------------------------------------------

@test "cursor health: failing sources, sources not fetched for N runs, quiet ones" {
	run at $H2 cp-reconcile --check cursor_health --quiet-after 3650d
	assert_equal "$status" 0
	url=$(sql "SELECT url FROM fetch_sources WHERE kind = 'news' ORDER BY url LIMIT 1")
	sql "UPDATE fetch_sources SET failures = 4, last_status = 503,
	    last_error = 'service unavailable' WHERE url = '$url'"
	run at $H2 cp-reconcile --check cursor_health --quiet-after 3650d
	assert_equal "$status" 1
	assert_output --partial "\"entity\":\"source:news:$url\",\"detail\":\"failed 4 runs in a row (service unavailable, HTTP 503): last success 2h 0m ago\""
	# fewer failures than --cursor-runs is no finding
	run at $H2 cp-reconcile --check cursor_health --quiet-after 3650d --cursor-runs 5
	assert_equal "$status" 0
	# a source left behind while runs go on
	sql "UPDATE fetch_sources SET failures = 0, last_ok_at = '2026-11-20T00:00:00Z'
	    WHERE url = '$url'"
	for i in 1 2 3; do
		sql "INSERT INTO runs(tenant_id, started_at, finished_at, host, pid,
		    stages, status) VALUES (1, '2026-11-25T1$i:00:00Z',
		    '2026-11-25T1$i:01:00Z', 'h', 1, 'fetch,extract', 'ok')"
	done
	run at $H2 cp-reconcile --check cursor_health --quiet-after 3650d
	assert_output --partial "not fetched successfully in the last 4 runs (last success 5d 14h ago)"
	# quiet sources are info: reported, not counted
	run at $T0 cp-reconcile --check cursor_health --cursor-runs 100
	assert_equal "$status" 0
	assert_output --partial '"severity":"info"'
	assert_output --partial "nothing new for"
}

# --- pushes ----------------------------------------------------------------

stuck_push() {
	card=$(sql "SELECT id FROM cards ORDER BY id LIMIT 1")
	sql "INSERT INTO push_outbox(tenant_id, card_id, account_id, target,
	    action, idem_key, payload, state, attempts, created_at, updated_at,
	    sent_at) SELECT tenant_id, id, account_id, 'file', 'note',
	    'cpk_00000000000000000000000000000001', '{}', 'sending', 1,
	    '$T0', '$T0', '$T0' FROM cards WHERE id = '$card'"
}

@test "stuck pushes: a row left sending by a dead cp-push; --fix requeues it uncertain" {
	run at $H2 cp-reconcile --check stuck_pushes
	assert_equal "$status" 0
	stuck_push
	run at 2026-11-25T12:30:00Z cp-reconcile --check stuck_pushes
	assert_equal "$status" 0
	run at $H2 cp-reconcile --check stuck_pushes
	assert_equal "$status" 1
	assert_output --partial "\"entity\":\"cpk_00000000000000000000000000000001\",\"detail\":\"file note of $card left sending 2h 0m ago by an interrupted cp-push\""
	run at $H2 cp-reconcile --check stuck_pushes --fix
	assert_equal "$status" 0
	assert_output --partial "requeued as uncertain"
	assert_equal "$(sql "SELECT state, uncertain FROM push_outbox")" "queued|1"
}

@test "stuck pushes: skipped while cp-push holds its lock" {
	stuck_push
	flock "$CLIENTPULSE_DB.push.lock" sleep 3 3>&- &
	sleep 0.3
	run at $H2 cp-reconcile --check stuck_pushes --fix
	assert_equal "$status" 0
	assert_output --partial "stuck_pushes: skipped (cp-push is running"
	assert_equal "$(sql "SELECT state FROM push_outbox")" sending
	wait
}

# --- pushes, against the fake CRM of the cp-push suites --------------------

crm_state() {
	rm -f "$CLIENTPULSE_DB" "$CLIENTPULSE_DB"-*
	push_state "$1"
}

@test "stuck pushes with a CRM: looked up by key, done when found, requeued when not" {
	crm_state hubspot
	cp-inbox approve -q "$C_NW"
	cp-push >/dev/null
	cp-inbox approve -q "$C_CO"
	# as an interrupted cp-push leaves them: C_NW's note went out, C_CO's
	# rows were claimed and never sent
	db "UPDATE push_outbox SET state = 'sending', sent_at = '2026-11-25T09:00:00Z',
	    remote_id = NULL, done_at = NULL WHERE card_id = '$C_CO'
	    OR (card_id = '$C_NW' AND action = 'note')"
	run at $NOW cp-reconcile --check stuck_pushes
	assert_equal "$status" 1
	assert_line "cp-reconcile: stuck_pushes: 3 found, 0 fixed"
	run at $NOW cp-reconcile --check stuck_pushes --fix
	assert_equal "$status" 0
	assert_line "cp-reconcile: stuck_pushes: 3 found, 3 fixed"
	assert_output --partial "hubspot note of $C_NW left sending 3h 0m ago by an interrupted cp-push; found in the CRM by its key: done"
	assert_output --partial "; looked up in the CRM: requeued to be sent"
	assert_equal "$(db "SELECT state FROM push_outbox WHERE card_id = '$C_NW'
	    AND action = 'note'")" done
	assert_equal "$(db "SELECT DISTINCT state FROM push_outbox
	    WHERE card_id = '$C_CO'")" queued
	# and nothing is duplicated when cp-push carries on
	cp-push >/dev/null
	run crm_dupes
	assert_output ""
	assert_equal "$(db "SELECT count(*) FROM push_outbox WHERE state = 'done'")" 5
}

@test "CRM drift: objects deleted in the CRM are found, and with --fix pushed again" {
	crm_state hubspot,salesforce
	cp-inbox approve -q "$C_NW"
	cp-push >/dev/null
	run at $NOW cp-reconcile --check crm_drift --deep
	assert_equal "$status" 0
	assert_line "cp-reconcile: crm_drift: clean"
	# someone deletes everything in the CRM
	crm POST /_reset >/dev/null
	crm POST /_seed '{"companies":[{"id":"1001","domain":"northwindlabs.com","name":"Northwind Labs"}],
	    "accounts":[{"Id":"001000000000001AAA","Website":"northwindlabs.com","Name":"Northwind Labs"}]}' >/dev/null
	run at $NOW cp-reconcile --check crm_drift --sample 2
	assert_equal "$status" 1
	assert_line "cp-reconcile: crm_drift: 2 found, 0 fixed"
	run at $NOW cp-reconcile --check crm_drift --deep --fix
	assert_equal "$status" 0
	assert_line "cp-reconcile: crm_drift: 6 found, 6 fixed"
	assert_output --partial "was deleted in the CRM; requeued: the next cp-push creates it again"
	assert_equal "$(db "SELECT count(*) FROM audit WHERE action = 'push.recreate'")" 6
	cp-push >/dev/null
	assert_equal "$(db "SELECT count(*) FROM push_outbox WHERE state = 'done'")" 6
	run at $NOW cp-reconcile --check crm_drift --deep
	assert_equal "$status" 0
	run crm_dupes
	assert_output ""
}

@test "every finding is a valid finding record" {
	cp-account assign northwind --owner bob
	at $H49 cp-reconcile >"$T/out" 2>/dev/null || true
	[ -s "$T/out" ]
	run cp-validate --type finding "$T/out"
	assert_equal "$status" 0
}
