# cp-dedupe throughput (issue 4): at least 1.3x `jq -c .` over the same
# signal NDJSON, with 1,000 and with 1,000,000 fingerprints already stored
# (the cost must not depend on how many), peak RSS under 64 MB.
#
# The stored signals are rows exactly as cp-dedupe writes them (signals,
# clusters, dedupe_fingerprints: the same columns and encodings), copied
# from a real cp-dedupe run over a second corpus (another seed: other
# texts from the same kinds of stories about the same account ids).
# Going through cp-extract for a million documents would take the bench
# an hour; copying keeps every column real except the ids and times.  The
# copies leave out the signals' text (cp-dedupe never reads it back; it
# would only make the file gigabytes).  A check before the runs proves
# cp-dedupe reads these rows: a copy of a stored signal, published an
# hour after a prefilled row of it, must be found as its exact duplicate.
#
# When the stored signals were published matters as much as how many
# there are: cp-dedupe compares a signal with those of its own 7-day
# window, so what a lookup costs follows how many signals a week holds,
# not how many weeks are stored.  The flat-cost rows store a history
# published at the measured stream's own rate (it spans a month), ending
# with it: 1,000 stored is a day and a half of it, 1,000,000 four years,
# the state file of a tenant that has run this stream that long.  A last
# row keeps the harder case: the million published within one year, four
# times the stream's rate, so every window holds four times as many
# stored signals as signals arriving.
. "$CP_TOP/tests/bench/lib.sh"
docs="$BENCH_DIR/docs.ndjson"
sigs="$BENCH_DIR/signals.ndjson"
base="$BENCH_DIR/dedupe-base.db"
export CLIENTPULSE_DB="$BENCH_DIR/dedupe.db"

if [ ! -s "$sigs" ]; then
	cp-init --tenant acme -q --db "$BENCH_DIR/accounts.db" 2>/dev/null
	cp-account import -q --db "$BENCH_DIR/accounts.db" \
	    "$BENCH_DIR/accounts.ndjson" 2>/dev/null || true
	cp-extract --db "$BENCH_DIR/accounts.db" "$docs" >"$sigs"
fi
n=$(wc -l <"$sigs")
mb=$(awk -v b="$(wc -c <"$sigs")" 'BEGIN {printf "%.0f", b / 1048576}')
row "dedupe: signals in the run" "$n ($mb MB)" ""

# the rows to copy: the second corpus through cp-extract and cp-dedupe
if [ ! -s "$base" ]; then
	"$CP_TOP/tests/bench/gen" --seed 2 --accounts 200 \
	    --documents "$BENCH_DOCS" --accounts-out "$BENCH_DIR/base-acc.ndjson" \
	    >"$BENCH_DIR/base-docs.ndjson"
	cp-init --tenant acme -q --db "$BENCH_DIR/base-acc.db" 2>/dev/null
	cp-account import -q --db "$BENCH_DIR/base-acc.db" \
	    "$BENCH_DIR/base-acc.ndjson" 2>/dev/null || true
	cp-extract --db "$BENCH_DIR/base-acc.db" "$BENCH_DIR/base-docs.ndjson" \
	    >"$BENCH_DIR/base-sigs.ndjson"
	cp-init --tenant acme -q --db "$base" 2>/dev/null
	cp-dedupe -q --db "$base" "$BENCH_DIR/base-sigs.ndjson" >/dev/null
	rm -f "$BENCH_DIR/base-docs.ndjson" "$BENCH_DIR/base-acc"*
fi

