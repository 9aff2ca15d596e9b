#!/usr/bin/env bats
# The permission matrix of clientpulse(7), cell by cell: each role × each
# action × each target (an account of the caller's own, another account of
# the same tenant, an account of the other tenant).  Allowed means the
# command succeeds (or, for reads, the card is in what it shows); denied
# means exit 77 (reads: the card is absent) with exactly the words a
# missing object gets, so a denial never tells what exists.
#
# People (fixture_state, plus two accounts nobody in a team owns):
#   admin  the OS user running the suite, acme's admin
#   mona   acme manager of alice and bob      alice, bob  acme AMs
#   vera   acme viewer, granted contoso        olga        acme AM, no manager,
#   gary   globex admin                                    owns umbrella
#   gil    globex AM, owns initech             hooli       globex, no owner
#
# search: cp-search --json WORDS (the card's title) prints the records
# found; allowed means the card is among them.

load helper
load fixtures/inbox/inbox
bats_require_minimum_version 1.5.0

setup() {
	cp_setup
	inbox_state
	cp-user add olga --role am -q
	cp-account import -q <<<'{"id":"umbrella","name":"Umbrella Corp","owner":"olga"}'
	cp-account import --tenant globex --as gary -q <<<'{"id":"hooli","name":"Hooli"}'
	UMB=$(add_card acme umbrella funding 70 "Umbrella raises money")
	HOO=$(add_card globex hooli funding 70 "Hooli raises money")
	# every decision cell starts from this state
	db "VACUUM INTO '$BATS_TEST_TMPDIR/pristine.db'"
}

restore() {
	cp "$BATS_TEST_TMPDIR/pristine.db" "$CLIENTPULSE_DB"
	rm -f "$CLIENTPULSE_DB-wal" "$CLIENTPULSE_DB-shm"
}

login_of() { [ "$1" = admin ] && echo "$ADMIN" || echo "$1"; }

# account TARGET ROLE: the account a target means for a role
account() {
	case $2:$1 in
	admin:own|mona:own|alice:own) echo northwind ;;
	bob:own|vera:own|admin:other) echo contoso ;;
	mona:other) echo umbrella ;;
	alice:other|bob:other|vera:other) echo contoso ;;
	gary:own|gil:own) echo initech ;;
	gary:other|gil:other) echo hooli ;;
	gary:tenant|gil:tenant) echo northwind ;;
	*:tenant) echo initech ;;
	esac
}
# bob's "other" is alice's account, vera's too
account_fix() { case $2:$1 in bob:other|vera:other) echo northwind ;; *) account "$@" ;; esac; }

card_of() {
	case $1 in
	northwind) echo "$NW_FUND" ;; contoso) echo "$CO_LAY" ;;
	initech) echo "$IN_FUND" ;; umbrella) echo "$UMB" ;; hooli) echo "$HOO" ;;
	esac
}

MISSING_CARD=card_0000000000000000000000000000dead
MISSING_ACCOUNT=no-such-account

# run ACTION as ROLE on the card/account of TARGET; echo y (allowed) or n
# (denied), after checking a denial looks exactly like a missing object.
cell() {
	local role=$1 action=$2 target=$3 as acct card out st missing
	as=$(login_of "$role")
	acct=$(account_fix "$target" "$role")
	card=$(card_of "$acct")
	case $action in
	list)
		out=$(cp-inbox --as "$as" --all --status any --json --limit 0) || return 1
		grep -q "\"id\":\"$card\"" <<<"$out" && echo y || echo n
		return ;;
	export)
		st=0
		out=$(cp-inbox --as "$as" export --json --all --status any 2>&1) || st=$?
		if [ $st -eq 77 ]; then
			missing=$(cp-inbox --as "$as" export --json --all --account "$MISSING_ACCOUNT" 2>&1) || true
			[ "$out" = "$missing" ] || { echo "export: '$out' vs '$missing'" >&2; return 1; }
			echo n
		else
			[ $st -eq 0 ] || return 1
			grep -q "\"id\":\"$card\"" <<<"$out" && echo y || echo n
		fi
		return ;;
	search)
		out=$(cp-search --as "$as" --json "$(db "SELECT title FROM cards WHERE id = '$card'")" 2>/dev/null) || true
		grep -q "$card" <<<"$out" && echo y || echo n
		return ;;
	esac
	restore
	local cmd=() mcmd=()
	case $action in
	show) cmd=(cp-inbox --as "$as" show "$card" --json) ;;
	approve) cmd=(cp-inbox --as "$as" approve "$card" -q) ;;
	reject) cmd=(cp-inbox --as "$as" reject "$card" --reason other -q) ;;
	refine) cmd=(cp-inbox --as "$as" refine "$card" --title "refined" -q) ;;
	account-show) cmd=(cp-account --as "$as" show "$acct" --json) ;;
	user-admin)
		# grant a user of the caller's own tenant access to the account
		local who=vera
		case $role in gary|gil) who=gil ;; esac
		cmd=(cp-user --as "$as" grant "$who" "$acct" -q) ;;
	esac
	st=0
	out=$("${cmd[@]}" 2>&1 >/dev/null) || st=$?
	if [ $st -eq 0 ]; then
		echo y
		return
	fi
	# the same command on an object that does not exist
	local x=${cmd[*]}
	case $action in
	account-show|user-admin) missing=${x//"$acct"/$MISSING_ACCOUNT} ;;
	*) missing=${x//"$card"/$MISSING_CARD} ;;
	esac
	local mout mst=0
	read -ra mcmd <<<"$missing"
	mout=$("${mcmd[@]}" 2>&1 >/dev/null) || mst=$?
	if [ "$mst" != "$st" ] || [ "${out//"$card"/ID}" != "${mout//"$MISSING_CARD"/ID}" ] &&
	   [ "${out//"$acct"/ID}" != "${mout//"$MISSING_ACCOUNT"/ID}" ]; then
		echo "$role $action $target: denial '$out' ($st) differs from missing '$mout' ($mst)" >&2
		return 1
	fi
	# a denial is 77, whatever the command
	if [ $st -ne 77 ]; then
		echo "$role $action $target: exit $st: $out" >&2
		return 1
	fi
	echo n
}

