#!/usr/bin/env bats
# cp-inbox: the list (mine, --all, filters, order, limit), show (prefixes,
# versions, every section), stats, the SLA, usage errors, and query plans
# that walk indexes.  Decisions are in cp-inbox-review.bats, the terminal
# (widths, colour, pager) in cp-inbox-layout.bats, export in
# cp-inbox-export.bats, who may do what in access-matrix.bats.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

# ids in the list are the first 10 hex digits after "card_"
short() { echo "${1:5:10}"; }

@test "list: the caller's pending cards, best first, one aligned line each" {
	inbox_state
	run cp-inbox --as alice
	assert_success
	assert_line --index 0 --regexp '^ID +SCORE +AGE +ACCOUNT +THEME +TITLE$'
	assert_equal "${#lines[@]}" 5
	assert_line --index 1 --regexp "^$(short $NW_CFO) +87 +1d +Northwind Labs +leadership_change +Northwind Labs names a new CFO\$"
	assert_line --index 2 --regexp "^$(short $NW_FUND) +72 +2d +Northwind Labs +funding +"
	assert_line --index 3 --regexp "^$(short $FB_EXP) +64 +2d +Fabrikam +expansion +"
	assert_line --index 4 --regexp "^$(short $NW_MA) +55 +7d +Northwind Labs +m_and_a +"
	# columns start at the same place on every line
	for col in SCORE ACCOUNT THEME TITLE; do
		h=${lines[0]%%"$col"*}
		for i in 1 2 3 4; do
			[ "$(cut -c1-$((${#h} + 1)) <<<"${lines[$i]}" | wc -m)" -ge "${#h}" ]
		done
	done
	refute_output --partial "Contoso"
}

@test "list: bob sees only his, the manager and admin need --all for the team" {
	inbox_state
	run cp-inbox --as bob --json
	assert_success
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$CO_LAY $CO_COST "
	run cp-inbox --as mona --json
	assert_success
	assert_output ""
	run cp-inbox --as mona --all --json
	assert_equal "$(jq -r .score <<<"$output" | tr '\n' ' ')" "87 81 72 64 55 45 "
	run cp-inbox --as "$ADMIN" --all --json
	assert_equal "$(jq -s length <<<"$output")" 6
	# a viewer has nothing assigned: the whole read scope is theirs
	run cp-inbox --as vera --json
	assert_success
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$CO_LAY $CO_COST "
	# the other tenant never shows
	run cp-inbox --as gil --json
	assert_equal "$(jq -r .id <<<"$output")" "$IN_FUND"
	run cp-inbox --as gary --all --json
	assert_equal "$(jq -r .id <<<"$output")" "$IN_FUND"
}

@test "list --json: card records with the current status, version and names" {
	inbox_state
	run cp-inbox --as alice --json --limit 1
	assert_success
	assert_equal "$(jq -c '[.type,.id,.status,.version,.account_name,.assignee,.score,(.factors|keys|length),(.evidence|length)]' <<<"$output")" \
	    "[\"card\",\"$NW_CFO\",\"pending_review\",1,\"Northwind Labs\",\"alice\",87,6,1]"
}

@test "filters: --min-score --account --theme --source --since --status --limit" {
	inbox_state
	ids() { jq -r .id <<<"$output" | tr '\n' ' '; }
	run cp-inbox --as alice --json --min-score 70
	assert_equal "$(ids)" "$NW_CFO $NW_FUND "
	run cp-inbox --as alice --json --account fabrikam
	assert_equal "$(ids)" "$FB_EXP "
	run cp-inbox --as alice --json --theme m_and_a
	assert_equal "$(ids)" "$NW_MA "
	run cp-inbox --as alice --json --source sec
	assert_equal "$(ids)" "$NW_CFO "
	run cp-inbox --as alice --json --since 3d
	assert_equal "$(ids)" "$NW_CFO $NW_FUND $FB_EXP "
	run cp-inbox --as alice --json --since 2026-11-23T00:00:00Z
	assert_equal "$(ids)" "$NW_CFO $FB_EXP "
	run cp-inbox --as alice --json --limit 2
	assert_equal "$(ids)" "$NW_CFO $NW_FUND "
	cp-inbox --as alice approve "$NW_FUND" -q
	run cp-inbox --as alice --json --status approved
	assert_equal "$(ids)" "$NW_FUND "
	run cp-inbox --as alice --json --status any --min-score 60
	assert_equal "$(ids)" "$NW_CFO $NW_FUND $FB_EXP "
	# --account of an account out of scope finds nothing, as for a missing one
	run cp-inbox --as alice --all --json --account contoso
	assert_success
	assert_output ""
}

