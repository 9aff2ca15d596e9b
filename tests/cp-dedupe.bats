#!/usr/bin/env bats
# cp-dedupe: repeats of one story fold into a cluster in the state file;
# only the first is passed on (all with --emit-updates).  Signals are made
# by the real cp-extract from small documents.

load helper

setup() {
	cp_setup
	cp-init --tenant acme -q
	cp-account import -q <<'NDJSON'
{"id":"nwlabs","name":"Northwind Labs"}
{"id":"vantage","name":"Vantage Cloud Systems","aliases":["Vantage Cloud"]}
{"id":"silver","name":"Silverline Payments","aliases":["Silverline"]}
NDJSON
}

# doc ID DATE BODY [SOURCE] [TITLE]: a document, through cp-extract
sig() {
	jq -cn --arg id "doc_$1" --arg d "$2" --arg b "$3" --arg src "${4:-news}" \
	    --arg t "${5:-}" \
	    '{type:"document",v:1,id:$id,tenant:"acme",account_ids:[],
	      source:$src,source_name:"Wire",reliability:0.8,
	      url:("https://news.example/" + $id),title:$t,published_at:$d,
	      fetched_at:$d,content_type:"text/plain",body:$b,meta:{}}' |
	    cp-extract
}

STORY='Northwind Labs said on Monday it had agreed to acquire DataLoom, a data-integration startup, for $1.2 billion in cash and stock. DataLoom, founded in 2019, has about 310 employees and counts several large banks among its customers. The transaction is expected to close in the first quarter of 2027, subject to regulatory approvals. Analysts said the price was steep but defensible given the growth of the business.'

@test "the first signal of a story is new; an exact copy is folded in" {
	{ sig 1 2026-09-14T10:00:00Z "$STORY"; sig 2 2026-09-14T12:00:00Z "$STORY"; } >in.ndjson
	run -0 cp-dedupe in.ndjson
	assert_equal "$(echo "$output" | wc -l)" 1
	echo "$output" | jq -e '.document_id == "doc_1" and (.cluster_id | startswith("clu_")) and .corroborations == 0'
	echo "$output" | jq -e 'has("duplicate_of") | not'
	# every byte of the signal passes through, the cluster fields added
	assert_equal "$(echo "$output" | jq -c 'del(.cluster_id, .corroborations)')" \
	    "$(sed -n 1p in.ndjson | jq -c .)"
}

@test "--emit-updates passes corroborations on, pointing at the story's lead" {
	{ sig 1 2026-09-14T10:00:00Z "$STORY"; sig 2 2026-09-14T12:00:00Z "$STORY"; sig 3 2026-09-14T13:00:00Z "$STORY"; } >in.ndjson
	run -0 cp-dedupe --emit-updates in.ndjson
	assert_equal "$(echo "$output" | jq -r .corroborations | tr '\n' ' ')" "0 1 2 "
	lead=$(echo "$output" | sed -n 1p | jq -r .id)
	echo "$output" | sed -n 2,3p | jq -e --arg l "$lead" '.duplicate_of == $l'
	assert_equal "$(echo "$output" | jq -r .cluster_id | sort -u | wc -l)" 1
}

@test "idempotent: the same input twice emits nothing the second time" {
	{ sig 1 2026-09-14T10:00:00Z "$STORY"; sig 2 2026-09-20T10:00:00Z 'Vantage Cloud Systems launches a new threat detection service for its customers in every region.'; } >in.ndjson
	run -0 cp-dedupe --emit-updates in.ndjson
	assert_equal "$(echo "$output" | wc -l)" 2
	run -0 cp-dedupe --emit-updates in.ndjson
	assert_equal "$output" ""
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" 'select count(*) from signals')" 2
}

@test "a near copy joins the story; the same template about another deal does not" {
	near="Northwind Labs snapped up a fast-growing rival. $STORY"
	other="${STORY//DataLoom/Pellucid}"
	other="${other//\$1.2 billion/\$310 million}"
	{ sig 1 2026-09-14T10:00:00Z "$STORY"; sig 2 2026-09-14T11:00:00Z "$near"; sig 3 2026-09-15T10:00:00Z "$other"; } >in.ndjson
	run --separate-stderr cp-dedupe --emit-updates --explain in.ndjson
	assert_equal "$status" 0
	assert_equal "$(echo "$output" | jq -r .corroborations | tr '\n' ' ')" "0 1 0 "
	[[ "$stderr" == *"near duplicate in clu_"*"(jaccard 0."* ]]
	[[ "$stderr" == *": new clu_"*"; nearest sig_"*"(jaccard "*"hamming"* ]]
}

