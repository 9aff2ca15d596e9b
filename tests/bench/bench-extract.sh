# cp-extract throughput and memory (issue 4): at least 2,000 documents/s
# on one core over the bench corpus (about 5 KB of HTML each), with the
# accounts resolved from a state file; peak RSS flat as the input grows
# (under 64 MB; BENCH_GB=1 also runs a full gigabyte).
. "$CP_TOP/tests/bench/lib.sh"
docs="$BENCH_DIR/docs.ndjson"
export CLIENTPULSE_DB="$BENCH_DIR/extract.db"
cp-init --tenant acme -q 2>/dev/null
cp-account import -q "$BENCH_DIR/accounts.ndjson" 2>/dev/null || true

n=$(wc -l <"$docs")
kb=$(awk -v b="$(wc -c <"$docs")" -v n="$n" 'BEGIN {printf "%.1f", b / n / 1024}')
row "extract: corpus documents (avg KB)" "$n ($kb KB)" "about 5 KB"

rate=$(filter_rate "$docs" cp-extract)
ok=$(awk -v r="$rate" 'BEGIN {print (r >= 2000) ? "ok" : "MISS"}')
row "cp-extract (docs/s, wall)" "$rate" ">= 2000 $ok"
# per CPU second: the one-core figure, whatever else the machine is doing
cpu=$(BENCH_STDIN="$docs" cpu_secs cp-extract)
crate=$(awk -v n="$n" -v t="$cpu" 'BEGIN {printf "%.0f", n / (t > 0 ? t : 1e-9)}')
ok=$(awk -v r="$crate" 'BEGIN {print (r >= 2000) ? "ok" : "MISS"}')
row "cp-extract (docs per CPU second)" "$crate" ">= 2000 $ok"

jrate=$(filter_rate "$docs" jq -c .)
row "jq -c . over the same documents (docs/s)" "$jrate" "baseline"

rss1=$(BENCH_STDIN="$docs" peak_rss_mb cp-extract)
row "cp-extract peak RSS, 1x corpus (MB)" "$rss1" "< 64"
cat "$docs" "$docs" "$docs" "$docs" >"$BENCH_DIR/docs4.ndjson"
rss4=$(BENCH_STDIN="$BENCH_DIR/docs4.ndjson" peak_rss_mb cp-extract)
ok=$(awk -v a="$rss4" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
row "cp-extract peak RSS, 4x corpus (MB)" "$rss4" "< 64, flat $ok"
rm -f "$BENCH_DIR/docs4.ndjson"

if [ "${BENCH_GB:-0}" = 1 ]; then
	# a gigabyte, streamed: the corpus again and again
	python3 - "$docs" >"$BENCH_DIR/gb.ndjson" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
out, size = sys.stdout.buffer, 0
while size < 1 << 30:
    out.write(data); size += len(data)
PY
	rssg=$(BENCH_STDIN="$BENCH_DIR/gb.ndjson" peak_rss_mb cp-extract)
	ok=$(awk -v a="$rssg" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
	row "cp-extract peak RSS, 1 GB (MB)" "$rssg" "< 64 $ok"
	rm -f "$BENCH_DIR/gb.ndjson"
fi