@test "--limit: says on stderr that more cards match; --limit 0 shows all" {
	inbox_state
	run --separate-stderr cp-inbox --as alice --limit 2
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$stderr" "cp-inbox: showing the first 2 cards; more match (--limit 0 shows all)"
	run --separate-stderr cp-inbox --as alice --limit 0
	assert_equal "${#lines[@]}" 5
	assert_equal "$stderr" ""
	run --separate-stderr cp-inbox --as alice --limit 4
	assert_equal "$stderr" ""
}

@test "show: every section of the card; id prefixes with or without card_" {
	inbox_state
	run cp-inbox --as alice show "${NW_CFO:5:6}"
	assert_success
	assert_line --index 0 "Northwind Labs names a new CFO"
	assert_line "id         $NW_CFO"
	assert_line "account    Northwind Labs (northwind)"
	assert_line "status     pending_review, version 1, assigned to alice"
	assert_line "score      87 (theme leadership_change, playbook cfo-finance-modernisation)"
	assert_line "created    2026-11-24T09:00:00Z (1d ago)"
	for h in "Narrative (template)" "Next step" Evidence "Score breakdown" Assets "Outreach drafts" History; do
		assert_line "$h"
	done
	assert_line '  1. "Northwind Labs appointed Jane Doe as Chief Financial Officer, effective December 1."'
	assert_line "     https://www.sec.gov/Archives/edgar/data/1234567/000123456726000042/nwlb-8k.htm"
	assert_line --regexp '^  FACTOR +VALUE +WEIGHT +REASON$'
	assert_line --regexp '^  impact +0\.90 +0\.25 +tier 1 enterprise, C-level change$'
	assert_line --regexp '^  confidence +0\.90 +0\.15 +SEC filing 0\.95, 1 source$'
	assert_line --regexp '^  total +87\.0$'
	# cp-card's template narrative, in paragraphs
	assert_line "  SEC EDGAR reported on 2026-11-24: Northwind Labs names a new CFO."
	assert_line "  - Margie's Travel shortens month-end close from 12 to 5 days <https://example.com/resources/cs-margie-finance-close>"
	assert_line "  [email] Finance priorities at Northwind Labs"
	assert_line "  [call]"
	assert_line "  [linkedin]"
	assert_line --regexp "^  2026-11-24T09:00:00Z  v1 +card\.create +$ADMIN\$"
	run cp-inbox --as alice show "$NW_CFO" --json
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" "$NW_CFO"
	run cp-inbox --as alice show "card_${NW_CFO:5:4}" --json
	assert_equal "$(jq -r .id <<<"$output")" "$NW_CFO"
	run cp-inbox --as alice show "${NW_CFO:5:8}" --json
	assert_equal "$(jq -r .id <<<"$output")" "$NW_CFO"
}

@test "show: history lists each decision with who, why and the new version" {
	inbox_state
	cp-inbox --as alice refine "$NW_CFO" --title "Northwind: new CFO Jane Doe" --note "shorter" -q
	cp-inbox --as mona approve "$NW_CFO" --note "call her" -q
	run cp-inbox --as alice show "$NW_CFO"
	assert_success
	assert_line --index 0 "Northwind: new CFO Jane Doe"
	assert_line "status     approved, version 3, assigned to alice"
	assert_line --regexp "^  2026-11-24T09:00:00Z  v1 +card\.create +$ADMIN\$"
	assert_line --regexp '^  2026-11-25T12:00:00Z  v2 +card\.refine +alice( \(via [^)]*\))?: shorter$'
	assert_line --regexp '^  2026-11-25T12:00:00Z  v3 +card\.approve +mona( \(via [^)]*\))?: call her$'
	assert_line "decided    2026-11-25T12:00:00Z"
}

