#!/usr/bin/env bats
# cp-fetch: sources, documents, cursors and the document log.  HTTP
# behaviour is in cp-fetch-http.bats, hostile input in
# cp-fetch-hostile.bats.  Every test runs against a local server on
# 127.0.0.1 (tests/servers/fetchd.py).

load helper
load servers/fetch-helper
bats_require_minimum_version 1.5.0

EDGAR="$CORPORA/edgar"

setup() {
	cp_setup
	export CLIENTPULSE_NOW=2026-11-20T12:00:00Z
}

# ---- SEC EDGAR ----

@test "sec: every filing becomes a document with form, items and their titles" {
	start_server --edgar "$EDGAR"
	fetch_config </dev/null
	fetch_state
	run -0 --separate-stderr cp-fetch --source sec
	n=$(wc -l <<<"$output")
	[ "$n" -ge 1900 ] || { echo "only $n documents"; return 1; }
	cp-validate --type document <<<"$output" >/dev/null
	doc=$(grep '"accession":"0001193125-19-292676"' <<<"$output")
	assert_equal "$(jq -r .title <<<"$doc")" \
	    "Apple Inc. 8-K: Item 8.01 Other Events; Item 9.01 Financial Statements and Exhibits"
	assert_equal "$(jq -c .meta.items <<<"$doc")" \
	    '[{"code":"8.01","title":"Other Events"},{"code":"9.01","title":"Financial Statements and Exhibits"}]'
	assert_equal "$(jq -r '[.source,.source_name,.reliability,.published_at,.meta.form,.meta.filed,.meta.cik]|join(" ")' <<<"$doc")" \
	    "sec SEC EDGAR 0.95 2019-11-15T06:02:24Z 8-K 2019-11-15 0000320193"
	assert_equal "$(jq -r .meta.primary_doc_url <<<"$doc")" \
	    "$BASE/Archives/edgar/data/320193/000119312519292676/d828969d8k.htm"
	assert_equal "$(jq -c .account_ids <<<"$doc")" '["apple"]'
	# the id is deterministic: tenant, source, CIK, accession
	assert_equal "$(jq -r .id <<<"$doc")" \
	    "$(jq -r .id <<<"$doc" | grep -E '^doc_[0-9a-f]{32}$')"
}

@test "sec: the 8-K in the corpus matches its row, end to end, and --with-text fetches it" {
	start_server --edgar "$EDGAR"
	fetch_config </dev/null
	fetch_state
	txt="$EDGAR/sample_filings/aapl-8k-20191115.txt"
	export CLIENTPULSE_FETCH_FORMS=8-K
	run -0 --separate-stderr cp-fetch --source sec --with-text --since 2019-11-15T00:00:00Z
	doc=$(grep '"accession":"0001193125-19-292676"' <<<"$output")
	# the header of the full submission says the same as the JSON row
	grep -q "ACCESSION NUMBER:[[:space:]]*0001193125-19-292676" "$txt"
	grep -q "FILED AS OF DATE:[[:space:]]*20191115" "$txt"
	for t in "Other Events" "Financial Statements and Exhibits"; do
		grep -q "ITEM INFORMATION:[[:space:]]*$t" "$txt"
		jq -e --arg t "$t" '.meta.items|map(.title)|index($t)' <<<"$doc" >/dev/null
	done
	assert_equal "$(jq -r .content_type <<<"$doc")" "text/html"
	jq -r .body <<<"$doc" | grep -q "dei:EntityCentralIndexKey"
	# only the forms asked for were fetched as text
	assert_equal "$(jq -r 'select(.meta.form=="4")|.content_type' <<<"$output" | sort -u)" "text/plain"
}

@test "sec: pre-2004 item numbers on the older page map to modern items" {
	start_server --edgar "$EDGAR"
	fetch_config </dev/null
	fetch_state
	run -0 --separate-stderr cp-fetch --source sec
	assert_equal "$(requests /submissions/CIK0000320193-submissions-001.json)" 1
	doc=$(jq -c 'select(.meta.items|map(.filed_as)|index("12"))' <<<"$output" | head -1)
	assert_equal "$(jq -c '.meta.items' <<<"$doc")" \
	    '[{"code":"2.02","title":"Results of Operations and Financial Condition","filed_as":"12"},{"code":"9.01","title":"Financial Statements and Exhibits","filed_as":"7"}]'
	assert_equal "$(jq -r '.meta.items[]|select(.filed_as=="5")|.code' <<<"$output" | sort -u)" "8.01"
}

