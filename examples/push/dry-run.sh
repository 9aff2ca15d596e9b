#!/bin/sh
# examples/push/dry-run.sh — cp-push with the file target: a card is
# approved and its CRM actions come out as push records, nothing is sent
# anywhere.  Runs offline in a temporary directory:
#
#     CP_BIN=$PWD/bin sh examples/push/dry-run.sh
set -eu
: "${CP_BIN:?}"
here=$(cd "$(dirname "$0")" && pwd)
PATH="$CP_BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/clientpulse-push.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export CLIENTPULSE_DB="$work/state.db"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
export CLIENTPULSE_NOW=2026-11-25T12:00:00Z
mkdir -p "$XDG_CONFIG_HOME/clientpulse"
# the file target only: push records on standard output
cat >"$XDG_CONFIG_HOME/clientpulse/config" <<CONF
[push]
targets = file
[file]
path = -
CONF

echo "== a state file, the example accounts and playbooks"
cp-init --tenant acme -q
cp-user add alice --role am -q
cp-user add bob --role am -q
cp-account import -q "$here/../accounts.ndjson"
cp-playbook import -q "$here/../playbooks.ndjson"

echo "== one opportunity becomes a card; approving it enqueues its actions"
card=$(cp-card -q <"$here/opportunity.ndjson" | sed -n 's/.*"id":"\(card_[0-9a-f]*\)".*/\1/p' | head -1)
cp-inbox approve "$card"
cp-push --status

echo "== cp-push: each action as a push record (what the CRM would get)"
cp-push -v

echo "== the card is pushed; a second run has nothing to do"
cp-push --status
cp-push -v
