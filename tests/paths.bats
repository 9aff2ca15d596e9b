#!/usr/bin/env bats
# tests/paths.bats — files as an attack surface: what ClientPulse reads
# (`cp-fetch --file` with "..", symbolic links, FIFOs and devices) and
# what it writes (the state file, reject files), under a hostile umask
# and with symbolic links planted where it writes.
#
#   reading   a named path is read as named (the caller chose it), but
#             only a regular file: a FIFO or a device is refused at once,
#             never waited on or read for ever; inside a directory a
#             symbolic link is not followed (a drop folder others can
#             write to must not turn the credentials or the state file
#             into documents that flow to the CRM)
#   writing   data files are created 0600 (0660 for a group-shared state
#             file) whatever the umask, with O_NOFOLLOW: a symbolic link
#             at the path is refused, its target never created or
#             written; the state file is created with O_EXCL and opened
#             by SQLite with SQLITE_OPEN_NOFOLLOW

load helper
bats_require_minimum_version 1.5.0

setup() {
	cp_setup
	cp-init --tenant acme -q
	cp-account add --name "Northwind Labs" --id northwind -q
	SECRET="PATHS-SECRET-$$-$RANDOM"
	mkdir -p private
	printf 'token = %s\n' "$SECRET" >private/credentials
	chmod 600 private/credentials
	mkdir -p drop
	printf '<html><head><title>Northwind Labs update</title></head><body><p>Northwind Labs opens an office in Lisbon.</p></body></html>\n' \
	    >drop/good.html
}

@test "paths: --file on a FIFO with no writer fails at once instead of hanging" {
	mkfifo drop/fifo
	local t0=$SECONDS
	run --separate-stderr timeout 20 cp-fetch --file drop/fifo --file drop/good.html \
	    --account northwind
	[ $((SECONDS - t0)) -lt 10 ]
	assert_equal "$status" 65
	[[ $stderr == *"drop/fifo: not a regular file"* ]] || fail "$stderr"
	# the good file of the same run was still fetched
	assert_equal "$(jq -r .title <<<"$output")" "Northwind Labs update"
}

@test "paths: --file on /dev/zero, /dev/urandom, /dev/stdin is refused, never read for ever" {
	local dev t0=$SECONDS
	for dev in /dev/zero /dev/urandom /dev/null; do
		run --separate-stderr timeout 20 cp-fetch --file "$dev" --account northwind
		assert_equal "$status" 65
		[[ $stderr == *"file $dev: not a regular file"* ]] || fail "$stderr"
		assert_equal "$output" ""
	done
	run --separate-stderr timeout 20 cp-fetch --file /dev/stdin --account northwind \
	    </dev/zero
	assert_equal "$status" 65
	[ $((SECONDS - t0)) -lt 15 ]
}

@test "paths: symbolic links inside a --file directory are not followed" {
	ln -s "$T/private/credentials" drop/creds.html
	ln -s "$CLIENTPULSE_DB" drop/state.html
	ln -s /dev/zero drop/zero.html
	ln -s "$T/nowhere" drop/dangling.html
	ln -s .. drop/up
	ln -s . drop/self
	mkfifo drop/fifo.html
	run --separate-stderr timeout 30 cp-fetch --file drop --account northwind
	assert_equal "$status" 0
	# exactly the one regular file
	assert_equal "$(jq -s length <<<"$output")" 1
	assert_equal "$(jq -r .url <<<"$output")" "file://$T/drop/good.html"
	refute_output --partial "$SECRET"
	refute_output --partial "SQLite format"
}

@test "paths: a named path is resolved: '..' and an explicit symlink read what they name" {
	mkdir -p a/b
	run --separate-stderr cp-fetch --file a/b/../../drop/good.html --account northwind
	assert_equal "$status" 0
	assert_equal "$(jq -r .url <<<"$output")" "file://$T/drop/good.html"
	# a symlink named on the command line is the caller's choice
	cp drop/good.html other.html
	sed -i 's/Lisbon/Porto/' other.html
	ln -s other.html named-link.html
	run --separate-stderr cp-fetch --file named-link.html --account northwind
	assert_equal "$status" 0
	assert_output --partial Porto
	assert_equal "$(jq -r .url <<<"$output")" "file://$T/other.html"
}

