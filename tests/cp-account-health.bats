#!/usr/bin/env bats
# cp-account show: the account's health — signals per week over the last
# 12 weeks as a sparkline, risk flags, the best open cards — with known
# answers for a fixture account (tests/fixtures/search/health.ndjson),
# within 80 columns, in ASCII when asked or when the locale is not UTF-8.

load helper
load fixtures/inbox/inbox
load fixtures/search/search
bats_require_minimum_version 1.5.0

setup_file() {
	local BATS_TEST_TMPDIR="$BATS_FILE_TMPDIR/fixture"
	mkdir -p "$BATS_TEST_TMPDIR"
	cp_setup
	inbox_state
	cp-account import -q <<<'{"id":"tailspin","name":"Tailspin Toys","owner":"alice"}'
	cp-account import -q --tenant globex --as gary <<<'{"id":"tailspin","name":"Tailspin of Globex"}'
	health_signals "$SEARCH_FIX/health.ndjson"
	# open cards: four pending, one decided
	TS_A=$(add_card acme tailspin layoffs 91 "Tailspin layoffs: offer the automation assessment" 2026-11-04T09:00:00Z)
	TS_B=$(add_card acme tailspin leadership_change 77 "New CEO at Tailspin Toys" 2026-11-01T09:00:00Z)
	TS_C=$(add_card acme tailspin security_incident 64 "Tailspin breach: incident response retainer" 2026-10-29T09:00:00Z)
	TS_D=$(add_card acme tailspin funding 50 "Tailspin raises money" 2026-11-24T09:00:00Z)
	TS_E=$(add_card acme tailspin expansion 99 "Tailspin opens in York" 2026-11-20T09:00:00Z)
	CLIENTPULSE_NOW=$NOW cp-inbox --as alice approve "$TS_E" -q
	export TS_A TS_B TS_C TS_D TS_E
	sqlite3 "$CLIENTPULSE_DB" "VACUUM INTO '$BATS_FILE_TMPDIR/pristine.db'"
}

setup() {
	cp_setup
	cp "$BATS_FILE_TMPDIR/pristine.db" "$CLIENTPULSE_DB"
	export CLIENTPULSE_NOW=$NOW
}

db() { sqlite3 "$CLIENTPULSE_DB" "$@"; }

WEEKS='[1,0,2,0,3,1,0,4,2,0,6,1]'

@test "known answers: signals per week, the sparkline, the flags, the top open cards" {
	run cp-account show tailspin --health --json
	assert_success
	assert_equal "$(jq -c '[.weeks[].signals]' <<<"$output")" "$WEEKS"
	assert_equal "$(jq -r '.weeks[0].week + " " + .weeks[11].week + " " + .from + " " + .to' <<<"$output")" \
	    "2026-09-07 2026-11-23 2026-09-07T00:00:00Z 2026-11-25T12:00:00Z"
	assert_equal "$(jq -r .signals <<<"$output")" 20
	assert_equal "$(jq -r .sparkline <<<"$output")" "▃▁▄▁▅▃▁▆▄▁█▃"
	# flags in stories: two reports of one layoff are one story; a
	# layoff ruled out is none; one new leader is no churn, two are; a
	# beat is no bad earnings; regulatory news of another tenant or
	# without a date does not count
	assert_equal "$(jq -c '[.risks[] | [.flag, .stories, .signals, .latest]]' <<<"$output")" \
	    '[["layoffs",1,2,"2026-11-04T08:00:00Z"],["leadership_churn",2,2,"2026-11-01T08:00:00Z"],["security_incident",1,1,"2026-10-29T08:00:00Z"],["negative_earnings",1,2,"2026-10-27T08:00:00Z"]]'
	assert_equal "$(jq -r '.risks[1].title' <<<"$output")" "Tailspin names Ana Ruiz CEO"
	assert_equal "$(jq -r .open_cards <<<"$output")" 4
	assert_equal "$(jq -r '[.top_cards[].id] | join(" ")' <<<"$output")" "$TS_A $TS_B $TS_C"
	assert_equal "$(jq -c '[.top_cards[] | .score]' <<<"$output")" '[91,77,64]'
}

@test "the same answers whether search has indexed the signals or not" {
	want=$(cp-account show tailspin --health --json)
	# everything indexed: read through search's account keys
	cp-search --index
	assert_equal "$(db "SELECT count(*) FROM search_signal_keys WHERE account_id = 'tailspin'")" 23
	assert_equal "$(cp-account show tailspin --health --json)" "$want"
	# half and half: new signals above the mark come from signals itself
	db "DELETE FROM search_signal_keys WHERE seq > 12;
	    UPDATE settings SET value = '12' WHERE key = 'search.signals_indexed'"
	assert_equal "$(cp-account show tailspin --health --json)" "$want"
	# the account's keys drive the read, and the tail is a range of seq
	run --separate-stderr sqlite3 "$CLIENTPULSE_DB" "EXPLAIN QUERY PLAN
	    SELECT seq FROM search_signal_keys WHERE tenant_id = 1 AND account_id = 'x'
	    AND published_at >= 'a' AND published_at < 'b' AND seq <= 5"
	assert_output --partial "USING COVERING INDEX search_signal_keys_account"
}

