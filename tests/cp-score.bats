#!/usr/bin/env bats
# cp-score: signals x playbooks -> opportunities with six explained
# factors; the formula, thresholds, ties, determinism, feedback priors
# and their decay, hiring surges, and recomputing stored cards.

load helper
load fixtures/score/score-helper

@test "each factor's reason names the inputs it came from" {
	score_state
	run --separate-stderr cp-score "$SCORE_FIX/signals.ndjson"
	assert_success
	cfo=$(echo "$output" | jq -c 'select(.account_id == "northwind")')
	reason() { echo "$cfo" | jq -r ".factors.$1.reason"; }
	[[ "$(reason impact)" == *"tier 1 (1.00)"*"segment enterprise (1.00)"*"no amount or headcount"*"theme leadership_change (0.80)"* ]]
	[[ "$(reason urgency)" == *"published 1.1 days before scoring"*"half-life 7 d"*"theme leadership_change urgency 0.80"*"deadline 2026-03-15 in 12 days"* ]]
	[[ "$(reason fit)" == *"primary theme"*"industry software open"*"segment enterprise listed"*"no feedback yet"* ]]
	[[ "$(reason access)" == *"owner alice"*"contact Jane Doe, CFO"*"no engagement on record"* ]]
	[[ "$(reason feasibility)" == *"prerequisites 2 of 2 met (owner yes, senior_contact yes)"*"3 assets for cfo-finance-modernisation/leadership_change"* ]]
	[[ "$(reason confidence)" == *"reliability 0.85 (Reuters, scoring.conf)"*"extraction 0.90"*"2 corroborations"*"not negated"* ]]
	# the amount and its source when there is one
	acq=$(echo "$output" | jq -r 'select(.account_id == "fabrikam") | .factors.impact.reason')
	[[ "$acq" == *"money USD 450M (0.73)"* ]]
}

@test "totals equal the documented formula; six factors in [0,1] with weights" {
	score_state
	run --separate-stderr cp-score --min-score 0 --max-per-signal 0 \
	    "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson"
	assert_success
	n=$(echo "$output" | wc -l)
	[ "$n" -ge 5 ]
	echo "$output" | recompute | while read -r computed stored; do
		[ "$computed" = "$stored" ] || { echo "formula $computed != $stored"; return 1; }
	done
	assert_equal "$(echo "$output" | jq -c '.factors | keys_unsorted' | sort -u)" \
	    '["impact","urgency","fit","access","feasibility","confidence"]'
	assert_equal "$(echo "$output" | jq '[.factors[] | select(.value < 0 or .value > 1 or .weight <= 0 or (.reason | length) < 10)] | length' | sort -u)" 0
	# every record is a valid opportunity, its id derived as documented
	echo "$output" | cp-validate --type opportunity >/dev/null
	measure "$n opportunities, every total equal to the formula"
}

@test "threshold: --min-score keeps scores at or above it; default 40" {
	score_state
	s=$(cp-score "$SCORE_FIX/signals.ndjson" | jq -r 'select(.account_id == "fabrikam") | .score')
	assert_equal "$s" 83.37
	run cp-score --min-score 83.37 "$SCORE_FIX/signals.ndjson"
	assert_success
	assert_equal "$(echo "$output" | jq -r .account_id | sort | tr '\n' ' ')" "fabrikam northwind "
	run cp-score --min-score 83.38 "$SCORE_FIX/signals.ndjson"
	assert_equal "$(echo "$output" | jq -r .account_id | tr '\n' ' ')" "northwind "
	run cp-score --min-score 101 "$SCORE_FIX/signals.ndjson"
	assert_equal "$status" 64
	# the default comes from scoring.conf
	cp "$CP_TOP/lib/data/scoring.conf" "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	sed -i 's/^min_score = 40$/min_score = 84/' "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	run cp-score "$SCORE_FIX/signals.ndjson"
	assert_success
	assert_equal "$(echo "$output" | jq -r .account_id)" northwind
}

@test "a negated theme falls below the confidence floor and is not emitted" {
	score_state
	signal sig_neg >neg.ndjson
	run cp-score --min-score 0 neg.ndjson
	assert_success
	assert_output ""
	run cp-score --explain neg.ndjson
	assert_success
	assert_output --partial "not emitted: confidence 0.1040 below the floor 0.25"
	assert_output --partial "negated (x0.2)"
}

