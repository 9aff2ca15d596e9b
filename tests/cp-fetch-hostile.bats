#!/usr/bin/env bats
# cp-fetch against bad input and hostile servers: every case is a clear
# per-source error, nothing already fetched is lost, nothing hangs or is
# expanded.  Also the feed-parser conformance run over the gofeed corpus.

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
	rss "ok1|Northwind is fine||" >"$SRV/good.xml"
}

# the good global feed is always written in full
assert_good_written() {
	jq -s -e 'any(.[]; .meta.guid=="ok1")' <<<"$output" >/dev/null
}

@test "hostile: an external entity (XXE) is never fetched or read" {
	cat >"$SRV/nw.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind &xxe; news</title><guid>x1</guid><description>&xxe;&net;</description></item>
</channel></rss>
XML
	run --separate-stderr cp-fetch --source news
	refute_output --partial "root:"
	assert_good_written
	assert_equal "$(jq -r 'select(.meta.guid=="x1")|.title' <<<"$output")" "Northwind news"
}

@test "hostile: an entity-expansion bomb is not expanded" {
	{
		echo '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
		for l in b c d e f g h i j k; do
			p=$(printf '%s' "$prev")
			prev=${prev:-a}
			printf '<!ENTITY %s "%s">' "$l" "$(printf "&$prev;%.0s" $(seq 10))"
			prev=$l
		done
		echo ']><rss version="2.0"><channel><item><title>Northwind &k;</title></item></channel></rss>'
	} >"$SRV/nw.xml"
	t0=$(date +%s)
	run --separate-stderr cp-fetch --source news
	[ $(( $(date +%s) - t0 )) -lt 5 ]
	[ "${#output}" -lt 100000 ]
	assert_good_written
}

@test "hostile: malformed XML yields the items that parse and an error with a line" {
	cat >"$SRV/nw.xml" <<'XML'
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind first</title><guid>m1</guid></item>
<item><title>Northwind second</title><guid>m2</guid></item>
<item><title>Broken <b>unclosed</title><guid>m3</guid>
</channel></rss>
XML
	run -65 --separate-stderr cp-fetch --source news
	assert_good_written
	assert_equal "$(jq -r 'select(.meta.guid=="m1" or .meta.guid=="m2")|.meta.guid' <<<"$output")" "m1
m2"
	[[ "$stderr" =~ "cp-fetch: news $BASE/nw.xml: malformed XML at line "[0-9]+": ".*"items recovered)" ]]
	# the recovered items are logged: the next run does not repeat them
	run -65 --separate-stderr cp-fetch --source news
	refute_output --partial '"m1"'
}

@test "hostile: an HTML page served as a feed is a per-source error" {
	printf '<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>Northwind</body></html>\n' >"$SRV/nw.xml"
	run -65 --separate-stderr cp-fetch --source news
	assert_good_written
	assert_equal "$stderr" "cp-fetch: news $BASE/nw.xml: not a feed: the document is <html>, not RSS or Atom"
}

@test "hostile: an empty response is a per-source error" {
	: >"$SRV/nw.xml"
	run -65 --separate-stderr cp-fetch --source news
	assert_good_written
	assert_equal "$stderr" "cp-fetch: news $BASE/nw.xml: empty response"
}

@test "hostile: JSON APIs returning an error object or garbage" {
	mkdir -p "$SRV/v1/boards/nw" "$SRV/v0/postings"
	printf '{"status":500,"error":"Board is being rebuilt"}' >"$SRV/v1/boards/nw/jobs"
	printf '{"ok":false,"error":"Document not found"}' >"$SRV/v0/postings/northwind"
	run -65 --separate-stderr cp-fetch --source jobs
	assert_output ""
	[[ "$stderr" == *"greenhouse: error object: Board is being rebuilt"* ]]
	[[ "$stderr" == *"lever: error object: Document not found"* ]]
	printf 'garbage{' >"$SRV/v1/boards/nw/jobs"
	printf '[1,2,3' >"$SRV/v0/postings/northwind"
	run -65 --separate-stderr cp-fetch --source jobs
	[[ "$stderr" == *"greenhouse: not JSON: "* ]]
	[[ "$stderr" == *"lever: not JSON: "* ]]
}

