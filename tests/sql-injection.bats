#!/usr/bin/env bats
# tests/sql-injection.bats — text that means something to SQL, to LIKE or
# to FTS5, everywhere a person or a feed can put text: account names and
# ids, card titles, filters, audit queries, asset and card searches.
# Every statement is prepared with bound values (db.h), so quotes are
# text; filters compare with = (never LIKE), so % and _ are text; search
# queries are parsed into quoted FTS5 strings (search.h, cp_fts_terms),
# so no input is a column filter, a NEAR group or an FTS5 syntax error.
# NUL cannot reach a command line; on stdin it is refused with its line.
# (fuzz_search and fuzz_import check the FTS5 property on any input.)

load helper
bats_require_minimum_version 1.5.0

EVIL=(
	"O'Brien & Sons"
	"Robert'); DROP TABLE accounts;--"
	"x\" OR \"1\"=\"1"
	"100% Pure_Water"
	"%"
	"_"
	"\\'; SELECT * FROM users; --"
	"NEAR(acme beta) title:x ^y * \"unclosed"
	"Ünïcödé — 日本語 😀"
)

setup_file() {
	# one state for the suite (cards made by cp-card take a while); each
	# test works on its own copy.  In a subshell with its own directory:
	# cp_setup needs a test directory, which setup_file does not have.
	(
		BATS_TEST_TMPDIR="$BATS_FILE_TMPDIR/fixture"
		mkdir -p "$BATS_TEST_TMPDIR"
		cp_setup || exit 1
		source "$FIXTURES/inbox/inbox.bash"
		inbox_state >/dev/null 2>&1 || exit 1
		sqlite3 "$CLIENTPULSE_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
		cp "$CLIENTPULSE_DB" "$BATS_FILE_TMPDIR/state.db"
		printf 'NW_FUND=%s\n' "$NW_FUND" >"$BATS_FILE_TMPDIR/ids"
	)
}

setup() {
	cp_setup
	cp "$BATS_FILE_TMPDIR/state.db" "$CLIENTPULSE_DB"
	source "$BATS_FILE_TMPDIR/ids"
	export CLIENTPULSE_NOW=2026-11-25T12:00:00Z
	NACC=$(sqlite3 "$CLIENTPULSE_DB" 'SELECT count(*) FROM accounts')
}

# no message may be SQLite's own
refute_sql_error() {
	[[ $1 != *"syntax error"* && $1 != *"fts5"* && $1 != *"SQL"* &&
	    $1 != *"unrecognized token"* && $1 != *"no such column"* ]] ||
	    fail "an SQL error reached the user: $1"
}

