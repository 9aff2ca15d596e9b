#!/usr/bin/env bats
# cp-inbox -i: interactive triage, driven in tmux (send-keys, then what
# the screen shows with capture-pane and what the state file holds): open,
# move, approve, reject with a reason, refine through a scripted $EDITOR,
# filter, conflicts, quit; the terminal restored after q, Ctrl-C and
# SIGTERM (stty -a before and after); redrawn on resize.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

setup_file() {
	command -v tmux >/dev/null || skip "tmux is not installed (make deps)"
	local BATS_TEST_TMPDIR="$BATS_FILE_TMPDIR/fixture"
	mkdir -p "$BATS_TEST_TMPDIR"
	cp_setup
	inbox_state
	sqlite3 "$CLIENTPULSE_DB" "VACUUM INTO '$BATS_FILE_TMPDIR/pristine.db'"
}

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed (make deps)"
	cp_setup
	cp "$BATS_FILE_TMPDIR/pristine.db" "$CLIENTPULSE_DB"
	export CLIENTPULSE_NOW=$NOW
	SOCK="$T/tmux.sock"
}

teardown() {
	[ -n "${SOCK:-}" ] && tmux -S "$SOCK" kill-server 2>/dev/null || true
}

db() { sqlite3 "$CLIENTPULSE_DB" "$@"; }

# start ARGS...: cp-inbox -i ARGS in a 100x30 tmux window, in a shell that
# keeps the terminal's settings before and after, and the exit status
start() {
	printf '#!/bin/sh\nstty -a >"%s/stty.before"\ncp-inbox -i "$@"\necho $? >"%s/status"\nstty -a >"%s/stty.after"\necho "shell again"\nexec sleep 600\n' \
	    "$T" "$T" "$T" >"$T/run.sh"
	chmod +x "$T/run.sh"
	tmux -S "$SOCK" -f /dev/null new-session -d -x "${COLS:-100}" -y "${ROWS:-30}" \
	    "$T/run.sh $*"
	wait_for "ClientPulse inbox"
}

screen() { tmux -S "$SOCK" capture-pane -p; }
keys() { tmux -S "$SOCK" send-keys "$@"; }

# wait_for TEXT: until the screen shows TEXT (10 s at most)
wait_for() {
	local i
	for i in $(seq 200); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "the screen never showed: $1"
	screen
	return 1
}

# the line of the screen that holds TEXT
line_of() { screen | grep -F -- "$1" | head -1; }

# the pid of cp-inbox in the window
inbox_pid() {
	pgrep -P "$(tmux -S "$SOCK" display -p '#{pane_pid}')" -x cp-inbox
}

@test "open, move, approve: the screen and the state file agree" {
	start --as alice
	screen | grep -q "ClientPulse inbox - alice - 4 cards"
	# best first, the first selected
	[[ "$(line_of "names a new CFO")" == ">  87   1d  Northwind Labs"* ]]
	[[ "$(line_of "Series C")" == "   72   2d  Northwind Labs"* ]]
	keys j
	wait_for ">  72   2d  Northwind Labs"
	keys Down
	wait_for ">  64   2d  Fabrikam"
	keys k
	wait_for ">  72   2d  Northwind Labs"
	keys Enter
	wait_for "Next step"
	screen | grep -q "^Northwind Labs raises \$40M Series C"
	screen | grep -q "^account   Northwind Labs (northwind)"
	screen | grep -q "^status    pending_review, version 1"
	screen | grep -q "Berlin, Paris"
	keys a
	wait_for "${NW_FUND:5:10} approved (version 2)"
	# the approved card left the queue; the next one is open
	screen | grep -q "ClientPulse inbox - alice - 3 cards"
	screen | grep -q "^Fabrikam opens a plant in Monterrey"
	! screen | grep -q "Series C"
	keys q
	wait_for ">  64   2d  Fabrikam"
	assert_equal "$(db "SELECT status || ' ' || version FROM cards WHERE id = '$NW_FUND'")" "approved 2"
	assert_equal "$(db "SELECT decision || ' ' || u.login FROM decisions d JOIN users u ON u.id = d.user_id WHERE card_id = '$NW_FUND'")" "approve alice"
	assert_equal "$(db "SELECT action || ' ' || actor FROM audit WHERE entity_id = '$NW_FUND' ORDER BY seq DESC LIMIT 1")" "card.approve alice (via $ADMIN)"
	keys q
	wait_for "shell again"
	assert_equal "$(cat "$T/status")" 0
	assert_equal "$(cat "$T/stty.after")" "$(cat "$T/stty.before")"
}

