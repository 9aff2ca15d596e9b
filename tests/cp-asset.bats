#!/usr/bin/env bats
# cp-asset: import, validation, list/show, full-text search (FTS5, kept in
# step by triggers), tenant isolation, the examples cover every theme.

load helper
load fixtures/score/score-helper

@test "the examples import: at least 25 assets covering every theme" {
	fixture_state
	run --separate-stderr cp-asset import -v "$CP_TOP/examples/assets.ndjson"
	assert_success
	[[ "$stderr" == *"28 created, 0 updated, 0 unchanged, 0 rejected"* ]]
	[ "$(cp-asset list --json | wc -l)" -ge 25 ]
	themes=$(sed -n '/^\[theme_value\]/,/^\[/p' "$CP_TOP/lib/data/scoring.conf" | sed -n 's/^\([a-z_]*\) = .*/\1/p' | sort | tr '\n' ' ')
	assert_equal "$(cp-asset list --json | jq -r '.themes[]' | sort -u | tr '\n' ' ')" "$themes"
	# the playbooks' own assets exist
	assert_equal "$(jq -r '.assets[]?' "$CP_TOP/examples/playbooks.ndjson" | sort -u | while read -r a; do cp-asset show "$a" --json | jq -r .id; done | wc -l)" \
	    "$(jq -r '.assets[]?' "$CP_TOP/examples/playbooks.ndjson" | sort -u | wc -l)"
	run cp-asset import -v "$CP_TOP/examples/assets.ndjson"
	assert_output --partial "0 created, 0 updated, 28 unchanged"
}

@test "search: every word, stemmed, best first; --limit; --json adds the rank" {
	fixture_state
	cp-asset import -q "$CP_TOP/examples/assets.ndjson"
	run cp-asset search cloud costs
	assert_success
	assert_line --index 0 --regexp '^ID +KIND +TITLE +THEMES +RANK$'
	assert_line --index 1 --regexp '^calculator-finops +calculator '
	assert_line --index 2 --regexp '^cs-wingtip-cloud-costs '
	assert_equal "${#lines[@]}" 3
	# stemming: "acquisitions" finds "acquisition"
	run cp-asset search acquisitions --json
	assert_equal "$(echo "$output" | jq -r .id | sort | tr '\n' ' ')" "cs-woodgrove-merger whitepaper-integration-playbook "
	[ "$(echo "$output" | jq -s '.[0].rank >= .[1].rank')" = true ]
	run cp-asset search integration --limit 2 --json
	assert_equal "$(echo "$output" | wc -l)" 2
	# theme ids are one token
	run cp-asset search m_and_a --json
	assert_equal "$(echo "$output" | jq -r .id | sort | tr '\n' ' ')" "cs-woodgrove-merger whitepaper-integration-playbook "
	run cp-asset search '"'
	assert_equal "$status" 64
}

@test "the index follows updates" {
	fixture_state
	cp-asset import -q "$CP_TOP/examples/assets.ndjson"
	jq -c 'select(.id == "calculator-finops") | .title = "Kubernetes rightsizing estimator"' \
	    "$CP_TOP/examples/assets.ndjson" | cp-asset import -q
	run cp-asset search kubernetes --json
	assert_equal "$(echo "$output" | jq -r .id)" calculator-finops
	run cp-asset search calculator --json
	refute_output --partial calculator-finops
	assert_equal "$(sqlite3 state.db "SELECT version FROM assets WHERE id = 'calculator-finops'")" 2
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action = 'asset.update'")" 1
}

@test "list, --theme and show" {
	fixture_state
	cp-asset import -q "$CP_TOP/examples/assets.ndjson"
	run cp-asset list --theme security_incident --json
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "cs-adventure-works-ransomware cs-litware-mdr webinar-incident-response "
	run cp-asset show cs-litware-mdr
	assert_success
	assert_line "themes      hiring_surge, security_incident"
	assert_line "url         https://example.com/resources/cs-litware-mdr"
}

@test "bad assets are refused with their line; an id is made from the title" {
	fixture_state
	run --separate-stderr cp-asset import <<'EOF2'
{"title":"Zero-downtime migrations","url":"https://example.com/zdm","kind":"guide","themes":["digital_transformation"]}
{"title":"No URL","kind":"deck"}
{"title":"FTP","url":"ftp://example.com/x","kind":"deck"}
{"title":"Bad theme","url":"https://example.com/y","kind":"deck","themes":["weather"]}
{"title":"Bad kind","url":"https://example.com/z","kind":"poster"}
{"title":"Typo","url":"https://example.com/t","kind":"deck","tagz":["x"]}
EOF2
	assert_equal "$status" 65
	[[ "$stderr" == *'<stdin>:2: missing field "url"'* ]]
	[[ "$stderr" == *'<stdin>:3: url: expected an http or https URL'* ]]
	[[ "$stderr" == *'<stdin>:4: themes: unknown theme "weather"'* ]]
	[[ "$stderr" == *'<stdin>:5: kind: "poster" is not one of'* ]]
	[[ "$stderr" == *'<stdin>:6: unknown field "tagz"'* ]]
	assert_equal "$(cp-asset list --json | jq -r .id)" zero-downtime-migrations
}

@test "assets are the tenant's own; only admins import" {
	fixture_state
	cp-asset import -q "$CP_TOP/examples/assets.ndjson"
	run cp-asset search cloud --as gil --json
	assert_success
	assert_output ""
	run cp-asset show cs-litware-mdr --as gil
	assert_equal "$status" 77
	run cp-asset import --as bob "$CP_TOP/examples/assets.ndjson"
	assert_equal "$status" 77
	run cp-asset list --as bob --json
	assert_equal "$(echo "$output" | wc -l)" 28
}