@test "hostile: SEC garbage and error objects" {
	behave '{"/submissions/CIK0000320193.json": {"body": "{\"message\":\"Too many requests\"}"}}'
	run -65 --separate-stderr cp-fetch --source sec --account apple
	assert_equal "$stderr" "cp-fetch: sec $BASE/submissions/CIK0000320193.json: submissions: error object: Too many requests"
	behave '{"/submissions/CIK0000320193.json": {"body": "<html>rate limited</html>"}}'
	run -65 --separate-stderr cp-fetch --source sec --account apple
	[[ "$stderr" == *"submissions: not JSON: "* ]]
}

@test "hostile: invalid UTF-8 is repaired; the documents are valid" {
	printf '<?xml version="1.0" encoding="utf-8"?><rss><channel><item><title>Northwind \xff\xfe bad</title><guid>u1</guid><description>caf\xc3</description></item></channel></rss>' >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	cp-validate --type document <<<"$output" >/dev/null
	assert_equal "$(jq -r 'select(.meta.guid=="u1")|.title' <<<"$output")" "Northwind �� bad"
	assert_equal "$stderr" "cp-fetch: news $BASE/nw.xml: 3 invalid UTF-8 sequences replaced"
}

@test "hostile: feeds in other charsets are converted to UTF-8" {
	printf '<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>Northwind caf\xe9 \xa3</title><guid>l1</guid></item></channel></rss>' >"$SRV/nw.xml"
	printf '<?xml version="1.0" encoding="windows-1251"?><rss><channel><item><title>Northwind \xcd\xee\xe2\xee\xf1\xf2\xe8</title><guid>c1</guid></item></channel></rss>' >"$SRV/ru.xml"
	cp-account add --name Northwind2 --id nw2 --alias Northwind --feed "$BASE/ru.xml" -q >/dev/null
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r 'select(.meta.guid=="l1")|.title' <<<"$output")" "Northwind café £"
	assert_equal "$(jq -r 'select(.meta.guid=="c1")|.title' <<<"$output")" "Northwind Новости"
	# no declaration: the HTTP charset
	printf '<rss><channel><item><title>Northwind \xe9t\xe9</title><guid>h1</guid></item></channel></rss>' >"$SRV/nw.xml"
	behave '{"/nw.xml": {"content_type": "application/rss+xml; charset=iso-8859-1"}}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r 'select(.meta.guid=="h1")|.title' <<<"$output")" "Northwind été"
}

@test "hostile: relative links resolve against the feed; entities decode" {
	cat >"$SRV/nw.xml" <<'XML'
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind &amp;amp; Co&#8217;s &lt;i&gt;plan&lt;/i&gt; &#x2014; 2027</title><link>../a/b.html</link><guid>r1</guid></item>
</channel></rss>
XML
	mkdir -p "$SRV/feeds"
	mv "$SRV/nw.xml" "$SRV/feeds/nw.xml"
	behave '{"/nw.xml": {"redirect": "/feeds/nw.xml"}}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r 'select(.meta.guid=="r1")|[.title,.url]|join(" ")' <<<"$output")" \
	    "Northwind & Co’s plan — 2027 $BASE/a/b.html"
}

@test "hostile: malformed dates fall back to the fetch time and say so" {
	cat >"$SRV/nw.xml" <<'XML'
<rss version="2.0"><channel><title>t</title>
<item><title>Northwind a</title><guid>d1</guid><pubDate>Tue, 18 Nov 2026 10:00 EST</pubDate></item>
<item><title>Northwind b</title><guid>d2</guid><pubDate>18 Nov 2026 10:00:00.123 +0530</pubDate></item>
<item><title>Northwind c</title><guid>d3</guid><pubDate>sometime last week</pubDate></item>
</channel></rss>
XML
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r 'select(.meta.guid|startswith("d"))|[.published_at,(.meta.date_missing // false)]|join(" ")' <<<"$output")" \
"2026-11-18T15:00:00Z false
2026-11-18T04:30:00Z false
2026-11-20T12:00:00Z true"
}

@test "conformance: the gofeed corpus parses without a crash; expected fields match" {
	run -0 "$CP_BUILD/tests/test_feed" --conformance "$CORPORA/gofeed/testdata"
	last=$(tail -1 <<<"$output")
	pct=$(sed 's/.*(\([0-9.]*\)%)/\1/' <<<"$last")
	measure "gofeed conformance: $last of title/link/guid/published values; $(grep -c '^miss ' <<<"$output") misses"
	grep '^field ' <<<"$output" | while read -r _ f n; do measure "  $f $n"; done
	python3 -c "import sys; sys.exit(0 if $pct >= 95 else 1)"
	assert_line --regexp '^files [0-9]{3,}$'
}
