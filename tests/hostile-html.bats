#!/usr/bin/env bats
# tests/hostile-html.bats — pages built to hurt the HTML-to-text
# extractor (cp-extract) and the fetch of local files: unclosed tags
# nested 100,000 deep, 50 MB of text in one node, and markup that tries
# to smuggle script, style or hidden text into a signal.  Nothing
# crashes, nothing is unbounded, a bad record is rejected with its line
# and the good records around it still come out.

load helper
bats_require_minimum_version 1.5.0

# doc ID BODY: a document record with this HTML body (python3 writes it:
# bodies here are far too large for the shell)
doc_py='
import json, sys
def doc(n, body, title="Northwind update"):
    return json.dumps({"type": "document", "v": 1,
        "id": "doc_%032x" % n, "tenant": "acme",
        "account_ids": ["northwind"], "source": "web", "source_name": "web",
        "reliability": 0.5, "url": "https://news.example.com/%d" % n,
        "title": title, "published_at": "2026-11-20T00:00:00Z",
        "fetched_at": "2026-11-20T00:00:00Z", "content_type": "text/html",
        "body": body, "meta": {}}) + "\n"
'

good_line() {
	python3 -c "$doc_py
sys.stdout.write(doc(99, '<p>Northwind Labs raised \$50 million in a Series B round led by Fabrikam Ventures.</p>'))"
}

@test "hostile HTML: unclosed tags nested 100,000 deep are cut off with a warning" {
	python3 -c "$doc_py
sys.stdout.write(doc(1, '<html><body>' + '<div>' * 100000 + 'Northwind Labs raised money.'))
sys.stdout.write(doc(2, '<html><body>' + '<b><i><span>' * 33334 + 'Northwind hires.'))
sys.stdout.write(doc(3, '<table>' * 50000 + '<tr><td>' * 25000 + 'cells'))
sys.stdout.write(doc(4, '<p>' * 100000 + 'paragraphs never closed'))" >deep.ndjson
	good_line >>deep.ndjson
	run --separate-stderr timeout 120 cp-extract --no-accounts deep.ndjson
	assert_equal "$status" 0
	assert_equal "$(jq -s length <<<"$output")" 5
	# each deep page says what happened to it
	# each deep page says what happened to it; <p> closes the <p> before
	# it, so a run of them is not deep and keeps its text
	assert_equal "$(jq -s '[.[] | select(.extract.warnings | index("markup nested too deeply; the rest was cut off"))] | length' <<<"$output")" 3
	run jq -r 'select(.document_id == "doc_00000000000000000000000000000004") | .text' <<<"$output"
	assert_output --partial "paragraphs never closed"
	# the good page after them is whole
	run --separate-stderr timeout 120 cp-extract --no-accounts deep.ndjson
	run jq -r 'select(.document_id == "doc_00000000000000000000000000000063") | .text' <<<"$output"
	assert_output --partial "Series B round"
}

@test "hostile HTML: 50 MB of text in one node: refused by the line limit, bounded when allowed" {
	python3 -c "$doc_py
body = '<html><body><p>' + ('Northwind Labs raised money. ' * 1900000)[:50 << 20] + '</p></body></html>'
sys.stdout.write(doc(5, body))
open('big.html', 'w').write(body)" >big.ndjson
	good_line >>big.ndjson
	[ "$(wc -c <big.ndjson)" -gt $((50 << 20)) ]
	# the default 16 MiB line limit: rejected with its line, never held
	# whole; the next record still comes out
	run --separate-stderr timeout 120 cp-extract --no-accounts big.ndjson
	assert_equal "$status" 65
	[[ $stderr == "cp-extract: big.ndjson:1: line longer than 16777216 bytes"* ]] ||
	    fail "$stderr"
	assert_equal "$(jq -s length <<<"$output")" 1
	# allowed with --max-line: one signal, in bounded time
	local t0=$SECONDS
	run --separate-stderr timeout 300 cp-extract --no-accounts --max-line 64M big.ndjson
	assert_equal "$status" 0
	assert_equal "$(jq -s length <<<"$output")" 2
	measure "50 MB in one HTML node: $((SECONDS - t0)) s through cp-extract"
	# cp-fetch --file refuses a file above http.max_body (20 MiB)
	cp-init --tenant acme -q
	cp-account add --name "Northwind Labs" --id northwind -q
	run --separate-stderr cp-fetch --file big.html --account northwind
	assert_equal "$status" 65
	[[ $stderr == *"big.html: file larger than 20971520 bytes"* ]] || fail "$stderr"
	assert_equal "$output" ""
}

@test "hostile HTML: script, style, comments, hidden text and entities never reach the signal text" {
	python3 -c "$doc_py
sys.stdout.write(doc(6, '''<html><head><title>x</title><style>p{color:red} .EVILSTYLE{}</style>
<script>document.write(\"EVILSCRIPT\")</script></head><body>
<!-- EVILCOMMENT --><div hidden>EVILHIDDEN</div><div style=\"display:none\">EVILNONE</div>
<p>Northwind Labs raised &#36;50 million &amp; hired 200 engineers.</p>
<template>EVILTEMPLATE</template><noscript>EVILNOSCRIPT</noscript>
<p>It opened an office in Lisbon.<script>EVILSCRIPT2</script></p>
<svg><script>EVILSVG</script></svg></body></html>'''))" >evil.ndjson
	run --separate-stderr cp-extract --no-accounts evil.ndjson
	assert_equal "$status" 0
	run jq -r .text <<<"$output"
	assert_output --partial 'Northwind Labs raised $50 million & hired 200 engineers.'
	refute_output --regexp 'EVIL(STYLE|SCRIPT|COMMENT|HIDDEN|TEMPLATE|SVG)'
}

@test "hostile HTML: binary and NUL-laden bodies are rejected or repaired, never a crash" {
	python3 -c "$doc_py
import os, random
r = random.Random(7)
sys.stdout.write(doc(7, ''.join(chr(r.randrange(1, 0x2FFF)) for _ in range(200000))))
sys.stdout.write(doc(8, '<p>a\u0001b\u0002c\u007fd\u0085e\u200bf\ufeffg</p>'))
sys.stdout.write(doc(9, '<p>' + '\ud7ff\ue000\U0010ffff' * 1000 + '</p>'))
sys.stdout.write(doc(10, '<' * 200000))
sys.stdout.write(doc(11, '&#' + '9' * 5000 + ';&#x110000;&#0;&#xD800;'))" >odd.ndjson
	good_line >>odd.ndjson
	run --separate-stderr timeout 120 cp-extract --no-accounts odd.ndjson
	[ "$status" -eq 0 ] || assert_equal "$status" 65
	# every record came out or was rejected with its line
	local out rej
	out=$(jq -s length <<<"$output")
	rej=$(grep -c '^cp-extract: odd.ndjson:[0-9]*: ' <<<"$stderr" || true)
	assert_equal "$((out + rej))" 6
	# the signal texts are valid UTF-8 without C0 controls but newlines
	jq -r .text <<<"$output" | iconv -f UTF-8 -t UTF-8 >/dev/null
	! jq -r .text <<<"$output" | LC_ALL=C grep -q -P '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]'
}