@test "sec: a recent window needs no older page; the cursor keeps the next run to new filings" {
	start_server --edgar "$EDGAR"
	fetch_config <<'CONF'
[sec]
since = 400d
CONF
	fetch_state
	export CLIENTPULSE_NOW=2023-09-01T00:00:00Z
	run -0 --separate-stderr cp-fetch --source sec
	[ -n "$output" ]
	jq -s -e 'any(.[]; .meta.filed < "2022-07-28")' <<<"$output" && return 1
	assert_equal "$(requests /submissions/CIK0000320193-submissions-001.json)" 0
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select cursor_at from fetch_sources where kind='sec'")" \
	    "2023-08-08T18:30:28Z"
	# a server that ignores conditional GET: still nothing new
	behave '{"/submissions/CIK0000320193.json": {"ignore_conditional": true}}'
	run -0 --separate-stderr cp-fetch --source sec
	assert_output ""
}

@test "sec: a ticker resolves through company_tickers.json, cached in the state file" {
	start_server --edgar "$EDGAR"
	fetch_config </dev/null
	cp-init --tenant acme -q
	cp-account add --name Apple --id apple --ticker AAPL -q >/dev/null
	run -0 --separate-stderr cp-fetch --source sec --dry-run
	assert_output ""
	run -0 --separate-stderr cp-fetch --source sec --since 2023-08-01T00:00:00Z
	jq -s -e 'any(.[]; .meta.cik=="0000320193")' <<<"$output" >/dev/null
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select cik from sec_tickers where ticker='AAPL'")" 0000320193
	run -0 --separate-stderr cp-fetch --source sec --dry-run
	# a --since window is a one-off look: the validators wait for a
	# normal run
	assert_output "sec	acme	$BASE/submissions/CIK0000320193.json	apple"
	assert_equal "$(requests /files/company_tickers.json)" 1
}

@test "sec: refuses to contact SEC without a contact in the User-Agent; other sources still run" {
	start_server --edgar "$EDGAR"
	fetch_config </dev/null
	fetch_state
	sed -i 's/^user_agent = .*/user_agent = "ClientPulse"/' "$XDG_CONFIG_HOME/clientpulse/config"
	rss "n1|Northwind Labs wins award|Tue, 18 Nov 2026 10:00:00 GMT|x" >"$SRV/nw.xml"
	run -78 cp-fetch --source sec
	assert_output --partial "cp-fetch: sec: http.user_agent must name a contact"
	assert_equal "$(requests /submissions/CIK0000320193.json)" 0
	run -78 cp-fetch
	assert_equal "$(grep -c '"type":"document"' <<<"$output")" 1
	CLIENTPULSE_HTTP_USER_AGENT="Acme ops https://acme.example/contact" run -0 --separate-stderr cp-fetch --source sec --since 2023-08-01T00:00:00Z
	assert_output --partial '"source":"sec"'
}

# ---- news ----

@test "news: an account's feed becomes documents; titles, links, dates and meta" {
	start_server
	fetch_config </dev/null
	fetch_state
	cat >"$SRV/nw.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Northwind &amp; Co News</title><link>$BASE/</link>
<item><title>Northwind &lt;b&gt;names&lt;/b&gt; a new CFO &amp;amp; COO</title><link>/news/cfo?utm_source=rss</link>
<guid isPermaLink="false">nw-1</guid><pubDate>Tue, 18 Nov 2026 10:00:00 +0100</pubDate>
<dc:creator>Jane Roe</dc:creator><category>People</category><category>Leadership</category>
<description>&lt;p&gt;Jane Doe joins as CFO.&lt;/p&gt;</description></item>
</channel></rss>
XML
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .title <<<"$output")" "Northwind names a new CFO & COO"
	assert_equal "$(jq -r .url <<<"$output")" "$BASE/news/cfo?utm_source=rss"
	assert_equal "$(jq -r '[.source,.source_name,.reliability,.published_at,.fetched_at,.content_type]|join("|")' <<<"$output")" \
	    "news|Northwind & Co News|0.7|2026-11-18T09:00:00Z|2026-11-20T12:00:00Z|text/html"
	assert_equal "$(jq -c .meta <<<"$output")" \
	    "{\"feed_url\":\"$BASE/nw.xml\",\"guid\":\"nw-1\",\"author\":\"Jane Roe\",\"categories\":[\"People\",\"Leadership\"]}"
	assert_equal "$(jq -r .body <<<"$output")" "<p>Jane Doe joins as CFO.</p>"
	assert_equal "$(jq -c .account_ids <<<"$output")" '["northwind"]'
}

