#!/usr/bin/env bats
# cp-search: full-text search over cards, signals and assets — ranking on
# a fixture corpus, the caller's scope, hostile queries, the indexes
# following every writer, and the semantic and hybrid rankings against a
# local fake embeddings endpoint (tests/servers/fake_embed.py).

load helper
load fixtures/inbox/inbox
load fixtures/search/search
bats_require_minimum_version 1.5.0

# The state is built once (cp-card, cp-dedupe and the rest take a few
# seconds) and copied for each test.
setup_file() {
	local BATS_TEST_TMPDIR="$BATS_FILE_TMPDIR/fixture"
	mkdir -p "$BATS_TEST_TMPDIR"
	cp_setup
	search_state
	unicode_cards
	# a rival for the CFO card: the same facts (Jane Doe, the CFO
	# appointment) in its narrative and evidence, her name in its title
	SALES=$(add_card acme northwind leadership_change 50 "Jane Doe moves to head of sales at Northwind Labs")
	export SALES
	sqlite3 "$CLIENTPULSE_DB" "VACUUM INTO '$BATS_FILE_TMPDIR/pristine.db'"
	cp cards.ndjson "$BATS_FILE_TMPDIR/"
}

setup() {
	cp_setup
	cp "$BATS_FILE_TMPDIR/pristine.db" "$CLIENTPULSE_DB"
	cp "$BATS_FILE_TMPDIR/cards.ndjson" .
	export CLIENTPULSE_NOW=$NOW
}

teardown() {
	if [ -n "${EMBED_PID:-}" ]; then
		kill "$EMBED_PID" 2>/dev/null || true
		wait "$EMBED_PID" 2>/dev/null || true
	fi
}

db() { sqlite3 "$CLIENTPULSE_DB" "$@"; }

# first ARGS...: the id of the first result (cp-search --json)
first() {
	cp-search --json "$@" | head -1 | jq -r .id
}

# ids ARGS...: the ids found, in order, one line
ids() {
	cp-search --json "$@" | jq -r .id | tr '\n' ' '
}

@test "ranking: the expected top result for a dozen queries" {
	local q opts want got bad=0 n=0
	while IFS='|' read -r q opts want; do
		[ -n "$q" ] || continue
		want=$(eval echo "$want")
		# shellcheck disable=SC2086
		got=$(first $opts "$q")
		n=$((n + 1))
		if [ "$got" != "$want" ]; then
			echo "'$q' $opts: expected $want, got $got"
			bad=$((bad + 1))
		fi
	done <<-'TABLE'
	cfo||$NW_CFO
	chief financial officer|--type signal|sig_nwcfo
	ransomware||sig_coransom
	ransomware|--type asset|cs-adventure-works-ransomware
	job cuts||$CO_LAY
	Blue Harbor||sig_nwfund
	robots||sig_nwma
	Monterrey plant||$FB_EXP
	antitrust||sig_fbprobe
	Series C|--type asset|cs-relecloud-series-c
	expand Europe||$NW_FUND
	month-end close|--type asset|cs-margie-finance-close
	acquire*||$NW_MA
	cafe creme||$CAFE
	head of sales||$SALES
	TABLE
	measure "ranking: $((n - bad))/$n queries with the expected top result"
	[ "$bad" -eq 0 ]
}

@test "results come by kind, each best first; --type and --limit" {
	run cp-search --json cfo
	assert_success
	assert_equal "$(jq -r .search.kind <<<"$output" | uniq | tr '\n' ' ')" "card asset "
	assert_equal "$(jq -r .search.rank <<<"$output" | tr '\n' ' ')" "1 1 2 "
	# the title counts more than the body: Jane Doe is named more often
	# in the CFO card, but in the title of the other
	assert_equal "$(ids --type card --limit 2 'Jane Doe')" "$SALES $NW_CFO "
	run cp-search --json --type asset cfo
	assert_equal "$(jq -r .type <<<"$output" | sort -u)" asset
	run cp-search --json --type card,signal "Northwind"
	assert_equal "$(jq -r .type <<<"$output" | uniq | tr '\n' ' ')" "card signal "
	run cp-search --json --limit 1 Contoso
	assert_equal "$(jq -r .type <<<"$output" | tr '\n' ' ')" "card signal asset "
	# text: two lines a result, kind, short id or date, title, owner
	COLUMNS=100 run cp-search "Monterrey"
	assert_success
	assert_line --index 0 --regexp "^card   ${FB_EXP:5:10}  Fabrikam opens a plant in Monterrey \(Fabrikam, 64, pending_review\)$"
	assert_line --index 2 --regexp "^signal 2026-11-23  Fabrikam opens a plant in Monterrey, Mexico \(news, fabrikam\)$"
	assert_line --index 3 --regexp "^ {19}.*Monterrey"
	while IFS= read -r line; do
		[ "$(printf '%s' "$line" | wc -m)" -le 100 ] || { echo "too wide: $line"; return 1; }
	done <<<"$output"
}

