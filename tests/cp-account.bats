#!/usr/bin/env bats
# cp-account: add, import (idempotent upsert), list, show, assign, remove,
# scoped by role and tenant, every change audited.

load helper

@test "add prints the new id; fields are normalised" {
	cp-init -q
	run cp-account add --name "Northwind Labs" --domain "https://www.NorthwindLabs.com/about" \
	    --ticker nwlb --cik 1234567 --tier 1 --alias Northwind --feed https://n.example/rss
	assert_success
	assert_output "northwindlabs-com"
	run cp-account show northwindlabs-com --json
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.domain,.ticker,.cik,.tier,.aliases,.feeds]')" \
	    '["northwindlabs.com","NWLB","0001234567",1,["Northwind"],["https://n.example/rss"]]'
}

@test "import is an idempotent upsert by id or domain" {
	fixture_state
	n1=$(sqlite3 state.db 'SELECT count(*) FROM audit')
	run cp-account import -v <<'EOF2'
{"id":"northwind","name":"Northwind Labs","domain":"northwindlabs.com","ticker":"NWLB","cik":"0001234567","industry":"software","segment":"enterprise","tier":1,"owner":"alice","aliases":["Northwind"]}
{"name":"Contoso Ltd","domain":"contoso.com"}
EOF2
	assert_success
	assert_output --partial "0 created, 1 updated, 1 unchanged"
	assert_equal "$(sqlite3 state.db "SELECT name, version FROM accounts WHERE id='contoso'")" "Contoso Ltd|2"
	# only the real change was audited
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM audit')" "$((n1 + 1))"
	run cp-account import <<<'{"name":"Contoso Ltd","domain":"contoso.com"}'
	assert_success
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM audit')" "$((n1 + 1))"
}

@test "import: bad lines are reported with their line number, good ones kept" {
	cp-init -q
	run --separate-stderr cp-account import <<'EOF2'
{"name":"Good One","domain":"good1.example"}
{"name":"","domain":"x.example"}
{"name":"Typo","tikcer":"T"}
{"name":"Bad tier","tier":9}
{"name":"Bad owner","owner":"nobody"}
not json
{"name":"Good Two","domain":"good2.example"}
EOF2
	assert_equal "$status" 65
	assert_equal "$(echo "$stderr" | grep -c 'cp-account: <stdin>:')" 5
	[[ "$stderr" == *'<stdin>:2: missing field "name"'* ]]
	[[ "$stderr" == *'<stdin>:3: unknown field "tikcer"'* ]]
	[[ "$stderr" == *"<stdin>:4: tier: expected 1 to 5"* ]]
	[[ "$stderr" == *"<stdin>:5: owner: no active user 'nobody' in this tenant"* ]]
	[[ "$stderr" == *"<stdin>:6: invalid JSON"* ]]
	assert_equal "$(sqlite3 state.db 'SELECT group_concat(id) FROM accounts')" "good1-example,good2-example"
}

@test "list shows the caller's scope only" {
	fixture_state
	run cp-account list --as alice
	assert_success
	assert_line --index 0 --regexp '^ID +NAME +DOMAIN +TIER +SEGMENT +OWNER$'
	assert_output --partial "northwind"
	assert_output --partial "fabrikam"
	refute_output --partial "contoso"
	run cp-account list --as mona --json
	assert_equal "$(echo "$output" | jq -r .id | sort | tr '\n' ' ')" "contoso fabrikam northwind "
	run cp-account list --as vera --json
	assert_equal "$(echo "$output" | jq -r .id)" "contoso"
	run cp-account list --as gil --json
	assert_equal "$(echo "$output" | jq -r .id)" "initech"
}

@test "show: out of scope and missing look the same (exit 77)" {
	fixture_state
	run cp-account show contoso --as alice
	assert_equal "$status" 77
	assert_output "cp-account: contoso: not found or not permitted"
	run cp-account show nosuch --as alice
	assert_equal "$status" 77
	assert_output "cp-account: nosuch: not found or not permitted"
	run cp-account show initech
	assert_equal "$status" 77
	assert_output "cp-account: initech: not found or not permitted"
}

@test "only admins add, import and remove" {
	fixture_state
	for who in alice mona vera; do
		run cp-account add --name X --as "$who"
		assert_equal "$status" 77
		assert_output --partial "permission denied: role"
		run cp-account remove northwind --as "$who"
		assert_equal "$status" 77
	done
}

@test "assign: a manager within the team; an AM may not" {
	fixture_state
	run cp-account assign northwind --owner bob --as alice
	assert_equal "$status" 77
	run cp-account assign northwind --owner bob --as mona
	assert_success
	assert_equal "$(cp-account show northwind --json | jq -r .owner)" bob
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action='account.assign' AND entity_id='northwind' AND actor LIKE 'mona%'")" 1
	# not to someone outside the team
	run cp-account assign northwind --owner vera --as mona
	assert_equal "$status" 77
}

@test "remove is soft, audited and undone by importing again" {
	fixture_state
	run cp-account remove fabrikam
	assert_success
	run cp-account list --json
	refute_output --partial fabrikam
	assert_equal "$(sqlite3 state.db "SELECT deleted_at IS NOT NULL FROM accounts WHERE id='fabrikam'")" 1
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action='account.remove'")" 1
	run cp-account import <<<'{"id":"fabrikam","name":"Fabrikam"}'
	assert_success
	assert_equal "$(sqlite3 state.db "SELECT deleted_at IS NULL FROM accounts WHERE id='fabrikam'")" 1
}

@test "bulk assign with one bad id: the good ones applied, exit non-zero" {
	fixture_state
	run cp-account assign northwind nosuch fabrikam --owner bob
	assert_equal "$status" 77
	assert_output "cp-account: nosuch: not found or not permitted"
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM accounts a JOIN users u ON u.id=a.owner_id WHERE u.login='bob'")" 3
}

@test "the same account id in two tenants stays two accounts" {
	fixture_state
	run cp-account import --as gary --tenant globex <<<'{"id":"northwind","name":"Globex Northwind"}'
	assert_success
	assert_equal "$(cp-account show northwind --json | jq -r .name)" "Northwind Labs"
	assert_equal "$(cp-account show northwind --json --as gary | jq -r .name)" "Globex Northwind"
}

@test "a table of Cyrillic, CJK and emoji names stays aligned and fits" {
	cp-init -q
	cp-account import -q <<'EOF2'
{"id":"k","name":"Київстар Телеком Україна","domain":"kyiv.example"}
{"id":"t","name":"東京商事株式会社","domain":"tokyo.example"}
{"id":"e","name":"😀 Emoji Corp","domain":"emoji.example"}
EOF2
	COLUMNS=60 run cp-account list
	assert_success
	# the DOMAIN column starts at the same display column on every line
	while IFS= read -r line; do
		pre=${line%%.example*}
		[ "$pre" = "$line" ] && continue
		w=$(printf '%s' "${pre% *}" | python3 -c 'import sys,unicodedata as u; s=sys.stdin.read(); print(sum(2 if u.east_asian_width(c) in "WF" else 0 if u.combining(c) else 1 for c in s))')
		echo "$w" >>cols
	done <<<"$output"
	assert_equal "$(sort -u cols | wc -l)" 1
	while IFS= read -r line; do
		w=$(printf '%s' "$line" | python3 -c 'import sys,unicodedata as u; s=sys.stdin.read(); print(sum(2 if u.east_asian_width(c) in "WF" else 1 for c in s))')
		assert [ "$w" -le 60 ]
	done <<<"$output"
}
