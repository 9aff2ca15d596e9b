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
export CLIENTPULSE_HTTP_USER_AGENT="ClientPulse-demo/0.1 (demo@example.com)"

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
