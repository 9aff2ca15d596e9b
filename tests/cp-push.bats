#!/usr/bin/env bats
# cp-push: approved cards into HubSpot, Salesforce, a webhook and a file,
# exactly once, through the outbox.  The CRMs are tests/servers/fake_crm.py
# on 127.0.0.1 (the vendors' paths, bodies, auth and errors); the faults
# and the kill -9 loop are in cp-push-faults.bats.

bats_require_minimum_version 1.5.0
load helper
load fixtures/push/push

setup() {
	cp_setup
	push_state
}

# key CARD TARGET ACTION: the idempotency key, computed independently
key() {
	printf '%s\037%s\037%s\037' "$1" "$2" "$3" | sha256sum |
	    sed 's/^\(.\{32\}\).*/cpk_\1/'
}

@test "approving enqueues each CRM action per target in the approval's transaction" {
	run cp-inbox approve "$C_NW"
	assert_success
	run db "SELECT target, action, state, idem_key FROM push_outbox
	    ORDER BY id"
	assert_output "hubspot|note|queued|$(key "$C_NW" hubspot note)
hubspot|task|queued|$(key "$C_NW" hubspot task)
hubspot|opportunity|queued|$(key "$C_NW" hubspot opportunity)
salesforce|note|queued|$(key "$C_NW" salesforce note)
salesforce|task|queued|$(key "$C_NW" salesforce task)
salesforce|opportunity|queued|$(key "$C_NW" salesforce opportunity)"
	# the task's due date is fixed at approval: due_in_days after it
	run db "SELECT json_extract(payload, '$.due_date') FROM push_outbox
	    WHERE target = 'hubspot' AND action = 'task'"
	assert_output 2026-11-28
	run db "SELECT count(*) FROM audit WHERE action = 'push.enqueue'
	    AND entity_id = '$C_NW'"
	assert_output 1
	# a second approval is refused and adds nothing
	run -65 cp-inbox approve "$C_NW"
	run db "SELECT count(*) FROM push_outbox"
	assert_output 6
}

@test "a rejected card enqueues nothing" {
	run cp-inbox reject "$C_CO" --reason not_relevant
	assert_success
	run db "SELECT count(*) FROM push_outbox"
	assert_output 0
}

@test "cp-push sends every action once and writes a push record each; a re-run sends nothing" {
	cp-inbox approve -q "$C_NW" "$C_CO" "$C_FB"
	run cp-push
	assert_success
	assert_equal "$(wc -l <<<"$output")" 14
	run cp-validate --type push <<<"$output"
	assert_success
	assert_equal "$(jq -s 'map(select(.state == "done" and .remote_id != null)) | length' <<<"$output")" 14
	run crm GET /_state
	assert_equal "$(jq -c '[.hubspot.notes, .hubspot.tasks, .hubspot.deals,
	    .salesforce.Note, .salesforce.Task, .salesforce.Opportunity]
	    | map(length)' <<<"$output")" "[2,3,2,2,3,2]"
	run crm_dupes
	assert_output ""
	creates=$(crm GET /_state | jq '.requests | map(select(.m != "GET")) | length')
	run cp-push
	assert_success
	assert_output ""
	assert_equal "$(crm GET /_state | jq '.requests | map(select(.m != "GET")) | length')" "$creates"
}

@test "the objects carry what the card says, associated with the account" {
	cp-inbox approve -q "$C_NW"
	run cp-push
	assert_success
	state=$(crm GET /_state)
	deal=$(jq -c '.hubspot.deals[0]' <<<"$state")
	assert_equal "$(jq -r .properties.dealname <<<"$deal")" "Northwind Labs - integration readiness"
	assert_equal "$(jq -r .properties.dealstage <<<"$deal")" qualifiedtobuy
	assert_equal "$(jq -r .properties.amount <<<"$deal")" 150000
	assert_equal "$(jq -r .properties.clientpulse_key <<<"$deal")" "$(key "$C_NW" hubspot opportunity)"
	assert_equal "$(jq -r .properties.closedate <<<"$deal")" 2027-02-23T00:00:00Z
	assert_equal "$(jq -c '.associations[0] | [.to.id, .types[0].associationTypeId]' <<<"$deal")" '["1001",5]'
	task=$(jq -c '.hubspot.tasks[0].properties' <<<"$state")
	assert_equal "$(jq -r .hs_timestamp <<<"$task")" 2026-11-28T12:00:00Z
	assert_equal "$(jq -r .hs_task_status <<<"$task")" NOT_STARTED
	assert_equal "$(jq -r '.hubspot.notes[0].associations[0].types[0].associationTypeId' <<<"$state")" 190
	opp=$(jq -c '.salesforce.Opportunity[0]' <<<"$state")
	assert_equal "$(jq -r '[.Name, .StageName, .CloseDate, .Amount, .AccountId] | @tsv' <<<"$opp")" \
	    "$(printf 'Northwind Labs - integration readiness\tQualification\t2027-02-23\t150000\t001000000000001AAA')"
	assert_equal "$(jq -r .ClientPulse_Key__c <<<"$opp")" "$(key "$C_NW" salesforce opportunity)"
	assert_equal "$(jq -r '.salesforce.Task[0] | [.ActivityDate, .WhatId, .Status] | @tsv' <<<"$state")" \
	    "$(printf '2026-11-28\t001000000000001AAA\tNot Started')"
	title=$(jq -r '.salesforce.Note[0].Title' <<<"$state")
	assert [ "${#title}" -le 80 ]
	assert_equal "${title##* }" "[$(key "$C_NW" salesforce note)]"
}

