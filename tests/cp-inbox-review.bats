#!/usr/bin/env bats
# cp-inbox approve, reject, refine: the workflow, optimistic concurrency
# (two reviewers racing), bulk decisions, and what each decision leaves
# behind: the card's new version, card_versions, decisions (the scoring
# priors' input) and the audit log, all in one transaction.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

@test "approve: pending → approved, version + 1, every trace written" {
	inbox_state
	run cp-inbox --as alice approve "${NW_CFO:5:6}" --note "calling Jane"
	assert_success
	assert_output "$NW_CFO approved (version 2)"
	assert_equal "$(db "SELECT status, version, decided_at FROM cards WHERE id = '$NW_CFO'")" \
	    "approved|2|2026-11-25T12:00:00Z"
	assert_equal "$(db "SELECT json_extract(record, '$.status'), json_extract(record, '$.version'),
	    json_extract(record, '$.decision.by'), json_extract(record, '$.decision.note')
	    FROM cards WHERE id = '$NW_CFO'")" "approved|2|alice|calling Jane"
	assert_equal "$(db "SELECT version, json_extract(record, '$.status') FROM card_versions
	    WHERE card_id = '$NW_CFO' ORDER BY version")" $'1|pending_review\n2|approved'
	# the decision, with the card's theme and playbook and the account's
	# segment, as cp-score's priors read it
	assert_equal "$(db "SELECT d.decision, u.login, d.reason, d.note, d.theme, d.playbook_id,
	    d.segment, d.decided_at FROM decisions d JOIN users u ON u.id = d.user_id")" \
	    "approve|alice||calling Jane|leadership_change|cfo-finance-modernisation|enterprise|2026-11-25T12:00:00Z"
	assert_equal "$(db "SELECT action, entity_type, reason, diff FROM audit WHERE entity_id = '$NW_CFO' AND action <> 'card.create'")" \
	    'card.approve|card|calling Jane|{"new":{"status":"approved","version":2},"old":{"status":"pending_review","version":1}}'
	run cp-audit --verify
	assert_success
}

@test "reject: needs a reason from the list; the reason reaches decisions and audit" {
	inbox_state
	run cp-inbox --as bob reject "$CO_COST"
	assert_equal "$status" 64
	assert_output --partial "reject: --reason is required"
	run cp-inbox --as bob reject "$CO_COST" --reason already_known --note "we know"
	assert_success
	assert_output "$CO_COST rejected (version 2)"
	assert_equal "$(db "SELECT status FROM cards WHERE id = '$CO_COST'")" rejected
	assert_equal "$(db "SELECT decision, reason, note, theme FROM decisions")" \
	    "reject|already_known|we know|cost_cutting"
	assert_equal "$(db "SELECT action, reason FROM audit WHERE entity_id = '$CO_COST' AND action <> 'card.create'")" \
	    "card.reject|already_known: we know"
	for r in not_relevant bad_timing wrong_account other; do
		db "UPDATE cards SET status = 'pending_review' WHERE id = '$CO_COST'"
		run cp-inbox --as bob reject "$CO_COST" --reason "$r" -q
		assert_success
	done
	assert_equal "$(db "SELECT group_concat(reason, ' ') FROM decisions")" \
	    "already_known not_relevant bad_timing wrong_account other"
}

@test "a decided card is not decided again (65, nothing written)" {
	inbox_state
	cp-inbox --as alice approve "$NW_CFO" -q
	n=$(db "SELECT count(*) FROM audit")
	run cp-inbox --as alice reject "$NW_CFO" --reason other
	assert_equal "$status" 65
	assert_output "cp-inbox: $NW_CFO: card is approved, not pending review; nothing changed"
	run cp-inbox --as alice approve "$NW_CFO"
	assert_equal "$status" 65
	run cp-inbox --as alice refine "$NW_CFO" --title "late"
	assert_equal "$status" 65
	assert_equal "$(db "SELECT status, version FROM cards WHERE id = '$NW_CFO'")" "approved|2"
	assert_equal "$(db "SELECT count(*) FROM audit")" "$n"
	assert_equal "$(db "SELECT count(*) FROM decisions")" 1
}

