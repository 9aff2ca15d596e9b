# tests/servers/fetch-helper.bash — shared by the cp-fetch suites:
# a local fixture server (fetchd.py) per test, its config, and accounts.
#
#   load helper
#   load servers/fetch-helper
#
# start_server [--edgar DIR] sets SRV (the directory it serves), PORT and
# BASE; teardown stops it.  fetch_config writes a config pointing every
# service at BASE with fast retries.

start_server() {
	SRV="$T/srv"
	mkdir -p "$SRV"
	rm -f "$T/port"
	python3 "$CP_TOP/tests/servers/fetchd.py" "$SRV" "$T/port" "$@" \
	    >"$T/server.log" 2>&1 3>&- &
	SRV_PID=$!
	local i
	for i in $(seq 200); do
		[ -s "$T/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$T/port")
	BASE="http://127.0.0.1:$PORT"
	export SRV PORT BASE
}

teardown() {
	if [ -n "${SRV_PID:-}" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
}

fetch_config() {
	cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[http]
user_agent = "ClientPulse tests ops@example.test"
backoff_base = 0.01
backoff_max = 0.05
retries = 2
timeout = 5
connect_timeout = 2
stall_timeout = 2
[sec]
base_url = $BASE
www_url = $BASE
rate = 10
since = 30000d
[greenhouse]
base_url = $BASE
[lever]
base_url = $BASE
CONF
	cat >>"$XDG_CONFIG_HOME/clientpulse/config"
}

# behave JSON: misbehaviour per path (see fetchd.py)
behave() {
	printf '%s\n' "$1" >"$SRV/_behave.json"
}

# requests PATH: how many requests the server saw for PATH
requests() {
	cat "$SRV/requests.log" 2>/dev/null | grep -c " $1 " || true
}

# a state file with one tenant and accounts; feeds on the local server
fetch_state() {
	[ -z "${SRV:-}" ] || [ -e "$SRV/nw.xml" ] || rss >"$SRV/nw.xml"
	cp-init --tenant acme -q
	cp-account import -q <<NDJSON
{"id":"northwind","name":"Northwind Labs","domain":"northwindlabs.com","ticker":"NWLB","aliases":["Northwind"],"feeds":["$BASE/nw.xml"],"greenhouse_token":"nw","lever_site":"northwind"}
{"id":"contoso","name":"Contoso","domain":"contoso.com"}
{"id":"apple","name":"Apple Inc.","domain":"apple.com","cik":"320193"}
NDJSON
}

# rss TITLE... : an RSS 2.0 feed with one item per "guid|title|date|desc"
rss() {
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Test Wire</title><link>%s/</link>\n' "$BASE"
	local it g t d x
	for it in "$@"; do
		IFS='|' read -r g t d x <<<"$it"
		printf '<item><title>%s</title><link>%s/news/%s</link>' "$t" "$BASE" "$g"
		[ -n "$g" ] && printf '<guid isPermaLink="false">%s</guid>' "$g"
		[ -n "$d" ] && printf '<pubDate>%s</pubDate>' "$d"
		printf '<description>%s</description></item>\n' "$x"
	done
	printf '</channel></rss>\n'
}

# jq-free field extraction: field NAME < ndjson
field() {
	python3 -c '
import json, sys
for line in sys.stdin:
    v = json.loads(line)
    for k in sys.argv[1].split("."):
        v = v.get(k) if isinstance(v, dict) else None
    print(v if not isinstance(v, (list, dict)) else json.dumps(v, sort_keys=True))
' "$1"
}
