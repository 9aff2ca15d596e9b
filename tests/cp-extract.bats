#!/usr/bin/env bats
# cp-extract: document records in, signal records out.  Each test feeds
# real records (built with jq) through the real binary and checks the
# fields a later stage relies on.

load helper

# doc ID BODY [CONTENT_TYPE] [TITLE] [SOURCE] [META]
doc() {
	jq -cn --arg id "doc_$1" --arg b "$2" --arg ct "${3:-text/plain}" \
	    --arg t "${4:-}" --arg src "${5:-news}" --argjson meta "${6:-{\}}" \
	    '{type:"document",v:1,id:$id,tenant:"acme",account_ids:[],
	      source:$src,source_name:"Wire",reliability:0.8,
	      url:("https://news.example/" + $id),title:$t,
	      published_at:"2026-10-01T09:00:00Z",
	      fetched_at:"2026-10-01T09:05:00Z",content_type:$ct,body:$b,
	      meta:$meta,extra_field:{"kept":true}}'
}

# docf ID FILE [CONTENT_TYPE]: the body from a file (too big for argv)
docf() {
	jq -cn --arg id "doc_$1" --rawfile b "$2" --arg ct "${3:-text/html}" \
	    '{type:"document",v:1,id:$id,tenant:"acme",account_ids:[],
	      source:"news",source_name:"Wire",reliability:0.8,
	      url:("https://news.example/" + $id),title:"",
	      published_at:"2026-10-01T09:00:00Z",
	      fetched_at:"2026-10-01T09:05:00Z",content_type:$ct,body:$b,
	      meta:{}}'
}

extract() {
	cp-extract --no-accounts "$@"
}

@test "an HTML news page: the article text, not the page around it" {
	doc 1 "$(cat "$FIXTURES/extract/news.html")" text/html "Acme buys Beta" >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e '.type == "signal" and (.id | startswith("sig_"))'
	echo "$output" | jq -e '.text | contains("Acme Corp said on Tuesday it would acquire Beta Systems")'
	echo "$output" | jq -e '.text | contains("The deal is expected to close")'
	# paragraph breaks survive
	echo "$output" | jq -e '.text | contains("Beta Systems for $1.2 billion.\n\n")'
	# chrome: navigation, cookie banner, share bar, related links, footer
	echo "$output" | jq -e '.text | (contains("cookies") or contains("Share on") or
	    contains("Related") or contains("All rights reserved") or
	    contains("Markets")) | not'
	# entities decoded, not escaped
	echo "$output" | jq -e '.text | contains("Smith & Co’s")'
}

@test "article structure: a standfirst stays; bylines, dates, orphan headings go" {
	docf 1 "$FIXTURES/extract/cms.html" >in.ndjson
	run -0 extract in.ndjson
	assert_equal "$(echo "$output" | jq -r .text)" "Acme will close its Dayton plant next year and move production to Texas, the company said.

The plant employs about 450 people, many of whom have worked there for decades, union officials said.

Production will move to a newer facility near Austin, which the company bought last year.

Shares rose 2% in early trading, as investors welcomed the cost savings, analysts said."
}

@test "every document field but the body passes through unchanged" {
	doc 1 "Some text about nothing in particular." >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e 'has("body") | not'
	echo "$output" | jq -e '.extra_field.kept == true and .source_name == "Wire"'
	echo "$output" | jq -e '.document_id == "doc_1" and .reliability == 0.8'
	echo "$output" | jq -e '.extract.version and (.extract.warnings | type) == "array"'
	echo "$output" | jq -e '.fingerprint | test("^[0-9a-f]{16}$")'
}

@test "the signal id is derived from tenant and document: same input, same id" {
	doc 1 "Identical text." >in.ndjson
	a=$(extract in.ndjson | jq -r .id)
	b=$(extract in.ndjson | jq -r .id)
	assert_equal "$a" "$b"
}

@test "plain text: hard-wrapped lines are joined, short lines kept" {
	body=$'Acme Corp and Beta Systems have agreed a strategic partnership under\nwhich the two companies will build a data platform for manufacturers in\nEurope and North America.\n\nPress contact\nJane Doe'
	doc 1 "$body" >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e '.text | contains("partnership under which the two companies")'
	echo "$output" | jq -e '.text | contains("Press contact\nJane Doe")'
}

