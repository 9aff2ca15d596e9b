#!/usr/bin/env bats
# cp-metrics: Prometheus text format, parsed back by a strict parser
# (tests/promparse.py), with values checked against a known state.

load helper
load fixtures/ops/ops

T0=2026-11-25T12:00:00Z

setup() {
	cp_setup
	ops_config
	ops_ran_state
}

promparse() {
	python3 "$CP_TOP/tests/promparse.py" "$@"
}

# value NAME LABELS-JSON: the sample's value in $T/samples
value() {
	python3 -c '
import json, sys
name, labels = sys.argv[1], json.loads(sys.argv[2])
for l in open(sys.argv[3]):
    s = json.loads(l)
    if s["name"] == name and all(s["labels"].get(k) == v for k, v in labels.items()):
        v = s["value"]
        print(int(v) if isinstance(v, float) and v.is_integer() else v)
        break
else:
    sys.exit("no sample " + name + str(labels))' "$1" "$2" "$T/samples"
}

metrics() {
	at "$1" cp-metrics >"$T/metrics.prom"
	promparse "$T/metrics.prom" >"$T/samples"
}

@test "the exposition parses strictly and counts the state" {
	metrics $T0
	assert_equal "$(value clientpulse_documents_total '{"source":"sec","tenant":"acme"}')" 10
	assert_equal "$(value clientpulse_documents_total '{"source":"news"}')" 6
	assert_equal "$(value clientpulse_documents_total '{"source":"jobs"}')" 7
	assert_equal "$(value clientpulse_documents_pending '{}')" 0
	assert_equal "$(value clientpulse_signals_total '{}')" 23
	assert_equal "$(value clientpulse_cards '{"status":"pending_review"}')" 12
	assert_equal "$(value clientpulse_cards '{"status":"approved"}')" 0
	assert_equal "$(value clientpulse_runs_total '{"status":"ok"}')" 1
	assert_equal "$(value clientpulse_stage_records_out '{"stage":"fetch"}')" 23
	assert_equal "$(value clientpulse_stage_records_in '{"stage":"card"}')" 12
	assert_equal "$(value clientpulse_stage_exit_status '{"stage":"card"}')" 0
	t0=$(date -u -d $T0 +%s)
	assert_equal "$(value clientpulse_stage_last_success_timestamp_seconds '{"stage":"card"}')" "$t0"
	assert_equal "$(value clientpulse_run_last_start_timestamp_seconds '{}')" "$t0"
	assert_equal "$(value clientpulse_stuck '{"kind":"documents"}')" 0
	assert_equal "$(value clientpulse_time_to_card_seconds_count '{}')" 12
	assert_equal "$(value clientpulse_metrics_generated_timestamp_seconds '{}')" "$t0"
	# every family has HELP and TYPE, and only ours are there
	run grep -c '^# TYPE clientpulse_' "$T/metrics.prom"
	assert_equal "$output" "$(grep -c '^# HELP clientpulse_' "$T/metrics.prom")"
	run grep -v '^#' "$T/metrics.prom"
	refute_output --regexp '^[^c]'
	measure "$(wc -l <"$T/samples") samples in $(grep -c '^# TYPE' "$T/metrics.prom") families"
}

