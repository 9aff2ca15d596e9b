#!/bin/sh
# examples/demo.sh — make demo: the whole pipeline on examples/, offline,
# into a temporary state file, then the inbox.  Nothing outside the
# temporary directory is touched.
set -eu
: "${CP_BIN:?}"
here=$(cd "$(dirname "$0")" && pwd)
PATH="$CP_BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/clientpulse-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export CLIENTPULSE_DB="$work/state.db"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$XDG_CONFIG_HOME/clientpulse"
# Every service points at files under examples/: the demo is offline.
cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[http]
user_agent = "ClientPulse-demo/0.1 (demo@example.com)"
[sec]
base_url = file://$here/sec
www_url = file://$here/sec
since = 3650d
[greenhouse]
base_url = file://$here/jobs/greenhouse
[lever]
base_url = file://$here/jobs/lever
[news]
feed = file://$here/feeds/wire.xml
feed = file://$here/feeds/techdaily.atom
# the CRM is a file here: each action as the CRM would receive it
[push]
targets = file
[file]
path = $work/crm-pushes.ndjson
CONF

step() {
	if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m== %s\033[0m\n' "$*"
	else printf '\n== %s\n' "$*"; fi
}

step "clientpulse init --tenant acme"
clientpulse init --tenant acme
cp-user add mona --role manager --name "Mona Park" -q
cp-user add alice --role am --manager mona --name "Alice Ng" -q
cp-user add bob --role am --manager mona --name "Bob Diaz" -q

step "cp-account import examples/accounts.ndjson"
cp-account import -v "$here/accounts.ndjson"
cp-account list

step "cp-playbook import, cp-asset import"
cp-playbook import "$here/playbooks.ndjson"
cp-asset import "$here/assets.ndjson"

# SEC filings with their text (local files); then every source.  News
# --with-text would fetch the articles from their real hosts, so the demo
# keeps the feed summaries.
step "clientpulse run: fetch | extract | dedupe | score | card"
clientpulse run -v --stage-arg fetch=--source=sec --stage-arg fetch=--with-text
clientpulse run -v

step "clientpulse inbox --as alice (her pending cards)"
COLUMNS=${COLUMNS:-120} clientpulse inbox --as alice

step "clientpulse inbox --all (the tenant, as admin)"
COLUMNS=${COLUMNS:-120} clientpulse inbox --all

first=$(clientpulse inbox --as alice --json 2>/dev/null | head -1 |
    sed -n 's/.*"id":"\(card_[0-9a-f]*\)".*/\1/p')
if [ -n "$first" ]; then
	step "clientpulse inbox show $first"
	COLUMNS=${COLUMNS:-120} clientpulse inbox show "$first" --as alice

	step "clientpulse inbox approve $first --as alice"
	clientpulse inbox approve "$first" --as alice --note "calling them today"

	step "clientpulse run --stages push (the file target: no CRM needed)"
	clientpulse run -v --stages push
	clientpulse push --status
	echo "CRM actions written to the file target:"
	jq -c '{action, state, key, subject: (.payload.subject // .payload.title // .payload.name)}' \
	    "$work/crm-pushes.ndjson" 2>/dev/null || cat "$work/crm-pushes.ndjson"
fi

# Exit 1 from reconcile means findings, which a fresh demo state may well
# have (cards waiting past their review SLA, say): shown, not fatal.
step "clientpulse reconcile (does the state hold together?)"
rc=0
clientpulse reconcile >"$work/findings.ndjson" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
jq -r '"  \(.severity) \(.check) \(.entity): \(.detail)"' "$work/findings.ndjson"

step "clientpulse report --since 30d"
COLUMNS=${COLUMNS:-120} clientpulse report --since 30d