# the measured stream: how many signals a second, and its last second
set -- $(jq -r '.published_at | fromdateiso8601' "$sigs" |
    awk 'NR == 1 || $1 < lo {lo = $1} NR == 1 || $1 > hi {hi = $1}
    END {printf "%.6f %d", NR / (hi - lo + 1), hi + 1}')
rate=$1 end=$2

# a state file with N stored signals published over the SPAN seconds
# before END: row x is a copy of base row (x - 1) % nb + 1, its ids made
# unique by the copy number; each copy of a story begins at a random
# second of the span, its reports as far apart as in the base run; sig
# (signals.seq) ascends with publication, as it does when signals arrive
# in time order.  prefill N SPAN
prefill() {
	rm -f "$CLIENTPULSE_DB" "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
	cp-init --tenant acme -q
	sqlite3 -bail "$CLIENTPULSE_DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
ATTACH '$base' AS b;
CREATE TEMP TABLE src AS
SELECT row_number() OVER (ORDER BY f.sig) AS n, f.published,
    f.published - min(f.published) OVER (PARTITION BY f.cluster_id) AS off,
    f.signal_id, f.cluster_id, f.simhash, f.minhash, f.textkey, f.keys,
    f.pairs, f.postings, s.account_ids, s.document_id, s.source, s.url,
    s.title, s.lang, s.themes, s.entities
FROM b.dedupe_fingerprints f JOIN b.signals s ON s.seq = f.sig;
CREATE TEMP TABLE xs AS
WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < $1)
SELECT x, (x - 1) / (SELECT count(*) FROM src) AS copy,
    (x - 1) % (SELECT count(*) FROM src) + 1 AS n FROM k;
-- each copy of a story at a random time of the span, its reports as far
-- apart as they were (the times in a table of their own: in a view
-- random() would be drawn again)
CREATE TEMP TABLE g AS
SELECT copy, cluster_id, $end - 1 - abs(random() % $2) AS t0
FROM (SELECT DISTINCT xs.copy, s.cluster_id FROM xs JOIN src s ON s.n = xs.n);
CREATE TEMP TABLE pre AS
SELECT row_number() OVER (ORDER BY pub, x) AS sig, pub, t0, copy, n FROM (
    SELECT xs.x, xs.copy, xs.n, g.t0, min(g.t0 + s.off, $end - 1) AS pub
    FROM xs JOIN src s ON s.n = xs.n
    JOIN g ON g.copy = xs.copy AND g.cluster_id = s.cluster_id);
-- ids as cp-dedupe makes them, unique by the copy number: a cluster id
-- begins with the week its story began
CREATE TEMP VIEW rows AS
SELECT p.sig, p.pub, s.*,
    printf('sig_%08x', p.copy) || substr(s.signal_id, 13) AS sid,
    printf('clu_%04x%08x', (p.t0 / 604800) % 65536, p.copy) ||
        substr(s.cluster_id, 17) AS cid,
    printf('doc_%08x', p.copy) || substr(s.document_id, 13) AS did,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.pub, 'unixepoch') AS at
FROM pre p JOIN src s ON s.n = p.n;
BEGIN;
INSERT INTO signals (seq, tenant_id, id, account_ids, document_id,
    cluster_id, source, url, title, text, lang, themes, entities,
    published_at, fetched_at, created_at)
SELECT sig, 1, sid, account_ids, did, cid, source, url, title, '', lang,
    themes, entities, at, at, at FROM rows ORDER BY sig;
INSERT INTO dedupe_fingerprints (sig, tenant_id, published, signal_id,
    cluster_id, simhash, minhash, textkey, keys, pairs, postings)
SELECT sig, 1, pub, sid, cid, simhash, minhash, textkey, keys, pairs,
    postings FROM rows ORDER BY sig;
INSERT INTO clusters (tenant_id, id, lead_signal_id, size, first_published,
    last_published, created_at, updated_at)
SELECT 1, cid, min(sid), count(*), min(at), max(at), min(at), max(at)
FROM rows GROUP BY cid;
COMMIT;
SQL
}

