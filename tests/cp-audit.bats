#!/usr/bin/env bats
# cp-audit (clientpulse audit): listing the hash-chained audit log within
# the caller's scope, and --verify finding tampering done with the sqlite3
# shell the way an attacker would (drop the append-only triggers first).

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

# some history: decisions by alice and bob, a grant, globex's own entries
history() {
	inbox_state
	cp-inbox --as alice approve "$NW_CFO" --note "first" -q
	cp-inbox --as bob reject "$CO_COST" --reason already_known -q
	cp-inbox --as alice refine "$NW_FUND" --title "Series C" -q
	cp-inbox --as gil approve "$IN_FUND" -q
}

untrigger() {
	db "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete"
}

# rehash FROM: recompute the hashes of entries FROM.. as an attacker who
# knows the format would (lib/audit.c), so only an anchor can tell
rehash() {
	python3 - "$CLIENTPULSE_DB" "$1" <<-'PY'
	import hashlib, json, sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	rows = db.execute("SELECT seq, ts, tenant_id, actor, action, entity_type, entity_id,"
	                  " diff, reason, prev_hash FROM audit WHERE seq >= ? ORDER BY seq",
	                  (int(sys.argv[2]),)).fetchall()
	prev = rows[0][9]
	for seq, ts, tid, actor, action, et, eid, diff, reason, _ in rows:
	    e = {"seq": seq, "ts": ts, "tenant_id": tid, "actor": actor, "action": action,
	         "entity_type": et, "entity_id": eid, "diff": diff, "reason": reason}
	    text = prev + "\n" + json.dumps(e, sort_keys=True, separators=(",", ":"),
	                                    ensure_ascii=False)
	    h = hashlib.sha256(text.encode()).hexdigest()
	    db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
	    prev = h
	db.commit()
	PY
}

@test "list: the tenant's entries in order, with what changed and why" {
	history
	run cp-audit --as "$ADMIN"
	assert_success
	assert_line --index 0 --regexp '^ *SEQ +TIME +ACTOR +ACTION +ENTITY +REASON +CHANGE$'
	assert_line --regexp "card\.approve +card $NW_CFO +first +status=\"approved\" version=2\$"
	assert_line --regexp "card\.reject +card $CO_COST +already_known +status=\"rejected\" version=2\$"
	assert_line --regexp "card\.refine +card $NW_FUND +title=\"Series C\" version=2\$"
	assert_line --regexp "tenant\.create +tenant acme +created\$"
	# globex's entries are globex's
	refute_output --partial "$IN_FUND"
	refute_output --partial "tenant globex"
	run cp-audit --as gary --json
	assert_success
	assert_equal "$(jq -r 'select(.entity_type == "card") | .entity_id' <<<"$output" | sort -u)" "$IN_FUND"
	assert_equal "$(jq -r .tenant <<<"$output" | sort -u)" globex
}

@test "--json: one entry per line, the diff as JSON, the chain hashes" {
	history
	run cp-audit --as "$ADMIN" --json --entity "$NW_CFO"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -c '[.action,.diff.old,.diff.new.status]' <<<"${lines[0]}")" \
	    '["card.create",null,"pending_review"]'
	assert_equal "$(jq -c '[.action,.entity_type,.reason,.diff.old.status,.diff.new.status,.tenant]' <<<"${lines[1]}")" \
	    '["card.approve","card","first","pending_review","approved","acme"]'
	assert_equal "$(jq -r .hash <<<"${lines[1]}")" "$(db "SELECT hash FROM audit WHERE entity_id = '$NW_CFO' AND action = 'card.approve'")"
	assert_equal "$(jq -r .prev_hash <<<"${lines[1]}")" \
	    "$(db "SELECT hash FROM audit WHERE seq = (SELECT seq - 1 FROM audit WHERE action = 'card.approve' AND entity_id = '$NW_CFO')")"
}

@test "filters: --entity, --user (with or without 'via'), --since" {
	history
	run cp-audit --as "$ADMIN" --json --user alice
	assert_success
	assert_equal "$(jq -r .action <<<"$output" | tr '\n' ' ')" "card.approve card.refine "
	run cp-audit --as "$ADMIN" --json --user ali
	assert_output ""
	run cp-audit --as "$ADMIN" --json --entity contoso
	assert_equal "$(jq -r .action <<<"$output" | sort -u | tr '\n' ' ')" "access.grant account.create "
	CLIENTPULSE_NOW=2026-11-26T12:00:00Z cp-inbox --as alice approve "$FB_EXP" -q
	run cp-audit --as "$ADMIN" --json --since 2026-11-26T00:00:00Z
	assert_equal "$(jq -r .entity_id <<<"$output")" "$FB_EXP"
	CLIENTPULSE_NOW=2026-11-26T13:00:00Z run cp-audit --as "$ADMIN" --json --since 2h
	assert_equal "$(jq -r .entity_id <<<"$output")" "$FB_EXP"
	run cp-audit --as "$ADMIN" --since lately
	assert_equal "$status" 64
}

@test "scope: a manager sees the team's accounts, cards and people; AMs and viewers none" {
	history
	cp-user add olga --role am -q
	cp-account import -q <<<'{"id":"umbrella","name":"Umbrella Corp","owner":"olga"}'
	run cp-audit --as mona --json
	assert_success
	assert_output --partial "\"entity_id\":\"$NW_CFO\""
	assert_output --partial "\"entity_id\":\"$CO_COST\""
	assert_output --partial '"entity_type":"user","entity_id":"alice"'
	refute_output --partial '"entity_id":"umbrella"'
	refute_output --partial '"entity_id":"olga"'
	refute_output --partial '"entity_type":"tenant"'
	for who in alice vera; do
		run cp-audit --as "$who"
		assert_equal "$status" 77
		assert_output --regexp "^cp-audit: permission denied: role (am|viewer) may not read the audit log\$"
	done
}

