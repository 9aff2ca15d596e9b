# The inbox over 100,000 stored cards (issue 6): the first screen of
# cp-inbox must print in under 50 ms (median wall time of the whole
# process, start-up included).  The cards are inserted with SQL (one
# statement, realistic ~1.5 kB records) into a state file made by the real
# binaries: one tenant, 200 accounts, 10 AMs under 2 managers, 70% of the
# cards pending.  The query plans are checked in tests/cp-inbox.bats.
#
# Prints "name<TAB>value<TAB>target" lines (tests/bench/run aligns them).
# Alone: CP_BIN=bin sh tests/bench/bench-inbox.sh  (BENCH_CARDS=N to vary)
. "${CP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/bench/lib.sh"
set -eu
: "${CP_BIN:?CP_BIN must point at the built binaries}"
PATH="$CP_BIN:$PATH"
n=${BENCH_CARDS:-100000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/cp-bench-inbox.XXXXXX")
# BENCH_KEEP=1 leaves the state file for a look at the plans
[ "${BENCH_KEEP:-}" = 1 ] && echo "# state file: $dir/state.db" || trap 'rm -rf "$dir"' EXIT INT TERM
export CLIENTPULSE_DB="$dir/state.db" XDG_CONFIG_HOME="$dir/config" \
    CLIENTPULSE_NOW=2026-11-25T12:00:00Z COLUMNS=120 LC_ALL=C.UTF-8
unset CLIENTPULSE_AS CLIENTPULSE_TENANT NO_COLOR

cp-init --tenant acme -q
cp-user add mgr1 --role manager -q
cp-user add mgr2 --role manager -q
for i in 1 2 3 4 5 6 7 8 9 10; do
	cp-user add "am$i" --role am --manager "mgr$(( (i - 1) / 5 + 1 ))" -q
done
i=1
while [ $i -le 200 ]; do
	printf '{"id":"acct%03d","name":"Account %03d Holdings","industry":"software","segment":"enterprise","tier":%d,"owner":"am%d"}\n' \
	    $i $i $(( i % 3 + 1 )) $(( (i - 1) % 10 + 1 ))
	i=$((i + 1))
done | cp-account import -q
# the worst case for a scoped list: one account and no cards of its own
# in a tenant of 100,000, so --all walks the whole queue to fill a screen
cp-user add solo --role am -q
echo '{"id":"solo-acct","name":"Solo Account","owner":"solo"}' | cp-account import -q

t0=$(date +%s.%N)
sqlite3 "$CLIENTPULSE_DB" >/dev/null <<SQL
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n),
c AS (
  SELECT i, 'card_' || lower(hex(randomblob(16))) AS id,
         printf('acct%03d', i % 200 + 1) AS account,
         (abs(random()) % 10000) / 100.0 AS score,
         CASE i % 5 WHEN 0 THEN 'funding' WHEN 1 THEN 'leadership_change'
           WHEN 2 THEN 'expansion' WHEN 3 THEN 'layoffs' ELSE 'm_and_a' END AS theme,
         CASE WHEN i % 10 < 7 THEN 'pending_review' WHEN i % 10 < 9 THEN 'approved'
           ELSE 'rejected' END AS status,
         strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-25T12:00:00Z', printf('-%d minutes', i % 40000)) AS created
  FROM k)
INSERT INTO cards(id, tenant_id, account_id, assignee_id, status, version, score,
    theme, playbook_id, cluster_id, title, source, record, first_fetched_at,
    created_at, updated_at, decided_at)