# cp-dedupe must find the prefilled rows: a base signal under a new id,
# an hour after a prefilled copy of it, is that copy's exact duplicate
check_reads() {
	set -- $(sqlite3 -separator ' ' "$CLIENTPULSE_DB" "ATTACH '$base' AS b;
	    SELECT f.signal_id, f.cluster_id, f.published + 3600, bf.signal_id
	    FROM dedupe_fingerprints f JOIN b.dedupe_fingerprints bf
	    ON substr(bf.signal_id, 13) = substr(f.signal_id, 13)
	    WHERE f.textkey IS NOT NULL AND f.published > $end - 86400
	    ORDER BY f.sig LIMIT 1")
	at=$(date -u -d "@$3" +%Y-%m-%dT%H:%M:%SZ)
	cp "$CLIENTPULSE_DB" "$BENCH_DIR/check.db"
	grep -F "\"id\":\"$4\"" "$BENCH_DIR/base-sigs.ndjson" | head -1 |
	    jq -c --arg at "$at" '.id = "sig_bench_check" | .published_at = $at' |
	    cp-dedupe --explain --emit-updates --db "$BENCH_DIR/check.db" \
	    2>&1 >/dev/null | grep -c "exact duplicate in $2 of $1"
	rm -f "$BENCH_DIR/check.db"
}

# the span of N signals at the stream's rate
span() { awk -v n="$1" -v r="$rate" 'BEGIN {printf "%d", n / r}'; }

# the median of three runs, each on a fresh copy of the prefilled file
rate3() {
	cp "$CLIENTPULSE_DB" "$BENCH_DIR/pristine.db"
	for i in 1 2 3; do
		cp "$BENCH_DIR/pristine.db" "$CLIENTPULSE_DB"
		rm -f "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
		echo "$(filter_rate "$sigs" "$@")"
	done | sort -n | sed -n 2p
	mv "$BENCH_DIR/pristine.db" "$CLIENTPULSE_DB"
}
rss_of() {
	cp "$CLIENTPULSE_DB" "$BENCH_DIR/pristine.db"
	BENCH_STDIN="$1" peak_rss_mb cp-dedupe
	mv "$BENCH_DIR/pristine.db" "$CLIENTPULSE_DB"
}

jrate=$(for i in 1 2 3; do echo "$(filter_rate "$sigs" jq -c .)"; done | sort -n |
    sed -n 2p)
row "jq -c . over the signals (signals/s, median of 3)" "$jrate" "baseline"
for stored in 1000 1000000; do
	prefill "$stored" "$(span "$stored")"
	if [ "$stored" = 1000 ]; then
		ok=$(check_reads)
		row "prefilled row found as a duplicate" "$ok" "1"
	fi
	r=$(rate3 cp-dedupe)
	ratio=$(awk -v r="$r" -v j="$jrate" 'BEGIN {printf "%.2f", r / j}')
	ok=$(awk -v x="$ratio" 'BEGIN {print (x >= 1.3) ? "ok" : "MISS"}')
	row "cp-dedupe, $stored stored (signals/s)" "$r" ">= 1.3x jq"
	row "cp-dedupe / jq, $stored stored" "$ratio" ">= 1.3 $ok"
	rss=$(rss_of "$sigs")
	ok=$(awk -v a="$rss" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
	row "cp-dedupe peak RSS, $stored stored (MB)" "$rss" "< 64 $ok"
	eval "rate_$stored=$r"
done
flat=$(awk -v a="$rate_1000" -v b="$rate_1000000" 'BEGIN {printf "%.2f", b / a}')
ok=$(awk -v x="$flat" 'BEGIN {print (x >= 0.8) ? "ok" : "MISS"}')
row "cp-dedupe rate 1,000,000 / 1,000 stored" "$flat" "about 1 (flat) $ok"

# the harder case: a million within one year
prefill 1000000 31536000
r=$(rate3 cp-dedupe)
ratio=$(awk -v r="$r" -v j="$jrate" 'BEGIN {printf "%.2f", r / j}')
row "cp-dedupe, 1,000,000 in one year (signals/s)" "$r" "(4x the stream's rate)"
row "cp-dedupe / jq, 1,000,000 in one year" "$ratio" "(reported)"
rss=$(rss_of "$sigs")
ok=$(awk -v a="$rss" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
row "cp-dedupe peak RSS, 1,000,000 in one year (MB)" "$rss" "< 64 $ok"

# four times the input under new ids: every copy is new work
for k in 1 2 3 4; do sed "s/\"id\":\"sig_/\"id\":\"sig_$k/" "$sigs"; done \
    >"$BENCH_DIR/sig4.ndjson"
prefill 1000 "$(span 1000)"
rss4=$(rss_of "$BENCH_DIR/sig4.ndjson")
ok=$(awk -v a="$rss4" 'BEGIN {print (a < 64) ? "ok" : "MISS"}')
row "cp-dedupe peak RSS, 4x the input (MB)" "$rss4" "< 64, flat $ok"
rm -f "$BENCH_DIR/sig4.ndjson" "$CLIENTPULSE_DB"* "$base" \
    "$BENCH_DIR/base-sigs.ndjson"