@test "paths: a missing or unreadable --file is a per-file error, not a crash" {
	printf 'x' >unreadable.html
	chmod 000 unreadable.html
	run --separate-stderr cp-fetch --file nowhere.html --file drop/good.html \
	    --account northwind
	[ "$status" -ne 0 ]
	[[ $stderr == *"nowhere.html"* ]]
	if [ "$(id -u)" != 0 ]; then
		run --separate-stderr cp-fetch --file unreadable.html --account northwind
	else
		# root reads a mode 000 file: read it as nobody, on a copy
		# of the state file nobody owns (so --as is honoured), with
		# a copy of the binary (the build tree may be out of reach)
		shared=$(mktemp -d /tmp/cp-paths.XXXXXX)
		chmod 1777 "$shared"
		sqlite3 "$CLIENTPULSE_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
		cp "$CLIENTPULSE_DB" "$shared/state.db"
		chown 65534 "$shared/state.db"
		cp unreadable.html "$CP_BIN/cp-fetch" "$shared/"
		chmod 000 "$shared/unreadable.html"
		run --separate-stderr setpriv --reuid=65534 --regid=65534 \
		    --clear-groups env HOME="$shared" XDG_CONFIG_HOME="$shared" \
		    XDG_DATA_HOME="$shared" CLIENTPULSE_DB="$shared/state.db" \
		    "$shared/cp-fetch" --as root --file "$shared/unreadable.html" \
		    --account northwind
		rm -rf "$shared"
	fi
	assert_equal "$status" 65
	[[ $stderr == *"unreadable.html: Permission denied"* ]]
}

@test "paths: a reject file is created 0600 under umask 000 and appended to" {
	umask 000
	printf 'bad one\n' | cp-validate --reject rejects.ndjson 2>/dev/null || true
	[ "$(stat -c %a rejects.ndjson)" = 600 ]
	printf 'bad two\n' | cp-validate --reject rejects.ndjson 2>/dev/null || true
	run cat rejects.ndjson
	assert_output "$(printf 'bad one\nbad two')"
}

@test "paths: a symlink planted at the reject path is refused, its target untouched" {
	ln -s "$T/victim" rejects.ndjson
	printf 'secret line\n' >existing
	ln -s "$T/existing" rejects2.ndjson
	run --separate-stderr cp-validate --reject rejects.ndjson <<<'bad'
	assert_equal "$status" 65
	[[ $stderr == *"rejects.ndjson: Too many levels of symbolic links"* ]] ||
	    fail "$stderr"
	[ ! -e victim ]
	run --separate-stderr cp-extract --reject rejects2.ndjson <<<'bad'
	assert_equal "$status" 65
	assert_equal "$(cat existing)" "secret line"
}

@test "paths: the state file is created 0600 (0660 group-shared) in a 0700 directory, umask 000" {
	umask 000
	run cp-init --db "$T/new/dir/state.db" --tenant acme -q
	assert_equal "$status" 0
	[ "$(stat -c %a new/dir/state.db)" = 600 ]
	[ "$(stat -c %a new/dir)" = 700 ]
	run cp-init --db "$T/shared/state.db" --tenant acme --group-shared -q
	assert_equal "$status" 0
	[ "$(stat -c %a shared/state.db)" = 660 ]
	[ "$(stat -c %a shared)" = 770 ]
	# the WAL and shared-memory files SQLite makes take the file's mode
	cp-account add --db "$T/new/dir/state.db" --name X -q
	local f
	for f in new/dir/state.db-wal new/dir/state.db-shm; do
		[ ! -e "$f" ] || [ "$(stat -c %a "$f")" = 600 ] ||
		    fail "$f: $(stat -c %a "$f")"
	done
}

@test "paths: a symlink at the state file path is refused, not followed" {
	cp "$CLIENTPULSE_DB" "$T/real.db"
	ln -s "$T/real.db" link.db
	run --separate-stderr cp-account list --db "$T/link.db"
	[ "$status" -ne 0 ]
	ln -s "$T/absent.db" dangling.db
	run --separate-stderr cp-init --db "$T/dangling.db" --tenant x
	[ "$status" -ne 0 ]
	[ ! -e absent.db ]
}

@test "paths: a credentials file that is a symlink, or readable by others, is refused" {
	local creds="$XDG_CONFIG_HOME/clientpulse/credentials"
	ln -s "$T/private/credentials" "$creds"
	run "$CP_BUILD/tests/test_config" secret token
	assert_equal "$status" 78
	refute_output --partial "$SECRET"
	rm "$creds"
	cp private/credentials "$creds"
	chmod 640 "$creds"
	run "$CP_BUILD/tests/test_config" secret token
	assert_equal "$status" 78
	assert_output --partial "chmod 600"
	refute_output --partial "$SECRET"
	chmod 600 "$creds"
	run "$CP_BUILD/tests/test_config" secret token
	assert_equal "$status" 0
}

@test "paths: --textfile metrics replace a planted symlink atomically, never write through it" {
	mkdir -p metrics
	printf 'victim\n' >victim
	ln -s "$T/victim" metrics/clientpulse_acme.prom
	umask 000
	run --separate-stderr cp-metrics --textfile "$T/metrics"
	assert_equal "$status" 0
	# the link was replaced by a regular file; its target is untouched
	[ -f metrics/clientpulse_acme.prom ] && [ ! -L metrics/clientpulse_acme.prom ]
	assert_equal "$(cat victim)" "victim"
	grep -q '^clientpulse_' metrics/clientpulse_acme.prom
	# aggregate counts only, readable by the exporter's user by design
	[ "$(stat -c %a metrics/clientpulse_acme.prom)" = 644 ]
	# no temporary file left behind
	assert_equal "$(ls -A metrics | wc -l | tr -d ' ')" 1
}