@test "--verify: an intact chain, its entry count and head hash" {
	history
	run cp-audit --as "$ADMIN" --verify
	assert_success
	n=$(db "SELECT count(*) FROM audit")
	head=$(db "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")
	assert_output "entries  $n
head     $head
chain    intact"
	run cp-audit --as "$ADMIN" --verify --json
	assert_equal "$output" "{\"entries\":$n,\"head\":\"$head\",\"intact\":true,\"first_bad\":null,\"problem\":null}"
	run clientpulse audit --as "$ADMIN" --verify
	assert_success
	# admins only: the chain spans every tenant of the file
	run cp-audit --as mona --verify
	assert_equal "$status" 77
	assert_output "cp-audit: permission denied: role manager may not verify the audit chain"
	run cp-audit --as gary --verify
	assert_success
	measure "audit chain: $n entries verified"
}

@test "--verify: a row changed with the sqlite3 shell is found (exit 1)" {
	history
	seq=$(db "SELECT seq FROM audit WHERE entity_id = '$CO_COST' AND action = 'card.reject'")
	# the triggers stop the obvious attempt
	run db "UPDATE audit SET reason = 'not_relevant' WHERE seq = $seq"
	assert_failure
	assert_output --partial "audit log is append-only"
	untrigger
	db "UPDATE audit SET reason = 'not_relevant' WHERE seq = $seq"
	run cp-audit --as "$ADMIN" --verify
	assert_equal "$status" 1
	assert_line "chain    broken at entry $seq: entry content does not match its hash"
	assert_line "cp-audit: audit chain broken at entry $seq: entry content does not match its hash"
	assert_line --regexp '^head     [0-9a-f]{64}$'
	run --separate-stderr cp-audit --as "$ADMIN" --verify --json
	assert_equal "$status" 1
	assert_equal "$(jq -c '[.intact,.first_bad]' <<<"$output")" "[false,$seq]"
}

@test "--verify: a rehashed row breaks the link to the next; a deleted one leaves a gap" {
	history
	untrigger
	seq=$(db "SELECT seq FROM audit WHERE entity_id = '$NW_CFO' AND action = 'card.approve'")
	db "UPDATE audit SET actor = 'mallory' WHERE seq = $seq"
	python3 - "$CLIENTPULSE_DB" "$seq" <<-'PY'
	import hashlib, json, sqlite3, sys
	db = sqlite3.connect(sys.argv[1]); s = int(sys.argv[2])
	r = db.execute("SELECT seq, ts, tenant_id, actor, action, entity_type, entity_id, diff,"
	               " reason, prev_hash FROM audit WHERE seq = ?", (s,)).fetchone()
	e = dict(zip(("seq", "ts", "tenant_id", "actor", "action", "entity_type",
	              "entity_id", "diff", "reason"), r[:9]))
	h = hashlib.sha256((r[9] + "\n" + json.dumps(e, sort_keys=True, separators=(",", ":"),
	                    ensure_ascii=False)).encode()).hexdigest()
	db.execute("UPDATE audit SET hash = ? WHERE seq = ?", (h, s)); db.commit()
	PY
	run cp-audit --as "$ADMIN" --verify
	assert_equal "$status" 1
	assert_line "chain    broken at entry $((seq + 1)): previous-hash link does not match the entry before"
	# put it back (rehash from there) and delete an entry in the middle
	db "UPDATE audit SET actor = 'alice (via $ADMIN)' WHERE seq = $seq"
	rehash "$seq"
	[ "$(db "SELECT actor FROM audit WHERE seq = $seq")" != mallory ]
	db "DELETE FROM audit WHERE seq = 5"
	run cp-audit --as "$ADMIN" --verify
	assert_equal "$status" 1
	assert_line "chain    broken at entry 5: entry missing (sequence gap)"
}

@test "--anchor: a rewritten or truncated log no longer holds the recorded head" {
	history
	anchor=$(cp-audit --as "$ADMIN" --verify --json | jq -r .head)
	cp-inbox --as alice approve "$FB_EXP" -q
	run cp-audit --as "$ADMIN" --verify --anchor "$anchor"
	assert_success
	# an attacker rewrites an old entry and every hash after it: the chain
	# is consistent again, but the anchor is gone
	untrigger
	db "UPDATE audit SET reason = 'nothing to see' WHERE seq = 3"
	rehash 3
	run cp-audit --as "$ADMIN" --verify
	assert_success
	run cp-audit --as "$ADMIN" --verify --anchor "$anchor"
	assert_equal "$status" 1
	assert_line "chain    anchor $anchor not found: the log was truncated or rewritten after it"
	# truncating the tail loses the anchor too
	history2=$(db "SELECT max(seq) FROM audit")
	run cp-audit --as "$ADMIN" --verify --anchor "$(db "SELECT hash FROM audit WHERE seq = $history2")"
	assert_success
	db "DELETE FROM audit WHERE seq = $history2"
	run cp-audit --as "$ADMIN" --verify --anchor "$(db "SELECT hash FROM audit WHERE seq = $((history2 - 1))")"
	assert_success
}

@test "usage: --anchor needs --verify and a hash; --verify takes no filters" {
	history
	run cp-audit --anchor "$(printf '%064d' 0)"
	assert_equal "$status" 64
	run cp-audit --verify --anchor xyz
	assert_equal "$status" 64
	run cp-audit --verify --user alice
	assert_equal "$status" 64
	run cp-audit stray
	assert_equal "$status" 64
	run cp-audit --as mallory
	assert_equal "$status" 77
	assert_output "cp-audit: unknown user 'mallory'; an admin can add you with: cp-user add mallory --role am"
}
