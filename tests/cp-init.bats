#!/usr/bin/env bats
# cp-init and the state file layer (lib/db.c): creation, modes, WAL,
# migrations, version checks, location precedence, concurrent writers.

load helper

@test "init creates a 0600 WAL state file and makes the caller admin" {
	run cp-init --tenant acme
	assert_success
	assert_output --partial "tenant acme (created)"
	[ "$(stat -c %a state.db)" = 600 ]
	run sqlite3 state.db 'PRAGMA journal_mode'
	assert_output wal
	run sqlite3 state.db "SELECT t.name, u.login, u.role FROM users u JOIN tenants t ON t.id = u.tenant_id"
	assert_output "acme|$(id -un)|admin"
}

@test "every table is STRICT, and foreign keys are enforced" {
	cp-init -q
	run sqlite3 state.db "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' AND sql NOT LIKE '%STRICT%' AND sql NOT LIKE '%VIRTUAL%'"
	assert_output ""
}

@test "--group-shared creates the file 0660" {
	run cp-init --group-shared -q
	assert_success
	[ "$(stat -c %a state.db)" = 660 ]
}

@test "running init again is harmless" {
	cp-init --tenant acme -q
	sum1=$(sqlite3 state.db 'SELECT count(*) FROM users; SELECT count(*) FROM tenants')
	run cp-init
	assert_success
	assert_output --partial "tenant acme"
	refute_output --partial "created"
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM users; SELECT count(*) FROM tenants')" "$sum1"
}

@test "location: --db beats CLIENTPULSE_DB beats XDG_DATA_HOME" {
	unset CLIENTPULSE_DB
	cp-init -q
	[ -f "$XDG_DATA_HOME/clientpulse/state.db" ]
	CLIENTPULSE_DB="$T/env.db" cp-init -q
	[ -f "$T/env.db" ]
	CLIENTPULSE_DB="$T/env.db" cp-init -q --db "$T/flag.db"
	[ -f "$T/flag.db" ]
}

@test "a missing state file is a clear error with exit 66" {
	run cp-account list
	assert_equal "$status" 66
	assert_output "cp-account: state file $T/state.db does not exist; run 'clientpulse init' (or give --db)"
}

@test "a state file newer than the binary is refused" {
	cp-init -q
	sqlite3 state.db 'PRAGMA user_version = 99'
	run cp-account list
	assert_equal "$status" 78
	assert_output --partial "has schema version 99, newer than this binary understands"
}

@test "an older state file is migrated on open" {
	cp-init -q
	sqlite3 state.db 'PRAGMA user_version = 0'
	# migration 1 is idempotent only in a fresh file: a real old file would
	# lack the tables; simulate one by starting from an empty database
	rm -f state.db*
	sqlite3 old.db 'PRAGMA user_version = 0; CREATE TABLE dummy(x)'
	run cp-init --db old.db -q
	assert_success
	assert_equal "$(sqlite3 old.db 'PRAGMA user_version')" 1
}

@test "a file that is not a database is reported, not crashed on" {
	echo "hello" >state.db
	run cp-account list
	assert [ "$status" -ne 0 ]
	assert [ "$status" -lt 128 ]
	assert_output --partial "state file"
}

@test "a directory where the state file should be is refused" {
	mkdir state.db
	run cp-init
	assert_equal "$status" 66
	assert_output --partial "not a regular file"
}

@test "concurrent inits on a new file: one schema, one tenant, one admin" {
	for i in 1 2 3 4; do cp-init --tenant acme -q & done
	wait
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM tenants')" 1
	assert_equal "$(sqlite3 state.db 'SELECT count(*) FROM users')" 1
	assert_equal "$(sqlite3 state.db 'PRAGMA user_version')" 1
}

@test "two processes writing at once never fail with 'database is locked'" {
	fixture_state
	for p in a b; do
		for i in $(seq 1 150); do
			echo "{\"id\":\"$p$i\",\"name\":\"Company $p $i\",\"domain\":\"$p$i.example\"}"
		done >"$p.ndjson"
	done
	# many small transactions from several writers, interleaved
	(for i in $(seq 1 40); do cp-account import -q <(sed -n "${i}p" a.ndjson) || echo FAIL; done) >w1.out 2>&1 &
	(for i in $(seq 1 40); do cp-account import -q <(sed -n "${i}p" b.ndjson) || echo FAIL; done) >w2.out 2>&1 &
	cp-account import -q a.ndjson >w3.out 2>&1 || echo FAIL >>w3.out &
	cp-account import -q b.ndjson >w4.out 2>&1 || echo FAIL >>w4.out &
	wait
	run cat w1.out w2.out w3.out w4.out
	assert_output ""
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM accounts WHERE tenant_id = 1")" 303
	# every change audited once, in one unbroken sequence
	assert_equal "$(sqlite3 state.db "SELECT count(*) FROM audit WHERE action = 'account.create' AND tenant_id = 1")" 303
	assert_equal "$(sqlite3 state.db "SELECT max(seq) - count(*) FROM audit")" 0
}

@test "--as is refused for a user who neither is root nor owns the file" {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to another user"
	command -v setpriv >/dev/null || skip "setpriv missing"
	fixture_state
	# a directory and file the other user can reach and write
	shared=$(mktemp -d /tmp/cp-shared.XXXXXX)
	chmod 1777 "$shared"
	sqlite3 state.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	cp state.db "$shared/state.db"
	chmod 666 "$shared/state.db"
	# the build tree may sit in a home directory nobody cannot enter
	cp "$CP_BIN/cp-account" "$shared/"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env \
	    CLIENTPULSE_DB="$shared/state.db" HOME=/tmp "$shared/cp-account" list --as alice
	rm -rf "$shared"
	assert_equal "$status" 77
	assert_output --partial "--as is honoured only for root or the owner of the state file"
}