@test "--account and --since narrow the search" {
	# both cards and all three signals name Contoso: shorter ones first
	assert_equal "$(ids --type card,signal --account contoso Contoso)" \
	    "$CO_COST $CO_LAY sig_colay sig_coloss sig_coransom "
	# an account filter leaves out assets: they are nobody's
	run cp-search --json --account contoso ransomware
	assert_equal "$(jq -r .type <<<"$output")" signal
	assert_equal "$(ids --type signal --since 2026-11-20 Contoso)" "sig_colay "
	assert_equal "$(ids --type signal --since 14d Contoso)" "sig_colay sig_coransom "
	assert_equal "$(ids --type card --since 2026-11-24 Contoso)" "$CO_LAY "
	run cp-search --account no-such-account Contoso
	assert_equal "$status" 1
	assert_output ""
}

@test "--json: card, signal and asset records with the search rank and snippet" {
	run cp-search --json Monterrey
	assert_success
	jq -c 'select(.type == "card")' <<<"$output" | cp-validate --type card >/dev/null
	# a signal carries what the state file keeps of it
	assert_equal "$(jq -c 'select(.type == "signal") | del(.text, .search)' <<<"$output")" \
	    '{"type":"signal","v":1,"id":"sig_fbplant","tenant":"acme","account_ids":["fabrikam"],"document_id":"doc_fbplant","cluster_id":"'"$(db "SELECT cluster_id FROM signals WHERE id = 'sig_fbplant'")"'","source":"news","url":"https://news.example.com/fbplant","title":"Fabrikam opens a plant in Monterrey, Mexico","lang":"en","themes":[{"theme":"expansion","confidence":0.9,"evidence":"Fabrikam opens a plant in Monterrey, Mexico","negated":false}],"entities":[],"published_at":"2026-11-23T11:00:00Z","fetched_at":"2026-11-23T11:00:00Z"}'
	assert_equal "$(jq -r 'select(.type == "card") | .status + " " + (.version | tostring) + " " + .account_name' <<<"$output")" \
	    "pending_review 1 Fabrikam"
	assert_equal "$(jq -r 'select(.type == "signal") | .search.snippet' <<<"$output")" \
	    "Fabrikam opened a new factory in Monterrey that will employ 800 people and make industrial pumps…"
	run cp-search --json --type asset ransomware
	assert_equal "$(jq -r '.type + " " + .id + " " + .kind' <<<"$output")" \
	    "asset cs-adventure-works-ransomware case_study"
	# nothing found: exit 1 and no output, as grep does
	run cp-search --json zyzzyva
	assert_equal "$status" 1
	assert_output ""
}

@test "snippets: the match highlighted on a colour terminal, plain elsewhere" {
	run "$FIXTURES/inbox/pty-run" 120 30 cp-search antitrust
	assert_success
	assert_output --partial $'\e[1;33mantitrust\e[22;39m'
	NO_COLOR=1 run "$FIXTURES/inbox/pty-run" 120 30 cp-search antitrust
	refute_output --partial $'\e['
	assert_output --partial "The European Commission opened an antitrust investigation"
	run cp-search antitrust
	refute_output --partial $'\e['
	# fitted to the terminal with an ellipsis; plain ASCII without UTF-8
	run "$FIXTURES/inbox/pty-run" 60 30 cp-search antitrust
	while IFS= read -r line; do
		line=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$line")
		[ "$(printf '%s' "$line" | wc -m)" -le 60 ] || { echo "too wide: $line"; return 1; }
	done <<<"$output"
	assert_output --partial "…"
	LC_ALL=C run "$FIXTURES/inbox/pty-run" 60 30 cp-search antitrust
	assert_output --partial "..."
	refute_output --partial "…"
}

