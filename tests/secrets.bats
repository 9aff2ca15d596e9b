#!/usr/bin/env bats
# tests/secrets.bats — CRM tokens never leave the credentials file (or the
# environment they came from) except in the Authorization of the request
# they are for.  The whole pipeline runs on examples/ (offline, file://
# sources), an admin approves every card, cp-push sends them to the fake
# CRMs (HubSpot, Salesforce, a webhook; faults included: 401, 500, a
# reset) and to a hostile CRM that echoes the Authorization header back
# in its error bodies; then every output, log (text and JSON), record,
# reject file, push record, audit row and the state file (sqlite3 .dump,
# and the raw bytes of the file and its -wal) is searched for every
# token: none may appear.

load helper
source "$FIXTURES/push/push.bash"
source "$FIXTURES/ops/ops.bash"
bats_require_minimum_version 1.5.0

# secrets given through the environment (the fallback of cp_secret)
ENV_WH_SECRET=whsec-ENV-SECRET-WEBHOOK-9d21c
ENV_EMBED_KEY=sk-ENV-SECRET-EMBED-KEY-51b7
ENV_LLM_KEY=sk-ENV-SECRET-LLM-KEY-0a3f

teardown() {
	local p
	for p in "${CRM_PID:-}" "${ECHO_PID:-}"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# run_logged NAME CMD...: stdout and stderr of CMD into $OUT/NAME.{out,err}
run_logged() {
	local name=$1
	shift
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || true
}

# assert_no_secret FILE...: no token in any of them (raw bytes)
assert_no_secret() {
	local f s
	for f in "$@"; do
		[ -e "$f" ] || continue
		for s in "$HS_TOKEN" "$SF_TOKEN" "$WH_SECRET" "$ENV_WH_SECRET" \
		    "$ENV_EMBED_KEY" "$ENV_LLM_KEY"; do
			if grep -a -q -F -e "$s" "$f"; then
				grep -a -n -F -e "$s" "$f" | cut -c1-300 | head -3
				fail "secret ${s:0:12}… found in $f"
			fi
		done
	done
}

# a CRM that answers every request 500 with the request's headers in the
# body (a broken proxy, a debugging endpoint): the token comes back
start_echo() {
	cat >"$T/echo.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        body = json.dumps({"status": "error", "message": "bad request from "
            + str(self.headers.get("Authorization")), "headers":
            dict(self.headers)}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo-Auth", str(self.headers.get("Authorization")))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PATCH = answer
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
	python3 "$T/echo.py" "$T/echo.port" >"$T/echo.log" 2>&1 3>&- &
	ECHO_PID=$!
	local i
	for i in $(seq 200); do
		[ -s "$T/echo.port" ] && break
		sleep 0.05
	done
	ECHO="http://127.0.0.1:$(cat "$T/echo.port")"
}

