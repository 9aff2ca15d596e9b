#!/bin/sh
# bench-fetch.sh — cp-fetch against local servers (tests/servers/fetchd.py):
#
#   1. 1,000 feed items across 50 feeds and 200 SEC submissions files,
#      first run: documents written, cp-fetch CPU time (user + system),
#      wall time, peak RSS;
#   2. a re-run over 500 feed sources that all answer 304: wall time.
#
# Prints "name<TAB>value<TAB>target" lines (tests/bench/run).  The SEC
# server is a second instance, so SEC's rate limit (sec.rate = 10, the
# most SEC allows) paces only the SEC requests: wall time is the rate
# limit's, CPU time is cp-fetch's.
set -eu
: "${CP_TOP:?}"
W=$(mktemp -d "${TMPDIR:-/tmp}/cp-bench-fetch.XXXXXX")
# the servers' pids go to a file: serve runs in $(...), a subshell
cleanup() {
	for p in $(cat "$W/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

export HOME="$W/home" XDG_CONFIG_HOME="$W/config" XDG_DATA_HOME="$W/data"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/clientpulse" "$XDG_DATA_HOME" \
    "$W/feeds" "$W/sec/submissions"
unset CLIENTPULSE_NOW CLIENTPULSE_CONFIG CLIENTPULSE_AS CLIENTPULSE_TENANT
export CLIENTPULSE_NOW=2026-11-20T12:00:00Z

serve() {   # serve ROOT PORTFILE
	python3 "$CP_TOP/tests/servers/fetchd.py" "$1" "$2" >/dev/null 2>&1 &
	echo "$!" >>"$W/pids"
	i=0
	while [ ! -s "$2" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	cat "$2"
}
fport=$(serve "$W/feeds" "$W/fport")
sport=$(serve "$W/sec" "$W/sport")
F="http://127.0.0.1:$fport"
S="http://127.0.0.1:$sport"

# fixtures: 500 feeds (the first 50 with 20 items each, the rest with
# one), 200 submissions files with 10 recent filings each; accounts
python3 - "$W" "$F" <<'PY'
import json, sys
w, base = sys.argv[1], sys.argv[2]
for f in range(500):
    n = 20 if f < 50 else 1
    items = "".join(
        '<item><title>Company %d story %d</title><link>%s/news/%d/%d</link>'
        '<guid isPermaLink="false">f%d-%d</guid>'
        '<pubDate>Wed, 19 Nov 2026 %02d:%02d:00 GMT</pubDate>'
        '<description>&lt;p&gt;%s&lt;/p&gt;</description></item>\n'
        % (f, i, base, f, i, f, i, i % 24, f % 60, "Lorem ipsum dolor sit amet. " * 20)
        for i in range(n))
    open("%s/feeds/f%03d.xml" % (w, f), "w").write(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title>\n%s'
        '</channel></rss>\n' % (f, items))
keys = ["accessionNumber", "filingDate", "reportDate", "acceptanceDateTime",
        "act", "form", "fileNumber", "filmNumber", "items", "size", "isXBRL",
        "isInlineXBRL", "primaryDocument", "primaryDocDescription"]
with open(w + "/accounts.ndjson", "w") as acc, open(w + "/accounts500.ndjson", "w") as a5:
    for c in range(200):
        cik = "%010d" % (1900100 + c)
        rec = {k: [] for k in keys}
        for i in range(10):
            day = 19 - i
            vals = ["%s-26-%06d" % (cik, i), "2026-11-%02d" % day, "",
                    "2026-11-%02dT16:00:00.000Z" % day, "34",
                    ["8-K", "10-Q", "4"][i % 3], "", "", "5.02,9.01" if i % 3 == 0 else "",
                    1000, 0, 0, "doc%d.htm" % i, ""]
            for k, v in zip(keys, vals):
                rec[k].append(v)
        json.dump({"cik": str(int(cik)), "name": "Company %d Inc." % c,
                   "filings": {"recent": rec, "files": []}},
                  open("%s/sec/submissions/CIK%s.json" % (w, cik), "w"))
        a = {"id": "c%d" % c, "name": "Company %d" % c, "cik": cik}
        if c < 50:
            a["feeds"] = ["%s/f%03d.xml" % (base, c)]
        acc.write(json.dumps(a) + "\n")
    for f in range(500):
        a5.write(json.dumps({"id": "f%d" % f, "name": "Feed company %d" % f,
                             "feeds": ["%s/f%03d.xml" % (base, f)]}) + "\n")
PY

cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[http]
user_agent = "ClientPulse bench ops@example.test"
[sec]
base_url = $S
www_url = $S
rate = 10
since = 30d
CONF

# run STATEFILE OUT: cp-fetch's CPU seconds, peak RSS (KiB), wall seconds
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
with open(sys.argv[2], "w") as out:
    rc = subprocess.call(["cp-fetch", "--db", sys.argv[1]], stdout=out)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %d %.2f %d" % (ru.ru_utime + ru.ru_stime, ru.ru_maxrss, wall, rc))
PY
}

cp-init --db "$W/a.db" --tenant bench -q
cp-account import --db "$W/a.db" -q "$W/accounts.ndjson"
set -- $(measure "$W/a.db" "$W/a.out")
docs=$(wc -l <"$W/a.out" | tr -d ' ')
printf 'fetch: documents (1000 items, 200 SEC files)\t%s\t%s\n' "$docs" "3000"
printf 'fetch: cp-fetch CPU time, first run\t%ss\t< 0.5s\n' "$1"
printf 'fetch: wall time, first run (SEC at 10/s)\t%ss\t(server-bound)\n' "$3"
printf 'fetch: peak RSS\t%s MB\t< 40 MB\n' "$(awk "BEGIN{printf \"%.1f\", $2/1024}")"
[ "$4" = 0 ] || echo "# first run exited $4"

cp-init --db "$W/b.db" --tenant bench -q
cp-account import --db "$W/b.db" -q "$W/accounts500.ndjson"
measure "$W/b.db" "$W/b1.out" >/dev/null
set -- $(measure "$W/b.db" "$W/b2.out")
printf 'fetch: re-run, 500 sources all 304 (wall)\t%ss\t< 2s\n' "$3"
printf 'fetch: re-run CPU time\t%ss\t-\n' "$1"
[ ! -s "$W/b2.out" ] || echo "# re-run wrote $(wc -l <"$W/b2.out") documents"