@test "show: a short, malformed or ambiguous prefix" {
	inbox_state
	run cp-inbox --as alice show "${NW_CFO:5:3}"
	assert_equal "$status" 64
	assert_output "cp-inbox: ${NW_CFO:5:3}: card id prefix too short (at least 4 hex digits)"
	run cp-inbox --as alice show "xyz!"
	assert_equal "$status" 64
	assert_output --partial "cp-inbox: xyz!: not a card id"
	# two cards sharing a prefix: ambiguous, and both named
	db "UPDATE cards SET id = 'card_ffff0000000000000000000000000001' WHERE id = '$NW_MA';
	    UPDATE cards SET id = 'card_ffff0000000000000000000000000002' WHERE id = '$FB_EXP'"
	run cp-inbox --as alice show ffff
	assert_equal "$status" 65
	assert_output "cp-inbox: ffff: ambiguous card id prefix: card_ffff0000000000000000000000000001, card_ffff0000000000000000000000000002"
	# ambiguity is counted within the caller's scope only
	db "UPDATE cards SET id = 'card_eeee0000000000000000000000000001' WHERE id = '$NW_FUND';
	    UPDATE cards SET id = 'card_eeee0000000000000000000000000002' WHERE id = '$CO_COST'"
	run cp-inbox --as alice show eeee --json
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" card_eeee0000000000000000000000000001
}

@test "show: sanitises what it prints (no escape sequences from a headline)" {
	inbox_state
	db "UPDATE cards SET title = 'Evil' || char(27) || ']52;c;ZWNobw==' || char(7) || ' title',
	    record = json_set(record, '$.title', 'Evil' || char(27) || '[2J title',
	        '$.narrative.what_happened', 'line' || char(155) || '31m one')
	    WHERE id = '$NW_CFO'"
	run cp-inbox --as alice --limit 1
	assert_success
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\a'* ]]
	assert_line --regexp "Evil \]52;c;ZWNobw== title\$"
	run cp-inbox --as alice show "$NW_CFO"
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\xc2\x9b'* ]]
	assert_line --index 0 "Evil [2J title"
	assert_line "  line 31m one"
}

@test "stats: counts by status and theme, acceptance, time to review, SLA breaches" {
	inbox_state
	CLIENTPULSE_NOW=2026-11-25T12:00:00Z cp-inbox --as alice approve "$NW_CFO" -q      # 27h after creation
	CLIENTPULSE_NOW=2026-11-25T18:00:00Z cp-inbox --as alice reject "$NW_MA" --reason bad_timing -q   # 7d 10h
	CLIENTPULSE_NOW=2026-11-25T18:30:00Z cp-inbox --as bob approve "$CO_LAY" -q        # 30m
	run cp-inbox --as mona stats --json
	assert_success
	assert_equal "$(jq -c .status <<<"$output")" \
	    '{"pending_review":3,"approved":2,"rejected":1,"pushed":0,"total":6}'
	assert_equal "$(jq -c '.themes.funding' <<<"$output")" \
	    '{"pending_review":1,"approved":0,"rejected":0,"pushed":0,"total":1}'
	assert_equal "$(jq -r '.acceptance_rate * 1000 | round' <<<"$output")" 667
	assert_equal "$(jq -r '.time_to_review_median_s | round' <<<"$output")" 97200
	assert_equal "$(jq -r '.time_to_review_p95_s | round' <<<"$output")" 640800
	# pending past 48h at 12:00 on the 25th: NW_FUND (68h 30m), FB_EXP
	# (49h) and CO_COST (15d); NW_MA was decided after 7 days
	assert_equal "$(jq -c '[.review_sla_hours,.sla_breaches_pending,.sla_decided_late]' <<<"$output")" '[48,3,1]'
	# alice's scope is her accounts only
	run cp-inbox --as alice stats --json
	assert_equal "$(jq -c .status.total <<<"$output")" 4
	run cp-inbox --as mona stats
	assert_success
	assert_line --regexp '^THEME +PENDING +APPROVED +REJECTED +PUSHED +TOTAL +ACCEPTED$'
	assert_line --regexp '^all +3 +2 +1 +0 +6 +67%$'
	assert_line --regexp '^leadership_change +0 +1 +0 +0 +1 +100%$'
	assert_line "acceptance rate   67% (2 approved of 3 decided)"
	assert_line "time to review    median 27.0h, P95 7.4d (3 decided)"
	assert_line "review SLA        48h: 3 pending past it (oldest since 2026-11-10T10:00:00Z), 1 decided late"
	run cp-inbox --as mona stats --theme funding --json
	assert_equal "$(jq -c .status.total <<<"$output")" 1
}

