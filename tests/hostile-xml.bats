#!/usr/bin/env bats
# tests/hostile-xml.bats — feeds built to hurt, through the real fetch
# (an account's feed served by the local test server, the path every
# news item takes) and through `cp-fetch --file`, then cp-extract:
# external entities, parameter entities, billion laughs, a DOCTYPE
# pointing at a local file, at /dev/zero and at a FIFO, 100,000 nested
# elements.  Nothing is expanded, fetched or read, nothing hangs, the
# good feed of the same run is still written.  (The XXE and
# entity-bomb cases of cp-fetch-hostile.bats are the HTTP twins of the
# first two.)

load helper
load servers/fetch-helper
bats_require_minimum_version 1.5.0

setup() {
	cp_setup
	export CLIENTPULSE_NOW=2026-11-20T12:00:00Z
	start_server
	fetch_config <<CONF
[news]
feed = $BASE/good.xml
CONF
	fetch_state
	GOOD=ok1
	rss "$GOOD|Northwind is fine||" >"$SRV/good.xml"
	# what no document may ever contain
	SECRET="LOCAL-SECRET-$$-$RANDOM"
	printf '%s\n' "$SECRET" >"$T/secret.txt"
	printf '<!ENTITY leak "%s">\n<!ENTITY %% pe "<!ENTITY pleak \\"%s\\">">\n' \
	    "$SECRET" "$SECRET" >"$T/secret.dtd"
}

# fetch_all: the account feed (nw.xml) and the global good feed, then the
# documents through cp-extract; nothing may hold the secret.
fetch_all() {
	run --separate-stderr timeout 60 cp-fetch --source news
	[ "$status" -eq 0 ] || [ "$status" -eq 75 ] || [ "$status" -eq 65 ] ||
	    fail "cp-fetch: status $status: $stderr"
	jq -s -e --arg g "$GOOD" 'any(.[]; .meta.guid==$g)' <<<"$output" \
	    >/dev/null || fail "the good feed was not written"
	printf '%s\n' "$output" >"$T/docs.ndjson"
	refute_output --partial "$SECRET"
	[[ $stderr != *"$SECRET"* ]]
	run --separate-stderr timeout 60 cp-extract --no-accounts "$T/docs.ndjson"
	assert_equal "$status" 0
	refute_output --partial "$SECRET"
	[[ $stderr != *"$SECRET"* ]]
	# and the state file, raw bytes
	! grep -a -q "$SECRET" "$CLIENTPULSE_DB"* || fail "secret in the state file"
}

# fetch_file FILE: the same file through cp-fetch --file and cp-extract
fetch_file() {
	run --separate-stderr timeout 60 cp-fetch --file "$1" --account northwind
	[ "$status" -eq 0 ] || [ "$status" -eq 65 ] ||
	    fail "cp-fetch --file: status $status: $stderr"
	refute_output --partial "$SECRET"
	printf '%s\n' "$output" | grep . >"$T/filedocs.ndjson" || true
	run --separate-stderr timeout 60 cp-extract --no-accounts "$T/filedocs.ndjson"
	assert_equal "$status" 0
	refute_output --partial "$SECRET"
}

@test "hostile XML: a general external entity on a local file is never read" {
	cat >"$SRV/nw.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://$T/secret.txt">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind &xxe; news</title><guid>x1</guid><description>a &xxe; b</description></item>
</channel></rss>
XML
	fetch_all
	run jq -r 'select(.meta.guid=="x1")|.title' "$T/docs.ndjson"
	assert_output "Northwind news"
	fetch_file "$SRV/nw.xml"
}

@test "hostile XML: parameter entities, local and remote, are never loaded" {
	cat >"$SRV/nw.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY % ext SYSTEM "file://$T/secret.dtd">
%ext;
%pe;
<!ENTITY % remote SYSTEM "$BASE/evil.dtd">
%remote;
]>
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind &leak;&pleak; update</title><guid>p1</guid><description>&leak;</description></item>
</channel></rss>
XML
	printf '<!ENTITY leak "%s">' "$SECRET" >"$SRV/evil.dtd"
	fetch_all
	# the DTD on the server was never asked for
	assert_equal "$(requests /evil.dtd)" 0
	fetch_file "$SRV/nw.xml"
	assert_equal "$(requests /evil.dtd)" 0
}

@test "hostile XML: billion laughs (10^10 expansions) costs nothing" {
	{
		printf '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY l0 "lol">\n'
		local i
		for i in 1 2 3 4 5 6 7 8 9 10; do
			printf '<!ENTITY l%d "' "$i"
			printf '&l%d;' $(for _ in 1 2 3 4 5 6 7 8 9 10; do echo $((i - 1)); done)
			printf '">\n'
		done
		printf ']>\n<rss version="2.0"><channel><title>&l10;</title>'
		printf '<item><title>Northwind &l10; laughs</title><guid>b1</guid>'
		printf '<description>&l10;&l10;</description></item></channel></rss>\n'
	} >"$SRV/nw.xml"
	local t0=$SECONDS
	fetch_all
	[ $((SECONDS - t0)) -lt 20 ]
	[ "$(wc -c <"$T/docs.ndjson")" -lt 100000 ]
	! grep -q lollollol "$T/docs.ndjson"
	fetch_file "$SRV/nw.xml"
	! grep -q lollollol "$T/filedocs.ndjson"
}

@test "hostile XML: a DOCTYPE naming a local file, /dev/zero or a FIFO is not opened" {
	local target n=1
	mkfifo "$T/fifo.dtd"
	for target in "$T/secret.dtd" /dev/zero "$T/fifo.dtd"; do
		# a new good item each round: an item is written only once
		GOOD=ok$((n += 1))
		rss "$GOOD|Northwind is fine||" >"$SRV/good.xml"
		cat >"$SRV/nw.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "file://$target">
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind &leak; doc</title><guid>d1</guid><description>&leak;</description></item>
</channel></rss>
XML
		# a FIFO with no writer blocks whoever opens it: timeout says so
		fetch_all
		fetch_file "$SRV/nw.xml"
	done
}

@test "hostile XML: 100,000 nested elements are cut off, not a stack overflow" {
	python3 - "$SRV/nw.xml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>t</title>')
    f.write('<item><title>Northwind shallow</title><guid>n0</guid></item>')
    f.write('<item><title>Northwind deep</title><guid>n1</guid><description>')
    f.write('<x>' * 100000 + 'deep' + '</x>' * 100000)
    f.write('</description></item></channel></rss>\n')
PY
	local t0=$SECONDS
	run --separate-stderr timeout 60 cp-fetch --source news
	# 65: the malformed feed is a data error of its source
	[ "$status" -eq 0 ] || [ "$status" -eq 65 ] || fail "status $status"
	[ $((SECONDS - t0)) -lt 30 ]
	# the item before the depth limit was written, the good feed too
	jq -s -e 'any(.[]; .meta.guid=="n0")' <<<"$output" >/dev/null
	jq -s -e 'any(.[]; .meta.guid=="ok1")' <<<"$output" >/dev/null
	# the malformed feed is reported with its line, in one line
	[[ $stderr == *"malformed XML at line"* ]] || fail "$stderr"
	printf '%s\n' "$output" >"$T/docs.ndjson"
	run --separate-stderr timeout 60 cp-extract --no-accounts "$T/docs.ndjson"
	assert_equal "$status" 0
	# and as a local file
	run --separate-stderr timeout 60 cp-fetch --file "$SRV/nw.xml" --account northwind
	[ "$status" -eq 0 ] || [ "$status" -eq 65 ] || fail "--file: status $status"
}