@test "refine: fields change, the card stays pending with version + 1" {
	inbox_state
	cat >email.txt <<-'EOF'
	Subject: Congratulations on the new role

	Dear Jane,
	congratulations on joining Northwind Labs.
	EOF
	printf 'Quick intro note.\n' >linkedin.txt
	run cp-inbox --as alice refine "$NW_CFO" --title "New CFO at Northwind" \
	    --narrative "Jane Doe joins as CFO." --next-step "Email Jane before Dec 1" \
	    --outreach email=email.txt --outreach linkedin=linkedin.txt --note "tighter"
	assert_success
	assert_output "$NW_CFO refined (version 2)"
	assert_equal "$(db "SELECT status, version, title, decided_at IS NULL FROM cards WHERE id = '$NW_CFO'")" \
	    "pending_review|2|New CFO at Northwind|1"
	run cp-inbox --as alice show "$NW_CFO" --json
	# cp-card's narrative object becomes the person's text, marked edited
	assert_equal "$(jq -c '[.title,.narrative]' <<<"$output")" \
	    '["New CFO at Northwind",{"what_happened":"Jane Doe joins as CFO.","next_step":"Email Jane before Dec 1","source":"edited"}]'
	# email and linkedin replaced, call kept
	assert_equal "$(jq -c '[.outreach[] | [.channel, .subject]]' <<<"$output")" \
	    '[["email","Congratulations on the new role"],["call",null],["linkedin",null]]'
	assert_equal "$(jq -r '.outreach[0].body' <<<"$output")" $'Dear Jane,\ncongratulations on joining Northwind Labs.'
	assert_equal "$(jq -r '.outreach[2].body' <<<"$output")" "Quick intro note."
	assert_equal "$(db "SELECT decision, note FROM decisions")" "refine|tighter"
	assert_equal "$(db "SELECT action FROM audit WHERE entity_id = '$NW_CFO' ORDER BY seq")" $'card.create\ncard.refine'
	assert_equal "$(db "SELECT json_extract(diff, '$.new.title') FROM audit WHERE action = 'card.refine'")" \
	    "New CFO at Northwind"
	run cp-inbox --as alice show "$NW_CFO"
	assert_line "Narrative (edited)"
	assert_line "  Jane Doe joins as CFO."
	assert_line "  Email Jane before Dec 1"
	# still in alice's inbox, and approvable at the new version
	run cp-inbox --as alice approve "$NW_CFO@2"
	assert_success
	assert_output "$NW_CFO approved (version 3)"
}

@test "refine: nothing to change is said, not written; bad files are refused" {
	inbox_state
	run cp-inbox --as alice refine "$NW_CFO" </dev/null
	assert_equal "$status" 64
	assert_output --partial "refine: nothing to change"
	run cp-inbox --as alice refine "$NW_CFO" --title "Northwind Labs names a new CFO"
	assert_success
	assert_output "cp-inbox: $NW_CFO: nothing changed"
	assert_equal "$(db "SELECT version FROM cards WHERE id = '$NW_CFO'")" 1
	run cp-inbox --as alice refine "$NW_CFO" --outreach email=missing.txt
	assert_equal "$status" 66
	assert_output "cp-inbox: missing.txt: No such file or directory"
	printf '\xff\xfe' >bad.txt
	run cp-inbox --as alice refine "$NW_CFO" --outreach email=bad.txt
	assert_equal "$status" 66
	assert_output "cp-inbox: bad.txt: not UTF-8 text"
	run cp-inbox --as alice refine "$NW_CFO" --outreach 'E-mail=x'
	assert_equal "$status" 64
	run cp-inbox --as alice refine "$NW_CFO" "$NW_FUND" --title x
	assert_equal "$status" 64
	assert_equal "$(db "SELECT count(*) FROM decisions")" 0
}

@test "refine on a terminal opens \$EDITOR on the card" {
	inbox_state
	# the "editor": rewrites the title and narrative, appends a draft
	cat >ed.sh <<-'EOF'
	#!/bin/sh
	sed -i -e 's/^Title: .*/Title: Edited in the editor/' \
	    -e 's/^SEC EDGAR reported on .*/Edited narrative./' "$1"
	printf '\n--- outreach sms\nHi Jane\n' >>"$1"
	cp "$1" "$(dirname "$0")/seen.txt"
	EOF
	chmod +x ed.sh
	run env EDITOR="$PWD/ed.sh" "$FIXTURES/inbox/pty-run" 100 30 cp-inbox --as alice refine "$NW_CFO"
	assert_success
	assert_output --partial "$NW_CFO refined (version 2)"
	grep -q "^# Refine $NW_CFO (version 1)" seen.txt
	grep -q "^--- outreach email" seen.txt
	grep -q "^Subject: Finance priorities at Northwind Labs" seen.txt
	grep -q "^Next-Step: $(jq -r "select(.id == \"$NW_CFO\") | .narrative.next_step" cards.ndjson)" seen.txt
	run cp-inbox --as alice show "$NW_CFO" --json
	assert_equal "$(jq -r .title <<<"$output")" "Edited in the editor"
	# the edited text, its later paragraphs kept; the next step untouched
	assert_equal "$(jq -r .narrative.source <<<"$output")" edited
	assert_equal "$(jq -r .narrative.what_happened <<<"$output" | head -3)" \
	    $'Edited narrative.\n\nNew leaders review priorities, budgets and partners in their first 90 days. For Northwind Labs, a tier 1 enterprise software account owned by alice, this calls for "New CFO: finance modernisation": A finance operations assessment: month-end close, planning cycle and spend visibility in four weeks.'
	assert_equal "$(jq -r .narrative.next_step <<<"$output")" \
	    "$(jq -r "select(.id == \"$NW_CFO\") | .narrative.next_step" cards.ndjson)"
	assert_equal "$(jq -c '[.outreach[].channel]' <<<"$output")" '["email","call","linkedin","sms"]'
	assert_equal "$(jq -r '.outreach[3].body' <<<"$output")" "Hi Jane"
	# no temp file left behind
	[ -z "$(ls "${TMPDIR:-/tmp}"/cp-inbox-refine.* 2>/dev/null | xargs -r grep -l "$NW_CFO" 2>/dev/null)" ]
}