@test "paraphrases of one event cluster by account, theme and key entities" {
	a='Silverline Payments said hackers accessed data on about 1.3 million cardholders after breaking into a support system on October 27.'
	b='A data breach at Silverline exposed the personal details of roughly 1.3 million cardholders, the payment processor disclosed; the intrusion was found on October 27.'
	c='Silverline Payments suffered a second, unrelated breach in which attackers stole 40,000 merchant records.'
	{ sig 1 2026-11-02T10:00:00Z "$a"; sig 2 2026-11-02T15:00:00Z "$b"; sig 3 2026-11-04T09:00:00Z "$c"; } >in.ndjson
	run -0 cp-dedupe --emit-updates in.ndjson
	assert_equal "$(echo "$output" | jq -r .corroborations | tr '\n' ' ')" "0 1 0 "
	c1=$(echo "$output" | sed -n 1p | jq -r .cluster_id)
	c2=$(echo "$output" | sed -n 2p | jq -r .cluster_id)
	assert_equal "$c1" "$c2"
}

@test "the window: the same story months later is a new one" {
	{ sig 1 2026-01-14T10:00:00Z "$STORY"; sig 2 2026-09-14T10:00:00Z "Northwind Labs snapped up a rival. $STORY"; } >in.ndjson
	run -0 cp-dedupe --emit-updates in.ndjson
	assert_equal "$(echo "$output" | jq -r .corroborations | tr '\n' ' ')" "0 0 "
	rm -f "$CLIENTPULSE_DB"*
	cp-init --tenant acme -q
	run -0 cp-dedupe --emit-updates --window 365d in.ndjson
	assert_equal "$(echo "$output" | jq -r .corroborations | tr '\n' ' ')" "0 1 "
}