@test "ties: equal scores are ordered by playbook id, and --max-per-signal keeps the first" {
	score_state
	for id in tie-b tie-a; do
		jq -c --arg id "$id" 'select(.id == "exec-intro") | .id = $id' \
		    "$CP_TOP/examples/playbooks.ndjson"
	done | cp-playbook import -q
	signal sig_cfo >cfo.ndjson
	run cp-score --max-per-signal 0 cfo.ndjson
	assert_success
	assert_equal "$(echo "$output" | jq -r '"\(.playbook_id) \(.score)"' | tr '\n' ',')" \
	    "cfo-finance-modernisation 84.44,exec-intro 82.94,tie-a 82.94,tie-b 82.94,"
	# exec-intro, tie-a and tie-b tie: the smallest id wins a single place
	cp-playbook import -q <<<"$(jq -c 'select(.id == "cfo-finance-modernisation") | .active = false' "$CP_TOP/examples/playbooks.ndjson")"
	run cp-score cfo.ndjson
	assert_equal "$(echo "$output" | jq -r .playbook_id)" exec-intro
	run cp-score --max-per-signal 2 cfo.ndjson
	assert_equal "$(echo "$output" | jq -r .playbook_id | tr '\n' ' ')" "exec-intro tie-a "
}

@test "deterministic: the same state, input and clock give the same bytes" {
	score_state
	cp-score --max-per-signal 0 "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson" >one
	cp-score --max-per-signal 0 "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson" >two
	cmp one two
	[ -s one ]
	# ids depend on tenant, account, playbook and cluster only
	assert_equal "$(jq -r 'select(.account_id == "northwind" and .theme == "leadership_change") | .id' one | head -1)" \
	    "opp_$(printf 'acme\037northwind\037cfo-finance-modernisation\037clu_cfo00000000000000000000000000001\037' | sha256sum | cut -c1-32)"
	# another clock changes urgency, not identity
	CLIENTPULSE_NOW=2026-03-09T12:00:00Z cp-score --max-per-signal 0 "$SCORE_FIX/signals.ndjson" >later
	assert_equal "$(jq -r .id later | head -3)" "$(jq -r .id one | head -3)"
	[ "$(jq -r .score later | head -1)" != "$(jq -r .score one | head -1)" ]
}

# The score of the CFO signal's opportunity with one playbook.
cfo_score() {
	cp-score --max-per-signal 0 cfo.ndjson |
	    jq -r 'select(.playbook_id == "cfo-finance-modernisation") | .score'
}

@test "feedback: ten rejects lower later scores by 8 points; the effect halves after one half-life" {
	score_state
	signal sig_cfo >cfo.ndjson
	later=2026-04-01T12:00:00Z
	base=$(cfo_score)
	base30=$(CLIENTPULSE_NOW=$later cfo_score)
	card=$(cp-score cfo.ndjson | cp-card | jq -r .id)
	# one reject moves fit by priors.step (0.04): 0.2 x 0.04 x 100 = 0.8
	decide "$card" 1 reject not_relevant "$NOW"
	one=$(cfo_score)
	assert_equal "$(echo "$base - $one" | bc)" .80
	decide "$card" 9 reject not_relevant "$NOW"
	now=$(cfo_score)
	assert_equal "$(echo "$base - $now" | bc)" 8.00
	run cp-score --max-per-signal 0 cfo.ndjson
	assert_output --partial '"reason":"theme leadership_change is cfo-finance-modernisation'"'"'s primary theme (1.00); industry software open (0.70); segment enterprise listed (1.00); prior -0.400 from 10 decisions (sum -10.000)"'
	# the other playbook for the same news now answers first
	assert_equal "$(cp-score cfo.ndjson | jq -r .playbook_id)" exec-intro
	# 30 days (one half-life) later the same decisions weigh half
	after=$(CLIENTPULSE_NOW=$later cfo_score)
	assert_equal "$(echo "$base30 - $after" | bc)" 4.00
	# bounded: fifty more rejects move nothing further
	decide "$card" 50 reject not_relevant "$NOW"
	assert_equal "$(cfo_score)" "$now"
	# other playbooks, themes and segments are untouched
	run cp-score --max-per-signal 0 cfo.ndjson
	assert_equal "$(echo "$output" | jq -r 'select(.playbook_id == "exec-intro") | .score')" 82.94
	measure "ten rejects: -$(echo "$base - $now" | bc) points; after 30 days: -$(echo "$base30 - $after" | bc)"
}

@test "feedback: approvals raise (fit is capped at 1), decisions after the clock do not count" {
	score_state
	signal sig_cfo >cfo.ndjson
	base=$(cfo_score)
	card=$(cp-score cfo.ndjson | cp-card | jq -r .id)
	decide "$card" 2 approve "" "$NOW"
	assert_equal "$(echo "$(cfo_score) - $base" | bc)" 1.50
	decide "$card" 5 reject bad_timing 2026-03-05T00:00:00Z
	assert_equal "$(echo "$(cfo_score) - $base" | bc)" 1.50
}