@test "money with currencies and scale words in several languages" {
	doc 1 'Acme will pay $1.2 billion. Beta raised USD 450 million. Gamma bought it for €75m. Дніпро Софт отримала 1,5 млрд гривень. Halberg investiert 12,5 Mio. Euro. Aceros pagará 850 millones de euros.' >in.ndjson
	run -0 extract in.ndjson
	m() { echo "$output" | jq -e --argjson v "$1" --arg c "$2" \
	    'any(.entities[]; .kind == "money" and .value == $v and .currency == $c)'; }
	m 1200000000 USD
	m 450000000 USD
	m 75000000 EUR
	m 1500000000 UAH
	m 12500000 EUR
	m 850000000 EUR
}

@test "percentages, dates and headcounts" {
	doc 1 'Acme will cut 1,200 jobs, about 8.5% of its staff, by March 3, 2026. Halberg streicht 300 Stellen.' >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e 'any(.entities[]; .kind == "headcount" and .value == 1200)'
	echo "$output" | jq -e 'any(.entities[]; .kind == "headcount" and .value == 300)'
	echo "$output" | jq -e 'any(.entities[]; .kind == "percent" and .value == 8.5)'
	echo "$output" | jq -e 'any(.entities[]; .kind == "date" and .value == "2026-03-03")'
}

@test "people with business roles, normalised" {
	doc 1 'The company said Jane Roe, chief financial officer, will leave. Acme named Tom Li as CTO. Chief executive Elena Marsh said the deal was done. Aceros del Tajo nombra a Carmen Ruiz Olmedo consejera delegada.' >in.ndjson
	run -0 extract in.ndjson
	p() { echo "$output" | jq -e --arg n "$1" --arg r "$2" \
	    'any(.entities[]; .kind == "person" and .text == $n and .role == $r)'; }
	p "Jane Roe" CFO
	p "Tom Li" CTO
	p "Elena Marsh" CEO
	p "Carmen Ruiz Olmedo" CEO
}

@test "organisations resolve to accounts: word boundaries, homonyms, cues" {
	cp-init --tenant acme -q
	cp-account import -q <<'NDJSON'
{"id":"nwlabs","name":"Northwind Labs","aliases":["Northwind"]}
{"id":"nwlog","name":"Northwind Logistics"}
{"id":"summit","name":"Summit","meta":{"requires_company_cue":true}}
{"id":"acme","name":"Acme","ticker":"ACMI"}
{"id":"acmefoods","name":"Acme Foods"}
NDJSON
	doc 1 'Northwind Logistics will close a depot. Northwind said the move saves money.' >in.ndjson
	doc 2 'Leaders met at the summit. The G20 Summit ended on Sunday.' >>in.ndjson
	doc 3 'Summit Inc. said its finance chief will leave. Summit shares fell.' >>in.ndjson
	doc 4 'Acme Foods recalled frozen dinners on Monday.' >>in.ndjson
	doc 5 'Shares of the maker (NYSE: ACMI) rose. Northwindy weather and Acmeville are no companies.' >>in.ndjson
	run -0 cp-extract in.ndjson
	assert_equal "$(echo "$output" | jq -c .account_ids)" \
	    "$(printf '%s\n' '["nwlog"]' '[]' '["summit"]' '["acmefoods"]' '["acme"]')"
	echo "$output" | sed -n 1p | jq -e 'any(.entities[]; .kind == "org" and .account_id == "nwlog" and .text == "Northwind Logistics")'
}

@test "themes with evidence; denials are negated" {
	doc 1 'Acme Corp agreed to acquire Beta Systems for $300 million in cash.' >in.ndjson
	doc 2 'Helix Biotherapeutics denies a report that it is exploring a sale of the company.' >>in.ndjson
	doc 3 'Halberg hat Berichte über eine mögliche Übernahme zurückgewiesen.' >>in.ndjson
	doc 4 'The weather will be cold and windy this weekend.' >>in.ndjson
	run -0 extract in.ndjson
	th() { echo "$output" | sed -n "${1}p" | jq -c '[.themes[] | [.theme, .negated]]'; }
	assert_equal "$(th 1)" '[["m_and_a",false]]'
	assert_equal "$(th 2)" '[["m_and_a",true]]'
	assert_equal "$(th 3)" '[["m_and_a",true]]'
	assert_equal "$(th 4)" '[]'
	echo "$output" | sed -n 1p | jq -e '.themes[0].evidence | startswith("Acme Corp agreed to acquire")'
	echo "$output" | sed -n 1p | jq -e '.themes[0].confidence > 0.5 and .themes[0].confidence <= 1'
}

