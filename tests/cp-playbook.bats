#!/usr/bin/env bats
# cp-playbook: import (NDJSON, JSON arrays, pretty-printed objects),
# validation with line numbers, idempotent upsert with versions and
# audit, list and show, admin only, the examples cover every theme.

load helper
load fixtures/score/score-helper

minimal='{"id":"mini","name":"Minimal","themes":["funding"],"offer":"An offer","next_step":"A step","crm":{"task":{"subject":"Call {account}","due_in_days":2}},"outreach":{"email":{"subject":"Hello {account}","body":"Hi {person|there}"}}}'

@test "the examples import: at least 10 playbooks covering every theme" {
	fixture_state
	run --separate-stderr cp-playbook import -v "$CP_TOP/examples/playbooks.ndjson"
	assert_success
	[[ "$stderr" == *"15 created, 0 updated, 0 unchanged, 0 rejected"* ]]
	themes=$(sed -n '/^\[theme_value\]/,/^\[/p' "$CP_TOP/lib/data/scoring.conf" | sed -n 's/^\([a-z_]*\) = .*/\1/p' | sort | tr '\n' ' ')
	assert_equal "$(cp-playbook list --json | jq -r '.themes[]' | sort -u | tr '\n' ' ')" "$themes"
	assert_equal "$(echo "$themes" | wc -w)" 13
	[ "$(cp-playbook list --json | wc -l)" -ge 10 ]
	# each has CRM actions and outreach for every channel
	assert_equal "$(cp-playbook list --json | jq -r '[(.outreach | keys | sort | join(",")), (.crm | length > 0)] | @tsv' | sort -u)" \
	    "$(printf 'call,email,linkedin\ttrue')"
}

@test "import is an idempotent upsert: unchanged playbooks are left alone, changes bump the version and are audited" {
	fixture_state
	cp-playbook import -q "$CP_TOP/examples/playbooks.ndjson"
	n=$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action LIKE 'playbook.%'")
	assert_equal "$n" 15
	run --separate-stderr cp-playbook import -v "$CP_TOP/examples/playbooks.ndjson"
	assert_success
	[[ "$stderr" == *"0 created, 0 updated, 15 unchanged"* ]]
	jq -c 'select(.id == "exec-intro") | .offer = "A new offer"' "$CP_TOP/examples/playbooks.ndjson" |
	    cp-playbook import -q
	assert_equal "$(sqlite3 state.db "SELECT version FROM playbooks WHERE id = 'exec-intro'")" 2
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action = 'playbook.update' AND entity_id = 'exec-intro'")" 1
	assert_equal "$(cp-playbook show exec-intro --json | jq -r .offer)" "A new offer"
}

