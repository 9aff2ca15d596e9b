#!/usr/bin/env bats
# cp-inbox on a terminal: columns aligned by display width (Cyrillic, CJK,
# emoji, combining marks) and truncated with an ellipsis to the width;
# colour only on a terminal and never with NO_COLOR; long lists through
# the pager.  fixtures/inbox/pty-run gives the program a real terminal;
# fixtures/inbox/columns measures lines as a terminal does.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

PTY="$FIXTURES/inbox/pty-run"
COLS="$FIXTURES/inbox/columns"

@test "80 columns: every line fits, columns line up, titles end in an ellipsis" {
	inbox_state
	unicode_cards
	COLUMNS=80 cp-inbox --as alice >out.txt
	run "$COLS" 80 ACCOUNT THEME TITLE <out.txt
	assert_success
	assert_output 80
	run cat out.txt
	assert_equal "${#lines[@]}" 9
	assert_line --index 1 --regexp "^${SBER:5:10} +91 +4h  Сбербанк Технологии +leadership_change +Сбербанк.*…\$"
	assert_line --index 2 --regexp "^${SAMPLE:5:10} +89 +4h  株式会社サンプル商事 +expansion +株式会社.*…\$"
	assert_line --index 3 --regexp "^${ROCKET:5:10} +88 +4h  🚀 Rocket Labs 🎉 +product_launch +🚀 Rocket.*…\$"
	assert_line --index 5 --regexp "^${CAFE:5:10} +86 +4h  Caf.+ Cr.+me +funding +Caf.+ Cr.+me rai.*…\$"
	measure "layout at 80 columns: $(wc -l <out.txt) lines, widest $(tail -1 <<<"$("$COLS" 80 <out.txt)") columns"
}