@test "scope: an AM never finds another AM's cards, nor anyone another tenant's anything" {
	# contoso is bob's: alice finds none of its cards or signals (the
	# tenant's assets are everyone's)
	run cp-search --as alice --json Contoso
	assert_success
	assert_equal "$(jq -r .type <<<"$output" | sort -u)" asset
	assert_equal "$(ids --as bob --type card,signal Contoso)" \
	    "$CO_COST $CO_LAY sig_colay sig_coloss sig_coransom "
	# the manager sees the team; the viewer what she was granted
	assert_equal "$(ids --as mona --type card 'jobs OR CFO')" "$NW_CFO $CO_LAY "
	assert_equal "$(ids --as vera --type card,signal 'jobs OR CFO')" "$CO_LAY sig_colay "
	# Adatum is in an acme signal and a globex one: each tenant its own
	assert_equal "$(ids Adatum)" "sig_nwcfo "
	assert_equal "$(ids --as gil --type signal Adatum)" "sig_incfo "
	assert_equal "$(ids --as gary 'Blue Harbor')" "sig_infund "
	# nothing of acme for globex, whatever the words
	run cp-search --as gil --json --type card,signal 'Northwind OR Contoso OR Fabrikam OR cfo OR jobs'
	assert_success
	assert_equal "$(jq -r .tenant <<<"$output" | sort -u)" globex
	assert_equal "$(jq -r .id <<<"$output")" sig_incfo
	# both tenants imported the same assets: each finds its own copy once
	assert_equal "$(ids --as gil --type asset ransomware)" "cs-adventure-works-ransomware "
	# a signal naming no account is the tenant's: admins only
	assert_equal "$(ids tariff)" "sig_sector "
	run cp-search --as mona tariff
	assert_equal "$status" 1
	# scope is in the SQL: the query joins temp.scope
	run --separate-stderr cp-search --as alice -vv --type card cfo
	[[ "$stderr" == *"IN (SELECT account_id FROM temp.scope)"* ]]
}

@test "hostile queries are answered or refused cleanly, never an FTS5 error" {
	local q out st
	while IFS= read -r q; do
		st=0
		out=$(cp-search --json -- "$q" 2>&1 >/dev/null </dev/null) || st=$?
		case $st in 0|1|65) ;; *) echo "'$q': exit $st: $out"; return 1 ;; esac
		if [[ "$out" == *fts5* || "$out" == *syntax* || "$out" == *"SQL logic"* || "$out" == *malformed* ]]; then
			echo "'$q': $out"; return 1
		fi
		if [ $st -eq 65 ] && [[ "$out" != "cp-search: query: "* ]]; then
			echo "'$q': $out"; return 1
		fi
	done <<-'QUERIES'
	"
	""
	"cfo
	c"f"o
	cfo"
	NEAR(cfo jane, 3)
	NEAR/2
	cfo AND
	AND cfo
	cfo NOT
	NOT cfo
	NOT
	(cfo
	cfo)
	()
	title:cfo
	{title body}: cfo
	- title : cfo
	^cfo
	cfo^
	cfo*
	*
	**cfo
	c*o
	-
	--
	- cfo
	-cfo -jane
	+cfo
	cfo OR
	OR
	OR OR OR
	cfo OR OR jane
	:
	rank:1
	rowid = 1
	'; DROP TABLE cards; --
	%_\
	🚀
	🚀 cfo
	a*
	QUERIES
	# some have answers: a stray operator is a word or nothing at all
	assert_equal "$(first '(cfo')" "$NW_CFO"
	assert_equal "$(first 'cfo AND Jane')" "$NW_CFO"
	assert_equal "$(ids --type card 'Contoso NOT jobs')" "$CO_COST "
	assert_equal "$(first '^cfo*')" "$NW_CFO"
	assert_equal "$(first '🚀 cfo')" "$NW_CFO"
	assert_equal "$(ids --type card Contoso)" "$CO_COST $CO_LAY "
	assert_equal "$(ids --type card 'Contoso -jobs')" "$CO_COST "
	assert_equal "$(ids --type card,signal 'cfo OR antitrust')" "$NW_CFO sig_fbprobe "
	# others are refused, saying why
	run cp-search '"'
	assert_equal "$status" 65
	assert_output "cp-search: query: no words to search for"
	run cp-search -- '-cfo -jane'
	assert_equal "$status" 65
	assert_output "cp-search: query: a query of exclusions only finds nothing: add a word to look for"
	run cp-search "$(printf 'cfo \xff\xfe')"
	assert_equal "$status" 65
	assert_output "cp-search: query: query is not valid UTF-8"
	run cp-search "$(head -c 2000 /dev/zero | tr '\0' x)"
	assert_equal "$status" 65
	assert_output "cp-search: query: query longer than 1024 bytes"
	run cp-search $(seq 40)
	assert_equal "$status" 65
	assert_output "cp-search: query: more than 32 terms"
	# control characters are spaces, never sequences on the terminal
	run cp-search $'\ecfo\a\n'
	assert_success
	refute_output --partial $'\e'
	# nothing was harmed
	assert_equal "$(db "SELECT count(*) FROM cards")" 12
	db "INSERT INTO cards_fts(cards_fts, rank) VALUES ('integrity-check', 1)"
}

