#!/usr/bin/env bats
# cp-report: the KPIs on a fixture state with known answers
# (tests/fixtures/ops/report.sql), who sees which rows, and the text,
# JSON, CSV and HTML renderings.

load helper
load fixtures/ops/ops

PERIOD="--since 2026-11-01 --until 2026-11-29"

setup() {
	cp_setup
	ops_config
	ops_ran_state
	sql <"$FIXTURES/ops/report.sql"
}

# field LEVEL NAME EXPR: a value of one row of --json, by a Python expression
field() {
	python3 -c '
import json, sys
level, name, expr = sys.argv[1:4]
for l in open(sys.argv[4]):
    r = json.loads(l)
    if r["level"] == level and r["name"] == name:
        v = eval(expr, {}, r)
        print(round(v, 4) if isinstance(v, float) else json.dumps(v) if isinstance(v, (list, dict)) or v is None else v)
        break
else:
    sys.exit("no row " + level + " " + name)' "$1" "$2" "$3" "$T/report.json"
}

report_json() {
	cp-report $PERIOD --json "$@" >"$T/report.json"
}

@test "the numbers: alice" {
	report_json
	assert_equal "$(field am alice cards)" 10
	assert_equal "$(field am alice accounts)" 7
	assert_equal "$(field am alice coverage)" 0.3571
	assert_equal "$(field am alice decided)" 5
	assert_equal "$(field am alice approved)" 4
	assert_equal "$(field am alice relevance)" 0.8
	assert_equal "$(field am alice 'time_to_card["p50"]')" 300.0
	assert_equal "$(field am alice 'time_to_card["p95"]')" 3600.0
	assert_equal "$(field am alice 'time_to_review["p50"]')" 10800.0
	assert_equal "$(field am alice 'time_to_review["p95"]')" 18000.0
	assert_equal "$(field am alice stuck)" '{"reviews": 1, "pushes": 1, "documents": 0, "total": 2}'
	assert_equal "$(field am alice explained)" 9
	assert_equal "$(field am alice explainability)" 0.9
	assert_equal "$(field am alice pushes)" '{"done": 0, "failed": 1}'
	assert_equal "$(field am alice weekly)" '[2, 0, 0, 8]'
	assert_equal "$(field am alice on_target)" '{"coverage": false, "relevance": true, "stuck": false, "explainability": false}'
}

@test "the numbers: bob, the team and the tenant" {
	report_json
	assert_equal "$(field am bob cards)" 1
	assert_equal "$(field am bob coverage)" 0.05
	assert_equal "$(field am bob relevance)" 1.0
	assert_equal "$(field am bob 'time_to_card["p95"]')" 30.0
	assert_equal "$(field am bob 'time_to_review["p50"]')" 1800.0
	assert_equal "$(field am bob pushes)" '{"done": 1, "failed": 0}'
	assert_equal "$(field am bob 'stuck["total"]')" 0
	assert_equal "$(field team mona cards)" 11
	assert_equal "$(field team mona accounts)" 12
	assert_equal "$(field team mona coverage)" 0.2292
	assert_equal "$(field team mona relevance)" 0.8333
	assert_equal "$(field team mona 'time_to_card["p50"]')" 300.0
	assert_equal "$(field team mona 'time_to_card["p95"]')" 3600.0
	assert_equal "$(field team mona 'time_to_review["p50"]')" 7200.0
	assert_equal "$(field team mona 'time_to_review["p95"]')" 18000.0
	assert_equal "$(field team mona explainability)" 0.9091
	assert_equal "$(field team mona weekly)" '[2, 0, 0, 9]'
	assert_equal "$(field tenant acme cards)" 11
	assert_equal "$(field tenant acme 'stuck["total"]')" 2
	assert_equal "$(field tenant acme pushes)" '{"done": 1, "failed": 1}'
}

@test "who sees what: an AM their row, a manager the team, an admin the tenant" {
	cp-user add carl --role am --manager mona -q
	cp-user add vera --role viewer -q
	report_json --as alice
	assert_equal "$(cut -d, -f4,5 "$T/report.json")" '"level":"am","name":"alice"'
	report_json --as bob
	assert_equal "$(cut -d, -f4,5 "$T/report.json")" '"level":"am","name":"bob"'
	report_json --as mona
	assert_equal "$(cut -d, -f4,5 "$T/report.json" | tr '\n' ' ')" \
	    '"level":"team","name":"mona" "level":"am","name":"alice" "level":"am","name":"bob" "level":"am","name":"carl" '
	report_json
	assert_equal "$(cut -d, -f4,5 "$T/report.json" | tr '\n' ' ')" \
	    '"level":"tenant","name":"acme" "level":"team","name":"mona" "level":"am","name":"alice" "level":"am","name":"bob" "level":"am","name":"carl" '
	# an AM with nothing yet: zeros, and nothing to judge
	assert_equal "$(field am carl cards)" 0
	assert_equal "$(field am carl coverage)" null
	run cp-report --as vera
	assert_equal "$status" 77
	assert_output "cp-report: permission denied: role viewer may not read reports"
}