@test "news: global feeds attribute by name, alias, ticker and domain; none is dropped and counted" {
	start_server
	fetch_config <<CONF
[news]
feed = $BASE/wire.xml
CONF
	fetch_state
	rss "g1|Northwind Labs to acquire Contoso|Tue, 18 Nov 2026 10:00:00 GMT|deal" \
	    "g2|NORTHWIND's results beat estimates||q3" \
	    "g3|Shares of NWLB rose|Tue, 18 Nov 2026 11:00:00 GMT|markets" \
	    "g4|New office at contoso.com campus||expansion" \
	    "g5|Northwindville fair opens||local news" \
	    "g6|nwlb is not a ticker in lower case||x" \
	    "g7|Unrelated story||nothing here" >"$SRV/wire.xml"
	run -0 cp-fetch --source news -v
	out=$(grep '^{' <<<"$output")
	assert_equal "$(jq -r '[.meta.guid, (.account_ids|join(","))]|join(" ")' <<<"$out")" \
"g1 contoso,northwind
g2 northwind
g3 northwind
g4 contoso"
	assert_output --partial "3 dropped"
	assert_output --regexp "info: 2 sources: 2 ok, 0 not modified, 0 failed; 4 documents"
}

@test "news: a global item about accounts of two tenants is one document per tenant" {
	start_server
	fetch_config <<CONF
[news]
feed = $BASE/wire.xml
CONF
	fixture_state
	rss "m1|Northwind and Initech announce partnership||x" >"$SRV/wire.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r '[.tenant,(.account_ids|join(","))]|join(" ")' <<<"$output" | sort)" \
"acme northwind
globex initech"
	assert_equal "$(jq -r .id <<<"$output" | sort -u | wc -l)" 2
	run -0 --separate-stderr cp-fetch --source news --tenant globex
	assert_output ""
}

@test "news: a major newswire's items carry the newswire reliability" {
	start_server
	fetch_config </dev/null
	fetch_state
	cat >"$SRV/nw.xml" <<'XML'
<rss version="2.0"><channel><title>Wire</title>
<item><title>Northwind news</title><link>https://www.prnewswire.com/news/nw-1</link></item>
<item><title>Northwind blog</title><link>https://blog.example.org/nw-2</link></item>
</channel></rss>
XML
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .reliability <<<"$output" | tr '\n' ' ')" "0.85 0.7 "
}

# ---- jobs ----

@test "jobs: Greenhouse and Lever postings become documents" {
	start_server
	fetch_config </dev/null
	fetch_state
	mkdir -p "$SRV/v1/boards/nw" "$SRV/v0/postings"
	cat >"$SRV/v1/boards/nw/jobs" <<'JSON'
{"jobs":[{"id":4012,"title":"Senior Data Engineer","updated_at":"2026-11-18T09:30:00-05:00","first_published":"2026-11-17T08:00:00-05:00","location":{"name":"Berlin"},"absolute_url":"https://boards.greenhouse.io/nw/jobs/4012","content":"&lt;p&gt;Build our &lt;b&gt;data&lt;/b&gt; platform&lt;/p&gt;","departments":[{"id":1,"name":"Engineering"}],"offices":[]}],"meta":{"total":1}}
JSON
	cat >"$SRV/v0/postings/northwind" <<'JSON'
[{"id":"5ac21346-8e0c-4494-8e7a-3eb92ff77902","text":"Account Executive","categories":{"team":"Sales","location":"Remote","commitment":"Full-time"},"createdAt":1763380800000,"hostedUrl":"https://jobs.lever.co/northwind/5ac21346","description":"<p>Sell.</p>","lists":[{"text":"Requirements","content":"<li>Grit</li>"}],"additional":"<p>Benefits</p>"}]
JSON
	run -0 --separate-stderr cp-fetch --source jobs
	gh=$(grep Greenhouse <<<"$output")
	assert_equal "$(jq -r '[.title,.url,.published_at,.body,.reliability]|join("|")' <<<"$gh")" \
	    "Senior Data Engineer|https://boards.greenhouse.io/nw/jobs/4012|2026-11-17T13:00:00Z|<p>Build our <b>data</b> platform</p>|0.7"
	assert_equal "$(jq -c .meta <<<"$gh")" \
	    '{"board":"greenhouse:nw","department":"Engineering","location":"Berlin","posted_at":"2026-11-17T13:00:00Z","job_id":"4012"}'
	lv=$(grep Lever <<<"$output")
	assert_equal "$(jq -r '[.title,.meta.department,.meta.location,.published_at]|join("|")' <<<"$lv")" \
	    "Account Executive|Sales|Remote|2025-11-17T12:00:00Z"
	jq -r .body <<<"$lv" | grep -q "<h3>Requirements</h3><ul><li>Grit</li></ul>"
	run -0 --separate-stderr cp-fetch --source jobs
	assert_output ""
}