@test "200 columns: nothing is cut, and the columns still line up" {
	inbox_state
	unicode_cards
	COLUMNS=200 cp-inbox --as alice >out.txt
	run "$COLS" 200 ACCOUNT THEME TITLE <out.txt
	assert_success
	run cat out.txt
	refute_output --partial "…"
	assert_line --index 2 --regexp "株式会社サンプル商事が大阪に新しい工場を建設すると発表しました\$"
	assert_line --index 3 --regexp "🚀 Rocket Labs 🎉 launches a new product line for enterprise customers worldwide\$"
	# the ACCOUNT column is as wide as its widest name in display columns:
	# 株式会社サンプル商事 is 10 characters but 20 columns
	head=${lines[0]}
	acct=${head#*ACCOUNT}
	acct=${acct%%THEME*}
	assert_equal "$((${#acct} + 7))" 22
}

@test "narrow terminals: the title shrinks first, then other columns" {
	inbox_state
	unicode_cards
	COLUMNS=60 cp-inbox --as alice >out.txt
	run "$COLS" 60 ACCOUNT THEME <out.txt
	assert_success
	# at 40 the header words themselves are cut: widths only
	COLUMNS=40 cp-inbox --as alice >out.txt
	run "$COLS" 40 <out.txt
	assert_success
	assert_output 40
	# without a UTF-8 locale the ellipsis is three dots
	LC_ALL=C COLUMNS=60 cp-inbox --as alice --account northwind >out.txt
	run cat out.txt
	assert_line --index 1 --regexp '\.\.\.$'
	refute_output --partial "…"
}

@test "the terminal's own width is used, with colour (bold header)" {
	inbox_state
	unicode_cards
	run "$PTY" 80 50 cp-inbox --as alice
	assert_success
	assert_line --index 0 --partial $'\e[1mID'
	# strip the colour and measure what the terminal showed
	sed 's/\x1b\[[0-9;]*m//g' <<<"$output" >shown.txt
	run "$COLS" 80 ACCOUNT THEME TITLE <shown.txt
	assert_success
	run "$PTY" 120 50 cp-inbox --as alice
	sed 's/\x1b\[[0-9;]*m//g' <<<"$output" >shown.txt
	run "$COLS" 120 ACCOUNT THEME TITLE <shown.txt
	assert_success
	assert_output 120
}

@test "NO_COLOR, TERM=dumb and pipes get no colour" {
	inbox_state
	run env NO_COLOR=1 "$PTY" 80 50 cp-inbox --as alice
	assert_success
	assert_line --index 0 --regexp '^ID +SCORE'
	[[ "$output" != *$'\e'* ]]
	run env TERM=dumb "$PTY" 80 50 cp-inbox --as alice
	[[ "$output" != *$'\e'* ]]
	# (not through less, which writes its own terminal controls)
	run env NO_COLOR=1 "$PTY" 80 50 cp-inbox --as alice show "$NW_CFO" --no-pager
	[[ "$output" != *$'\e'* ]]
	run env "$PTY" 80 50 cp-inbox --as alice show "$NW_CFO" --no-pager
	assert_output --partial $'\e[1mEvidence\e[0m'
	run cp-inbox --as alice
	[[ "$output" != *$'\e'* ]]
	# an empty NO_COLOR is no request (no-color.org)
	run env NO_COLOR= "$PTY" 80 50 cp-inbox --as alice
	assert_output --partial $'\e[1m'
}

@test "a list longer than the screen goes through \$PAGER; a short one does not" {
	inbox_state
	for i in $(seq 30); do add_card acme northwind funding $((40 + i)) "Card number $i" >/dev/null; done
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 20 cp-inbox --as alice
	assert_success
	assert_line --index 0 --regexp '^PAGED: .*ID +SCORE'
	assert_equal "$(grep -c '^PAGED: ' <<<"$output")" 35
	# fits on the screen: printed directly
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 20 cp-inbox --as alice --limit 5
	refute_output --partial "PAGED: "
	assert_equal "${#lines[@]}" 7
	assert_line --index 6 "cp-inbox: showing the first 5 cards; more match (--limit 0 shows all)"
	# --no-pager, PAGER=cat and pipes: no pager
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 20 cp-inbox --as alice --no-pager
	refute_output --partial "PAGED: "
	run env PAGER=cat "$PTY" 100 20 cp-inbox --as alice
	refute_output --partial "PAGED: "
	PAGER="sed 's/^/PAGED: /'" run cp-inbox --as alice
	refute_output --partial "PAGED: "
	# CLIENTPULSE_PAGER wins over PAGER
	run env PAGER=false CLIENTPULSE_PAGER="sed 's/^/CP: /'" "$PTY" 100 20 cp-inbox --as alice
	assert_line --index 0 --regexp '^CP: '
}

@test "the pager is less -R by default: colour passes, the first screen shows" {
	command -v less >/dev/null || skip "less not installed"
	inbox_state
	for i in $(seq 40); do add_card acme northwind funding $((40 + i)) "Card number $i" >/dev/null; done
	run env -u PAGER -u LESS "$PTY" 100 15 cp-inbox --as alice
	assert_success
	# less got LESS=FRX: raw colour, so the bold header reaches the screen
	assert_output --partial $'\e[1mID'
	assert_output --partial "Card number 40"
	refute_output --partial "Card number 1 "
	# a pager that cannot run: the list is printed instead
	run env PAGER=/nonexistent/pager "$PTY" 100 15 cp-inbox --as alice
	assert_success
	assert_output --partial "cannot run pager"
	assert_output --partial "Card number 1"
}

@test "show and stats page too; export never does" {
	inbox_state
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 10 cp-inbox --as alice show "$NW_CFO"
	assert_line --index 0 --partial "PAGED: "
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 5 cp-inbox --as mona stats
	assert_line --index 0 --partial "PAGED: "
	run env PAGER="sed 's/^/PAGED: /'" "$PTY" 100 3 cp-inbox --as alice export --json
	refute_output --partial "PAGED: "
}