@test "queries from stdin: one a line; a NUL or a bad line is reported with its number" {
	run --separate-stderr cp-search --json - < <(printf 'cfo\nantitrust\0 probe\n"\n\nantitrust\n')
	assert_equal "$status" 65
	assert_equal "$stderr" "$(printf '%s\n' 'cp-search: <stdin>:2: NUL byte at byte 10' \
	    'cp-search: <stdin>:3: no words to search for')"
	assert_equal "$(jq -r '.search.query + " " + .id' <<<"$output" | tr '\n' ';')" \
	    "cfo $NW_CFO;cfo cs-margie-finance-close;cfo guide-first-90-days;antitrust sig_fbprobe;"
	run cp-search --json - <<<$'cfo\nantitrust'
	assert_success
	printf '"\n' | cp-search - 2>/dev/null && return 1
	run cp-search --json - </dev/null
	assert_equal "$status" 1
}

@test "new signals are indexed before a search; cards follow every writer" {
	# nothing searched yet: the indexes are empty, then caught up
	assert_equal "$(db "SELECT count(*) FROM signals_fts WHERE signals_fts MATCH 'antitrust'")" 0
	assert_equal "$(db "SELECT count(*) FROM cards_fts")" 0
	run --separate-stderr cp-search -v antitrust
	assert_success
	[[ "$stderr" == *"indexing 12 cards and 11 signals"* ]]
	assert_equal "$(db "SELECT value FROM settings WHERE key = 'search.cards_indexed'")" \
	    "$(db "SELECT max(rowid) FROM cards")"
	# nothing new: nothing to do, nothing written
	run --separate-stderr cp-search -v antitrust
	[[ "$stderr" != *indexing* ]]
	assert_equal "$(db "SELECT value FROM settings WHERE key = 'search.signals_indexed'")" \
	    "$(db "SELECT max(seq) FROM signals")"
	# a signal stored later (cp-dedupe) is found by the next search
	echo '{"k":"fbsupply","tenant":"acme","accounts":["fabrikam"],"themes":["partnership"],"at":"2026-11-25T08:00:00Z","source":"news","source_name":"Reuters","title":"Fabrikam signs pump supply deal with Zephyr Marine","text":"Zephyr Marine chose Fabrikam as its sole supplier."}' |
	    full_signals | cp-dedupe -q >/dev/null
	assert_equal "$(ids Zephyr)" "sig_fbsupply "
	# cp-inbox refine: the new title is found, the old words it dropped not
	cp-inbox --as alice refine "$NW_CFO" --title "Okonkwo steps in as finance chief" -q
	assert_equal "$(ids --type card Okonkwo)" "$NW_CFO "
	assert_equal "$(cp-search --json --type card Okonkwo | jq -r .title)" \
	    "Okonkwo steps in as finance chief"
	# an approval (status and version) keeps it findable, as approved
	cp-inbox --as alice approve "$NW_CFO" -q
	assert_equal "$(cp-search --json --type card Okonkwo | jq -r .status)" approved
	# cp-card updating a pending card: the story has a new source
	jq -c 'select(.account_id == "northwind" and .theme == "funding")
	    | .signal_ids += ["sig_quetzal"] | .evidence += [{signal_id: "sig_quetzal",
	      url: "https://news.example.com/quetzal", title: "Quetzal joins",
	      quote: "Quetzal Capital joined the round as a second lead investor.",
	      source_name: "Reuters", published_at: "2026-11-25T08:00:00Z",
	      fetched_at: "2026-11-25T08:00:00Z"}]
	    | .fixture_now = "2026-11-25T09:00:00Z" | .score = 75' \
	    "$INBOX_FIX/opportunities.ndjson" | card_opps >/dev/null
	assert_equal "$(db "SELECT version FROM cards WHERE id = '$NW_FUND'")" 2
	assert_equal "$(ids --type card Quetzal)" "$NW_FUND "
	# a card deleted with the sqlite3 shell leaves the index too
	db "DELETE FROM card_evidence WHERE card_id = '$CAFE';
	    DELETE FROM card_versions WHERE card_id = '$CAFE';
	    DELETE FROM decisions WHERE card_id = '$CAFE';
	    DELETE FROM cards WHERE id = '$CAFE'"
	run cp-search --type card 'cafe creme'
	assert_equal "$status" 1
	# the newest card deleted, and a rowid used before given to the next
	top=$(db "SELECT max(rowid) FROM cards")
	last=$(db "SELECT id FROM cards WHERE rowid = $top")
	db "DELETE FROM card_evidence WHERE card_id = '$last';
	    DELETE FROM card_versions WHERE card_id = '$last';
	    DELETE FROM decisions WHERE card_id = '$last';
	    DELETE FROM cards WHERE id = '$last'"
	cp-search -q cfo >/dev/null
	new=$(add_card acme fabrikam expansion 66 "Fabrikam builds a Yellowknife depot")
	# a rowid the index has seen before
	[ "$(db "SELECT rowid FROM cards WHERE id = '$new'")" -le "$top" ]
	assert_equal "$(ids --type card Yellowknife)" "$new "
	db "INSERT INTO cards_fts(cards_fts, rank) VALUES ('integrity-check', 1)"
	assert_equal "$(db "SELECT count(*) FROM cards_fts")" "$(db "SELECT count(*) FROM cards")"
	assert_equal "$(db "SELECT count(*) FROM search_card_keys")" "$(db "SELECT count(*) FROM cards")"
}