@test "companies found by domain are stored on the account (audited) and not searched again" {
	cp-inbox approve -q "$C_NW"
	run cp-push
	assert_success
	run db "SELECT hubspot_id, salesforce_id, version FROM accounts
	    WHERE id = 'northwind'"
	assert_output "1001|001000000000001AAA|3"
	run db "SELECT count(*) FROM audit WHERE action = 'account.link'
	    AND entity_id = 'northwind'"
	assert_output 2
	cp-inbox approve -q "$C_FB"
	crm POST /_reset >/dev/null
	cp-inbox approve -q - <<<"$(many_cards 1)"
	run cp-push
	assert_success
	# fabrikam was searched once; northwind (the new card) not at all
	assert_equal "$(crm GET /_state | jq '[.requests[] | select(.p | test("companies/search"))] | length')" 1
}

@test "the card goes to pushed when all its actions are done, version-checked and audited" {
	cp-inbox approve -q "$C_CO"
	run db "SELECT status, version FROM cards WHERE id = '$C_CO'"
	assert_output "approved|2"
	cp-push >/dev/null
	run db "SELECT status, version, json_extract(record, '$.status'),
	    json_extract(record, '$.version') FROM cards WHERE id = '$C_CO'"
	assert_output "pushed|3|pushed|3"
	run db "SELECT version, json_extract(record, '$.status') FROM card_versions
	    WHERE card_id = '$C_CO' ORDER BY version DESC LIMIT 1"
	assert_output "3|pushed"
	run db "SELECT action FROM audit WHERE entity_id = '$C_CO' ORDER BY seq"
	assert_output "card.create
card.approve
push.enqueue
card.pushed"
	assert_equal "$(db "SELECT count(*) FROM audit WHERE action = 'push.done'")" 4
	run clientpulse audit --verify
	assert_success
}

@test "--status lists the outbox, --json as push records, --state filters" {
	cp-inbox approve -q "$C_CO"
	run cp-push --status
	assert_success
	assert_line --regexp '^ *ID +CARD +TARGET +ACTION +STATE +TRIES +WHEN'
	assert_equal "$(grep -c queued <<<"$output")" 4
	cp-push --target hubspot >/dev/null
	run cp-push --status --json --state done
	assert_success
	assert_equal "$(jq -s 'map(.target) | unique | join(",")' <<<"$output")" '"hubspot"'
	run cp-validate --type push <<<"$output"
	assert_success
	run cp-push --status --state queued
	assert_equal "$(grep -c 'salesforce' <<<"$output")" 2
}

@test "--status shows an account manager only their accounts' actions" {
	cp-inbox approve -q "$C_NW" "$C_CO"
	run cp-push --status --json --as alice
	assert_success
	assert_equal "$(jq -s 'map(.account_id) | unique | join(",")' <<<"$output")" '"northwind"'
	run cp-push --status --json --as bob
	assert_equal "$(jq -s 'map(.account_id) | unique | join(",")' <<<"$output")" '"contoso"'
}

@test "pushing, requeueing and resolving need the admin role" {
	cp-inbox approve -q "$C_NW"
	run -77 cp-push --as alice
	assert_output --partial "role am may not push"
	run -77 cp-push --retry 1 --as mona
	run db "SELECT count(*) FROM push_outbox WHERE state = 'queued'"
	assert_output 6
}