@test "secrets: tokens appear in no output, log, record, audit row or state file" {
	OUT="$T/out"
	mkdir -p "$OUT"
	export CLIENTPULSE_EMBED_API_KEY=$ENV_EMBED_KEY
	export CLIENTPULSE_LLM_API_KEY=$ENV_LLM_KEY
	start_crm
	crm POST /_seed '{"companies":[
	    {"id":"2001","domain":"northwindlabs.example","name":"Northwind Labs"},
	    {"id":"2002","domain":"contoso.example","name":"Contoso"},
	    {"id":"2003","domain":"fabrikam.example","name":"Fabrikam"}],
	  "accounts":[
	    {"Id":"001000000000011AAA","Website":"northwindlabs.example","Name":"Northwind Labs"}]}' \
	    >/dev/null
	# the demo's offline sources (ops_config), then the push targets
	ops_config "$T/sources"
	push_config hubspot,salesforce,webhook,file \
	    <"$T/sources/clientpulse/config"
	sed -i "s|^path = -|path = $OUT/pushed.ndjson|" \
	    "$XDG_CONFIG_HOME/clientpulse/config"
	push_credentials
	[ "$(stat -c %a "$XDG_CONFIG_HOME/clientpulse/credentials")" = 600 ]

	# set-up and the pipeline, text and JSON logs, verbose
	cp-init --tenant acme -q
	cp-user add alice --role am -q
	cp-user add bob --role am -q
	cp-account import -q "$EXAMPLES/accounts.ndjson"
	cp-playbook import -q "$EXAMPLES/playbooks.ndjson"
	cp-asset import -q "$EXAMPLES/assets.ndjson"
	run_logged run1 cp-run -v --stage-arg fetch=--source=sec \
	    --stage-arg fetch=--with-text
	run_logged run2 cp-run -v --log-format json
	# the stages one by one too, with reject files
	run_logged fetch cp-fetch --replay -v
	run_logged extract cp-extract -v --reject "$OUT/extract.rej" "$OUT/fetch.out"
	printf '{"not":"a document"}\n' >>"$OUT/extract.in"
	run_logged extract2 cp-extract -v --reject "$OUT/extract.rej" "$OUT/extract.in"
	run_logged score cp-score -v --log-format json --reject "$OUT/score.rej" \
	    "$OUT/extract.out"
	local ncards
	ncards=$(sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM cards")
	[ "$ncards" -ge 3 ] || fail "the pipeline made $ncards cards"
	measure "secrets: pipeline on examples/ made $ncards cards"

	# every card approved, then pushed, with faults on the way
	run_logged list cp-inbox list --all --json
	jq -r .id "$OUT/list.out" | cp-inbox approve - >"$OUT/approve.out" \
	    2>"$OUT/approve.err" || true
	faults '[{"match":"POST /crm/v3/objects/notes$","fault":"401","times":1},
	         {"match":"POST /crm/v3/objects/tasks$","fault":"500","times":1},
	         {"match":"POST /hook","fault":"reset","times":1}]'
	run_logged push1 cp-push -v --no-wait
	run_logged push2 cp-push -v -v --log-format json --no-wait
	run_logged push3 cp-push -v
	run_logged status cp-push --status --json
	[ "$(sqlite3 "$CLIENTPULSE_DB" "SELECT count(*) FROM push_outbox")" -ge 1 ]

	# the webhook secret from the environment instead of the file
	sed -i '/^\[webhook\]/,$d' "$XDG_CONFIG_HOME/clientpulse/credentials"
	export CLIENTPULSE_WEBHOOK_SECRET=$ENV_WH_SECRET
	run_logged push-env cp-push -v --target webhook
	unset CLIENTPULSE_WEBHOOK_SECRET
	push_credentials

	# a CRM that echoes the token in its error bodies and headers
	start_echo
	sed -i "s|^base_url = $CRM|base_url = $ECHO|" \
	    "$XDG_CONFIG_HOME/clientpulse/config"
	run_logged retry cp-push --retry $(sqlite3 "$CLIENTPULSE_DB" \
	    "SELECT id FROM push_outbox WHERE target = 'hubspot' AND
	    state = 'failed' LIMIT 5")
	run_logged echo1 cp-push -v -v --target hubspot --no-wait
	run_logged echo2 cp-push -v --log-format json --target hubspot --no-wait

	# the read side
	run_logged audit cp-audit --json
	run_logged verify cp-audit --verify
	run_logged doctor cp-doctor --json -v
	run_logged search cp-search --json funding
	run_logged report cp-inbox export --json --all

	# everything written, and the state file three ways
	sqlite3 "$CLIENTPULSE_DB" 'PRAGMA wal_checkpoint(PASSIVE)' >/dev/null
	sqlite3 "$CLIENTPULSE_DB" .dump >"$OUT/state.dump"
	assert_no_secret "$OUT"/* "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal" \
	    "$CLIENTPULSE_DB-shm" "$XDG_DATA_HOME"/clientpulse/* \
	    "$XDG_CONFIG_HOME/clientpulse/config"
	# the tokens were really sent, so the test could have failed: the
	# fake CRM and the echo server saw them
	grep -a -q "HTTP 500: bad request from Bearer \[REDACTED\]" \
	    "$OUT"/echo1.err || fail "the echo server's answer was not seen"
	run crm GET /_state
	[ "$(jq '[.hubspot[][]] | length' <<<"$output")" -ge 1 ] ||
	    fail "nothing reached the fake HubSpot"
}

@test "secrets: no command takes a token on its command line" {
	# secrets come from the credentials file or the environment only
	local b
	for b in "$CP_BIN"/cp-* "$CP_BIN"/clientpulse; do
		run "$b" --help
		refute_output --regexp -- '--(token|api-key|secret|password)[ =]'
	done
}

@test "secrets: cp-doctor reads the credentials file; none of it reaches its output or the state file" {
	cp-init --tenant acme -q
	push_credentials
	run cp-doctor --json
	assert_no_secret "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal"
	sqlite3 "$CLIENTPULSE_DB" .dump >dump.sql
	OUT=$T
	assert_no_secret dump.sql
	refute_output --partial "$HS_TOKEN"
}
