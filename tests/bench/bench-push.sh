# cp-push: actions per second and CPU time per action against the local
# fake CRMs (tests/servers/fake_crm.py), no faults (issue 8: >= 200
# actions/s with bounded concurrency, < 1 ms CPU per action).
#
# BENCH_PUSH_CARDS approved cards (default 500), each with a task and an
# opportunity for HubSpot and Salesforce: 4 actions a card.  Twenty
# accounts, half with their CRM ids stored and half found by domain (one
# search each), as a live tenant has.  Each measure starts from a copy of
# the same state file, with the fake CRM emptied.
. "$CP_TOP/tests/bench/lib.sh"

W="$BENCH_DIR/push"
rm -rf "$W"
mkdir -p "$W/config/clientpulse" "$W/data"
export HOME="$W" XDG_CONFIG_HOME="$W/config" XDG_DATA_HOME="$W/data"
unset CLIENTPULSE_AS CLIENTPULSE_TENANT
export CLIENTPULSE_NOW=2026-11-25T12:00:00Z
export CLIENTPULSE_DB="$W/template.db"
N=${BENCH_PUSH_CARDS:-500}
CONC=${BENCH_PUSH_CONCURRENCY:-8}

python3 "$CP_TOP/tests/servers/fake_crm.py" "$W/port" \
    --hubspot-token bench-hs --salesforce-token bench-sf >/dev/null 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
i=0
while [ ! -s "$W/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
CRM="http://127.0.0.1:$(cat "$W/port")"

# twenty accounts; even ones with stored CRM ids
seq 0 19 | jq -c '{id: "acc-\(.)", name: "Account \(.)",
    domain: "acc\(.).example.com"}
    + (if . % 2 == 0 then {hubspot_id: "\(5000 + .)",
       salesforce_id: "001\(5000 + . | tostring | ("0" * (12 - length)) + .)AAA"}
       else {} end)' >"$W/accounts.ndjson"
jq -s -c '{companies: map({id: "\(5000 + (.id | ltrimstr("acc-") | tonumber))",
    domain, name}), accounts: map({Id: "001\(5000 + (.id | ltrimstr("acc-")
    | tonumber) | tostring | ("0" * (12 - length)) + .)AAA",
    Website: "https://\(.domain)/", Name: .name})}' "$W/accounts.ndjson" |
    curl -s -H 'Content-Type: application/json' --data @- "$CRM/_seed" >/dev/null

cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[push]
targets = hubspot,salesforce
concurrency = $CONC
[hubspot]
base_url = $CRM
lookup_delay = 0
burst_limit = 0
[salesforce]
instance_url = $CRM
CONF
printf '[hubspot]\ntoken = bench-hs\n[salesforce]\naccess_token = bench-sf\n' \
    >"$XDG_CONFIG_HOME/clientpulse/credentials"
chmod 600 "$XDG_CONFIG_HOME/clientpulse/credentials"

cp-init --tenant acme -q
cp-account import -q "$W/accounts.ndjson"
cp-playbook import -q "$CP_TOP/examples/playbooks.ndjson"
jq -c --argjson n "$N" '
    select(.account_id == "fabrikam") as $o
    | range($n) as $i
    | ("\($i + 50000)" | ("0" * (32 - length)) + .) as $k
    | $o | .id = "opp_" + $k | .account_id = "acc-\($i % 20)"
    | .cluster_id = "clu_bench_" + $k | .signal_ids = ["sig_" + $k]
    | .evidence[0].signal_id = "sig_" + $k | .facts.account = null
    | del(.fixture_now)' "$CP_TOP/tests/fixtures/push/opportunities.ndjson" |
    cp-card -q | jq -r .id | cp-inbox approve -q -
actions=$(sqlite3 "$CLIENTPULSE_DB" 'SELECT count(*) FROM push_outbox')
sqlite3 "$CLIENTPULSE_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
echo "# cp-push: $N approved cards, $actions actions (HubSpot and Salesforce), concurrency $CONC"

fresh() {
	rm -f "$W/state.db" "$W/state.db-wal" "$W/state.db-shm"
	cp "$W/template.db" "$W/state.db"
	export CLIENTPULSE_DB="$W/state.db"
	curl -s -X POST "$CRM/_reset" >/dev/null
}

fresh
t=$(secs cp-push)
done=$(sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM push_outbox WHERE state = 'done'")
rate=$(awk -v n="$done" -v t="$t" 'BEGIN {printf "%.0f", n / t}')
ok=$(awk -v r="$rate" -v d="$done" -v a="$actions" 'BEGIN {print (r >= 200 && d == a) ? "ok" : "MISS"}')
row "cp-push actions/s (wall, local fake CRMs)" "$rate" ">= 200 $ok"
fresh
cpu=$(cpu_secs cp-push)
ms=$(awk -v n="$actions" -v t="$cpu" 'BEGIN {printf "%.3f", t * 1000 / n}')
ok=$(awk -v m="$ms" 'BEGIN {print (m < 1) ? "ok" : "MISS"}')
row "cp-push CPU per action (ms)" "$ms" "< 1 $ok"
t=$(secs cp-push)
row "cp-push re-run, nothing due (s)" "$t" "-"
row "requests per action" "$(curl -s "$CRM/_state" | jq --argjson a "$actions" \
    '.requests | length / $a * 100 | round / 100')" "-"
