#!/usr/bin/env bats
# cp-push under faults: the fake CRM (tests/servers/fake_crm.py) answers
# 429 with Retry-After, 500 before or after storing, stalls past the
# timeout after storing, resets connections, refuses the token, rejects
# the request, hits HubSpot's daily and Salesforce's request limits; and
# cp-push is killed with SIGKILL in the middle of a batch.  Whatever
# happens: exactly one CRM object per card and action, nothing lost.

bats_require_minimum_version 1.5.0
load helper
load fixtures/push/push

setup() {
	cp_setup
	push_state
}

approve_three() {
	cp-inbox approve -q "$C_NW" "$C_CO" "$C_FB"
}

# all_sent: 7 HubSpot and 7 Salesforce objects, no key twice, every row
# done, every card pushed
all_sent() {
	local s
	s=$(crm GET /_state)
	assert_equal "$(jq -c '[.hubspot.notes, .hubspot.tasks, .hubspot.deals,
	    .salesforce.Note, .salesforce.Task, .salesforce.Opportunity]
	    | map(length)' <<<"$s")" "[2,3,2,2,3,2]"
	run crm_dupes
	assert_output ""
	run db "SELECT DISTINCT state FROM push_outbox"
	assert_output done
	run db "SELECT DISTINCT status FROM cards WHERE status <> 'pending_review'"
	assert_output pushed
}

requests_matching() {
	crm GET /_state | jq --arg re "$1" '[.requests[] | select("\(.m) \(.p) \(.fault)" | test($re))] | length'
}

@test "429 with Retry-After: the whole target waits as asked, then each action goes once" {
	approve_three
	faults '[{"match": "POST /crm/v3/objects/(notes|tasks|deals)$", "fault": "429", "retry_after": 1}]'
	t0=$(date +%s.%N)
	run cp-push
	assert_success
	t1=$(date +%s.%N)
	assert [ "$(echo "$t1 - $t0 >= 1" | bc)" = 1 ]
	all_sent
	assert_equal "$(requests_matching ' 429$')" 1
}

@test "HubSpot's ten-secondly 429 without Retry-After: waits hubspot.burst_wait" {
	approve_three
	faults '[{"match": "POST /crm/v3/objects/deals$", "fault": "429", "times": 2}]'
	run cp-push -v
	assert_success
	assert_output --partial "rate limited (HTTP 429 TEN_SECONDLY_ROLLING)"
	all_sent
}

@test "500 before storing is retried; 500 after storing is looked up, not duplicated" {
	approve_three
	faults '[{"match": "POST /crm/v3/objects/notes$", "fault": "500", "times": 2},
	    {"match": "POST /crm/v3/objects/tasks$", "fault": "500_after"},
	    {"match": "POST /services/data/v60.0/sobjects/Note/$", "fault": "500_after"},
	    {"match": "PATCH .*/Opportunity/", "fault": "500_after"}]'
	run cp-push -v
	assert_success
	assert_output --regexp "looked up \\(2 found\\)"
	all_sent
	# the Opportunity was upserted again: same record, no lookup needed
	assert_equal "$(requests_matching '^PATCH .*/Opportunity/')" 3
}

@test "a stall past the timeout after storing: found by key or upserted again, never twice" {
	approve_three
	faults '[{"match": "POST /crm/v3/objects/deals$", "fault": "stall", "stall": 2},
	    {"match": "POST /services/data/v60.0/sobjects/Note/$", "fault": "stall", "stall": 2},
	    {"match": "PATCH .*/Task/", "fault": "stall", "stall": 2}]'
	run cp-push -v
	assert_success
	assert_output --partial "timed out"
	assert_output --regexp "looked up \\(2 found\\)"
	all_sent
}

@test "a connection reset before or after storing: exactly one object" {
	approve_three
	faults '[{"match": "POST /crm/v3/objects/notes$", "fault": "reset"},
	    {"match": "POST /crm/v3/objects/deals$", "fault": "reset_after"},
	    {"match": "POST /services/data/v60.0/sobjects/Note/$", "fault": "reset_after"},
	    {"match": "PATCH .*/Opportunity/", "fault": "reset", "times": 2}]'
	run cp-push -v
	assert_success
	assert_output --partial "connection failed"
	all_sent
}

