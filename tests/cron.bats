#!/usr/bin/env bats
# examples/crontab, every job line run exactly as cron runs it: a clean
# environment (env -i) with only what cron sets (HOME, LOGNAME, USER,
# SHELL=/bin/sh, PATH=/usr/bin:/bin) and the crontab's own assignments,
# /bin/sh -c, no terminal (setsid, stdin /dev/null), from the home
# directory.  The classic ways a job works by hand and fails under cron:
# PATH, variables from a login shell, the working directory, a terminal,
# '%' in the command.  Then the state says what each job did; a job that
# works prints nothing (cron would mail it).
# examples/systemd/ is checked with systemd-analyze verify.

load helper
load fixtures/ops/ops

CRONTAB="$CP_TOP/examples/crontab"

setup() {
	cp_setup
	# the installation the crontab describes, inside the test directory:
	# /usr/local/bin is the build, /var/lib is $T/var/lib
	VAR="$T/var/lib"
	mkdir -p "$VAR/clientpulse" "$VAR/prometheus/node-exporter"
	# under cron the configuration is found from HOME alone
	unset XDG_CONFIG_HOME XDG_DATA_HOME CLIENTPULSE_DB
	ops_config "$HOME/.config"
	cat >>"$HOME/.config/clientpulse/config" <<CONF
[push]
targets = file
[file]
path = $VAR/clientpulse/pushed.ndjson
CONF
	export CLIENTPULSE_DB="$VAR/clientpulse/state.db"
	ops_state
	unset CLIENTPULSE_DB
}

# The crontab's assignments, with the installation's paths.
assignments() {
	grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$CRONTAB" |
	    sed -e "s#/usr/local/bin#$CP_BIN#g" -e "s#/var/lib#$VAR#g"
}

# The commands of the job lines (five schedule fields, then the command).
jobs() {
	grep -E '^[0-9*@]' "$CRONTAB" | sed -E 's/^([^ \t]+[ \t]+){5}//'
}

# cronrun COMMAND: as cron runs it; output in $T/cron.out and .err
cronrun() {
	local -a vars=()
	local line
	while IFS= read -r line; do
		vars+=("$line")
	done < <(assignments)
	(cd "$HOME" && setsid env -i HOME="$HOME" LOGNAME="$(id -un)" \
	    USER="$(id -un)" SHELL=/bin/sh PATH=/usr/bin:/bin "${vars[@]}" \
	    /bin/sh -c "$1" </dev/null >"$T/cron.out" 2>"$T/cron.err" 3>&-)
}

db() {
	sqlite3 "$VAR/clientpulse/state.db" "$@"
}

@test "the crontab: assignments, job lines of five fields, no '%' in a command" {
	run assignments
	assert_line --regexp "^PATH=$CP_BIN:/usr/bin:/bin$"
	assert_line --regexp '^MAILTO='
	assert_line --regexp '^SHELL=/bin/sh$'
	assert_line --regexp "^CLIENTPULSE_DB=$VAR/clientpulse/state.db$"
	assert_equal "$(jobs | wc -l)" 4
	while IFS= read -r cmd; do
		case $cmd in *%*) echo "'%' is a newline to cron: $cmd"; return 1 ;; esac
	done < <(jobs)
	# cron does not expand variables in assignments: none may use one
	run grep -E '^[A-Za-z_]+=.*\$' "$CRONTAB"
	assert_equal "$status" 1
	# every schedule field is a valid cron field
	grep -E '^[0-9*]' "$CRONTAB" | awk '{ for (i = 1; i <= 5; i++)
	    if ($i !~ /^(\*|[0-9]+)(\/[0-9]+)?(,[0-9]+)*$/) { print "bad: " $0; exit 1 } }'
}

@test "every job line runs under cron's environment, quietly, and does its work" {
	local pipeline push reconcile metrics
	pipeline=$(jobs | grep 'clientpulse run --no-wait$')
	push=$(jobs | grep -- '--stages push')
	reconcile=$(jobs | grep cp-reconcile)
	metrics=$(jobs | grep cp-metrics)

	cronrun "$pipeline"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	assert_equal "$(db "SELECT kind, status FROM runs")" "pipeline|ok"
	assert_equal "$(db "SELECT count(*) FROM cards")" 12

	# an AM approves a card; the push job carries it to the CRM (a file)
	CLIENTPULSE_DB="$VAR/clientpulse/state.db" XDG_CONFIG_HOME="$HOME/.config" \
	    cp-inbox approve -q --as alice \
	    "$(db "SELECT id FROM cards WHERE account_id = 'woodgrove' LIMIT 1")"
	cronrun "$push"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	assert_equal "$(db "SELECT kind, status FROM runs WHERE id = 2")" "push|ok"
	assert_equal "$(db "SELECT count(*) FROM push_outbox WHERE state <> 'done'")" 0
	[ -s "$VAR/clientpulse/pushed.ndjson" ]

	cronrun "$reconcile"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	assert_equal "$(db "SELECT count(*) FROM reconcile_checks")" 8
	[ -f "$VAR/clientpulse/findings.ndjson" ]

	cronrun "$metrics"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	python3 "$CP_TOP/tests/promparse.py" \
	    "$VAR/prometheus/node-exporter/clientpulse_acme.prom" >/dev/null

	# the pipeline again: nothing new, still quiet, recorded
	cronrun "$pipeline"
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	assert_equal "$(db "SELECT count(*) FROM runs WHERE kind = 'pipeline' AND status = 'ok'")" 2
}

@test "cron's bare PATH alone would not find clientpulse: the crontab's PATH is what makes it work" {
	(cd "$HOME" && setsid env -i HOME="$HOME" SHELL=/bin/sh PATH=/usr/bin:/bin \
	    /bin/sh -c 'clientpulse run --no-wait' </dev/null >"$T/out" 2>&1 3>&-) || true
	grep -q 'not found' "$T/out"
}

@test "overlapping runs under cron: the second skips quietly while the first holds the lock" {
	local pipeline
	pipeline=$(jobs | grep 'clientpulse run --no-wait$')
	flock "$VAR/clientpulse/state.db.lock" sleep 2 3>&- &
	sleep 0.3
	cronrun "$pipeline"
	assert_equal "$?" 0
	assert_equal "$(cat "$T/cron.out" "$T/cron.err")" ""
	assert_equal "$(db "SELECT count(*) FROM runs")" 0
	wait
}

@test "a failing job speaks, so cron mails it" {
	local pipeline
	pipeline=$(jobs | grep 'clientpulse run --no-wait$')
	echo "[card]" >>"$HOME/.config/clientpulse/config"
	echo "narrative = bogus" >>"$HOME/.config/clientpulse/config"
	cronrun "$pipeline" || true
	grep -q "stage card failed (exit 78)" "$T/cron.err"
	assert_equal "$(db "SELECT status FROM runs")" failed
}

@test "examples/systemd: the units verify" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
	mkdir "$T/units"
	for f in "$CP_TOP"/examples/systemd/*; do
		sed "s#/usr/local/bin#$CP_BIN#g" "$f" >"$T/units/${f##*/}"
	done
	# every timer has its service
	for t in "$T"/units/*.timer; do
		[ -f "${t%.timer}.service" ]
	done
	run timeout 60 systemd-analyze verify --man=no "$T"/units/*.service \
	    "$T"/units/*.timer
	assert_equal "$status" 0
	assert_output ""
	# the service runs what the crontab runs
	grep -q '^ExecStart=.*/clientpulse run --no-wait$' "$T/units/clientpulse-run.service"
	grep -q '^OnCalendar=\*:0/15$' "$T/units/clientpulse-run.timer"
}
