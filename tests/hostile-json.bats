#!/usr/bin/env bats
# tests/hostile-json.bats — the JSON parser conformance cases of
# JSONTestSuite (../shared/corpora/JSONTestSuite/test_parsing) fed to
# every stage that reads stdin, and JSON built to hurt: 1,000,000 nested
# arrays, numbers with 10,000 digits, duplicate keys, "\u0000".
#
# Each case is one NDJSON line (tests/fixtures/hostile/jsonsuite-streams
# builds the streams: one process per stage reads all the n_ cases, one
# all the y_, one all the i_), so a stage is checked line by line:
#
#   n_  every line rejected with exit 65 and exactly one one-line error
#       "prog: <stdin>:LINE: reason" naming it.  The two blank n_ files
#       (n_single_space, n_structure_no_data) are empty lines, which the
#       NDJSON convention skips without a word (ndjson.h);
#   y_  every line rejected for a stated reason, because none is a
#       record: "not a JSON object" (arrays, scalars), "missing field" or
#       "unknown field" (objects that are no record), "duplicate key"
#       (rejected by design: which value wins is undefined), "\u0000"
#       (refused by design: every string is a C string downstream);
#   i_  no crash, no hang, no sanitizer report; each line rejected at
#       most once.
# The cases with a newline inside (n_array_newlines_unclosed,
# n_array_unclosed_with_new_lines, n_string_unescaped_newline,
# y_array_with_1_and_newline, y_object_with_newlines) cannot be one NDJSON
# line: each physical line is a line, and each is rejected.
#
# cp-playbook and cp-asset import read hand-edited record files
# (recfile.h: NDJSON, a JSON array or pretty-printed objects), not NDJSON
# streams, so they get each case as its own file, named in the error.
# cp-inbox approve/reject - read card ids, one per line: each line is an
# id that is not a card id (exit 64, nothing decided).
#
# Under make check-asan all of this runs with ASan and UBSan.

load helper
bats_require_minimum_version 1.5.0

SUITE="$CORPORA/JSONTestSuite/test_parsing"

