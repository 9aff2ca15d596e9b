# cp-dedupe throughput (issue 4): at least 1.3x `jq -c .` over the same
# signal NDJSON, with 1,000 and with 1,000,000 fingerprints already stored
# (the banded index keeps the cost flat), peak RSS under 64 MB.  The
# stored fingerprints are synthetic rows (random signatures, bands and
# event rows spread over a year) written straight into the state file:
# going through cp-extract for a million documents would take the bench
# an hour and measure the same index.
. "$CP_TOP/tests/bench/lib.sh"
docs="$BENCH_DIR/docs.ndjson"
sigs="$BENCH_DIR/signals.ndjson"
export CLIENTPULSE_DB="$BENCH_DIR/dedupe.db"

if [ ! -s "$sigs" ]; then
	cp-init --tenant acme -q --db "$BENCH_DIR/accounts.db" 2>/dev/null
	cp-account import -q --db "$BENCH_DIR/accounts.db" \
	    "$BENCH_DIR/accounts.ndjson" 2>/dev/null || true
	cp-extract --db "$BENCH_DIR/accounts.db" "$docs" >"$sigs"
fi
n=$(wc -l <"$sigs")
mb=$(awk -v b="$(wc -c <"$sigs")" 'BEGIN {printf "%.0f", b / 1048576}')
row "dedupe: signals in the run" "$n ($mb MB)" ""

# a state file with N stored fingerprints
prefill() {
	rm -f "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
	cp-init --tenant acme -q
	sqlite3 "$CLIENTPULSE_DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < $1)
INSERT INTO dedupe_fingerprints (sig, tenant_id, signal_id, cluster_id,
    simhash, minhash, keys, published, textkey)
SELECT 100000000 + x, 1, 'sig_bench' || x, 'clu_bench' || x, random(),
    randomblob(128), 'a:acc-' || printf('%04d', x % 10000) || ' m:' || (x % 997) || '000000',
    1767225600 + abs(random() % 31536000), hex(randomblob(16)) FROM k;
INSERT INTO dedupe_bands (tenant_id, week, band, sig)
SELECT 1, f.published / 604800, abs(random()) + 1, f.sig
FROM dedupe_fingerprints f,
    (WITH RECURSIVE b(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM b
     WHERE y < 8) SELECT y FROM b);
INSERT OR IGNORE INTO dedupe_events (tenant_id, week, account_id, theme,
    published, sig, cluster_id)
SELECT 1, published / 604800, 'acc-' || printf('%04d', sig % 10000), 'm_and_a',
    published, sig, cluster_id FROM dedupe_fingerprints;
COMMIT;
SQL
}

jrate=$(filter_rate "$sigs" jq -c .)
row "jq -c . over the signals (signals/s)" "$jrate" "baseline"
for stored in 1000 1000000; do
	prefill "$stored"
	rate=$(filter_rate "$sigs" cp-dedupe)
	ratio=$(awk -v r="$rate" -v j="$jrate" 'BEGIN {printf "%.2f", r / j}')
	ok=$(awk -v x="$ratio" 'BEGIN {print (x >= 1.3) ? "ok" : "MISS"}')
	row "cp-dedupe, $stored stored (signals/s)" "$rate" ">= 1.3x jq"
	row "cp-dedupe / jq, $stored stored" "$ratio" ">= 1.3 $ok"
	eval "rate_$stored=$rate"
done
flat=$(awk -v a="$rate_1000" -v b="$rate_1000000" 'BEGIN {printf "%.2f", b / a}')
ok=$(awk -v x="$flat" 'BEGIN {print (x >= 0.8) ? "ok" : "MISS"}')
row "cp-dedupe rate 1,000,000 / 1,000 stored" "$flat" "about 1 (flat) $ok"

prefill 1000
rss=$(BENCH_STDIN="$sigs" peak_rss_mb cp-dedupe)
row "cp-dedupe peak RSS, 1x (MB)" "$rss" "< 64"
# four times the input under new ids: every copy is new work
for k in 1 2 3 4; do sed "s/\"id\":\"sig_/\"id\":\"sig_$k/" "$sigs"; done \
    >"$BENCH_DIR/sig4.ndjson"
prefill 1000
rss4=$(BENCH_STDIN="$BENCH_DIR/sig4.ndjson" peak_rss_mb cp-dedupe)
ok=$(awk -v a="$rss4" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
row "cp-dedupe peak RSS, 4x (MB)" "$rss4" "< 64, flat $ok"
rm -f "$BENCH_DIR/sig4.ndjson" "$CLIENTPULSE_DB"*