@test "401: the target stops for the run with one message and no token; the other goes on" {
	approve_three
	faults '[{"match": "/crm/", "fault": "401", "times": -1}]'
	run -78 cp-push
	assert_equal "$(grep -c 'credentials were refused' <<<"$output")" 1
	assert_output --partial "hubspot: the credentials were refused (HTTP 401: INVALID_AUTHENTICATION"
	assert_output --partial "check hubspot.token in the credentials file"
	refute_output --partial "$HS_TOKEN"
	# three accounts' company searches at most: nothing more was tried
	assert [ "$(requests_matching ' 401 ')" -le 3 ]
	run db "SELECT target, state FROM push_outbox GROUP BY target, state"
	assert_output "hubspot|queued
salesforce|done"
	faults '[]'
	run cp-push
	assert_success
	all_sent
}

@test "HubSpot's DAILY limit holds the target until the next day" {
	approve_three
	faults '[{"match": "POST /crm/", "fault": "daily", "times": -1}]'
	run -75 cp-push
	assert_output --partial "hubspot: daily API limit reached (HTTP 429 DAILY); hubspot held until the limit resets"
	run db "SELECT target, until FROM push_holds"
	assert_output "hubspot|2026-11-26T00:00:00Z"
	run db "SELECT count(*) FROM audit WHERE action = 'push.hold'"
	assert_output 1
	run cp-push --status
	assert_line --partial "hubspot held until 2026-11-26T00:00:00Z"
	# held: the next run does not even ask
	n=$(crm GET /_state | jq '.requests | length')
	run cp-push
	assert_success
	assert_output --partial "hubspot held until 2026-11-26T00:00:00Z"
	assert_equal "$(crm GET /_state | jq '.requests | length')" "$n"
	faults '[]'
	CLIENTPULSE_NOW=2026-11-26T00:00:05Z run cp-push
	assert_success
	all_sent
}

@test "Salesforce's REQUEST_LIMIT_EXCEEDED (a 403) holds the target; the last 10% of api-usage warns once" {
	approve_three
	faults '[{"match": "/services/", "fault": "sf_limit", "times": -1}]'
	run -75 cp-push
	assert_output --partial "salesforce: API request limit exceeded (REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.)"
	run db "SELECT target, until FROM push_holds"
	assert_output "salesforce|2026-11-25T13:00:00Z"
	run db "SELECT count(*) FROM push_outbox WHERE target = 'hubspot' AND state = 'done'"
	assert_output 7
	faults '[{"match": "/services/", "fault": "limit_low", "times": -1}]'
	CLIENTPULSE_NOW=2026-11-25T13:00:01Z run cp-push
	assert_success
	assert_equal "$(grep -c 'API requests of the last 24 hours used' <<<"$output")" 1
	assert_output --partial "(1.0% left)"
	all_sent
}

@test "a fault that persists: retry_wait with its next attempt, done in a later run" {
	approve_three
	faults '[{"match": "PATCH .*/Task/", "fault": "500", "times": -1}]'
	run -75 cp-push
	run db "SELECT count(*), min(next_attempt_at > '2026-11-25T12:00:00Z'),
	    min(attempts) FROM push_outbox WHERE state = 'retry_wait'"
	assert_output "3|1|4"
	run cp-push --status --state retry_wait
	assert_output --partial "salesforce: HTTP 500: UNKNOWN_EXCEPTION"
	assert [ "$(db "SELECT count(*) FROM audit WHERE action = 'push.retry_wait'")" -eq 3 ]
	# not due yet: nothing is tried
	n=$(crm GET /_state | jq '.requests | length')
	run cp-push
	assert_success
	assert_equal "$(crm GET /_state | jq '.requests | length')" "$n"
	faults '[]'
	CLIENTPULSE_NOW=2026-11-26T12:00:00Z run cp-push
	assert_success
	all_sent
}

@test "push.max_attempts: a fault that never ends fails the action, saying how often it tried" {
	sed -i 's/^\[push\]/[push]\nmax_attempts = 3/' "$XDG_CONFIG_HOME/clientpulse/config"
	cp-inbox approve -q "$C_CO"
	faults '[{"match": "POST /crm/v3/objects/tasks$", "fault": "500", "times": -1}]'
	run -65 cp-push --target hubspot
	assert_output --partial "gave up after 3 attempts: hubspot: HTTP 500"
	run db "SELECT state FROM push_outbox WHERE action = 'task'
	    AND target = 'hubspot'"
	assert_output failed
}