@test "the text report: a table, off-target marks and a sparkline per week" {
	run env COLUMNS=200 cp-report $PERIOD
	assert_equal "$status" 0
	assert_line "ClientPulse report for acme: 2026-11-01 to 2026-11-29 (28 days, 4 weeks)"
	assert_line --regexp '^am +Alice Ng +10 +7 +0\.36\* +80% +5m/60m +3\.0h/5\.0h +2\* +90%\* +0 +1 +▃▁▁█$'
	assert_line --regexp '^am +Bob Diaz +1 +5 +0\.05\* +100% +30s/30s +30m/30m +0 +100% +1 +0 +▁▁▁█$'
	assert_line --partial "* off target: coverage 2-3 cards per account per week"
	# without a UTF-8 locale the sparkline is ASCII
	LC_ALL=C run cp-report $PERIOD --as alice
	assert_line --regexp ' -__#$'
}

@test "--csv: one row per level, empty fields for nothing to measure" {
	cp-user add carl --role am --manager mona -q
	run cp-report $PERIOD --csv
	assert_equal "$status" 0
	python3 - "$output" <<'PY'
import csv, io, sys
rows = list(csv.DictReader(io.StringIO(sys.argv[1]), strict=True))
by = {(r["level"], r["name"]): r for r in rows}
a = by[("am", "alice")]
assert a["cards"] == "10" and a["relevance"] == "0.8", a
assert a["ttc_p50_s"] == "300" and a["ttr_p95_s"] == "18000", a
assert a["coverage"] == "0.3571", a
assert a["weekly"] == "2 0 0 8", a
assert by[("am", "carl")]["coverage"] == "", by[("am", "carl")]
assert len(rows) == 5
PY
}

@test "--since and --until: the period moves the numbers; bad values are usage errors" {
	report_json --since 2026-11-20 --until 2026-11-29
	# the cards of 2026-11-05 and their decisions fall outside
	assert_equal "$(field am alice cards)" 8
	assert_equal "$(field am alice decided)" 3
	assert_equal "$(field am alice weekly)" '[0, 8]'
	run cp-report --since yesterday
	assert_equal "$status" 64
	run cp-report --since 2026-11-29 --until 2026-11-01
	assert_equal "$status" 64
	run cp-report --json --csv
	assert_equal "$status" 64
}

@test "--html: a self-contained page with SVG charts and no external assets" {
	run cp-report $PERIOD --html "$T/report.html"
	assert_equal "$status" 0
	assert_output ""
	python3 - "$T/report.html" <<'PY'
import re, sys
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    void = {"meta", "br", "img", "input", "link", "hr", "col", "rect", "line"}
    def __init__(self):
        super().__init__(); self.stack = []; self.svgs = []; self.bad = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object"):
            self.bad.append(tag)
        for k in ("src", "href"):
            if k in a: self.bad.append(k + "=" + a[k])
        if tag == "svg": self.svgs.append(a.get("id"))
        if tag not in self.void: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        if tag == "svg": self.svgs.append(dict(attrs).get("id"))
    def handle_endtag(self, tag):
        if tag in self.void: return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
p = P(); p.feed(text); p.close()
assert not p.stack, p.stack
assert not p.bad, p.bad
assert p.svgs == ["chart-weekly", "chart-relevance", "chart-time-to-card"], p.svgs
assert "Alice Ng" in text and "target 70%" in text
assert not re.search(r"url\(|@import", text)
PY
	# names are escaped
	sql "UPDATE users SET name = '<b>Alice</b> & co' WHERE login = 'alice'"
	cp-report $PERIOD --html "$T/esc.html"
	grep -q '&lt;b&gt;Alice&lt;/b&gt; &amp; co' "$T/esc.html"
	! grep -q '<b>Alice' "$T/esc.html"
	run cp-report --html /no/such/dir/r.html
	assert_equal "$status" 73
}

@test "--html in headless Chromium: it loads without console errors and shows the charts" {
	chromium=$(command -v chromium || command -v chromium-browser || true)
	[ -n "$chromium" ] || skip "chromium not installed"
	cp-report $PERIOD --html "$T/report.html"
	run timeout 60 "$chromium" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$T/chromium" --enable-logging=stderr --v=0 \
	    --dump-dom "file://$T/report.html"
	assert_equal "$status" 0
	assert_output --partial '<svg id="chart-weekly"'
	assert_output --partial '<svg id="chart-relevance"'
	assert_output --partial '<svg id="chart-time-to-card"'
	refute_output --partial "CONSOLE"
}
