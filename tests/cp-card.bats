#!/usr/bin/env bats
# cp-card: opportunities -> cards stored pending review for the account
# owner with their evidence, versions and audit; updates instead of
# duplicates; decided cards left alone; tenant checks; LLM narratives
# accepted only when faithful to the evidence (a local fake endpoint).

load helper
load fixtures/score/score-helper

opps() {
	cp-score "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson" >opps.ndjson
}

teardown() {
	if [ -n "${LLM_PID:-}" ]; then
		kill "$LLM_PID" 2>/dev/null || true
		wait "$LLM_PID" 2>/dev/null || true
	fi
}

# start_llm: the fake endpoint (tests/servers/fake_llm.py) and a config
# pointing at it; MODEL picks its behaviour.
start_llm() {
	python3 "$CP_TOP/tests/servers/fake_llm.py" "$T/llm.port" "$T/llm.log" \
	    >"$T/llm.out" 2>&1 3>&- &
	LLM_PID=$!
	local i
	for i in $(seq 200); do
		[ -s "$T/llm.port" ] && break
		sleep 0.05
	done
	LLM_URL="http://127.0.0.1:$(cat "$T/llm.port")/v1"
}

llm_config() {
	cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[llm]
url = $LLM_URL
model = $1
timeout = 1
retries = 2
CONF
}

@test "cards are stored pending review for the owner, with evidence, a version and an audit entry" {
	score_state
	opps
	n0=$(sqlite3 state.db 'SELECT count(*) FROM audit')
	run --separate-stderr cp-card -v opps.ndjson
	assert_success
	[[ "$stderr" == *"4 created, 0 updated, 0 unchanged, 0 already decided"* ]]
	assert_equal "$(echo "$output" | wc -l)" 4
	echo "$output" | cp-validate --type card >/dev/null
	assert_equal "$(sqlite3 state.db "SELECT c.account_id || ':' || c.status || ':' || c.version || ':' || u.login FROM cards c JOIN users u ON u.id = c.assignee_id ORDER BY c.account_id, c.theme")" \
	    "$(printf '%s\n' contoso:pending_review:1:bob fabrikam:pending_review:1:alice northwind:pending_review:1:alice northwind:pending_review:1:alice)"
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM card_evidence')" 9
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM card_versions')" 4
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action = 'card.create' AND actor = '$(id -un)'")" 4
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM audit')" "$((n0 + 4))"
	# the record carries what the inbox and time-to-card need
	assert_equal "$(echo "$output" | jq -r 'select(.account_id == "contoso") | "\(.assignee) \(.source) \(.first_fetched_at) \(.account_name)"')" \
	    "bob news 2026-03-02T08:10:00Z Contoso"
	# the card of the same story has the same id as its opportunity's hash
	assert_equal "$(jq -r .id opps.ndjson | sed 's/^opp_/card_/' | sort)" "$(echo "$output" | jq -r .id | sort)"
}