@test "the file target: a dry run writes each action as a push record with its payload" {
	push_config file </dev/null
	cp-inbox approve -q "$C_NW" "$C_FB"
	run cp-push
	assert_success
	assert_equal "$(wc -l <<<"$output")" 5
	run cp-validate --type push <<<"$output"
	assert_success
	assert_equal "$(jq -s -c 'map(select(.action == "opportunity")) | map(.payload.amount) | sort' <<<"$output")" "[60000,150000]"
	assert_equal "$(jq -s -c 'map(.remote_id == .key) | unique' <<<"$output")" "[true]"
	# nothing went to the CRMs
	assert_equal "$(crm GET /_state | jq '.requests | length')" 0
	run db "SELECT DISTINCT status FROM cards WHERE id IN ('$C_NW', '$C_FB')"
	assert_output pushed
}

@test "the file target writes a file once per action, even for a row left sending" {
	push_config file <<<"[file]
path = $T/pushes.ndjson"
	cp-inbox approve -q "$C_CO"
	run cp-push
	assert_success
	assert_equal "$(wc -l <"$T/pushes.ndjson")" 2
	assert_equal "$(stat -c %a "$T/pushes.ndjson")" 600
	# as if killed after writing, before recording: found, not rewritten
	db "UPDATE push_outbox SET state = 'sending'"
	run cp-push
	assert_success
	assert_equal "$(wc -l <"$T/pushes.ndjson")" 2
	run db "SELECT DISTINCT state FROM push_outbox"
	assert_output done
}

@test "the webhook: the card POSTed once with Idempotency-Key and a valid HMAC signature" {
	push_config webhook </dev/null
	cp-inbox approve -q "$C_NW" "$C_CO"
	run cp-push
	assert_success
	state=$(crm GET /_state)
	assert_equal "$(jq '.deliveries | length' <<<"$state")" 2
	assert_equal "$(jq -r '.deliveries | map(.key) | sort | join(" ")' <<<"$state")" \
	    "$(printf '%s\n' "$(key "$C_NW" webhook card)" "$(key "$C_CO" webhook card)" | sort | tr '\n' ' ' | sed 's/ $//')"
	assert_equal "$(jq -r '.deliveries[0].card.type' <<<"$state")" card
	assert_equal "$(jq -r '.deliveries[0].card.status' <<<"$state")" approved
	# a wrong secret: the receiver refuses the signature, the target stops
	cp-inbox approve -q "$C_FB"
	sed -i "s/^secret = .*/secret = not-the-secret/" "$XDG_CONFIG_HOME/clientpulse/credentials"
	run -78 cp-push
	assert_output --partial "webhook: the credentials were refused (HTTP 401"
	run db "SELECT state FROM push_outbox WHERE card_id = '$C_FB'"
	assert_output queued
}

@test "a 400 validation error fails the action with the CRM's message; --retry requeues it" {
	cp-inbox approve -q "$C_FB"
	faults '[{"match": "POST /crm/v3/objects/deals$", "fault": "400"}]'
	run -65 cp-push
	assert_output --partial "failed: hubspot: HTTP 400: VALIDATION_ERROR: Property values were not valid"
	run db "SELECT state, attempts, error FROM push_outbox
	    WHERE target = 'hubspot' AND action = 'opportunity'"
	assert_output --regexp '^failed\|1\|hubspot: HTTP 400: VALIDATION_ERROR: Property values were not valid'
	run db "SELECT status FROM cards WHERE id = '$C_FB'"
	assert_output approved
	id=$(db "SELECT id FROM push_outbox WHERE state = 'failed'")
	run cp-push --retry "$id"
	assert_success
	run db "SELECT state, attempts FROM push_outbox WHERE id = $id"
	assert_output "queued|0"
	run cp-push
	assert_success
	run db "SELECT status FROM cards WHERE id = '$C_FB'"
	assert_output pushed
	assert_equal "$(crm_count .hubspot.deals)" 1
	run db "SELECT action FROM audit WHERE entity_type = 'push'
	    AND entity_id = (SELECT idem_key FROM push_outbox WHERE id = $id)
	    ORDER BY seq"
	assert_output "push.failed
push.requeue
push.done"
	# a done action is not requeued
	run -65 cp-push --retry "$id"
	assert_output --partial "is done; only failed or waiting actions are requeued"
}