@test "sla: anyone reads it, an admin sets it (audited), stats follow" {
	inbox_state
	run cp-inbox --as alice sla
	assert_success
	assert_output 48
	run cp-inbox --as mona sla 24
	assert_equal "$status" 77
	assert_output "cp-inbox: permission denied: role manager may not change tenant settings"
	run cp-inbox --as "$ADMIN" sla 36
	assert_success
	assert_equal "$(cp-inbox --as alice sla)" 36
	run cp-inbox --as alice sla --json
	assert_output '{"tenant":"acme","review_sla_hours":36}'
	assert_equal "$(db "SELECT review_sla_hours, version FROM tenants WHERE name = 'acme'")" "36|2"
	assert_equal "$(db "SELECT actor || ' ' || entity_id || ' ' || diff FROM audit WHERE action = 'tenant.sla'")" \
	    "$ADMIN acme {\"new\":{\"review_sla_hours\":36},\"old\":{\"review_sla_hours\":48}}"
	run cp-inbox --as "$ADMIN" sla 3d
	assert_success
	assert_equal "$(cp-inbox --as alice sla)" 72
	# stats measure against it: past 72h are NW_MA (7d) and CO_COST (15d)
	run cp-inbox --as mona stats --json
	assert_equal "$(jq -c '[.review_sla_hours,.sla_breaches_pending]' <<<"$output")" '[72,2]'
	# globex is untouched
	assert_equal "$(cp-inbox --as gil sla)" 48
	run cp-inbox --as "$ADMIN" sla 0
	assert_equal "$status" 64
	run cp-inbox --as "$ADMIN" sla 90m
	assert_equal "$status" 64
}

@test "usage: unknown subcommand, stray options, bad values exit 64" {
	inbox_state
	run cp-inbox frobnicate
	assert_equal "$status" 64
	assert_output --partial "cp-inbox: unknown subcommand 'frobnicate'"
	run cp-inbox approve "$NW_CFO" --reason other
	assert_equal "$status" 64
	assert_output --partial "cp-inbox: --reason does not apply to 'approve'"
	run cp-inbox --status maybe
	assert_equal "$status" 64
	assert_output --partial "--status: expected pending_review, approved, rejected, pushed or any"
	run cp-inbox --min-score 120
	assert_equal "$status" 64
	run cp-inbox --since yesterday
	assert_equal "$status" 64
	run cp-inbox --limit -1
	assert_equal "$status" 64
	run cp-inbox show
	assert_equal "$status" 64
	run cp-inbox list extra
	assert_equal "$status" 64
	run cp-inbox reject "$NW_CFO" --reason because
	assert_equal "$status" 64
	assert_output --partial "--reason: expected not_relevant, already_known, bad_timing, wrong_account or other"
}