@test "reject with a reason from the picker (a number, or j/k and Enter)" {
	start --as alice
	keys r
	wait_for "Reject ${NW_CFO:5:10}... - why?"
	screen | grep -q "1 not_relevant"
	screen | grep -q "5 other"
	keys 3
	wait_for "${NW_CFO:5:10} rejected: bad_timing (version 2)"
	assert_equal "$(db "SELECT status FROM cards WHERE id = '$NW_CFO'")" rejected
	assert_equal "$(db "SELECT reason FROM decisions WHERE card_id = '$NW_CFO'")" bad_timing
	# the next card, by keys; Esc first cancels
	keys r
	wait_for "why?"
	keys Escape
	wait_for "not rejected"
	assert_equal "$(db "SELECT status FROM cards WHERE id = '$NW_FUND'")" pending_review
	keys r j j j Enter
	wait_for "rejected: wrong_account"
	assert_equal "$(db "SELECT reason FROM decisions WHERE card_id = '$NW_FUND'")" wrong_account
	keys q
	wait_for "shell again"
}

@test "refine through \$EDITOR: the card changes, still pending; a lost race keeps the text" {
	cat >"$T/ed.sh" <<-'EOF'
	#!/bin/sh
	sed -i 's/^Title: .*/Title: Jane Doe starts as CFO on December 1/' "$1"
	EOF
	chmod +x "$T/ed.sh"
	EDITOR="$T/ed.sh" start --as alice
	keys e
	wait_for "${NW_CFO:5:10} refined (version 2)"
	screen | grep -q "Jane Doe starts as CFO on December 1"
	assert_equal "$(db "SELECT status || ' ' || version || ' ' || title FROM cards WHERE id = '$NW_CFO'")" \
	    "pending_review 2 Jane Doe starts as CFO on December 1"
	# the terminal is raw again: keys still move
	keys j
	wait_for ">  72   2d  Northwind Labs"
	keys q
	wait_for "shell again"
	assert_equal "$(cat "$T/stty.after")" "$(cat "$T/stty.before")"
}

@test "refine: a reviewer who decided meanwhile wins, and the edit is kept" {
	export TMPDIR="$T/tmp"
	mkdir -p "$TMPDIR"
	cat >"$T/ed.sh" <<-EOF
	#!/bin/sh
	sed -i 's/^Title: .*/Title: Alice was here/' "\$1"
	CLIENTPULSE_DB="$CLIENTPULSE_DB" cp-inbox --as mona approve "$NW_CFO" -q
	EOF
	chmod +x "$T/ed.sh"
	EDITOR="$T/ed.sh" start --as alice
	keys e
	wait_for "card changed since you loaded it (version 1 → 2)"
	# a long message takes two lines
	wait_for "(version 1 → 2); your edit is kept in"
	screen | grep -q "^$TMPDIR/cp-inbox-refine\.[A-Za-z0-9]*\.txt$"
	grep -q "^Title: Alice was here" "$TMPDIR"/cp-inbox-refine.*
	assert_equal "$(db "SELECT status || ' ' || title FROM cards WHERE id = '$NW_CFO'")" \
	    "approved Northwind Labs names a new CFO"
	# the list is read again: mona's approval took the card away
	screen | grep -q "alice - 3 cards"
	keys q
	wait_for "shell again"
}

