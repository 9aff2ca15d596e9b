#!/usr/bin/env bats
# tests/hostile-ssh.bats — an account manager with an SSH key to the
# service account (clientpulse-shell as the forced command) tries to get
# more than her inbox: another identity, state file or configuration
# through abbreviated options, a server file read into her card, a line
# of her choosing appended to a server file, a shell through the pager or
# the editor.  Each is refused; each control case (the same keys without
# clientpulse-shell) shows what would have happened.

load helper
source "$FIXTURES/inbox/inbox.bash"
bats_require_minimum_version 1.5.0

PTY="$FIXTURES/hostile/pty-keys"

setup() {
	cp_setup
	inbox_state >/dev/null
	CREDS="$XDG_CONFIG_HOME/clientpulse/credentials"
	printf '[hubspot]\ntoken = pat-na1-SSH-SECRET-TOKEN-77\n' >"$CREDS"
	chmod 600 "$CREDS"
}

# ssh_as LOGIN COMMAND: what sshd would run for LOGIN's key
ssh_as() {
	local who=$1
	shift
	SSH_ORIGINAL_COMMAND="$*" clientpulse-shell "$who"
}

@test "ssh: abbreviated identity, state file, config and reject options are refused" {
	local c
	for c in "inbox list --conf /dev/stdin" "inbox list --co=$CREDS" \
	    "account list --conf=/etc/passwd" "inbox list --d $T/other.db" \
	    "audit --conf $CREDS" "search funding --rej $HOME/.ssh/authorized_keys -" \
	    "search funding --reject=$T/x -" "search x --re $T/x -" \
	    "inbox list --as=bob" "inbox list --db=$T/x.db" "inbox list --confi x"; do
		run --separate-stderr ssh_as alice "$c"
		assert_equal "$status" 77
		[[ $stderr == "clientpulse-shell: option not allowed over ssh: "* ]] ||
		    fail "$c: $stderr"
		assert_equal "$output" ""
	done
	[ ! -e "$T/x" ] && [ ! -e "$T/other.db" ] && [ ! -e "$HOME/.ssh" ]
	# what is allowed still works
	run ssh_as alice "inbox list --json"
	assert_equal "$status" 0
	[ "$(jq -s length <<<"$output")" -ge 3 ]
}

@test "ssh: a reject file would have let a client append a key to authorized_keys" {
	# control: the same search, run directly, writes the rejected line
	mkdir -p "$HOME/.ssh"
	printf 'ssh-ed25519 AAAAC3Nza attacker\xff\n' >line
	run cp-search --reject "$HOME/.ssh/authorized_keys" - <line
	grep -q attacker "$HOME/.ssh/authorized_keys"
	rm "$HOME/.ssh/authorized_keys"
	# over ssh: refused before anything runs
	run --separate-stderr ssh_as alice "search --reject $HOME/.ssh/authorized_keys -" <line
	assert_equal "$status" 77
	[ ! -e "$HOME/.ssh/authorized_keys" ]
}

@test "ssh: --outreach cannot read a server file (the credentials) into a card" {
	run --separate-stderr ssh_as alice "inbox refine $NW_FUND --outreach email=$CREDS"
	assert_equal "$status" 77
	[[ $stderr == *"--outreach CHANNEL=/dev/stdin"* ]] || fail "$stderr"
	run --separate-stderr ssh_as alice "inbox refine $NW_FUND --out=email=$CREDS"
	assert_equal "$status" 77
	run --separate-stderr ssh_as alice "inbox refine $NW_FUND --outreach"
	assert_equal "$status" 77
	run sqlite3 "$CLIENTPULSE_DB" .dump
	refute_output --partial "SSH-SECRET"
	# the text from the client's own standard input is fine
	run --separate-stderr ssh_as alice "inbox refine $NW_FUND --outreach email=/dev/stdin" \
	    <<<"Subject: hello
Dear CFO, congratulations."
	assert_equal "$status" 0
	run ssh_as alice "inbox show $NW_FUND --json"
	assert_equal "$(jq -r '.outreach[] | select(.channel == "email") | .body' <<<"$output")" \
	    "Dear CFO, congratulations."
}

@test "ssh: import reads standard input only, never a server file" {
	run --separate-stderr ssh_as root "account import $CREDS"
	assert_equal "$status" 77
	[[ $stderr == *"import reads standard input only"* ]] || fail "$stderr"
	run --separate-stderr ssh_as root "account import --tenant acme /etc/passwd"
	assert_equal "$status" 77
	run --separate-stderr ssh_as root "account import -" \
	    <<<'{"id":"viassh","name":"Via SSH Ltd"}'
	assert_equal "$status" 0
	run cp-account show viassh --json
	assert_equal "$(jq -r .name <<<"$output")" "Via SSH Ltd"
}

@test "ssh -t: the pager is no shell (less in secure mode)" {
	# control: the inbox's pager, run directly, obeys "!cmd"
	CLIENTPULSE_PAGER=less run "$PTY" "!touch $T/proof-direct\\n|q" \
	    cp-inbox show "$NW_FUND"
	[ -e "$T/proof-direct" ] || skip "the pager did not start on this terminal"
	# over ssh the same keys do nothing
	SSH_ORIGINAL_COMMAND="inbox show $NW_FUND" run "$PTY" \
	    "!touch $T/proof-ssh\\n|\\n|q|q" clientpulse-shell alice
	[ ! -e "$T/proof-ssh" ] || fail "a shell command ran from the pager"
	assert_output --partial "Northwind"
}

@test "ssh -t: refine opens no editor (vi would be a shell)" {
	# control: refine on a terminal opens $EDITOR, and vi runs ":!cmd"
	EDITOR=vi run "$PTY" ":!touch $T/proof-vi\\n|\\n|:q!\\n" \
	    cp-inbox refine "$NW_FUND"
	[ -e "$T/proof-vi" ] || skip "vi did not start on this terminal"
	SSH_ORIGINAL_COMMAND="inbox refine $NW_FUND" run "$PTY" \
	    ":!touch $T/proof-vi-ssh\\n|\\n|:q!\\n" clientpulse-shell alice
	[ ! -e "$T/proof-vi-ssh" ] || fail "a shell command ran from the editor"
	assert_output --partial "no editor over ssh"
	[ "$status" -ne 0 ]
}