@test "time to card and time to review: histograms with known answers" {
	# first fetch at T0; cards committed 0 s, 10 s, 2 min and 2 h later
	sql "UPDATE cards SET first_fetched_at = '$T0', created_at = CASE
	    WHEN rowid % 6 IN (0, 1) THEN '2026-11-25T12:00:00Z'
	    WHEN rowid % 6 IN (2, 3) THEN '2026-11-25T12:00:10Z'
	    WHEN rowid % 6 = 4 THEN '2026-11-25T12:02:00Z'
	    ELSE '2026-11-25T14:00:00Z' END"
	run sql "SELECT created_at, count(*) FROM cards GROUP BY 1"
	assert_output - <<'EOF'
2026-11-25T12:00:00Z|4
2026-11-25T12:00:10Z|4
2026-11-25T12:02:00Z|2
2026-11-25T14:00:00Z|2
EOF
	# two decided an hour after they were made
	sql "UPDATE cards SET status = 'approved', decided_at =
	    strftime('%Y-%m-%dT%H:%M:%SZ', julianday(created_at) + 1.0/24)
	    WHERE rowid IN (SELECT rowid FROM cards ORDER BY rowid LIMIT 2)"
	metrics 2026-11-26T00:00:00Z
	for le_n in 1:4 5:4 15:8 60:8 300:10 3600:10 7200:12 +Inf:12; do
		assert_equal "$(value clientpulse_time_to_card_seconds_bucket \
		    "{\"le\":\"${le_n%%:*}\"}")" "${le_n#*:}"
	done
	assert_equal "$(value clientpulse_time_to_card_seconds_sum '{}')" 14680
	assert_equal "$(value clientpulse_time_to_card_seconds_count '{}')" 12
	assert_equal "$(value clientpulse_time_to_review_seconds_bucket '{"le":"1800"}')" 0
	assert_equal "$(value clientpulse_time_to_review_seconds_bucket '{"le":"3600"}')" 2
	assert_equal "$(value clientpulse_time_to_review_seconds_sum '{}')" 7200
	assert_equal "$(value clientpulse_cards '{"status":"approved"}')" 2
	assert_equal "$(value clientpulse_cards '{"status":"pending_review"}')" 10
}

@test "stuck counts: documents never carried, reviews past the SLA, pushes left sending" {
	cp "$BATS_FILE_TMPDIR/base.db" "$CLIENTPULSE_DB"
	at $T0 clientpulse run --stages fetch
	metrics 2026-11-25T12:30:00Z
	assert_equal "$(value clientpulse_stuck '{"kind":"documents"}')" 0
	metrics 2026-11-25T14:00:00Z
	assert_equal "$(value clientpulse_stuck '{"kind":"documents"}')" 23
	assert_equal "$(value clientpulse_stage_records_out '{"stage":"fetch"}')" 23
	ops_ran_state
	metrics 2026-11-27T13:00:00Z
	assert_equal "$(value clientpulse_stuck '{"kind":"reviews"}')" 12
	sql "INSERT INTO push_outbox(tenant_id, card_id, account_id, target,
	    action, idem_key, payload, state, created_at, updated_at, sent_at)
	    SELECT tenant_id, id, account_id, 'file', 'note', 'cpk_' || id, '{}',
	    'sending', '$T0', '$T0', '$T0' FROM cards LIMIT 3"
	metrics 2026-11-25T14:00:00Z
	assert_equal "$(value clientpulse_stuck '{"kind":"pushes"}')" 3
	assert_equal "$(value clientpulse_pushes '{"target":"file","state":"sending"}')" 3
	# reconcile's last results come along
	at 2026-11-27T13:00:00Z cp-reconcile --check review_sla >/dev/null 2>&1 || true
	metrics 2026-11-27T13:00:00Z
	assert_equal "$(value clientpulse_reconcile_findings '{"check":"review_sla"}')" 12
}

@test "--textfile writes DIR/clientpulse_TENANT.prom atomically, readable by node_exporter" {
	mkdir tf
	umask 077
	run cp-metrics --textfile tf
	assert_equal "$status" 0
	assert_output ""
	[ -f tf/clientpulse_acme.prom ]
	assert_equal "$(stat -c %a tf/clientpulse_acme.prom)" 644
	promparse tf/clientpulse_acme.prom >/dev/null
	ino=$(stat -c %i tf/clientpulse_acme.prom)
	# a reader holding the old file keeps a whole file: it was replaced,
	# not rewritten in place
	exec 4<tf/clientpulse_acme.prom
	run cp-metrics --textfile tf
	assert_equal "$status" 0
	[ "$(stat -c %i tf/clientpulse_acme.prom)" != "$ino" ]
	promparse /dev/fd/4 >/dev/null
	exec 4<&-
	assert_equal "$(ls -A tf)" clientpulse_acme.prom
	run cp-metrics --textfile no/such/dir
	assert_equal "$status" 73
	assert_output --partial "cp-metrics: no/such/dir: No such file or directory"
}

@test "errors: non-admins, write errors, usage" {
	run cp-metrics --as alice
	assert_equal "$status" 77
	assert_output --partial "role am may not read the tenant's metrics"
	run sh -c 'cp-metrics >/dev/full'
	assert_equal "$status" 74
	run cp-metrics --stuck-after never
	assert_equal "$status" 64
	run cp-metrics extra
	assert_equal "$status" 64
}

@test "the strict parser refuses what Prometheus would" {
	good=$'# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 1\n'
	printf '%s' "$good" | promparse >/dev/null
	bad() {
		run promparse <<<"$1"
		assert_equal "$status" 1
		assert_output --partial "$2"
	}
	printf '%s' "${good%?}" >"$T/nonl"
	run promparse "$T/nonl"
	assert_equal "$status" 1
	bad $'# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1' "not contiguous"
	bad $'a{x="\\q"} 1' "bad escape"
	bad $'a{x="1",x="2"} 1' "given twice"
	bad $'a{x="1"} 1\na{x="1"} 2' "given twice"
	bad $'9a 1' "must start with a metric name"
	bad $'a one' "not a number"
	bad $'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 4' "!= _count"
	bad $'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1' "decrease"
	bad $'# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2' "+Inf"
	bad $'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_count 1' "lacks _sum"
	bad $'# TYPE c counter\nc 1' "not named *_total"
	bad $'a 1\n# TYPE a gauge' "after its samples"
	bad $'# TYPE a gauge\n# TYPE a gauge\na 1' "second TYPE"
	bad $'a 1\n\nb 1' "empty line"
	bad $'a{__x="1"} 1' "reserved"
	bad $'a{le="1"} 1' "le outside"
}