@test "a card has a title, a four-part narrative, outreach per channel, CRM actions and assets" {
	score_state
	opps
	run cp-card opps.ndjson
	assert_success
	acq=$(echo "$output" | jq -c 'select(.account_id == "fabrikam")')
	get() { echo "$acq" | jq -r "$1"; }
	# the headline names the account: it is the title as it is
	assert_equal "$(get .title)" "Fabrikam 8-K: Item 1.01 Entry into a Material Definitive Agreement"
	assert_equal "$(get '.narrative | keys_unsorted | join(",")')" "what_happened,why_it_matters,why_now,next_step,source"
	assert_equal "$(get .narrative.what_happened)" "SEC EDGAR reported on 2026-02-27: Fabrikam 8-K: Item 1.01 Entry into a Material Definitive Agreement."
	[[ "$(get .narrative.why_it_matters)" == "An acquisition or merger forces decisions"*"For Fabrikam, a tier 1 enterprise manufacturing account owned by alice, this calls for \"Post-merger integration\""* ]]
	assert_equal "$(get .narrative.why_now)" "The news is 2 days old. Integration plans are drawn up in the weeks after a deal is announced."
	assert_equal "$(get '[.outreach[].channel] | join(",")')" "email,call,linkedin"
	assert_equal "$(get '.outreach[0].subject')" "Integration planning after the Fabrikam deal"
	[[ "$(get '.outreach[0].body')" == *"I read that Fabrikam 8-K: Item 1.01"* ]]
	# CRM: note, task, and a deal of 0.05% of the $450 million, within [50000, 750000]
	assert_equal "$(get '[.crm[].action] | join(",")')" "note,task,opportunity"
	assert_equal "$(get '.crm[2] | "\(.amount) \(.currency) \(.stage) \(.amount_rule)"')" \
	    "225000 USD qualification 0.05% of 4.5e+08"
	assert_equal "$(get '.crm[0].body')" \
	    "Fabrikam: Fabrikam 8-K: Item 1.01 Entry into a Material Definitive Agreement - amount \$450 million (https://www.sec.gov/Archives/edgar/data/1234567/000123456726000012/fab-8k.htm)"
	# the playbook's own asset first, then the theme's, then terms matching in the industry
	assert_equal "$(get '[.asset_refs[].id] | join(",")')" "cs-woodgrove-merger,whitepaper-integration-playbook,cs-contoso-erp-cloud"
	# the LinkedIn note never exceeds 300 characters; every URL is kept
	[ "$(echo "$output" | jq -s '[.[].outreach[] | select(.channel == "linkedin") | .body | length] | max')" -le 300 ]
	# a surge card says how many postings
	assert_equal "$(echo "$output" | jq -r 'select(.theme == "hiring_surge") | .crm[] | select(.action == "task") | .subject')" \
	    "Offer MDR pilot to Northwind Labs (6 open security roles)"
	assert_equal "$(echo "$output" | jq -r 'select(.theme == "hiring_surge") | .crm[] | select(.action == "opportunity") | .amount')" 120000
}

@test "a later opportunity for the same story updates the pending card instead of adding one" {
	score_state
	signal sig_cfo | cp-score | cp-card >first
	id=$(jq -r .id first)
	run --separate-stderr cp-card -v < <(cp-score "$SCORE_FIX/corroboration.ndjson")
	assert_success
	[[ "$stderr" == *"0 created, 1 updated, 0 unchanged"* ]]
	assert_equal "$(echo "$output" | jq -r '"\(.id) \(.version) \(.signal_ids | length) \(.evidence | length)"')" "$id 2 2 2"
	assert_equal "$(sqlite3 state.db "SELECT count(*), max(version) FROM cards WHERE account_id = 'northwind'")" "1|2"
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM card_evidence WHERE card_id = '$id'")" 2
	assert_equal "$(sqlite3 state.db "SELECT group_concat(version) FROM card_versions WHERE card_id = '$id'")" "1,2"
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action = 'card.update' AND entity_id = '$id'")" 1
	# the new score is the card's, in the row and in the record
	new=$(cp-score "$SCORE_FIX/corroboration.ndjson" | jq -r .score)
	assert_equal "$(sqlite3 state.db "SELECT score FROM cards WHERE id = '$id'")" "$new"
	assert_equal "$(sqlite3 state.db "SELECT json_extract(record, '$.score') FROM cards WHERE id = '$id'")" "$new"
	# the earliest evidence still dates the card
	assert_equal "$(echo "$output" | jq -r .first_fetched_at)" "2026-03-01T09:05:00Z"
}

@test "the same opportunities twice change nothing" {
	score_state
	opps
	cp-card opps.ndjson >/dev/null
	before=$(sqlite3 state.db 'SELECT count(*) FROM audit; SELECT group_concat(version) FROM cards; SELECT count(*) FROM card_versions')
	run --separate-stderr cp-card -v opps.ndjson
	assert_success
	[[ "$stderr" == *"0 created, 0 updated, 4 unchanged"* ]]
	assert_equal "$(echo "$output" | wc -l)" 4
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM audit; SELECT group_concat(version) FROM cards; SELECT count(*) FROM card_versions')" "$before"
}

@test "a decided card is never reopened: new evidence is refused with a warning" {
	score_state
	signal sig_cfo | cp-score | cp-card >first
	id=$(jq -r .id first)
	sqlite3 state.db "UPDATE cards SET status = 'approved', version = 2, decided_at = '$NOW' WHERE id = '$id'"
	run --separate-stderr cp-card -v < <(cp-score "$SCORE_FIX/corroboration.ndjson")
	assert_success
	assert_output ""
	[[ "$stderr" == *"cp-card: $id (northwind, cfo-finance-modernisation): already approved; new evidence not applied"* ]]
	[[ "$stderr" == *"0 created, 0 updated, 0 unchanged, 1 already decided"* ]]
	assert_equal "$(sqlite3 state.db "SELECT status, version FROM cards WHERE id = '$id'")" "approved|2"
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM card_evidence WHERE card_id = '$id'")" 1
}