@test "VACUUM keeps the rowids the card index is keyed by; --reindex rebuilds" {
	before=$(db "SELECT group_concat(rowid || id) FROM (SELECT rowid, id FROM cards ORDER BY id)")
	db "DELETE FROM card_evidence WHERE card_id = '$NW_MA'; DELETE FROM card_versions WHERE card_id = '$NW_MA';
	    DELETE FROM cards WHERE id = '$NW_MA'; VACUUM"
	after=$(db "SELECT group_concat(rowid || id) FROM (SELECT rowid, id FROM cards ORDER BY id)")
	assert_equal "$after" "$(sed "s/[0-9]*$NW_MA,\?//" <<<"$before" | sed 's/,$//')"
	db "INSERT INTO cards_fts(cards_fts, rank) VALUES ('integrity-check', 1)"
	assert_equal "$(first cfo)" "$NW_CFO"
	# --reindex: admins only; rebuilds both indexes from their tables
	run cp-search --as alice --reindex
	assert_equal "$status" 77
	db "DELETE FROM cards_fts"
	run cp-search --type card cfo
	assert_equal "$status" 1
	run cp-search --reindex
	assert_success
	assert_equal "$(first cfo)" "$NW_CFO"
	assert_equal "$(first --type signal antitrust)" sig_fbprobe
	db "INSERT INTO cards_fts(cards_fts, rank) VALUES ('integrity-check', 1);
	    INSERT INTO signals_fts(signals_fts, rank) VALUES ('integrity-check', 1)"
	# --index catches up without searching
	run cp-search --index
	assert_success
	assert_output ""
}

@test "a busy state file: the search answers with what is indexed" {
	cp-search -q cfo >/dev/null
	echo '{"k":"nwlate","tenant":"acme","accounts":["northwind"],"themes":["expansion"],"at":"2026-11-25T08:00:00Z","source":"news","source_name":"Reuters","title":"Northwind Labs opens Xanadu lab","text":"A lab."}' |
	    full_signals | cp-dedupe -q >/dev/null
	# another process holds the write lock for three seconds
	(printf 'BEGIN IMMEDIATE;\nUPDATE settings SET value = value WHERE key = "x";\n'; sleep 3; printf 'COMMIT;\n') |
	    sqlite3 "$CLIENTPULSE_DB" &
	sleep 0.5
	t0=$(date +%s%N)
	run --separate-stderr cp-search -v --json Northwind
	t1=$(date +%s%N)
	assert_success
	[[ "$stderr" == *"search index left behind (database is locked)"* ]]
	[ $(( (t1 - t0) / 1000000 )) -lt 2000 ]
	refute_output --partial sig_nwlate
	wait
	assert_equal "$(ids Xanadu)" "sig_nwlate "
}

