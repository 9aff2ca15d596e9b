# Start-up cost of every binary: median wall time of `NAME --version` over
# 21 runs.  Targets (issue: foundation): under 5 ms for binaries that do
# not speak HTTP, under 20 ms for those that do; libcurl alone costs about
# 12 ms of dynamic loading, so only the HTTP binaries may link it.
. "$CP_TOP/tests/bench/lib.sh"
for b in "$CP_BIN"/*; do
	name=$(basename "$b")
	if ldd "$b" | grep -q libcurl; then target="< 20 ms (http)"; lim=20
	else target="< 5 ms"; lim=5; fi
	ms=$(median 21 "$b" --version | awk '{printf "%.2f", $1 * 1000}')
	ok=$(awk -v m="$ms" -v l="$lim" 'BEGIN {print (m < l) ? "ok" : "MISS"}')
	row "startup $name (ms)" "$ms" "$target $ok"
done
# the baseline every stage is compared with in this run
n=$(wc -l <"$BENCH_DIR/docs.ndjson")
t=$(BENCH_STDIN="$BENCH_DIR/docs.ndjson" secs jq -c .)
row "jq -c . over documents (docs/s)" "$(awk -v n="$n" -v t="$t" 'BEGIN {printf "%.0f", n/t}')" "baseline"