SELECT c.id, 1, c.account, a.owner_id, c.status, 1, c.score, c.theme, 'pb-' || c.theme,
    'clu_' || c.i, 'Account ' || substr(c.account, 5) || ' Holdings: ' || c.theme || ' signal number ' || c.i,
    CASE c.i % 3 WHEN 0 THEN 'sec' WHEN 1 THEN 'news' ELSE 'jobs' END,
    json_object('type', 'card', 'v', 1, 'id', c.id, 'tenant', 'acme',
      'account_id', c.account, 'signal_ids', json_array('sig_' || c.i),
      'cluster_id', 'clu_' || c.i, 'theme', c.theme, 'playbook_id', 'pb-' || c.theme,
      'score', c.score,
      'factors', json_object(
        'impact', json_object('value', 0.8, 'weight', 0.25, 'reason', 'tier 1 enterprise account, large amount'),
        'urgency', json_object('value', 0.7, 'weight', 0.2, 'reason', 'published 2 days ago'),
        'fit', json_object('value', 0.9, 'weight', 0.2, 'reason', 'playbook matches industry and segment'),
        'access', json_object('value', 0.6, 'weight', 0.1, 'reason', 'owner present, no recent contact'),
        'feasibility', json_object('value', 0.8, 'weight', 0.1, 'reason', 'two assets available'),
        'confidence', json_object('value', 0.85, 'weight', 0.15, 'reason', 'newswire 0.85, corroborated twice')),
      'evidence', json_array(json_object('signal_id', 'sig_' || c.i,
        'url', 'https://news.example.com/story/' || c.i,
        'quote', 'Account ' || c.account || ' said it would expand its operations significantly next year.')),
      'title', 'Account ' || substr(c.account, 5) || ' Holdings: ' || c.theme || ' signal number ' || c.i,
      'narrative', 'What happened, why it matters to this account, why now, and the suggested next step, in about three sentences of template text.',
      'outreach', json_array(json_object('channel', 'email', 'subject', 'A thought on your news',
        'body', 'Hello, I saw the news and thought of how we helped a similar company. Would a short call next week work?')),
      'asset_refs', json_array('case-' || c.theme),
      'status', c.status, 'version', 1, 'created_at', c.created),
    c.created, c.created, c.created,
    CASE WHEN c.status = 'pending_review' THEN NULL ELSE c.created END
FROM c JOIN accounts a ON a.tenant_id = 1 AND a.id = c.account;
COMMIT;
ANALYZE;
SQL
t1=$(date +%s.%N)
row "inbox bench set-up: $n cards inserted (s)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" "-"
row "inbox bench state file (MB)" \
    "$(du -m "$CLIENTPULSE_DB" | cut -f1)" "-"

ms() { awk '{printf "%.1f", $1 * 1000}'; }
verdict() { awk -v m="$1" -v l="$2" 'BEGIN {print (m < l) ? "ok" : "MISS"}'; }

first() {
	label=$1; shift
	v=$(median 21 cp-inbox -q "$@" | ms)
	row "inbox first screen, $label (ms)" "$v" "< 50 ms $(verdict "$v" 50)"
}
first "am, own queue (~7,000 pending)" --as am3 --limit 50
first "am, default limit (100 rows)" --as am3
first "manager --all (team of 5)" --as mgr1 --all --limit 50
first "admin --all (70,000 pending)" --limit 50 --all
first "admin --all --min-score 90" --all --min-score 90 --limit 50
first "am --account, --theme filters" --as am3 --account acct003 --theme funding --limit 50
first "worst case: tiny scope --all (empty)" --as solo --all --limit 50

id=$(sqlite3 "$CLIENTPULSE_DB" "SELECT substr(id, 6, 8) FROM cards WHERE assignee_id = (SELECT id FROM users WHERE login = 'am3') LIMIT 1")
v=$(median 21 cp-inbox --as am3 show "$id" | ms)
row "inbox show by id prefix (ms)" "$v" "< 50 ms $(verdict "$v" 50)"
v=$(median 5 cp-inbox --as mgr1 stats | ms)
row "inbox stats, manager, $n cards (ms)" "$v" "-"
t=$(secs cp-inbox export --csv --all --status any)
row "inbox export --csv, admin (cards/s)" \
    "$(awk -v n="$n" -v t="$t" 'BEGIN {printf "%.0f", n / t}')" "-"