# ---- ad hoc input ----

@test "--url: a page attributed with --account; by name without it" {
	start_server
	fetch_config </dev/null
	fetch_state
	printf '<html><head><title>Contoso opens a plant</title></head><body><p>Contoso, the retailer, opens a plant.</p></body></html>' >"$SRV/page.html"
	run -0 --separate-stderr cp-fetch --url "$BASE/page.html" --account northwind
	assert_equal "$(jq -r '[.source,.title,.content_type,(.account_ids|join(","))]|join("|")' <<<"$output")" \
	    "web|Contoso opens a plant|text/html|northwind"
	# the same page is the same document, whoever it is for
	run -0 --separate-stderr cp-fetch --url "$BASE/page.html"
	assert_output ""
	cp "$SRV/page.html" "$SRV/page2.html"
	run -0 --separate-stderr cp-fetch --url "$BASE/page2.html"
	assert_equal "$(jq -c .account_ids <<<"$output")" '["contoso"]'
	run -66 cp-fetch --url "$BASE/page.html" --account nosuch
	assert_output "cp-fetch: --account nosuch: no such account"
}

@test "--file: a feed file, a directory, and file:// base URLs need no server" {
	fetch_state_offline() {
		cp-init --tenant acme -q
		cp-account import -q <<'NDJSON'
{"id":"apple","name":"Apple Inc.","domain":"apple.com","cik":"320193"}
{"id":"northwind","name":"Northwind Labs","domain":"northwindlabs.com","greenhouse_token":"nw"}
NDJSON
	}
	fetch_state_offline
	mkdir -p d
	cat >d/a.xml <<'XML'
<rss version="2.0"><channel><title>Local</title><item><title>Northwind Labs expands</title><link>https://example.org/a</link><pubDate>Mon, 17 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>
XML
	printf '<html><title>Apple notes</title><body>Apple Inc. memo</body></html>' >d/b.html
	run -0 --separate-stderr cp-fetch --file d/a.xml
	assert_equal "$(jq -r '[.source,.title,(.account_ids|join(","))]|join("|")' <<<"$output")" \
	    "news|Northwind Labs expands|northwind"
	run -0 --separate-stderr cp-fetch --file d
	assert_equal "$(jq -r '.source' <<<"$output")" "file"
	# file:// base URLs: the demo's offline SEC and job board
	mkdir -p sec/submissions gh/v1/boards/nw
	cp "$EDGAR/sample_api_responses/CIK0000320193.json" sec/submissions/
	printf '{"jobs":[{"id":1,"title":"Engineer","content":"x"}]}' >gh/v1/boards/nw/jobs
	cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[sec]
base_url = file://$PWD/sec
www_url = https://www.sec.gov
since = 120d
[greenhouse]
base_url = file://$PWD/gh
CONF
	# (a file:// URL ends at the '?': the board is the file "jobs")
	CLIENTPULSE_NOW=2023-09-01T00:00:00Z run -0 --separate-stderr cp-fetch
	jq -s -e 'any(.[]; .source=="sec" and .meta.form=="10-Q")' <<<"$output" >/dev/null
	jq -s -e 'any(.[]; .source=="jobs" and .title=="Engineer")' <<<"$output" >/dev/null
}