@test "an unknown login exits 77 and says how to be added" {
	inbox_state
	run cp-inbox --as mallory
	assert_equal "$status" 77
	assert_output "cp-inbox: unknown user 'mallory'; an admin can add you with: cp-user add mallory --role am"
}

@test "clientpulse inbox runs cp-inbox" {
	inbox_state
	run clientpulse inbox --as alice --json --limit 1
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" "$NW_CFO"
}

# EXPLAIN QUERY PLAN of what the binary prepares (-vv traces the SQL): the list walks an index
# in score order (no sort of the whole queue) and the scope is a lookup.
plan() {
	local sql
	sql=$("$@" 2>&1 >/dev/null | sed -n 's/^cp-inbox: debug: sql: //p' | head -1)
	[ -n "$sql" ] || { echo "no SQL traced"; return 1; }
	# unbound parameters are NULL: enough for the planner
	db "CREATE TEMP TABLE IF NOT EXISTS scope(account_id TEXT PRIMARY KEY) WITHOUT ROWID; EXPLAIN QUERY PLAN $sql"
}

@test "query plans: the list uses indexes and never sorts the whole queue" {
	inbox_state
	run plan cp-inbox --as alice -vv
	assert_success
	assert_output --partial "SEARCH c USING INDEX cards_inbox (tenant_id=? AND assignee_id=? AND status=?)"
	refute_output --partial "SCAN c"
	refute_output --regexp "USE TEMP B-TREE FOR ORDER BY"
	run plan cp-inbox --as "$ADMIN" --all -vv
	assert_output --partial "SEARCH c USING INDEX cards_scope_queue (tenant_id=? AND status=?)"
	refute_output --regexp "USE TEMP B-TREE FOR ORDER BY"
	run plan cp-inbox --as mona --all --account northwind -vv
	assert_output --partial "SEARCH c USING INDEX cards_account_queue (tenant_id=? AND account_id=? AND status=?)"
	refute_output --regexp "USE TEMP B-TREE FOR ORDER BY"
	run plan cp-inbox --as alice --min-score 70 -vv
	assert_output --partial "USING INDEX cards_inbox (tenant_id=? AND assignee_id=? AND status=? AND score>?)"
	# the same with the statistics ANALYZE gathers, which tempt the
	# planner to drive the loop by accounts and sort
	db "ANALYZE"
	run plan cp-inbox --as mona --all -vv
	assert_output --partial "SEARCH c USING INDEX cards_scope_queue (tenant_id=? AND status=?)"
	refute_output --regexp "USE TEMP B-TREE FOR ORDER BY"
	run plan cp-inbox --as alice -vv
	assert_output --partial "SEARCH c USING INDEX cards_inbox (tenant_id=? AND assignee_id=? AND status=?)"
	refute_output --regexp "USE TEMP B-TREE FOR ORDER BY"
	# the accounts join and the scope are lookups, not scans
	run plan cp-inbox --as alice -vv
	assert_output --regexp "SEARCH a USING (PRIMARY KEY|INDEX sqlite_autoindex_accounts_1)"
	assert_output --regexp "(LIST SUBQUERY|USING .*scope|SEARCH scope)"
}

@test "bash completion: subcommands, reasons, card ids from the caller's scope" {
	inbox_state
	complete_words() {
		bash -c '
			source "$1/completions/bash/cp-inbox"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_cp_inbox cp-inbox "${COMP_WORDS[COMP_CWORD]}" ""
			printf "%s\n" "${COMPREPLY[@]}"' _ "$CP_TOP" "$@"
	}
	run complete_words cp-inbox ""
	assert_line approve
	assert_line export
	run complete_words cp-inbox reject x --reason ""
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" \
	    "already_known bad_timing not_relevant other wrong_account "
	CLIENTPULSE_AS=alice run complete_words cp-inbox show ""
	assert_line "${NW_CFO:5:10}"
	refute_line "${CO_LAY:5:10}"
	run complete_words cp-inbox export --cs
	assert_output "--csv"
}