@test "--priors shows each prior and the decisions that moved it" {
	score_state
	signal sig_cfo >cfo.ndjson
	card=$(cp-score cfo.ndjson | cp-card | jq -r .id)
	decide "$card" 3 reject not_relevant 2026-02-01T12:00:00Z
	decide "$card" 1 approve "" "$NOW"
	run cp-score --priors
	assert_success
	assert_line --index 0 "theme leadership_change  playbook cfo-finance-modernisation  segment enterprise"
	assert_line --index 1 --partial "sum -0.535 -> fit -0.021 (step 0.04, bound 0.4) from 4 decisions"
	assert_equal "$(echo "$output" | grep -c 'reject  not_relevant    29.0 d  -1.00 x 0.512 = -0.512')" 3
	assert_output --partial "alice      approve -                0.0 d  +1.00 x 1.000 = +1.000  $card"
	run cp-score --priors --json
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.sum, .fit_adjustment, (.decisions | length), .decisions[0].decay]')" "[-0.535061,-0.021402,4,0.511687]"
	# an AM may not read the tenant's feedback
	run cp-score --priors --as alice
	assert_equal "$status" 77
}

@test "hiring surge: five or more postings of one function in 30 days make one opportunity citing them" {
	score_state
	run --separate-stderr cp-score "$SCORE_FIX/jobs.ndjson"
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 1
	assert_equal "$(echo "$output" | jq -r '"\(.theme) \(.playbook_id) \(.signal_ids | length) \(.evidence | length)"')" \
	    "hiring_surge security-hiring-surge 6 6"
	assert_equal "$(echo "$output" | jq -r '.evidence[0] | "\(.quote)|\(.url)"')" \
	    "Senior Security Engineer, Cloud|https://boards.greenhouse.example/northwind/jobs/4001"
	assert_equal "$(echo "$output" | jq -r '.facts | "\(.postings) \(.function)"')" "6 security"
	[[ "$(echo "$output" | jq -r .factors.impact.reason)" == *"6 postings (0.30)"* ]]
	[[ "$(echo "$output" | jq -r .factors.confidence.reason)" == *"for 6 postings x extraction 1.00"* ]]
	# two engineering postings are not a surge; single postings are never one
	refute_output --partial engineering-hiring-surge
}

@test "hiring surge: counted across runs, idempotent, threshold configurable" {
	score_state
	head -4 "$SCORE_FIX/jobs.ndjson" >first
	tail -n +5 "$SCORE_FIX/jobs.ndjson" >rest
	run cp-score first
	assert_success
	assert_output ""
	run cp-score rest
	assert_equal "$(echo "$output" | jq -r '.signal_ids | length')" 6
	id=$(echo "$output" | jq -r .id)
	run cp-score rest
	assert_equal "$(echo "$output" | jq -r '"\(.id) \(.signal_ids | length)"')" "$id 6"
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM score_postings')" 8
	# two windows later the postings are forgotten
	CLIENTPULSE_NOW=2026-06-01T00:00:00Z cp-score rest >/dev/null
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM score_postings')" 0
	cp-score rest >/dev/null
	cp "$CP_TOP/lib/data/scoring.conf" "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	sed -i 's/^min_postings = 5$/min_postings = 7/' "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	run cp-score rest
	assert_success
	assert_output ""
}

@test "--explain prints a readable table, including what was not emitted and why" {
	score_state
	run cp-score --explain "$SCORE_FIX/signals.ndjson"
	assert_success
	assert_line --regexp '^FACTOR +VALUE +WEIGHT +POINTS +REASON$'
	assert_line --regexp '^impact +0\.7300 +0\.25 +18\.25 +tier 1 \(1\.00\), segment enterprise'
	assert_line --regexp '^total +84\.44 += 100 x 0\.844410 / 1$'
	assert_output --partial "exec-intro  theme leadership_change  score 82.94  not emitted: a better playbook answered (--max-per-signal 1)"
	refute_output --partial '"type"'
}

@test "--explain CARD_ID recomputes a stored card with the configuration it was scored with" {
	score_state
	cp-score "$SCORE_FIX/signals.ndjson" "$SCORE_FIX/jobs.ndjson" | cp-card >cards
	ids=$(jq -r .id cards)
	for id in $ids; do
		run cp-score --explain "$id"
		assert_success
		stored=$(jq -r --arg id "$id" 'select(.id == $id) | .score' cards)
		assert_output --partial "stored score $stored, recomputed $stored: the same"
	done
	# new weights do not change how an old card is explained...
	first=$(echo "$ids" | head -1)
	cp "$CP_TOP/lib/data/scoring.conf" "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	sed -i 's/^impact = 0.25$/impact = 0.5/' "$XDG_CONFIG_HOME/clientpulse/scoring.conf"
	run cp-score --explain --json "$first"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.match, .score == .stored_score, .factors.impact.weight]')" "[true,true,0.25]"
	# ...while new scores use them, under a new version
	new=$(cp-score "$SCORE_FIX/signals.ndjson" | head -1)
	[ "$(echo "$new" | jq -r .config_version)" != "$(jq -r .config_version cards | head -1)" ]
	assert_equal "$(echo "$new" | jq -r .factors.impact.weight)" 0.5
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM scoring_configs')" 2
	# a tampered stored score is found
	sqlite3 state.db "UPDATE cards SET score = 12.5 WHERE id = '$first'"
	run cp-score --explain "$first"
	assert_equal "$status" 1
	assert_output --partial "DIFFERENT"
	run cp-score --explain card_00000000000000000000000000000000
	assert_equal "$status" 77
	assert_output --partial "not found or not permitted"
}