@test "--stdin: documents are validated, passed through once, and logged" {
	cp-init --tenant acme -q
	doc='{"type":"document","v":1,"id":"doc_00000000000000000000000000000001","tenant":"acme","account_ids":[],"source":"web","source_name":"x","reliability":0.5,"url":"https://x.org/","title":"t","published_at":"2026-11-20T00:00:00Z","fetched_at":"2026-11-20T00:00:00Z","content_type":"text/plain","body":"b","meta":{}}'
	bad='{"type":"document","v":1,"id":"doc_2","tenant":"acme"}'
	other=${doc/acme/nosuch}
	run -65 cp-fetch --stdin <<<"$doc
$bad
$other"
	assert_line --index 0 "$doc"
	assert_line --partial '<stdin>:2: missing field "account_ids"'
	assert_line --partial '<stdin>:3: tenant "nosuch" is not in this state file'
	run -0 --separate-stderr cp-fetch --stdin <<<"$doc"
	assert_output ""
	run -0 --separate-stderr cp-fetch --replay
	assert_output "$doc"
}

@test "--dry-run lists the sources and fetches nothing" {
	start_server
	fetch_config <<CONF
[news]
feed = $BASE/wire.xml
CONF
	fetch_state
	run -0 --separate-stderr cp-fetch --dry-run
	assert_output "sec	acme	$BASE/submissions/CIK0000320193.json	apple
news	acme	$BASE/nw.xml	northwind
jobs	acme	$BASE/v1/boards/nw/jobs?content=true	northwind
jobs	acme	$BASE/v0/postings/northwind?mode=json	northwind
news	acme	$BASE/wire.xml	(by name)"
	run -0 --separate-stderr cp-fetch --dry-run --source jobs --account northwind
	assert_equal "${#lines[@]}" 2
	[ ! -s "$SRV/requests.log" ]
}

@test "-v shows per-source results and a summary on stderr" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one||x" "b|Northwind two||y" >"$SRV/nw.xml"
	run -0 cp-fetch --source news -v
	assert_line --regexp "^cp-fetch: info: news $BASE/nw.xml \(acme\): 200, 2 new, 0 seen, 0 updated, 0 dropped, [0-9]+ bytes, [0-9.]+s$"
	assert_line "cp-fetch: info: 1 sources: 1 ok, 0 not modified, 0 failed; 2 documents (0 updated), 0 seen, 0 dropped"
	run -0 cp-fetch --source news -v
	assert_line --regexp "news $BASE/nw.xml \(acme\): 304 not modified, 0 new"
}

# ---- the document log ----

@test "--replay re-emits logged documents; a run interrupted after logging resumes" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one|Tue, 18 Nov 2026 10:00:00 GMT|x" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	first=$output
	run -0 --separate-stderr cp-fetch --replay
	assert_output "$first"
	run -0 --separate-stderr cp-fetch --replay --source sec
	assert_output ""
	# a crash between logging and writing leaves the row pending
	sqlite3 "$CLIENTPULSE_DB" "update fetch_log set status='pending'"
	run -0 --separate-stderr cp-fetch --source news
	assert_output "$first"
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select status from fetch_log")" emitted
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
}

@test "the document log records every document emitted" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one||x" "b|Northwind two||y" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select count(*), min(status), max(status), min(source) from fetch_log")" \
	    "2|emitted|emitted|news"
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" "select doc_id from fetch_log order by doc_id")" \
	    "$(jq -r .id <<<"$output" | sort)"
}

# ---- item identity: the regressions feed watchers keep shipping ----

@test "identity: a feed whose newest item is not first loses nothing and repeats nothing" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind A|Mon, 17 Nov 2026 10:00:00 GMT|" "b|Northwind B|Tue, 18 Nov 2026 10:00:00 GMT|" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "${#lines[@]}" 2
	# an older-dated item appears at the bottom, a newer one in the middle
	rss "b|Northwind B|Tue, 18 Nov 2026 10:00:00 GMT|" "c|Northwind C|Wed, 19 Nov 2026 10:00:00 GMT|" \
	    "a|Northwind A|Mon, 17 Nov 2026 10:00:00 GMT|" "d|Northwind D|Sun, 16 Nov 2026 10:00:00 GMT|" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .meta.guid <<<"$output" | sort | tr '\n' ' ')" "c d "
}