setup_file() {
	export STREAMS="$BATS_FILE_TMPDIR/streams"
	python3 "$CP_TOP/tests/fixtures/hostile/jsonsuite-streams" "$SUITE" \
	    "$STREAMS"
	# the multi-line cases, one after another: every physical line counts
	cat "$STREAMS"/n-multi/* "$STREAMS"/y-multi/* >"$STREAMS/multi.ndjson"
}

setup() {
	cp_setup
	cp-init --tenant acme -q
}

# check_stream CASES ERRFILE PROG MODE [EXTRA]: every stderr line is
# "PROG: <stdin>:LINE: reason" (or matches the regex EXTRA), each line of
# CASES is rejected as MODE (n, y, i) requires, for its category.
check_stream() {
	awk -v prog="$3" -v mode="$4" -v extra="${5:-}" '
	function ok(cat, r) {
		if (cat == "dup") return r ~ /duplicate/
		if (cat == "nul") return r ~ /u0000|NUL/ || r ~ /not a JSON object/
		if (cat == "notobj") return r ~ /not a JSON object|not an object/
		if (cat == "object") return r ~ /missing field|unknown field/
		return 1
	}
	FNR == NR { cat[$1] = $3; name[$1] = $2; next }
	{
		pfx = prog ": <stdin>:"
		if (index($0, pfx) == 1) {
			rest = substr($0, length(pfx) + 1)
			n = rest + 0
			reason = substr(rest, index(rest, ": ") + 2)
			count[n]++
			if (!(n in cat)) {
				print "rejected a line that is no case: " $0; bad++
			} else if (!ok(cat[n], reason)) {
				print name[n] " (" cat[n] "): unexpected reason: " reason
				bad++
			}
		} else if (extra == "" || $0 !~ extra) {
			print "stray message: " $0; bad++
		}
	}
	END {
		for (n in cat) {
			c = count[n] + 0
			if (cat[n] == "blank" && c != 0) {
				print name[n] ": blank, yet rejected"; bad++
			} else if (cat[n] != "blank" && mode != "i" && c != 1) {
				print name[n] ": rejected " c " times, not once"; bad++
			} else if (mode == "i" && c > 1) {
				print name[n] ": rejected " c " times"; bad++
			}
		}
		exit bad ? 1 : 0
	}' "$1" "$2"
}

# jsonsuite PROG ARGS...: the n_, y_ and i_ streams through one stage.
jsonsuite() {
	local prog=$1 extra="no active playbooks"
	local m
	for m in n y i; do
		run --separate-stderr "$@" <"$STREAMS/$m.ndjson"
		printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/$m.err"
		case $m in
		n|y)
			assert_equal "$status" 65
			assert_equal "$output" ""   # nothing passed on
			;;
		i)
			# 0 or 65; a crash would be 134/139, a sanitizer 99
			[ "$status" -eq 0 ] || assert_equal "$status" 65
			;;
		esac
		run check_stream "$STREAMS/$m.cases" "$BATS_TEST_TMPDIR/$m.err" \
		    "$prog" "$m" "$extra"
		assert_success
	done
	# the multi-line cases: every non-blank physical line rejected
	run --separate-stderr "$@" <"$STREAMS/multi.ndjson"
	assert_equal "$status" 65
	assert_equal "$output" ""
	local want got
	want=$(grep -c -v '^[[:space:]]*$' "$STREAMS/multi.ndjson")
	got=$(printf '%s\n' "$stderr" | grep -o "^$prog: <stdin>:[0-9]*:" |
	    sort -u | wc -l | tr -d ' ')
	assert_equal "$got" "$want"
}

@test "JSONTestSuite: cp-validate rejects every n_ and y_ line for its reason" {
	jsonsuite cp-validate
}

@test "JSONTestSuite: cp-extract" {
	jsonsuite cp-extract
}

@test "JSONTestSuite: cp-dedupe (its own one-pass JSON scan)" {
	jsonsuite cp-dedupe
}

@test "JSONTestSuite: cp-score (its own one-pass JSON scan)" {
	jsonsuite cp-score
}

@test "JSONTestSuite: cp-card (its own one-pass JSON scan)" {
	jsonsuite cp-card
}

@test "JSONTestSuite: cp-account import" {
	jsonsuite cp-account import
}

@test "JSONTestSuite: cp-fetch --stdin" {
	jsonsuite cp-fetch --stdin
}

# importfiles PROG SUB: each case as its own file; n_ all named, y_ each
# rejected for a reason or holding no record at all ([] is an empty file
# of records), i_ no crash.
importfiles() {
	local prog=$1 sub=$2 f b
	run --separate-stderr "$prog" "$sub" "$SUITE"/n_*.json
	assert_equal "$status" 65
	for f in "$SUITE"/n_*.json; do
		b=$(basename "$f")
		case $b in n_single_space.json|n_structure_no_data.json) continue ;;
		esac
		[[ $stderr == *"$prog: $f:"[0-9]*": "* ]] ||
		    fail "$prog $sub: $b not rejected"
	done
	# nothing of an n_ file was stored
	run "$prog" list --json
	assert_equal "$status" 0
	assert_equal "$(jq -s length <<<"$output")" 0

	run --separate-stderr "$prog" "$sub" "$SUITE"/y_*.json
	assert_equal "$status" 65
	for f in "$SUITE"/y_*.json; do
		b=$(basename "$f")
		if [[ $stderr != *"$prog: $f:"* ]]; then
			# accepted without a word: it holds no object at all
			jq -e 'type == "array" and length == 0' "$f" >/dev/null ||
			    fail "$prog $sub: $b neither rejected nor empty"
		fi
	done
	run --separate-stderr "$prog" "$sub" "$SUITE"/i_*.json
	[ "$status" -eq 0 ] || assert_equal "$status" 65
}

@test "JSONTestSuite: cp-playbook import, one file per case" {
	importfiles cp-playbook import
}

@test "JSONTestSuite: cp-asset import, one file per case" {
	importfiles cp-asset import
}

@test "recfile: arrays are JSON too ([,], [, [][], a NUL, a missing comma), NUL bytes refused" {
	# regression: the array form skipped stray commas, accepted an
	# unclosed "[" and text after "]", and took NUL bytes for spaces
	local pb='{"id":"p1","name":"P","themes":["funding"],"offer":"o","next_step":"n"}'
	printf '[,]' >empty-comma.json
	printf '[' >open.json
	printf '[][]' >twice.json
	printf '[\0]' >nul.json
	printf '[%s %s]' "$pb" "$pb" >nocomma.json
	printf '{"id":"a"}\0{"id":"b"}' >nul-between.json
	for f in empty-comma open twice nul nocomma nul-between; do
		run --separate-stderr cp-asset import "$f.json"
		assert_equal "$status" 65
		[[ $stderr == *"cp-asset: $f.json:1: invalid JSON"* ]] ||
		    fail "$f: $stderr"
	done
	# jansson reads "[1\0]" as [1]: a NUL after a number was taken
	printf '{"id":"a","tier":1\0}\n' >nul-number.json
	run --separate-stderr cp-asset import nul-number.json
	assert_equal "$status" 65
	[[ $stderr == *"cp-asset: nul-number.json:1: NUL byte at byte 19"* ]] ||
	    fail "$stderr"
	printf '[ %s ,\n %s ]\n' '{"id":"a1","kind":"case_study","title":"A","url":"https://x.example/a","themes":["funding"]}' \
	    '{"id":"a2","kind":"case_study","title":"B","url":"https://x.example/b","themes":["funding"]}' >good.json
	run cp-asset import good.json
	assert_equal "$status" 0
	run cp-asset list --json
	assert_equal "$(jq -s length <<<"$output")" 2
}

@test "JSONTestSuite: cp-inbox approve/reject - take each line as an id: none is one" {
	local m noid='^cp-inbox: .*: (not a card id|card id prefix too short)'
	[ "$(grep -c . "$STREAMS/n.ndjson")" -gt 150 ]
	for m in n y i; do
		run --separate-stderr cp-inbox approve - <"$STREAMS/$m.ndjson"
		assert_equal "$status" 64
		assert_equal "$output" ""
		# every message says the line is no card id, and nothing else
		# (a message longer than the logger's 4 KiB is cut, reason and all)
		! printf '%s\n' "$stderr" | LC_ALL=C grep -a -v -E "$noid" |
		    LC_ALL=C grep -a -v -E '^cp-inbox: .{4000}' | grep -a -q . ||
		    fail "unexpected: $(printf '%s\n' "$stderr" | grep -a -v -E "$noid" |
		    cut -c1-200 | head -3)"
	done
	run --separate-stderr cp-inbox reject --reason other - <"$STREAMS/n.ndjson"
	assert_equal "$status" 64
	run sqlite3 "$CLIENTPULSE_DB" "SELECT (SELECT count(*) FROM decisions) + (SELECT count(*) FROM audit WHERE action LIKE '%approve%' OR action LIKE '%reject%')"
	assert_output 0
}

# ---- JSON built to hurt ----------------------------------------------

# every NDJSON stage, one after another, on the same file
all_stages() {
	local f=$1 want=$2 s
	for s in cp-validate cp-extract cp-dedupe cp-score cp-card \
	    "cp-account import" "cp-fetch --stdin"; do
		# shellcheck disable=SC2086
		run --separate-stderr timeout 120 $s <"$f"
		[ "$status" -eq "$want" ] || fail "$s: status $status, want $want: ${stderr:0:300}"
	done
}

@test "hostile JSON: 1,000,000 nested arrays and objects: rejected, not a stack overflow" {
	python3 -c 'import sys; w = sys.stdout.write
w("[" * 1000000 + "]" * 1000000 + "\n")
w("{\"type\":\"signal\",\"a\":" + "[" * 1000000 + "]" * 1000000 + "}\n")
w("{\"type\":\"signal\",\"a\":" + "{\"b\":" * 1000000 + "1" + "}" * 1000000 + "}\n")
w("{" * 500000 + "\n")' >deep.ndjson
	all_stages deep.ndjson 65
	local s
	for s in cp-validate cp-dedupe cp-score; do
		run --separate-stderr "$s" deep.ndjson
		assert_equal "$status" 65
		[[ $stderr == *"deep.ndjson:1: "* && $stderr == *"deep.ndjson:2: "* &&
		    $stderr == *"deep.ndjson:3: "* && $stderr == *"deep.ndjson:4: "* ]] ||
		    fail "$s: $stderr"
		[[ $stderr =~ deep.ndjson:2:\ invalid\ JSON:\ [^$'\n']*(depth|deep) ]] ||
		    fail "$s: line 2 not rejected for its depth: $stderr"
	done
}

@test "hostile JSON: numbers with 10,000 digits are rejected or kept exactly, never rounded silently" {
	local big
	big=$(python3 -c 'print("9" * 10000)')
	printf '{"n":%s}\n{"n":0.%s}\n{"n":1e%s}\n{"n":-%s}\n' "$big" "$big" \
	    "$big" "$big" >digits.ndjson
	all_stages digits.ndjson 65
	run --separate-stderr cp-validate digits.ndjson
	assert_equal "$status" 65
	# the integer and the exponent overflow: rejected, each on its line
	[[ $stderr == *"digits.ndjson:1: "* ]]
	[[ $stderr == *"digits.ndjson:3: "* ]]
	[[ $stderr == *"digits.ndjson:4: "* ]]
	# 0.999… is a double: kept, and a record passes through cp-validate
	# byte for byte (its line as it came)
	printf '{"type":"finding","v":1,"check":"x","severity":"info","entity":null,"detail":"d","fixed":false,"n":0.%s}\n' \
	    "$big" >finding.ndjson
	run cp-validate finding.ndjson
	assert_equal "$status" 0
	assert_equal "$output" "$(cat finding.ndjson)"
}

@test "hostile JSON: duplicate keys are rejected by every stage, even deep inside" {
	printf '%s\n' '{"type":"document","type":"signal"}' \
	    '{"type":"document","meta":{"a":1,"a":2}}' \
	    '{"a":[{"b":1,"b":1}]}' \
	    '{"type":"signal","t\u0065xt":"a","text":"b"}' >dup.ndjson
	all_stages dup.ndjson 65
	local s
	for s in cp-validate cp-extract cp-dedupe cp-score cp-card; do
		run --separate-stderr "$s" dup.ndjson
		assert_equal "$status" 65
		[[ $stderr == *"dup.ndjson:1: invalid JSON: duplicate"* ]] ||
		    fail "$s: line 1: $stderr"
		# deeper down, the one-pass scanners of cp-dedupe, cp-score and
		# cp-card name the member whose value does not load
		[[ $stderr =~ dup.ndjson:2:\ invalid\ JSON:\ [^$'\n']*(duplicate|member) ]] ||
		    fail "$s: line 2: $stderr"
		[[ $stderr =~ dup.ndjson:3:\ invalid\ JSON:\ [^$'\n']*(duplicate|member) ]] ||
		    fail "$s: line 3: $stderr"
		[[ $stderr == *"dup.ndjson:4: "* ]] || fail "$s: line 4: $stderr"
	done
}

@test "hostile JSON: \\u0000 in strings and keys is refused, a raw NUL byte too" {
	printf '%s\n' '{"type":"document","title":"a\u0000b"}' \
	    '{"type\u0000":"document"}' >nul.ndjson
	printf '{"type":"document","title":"a\0b"}\n' >>nul.ndjson
	all_stages nul.ndjson 65
	local s
	for s in cp-validate cp-extract cp-dedupe cp-score cp-card; do
		run --separate-stderr "$s" nul.ndjson
		assert_equal "$status" 65
		[[ $stderr == *"nul.ndjson:1: "*u0000* ]] || fail "$s: $stderr"
		[[ $stderr == *"nul.ndjson:2: "* ]] || fail "$s: $stderr"
		[[ $stderr == *"nul.ndjson:3: NUL byte at byte 30"* ]] ||
		    fail "$s: $stderr"
	done
}

@test "JSONTestSuite: cp-push - (card ids or records on stdin): no crash, nothing pushed, records rejected by line" {
	printf '[push]\ntargets = file\n[file]\npath = %s/pushed.ndjson\n' "$T" \
	    >"$XDG_CONFIG_HOME/clientpulse/config"
	local m
	for m in n y i; do
		run --separate-stderr cp-push - <"$STREAMS/$m.ndjson"
		[ "$status" -eq 0 ] || assert_equal "$status" 65
		assert_equal "$output" ""
		# every n_ line that tries to be a record is rejected by line (a
		# y_ object with an "id" names a card that is not there)
		[ "$m" = n ] || continue
		awk '$3 != "blank" { print $1 }' "$STREAMS/$m.cases" | while read -r n; do
			line=$(sed -n "${n}p" "$STREAMS/$m.ndjson" | tr -d '\0')
			[ "${line:0:1}" = "{" ] || continue
			[[ $stderr == *"cp-push: <stdin>:$n: "* ]] ||
			    { echo "line $n not rejected: ${line:0:80}"; return 1; }
		done
	done
	[ ! -s "$T/pushed.ndjson" ]
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM push_outbox"
	assert_output 0
}

@test "JSONTestSuite: cp-search - (one query a line): every line a query or rejected, never an SQL error" {
	local m
	for m in n y i; do
		run --separate-stderr cp-search --json - <"$STREAMS/$m.ndjson"
		case $status in 0|1|65) ;; *) fail "$m: status $status: ${stderr:0:300}" ;; esac
		[[ $stderr != *"SQL"* && $stderr != *"fts5"* && $stderr != *"syntax error"* ]] ||
		    fail "$m: ${stderr:0:300}"
	done
}