@test "bad lines are reported with their line numbers; good ones are still scored" {
	score_state
	run --separate-stderr cp-score "$SCORE_FIX/bad.ndjson" "$SCORE_FIX/signals.ndjson"
	assert_equal "$status" 65
	[[ "$stderr" == *'bad.ndjson:1: missing field "account_ids"'* ]]
	[[ "$stderr" == *"bad.ndjson:2: invalid JSON"* ]]
	[[ "$stderr" == *'bad.ndjson:3: tenant "globex" is not yours (acme)'* ]]
	[[ "$stderr" == *"bad.ndjson:4: published_at: not an RFC 3339 time"* ]]
	assert_equal "$(echo "$stderr" | grep -c '^cp-score: ')" 4
	assert_equal "$(echo "$output" | wc -l)" 3
	run cp-score --reject rej "$SCORE_FIX/bad.ndjson"
	assert_equal "$status" 65
	assert_equal "$(wc -l <rej)" 4
}

@test "scope: an AM's run scores only the accounts they may see" {
	score_state
	run --separate-stderr cp-score --as alice -v "$SCORE_FIX/signals.ndjson"
	assert_success
	assert_equal "$(echo "$output" | jq -r .account_id | sort | tr '\n' ' ')" "fabrikam northwind "
	[[ "$stderr" == *"2 accounts not in scope"* ]]
	# another tenant's state never leaks in: globex has no playbooks
	run --separate-stderr cp-score --as gary "$SCORE_FIX/signals.ndjson"
	assert_equal "$status" 65
	[[ "$stderr" == *'tenant "acme" is not yours (globex)'* ]]
}

@test "conditions: keywords in the text, roles, minimum amounts; quotes fall back to the first chunk" {
	score_state
	pb() {
		jq -c --arg id "$1" --argjson when "$2" 'select(.id == "incident-response") | .id = $id | .when = $when' \
		    "$CP_TOP/examples/playbooks.ndjson"
	}
	{
		pb kw-yes '{"keywords":["forensic investigators"]}'
		pb kw-no '{"keywords":["blockchain"]}'
		pb role-yes '{"roles":["ciso"],"entities":["person"]}'
		pb amount-no '{"min_amount":1000000}'
		pb tier-no '{"tiers":[1]}'
	} | cp-playbook import -q
	signal sig_brc | jq -c '.themes[0].evidence = null' >brc.ndjson
	run cp-score --max-per-signal 0 brc.ndjson
	assert_success
	assert_equal "$(echo "$output" | jq -r .playbook_id | sort | tr '\n' ' ')" "incident-response kw-yes role-yes "
	assert_equal "$(echo "$output" | jq -r '.evidence[0].quote' | sort -u)" \
	    "Contoso disclosed a ransomware attack on Monday that took payment systems offline in 40 stores."
}

@test "cp-score never links libcurl" {
	run ldd "$CP_BIN/cp-score"
	assert_success
	refute_output --partial libcurl
}

@test "regression: a burst of job postings piped straight into cp-card does not deadlock" {
	score_state
	# 3,000 postings and the other fixtures in one stream: cp-score
	# records postings in a write transaction; cp-card must never wait
	# for that lock while cp-score waits on the full pipe to cp-card
	for f in security data sales; do
		jq -c --arg f "$f" 'range(0; 1000) as $i | .id = "sig_burst\($f)\($i)" |
		    .document_id = "doc_burst\($f)\($i)" | .job.function = $f |
		    .url = "https://jobs.example/\($f)/\($i)"' \
		    <(head -1 "$SCORE_FIX/jobs.ndjson")
	done >burst.ndjson
	cat "$SCORE_FIX/signals.ndjson" >>burst.ndjson
	run timeout 120 sh -c 'cp-score burst.ndjson | cp-card -q | wc -l'
	assert_success
	[ "$output" -ge 3 ]
	# the surge cards and the other cards are all stored
	assert [ "$(sqlite3 state.db "SELECT count(*) FROM cards WHERE theme = 'hiring_surge'")" -ge 1 ]
}