@test "sql: account names full of quotes, %, _ and SQL are stored and shown as written" {
	local n
	for n in "${EVIL[@]}"; do
		run --separate-stderr cp-account add --name "$n" -q
		assert_equal "$status" 0
		refute_sql_error "$stderr"
	done
	# every name back exactly, nothing else changed
	run cp-account list --json
	assert_equal "$status" 0
	assert_equal "$(jq -s length <<<"$output")" $((NACC - 1 + ${#EVIL[@]}))
	for n in "${EVIL[@]}"; do
		jq -s -e --arg n "$n" 'any(.[]; .name == $n)' <<<"$output" >/dev/null ||
		    fail "name not stored as written: $n"
	done
	# the tables are all there and the other tenant is untouched
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM accounts a JOIN tenants t ON t.id = a.tenant_id WHERE t.name = 'globex'"
	assert_output 1
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM users"
	[ "$output" -ge 7 ]
}

@test "sql: account records imported with hostile ids, names and aliases are rejected or stored exactly" {
	local line
	for line in \
	    '{"id":"x'"'"'; DROP TABLE accounts;--","name":"A"}' \
	    '{"id":"%","name":"percent"}' \
	    '{"name":"Q\"uote","aliases":["'"'"' OR 1=1 --","%_%"],"domain":"q.example"}' \
	    '{"name":"nul","domain":"a\u0000b.example"}'; do
		run --separate-stderr cp-account import <<<"$line"
		[ "$status" -eq 0 ] || assert_equal "$status" 65
		refute_sql_error "$stderr"
	done
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM accounts"
	[ "$output" -ge "$NACC" ]
	run cp-account list --json
	jq -s -e 'any(.[]; .name == "Q\"uote" and (.aliases | index("%_%")))' \
	    <<<"$output" >/dev/null
	# a NUL inside a value never reaches the state file
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM accounts WHERE instr(CAST(id || name || coalesce(domain, '') || aliases || meta AS BLOB), x'00') > 0"
	assert_output 0
}

@test "sql: filters are values, never SQL or LIKE patterns" {
	local v
	for v in "%" "_" "northwind' OR '1'='1" "x\" OR 1=1 --" "%northwind%" \
	    "northwind'--"; do
		run --separate-stderr cp-inbox list --all --account "$v" --json
		refute_sql_error "$stderr"
		assert_equal "$(jq -s length <<<"$output")" 0
		run --separate-stderr cp-inbox list --all --theme "$v" --json
		refute_sql_error "$stderr"
		assert_equal "$(jq -s length <<<"$output")" 0
		run --separate-stderr cp-audit --entity "$v" --json
		refute_sql_error "$stderr"
		assert_equal "$(jq -s length <<<"$output")" 0
		run --separate-stderr cp-audit --user "$v" --json
		refute_sql_error "$stderr"
		assert_equal "$(jq -s length <<<"$output")" 0
		run --separate-stderr cp-account list --owner "$v" --json
		refute_sql_error "$stderr"
		assert_equal "$(jq -s length <<<"$output")" 0
		run --separate-stderr cp-search --account "$v" --json funding
		refute_sql_error "$stderr"
		[ "$status" -ne 0 ] || assert_equal "$(jq -s length <<<"$output")" 0
	done
	# the honest filter still works
	run cp-inbox list --all --account northwind --json
	[ "$(jq -s length <<<"$output")" -ge 3 ]
}

# every query: found (0), nothing found (0 or 1), or "no words" (64/65);
# never an SQL or FTS5 error
QUERIES=(
	'NEAR(cloud migration, 2)' 'title:cloud' 'summary:x' '"' '*' '**x'
	'cloud AND' 'AND' 'OR' 'NOT' 'OR OR OR' '(' ')' '(cloud' "'" "''"
	'%' '_' '^cloud' '{title summary}: cloud' 'a"b' 'cloud* y*' '+cloud'
	'cloud -' '"unclosed phrase' "x' OR 1=1 --" '; DROP TABLE cards;'
	'\' '\"' 'cloud:*' 'c*' 'Ünïcödé 日本語' "$(printf 'a\tb\rc')"
)

@test "sql: cp-asset search takes FTS5 syntax as text, never as an error" {
	local q
	for q in "${QUERIES[@]}"; do
		run --separate-stderr cp-asset search --json -- "$q"
		case $status in 0|1|64) ;; *) fail "[$q]: status $status: $stderr" ;; esac
		refute_sql_error "$stderr"
	done
	# a word that names assets still finds them, wrapped in syntax
	# (each word run is one quoted FTS5 string: "NEAR" would be a word)
	run cp-asset search --json -- '"finance' '(finance)*' 'finance^'
	assert_equal "$status" 0
	[ "$(jq -s length <<<"$output")" -ge 1 ]
}

@test "sql: cp-search takes FTS5 syntax as text, from arguments and from stdin" {
	local q
	for q in "${QUERIES[@]}" '-cloud' '-"a b"' '- -'; do
		run --separate-stderr cp-search --json -- "$q"
		case $status in 0|1|64|65) ;; *) fail "[$q]: status $status: $stderr" ;; esac
		refute_sql_error "$stderr"
	done
	# one query a line on stdin: a NUL byte is refused with its line
	printf 'finance\nNEAR(x\0y)\n"\ntitle:cloud\n' >queries
	run --separate-stderr cp-search --json - <queries
	refute_sql_error "$stderr"
	[[ $stderr == *"<stdin>:2: NUL byte"* ]] || fail "$stderr"
}

@test "sql: a card title full of quotes and FTS5 syntax is stored, shown and found as text" {
	local title="Northwind's \"big\" 100% deal_x: NEAR(a b) OR title:* ; DROP TABLE cards;--"
	run --separate-stderr cp-inbox refine "$NW_FUND" --title "$title"
	assert_equal "$status" 0 || fail "$stderr"
	refute_sql_error "$stderr"
	run cp-inbox show "$NW_FUND" --json
	assert_equal "$(jq -r .title <<<"$output")" "$title"
	run --separate-stderr cp-search --json --type card -- "deal_x"
	assert_equal "$status" 0
	assert_equal "$(jq -r '.id' <<<"$output" | head -1)" "$NW_FUND"
	run --separate-stderr cp-search --json --type card -- 'NEAR(a b)'
	refute_sql_error "$stderr"
	run sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM cards"
	[ "$output" -ge 7 ]
}
