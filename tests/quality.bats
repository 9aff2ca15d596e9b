#!/usr/bin/env bats
# Quality of cp-extract | cp-dedupe on the labeled corpus
# (tests/fixtures/labeled, its README says what the labels mean), scored
# by tests/quality/evaluate.py.  Every figure is printed beside the result
# and each test fails when its figure is under the bar of issue 4.

load helper

setup_file() {
	export QDIR="$BATS_FILE_TMPDIR/q"
	mkdir -p "$QDIR"
	export HOME="$QDIR/home" XDG_CONFIG_HOME="$QDIR/config" \
	    XDG_DATA_HOME="$QDIR/data" CLIENTPULSE_DB="$QDIR/state.db" LC_ALL=C.UTF-8
	mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
	cp-init --tenant acme-corp -q
	# the corpus keeps two fields accounts carry in meta
	jq -c '.meta = ({requires_company_cue, country} | with_entries(select(.value != null)))
	    | del(.requires_company_cue, .country) | with_entries(select(.value != null))' \
	    "$FIXTURES/labeled/accounts.ndjson" | cp-account import -q
	cp-extract "$FIXTURES/labeled/documents.ndjson" |
	    cp-dedupe --emit-updates >"$QDIR/signals.ndjson"
	python3 "$CP_TOP/tests/quality/evaluate.py" \
	    "$FIXTURES/labeled/labels.ndjson" "$FIXTURES/labeled/documents.ndjson" \
	    "$QDIR/signals.ndjson" >"$QDIR/figures.txt" || true
}

# figure NAME: its value; the test fails (showing the misses) under the bar
figure() {
	local line value target ok
	line=$(grep "^$1	" "$QDIR/figures.txt")
	IFS='	' read -r _ value target ok <<<"$line"
	measure "$1 = $value (bar $target)"
	if [ "$ok" != ok ]; then
		grep '^# ' "$QDIR/figures.txt" >&2
		return 1
	fi
}

@test "every document gives one signal" {
	assert_equal "$(wc -l <"$QDIR/signals.ndjson")" \
	    "$(wc -l <"$FIXTURES/labeled/documents.ndjson")"
}

@test "theme micro-F1 >= 0.85" { figure theme_micro_f1; }
@test "account attribution >= 0.95" { figure account_accuracy; }
@test "language >= 0.95" { figure language_accuracy; }
@test "pairwise cluster F1 >= 0.90" { figure cluster_pair_f1; }
@test "PII recall 1.0" { figure pii_recall; }
@test "no false card numbers" { figure false_cards; }
@test "decoys that only look like PII survive >= 0.95" { figure not_pii_kept; }
@test "boilerplate sentences dropped >= 0.95" { figure boilerplate_dropped; }
@test "body sentences kept >= 0.95" { figure body_kept; }

@test "figures without a bar (printed for the record)" {
	for f in theme_precision theme_recall negated_recall account_pair_f1 \
	    cluster_precision cluster_recall; do
		v=$(awk -F '\t' -v f="$f" '$1 == f {print $2}' "$QDIR/figures.txt")
		[ -n "$v" ]
		measure "$f = $v"
	done
}
