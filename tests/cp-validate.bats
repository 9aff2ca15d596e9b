#!/usr/bin/env bats
# The NDJSON layer (lib/ndjson.c) through its plainest user, cp-validate:
# every kind of bad line is reported with input, line and reason, good
# lines still come through, and the exit status is 65 at the end.

load helper

doc() {
	printf '{"type":"document","v":1,"id":"doc_%s","tenant":"acme","account_ids":[],"source":"news","source_name":"x","reliability":0.7,"url":"https://x.example/%s","title":"t","published_at":"2026-11-01T00:00:00Z","fetched_at":"2026-11-01T00:00:00Z","content_type":"text/plain","body":"b","meta":{"amount":849624.42}}\n' "$1" "$1"
}

@test "valid records pass through byte for byte" {
	{ doc 1; doc 2; } >in.ndjson
	run cp-validate in.ndjson
	assert_success
	assert_output "$(cat in.ndjson)"
}

@test "invalid JSON: error names input, line and reason; good lines kept" {
	{ doc 1; echo '{"type": "document",'; doc 3; } >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	assert_equal "$(echo "$output" | wc -l)" 2
	[[ "$stderr" == "cp-validate: in.ndjson:2: invalid JSON: "* ]]
}

@test "invalid UTF-8 is rejected with its byte offset" {
	{ doc 1; printf '{"a":"\xff"}\n'; } >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	assert_equal "$stderr" "cp-validate: in.ndjson:2: invalid UTF-8 at byte 7"
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "a NUL byte is rejected" {
	{ printf '{"a":1}\0\n'; doc 2; } >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	assert_equal "$stderr" "cp-validate: in.ndjson:1: NUL byte at byte 8"
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "a line over --max-line is rejected without being held in memory" {
	{ doc 1; head -c 300000 /dev/zero | tr '\0' 'x'; echo; doc 3; } >in.ndjson
	run --separate-stderr cp-validate --max-line 100K in.ndjson
	assert_equal "$status" 65
	assert_equal "$stderr" "cp-validate: in.ndjson:2: line longer than 102400 bytes"
	assert_equal "$(echo "$output" | wc -l)" 2
}

@test "the default line limit is 16 MiB and records near it still pass" {
	doc 1 | jq -c '.body = ("y" * 15000000)' >in.ndjson
	run cp-validate in.ndjson
	assert_success
	assert_equal "${#output}" "$(($(wc -c <in.ndjson) - 1))"
}

@test "top-level arrays and scalars are not records" {
	printf '[1,2]\n"s"\n42\nnull\ntrue\n' >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	[[ "$stderr" == *"in.ndjson:1: not a JSON object but an array"* ]]
	[[ "$stderr" == *"in.ndjson:2: not a JSON object but a string"* ]]
	[[ "$stderr" == *"in.ndjson:3: not a JSON object but a number"* ]]
	[[ "$stderr" == *"in.ndjson:4: not a JSON object but null"* ]]
	[[ "$stderr" == *"in.ndjson:5: not a JSON object but a boolean"* ]]
	assert_equal "$output" ""
}

@test "a truncated last line is rejected, the lines before it kept" {
	{ doc 1; doc 2 | head -c 50; } >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	[[ "$stderr" == "cp-validate: in.ndjson:2: invalid JSON: "* ]]
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "a complete last line without a newline is accepted" {
	doc 1 | head -c -1 >in.ndjson
	run cp-validate in.ndjson
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "empty and blank lines are skipped silently; CRLF accepted" {
	{ echo; doc 1; printf '   \t\n'; doc 2 | sed 's/$/\r/'; echo; } >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | wc -l)" 2
}

@test "missing required fields are named" {
	doc 1 | jq -c 'del(.url)' >in.ndjson
	echo '{"type":"gadget"}' >>in.ndjson
	echo '{"id":"x"}' >>in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	[[ "$stderr" == *'in.ndjson:1: missing field "url"'* ]]
	[[ "$stderr" == *'in.ndjson:2: unknown record type "gadget"'* ]]
	[[ "$stderr" == *'in.ndjson:3: missing field "type"'* ]]
}

@test "--reject appends the bad lines verbatim" {
	{ doc 1; echo 'nope'; echo '[1]'; doc 4; } >in.ndjson
	run cp-validate --reject rej.ndjson in.ndjson
	assert_equal "$status" 65
	assert_equal "$(cat rej.ndjson)" "$(printf 'nope\n[1]')"
	[ "$(stat -c %a rej.ndjson)" = 600 ]
}

@test "stdin is read as <stdin>, and '-' names it" {
	run --separate-stderr cp-validate <<<'{'
	assert_equal "$status" 65
	[[ "$stderr" == "cp-validate: <stdin>:1: invalid JSON"* ]]
	doc 1 >in.ndjson
	run cp-validate in.ndjson - <<<"$(doc 2)"
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 2
}

@test "a missing input file is exit 66 and the others are still read" {
	doc 1 >in.ndjson
	run --separate-stderr cp-validate nosuch.ndjson in.ndjson
	assert_equal "$status" 66
	assert_equal "$stderr" "cp-validate: nosuch.ndjson: No such file or directory"
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "a closed pipe ends the stage quietly with status 0" {
	for i in $(seq 1 20000); do doc "$i"; done >in.ndjson
	run bash -c 'set -o pipefail; cp-validate in.ndjson | head -1 >/dev/null; echo "${PIPESTATUS[0]}"'
	assert_output "0"
}

@test "a write error (/dev/full) fails loudly with exit 74" {
	doc 1 >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	run --separate-stderr bash -c 'cp-validate in.ndjson >/dev/full'
	assert_equal "$status" 74
	[[ "$stderr" == "cp-validate: write error: No space left on device" ]]
}

@test "a record version newer than the binary is refused" {
	doc 1 | jq -c '.v = 99' >in.ndjson
	run --separate-stderr cp-validate in.ndjson
	assert_equal "$status" 65
	[[ "$stderr" == *"record version 99 is newer than this binary understands (1)" ]]
}

@test "usage errors are exit 64; --help and --version exit 0" {
	run cp-validate --type gadget
	assert_equal "$status" 64
	run cp-validate --bogus
	assert_equal "$status" 64
	run cp-validate --help
	assert_success
	assert_output --partial "usage: cp-validate"
	run cp-validate --version
	assert_success
	assert_output --regexp '^cp-validate [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "records of every size across buffer boundaries come through intact" {
	python3 - >in.ndjson <<'PY'
import json, random
r = random.Random(7)
for i in range(300):
    n = r.choice([0, 1, 100, 65535, 65536, 65537, 131072, r.randint(0, 300000)])
    rec = {"type": "finding", "v": 1, "check": "size", "severity": "info",
           "entity": i, "detail": "ü" * (n // 2) + "x" * (n % 2), "fixed": False}
    print(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
PY
	run cp-validate in.ndjson
	assert_success
	assert_equal "$(cp-validate in.ndjson | sha256sum)" "$(sha256sum <in.ndjson)"
}
