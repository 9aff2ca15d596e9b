# tests/helper.bash — loaded by every bats suite: `load helper`.
#
# Each test gets its own directory, HOME, XDG dirs and state file, so tests
# never see each other's state or the developer's.  Binaries come from
# $CP_BIN (set by tests/run); fixtures from $CP_TOP/tests/fixtures.

bats_load_library bats-support
bats_load_library bats-assert
# run -N and run --separate-stderr need 1.5; say so once for every suite
bats_require_minimum_version 1.5.0

: "${CP_TOP:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${CP_BIN:=$CP_TOP/bin}"
FIXTURES="$CP_TOP/tests/fixtures"
: "${CORPORA:=$CP_TOP/../shared/corpora}"
PATH="$CP_BIN:$PATH"
export PATH CP_TOP FIXTURES CORPORA

cp_setup() {
	T="$BATS_TEST_TMPDIR"
	export HOME="$T/home"
	export XDG_CONFIG_HOME="$T/config"
	export XDG_DATA_HOME="$T/data"
	export CLIENTPULSE_DB="$T/state.db"
	unset CLIENTPULSE_AS CLIENTPULSE_TENANT CLIENTPULSE_CONFIG \
	    CLIENTPULSE_NOW CLIENTPULSE_CREDENTIALS NO_COLOR COLUMNS
	export LC_ALL=C.UTF-8
	mkdir -p "$HOME" "$XDG_CONFIG_HOME/clientpulse" "$XDG_DATA_HOME"
	cd "$T" || return 1
}

setup() {
	cp_setup
}

# A state file with tenant "acme": the caller (whoever runs the suite,
# root in CI) is admin; manager "mona" with AMs "alice" and "bob" under
# her, viewer "vera"; tenant "globex" with its admin "gary" and AM "gil".
# Accounts: northwind (alice), contoso (bob), fabrikam (alice) in acme;
# initech (gil) in globex.
fixture_state() {
	cp-init --tenant acme -q
	cp-user add mona --role manager -q
	cp-user add alice --role am --manager mona -q
	cp-user add bob --role am --manager mona -q
	cp-user add vera --role viewer -q
	cp-account import -q <<'NDJSON'
{"id":"northwind","name":"Northwind Labs","domain":"northwindlabs.com","ticker":"NWLB","cik":"0001234567","industry":"software","segment":"enterprise","tier":1,"owner":"alice","aliases":["Northwind"]}
{"id":"contoso","name":"Contoso","domain":"contoso.com","industry":"retail","segment":"mid-market","tier":2,"owner":"bob"}
{"id":"fabrikam","name":"Fabrikam","domain":"fabrikam.com","industry":"manufacturing","segment":"enterprise","tier":1,"owner":"alice"}
NDJSON
	cp-user grant vera contoso -q
	cp-init --tenant globex -q --as gary
	cp-user add gil --role am --tenant globex --as gary -q
	cp-account import --tenant globex --as gary -q <<'NDJSON'
{"id":"initech","name":"Initech","domain":"initech.com","tier":2,"owner":"gil"}
NDJSON
}

# Print a line for tests/run to show beside the suite's result.
measure() {
	echo "# measure: $*" >&3
}

# killable CMD... &: CMD in the background, to be killed with kill -9,
# with leak checks off: a kill landing while LeakSanitizer inspects the
# process at its exit makes it print "unable to get registers", a report
# about the kill, not about the code.  Always with &: exec makes the
# background job CMD itself, so $! is its pid.  The runs that follow a
# kill are leak-checked as everywhere else.
killable() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
	exec "$@"
}