@test "approve a card someone else changed: the conflict is shown, nothing written" {
	start --as alice
	cp-inbox --as mona refine "$NW_CFO" --title "Mona's title" -q
	keys a
	wait_for "${NW_CFO:5:10}: card changed since you loaded it (version 1 → 2); nothing written"
	assert_equal "$(db "SELECT status || ' ' || version || ' ' || title FROM cards WHERE id = '$NW_CFO'")" \
	    "pending_review 2 Mona's title"
	assert_equal "$(db "SELECT count(*) FROM decisions WHERE card_id = '$NW_CFO' AND decision = 'approve'")" 0
	# read again, the list shows the new title; now it can be approved
	screen | grep -q "Mona's title"
	keys a
	wait_for "${NW_CFO:5:10} approved (version 3)"
	keys q
	wait_for "shell again"
}

@test "filter: / words Enter narrows the list, Esc clears it" {
	start --as alice
	keys /
	wait_for "/"
	keys -l "fabrikam"
	wait_for "/fabrikam"
	keys Enter
	wait_for "1 of 4 cards match"
	screen | grep -q "alice - 1 card - filter: fabrikam"
	[[ "$(line_of "Monterrey")" == ">  64"* ]]
	! screen | grep -q "names a new CFO"
	# the filter holds while deciding
	keys a
	wait_for "${FB_EXP:5:10} approved"
	wait_for "No card matches the filter (Esc clears it)."
	keys Escape
	wait_for "filter cleared"
	screen | grep -q "alice - 3 cards"
	# words in any order, case folded, over title, account and theme
	keys / "M_AND_A northwind" Enter
	wait_for "1 of 3 cards match"
	screen | grep -q "Rumour: Northwind Labs"
	keys q
	wait_for "shell again"
}

@test "the terminal is restored after SIGTERM, Ctrl-C and q" {
	start --as alice
	before=$(cat "$T/stty.before")
	pid=$(inbox_pid)
	[ -n "$pid" ]
	# raw while it runs
	stty -a -F "$(tmux -S "$SOCK" display -p '#{pane_tty}')" | grep -q -- "-icanon"
	kill -TERM "$pid"
	wait_for "shell again"
	assert_equal "$(cat "$T/status")" 143
	assert_equal "$(cat "$T/stty.after")" "$before"
	! screen | grep -q "ClientPulse inbox"
	tmux -S "$SOCK" kill-server
	start --as alice
	keys C-c
	wait_for "shell again"
	assert_equal "$(cat "$T/status")" 130
	assert_equal "$(cat "$T/stty.after")" "$(cat "$T/stty.before")"
	tmux -S "$SOCK" kill-server
	start --as alice
	keys Enter
	wait_for "Next step"
	keys q
	wait_for " j/k move"
	keys q
	wait_for "shell again"
	assert_equal "$(cat "$T/status")" 0
	assert_equal "$(cat "$T/stty.after")" "$(cat "$T/stty.before")"
}

@test "a resized window is drawn again, within its columns" {
	start --as alice
	tmux -S "$SOCK" resize-window -x 60 -y 15
	wait_for " j/k move  Enter open  a approve  r reject  e refine  / fi"
	[ "$(screen | wc -l)" -le 15 ]
	while IFS= read -r line; do
		[ "$(printf '%s' "$line" | wc -m)" -le 60 ] || { echo "too wide: $line"; return 1; }
	done < <(screen)
	screen | grep -q "Northwind Labs"
	tmux -S "$SOCK" resize-window -x 120 -y 30
	wait_for "/ filter  q quit"
	keys q
	wait_for "shell again"
}

@test "a viewer browses but may not decide; -i needs a terminal" {
	start --as vera
	screen | grep -q "vera - 2 cards"
	keys a
	wait_for "permission denied"
	assert_equal "$(db "SELECT count(*) FROM decisions")" 0
	keys q
	wait_for "shell again"
	run cp-inbox -i --as alice </dev/null
	assert_equal "$status" 64
	assert_output "cp-inbox: -i needs a terminal (standard input and output)"
	run cp-inbox show "$NW_CFO" -i
	assert_equal "$status" 64
	assert_line --index 0 "cp-inbox: -i opens the list, not 'show'"
}