@test "a key property the CRM does not have fails with HubSpot's words naming it" {
	echo "key_property = cp_key_missing" >>"$XDG_CONFIG_HOME/clientpulse/config"
	sed -i 's/^\[salesforce\]/[hubspot]\nkey_property = cp_key_missing\n[salesforce]/' \
	    "$XDG_CONFIG_HOME/clientpulse/config"
	cp-inbox approve -q "$C_CO"
	run -65 cp-push --target hubspot
	assert_output --partial 'Property \"cp_key_missing\" does not exist'
}

@test "no company has the account's domain: failed with how to fix it; a stored hubspot_id fixes it" {
	cp-account import -q <<<'{"id":"northwind","name":"Northwind Labs","domain":"northwind.example","owner":"alice"}'
	cp-inbox approve -q "$C_NW"
	run -65 cp-push --target hubspot
	assert_output --partial "hubspot: no company has domain northwind.example; set hubspot_id on account northwind"
	run db "SELECT count(*) FROM push_outbox WHERE state = 'failed'"
	assert_output 3
	cp-account import -q <<<'{"id":"northwind","name":"Northwind Labs","domain":"northwind.example","owner":"alice","hubspot_id":"1001"}'
	run cp-push --retry $(db "SELECT id FROM push_outbox WHERE state = 'failed'")
	assert_success
	run cp-push --target hubspot
	assert_success
	assert_equal "$(crm_count .hubspot.notes)" 1
}

@test "only the cards named (or read from standard input) are pushed" {
	cp-inbox approve -q "$C_NW" "$C_CO" "$C_FB"
	run cp-push "$C_FB"
	assert_success
	assert_equal "$(jq -s -c 'map(.card_id) | unique' <<<"$output")" "[\"$C_FB\"]"
	run cp-push - <<<"{\"type\":\"card\",\"id\":\"$C_CO\"}"
	assert_success
	assert_equal "$(wc -l <<<"$output")" 4
	run db "SELECT count(*) FROM push_outbox WHERE state = 'queued'"
	assert_output 6
}

@test "approved before a target was configured: the next run enqueues and sends it" {
	push_config "" </dev/null
	cp-inbox approve -q "$C_CO"
	run db "SELECT count(*) FROM push_outbox"
	assert_output 0
	run cp-push
	assert_success
	assert_output --partial "no push targets"
	push_config salesforce </dev/null
	run cp-push
	assert_success
	assert_equal "$(wc -l <<<"$output")" 2
	run db "SELECT status FROM cards WHERE id = '$C_CO'"
	assert_output pushed
	# the targets the push service uses are kept for approvals by others
	run db "SELECT value FROM settings WHERE key = 'push.targets'"
	assert_output salesforce
}

@test "--resolve settles a row left sending: found, or back in the queue" {
	cp-inbox approve -q "$C_CO"
	cp-push >/dev/null
	# as if killed between creating the note and recording it
	db "UPDATE push_outbox SET state = 'sending' WHERE target = 'hubspot' AND action = 'note'"
	id=$(db "SELECT id FROM push_outbox WHERE state = 'sending'")
	remote=$(db "SELECT remote_id FROM push_outbox WHERE id = $id")
	run cp-push --resolve "$id"
	assert_success
	assert_output "$(db "SELECT idem_key FROM push_outbox WHERE id = $id")	done"
	run db "SELECT state, remote_id FROM push_outbox WHERE id = $id"
	assert_output "done|$remote"
	# a row whose object is not there goes back to the queue
	cp-inbox approve -q "$C_FB"
	db "UPDATE push_outbox SET state = 'sending' WHERE card_id = '$C_FB' AND target = 'hubspot' AND action = 'task'"
	id=$(db "SELECT id FROM push_outbox WHERE state = 'sending'")
	run cp-push --resolve "$id"
	assert_success
	assert_output --partial "	queued"
	run db "SELECT state, uncertain FROM push_outbox WHERE id = $id"
	assert_output "queued|0"
	assert_equal "$(crm_count .hubspot.tasks)" 1
	# a cp-push holding the lock: not stuck, in flight
	flock "$CLIENTPULSE_DB.push.lock" sleep 2 3>&- &
	holder=$!
	sleep 0.3
	run -75 cp-push --resolve "$id"
	assert_output --partial "a cp-push is running"
	wait "$holder"
}

