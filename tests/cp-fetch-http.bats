#!/usr/bin/env bats
# cp-fetch over HTTP: identification, retries, Retry-After, rate limits,
# redirects, compression, limits, proxies, conditional GET and failure
# reporting, against the local server (tests/servers/fetchd.py).

load helper
load servers/fetch-helper
bats_require_minimum_version 1.5.0

setup() {
	cp_setup
	export CLIENTPULSE_NOW=2026-11-20T12:00:00Z
}

one_feed() {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one|Tue, 18 Nov 2026 10:00:00 GMT|x" >"$SRV/nw.xml"
}

@test "http: a declared User-Agent with contact, compression accepted and decoded" {
	one_feed
	behave '{"/nw.xml": {"gzip": true}}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Northwind one"
	grep -q "GET /nw.xml t=[0-9.]* ua=ClientPulse tests ops@example.test .*ae=.*gzip" "$SRV/requests.log"
}

@test "http: conditional GET sends the stored validators; a 304 emits nothing" {
	one_feed
	run -0 --separate-stderr cp-fetch --source news
	etag=$(sqlite3 "$CLIENTPULSE_DB" "select etag from fetch_sources where kind='news'")
	[ -n "$etag" ]
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
	tail -1 "$SRV/requests.log" | grep -qF "inm=$etag ims=Tue, 14 Nov 2023 22:13:20 GMT"
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select last_status, etag from fetch_sources where kind='news'")" "304|$etag"
}

@test "http: 503 twice then 200 is retried to success" {
	one_feed
	behave '{"/nw.xml": {"status": 503, "times": 2}}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Northwind one"
	assert_equal "$(requests /nw.xml)" 3
}

@test "http: 429 with Retry-After in seconds is honoured" {
	one_feed
	behave '{"/nw.xml": {"status": 429, "times": 1, "retry_after": "1"}}'
	t0=$(date +%s.%N)
	run -0 --separate-stderr cp-fetch --source news
	t1=$(date +%s.%N)
	assert_equal "$(jq -r .title <<<"$output")" "Northwind one"
	python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 0.95 else 1)"
}

@test "http: Retry-After as an HTTP-date is honoured" {
	one_feed
	when=$(python3 -c 'import email.utils,time; print(email.utils.formatdate(time.time()+2, usegmt=True))')
	behave "{\"/nw.xml\": {\"status\": 503, \"times\": 1, \"retry_after\": \"$when\"}}"
	t0=$(date +%s.%N)
	run -0 --separate-stderr cp-fetch --source news
	t1=$(date +%s.%N)
	assert_equal "$(requests /nw.xml)" 2
	# whole seconds in the date: at least one of the two is waited
	python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 0.9 else 1)"
}

@test "http: a Retry-After beyond the limit gives up at once" {
	one_feed
	behave '{"/nw.xml": {"status": 503, "retry_after": "3600"}}'
	run -75 cp-fetch --source news
	assert_output --partial "server asks to retry after 3600s"
	assert_equal "$(requests /nw.xml)" 1
}

@test "http: a source that keeps failing is recorded, the others are written, exit 75" {
	one_feed
	cat >>"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[news]
feed = $BASE/wire.xml
CONF
	rss "w|Contoso expands||" >"$SRV/wire.xml"
	behave '{"/nw.xml": {"status": 502}}'
	run -75 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Contoso expands"
	assert_equal "$stderr" "cp-fetch: news $BASE/nw.xml: HTTP 502"
	assert_equal "$(requests /nw.xml)" 3
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select last_status, last_error, failures, etag is null from fetch_sources where url='$BASE/nw.xml'")" \
	    "502|HTTP 502|1|1"
	# when it comes back, nothing is lost
	behave '{}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Northwind one"
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select failures, last_error is null from fetch_sources where url='$BASE/nw.xml'")" "0|1"
}

@test "http: connection refused is a temporary failure" {
	start_server
	fetch_config </dev/null
	cp-init --tenant acme -q
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	cp-account add --name Northwind --feed "http://127.0.0.1:$port/x.xml" -q >/dev/null
	run -75 cp-fetch
	assert_output --regexp "^cp-fetch: news http://127.0.0.1:$port/x.xml: connection failed: "
}

@test "http: a 404 with a JSON error is a permanent failure, exit 65" {
	one_feed
	run -65 --separate-stderr cp-fetch --source jobs
	assert_output ""
	[[ "$stderr" == *"cp-fetch: jobs $BASE/v1/boards/nw/jobs?content=true: HTTP 404: not found"* ]]
}

@test "http: redirects are followed up to five; a loop is an error" {
	one_feed
	behave '{"/nw.xml": {"redirect": "/r1"}, "/r1": {"redirect": "/moved.xml"}}'
	cp "$SRV/nw.xml" "$SRV/moved.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Northwind one"
	behave '{"/nw.xml": {"redirect": "/nw.xml"}}'
	run -65 cp-fetch --source news --since 2026-01-01T00:00:00Z
	assert_output "cp-fetch: news $BASE/nw.xml: too many redirects"
	assert_equal "$(requests /nw.xml)" $((1 + 6))
}

@test "http: a redirect to file:// is refused" {
	one_feed
	behave '{"/nw.xml": {"redirect": "file:///etc/passwd"}}'
	run -65 cp-fetch --source news
	assert_output --partial "cp-fetch: news $BASE/nw.xml: bad or refused URL"
	refute_output --partial "root:"
}