# The matrix: y allowed, n denied; columns are own, other, tenant.
MATRIX='
role   action        own other tenant
admin  list          y   y     n
admin  show          y   y     n
admin  approve       y   y     n
admin  reject        y   y     n
admin  refine        y   y     n
admin  export        y   y     n
admin  search        y   y     n
admin  account-show  y   y     n
admin  user-admin    y   y     n
mona   list          y   n     n
mona   show          y   n     n
mona   approve       y   n     n
mona   reject        y   n     n
mona   refine        y   n     n
mona   export        y   n     n
mona   search        y   n     n
mona   account-show  y   n     n
mona   user-admin    n   n     n
alice  list          y   n     n
alice  show          y   n     n
alice  approve       y   n     n
alice  reject        y   n     n
alice  refine        y   n     n
alice  export        y   n     n
alice  search        y   n     n
alice  account-show  y   n     n
alice  user-admin    n   n     n
bob    list          y   n     n
bob    show          y   n     n
bob    approve       y   n     n
bob    reject        y   n     n
bob    refine        y   n     n
bob    export        y   n     n
bob    search        y   n     n
bob    account-show  y   n     n
bob    user-admin    n   n     n
vera   list          y   n     n
vera   show          y   n     n
vera   approve       n   n     n
vera   reject        n   n     n
vera   refine        n   n     n
vera   export        n   n     n
vera   search        y   n     n
vera   account-show  y   n     n
vera   user-admin    n   n     n
gary   list          y   y     n
gary   show          y   y     n
gary   approve       y   y     n
gary   reject        y   y     n
gary   refine        y   y     n
gary   export        y   y     n
gary   search        y   y     n
gary   account-show  y   y     n
gary   user-admin    y   y     n
gil    list          y   n     n
gil    show          y   n     n
gil    approve       y   n     n
gil    reject        y   n     n
gil    refine        y   n     n
gil    export        y   n     n
gil    search        y   n     n
gil    account-show  y   n     n
gil    user-admin    n   n     n
'

check_role() {
	local role=$1 r action own other tenant got want t bad=0 n=0
	while read -r r action own other tenant; do
		[ "$r" = "$role" ] || continue
		for t in own other tenant; do
			want=${!t}
			got=$(cell "$role" "$action" "$t") || { bad=$((bad + 1)); continue; }
			n=$((n + 1))
			if [ "$got" != "$want" ]; then
				echo "$role $action $t: expected $want, got $got"
				bad=$((bad + 1))
			fi
		done
	done <<<"$MATRIX"
	echo "# $role: $n cells checked" >&3
	[ "$bad" -eq 0 ]
}

@test "matrix: admin (acme)" { check_role admin; }
@test "matrix: manager mona" { check_role mona; }
@test "matrix: am alice" { check_role alice; }
@test "matrix: am bob" { check_role bob; }
@test "matrix: viewer vera" { check_role vera; }
@test "matrix: admin gary (globex)" { check_role gary; }
@test "matrix: am gil (globex)" { check_role gil; }

@test "denials: the words for a forbidden and a missing object are the same" {
	run cp-inbox --as alice show "$CO_LAY"
	assert_equal "$status" 77
	assert_output "cp-inbox: $CO_LAY: not found or not permitted"
	run cp-inbox --as alice show "$MISSING_CARD"
	assert_equal "$status" 77
	assert_output "cp-inbox: $MISSING_CARD: not found or not permitted"
	run cp-inbox --as gil approve "$NW_CFO"
	assert_output "cp-inbox: $NW_CFO: not found or not permitted"
	run cp-account --as gil show northwind
	assert_equal "$status" 77
	assert_output "cp-account: northwind: not found or not permitted"
	# even a prefix of another tenant's card is not "ambiguous" for gil
	run cp-inbox --as gil show "${NW_CFO:5:4}"
	assert_equal "$status" 77
	assert_output "cp-inbox: ${NW_CFO:5:4}: not found or not permitted"
}

@test "scope is in the SQL: a card whose account leaves the scope disappears" {
	run cp-inbox --as vera show "$CO_LAY" --json
	assert_success
	cp-user revoke vera contoso -q
	run cp-inbox --as vera show "$CO_LAY"
	assert_equal "$status" 77
	run cp-inbox --as vera --json
	assert_output ""
	# reassigning an account moves its cards out of the old owner's scope
	cp-account assign contoso --owner alice -q
	run cp-inbox --as bob --all --json
	assert_output ""
	run cp-inbox --as alice approve "$CO_LAY" -q
	assert_success
}
