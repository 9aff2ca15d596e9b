#!/usr/bin/env bats
# cp-user: users, roles, managers, grants; identity from the OS login;
# --as only for root or the state file's owner.

load helper

@test "whoami is the OS login mapped to the state file" {
	cp-init --tenant acme -q
	run cp-user whoami
	assert_success
	assert_output "$(id -un) (admin) in tenant acme"
	run cp-user whoami --json
	assert_equal "$(echo "$output" | jq -r '.role + " " + .tenant')" "admin acme"
}

@test "an unknown login gets exit 77 and how to be added" {
	cp-init -q
	run cp-user whoami --as stranger
	assert_equal "$status" 77
	assert_output "cp-user: unknown user 'stranger'; an admin can add you with: cp-user add stranger --role am"
}

@test "add, set, list; every change audited" {
	cp-init --tenant acme -q
	run cp-user add mona --role manager --name "Mona Lisa" --email mona@example.com
	assert_success
	run cp-user add alice --role am --manager mona
	assert_success
	run cp-user add alice --role am
	assert_equal "$status" 65
	assert_output --partial "already exists"
	run cp-user set alice --role viewer
	assert_success
	run cp-user list --json
	assert_equal "$(echo "$output" | jq -r 'select(.login=="alice") | .role + " " + .manager')" "viewer mona"
	assert_equal "$(sqlite3 state.db "SELECT group_concat(action) FROM audit WHERE entity_type='user' AND entity_id='alice'")" "user.create,user.update"
	run cp-user set alice --no-manager
	assert_equal "$(cp-user list --json | jq -r 'select(.login=="alice") | .manager')" null
}

@test "bad role, bad login, self-management are usage or data errors" {
	cp-init -q
	run cp-user add x --role wizard
	assert_equal "$status" 64
	assert_output --partial "--role: expected admin, manager, am or viewer"
	run cp-user add "bad login" --role am
	assert_equal "$status" 64
	run cp-user add x --role am --manager nosuch
	assert_equal "$status" 65
	cp-user add y --role am
	run cp-user set y --manager y
	assert_equal "$status" 65
	run cp-user add
	assert_equal "$status" 64
	run cp-user frobnicate
	assert_equal "$status" 64
}

@test "only admins administer users" {
	fixture_state
	for who in mona alice vera; do
		run cp-user add z --role am --as "$who"
		assert_equal "$status" 77
		run cp-user grant "$who" northwind --as "$who"
		assert_equal "$status" 77
	done
}

@test "list: admins see the tenant, managers their team, others themselves" {
	fixture_state
	run cp-user list --json --as mona
	assert_equal "$(echo "$output" | jq -r .login | tr '\n' ' ')" "alice bob mona "
	run cp-user list --json --as alice
	assert_equal "$(echo "$output" | jq -r .login)" "alice"
	run cp-user list --json --as gary
	assert_equal "$(echo "$output" | jq -r .login | tr '\n' ' ')" "gary gil "
}

@test "grant and revoke change what a user sees" {
	fixture_state
	assert_equal "$(cp-account list --json --as vera | jq -r .id)" contoso
	run cp-user grant vera northwind nosuch
	assert_equal "$status" 77
	assert_output "cp-user: nosuch: not found or not permitted"
	assert_equal "$(cp-account list --json --as vera | jq -r .id | sort | tr '\n' ' ')" "contoso northwind "
	cp-user revoke vera contoso
	assert_equal "$(cp-account list --json --as vera | jq -r .id)" northwind
	assert_equal "$(sqlite3 state.db "SELECT group_concat(action) FROM audit WHERE action LIKE 'access.%'")" "access.grant,access.grant,access.revoke"
}

@test "cannot grant another tenant's account" {
	fixture_state
	run cp-user grant alice initech
	assert_equal "$status" 77
	assert_output "cp-user: initech: not found or not permitted"
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM account_access WHERE account_id='initech'")" 0
}

@test "a deactivated user can no longer act" {
	fixture_state
	cp-user deactivate bob
	run cp-account list --as bob
	assert_equal "$status" 77
	run cp-user deactivate "$(id -un)"
	assert_equal "$status" 65
	cp-user activate bob
	run cp-account list --as bob
	assert_success
}

@test "a login in two tenants must choose one" {
	fixture_state
	cp-user add alice --role am --as gary --tenant globex
	run cp-account list --as alice
	assert_equal "$status" 77
	assert_output --partial "exists in several tenants; choose one with --tenant NAME"
	run cp-account list --as alice --tenant globex --json
	assert_success
	assert_output ""
}