@test "bad playbooks are refused with their line and reason; good ones are imported" {
	fixture_state
	run --separate-stderr cp-playbook import <<EOF2
$minimal
$(echo "$minimal" | jq -c '.id = "t1" | .themes = ["mergers"]')
$(echo "$minimal" | jq -c '.id = "t2" | .outreach.email.body = "Hi {persn}"')
$(echo "$minimal" | jq -c '.id = "t3" | .when = {"industry":["retail"]}')
$(echo "$minimal" | jq -c '.id = "t4" | del(.crm)')
$(echo "$minimal" | jq -c '.id = "t5" | .crm.opportunity = {"name":"x","stage":"s","amount":{"rule":"guess"}}')
$(echo "$minimal" | jq -c '.id = "T 6"')
$(echo "$minimal" | jq -c '.id = "t7" | .requires = ["budget"]')
$(echo "$minimal" | jq -c '.id = "t8" | .outreach.email.subject = "Hi {account"')
$(echo "$minimal" | jq -c '.id = "t9" | .crm.task.due_in_days = 900')
$(echo "$minimal" | jq -c '.id = "t10" | .when.entities = ["planet"]')
{"id":
$(echo "$minimal" | jq -c '.id = "ok2"')
EOF2
	assert_equal "$status" 65
	[[ "$stderr" == *'<stdin>:2: themes: unknown theme "mergers"'* ]]
	[[ "$stderr" == *'<stdin>:3: outreach: email: body: unknown placeholder {persn}'* ]]
	[[ "$stderr" == *'<stdin>:4: when: unknown field "industry"'* ]]
	[[ "$stderr" == *'<stdin>:5: missing field "crm"'* ]]
	[[ "$stderr" == *'<stdin>:6: crm: opportunity: amount: rule must be one of fixed, percent_of_amount, per_headcount, per_posting'* ]]
	[[ "$stderr" == *'<stdin>:7: id: "T 6" is not lower-case letters'* ]]
	[[ "$stderr" == *'<stdin>:8: requires: unknown prerequisite "budget"'* ]]
	[[ "$stderr" == *"<stdin>:9: outreach: email: subject: unclosed '{' at character 4"* ]]
	[[ "$stderr" == *'<stdin>:10: crm: task: due_in_days: expected 0 to 365'* ]]
	[[ "$stderr" == *'<stdin>:11: when: entities: unknown kind "planet"'* ]]
	[[ "$stderr" == *"<stdin>:12: invalid JSON (at line "* ]]
	assert_equal "$(cp-playbook list --json | jq -r .id | tr '\n' ' ')" "mini ok2 "
}

@test "a JSON array or pretty-printed objects import too, errors at their line" {
	fixture_state
	jq -s '.[:3]' "$CP_TOP/examples/playbooks.ndjson" >three.json
	run cp-playbook import three.json
	assert_success
	assert_equal "$(cp-playbook list --json | wc -l)" 3
	{
		echo "$minimal" | jq .
		echo "$minimal" | jq '.id = "bad" | .themes = []'
		echo "$minimal" | jq '.id = "pretty"'
	} >pretty.json
	bad=$(grep -n '"bad"' pretty.json | cut -d: -f1)
	run --separate-stderr cp-playbook import pretty.json --reject rej
	assert_equal "$status" 65
	assert_equal "$stderr" "cp-playbook: pretty.json:$((bad - 1)): themes: expected a non-empty array"
	assert_equal "$(cp-playbook list --json | jq -r .id | sort | tr '\n' ' ')" "$(printf '%s\n' exec-intro cfo-finance-modernisation post-merger-integration mini pretty | sort | tr '\n' ' ')"
	assert_equal "$(jq -r .id rej)" bad
}

@test "list and show" {
	fixture_state
	cp-playbook import -q "$CP_TOP/examples/playbooks.ndjson"
	run cp-playbook list
	assert_success
	assert_line --index 0 --regexp '^ID +NAME +THEMES +ACTIVE +VERSION$'
	assert_line --regexp '^exec-intro +New executive introduction +leadership_change +yes +1$'
	run cp-playbook show post-merger-integration
	assert_success
	assert_line "themes         m_and_a"
	assert_line "min amount     1e+07"
	assert_line "  amount       rule percent_of_amount, percent 0.05, min 50000, max 750000, default 120000"
	run cp-playbook show nosuch
	assert_equal "$status" 77
	assert_output "cp-playbook: nosuch: not found or not permitted"
	# inactive ones only with --all
	jq -c 'select(.id == "exec-intro") | .active = false' "$CP_TOP/examples/playbooks.ndjson" | cp-playbook import -q
	assert_equal "$(cp-playbook list --json | wc -l)" 14
	assert_equal "$(cp-playbook list --all --json | wc -l)" 15
}

@test "only admins import; a tenant sees only its own playbooks" {
	fixture_state
	run cp-playbook import --as alice "$CP_TOP/examples/playbooks.ndjson"
	assert_equal "$status" 77
	cp-playbook import -q "$CP_TOP/examples/playbooks.ndjson"
	run cp-playbook list --as alice --json
	assert_equal "$(echo "$output" | wc -l)" 15
	run cp-playbook list --as gil --json
	assert_success
	assert_output ""
	run cp-playbook show exec-intro --as gil
	assert_equal "$status" 77
	run --separate-stderr cp-playbook import --as gary <<<"$(echo "$minimal" | jq -c '.tenant = "acme"')"
	assert_equal "$status" 65
	[[ "$stderr" == *'tenant "acme" is not yours (globex)'* ]]
}