@test "usage: no query, bad values and stray combinations exit 64" {
	run cp-search
	assert_equal "$status" 64
	assert_line --index 0 "cp-search: no query given (or - to read queries from stdin)"
	run cp-search --limit 0 cfo
	assert_equal "$status" 64
	run cp-search --type cards,widgets cfo
	assert_equal "$status" 64
	assert_line --index 0 "cp-search: --type: expected card, signal or asset (or a list: card,signal), not 'cards,widgets'"
	run cp-search --since yesterday cfo
	assert_equal "$status" 64
	run cp-search --semantic --hybrid cfo
	assert_equal "$status" 64
	run cp-search --index cfo
	assert_equal "$status" 64
	run cp-search --as nobody cfo
	assert_equal "$status" 77
	assert_output --partial "nobody"
}

# plan KIND: the query plan of cp-search's full-text query for KIND
plan() {
	local sql
	sql=$(cp-search --as alice -vv --type "$1" cfo 2>&1 >/dev/null |
	    sed -n 's/^cp-search: debug: sql: //p' | head -1)
	[ -n "$sql" ] || { echo "no SQL traced"; return 1; }
	# unbound parameters are NULL: enough for the planner
	db "CREATE TEMP TABLE IF NOT EXISTS scope(account_id TEXT PRIMARY KEY) WITHOUT ROWID; EXPLAIN QUERY PLAN $sql"
}

@test "query plans: the index drives the search, rows are looked up by rowid" {
	run plan card
	assert_success
	assert_output --partial "SCAN f VIRTUAL TABLE INDEX"
	assert_output --partial "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"
	refute_output --regexp "SCAN c( |$)"
	run plan signal
	assert_output --partial "SCAN f VIRTUAL TABLE INDEX"
	assert_output --partial "SEARCH s USING PRIMARY KEY (seq=?)"
	refute_output --partial "search_signal_keys_account"
	run plan asset
	assert_output --partial "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)"
}

# ---- semantic and hybrid ----------------------------------------------

start_embed() {
	python3 "$CP_TOP/tests/servers/fake_embed.py" "$T/embed.port" "$T/embed.log" \
	    >"$T/embed.out" 2>&1 3>&- &
	EMBED_PID=$!
	local i
	for i in $(seq 200); do
		[ -s "$T/embed.port" ] && break
		sleep 0.05
	done
	EMBED_URL="http://127.0.0.1:$(cat "$T/embed.port")/v1"
}

embed_config() {
	cat >"$XDG_CONFIG_HOME/clientpulse/config" <<-CONF
	[embed]
	url = $EMBED_URL
	model = $1
	timeout = 2
	retries = 1
	CONF
}

