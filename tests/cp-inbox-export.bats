#!/usr/bin/env bats
# cp-inbox export: RFC 4180 CSV that a strict reader parses back to the
# same strings, and NDJSON card records that cp-validate accepts; both
# scoped and filtered like the list.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

# strict CSV → one JSON array per record (python3's csv module, strict)
csv_to_json() {
	python3 -c '
import csv, json, sys
data = sys.stdin.buffer.read().decode("utf-8")
assert data.endswith("\r\n"), "records end with CRLF"
for row in csv.reader(data.splitlines(keepends=True), strict=True):
    print(json.dumps(row, ensure_ascii=False))'
}

@test "CSV: a header, one record per card, parsed back exactly by a strict reader" {
	inbox_state
	unicode_cards
	# the nastiest text a card can carry, in every text column
	db "UPDATE cards SET record = json_set(record,
	    '$.title', 'He said \"hi, there\"' || char(10) || 'and left',
	    '$.narrative', 'line one' || char(13) || char(10) || 'line, \"two\"',
	    '$.next_step', ' leading and trailing ') WHERE id = '$NW_FUND'"
	db "UPDATE cards SET record = json_set(record, '$.narrative.why_now', '=HYPERLINK(\"x\")')
	    WHERE id = '$NW_CFO'"
	cp-inbox --as "$ADMIN" export --csv --all --status any >out.csv
	run csv_to_json <out.csv
	assert_success
	assert_line --index 0 '["id", "status", "version", "score", "theme", "playbook_id", "account_id", "account_name", "assignee", "title", "narrative", "next_step", "source", "evidence_urls", "created_at", "decided_at"]'
	assert_equal "${#lines[@]}" 11
	# every field equals what the JSON export says
	cp-inbox --as "$ADMIN" export --json --all --status any >out.ndjson
	python3 - out.csv out.ndjson <<-'PY'
	import csv, json, sys
	rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
	recs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
	assert len(rows) == len(recs) == 10, (len(rows), len(recs))
	for r, j in zip(rows, recs):
	    for k in ("id", "status", "theme", "playbook_id", "account_id", "account_name",
	              "assignee", "title", "source", "created_at"):
	        want = j.get(k)
	        assert r[k] == ("" if want is None else str(want)), (k, r[k], want)
	    # the narrative object as paragraphs, the next step from inside it
	    n = j["narrative"]
	    if isinstance(n, dict):
	        text = "\n\n".join(n[p] for p in ("what_happened", "why_it_matters", "why_now")
	                           if n.get(p))
	        nxt = n.get("next_step") or j.get("next_step") or ""
	    else:
	        text, nxt = n, j.get("next_step", "")
	    assert r["narrative"] == text, (r["narrative"], text)
	    assert r["next_step"] == nxt, (r["next_step"], nxt)
	    assert int(r["version"]) == j["version"]
	    assert float(r["score"]) == j["score"]
	    assert r["evidence_urls"] == " ".join(e["url"] for e in j["evidence"])
	PY
	grep -q '"He said ""hi, there""' out.csv
	grep -q '=HYPERLINK(""x"")' out.csv
	run jq -r "select(.id == \"$NW_FUND\") | .narrative" out.ndjson
	assert_output $'line one\r\nline, "two"'
	measure "export: $(wc -c <out.csv) bytes of CSV parsed back by python3 csv (strict)"
}

@test "CSV: scoped and filtered like the list; nothing matching is a header only" {
	inbox_state
	run cp-inbox --as alice export --csv
	assert_success
	assert_equal "$(csv_to_json <<<"$output" | jq -r '.[0]' | tail -n +2 | tr '\n' ' ')" \
	    "$NW_CFO $NW_FUND $FB_EXP $NW_MA "
	run cp-inbox --as alice export --csv --theme funding --min-score 70
	assert_equal "$(csv_to_json <<<"$output" | jq -r '.[0]' | tail -n +2)" "$NW_FUND"
	run cp-inbox --as alice export --csv --account contoso --all
	assert_success
	assert_equal "${#lines[@]}" 1
	run cp-inbox --as gil export --csv --all --status any
	assert_equal "$(csv_to_json <<<"$output" | jq -r '.[0]' | tail -n +2)" "$IN_FUND"
}

@test "JSON: NDJSON card records that cp-validate accepts" {
	inbox_state
	cp-inbox --as alice approve "$NW_CFO" --note "ok" -q
	run cp-inbox --as mona export --json --all --status any
	assert_success
	assert_equal "${#lines[@]}" 6
	cp-inbox --as mona export --json --all --status any | cp-validate --type card >/dev/null
	assert_equal "$(cp-inbox --as mona export --json --status approved --all | jq -c '[.id,.status,.version,.decision.by,.decision.note]')" \
	    "[\"$NW_CFO\",\"approved\",2,\"alice\",\"ok\"]"
	run cp-inbox --as mona export --json --all --limit 2
	assert_equal "${#lines[@]}" 2
}

@test "export needs --csv or --json, and a role that may export" {
	inbox_state
	run cp-inbox --as alice export
	assert_equal "$status" 64
	assert_output --partial "export: give one of --csv or --json"
	run cp-inbox --as alice export --csv --json
	assert_equal "$status" 64
	run cp-inbox --as vera export --csv
	assert_equal "$status" 77
	assert_output "cp-inbox: permission denied: role viewer may not export cards"
	run sh -c "cp-inbox --as alice export --csv >/dev/full"
	assert_equal "$status" 74
}