@test "refine in the editor: an emptied file cancels; a lost race keeps the text" {
	inbox_state
	printf '#!/bin/sh\n: >"$1"\n' >empty.sh
	chmod +x empty.sh
	run env EDITOR="$PWD/empty.sh" "$FIXTURES/inbox/pty-run" 100 30 cp-inbox --as alice refine "$NW_CFO"
	assert_success
	assert_output --partial "refine cancelled"
	assert_equal "$(db "SELECT version FROM cards WHERE id = '$NW_CFO'")" 1
	# while alice edits, mona approves: alice's save is a conflict
	cat >slow.sh <<-EOF
	#!/bin/sh
	sed -i 's/^Title: .*/Title: Alice was here/' "\$1"
	CLIENTPULSE_DB="$CLIENTPULSE_DB" cp-inbox --as mona approve "$NW_CFO" -q
	EOF
	chmod +x slow.sh
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR"
	run env EDITOR="$PWD/slow.sh" "$FIXTURES/inbox/pty-run" 100 30 cp-inbox --as alice refine "$NW_CFO"
	assert_equal "$status" 75
	assert_output --partial "card changed since you loaded it (version 1 → 2)"
	assert_output --partial "your edit is kept in $TMPDIR/cp-inbox-refine."
	grep -q "^Title: Alice was here" "$TMPDIR"/cp-inbox-refine.*
	assert_equal "$(db "SELECT status, title FROM cards WHERE id = '$NW_CFO'")" \
	    "approved|Northwind Labs names a new CFO"
}

@test "a stale version is a conflict: exit 75, nothing overwritten" {
	inbox_state
	cp-inbox --as alice refine "$NW_CFO" --title "v2 title" -q
	n=$(db "SELECT count(*) FROM audit")
	run cp-inbox --as mona approve "$NW_CFO@1"
	assert_equal "$status" 75
	assert_output "cp-inbox: $NW_CFO: card changed since you loaded it (version 1 → 2)"
	run cp-inbox --as mona reject "${NW_CFO:5:8}@1" --reason other
	assert_equal "$status" 75
	assert_equal "$(db "SELECT status, version, title FROM cards WHERE id = '$NW_CFO'")" \
	    "pending_review|2|v2 title"
	assert_equal "$(db "SELECT count(*) FROM audit")" "$n"
	assert_equal "$(db "SELECT count(*) FROM decisions WHERE decision <> 'refine'")" 0
	run cp-inbox --as mona approve "$NW_CFO@2"
	assert_success
	run cp-inbox --as mona approve "$NW_CFO@0"
	assert_equal "$status" 64
}

# Two people act on the same card at the same moment, both having seen
# version 1.  Run many times: each time exactly one wins and the other is
# told, with 75, and the card holds the winner's decision only.
@test "two reviewers racing on one card: exactly one wins, every time" {
	inbox_state
	rounds=20 conflicts=0 alice=0
	for i in $(seq $rounds); do
		db "UPDATE cards SET status = 'pending_review', version = 1, decided_at = NULL WHERE id = '$NW_CFO';
		    DELETE FROM card_versions WHERE card_id = '$NW_CFO' AND version > 1"
		cp-inbox --as alice approve "$NW_CFO@1" >a.out 2>a.err & pa=$!
		cp-inbox --as mona reject "$NW_CFO@1" --reason bad_timing >m.out 2>m.err & pm=$!
		sa=0 sm=0
		wait $pa || sa=$?
		wait $pm || sm=$?
		if [ "$sa" -eq 0 ]; then
			assert_equal "$sm" 75
			grep -qx "cp-inbox: $NW_CFO: card changed since you loaded it (version 1 → 2)" m.err
			assert_equal "$(db "SELECT status FROM cards WHERE id = '$NW_CFO'")" approved
			alice=$((alice + 1))
		else
			assert_equal "$sa" 75
			assert_equal "$sm" 0
			grep -qx "cp-inbox: $NW_CFO: card changed since you loaded it (version 1 → 2)" a.err
			assert_equal "$(db "SELECT status FROM cards WHERE id = '$NW_CFO'")" rejected
		fi
		assert_equal "$(db "SELECT version FROM cards WHERE id = '$NW_CFO'")" 2
		conflicts=$((conflicts + 1))
	done
	# one decision per round, never two
	assert_equal "$(db "SELECT count(*) FROM decisions WHERE card_id = '$NW_CFO'")" $rounds
	assert_equal "$(db "SELECT count(*) FROM audit WHERE entity_id = '$NW_CFO' AND action <> 'card.create'")" $rounds
	run cp-audit --verify
	assert_success
	measure "race: $rounds rounds (alice won $alice, mona $((rounds - alice))), $conflicts conflicts (75), 0 lost updates"
}