@test "a threshold of 1 leaves only exact copies to fold" {
	{ sig 1 2026-09-14T10:00:00Z "$STORY"; sig 2 2026-09-14T11:00:00Z "Northwind Labs snapped up a rival. $STORY"; } >in.ndjson
	run -0 cp-dedupe --threshold 1 --shingle 2 in.ndjson
	# not near enough; but the same event (account, theme, amount): one story
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "every signal is stored for search, health and reconcile" {
	sig 1 2026-09-14T10:00:00Z "$STORY" >in.ndjson
	run -0 cp-dedupe in.ndjson
	run -0 sqlite3 "$CLIENTPULSE_DB" "select s.document_id, s.account_ids, s.lang, json_extract(s.themes, '\$[0].theme'), c.size, s.published_at from signals s join clusters c on c.id = s.cluster_id"
	assert_output 'doc_1|["nwlabs"]|en|m_and_a|1|2026-09-14T10:00:00Z'
}

@test "hiring surge: the third posting of one function within the window" {
	duty=("You will build detection rules for cloud audit logs and tune them."
	    "Design identity and access controls for thousands of engineers."
	    "Run penetration tests against our payment APIs every quarter."
	    "Triage vulnerability reports from our bug bounty programme.")
	for i in 1 2 3 4; do
		sig "j$i" "2026-10-0${i}T10:00:00Z" "${duty[$((i - 1))]}" jobs "Security Engineer $i" |
		    jq -c '.account_ids = ["vantage"]'
	done >in.ndjson
	run -0 cp-dedupe in.ndjson
	assert_equal "$(echo "$output" | jq -c '[.themes[].theme]' | tr '\n' ' ')" '[] [] ["hiring_surge"] ["hiring_surge"] '
	echo "$output" | sed -n 3p | jq -e '.themes[0].evidence == "3 security postings at vantage within 30 days"'
	run -0 sqlite3 "$CLIENTPULSE_DB" "select count(*) from signals where themes like '%hiring_surge%'"
	assert_output 2
}

@test "bad lines are rejected with their position; the rest go on; exit 65" {
	{
		sig 1 2026-09-14T10:00:00Z "$STORY"
		echo '{"type":"signal","v":1,"id":"sig_x"}'
		echo '{"a": [1, 2}'
		echo '[1]'
		sig 5 2026-09-14T10:00:00Z 'Vantage Cloud launches a new service.' | jq -c '.tenant = "nobody"'
		sig 6 2026-09-14T10:00:00Z 'Vantage Cloud launches a new product today.' | jq -c '.published_at = "yesterday" | .fetched_at = "never"'
		sig 7 2026-09-20T10:00:00Z 'Vantage Cloud Systems launches a new threat detection service for every region.'
	} >in.ndjson
	run --separate-stderr cp-dedupe in.ndjson
	assert_equal "$status" 65
	assert_equal "$(echo "$output" | jq -r .document_id | tr '\n' ' ')" "doc_1 doc_7 "
	[[ "$stderr" == *"cp-dedupe: in.ndjson:2: "* ]]
	[[ "$stderr" == *"cp-dedupe: in.ndjson:3: invalid JSON: "* ]]
	[[ "$stderr" == *"cp-dedupe: in.ndjson:4: not a JSON object"* ]]
	[[ "$stderr" == *'cp-dedupe: in.ndjson:5: unknown tenant "nobody"'* ]]
	[[ "$stderr" == *"cp-dedupe: in.ndjson:6: no valid published_at or fetched_at"* ]]
}

@test "the reference corpus of JSON parser tests never crashes it" {
	assert [ -d "$CORPORA/JSONTestSuite/test_parsing" ]
	for f in "$CORPORA"/JSONTestSuite/test_parsing/*.json; do
		tr -d '\n' <"$f"
		echo
	done >all.ndjson
	run --separate-stderr cp-dedupe all.ndjson
	assert_equal "$status" 65
	assert_equal "$output" ""
	# one message per line that is not blank
	assert_equal "$(echo "$stderr" | grep -c '^cp-dedupe: all.ndjson:')" \
	    "$(grep -acv '^[[:space:]]*$' all.ndjson)"
}

@test "no state file is an error; options are checked" {
	run -66 cp-dedupe --db missing.db /dev/null
	run -64 cp-dedupe --threshold 0
	run -64 cp-dedupe --threshold 1.5
	run -64 cp-dedupe --window soon
	run -64 cp-dedupe --shingle 0
}

@test "output waits for the commit: a signal is never ahead of its state" {
	sig 1 2026-09-14T10:00:00Z "$STORY" >in.ndjson
	# a reader that checks the state file as each record arrives
	run -0 sh -c 'cp-dedupe --unbuffered in.ndjson | while read -r line; do
		id=$(echo "$line" | jq -r .id)
		sqlite3 "$CLIENTPULSE_DB" "select count(*) from signals where id = '\''$id'\''"
	done'
	assert_output 1
}

# labeled_signals: the labeled corpus's accounts under tenant acme-corp,
# its documents through cp-extract into sig.ndjson
labeled_signals() {
	cp-init --tenant acme-corp -q
	jq -c '.meta = ({requires_company_cue, country} | with_entries(select(.value != null)))
	    | del(.requires_company_cue, .country) | with_entries(select(.value != null))' \
	    "$FIXTURES/labeled/accounts.ndjson" | cp-account import --tenant acme-corp -q
	cp-extract "$FIXTURES/labeled/documents.ndjson" >sig.ndjson
}

@test "the labeled corpus: one story per cluster label" {
	labeled_signals
	run -0 cp-dedupe --emit-updates sig.ndjson
	assert_equal "$(echo "$output" | wc -l)" "$(wc -l <sig.ndjson)"
	stories=$(jq -r .cluster "$FIXTURES/labeled/labels.ndjson" | sort -u | wc -l)
	assert_equal "$(echo "$output" | jq -r .cluster_id | sort -u | wc -l)" "$stories"
}

@test "a pause in the input commits the batch and passes it on: the write lock is never held while waiting" {
	sig 1 2026-09-14T10:00:00Z "$STORY" >in.ndjson
	mkfifo pipe
	cp-dedupe <pipe >out.ndjson 3>&- &
	pid=$!
	exec 7>pipe
	cat in.ndjson >&7
	# the input pauses with the batch (of 2,000) far from full: the
	# signal is committed and written out now, not at the end
	for i in $(seq 100); do
		[ -s out.ndjson ] && break
		sleep 0.05
	done
	assert_equal "$(wc -l <out.ndjson)" 1
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" 'SELECT count(*) FROM signals')" 1
	# and the lock is free: another writer gets it at once
	run -0 sqlite3 -cmd '.timeout 100' "$CLIENTPULSE_DB" 'BEGIN IMMEDIATE; ROLLBACK;'
	exec 7>&-
	wait "$pid"
}

# run_open MARK OUT: cp-dedupe over sig.ndjson with the checkpoint mark
# at MARK pages, one commit per record, its input left open until every
# record is out; prints the WAL's size in frames at that moment
run_open() {
	rm -f pipe && mkfifo pipe
	CLIENTPULSE_DEDUPE_CHECKPOINT=$1 cp-dedupe --batch 1 --emit-updates \
	    <pipe >"$2" 3>&- &
	pid=$!
	exec 7>pipe
	cat sig.ndjson >&7
	for i in $(seq 200); do
		[ "$(wc -l <"$2")" -ge "$(wc -l <sig.ndjson)" ] && break
		sleep 0.05
	done
	echo $(( ($(stat -c %s "$CLIENTPULSE_DB-wal") - 32) / (4096 + 24) ))
	exec 7>&-
	wait "$pid"
}

@test "checkpoints beside the state thread keep the WAL short and change nothing" {
	labeled_signals
	cp "$CLIENTPULSE_DB" base.db
	# never checkpointing while it runs, the WAL holds every commit
	frames=$(run_open 1000000 ref.ndjson)
	[ "$frames" -gt 300 ]
	cp base.db "$CLIENTPULSE_DB"
	rm -f "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
	# a mark of 4 pages: copied beside it, rewound, under 4 marks and a
	# commit
	frames=$(run_open 4 out.ndjson)
	[ "$frames" -lt 40 ]
	cmp out.ndjson ref.ndjson
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" 'PRAGMA integrity_check')" ok
	assert_equal "$(sqlite3 "$CLIENTPULSE_DB" 'SELECT count(*) FROM signals')" \
	    "$(wc -l <sig.ndjson)"
}