@test "multilingual cues: Ukrainian, German and Spanish" {
	doc 1 'Компанія «Дніпро Софт» залучила 40 мільйонів доларів інвестицій у раунді серії B.' >in.ndjson
	doc 2 'Halberg streicht 300 Stellen in Deutschland.' >>in.ndjson
	doc 3 'Aceros del Tajo nombra a Carmen Ruiz Olmedo nueva consejera delegada.' >>in.ndjson
	run -0 extract in.ndjson
	assert_equal "$(echo "$output" | jq -c '[.lang, [.themes[].theme]]')" \
	    "$(printf '%s\n' '["uk",["funding"]]' '["de",["layoffs","cost_cutting"]]' '["es",["leadership_change"]]')"
}

@test "SEC 8-K items map to themes" {
	doc 1 '<p>Item 5.02 Departure of Directors or Certain Officers.</p><p>On October 1, the Company announced that its Chief Financial Officer will step down.</p>' text/html "Form 8-K" sec '{"form":"8-K","items":["5.02","9.01"]}' >in.ndjson
	doc 2 '<p>Item 2.05 Costs Associated with Exit or Disposal Activities.</p><p>The Company will close its Dayton plant.</p>' text/html "Form 8-K" sec >>in.ndjson
	run -0 extract in.ndjson
	assert_equal "$(echo "$output" | jq -c '[.themes[].theme]')" \
	    "$(printf '%s\n' '["leadership_change"]' '["layoffs","cost_cutting"]')"
}

@test "job postings get a function and a seniority, and no event themes" {
	doc 1 '<p>You will automate triage and lead incident response.</p>' text/html "Senior Security Engineer, Detection" jobs >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e '.job == {"function":"security","seniority":"senior","title":"Senior Security Engineer, Detection"}'
	echo "$output" | jq -e '.themes == []'
}

@test "PII is redacted with typed placeholders and counted" {
	doc 1 'Mail jane.doe@example.net or call +1 415 555 0132 or (615) 555-0100. Card 4111 1111 1111 1111, order 1234567812345678. IBAN DE89 3704 0044 0532 0130 00. SSN 123-45-6789. CFO Jane Roe approved.' >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e '.pii == {"email":1,"phone":2,"card":1,"iban":1,"ssn":1}'
	echo "$output" | jq -e '.text | contains("Mail [EMAIL] or call [PHONE] or [PHONE]. Card [CARD], order 1234567812345678. IBAN [IBAN]. SSN [SSN].")'
	# people in business roles are not PII
	echo "$output" | jq -e '.text | contains("CFO Jane Roe approved")'
	run -0 extract --keep-pii in.ndjson
	echo "$output" | jq -e '(.text | contains("jane.doe@example.net")) and .pii.email == 1'
}

@test "chunks: sentence-aware, bounded, one sentence of overlap" {
	body=$(for i in $(seq 1 40); do printf 'Sentence number %d talks about the quarterly results of the company in some detail. ' "$i"; done)
	doc 1 "$body" >in.ndjson
	run -0 extract --chunk-size 300 in.ndjson
	echo "$output" | jq -e '.chunks | length > 5'
	echo "$output" | jq -e 'all(.chunks[]; (.text | length) <= 300)'
	# each chunk begins with the last sentence of the one before
	echo "$output" | jq -e '[.chunks[] | .text] as $c | all(range(1; $c | length);
	    ($c[. - 1] | split(". ") | last | rtrimstr(".")) as $last | $c[.] | startswith($last))'
	echo "$output" | jq -e '.text as $t | all(.chunks[]; . as $c | $t[$c.offset:$c.offset + ($c.text | length)] == $c.text)'
}

@test "Unicode: NFC, zero-width and control characters removed" {
	doc 1 $'Cafe\u0301 zero\u200bwidth\u00adsoft bell\u0007 and\u00a0nbsp.' >in.ndjson
	run -0 extract in.ndjson
	assert_equal "$(echo "$output" | jq -r .text)" "Café zerowidthsoft bell and nbsp."
}

@test "language: script and trigrams; und when unsure" {
	doc 1 'Die Gewerkschaft zeigte sich enttäuscht von der Entscheidung und will die Regierung um Hilfe bitten.' >in.ndjson
	doc 2 'Профспілка заявила, що розчарована цим рішенням, і звернеться по допомогу до уряду.' >>in.ndjson
	doc 3 'Профсоюз заявил, что разочарован этим решением, и обратится за помощью к правительству.' >>in.ndjson
	doc 4 'OK 42' >>in.ndjson
	run -0 extract in.ndjson
	assert_equal "$(echo "$output" | jq -r .lang | tr '\n' ' ')" "de uk ru und "
}