@test "racing without a version: the update is still version-checked" {
	inbox_state
	for i in $(seq 10); do
		db "UPDATE cards SET status = 'pending_review', version = 1 WHERE id = '$NW_CFO';
		    DELETE FROM card_versions WHERE card_id = '$NW_CFO' AND version > 1"
		cp-inbox --as alice approve "$NW_CFO" >/dev/null 2>a.err & pa=$!
		cp-inbox --as mona reject "$NW_CFO" --reason other >/dev/null 2>m.err & pm=$!
		sa=0 sm=0
		wait $pa || sa=$?
		wait $pm || sm=$?
		# one wins; the other either lost the race (75) or arrived after
		# it (65, already decided): never two decisions
		[ $((sa == 0)) -ne $((sm == 0)) ]
		[[ " 65 75 " == *" $((sa + sm)) "* ]]
	done
	assert_equal "$(db "SELECT count(*) FROM decisions")" 10
}

@test "bulk: several ids and ids on stdin; a bad one is reported, the good applied" {
	inbox_state
	run cp-inbox --as alice approve "$NW_CFO" "${NW_FUND:5:6}" "$CO_LAY" deadbeef "$FB_EXP"
	assert_equal "$status" 77
	assert_line "$NW_CFO approved (version 2)"
	assert_line "$NW_FUND approved (version 2)"
	assert_line "$FB_EXP approved (version 2)"
	# bob's card and a missing one read the same
	assert_line "cp-inbox: $CO_LAY: not found or not permitted"
	assert_line "cp-inbox: deadbeef: not found or not permitted"
	assert_equal "$(db "SELECT status FROM cards WHERE id = '$CO_LAY'")" pending_review
	assert_equal "$(db "SELECT count(*) FROM decisions")" 3
	# stdin: one id per line, first word, comments and blanks skipped
	run cp-inbox --as bob reject --reason not_relevant - <<-EOF
	# from my notes
	$CO_LAY	layoffs

	${CO_COST:5:12} freeze
	EOF
	assert_success
	assert_output "$CO_LAY rejected (version 2)
$CO_COST rejected (version 2)"
	# a conflict in the middle of a bulk: the rest still go through
	cp-inbox --as "$ADMIN" refine "$NW_MA" --title "changed" -q
	run cp-inbox --as alice reject --reason other "$NW_MA@1" - <<<"$(printf '%s\n' "$FB_EXP")"
	assert_equal "$status" 75
	assert_line "cp-inbox: $NW_MA: card changed since you loaded it (version 1 → 2)"
	assert_line "cp-inbox: $FB_EXP: card is approved, not pending review; nothing changed"
	# the same card twice in one command is decided once
	run cp-inbox --as gil approve "$IN_FUND" "${IN_FUND:5:5}"
	assert_success
	assert_output "$IN_FUND approved (version 2)"
}

@test "viewers cannot decide, whatever the card (the same words for missing ones)" {
	inbox_state
	for id in "$CO_LAY" "$NW_CFO" deadbeef; do
		run cp-inbox --as vera approve "$id"
		assert_equal "$status" 77
		assert_output "cp-inbox: permission denied: role viewer may not decide on cards"
	done
	assert_equal "$(db "SELECT count(*) FROM decisions")" 0
}

@test "the approval hook runs inside the approval transaction" {
	inbox_state
	# a failing insert after the hook would undo everything: simulate a
	# broken decisions table and check nothing of the approval remains
	db "CREATE TRIGGER no_decisions BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'decisions offline'); END"
	run cp-inbox --as alice approve "$NW_CFO"
	assert_failure
	assert_output --partial "decisions offline"
	assert_equal "$(db "SELECT status, version FROM cards WHERE id = '$NW_CFO'")" "pending_review|1"
	assert_equal "$(db "SELECT count(*) FROM card_versions WHERE card_id = '$NW_CFO'")" 1
	assert_equal "$(db "SELECT count(*) FROM audit WHERE entity_id = '$NW_CFO' AND action <> 'card.create'")" 0
}
