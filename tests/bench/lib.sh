# tests/bench/lib.sh — helpers for the bench-*.sh scripts (sourced).
#
#   secs CMD...          wall seconds of CMD (stdout to /dev/null)
#   cpu_secs CMD...      user+sys CPU seconds of CMD
#   peak_rss_mb CMD...   peak resident set of CMD in MB
#   median N CMD...      median wall seconds over N runs
#   row NAME VALUE TARGET

row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3"; }

_time() {
	# GNU time would be simplest, but it is not installed everywhere;
	# python3 measures the child precisely with resource usage.
	python3 - "$@" <<'PY'
import os, resource, subprocess, sys, time
mode = sys.argv[1]; cmd = sys.argv[2:]
t0 = time.monotonic()
with open(os.environ.get("BENCH_STDIN", "/dev/null"), "rb") as i, open("/dev/null", "wb") as o:
    subprocess.run(cmd, stdin=i, stdout=o)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if mode == "wall": print("%.4f" % wall)
elif mode == "cpu": print("%.4f" % (ru.ru_utime + ru.ru_stime))
elif mode == "rss": print("%.1f" % (ru.ru_maxrss / 1024.0))
PY
}
secs() { _time wall "$@"; }
cpu_secs() { _time cpu "$@"; }
peak_rss_mb() { _time rss "$@"; }

median() {
	n=$1; shift
	i=0
	while [ $i -lt "$n" ]; do _time wall "$@"; i=$((i + 1)); done |
	    sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# Throughput in records/s of a filter over a file: filter_rate FILE CMD...
filter_rate() {
	f=$1; shift
	n=$(wc -l <"$f")
	t=$(BENCH_STDIN=$f _time wall "$@")
	awk -v n="$n" -v t="$t" 'BEGIN {printf "%.0f", n / (t > 0 ? t : 1e-9)}'
}