@test "--themes FILE replaces the taxonomy; a broken file is a configuration error" {
	cat >themes.json <<'JSON'
{"version":1,"themes":{"space":{"strong":["rocket launch"]}}}
JSON
	doc 1 'The rocket launch went well after Acme agreed to acquire Beta.' >in.ndjson
	run -0 extract --themes themes.json in.ndjson
	echo "$output" | jq -e '[.themes[].theme] == ["space"]'
	echo '{"themes":{"x":{"strong":["(unclosed"]}}}' >bad.json
	run -78 extract --themes bad.json in.ndjson
	assert_output --partial "bad.json: bad pattern"
	run -66 extract --themes missing.json in.ndjson
}

@test "a themes file in the configuration directory overrides the default" {
	cat >"$XDG_CONFIG_HOME/clientpulse/themes.json" <<'JSON'
{"themes":{"weather":{"strong":["snow"]}}}
JSON
	doc 1 'Heavy snow is expected.' >in.ndjson
	run -0 extract in.ndjson
	echo "$output" | jq -e '[.themes[].theme] == ["weather"]'
}

@test "bad input: a clear error per line, good lines still come out, exit 65" {
	{
		doc 1 'Good text.'
		echo '{"type":"document","v":1}'
		echo 'not json'
		doc 4 "$(head -c 3000 /dev/urandom | tr -d '\000' | LC_ALL=C tr -c '\t\n\040-\176' '\001-\037' | head -c 2000)"
		echo '{"type":"signal","v":1}'
		doc 6 'Also good.'
	} >in.ndjson
	run --separate-stderr extract in.ndjson
	assert_equal "$status" 65
	assert_equal "$(echo "$output" | jq -r .document_id | tr '\n' ' ')" "doc_1 doc_6 "
	[[ "$stderr" == *"cp-extract: in.ndjson:2: "* ]]
	[[ "$stderr" == *"cp-extract: in.ndjson:3: invalid JSON"* ]]
	[[ "$stderr" == *"cp-extract: in.ndjson:4: body is not text (binary content)"* ]]
	[[ "$stderr" == *"cp-extract: in.ndjson:5: "* ]]
}

@test "no body text, a legacy charset, deep nesting: best effort, flagged" {
	doc 1 '' text/html "Title only: Acme to acquire Beta" >in.ndjson
	doc 2 '<html><head><meta charset="windows-1251"></head><body><p>Текст новости о компании и её планах на будущий год.</p></body></html>' "text/html; charset=windows-1251" >>in.ndjson
	python3 -c 'print("<div>" * 400000 + "<p>deep text here</p>")' >deep.html
	docf 3 deep.html >>in.ndjson
	run -0 timeout 60 cp-extract --no-accounts --max-line 20M in.ndjson
	assert_equal "$(echo "$output" | wc -l)" 3
	echo "$output" | sed -n 1p | jq -e '.extract.warnings | any(. == "no body text")'
	echo "$output" | sed -n 1p | jq -e '[.themes[].theme] == ["m_and_a"]'
	echo "$output" | sed -n 2p | jq -e '.extract.warnings | any(contains("windows-1251"))'
	echo "$output" | sed -n 2p | jq -e '.lang == "ru"'
	echo "$output" | sed -n 3p | jq -e '.extract.warnings | any(contains("nested too deeply"))'
}

@test "without a state file it still runs; a named missing one is an error" {
	doc 1 'Northwind Labs agreed to acquire Beta.' >in.ndjson
	run -0 cp-extract in.ndjson
	echo "$output" | jq -e '.account_ids == []'
	run -66 cp-extract --db nowhere/state.db in.ndjson
}

@test "the labeled corpus goes through whole, every line a signal" {
	run -0 extract "$FIXTURES/labeled/documents.ndjson"
	assert_equal "$(echo "$output" | wc -l)" "$(wc -l <"$FIXTURES/labeled/documents.ndjson")"
	echo "$output" | cp-validate --type signal >/dev/null
}

@test "usage errors exit 64" {
	run -64 cp-extract --chunk-size 5
	run -64 cp-extract --shingle 99
	run -64 cp-extract --bogus
}