@test "--fetch shows what the CRM holds now for a done action, or that it is gone" {
	cp-inbox approve -q "$C_FB"
	cp-push >/dev/null
	deal=$(db "SELECT id FROM push_outbox WHERE target = 'hubspot' AND action = 'opportunity'")
	opp=$(db "SELECT idem_key FROM push_outbox WHERE target = 'salesforce' AND action = 'opportunity'")
	run cp-push --fetch "$deal" "$opp"
	assert_success
	assert_equal "$(jq -s -r '.[0].object | [.dealname, .dealstage] | @tsv' <<<"$output")" \
	    "$(printf 'Fabrikam - finance modernisation assessment\tappointmentscheduled')"
	assert_equal "$(jq -s -r '.[1].object | [.Name, .StageName, ._id] | @tsv' <<<"$output")" \
	    "$(printf 'Fabrikam - finance modernisation assessment\tProspecting\t%s' \
	    "$(db "SELECT remote_id FROM push_outbox WHERE idem_key = '$opp'")")"
	db "UPDATE push_outbox SET remote_id = '999999' WHERE id = $deal"
	run cp-push --fetch "$deal"
	assert_success
	assert_equal "$(jq -r .gone <<<"$output")" true
	cp-inbox approve -q "$C_CO"
	run -65 cp-push --fetch "$(db "SELECT id FROM push_outbox WHERE state = 'queued' LIMIT 1")"
	assert_output --partial "queued, not done: nothing in the CRM to fetch"
}

@test "another cp-push holds the lock: --no-wait exits 75, without it the run waits" {
	cp-inbox approve -q "$C_CO"
	flock "$CLIENTPULSE_DB.push.lock" sleep 1 3>&- &
	holder=$!
	sleep 0.3
	run -75 cp-push --no-wait
	assert_output --partial "another cp-push is running"
	run cp-push
	assert_success
	assert_equal "$(wc -l <<<"$output")" 4
	wait "$holder"
}

@test "credentials: --token-file, the environment as a fallback, an unsafe file refused" {
	cp-inbox approve -q "$C_CO"
	mv "$XDG_CONFIG_HOME/clientpulse/credentials" "$T/creds"
	run -78 cp-push --target hubspot
	assert_output --partial "hubspot: no token: put hubspot.token"
	run cp-push --target hubspot --token-file "$T/creds"
	assert_success
	assert_equal "$(wc -l <<<"$output")" 2
	CLIENTPULSE_SALESFORCE_ACCESS_TOKEN=$SF_TOKEN run cp-push --target salesforce
	assert_success
	assert_equal "$(wc -l <<<"$output")" 2
	chmod 644 "$T/creds"
	run -78 cp-push --token-file "$T/creds"
}

@test "a target without credentials stops (78) and the others go on" {
	sed -i '/access_token/d' "$XDG_CONFIG_HOME/clientpulse/credentials"
	cp-inbox approve -q "$C_CO"
	run -78 cp-push
	assert_output --partial "salesforce: no access token"
	run db "SELECT target, state FROM push_outbox GROUP BY target, state"
	assert_output "hubspot|done
salesforce|queued"
}

@test "tokens never appear in output, messages, records, the audit log or the state file" {
	cp-inbox approve -q "$C_NW" "$C_CO" "$C_FB"
	faults '[{"match": "POST /crm/v3/objects/notes$", "fault": "401"},
	    {"match": "/services/data/.*/Note", "fault": "500", "times": 2},
	    {"match": "PATCH", "fault": "stall", "stall": 2}]'
	cp-push -v -v >"$T/out" 2>"$T/err" || true
	cp-push -v -v --log-format json >>"$T/out" 2>>"$T/err" || true
	cp-push --status >>"$T/out"
	cp-push --status --json >>"$T/out"
	grep -q "credentials were refused" "$T/err"
	db .dump >"$T/dump.sql"
	sqlite3 "$CLIENTPULSE_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	run no_secrets "$T/out" "$T/err" "$T/dump.sql" "$CLIENTPULSE_DB" \
	    "$CLIENTPULSE_DB-wal" $(ls "$T"/*.ndjson 2>/dev/null)
	assert_success
}

@test "usage errors exit 64" {
	run -64 cp-push --state bogus --status
	run -64 cp-push --retry
	assert_output --partial "which action"
	run -64 cp-push --target bogus
	assert_output --partial "unknown push target 'bogus'"
	run -64 cp-push --limit 0
	run -64 cp-push --status extra
}

@test "examples/push/dry-run.sh runs: three push records, the card pushed" {
	run env CP_BIN="$CP_BIN" sh "$CP_TOP/examples/push/dry-run.sh"
	assert_success
	assert_equal "$(grep -c '^{"type":"push"' <<<"$output")" 3
	assert_output --partial '"due_date":"2026-11-28"'
}
