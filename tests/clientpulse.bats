#!/usr/bin/env bats
# The umbrella command and the SSH forced command.

load helper

@test "clientpulse COMMAND runs cp-COMMAND with the same args and status" {
	cp-init -q
	run clientpulse account list --json
	assert_success
	run clientpulse validate --type gadget
	assert_equal "$status" 64
	run clientpulse init --version
	assert_output --regexp '^cp-init '
}

@test "clientpulse finds cp-* beside itself, without PATH" {
	run env PATH=/usr/bin:/bin "$CP_BIN/clientpulse" validate --version
	assert_success
	assert_output --regexp '^cp-validate '
}

@test "an unknown command is a usage error naming it" {
	run clientpulse frobnicate
	assert_equal "$status" 64
	assert_output "clientpulse: 'frobnicate' is not a clientpulse command (no cp-frobnicate); see 'clientpulse --help'"
	run clientpulse ../../bin/sh
	assert_equal "$status" 64
	run clientpulse
	assert_equal "$status" 64
}

@test "clientpulse --help lists the commands; help COMMAND opens the page" {
	run clientpulse --help
	assert_success
	assert_output --partial "inbox"
	assert_output --partial "reconcile"
	command -v man >/dev/null || skip "man not installed"
	MANPAGER=cat PAGER=cat run clientpulse help validate
	assert_success
	assert_output --partial "check ClientPulse records"
}

@test "clientpulse-shell runs allowed commands as the given user" {
	fixture_state
	SSH_ORIGINAL_COMMAND="account list --json" run clientpulse-shell alice
	assert_success
	assert_equal "$(echo "$output" | jq -r .id | sort | tr '\n' ' ')" "fabrikam northwind "
	SSH_ORIGINAL_COMMAND="clientpulse account show 'northwind' --json" run clientpulse-shell alice
	assert_success
	assert_equal "$(echo "$output" | jq -r .id)" northwind
}

@test "clientpulse-shell refuses other commands and identity options" {
	fixture_state
	SSH_ORIGINAL_COMMAND="user add eve --role admin" run clientpulse-shell alice
	assert_equal "$status" 77
	assert_output "clientpulse-shell: command not allowed over ssh: user"
	SSH_ORIGINAL_COMMAND="account list --as mona" run clientpulse-shell alice
	assert_equal "$status" 77
	SSH_ORIGINAL_COMMAND="account list --db=/tmp/x" run clientpulse-shell alice
	assert_equal "$status" 77
	SSH_ORIGINAL_COMMAND="account; sh" run clientpulse-shell alice
	assert [ "$status" -ne 0 ]
	run clientpulse-shell
	assert_equal "$status" 64
}

@test "messages can be JSON lines" {
	run --separate-stderr cp-account list --log-format=json
	assert_equal "$status" 66
	echo "$stderr" | jq -e '.prog == "cp-account" and .level == "error" and (.msg | test("does not exist"))'
}

@test "a credentials file readable by others is refused, with the fix" {
	cp-init -q
	printf '[hubspot]\ntoken = secret-token-123\n' >"$XDG_CONFIG_HOME/clientpulse/credentials"
	chmod 644 "$XDG_CONFIG_HOME/clientpulse/credentials"
	# exercised through the unit test program, which calls cp_secret()
	run "$CP_BUILD/tests/test_config" secret hubspot.token
	assert_equal "$status" 78
	assert_output --partial "mode 0644 is readable by others; run: chmod 600"
	refute_output --partial "secret-token-123"
	chmod 600 "$XDG_CONFIG_HOME/clientpulse/credentials"
	run "$CP_BUILD/tests/test_config" secret hubspot.token
	assert_success
	assert_output "found"
}