@test "semantic: finds what no word matches; vectors stored as float32" {
	start_embed
	embed_config hashbag
	printf '[embed]\napi_key = sk-embed-cred-789\n' >"$XDG_CONFIG_HOME/clientpulse/credentials"
	chmod 600 "$XDG_CONFIG_HOME/clientpulse/credentials"
	run cp-search downsizing
	assert_equal "$status" 1
	run --separate-stderr cp-search --semantic --json -v downsizing
	assert_success
	assert_equal "$(jq -r 'select(.type == "card") | .id' <<<"$output" | head -1)" "$CO_LAY"
	assert_equal "$(jq -r 'select(.type == "signal") | .id' <<<"$output" | head -1)" sig_colay
	[[ "$(jq -r '.search.score' <<<"$output" | head -1)" == 0.* ]]
	# every item in the admin's scope embedded once, in batches; the
	# query once
	n=$(( $(db "SELECT count(*) FROM cards WHERE tenant_id = 1") + $(db "SELECT count(*) FROM signals WHERE tenant_id = 1") + $(db "SELECT count(*) FROM assets WHERE tenant_id = 1") ))
	assert_equal "$(jq -s 'map(.n) | add' "$T/embed.log")" "$((n + 1))"
	[[ "$stderr" == *"embedding $n items with hashbag"* ]]
	assert_equal "$(db "SELECT DISTINCT dim || ' ' || length(vec) || ' ' || model FROM search_vectors")" "64 256 hashbag"
	assert_equal "$(db "SELECT count(*) FROM search_vectors")" "$n"
	# the key: sent, never shown or stored
	assert_equal "$(jq -r .auth "$T/embed.log" | sort -u)" "Bearer sk-embed-cred-789"
	[[ "$stderr$output" != *sk-embed-cred-789* ]]
	! grep -q sk-embed-cred-789 "$CLIENTPULSE_DB"
	# the next search embeds only the query
	cp-search --semantic -q downsizing >/dev/null
	assert_equal "$(tail -1 "$T/embed.log" | jq .n)" 1
	# the stored floats are the vectors: the card's own text comes first
	# when it is the query
	assert_equal "$(cp-search --semantic --json --type card "$(db "SELECT title FROM cards WHERE id = '$FB_EXP'")" | head -1 | jq -r .id)" "$FB_EXP"
}

@test "semantic: scoped like everything else; a changed card is embedded again" {
	start_embed
	embed_config hashbag
	run cp-search --as alice --semantic --json --type card,signal downsizing
	[[ "$output" != *contoso* ]]
	[[ "$output" != *"$CO_LAY"* ]]
	run cp-search --as gil --semantic --json downsizing
	refute_output --partial '"tenant":"acme"'
	# alice's search embedded only alice's items (and the tenant's assets)
	assert_equal "$(db "SELECT count(*) FROM search_vectors v JOIN cards c ON c.rowid = v.rid WHERE v.kind = 'card' AND c.account_id = 'contoso'")" 0
	cp-search --as alice --semantic -q downsizing >/dev/null
	n=$(wc -l <"$T/embed.log")
	cp-inbox --as alice refine "$NW_CFO" --title "Northwind layoffs rumoured" -q
	cp-search --as alice --semantic -q downsizing >/dev/null
	# one request for the changed card, one for the query
	assert_equal "$(tail -n +$((n + 1)) "$T/embed.log" | jq -c .n | tr '\n' ' ')" "1 1 "
	assert_equal "$(db "SELECT v.version FROM search_vectors v JOIN cards c ON c.rowid = v.rid WHERE v.kind = 'card' AND c.id = '$NW_CFO'")" 2
}

@test "hybrid: reciprocal rank fusion of the BM25 and the semantic rankings" {
	start_embed
	embed_config hashbag
	lex=$(cp-search --json --type card --limit 100 restructuring | jq -r .id)
	sem=$(cp-search --semantic --json --type card --limit 100 restructuring | jq -r .id)
	run cp-search --hybrid --json --type card restructuring
	assert_success
	# each card's score is the sum of 1/(60 + rank) over the rankings
	# it is in; the order follows
	while read -r id score; do
		want=$(awk -v a="$(grep -nx "$id" <<<"$lex" | cut -d: -f1)" \
		    -v b="$(grep -nx "$id" <<<"$sem" | cut -d: -f1)" \
		    'BEGIN { s = 0; if (a) s += 1 / (60 + a); if (b) s += 1 / (60 + b); printf "%.9f", s }')
		assert_equal "$(printf '%.9f' "$score")" "$want"
	done < <(jq -r '.id + " " + (.search.score | tostring)' <<<"$output")
	assert_equal "$(jq -r .id <<<"$output" | head -1)" "$CO_LAY"
	assert_equal "$(jq -r .id <<<"$output" | sort | tr '\n' ' ')" "$(sort -u <(echo "$lex") <(echo "$sem") | grep . | tr '\n' ' ')"
	# a word no card has is found through its meaning alone
	assert_equal "$(cp-search --hybrid --json --type card downsizing | head -1 | jq -r .id)" "$CO_LAY"
}