@test "a card's tenant must be the caller's and its account the tenant's" {
	score_state
	opps
	cfo=$(head -1 opps.ndjson)
	{
		echo "$cfo" | jq -c '.tenant = "globex"'
		echo "$cfo" | jq -c '.account_id = "initech"'
		echo "$cfo" | jq -c '.account_id = "nosuch"'
		echo "$cfo" | jq -c '.playbook_id = "nosuch"'
		echo "$cfo" | jq -c '.evidence = []'
		echo "$cfo" | jq -c '.evidence[0].url = ""'
		echo "$cfo" | jq -c 'del(.factors.access)'
		echo "$cfo" | jq -c '.factors.fit.value = 1.5'
		echo "$cfo" | jq -c '.type = "signal"'
		echo "$cfo"
	} >mixed
	run --separate-stderr cp-card mixed
	assert_equal "$status" 65
	[[ "$stderr" == *'mixed:1: tenant "globex" is not yours (acme)'* ]]
	[[ "$stderr" == *'mixed:2: account "initech" is not an account of tenant acme'* ]]
	[[ "$stderr" == *'mixed:3: account "nosuch" is not an account of tenant acme'* ]]
	[[ "$stderr" == *'mixed:4: playbook "nosuch" is not a playbook of tenant acme'* ]]
	[[ "$stderr" == *"mixed:5: evidence: a card needs at least one piece of evidence"* ]]
	[[ "$stderr" == *"mixed:6: evidence[0]: needs signal_id, url and quote"* ]]
	[[ "$stderr" == *"mixed:7: factors: access: expected {value, weight, reason}"* ]]
	[[ "$stderr" == *"mixed:8: factors: fit: value must lie in [0,1]"* ]]
	[[ "$stderr" == *"mixed:9: expected a opportunity record, not a signal"* ]]
	assert_equal "$(echo "$output" | wc -l)" 1
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM cards')" 1
	# globex's admin cannot store acme's opportunities either
	run --separate-stderr cp-card --as gary opps.ndjson
	assert_equal "$status" 65
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM cards WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'globex')")" 0
}

@test "only an admin (the pipeline's account) stores cards; --no-store stores nothing" {
	score_state
	opps
	run cp-card --as alice opps.ndjson
	assert_equal "$status" 77
	assert_output --partial "permission denied: role am may not store cards"
	run --separate-stderr cp-card --no-store -v opps.ndjson
	assert_success
	assert_equal "$(echo "$output" | jq -r .status | sort -u)" pending_review
	assert_equal "$(echo "$output" | wc -l)" 4
	[[ "$stderr" == *"(dry run: nothing stored)"* ]]
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM cards; SELECT count(*) FROM card_evidence')" "$(printf '0\n0')"
}