@test "http: a body over http.max_body is refused, without retries" {
	one_feed
	sed -i 's/^\[sec\]$/[http]\nmax_body = 64K\n[sec]/' "$XDG_CONFIG_HOME/clientpulse/config"
	behave '{"/nw.xml": {"body_size": 200000}}'
	run -65 --separate-stderr cp-fetch --source news
	assert_output ""
	assert_equal "$stderr" "cp-fetch: news $BASE/nw.xml: response larger than 65536 bytes"
	assert_equal "$(requests /nw.xml)" 1
}

@test "http: a server that stalls times out, and the run ends" {
	one_feed
	behave '{"/nw.xml": {"stall": 30}}'
	sed -i 's/^retries = 2$/retries = 0/' "$XDG_CONFIG_HOME/clientpulse/config"
	t0=$(date +%s)
	run -75 cp-fetch --source news
	t1=$(date +%s)
	assert_output --partial "cp-fetch: news $BASE/nw.xml: timed out"
	[ $((t1 - t0)) -lt 10 ]
}

@test "http: proxies come from the standard environment variables" {
	one_feed
	cp-account add --name Fabrikam --feed "http://feeds.fabrikam.invalid/nw.xml" -q >/dev/null
	http_proxy="$BASE" run -0 --separate-stderr cp-fetch --source news
	grep -q "^GET http://feeds.fabrikam.invalid/nw.xml " "$SRV/requests.log"
}

@test "http: credentials in a URL never reach an error message" {
	start_server
	fetch_config </dev/null
	cp-init --tenant acme -q
	cp-account add --name Northwind --feed "http://reader:s3cr3t@127.0.0.1:$PORT/missing.xml" -q >/dev/null
	run -65 cp-fetch -v
	assert_output --partial "HTTP 404"
	refute_output --partial "s3cr3t"
	run -0 cp-fetch --dry-run
	refute_output --partial "s3cr3t"
}

@test "http: the SEC rate limit is shared by concurrent processes through the state file" {
	start_server --edgar "$CORPORA/edgar"
	fetch_config <<'CONF'
[sec]
rate = 2
since = 1d
CONF
	cp-init --tenant acme -q
	for i in 1 2 3 4 5 6; do
		cp-account add --name "Company $i" --id "c$i" --cik "10000$i" -q >/dev/null
	done
	cp-fetch --source sec --account c1 --account c2 --account c3 2>/dev/null &
	p1=$!
	cp-fetch --source sec --account c4 --account c5 --account c6 2>/dev/null &
	p2=$!
	wait $p1 || true
	wait $p2 || true
	assert_equal "$(grep -c '/submissions/' "$SRV/requests.log")" 6
	# two tokens of burst, then 2 per second: six requests span >= 2 s
	span=$(grep '/submissions/' "$SRV/requests.log" | sed 's/.* t=\([0-9.]*\) .*/\1/' | sort -n | sed -n '1p;$p' | paste -sd' ')
	python3 -c "import sys; a,b=map(float,'$span'.split()); sys.exit(0 if b-a >= 1.8 else 1)"
	[ "$(sqlite3 "$CLIENTPULSE_DB" "select count(*) from http_buckets")" -ge 1 ]
}

@test "http: sec.rate above SEC's 10 per second is refused" {
	one_feed
	CLIENTPULSE_SEC_RATE=20 run -78 cp-fetch
	assert_output "cp-fetch: sec.rate: SEC allows at most 10 requests per second, not 20"
}

@test "http: --concurrency bounds transfers in flight" {
	start_server
	fetch_config </dev/null
	cp-init --tenant acme -q
	for i in 1 2 3 4; do
		rss "$i|Northwind $i||" >"$SRV/f$i.xml"
		cp-account add --name "Northwind $i" --id "n$i" --feed "$BASE/f$i.xml" -q >/dev/null
	done
	behave '{"/f1.xml": {"delay": 0.5}, "/f2.xml": {"delay": 0.5}, "/f3.xml": {"delay": 0.5}, "/f4.xml": {"delay": 0.5}}'
	t0=$(date +%s.%N)
	run -0 --separate-stderr cp-fetch --concurrency 1
	t1=$(date +%s.%N)
	assert_equal "${#lines[@]}" 4
	python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 1.9 else 1)"
	rm -f "$CLIENTPULSE_DB"
	cp-init --tenant acme -q
	for i in 1 2 3 4; do
		cp-account add --name "Northwind $i" --id "n$i" --feed "$BASE/f$i.xml" -q >/dev/null
	done
	t0=$(date +%s.%N)
	run -0 --separate-stderr cp-fetch --concurrency 4
	t1=$(date +%s.%N)
	python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 1.5 else 1)"
}

@test "http: TLS certificates are always verified" {
	command -v openssl >/dev/null || skip "openssl not installed"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	    -out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" 2>/dev/null
	start_server --tls "$T/cert.pem" "$T/key.pem"
	fetch_config </dev/null
	cp-init --tenant acme -q
	rss "a|Northwind one||" >"$SRV/nw.xml"
	cp-account add --name Northwind --feed "https://127.0.0.1:$PORT/nw.xml" -q >/dev/null
	run -65 cp-fetch
	assert_output --regexp "^cp-fetch: news https://127.0.0.1:$PORT/nw.xml: tls failed: "
	refute_output --partial "Northwind one"
}