@test "semantic: the endpoint's failures and the configuration" {
	start_embed
	run cp-search --semantic cfo
	assert_equal "$status" 78
	assert_output "cp-search: semantic search needs embed.url and embed.model in the configuration (or CLIENTPULSE_EMBED_URL, CLIENTPULSE_EMBED_MODEL)"
	embed_config broken
	run cp-search --semantic cfo
	assert_equal "$status" 69
	assert_output "cp-search: embeddings (broken): HTTP 500 after 2 attempts"
	embed_config garbage
	run cp-search --semantic cfo
	assert_equal "$status" 76
	assert_output "cp-search: embeddings (garbage): the reply is not 48 embeddings"
	embed_config short
	run cp-search --semantic cfo
	assert_equal "$status" 76
	embed_config nan
	run cp-search --semantic cfo
	assert_equal "$status" 76
	assert_output "cp-search: embeddings (nan): embedding 0 holds a value that is not a number"
	assert_equal "$(db "SELECT count(*) FROM search_vectors")" 0
	# the index of each item is honoured, whatever the order of the reply
	embed_config reversed
	run cp-search --semantic --json downsizing
	assert_equal "$(jq -r .id <<<"$output" | head -1)" "$CO_LAY"
	# another model keeps its own vectors, with its own dimension
	embed_config wide
	run cp-search --semantic --json downsizing
	assert_equal "$(jq -r .id <<<"$output" | head -1)" "$CO_LAY"
	assert_equal "$(db "SELECT model || ' ' || dim FROM search_vectors GROUP BY model ORDER BY model")" \
	    "$(printf 'reversed 64\nwide 96')"
	# the environment is the key's fallback; an unsafe credentials file
	# is refused
	CLIENTPULSE_EMBED_API_KEY=sk-env-321 cp-search --semantic -q cfo >/dev/null
	assert_equal "$(tail -1 "$T/embed.log" | jq -r .auth)" "Bearer sk-env-321"
	printf '[embed]\napi_key = x\n' >"$XDG_CONFIG_HOME/clientpulse/credentials"
	chmod 644 "$XDG_CONFIG_HOME/clientpulse/credentials"
	run cp-search --semantic cfo
	assert_equal "$status" 78
	# unreachable: a port nobody listens on
	kill "$EMBED_PID"; wait "$EMBED_PID" 2>/dev/null || true; EMBED_PID=
	rm "$XDG_CONFIG_HOME/clientpulse/credentials"
	embed_config hashbag
	run cp-search --semantic cfo
	assert_equal "$status" 69
	# --index --semantic embeds ahead of time, and needs no query
	run cp-search --index --semantic
	assert_equal "$status" 69
}

@test "clientpulse search runs cp-search" {
	run clientpulse search --json --type card cfo
	assert_success
	assert_equal "$(head -1 <<<"$output" | jq -r .id)" "$NW_CFO"
}

@test "bash completion: flags, kinds (after a comma too), accounts in scope" {
	complete_words() {
		bash -c '
			source "$1/completions/bash/cp-search"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_cp_search cp-search "${COMP_WORDS[COMP_CWORD]}" ""
			printf "%s\n" "${COMPREPLY[@]}"' _ "$CP_TOP" "$@"
	}
	run complete_words cp-search --hy
	assert_output "--hybrid"
	run complete_words cp-search --type card,s
	assert_output "card,signal"
	CLIENTPULSE_AS=bob run complete_words cp-search --account ""
	assert_output "contoso"
	run complete_words cp-search cfo
	assert_output ""
}

@test "the query language: what a query becomes for FTS5" {
	local q want got
	while IFS='|' read -r q want; do
		got=$(cp-search -vv --type asset -- "$q" 2>&1 >/dev/null </dev/null |
		    sed -n 's/^cp-search: debug: fts: //p')
		[ "$got" = "$want" ] || { echo "'$q': expected $want, got $got"; return 1; }
	done <<-'TABLE'
	cfo jane|"cfo" AND "jane"
	cfo AND jane|"cfo" AND "jane"
	a OR b c|("a") OR ("b" AND "c")
	cloud-native "supply chain" acqui*|"cloud native" AND "supply chain" AND "acqui" *
	ab* abc*|"ab" AND "abc" *
	x -y NOT z|("x") NOT ("y" OR "z")
	title:cfo NEAR(a b)|"title cfo" AND "NEAR a" AND "b"
	"unterminated phrase|"unterminated phrase"
	OR cfo OR|"OR" AND "cfo" AND "OR"
	c"f"o|"c" AND "f" AND "o"
	{title}: ^cfo +x|"title" AND "cfo" AND "x"
	Café 株式会社*|"Café" AND "株式会社" *
	TABLE
}