@test "the text view at 80 columns" {
	run cp-account show tailspin
	assert_success
	assert_equal "$(sed -n '/^health/,$p' <<<"$output")" "$(cat <<-'EOF'
	health       12 weeks, 2026-09-07 to 2026-11-25
	signals      ▃▁▄▁▅▃▁▆▄▁█▃  20, most 6 in the week of 2026-11-16
	risks        layoffs: 1 story, latest 2026-11-04: 120 Leeds jobs go at Tailspin
	             leadership churn: 2 stories, latest 2026-11-01: Tailspin names Ana…
	             security incident: 1 story, latest 2026-10-29: Tailspin discloses …
	             negative earnings: 1 story, latest 2026-10-27: Tailspin results di…
	open cards   4 pending review
	              91   3w  layoffs            Tailspin Toys: Tailspin layoffs: offe…
	              77   3w  leadership_change  New CEO at Tailspin Toys
	              64   3w  security_incident  Tailspin Toys: Tailspin breach: incid…
	EOF
	)"
	# the fields come first, as before
	assert_line --index 0 "id           tailspin"
	while IFS= read -r line; do
		[ "$(printf '%s' "$line" | wc -m)" -le 80 ] || { echo "too wide: $line"; return 1; }
	done <<<"$output"
	# --health alone: the name and the view
	run cp-account show tailspin --health
	assert_line --index 0 "name         Tailspin Toys"
	assert_line --index 1 --partial "health       12 weeks"
	assert_equal "${#lines[@]}" 11
}

@test "fits the terminal: 80 columns, wider, narrower, wide characters" {
	db "UPDATE signals SET title = '株式会社テイルスピンが大規模な人員削減と工場閉鎖を発表しました、影響は三百人に及ぶ' WHERE id = 'sig_t13'"
	for cols in 80 100 60; do
		run "$FIXTURES/inbox/pty-run" "$cols" 40 cp-account show tailspin --health
		assert_success
		assert_output --partial "株式会社"
		python3 -c '
import sys, unicodedata, re
cols = int(sys.argv[1])
for line in sys.stdin.read().splitlines():
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in line)
    if w > cols:
        sys.exit("%d columns > %d: %s" % (w, cols, line))
' "$cols" <<<"$output"
	done
}

@test "ASCII with --ascii or a locale that is not UTF-8" {
	for how in "--ascii" "LC_ALL=C"; do
		if [ "$how" = --ascii ]; then
			run cp-account show tailspin --health --ascii
		else
			LC_ALL=C run cp-account show tailspin --health
		fi
		assert_success
		assert_line --index 2 "signals      :_-_=:_+-_#:  20, most 6 in the week of 2026-11-16"
		assert_line --index 4 "             leadership churn: 2 stories, latest 2026-11-01: Tailspin names A..."
		! LC_ALL=C grep -q '[^ -~]' <<<"$output" || { echo "$how: not ASCII: $output"; return 1; }
	done
	# the JSON keeps the Unicode sparkline: it is data, not a terminal
	LC_ALL=C run cp-account show tailspin --health --json --ascii
	assert_equal "$(jq -r .sparkline <<<"$output")" "▃▁▄▁▅▃▁▆▄▁█▃"
}

@test "colour on a terminal: the flags in bold red; NO_COLOR and pipes plain" {
	run "$FIXTURES/inbox/pty-run" 100 40 cp-account show tailspin --health
	assert_output --partial $'risks        \e[1;31mlayoffs\e[0m: 1 story'
	NO_COLOR=1 run "$FIXTURES/inbox/pty-run" 100 40 cp-account show tailspin --health
	refute_output --partial $'\e['
	run cp-account show tailspin --health
	refute_output --partial $'\e['
}

@test "a quiet account; headlines cannot reach the terminal as escapes" {
	run cp-account show fabrikam --health
	assert_success
	assert_line --index 2 "signals      ▁▁▁▁▁▁▁▁▁▁▁▁  none"
	assert_line --index 3 "risks        none seen"
	assert_line --index 4 "open cards   1 pending review"
	db "UPDATE signals SET title = 'Evil' || char(27) || ']52;c;ZWNobw==' || char(7) || ' title' WHERE id = 'sig_t13'"
	run cp-account show tailspin --health
	refute_output --partial $'\e'
	refute_output --partial $'\a'
	assert_output --partial "latest 2026-11-04: Evil ]52;c;ZWNobw== title"
}

@test "scope: the view is the account's, for those who may see it" {
	run cp-account show tailspin --health --as alice
	assert_success
	run cp-account show tailspin --health --as bob
	assert_equal "$status" 77
	assert_output "cp-account: tailspin: not found or not permitted"
	run cp-account show tailspin --health --as mona
	assert_success
	# globex's own Tailspin: only globex's signals, none of acme's
	run cp-account show tailspin --health --json --as gary
	assert_success
	assert_equal "$(jq -c '[.signals, [.risks[].flag], .open_cards]' <<<"$output")" '[1,["regulatory"],0]'
}

@test "usage: --health and --ascii belong to show" {
	run cp-account list --health
	assert_equal "$status" 64
	assert_line --index 0 "cp-account: --health is an option of 'show' only"
	run cp-account list --ascii
	assert_equal "$status" 64
}

@test "negative earnings: what reads as bad results" {
	# each line: the sentence, then yes or no
	while IFS='|' read -r text want; do
		db "UPDATE signals SET themes = json_array(json_object('theme', 'earnings',
		    'confidence', 0.9, 'evidence', '$text', 'negated', json('false'))),
		    title = 'Tailspin quarterly results' WHERE id IN ('sig_t08', 'sig_t09')"
		got=$(cp-account show tailspin --health --json | jq -r '[.risks[].flag] | index("negative_earnings") != null')
		[ "$got" = "$want" ] || { echo "'$text': expected $want, got $got"; return 1; }
	done <<-'CASES'
	Tailspin reported a net loss of $12 million.|true
	Tailspin lowered its full-year outlook.|true
	Revenue declined 8 percent from a year earlier.|true
	Results fell short, below expectations.|true
	Tailspin issued a profit warning.|true
	Der Verlust stieg im dritten Quartal.|true
	Revenue rose 12 percent and beat estimates.|false
	Tailspin raised its guidance after a record quarter.|false
	The glossy annual report was well received.|false
	CASES
}