@test "HubSpot's search trails its writes: the lookup waits hubspot.lookup_delay" {
	sed -i 's/^lookup_delay = 0/lookup_delay = 1/' "$XDG_CONFIG_HOME/clientpulse/config"
	crm POST /_config '{"search_lag": 0.6}' >/dev/null
	cp-inbox approve -q "$C_CO"
	faults '[{"match": "POST /crm/v3/objects/tasks$", "fault": "stall", "stall": 1.5}]'
	run cp-push --target hubspot -v
	assert_success
	assert_output --partial "looked up (1 found)"
	assert_equal "$(crm_count .hubspot.tasks)" 1
}

@test "random faults of every kind: after retries and re-runs, one object per action, nothing lost" {
	ids=$(many_cards 30)
	cp-inbox approve -q - <<<"$ids"
	faults '[{"match": "^(POST|PATCH) /(crm|services)/", "fault": "500", "prob": 0.06, "times": -1},
	    {"match": "^(POST|PATCH) /(crm|services)/", "fault": "500_after", "prob": 0.06, "times": -1},
	    {"match": "^(POST|PATCH) /(crm|services)/", "fault": "reset", "prob": 0.06, "times": -1},
	    {"match": "^(POST|PATCH) /(crm|services)/", "fault": "reset_after", "prob": 0.06, "times": -1},
	    {"match": "^(POST|PATCH) /(crm|services)/", "fault": "stall", "stall": 1.2, "prob": 0.04, "times": -1},
	    {"match": "^(POST|PATCH) /(crm|services)/", "fault": "429", "retry_after": 0.1, "prob": 0.06, "times": -1}]'
	day=26
	for run in 1 2 3 4 5 6 7 8; do
		CLIENTPULSE_NOW=2026-11-${day}T12:00:00Z cp-push >/dev/null 2>&1 && break
		day=$((day + 1))
	done
	faults '[]'
	CLIENTPULSE_NOW=2026-12-05T12:00:00Z run cp-push
	assert_success
	s=$(crm GET /_state)
	assert_equal "$(jq '[.hubspot[][], .salesforce[][]] | length' <<<"$s")" 120
	run crm_dupes
	assert_output ""
	run db "SELECT state, count(*) FROM push_outbox GROUP BY state"
	assert_output "done|120"
	faulted=$(jq '[.requests[] | select(.fault != null)] | length' <<<"$s")
	measure "random faults: $faulted faulted requests, $run runs, 120 actions, 0 duplicates"
}

@test "kill -9 in the middle of a batch of 200, 20 times at random points: no duplicate, nothing lost" {
	ids=$(many_cards 50)
	cp-inbox approve -q - <<<"$ids"
	assert_equal "$(db 'SELECT count(*) FROM push_outbox')" 200
	# slow the CRM a little so a batch lasts long enough to be hit
	crm POST /_config '{"delay": 0.008}' >/dev/null
	db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$CLIENTPULSE_DB" "$T/template.db"
	mid=0 recovered=0
	for i in $(seq 20); do
		rm -f "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
		cp "$T/template.db" "$CLIENTPULSE_DB"
		crm POST /_reset >/dev/null
		killable cp-push >"$T/out.$i" 2>"$T/err.$i" 3>&- &
		pid=$!
		sleep "0.$(printf '%02d' $((RANDOM % 25 + 2)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		done_before=$(db "SELECT count(*) FROM push_outbox WHERE state = 'done'")
		sending=$(db "SELECT count(*) FROM push_outbox WHERE state = 'sending'")
		[ "$done_before" -lt 200 ] && mid=$((mid + 1))
		recovered=$((recovered + sending))
		run cp-push -v
		assert_success
		assert_output --regexp "[0-9]+ done, 0 failed, 0 waiting"
		s=$(crm GET /_state)
		assert_equal "$(jq '[.hubspot[][], .salesforce[][]] | length' <<<"$s")" 200
		run crm_dupes
		assert_output ""
		run db "SELECT state, count(*) FROM push_outbox GROUP BY state"
		assert_output "done|200"
		run db "SELECT count(*) FROM cards WHERE status = 'pushed'"
		assert_output 50
	done
	assert [ "$mid" -ge 15 ]
	measure "kill -9 loop: 20 kills, $mid in mid-batch, $recovered rows left sending and resolved, 0 duplicates"
}