@test "100% of stored cards have evidence with a URL and a quote, a playbook and six factors" {
	score_state
	cp-score --max-per-signal 0 --min-score 0 "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson" |
	    cp-card >/dev/null
	cp-score "$SCORE_FIX/corroboration.ndjson" | cp-card >/dev/null
	total=$(sqlite3 state.db 'SELECT count(*) FROM cards')
	[ "$total" -ge 5 ]
	explained=$(sqlite3 state.db "
	    SELECT count(*) FROM cards c
	    WHERE EXISTS (SELECT 1 FROM card_evidence e WHERE e.card_id = c.id
	                  AND e.url LIKE 'http%' AND length(e.quote) > 0)
	      AND EXISTS (SELECT 1 FROM playbooks p WHERE p.tenant_id = c.tenant_id
	                  AND p.id = c.playbook_id)
	      AND json_extract(c.record, '$.playbook_id') = c.playbook_id
	      AND (SELECT count(*) FROM json_each(c.record, '$.factors') f
	           WHERE f.key IN ('impact','urgency','fit','access','feasibility','confidence')
	             AND json_type(f.value, '$.value') IN ('real','integer')
	             AND json_extract(f.value, '$.value') BETWEEN 0 AND 1
	             AND json_type(f.value, '$.weight') IN ('real','integer')
	             AND length(json_extract(f.value, '$.reason')) > 0) = 6
	      AND json_array_length(c.record, '$.evidence') =
	          (SELECT count(*) FROM card_evidence e WHERE e.card_id = c.id)")
	assert_equal "$explained" "$total"
	measure "$explained of $total stored cards fully explainable (100%)"
}

@test "llm: a faithful narrative is used; the key comes from the credentials file" {
	score_state
	start_llm
	llm_config faithful
	printf '[llm]\napi_key = sk-test-credentials-123\n' >"$XDG_CONFIG_HOME/clientpulse/credentials"
	chmod 600 "$XDG_CONFIG_HOME/clientpulse/credentials"
	signal sig_cfo | cp-score >opp
	run --separate-stderr cp-card --narrative llm -v opp
	assert_success
	assert_equal "$(echo "$output" | jq -r '"\(.narrative.source) \(.narrative.model)"')" "llm faithful"
	[[ "$(echo "$output" | jq -r .narrative.what_happened)" == "In short: Reuters reported on 2026-03-01:"* ]]
	[[ "$stderr" == *"llm narratives: 1 used, 0 replaced by the template"* ]]
	assert_equal "$(jq -r .auth "$T/llm.log")" "Bearer sk-test-credentials-123"
	assert_equal "$(jq -c .response_format "$T/llm.log")" '{"type":"json_object"}'
	# the key never reaches messages, records or the state file
	[[ "$stderr$output" != *sk-test-credentials-123* ]]
	! grep -q sk-test-credentials-123 state.db
}

@test "llm: the environment is the key's fallback; a local server needs none" {
	score_state
	start_llm
	llm_config faithful
	signal sig_cfo | cp-score >opp
	CLIENTPULSE_LLM_API_KEY=sk-env-456 run cp-card --narrative llm opp
	assert_success
	assert_equal "$(jq -r .auth "$T/llm.log")" "Bearer sk-env-456"
	signal sig_acq | cp-score >opp2
	run cp-card --narrative llm opp2
	assert_success
	assert_equal "$(tail -1 "$T/llm.log" | jq -r .auth)" null
}

@test "llm: a narrative with a name or number not in the evidence is refused; the template is kept" {
	score_state
	start_llm
	llm_config inventive
	signal sig_cfo | cp-score >opp
	run --separate-stderr cp-card --narrative llm opp
	assert_success
	assert_equal "$(echo "$output" | jq -r .narrative.source)" template
	assert_equal "$(echo "$output" | jq -r .narrative.llm_rejected)" \
	    'why_it_matters: name "Globex" is not in the evidence'
	assert_equal "$(sqlite3 state.db "SELECT json_extract(record, '$.narrative.llm_rejected') FROM cards")" \
	    'why_it_matters: name "Globex" is not in the evidence'
	llm_config prose
	signal sig_acq | cp-score >opp2
	run cp-card --narrative llm opp2
	assert_success
	assert_equal "$(echo "$output" | jq -r .narrative.llm_rejected)" "the answer is not a JSON object"
}

@test "llm: failures fall back to the template after the retries, with the reason" {
	score_state
	start_llm
	llm_config broken
	signal sig_cfo | cp-score >opp
	run --separate-stderr cp-card --narrative llm opp
	assert_success
	assert_equal "$(echo "$output" | jq -r '"\(.narrative.source): \(.narrative.llm_rejected)"')" \
	    "template: llm: HTTP 500 after 3 attempts"
	assert_equal "$(grep -c '"model": "broken"' "$T/llm.log")" 3
	# two 503s then an answer: retried and used
	llm_config flaky
	signal sig_acq | cp-score >opp2
	run cp-card --narrative llm opp2
	assert_success
	assert_equal "$(echo "$output" | jq -r .narrative.source)" llm
	assert_equal "$(grep -c '"model": "flaky"' "$T/llm.log")" 3
	# too slow: the timeout ends each attempt
	llm_config slow
	signal sig_brc | cp-score >opp3
	start=$(date +%s)
	run cp-card --narrative llm opp3
	assert_success
	[[ "$(echo "$output" | jq -r .narrative.llm_rejected)" == "llm: "*"after 3 attempts" ]]
	[ $(( $(date +%s) - start )) -lt 10 ]
	# nothing configured: a clear error before anything is stored
	rm "$XDG_CONFIG_HOME/clientpulse/config"
	run cp-card --narrative llm opp3
	assert_equal "$status" 78
	assert_output --partial "llm narratives need llm.url and llm.model"
}

@test "cp-card links libcurl only through the LLM client; cp-score never" {
	run ldd "$CP_BIN/cp-score"
	refute_output --partial libcurl
}