@test "identity: items without guid are identified by their canonical link" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "|Northwind one||x" >"$SRV/nw.xml"
	sed -i 's#/news/#/news/one?utm_source=a#' "$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "${#lines[@]}" 1
	sed -i 's#utm_source=a#utm_source=b#' "$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
	# no guid and no link: title and link hash still identify it
	printf '<rss><channel><item><title>Northwind bare</title></item></channel></rss>' >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "${#lines[@]}" 1
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
}

@test "identity: a changed description or date is not a new item; --updates re-emits it" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one|Tue, 18 Nov 2026 10:00:00 GMT|first" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	id=$(jq -r .id <<<"$output")
	rss "a|Northwind one|Wed, 19 Nov 2026 10:00:00 GMT|second" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news --updates
	assert_equal "$(jq -r '[.id,.body,.meta.updated]|join(" ")' <<<"$output")" \
	    "$id second 2026-11-20T12:00:00Z"
	run -0 --separate-stderr cp-fetch --source news --updates
	assert_output ""
	# without --updates a change is simply not new
	rss "a|Northwind one|Thu, 20 Nov 2026 10:00:00 GMT|third" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
}

@test "identity: dates with or without milliseconds and zones do not make an item new" {
	start_server
	fetch_config </dev/null
	fetch_state
	cat >"$SRV/nw.xml" <<'XML'
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><id>urn:1</id><title>Northwind one</title><updated>2026-11-18T10:00:00Z</updated></entry>
<entry><id>urn:2</id><title>Northwind two</title><updated>2026-11-18T10:00:00+00:00</updated></entry>
</feed>
XML
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .published_at <<<"$output" | sort -u)" "2026-11-18T10:00:00Z"
	sed -i 's/10:00:00Z/10:00:00.000Z/; s/10:00:00+00:00/12:00:00+02:00/' "$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news --updates
	assert_output ""
}

@test "identity: a feed that is briefly empty loses nothing and repeats nothing" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one||" "b|Northwind two||" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	rss >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_output ""
	rss "a|Northwind one||" "b|Northwind two||" "c|Northwind three||" >"$SRV/nw.xml"
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "$(jq -r .meta.guid <<<"$output")" "c"
}

@test "identity: a server that ignores conditional GET or changes its ETag every time" {
	start_server
	fetch_config </dev/null
	fetch_state
	rss "a|Northwind one||" >"$SRV/nw.xml"
	behave '{"/nw.xml": {"ignore_conditional": true, "etag": "random"}}'
	run -0 --separate-stderr cp-fetch --source news
	assert_equal "${#lines[@]}" 1
	for i in 1 2 3; do
		run -0 --separate-stderr cp-fetch --source news
		assert_output ""
	done
	assert_equal "$(requests /nw.xml)" 4
}

# ---- the demo data ----

@test "examples: the demo's SEC, job board and feed data fetch offline" {
	ex="$CP_TOP/examples"
	cp-init --tenant acme -q
	cp-user add alice --role am -q
	cp-user add bob --role am -q
	cp-account import -q "$ex/accounts.ndjson"
	cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[sec]
base_url = file://$ex/sec
www_url = file://$ex/sec
since = 3650d
[greenhouse]
base_url = file://$ex/jobs/greenhouse
[lever]
base_url = file://$ex/jobs/lever
[news]
feed = file://$ex/feeds/wire.xml
feed = file://$ex/feeds/techdaily.atom
CONF
	unset CLIENTPULSE_NOW
	# the SEC text too is local (news --with-text would go out to the
	# articles' hosts, so not here)
	run -0 --separate-stderr cp-fetch --source sec --with-text
	jq -r 'select(.meta.form=="8-K" and .account_ids==["northwind"] and .meta.filed=="2026-11-17")|.body' <<<"$output" | grep -q "Daniel Okafor"
	run -0 --separate-stderr cp-fetch -v
	cp-validate --type document <<<"$output" >/dev/null
	assert_equal "$(jq -r .source <<<"$output" | sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ')" \
	    "jobs7 news6 "
	assert_equal "$(jq -r 'select(.meta.guid=="urn:uuid:6d1c9a52-0d4e-4b6e-9c39-5a3f0e2b1c01")|.account_ids|join(",")' <<<"$output")" \
	    "northwind,relecloud"
	[[ "$stderr" == *"1 dropped"* ]]
	run -0 --separate-stderr cp-fetch
	assert_output ""
}
