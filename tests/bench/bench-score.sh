# cp-score throughput against `jq -c .` over the same signal NDJSON,
# measured in this run (issue 5: cp-score at least as fast as jq).
#
# Signals: cp-extract over the bench corpus when cp-extract is built,
# else a deterministic synthetic stream (same fields and sizes) made
# here.  The state file has the corpus's accounts (owned by five AMs),
# the example playbooks and assets; the clock is the newest fetch time,
# so recency is what it would be in a live run.
. "$CP_TOP/tests/bench/lib.sh"

W="$BENCH_DIR/score"
mkdir -p "$W/config/clientpulse" "$W/data"
export HOME="$W" XDG_CONFIG_HOME="$W/config" XDG_DATA_HOME="$W/data"
export CLIENTPULSE_DB="$W/state.db"
unset CLIENTPULSE_AS CLIENTPULSE_TENANT CLIENTPULSE_NOW

# bench_state: tenant acme, AMs am1..am5, the corpus's accounts, the
# example playbooks and assets (also used by bench-card.sh)
bench_state() {
	rm -f "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
	cp-init --tenant acme -q
	for u in am1 am2 am3 am4 am5; do cp-user add "$u" --role am -q; done
	jq -c '.owner = "am\((.id | ltrimstr("acc-") | tonumber) % 5 + 1)"' \
	    "$BENCH_DIR/accounts.ndjson" | cp-account import -q
	cp-playbook import -q "$CP_TOP/examples/playbooks.ndjson"
	cp-asset import -q "$CP_TOP/examples/assets.ndjson"
}

# synth_signals N: signal records shaped like cp-extract's, deterministic
synth_signals() {
	python3 - "$1" "$BENCH_DIR/accounts.ndjson" <<'PY'
import json, random, sys
n = int(sys.argv[1])
accts = [json.loads(l) for l in open(sys.argv[2])]
rnd = random.Random(5)
themes = ["m_and_a", "leadership_change", "funding", "earnings", "expansion",
          "layoffs", "product_launch", "partnership", "regulatory",
          "security_incident", "cost_cutting", "digital_transformation"]
words = ("the company said on monday that it will expand its platform and "
         "invest in new products for customers across several markets").split()
for i in range(n):
    a = rnd.choice(accts)
    th = rnd.choice(themes)
    ev = "%s announced a %s update worth $%d million." % (a["name"], th, rnd.randint(1, 900))
    text = ev + " " + " ".join(rnd.choice(words) for _ in range(rnd.randint(150, 450))) + "."
    day = 1 + i % 28
    rec = {"type": "signal", "v": 1, "id": "sig_%032x" % i, "document_id": "doc_%032x" % i,
           "tenant": "acme", "account_ids": [a["id"]], "source": "news",
           "source_name": rnd.choice(["Reuters", "Business Wire", "Trade Daily"]),
           "reliability": 0.75, "url": "https://news.example/%d" % i,
           "title": ev[:90], "published_at": "2026-11-%02dT08:00:00Z" % day,
           "fetched_at": "2026-11-%02dT09:00:00Z" % day, "text": text, "lang": "en",
           "entities": [{"kind": "org", "text": a["name"], "account_id": a["id"]},
                        {"kind": "money", "text": "$1 million", "value": 1e6 * rnd.randint(1, 900), "currency": "USD"},
                        {"kind": "person", "text": "Alex Kim", "role": rnd.choice(["CFO", "CTO", "VP Sales", None])}],
           "themes": [{"theme": th, "confidence": round(rnd.uniform(0.5, 0.99), 2), "evidence": ev, "negated": False}],
           "pii": {}, "chunks": [{"text": text[:400], "offset": 0}],
           "fingerprint": "%016x" % rnd.getrandbits(64)}
    print(json.dumps(rec, separators=(",", ":")))
PY
}

bench_state
if command -v cp-extract >/dev/null 2>&1; then
	cp-extract "$BENCH_DIR/docs.ndjson" >"$W/signals.ndjson" 2>/dev/null
	how="cp-extract over the corpus"
else
	synth_signals "$BENCH_DOCS" >"$W/signals.ndjson"
	how="synthetic"
fi
n=$(wc -l <"$W/signals.ndjson")
mb=$(du -m "$W/signals.ndjson" | cut -f1)
CLIENTPULSE_NOW=$(jq -r .fetched_at "$W/signals.ndjson" | sort | tail -1)
export CLIENTPULSE_NOW
echo "# cp-score: $n signals ($how, $mb MB); the clock at $CLIENTPULSE_NOW"

# best of three for both, alternating, so a busy neighbour hurts both alike
best_jq=999999 best_sc=999999
for i in 1 2 3; do
	t=$(BENCH_STDIN="$W/signals.ndjson" secs jq -c .)
	best_jq=$(awk -v a="$best_jq" -v b="$t" 'BEGIN {print (b < a) ? b : a}')
	t=$(BENCH_STDIN="$W/signals.ndjson" secs cp-score)
	best_sc=$(awk -v a="$best_sc" -v b="$t" 'BEGIN {print (b < a) ? b : a}')
done
opps=$(cp-score "$W/signals.ndjson" | wc -l)
jq_rate=$(awk -v n="$n" -v t="$best_jq" 'BEGIN {printf "%.0f", n / t}')
sc_rate=$(awk -v n="$n" -v t="$best_sc" 'BEGIN {printf "%.0f", n / t}')
ok=$(awk -v a="$sc_rate" -v b="$jq_rate" 'BEGIN {print (a >= b) ? "ok" : "MISS"}')
row "jq -c . over signals (signals/s)" "$jq_rate" "baseline, same run"
row "cp-score (signals/s)" "$sc_rate" ">= jq ($jq_rate) $ok"
row "cp-score vs jq (x)" "$(awk -v a="$sc_rate" -v b="$jq_rate" 'BEGIN {printf "%.2f", a / b}')" ">= 1.00 $ok"
row "cp-score opportunities emitted" "$opps" "of $n signals"
