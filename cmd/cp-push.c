/*
 * cp-push — approved cards into HubSpot, Salesforce, a webhook or a file,
 * exactly once, through the outbox.
 *
 *   cp-push [--target LIST] [--limit N] [--no-wait] [CARD...|-]
 *                                 send what is due; push records out
 *   cp-push --status [--state STATE] [--json]
 *   cp-push --retry ID...         a failed action back in the queue
 *   cp-push --resolve ID...       settle an action stuck in 'sending'
 *   cp-push --fetch ID...         what the CRM holds now for done actions
 *
 * Approving a card (cp-inbox approve) enqueued its actions; this sends
 * them (crm.h), records each outcome in the state file and writes one
 * push record per outcome once it is committed.  Sending needs the admin
 * role (the pipeline's service account); --status shows the caller's
 * scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "crm.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "outbox.h"
#include "rbac.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-push [--target LIST] [--limit N] [--no-wait]\n"
	"               [--token-file FILE] [CARD...|-]\n"
	"       cp-push --status [--state STATE] [--json]\n"
	"       cp-push --retry ID...\n"
	"       cp-push --resolve ID...\n"
	"       cp-push --fetch ID...\n"
	"common options: --db FILE --as USER --tenant NAME --config FILE\n"
	"                --log-format text|json -q -v --help --version\n"
	"Send approved cards' CRM actions (hubspot, salesforce, webhook,\n"
	"file) from the outbox.  See cp-push(1).\n";

enum { OPT_STATUS = CP_OPT_LOCAL, OPT_RETRY, OPT_RESOLVE, OPT_FETCH,
       OPT_TARGET,
       OPT_LIMIT, OPT_NOWAIT, OPT_TOKENFILE, OPT_STATE, OPT_JSON };

static const struct option longopts[] = {
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "retry", no_argument, NULL, OPT_RETRY },
	{ "resolve", no_argument, NULL, OPT_RESOLVE },
	{ "fetch", no_argument, NULL, OPT_FETCH },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "no-wait", no_argument, NULL, OPT_NOWAIT },
	{ "token-file", required_argument, NULL, OPT_TOKENFILE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "json", no_argument, NULL, OPT_JSON },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static sqlite3 *db;
static cp_user me;
static char actor[300];

/* ---- --status ------------------------------------------------------------ */

static int status_json(const cp_outbox_row *r, void *arg)
{
	json_t *o = cp_outbox_row_json(r);

	(void)arg;
	cp_emit(o);
	json_decref(o);
	return 0;
}

static int status_row(const cp_outbox_row *r, void *arg)
{
	cp_table *t = arg;
	char id[24], tries[16], when[CP_TIME_MAX] = "", card[20];
	const char *cells[9];

	snprintf(id, sizeof id, "%lld", (long long)r->id);
	snprintf(tries, sizeof tries, "%d", r->attempts);
	/* "card_" and 8 hex digits tell cards apart on a screen */
	snprintf(card, sizeof card, "%.13s", r->card_id);
	if (r->next_attempt_at && !strcmp(r->state, "retry_wait"))
		cp_time_format(r->next_attempt_at, when);
	else
		snprintf(when, sizeof when, "%s", r->updated_at);
	cells[0] = id;
	cells[1] = card;
	cells[2] = cp_target_name(r->target);
	cells[3] = cp_push_action_name(r->action);
	cells[4] = r->uncertain && strcmp(r->state, "done") ?
	    (!strcmp(r->state, "queued") ? "queued?" : !strcmp(r->state,
	    "sending") ? "sending?" : !strcmp(r->state, "failed") ? "failed?" :
	    "retry_wait?") : r->state;
	cells[5] = tries;
	cells[6] = when;
	cells[7] = r->remote_id ? r->remote_id : "";
	cells[8] = r->error ? r->error : "";
	cp_table_add(t, cells);
	return 0;
}

static void show_holds(void)
{
	int i;

	for (i = 0; i < CP_TGT_N; i++) {
		time_t until;
		char *reason = NULL, ts[CP_TIME_MAX];
		if (cp_outbox_held(db, me.tenant_id, (cp_target)i, &until,
		    &reason))
			printf("%s held until %s: %s\n",
			    cp_target_name((cp_target)i),
			    cp_time_format(until, ts), reason);
		free(reason);
	}
}

static int status(const char *state, bool json)
{
	static const char *const hdr[] = { "ID", "CARD", "TARGET", "ACTION",
	    "STATE", "TRIES", "WHEN", "REMOTE", "ERROR" };
	cp_table *t;
	int rc;

	if ((rc = cp_rbac_require(&me, CP_ACT_READ)) ||
	    (rc = cp_rbac_load_scope(db, &me)))
		return rc;
	if (json)
		return cp_outbox_list(db, me.tenant_id, state, true,
		    status_json, NULL);
	t = cp_table_new(9, hdr);
	cp_table_right(t, 0);
	cp_table_right(t, 5);
	cp_table_flex(t, 8);
	rc = cp_outbox_list(db, me.tenant_id, state, true, status_row, t);
	if (!rc) {
		if (cp_table_rows(t))
			cp_table_print_term(t, stdout);
		else
			printf("no push actions%s%s\n", state ? " in state " : "",
			    state ? state : "");
		show_holds();
	}
	cp_table_free(t);
	return rc;
}

/* ---- --retry, --resolve -------------------------------------------------- */

static int need_admin(const char *what)
{
	if (me.role == CP_ROLE_ADMIN)
		return 0;
	cp_err("permission denied: role %s may not %s (admin, usually the "
	    "pipeline's service account)", cp_role_name(me.role), what);
	return CP_EX_NOPERM;
}

static int retry_one(const char *id)
{
	cp_outbox_row r;
	int rc = cp_outbox_get(db, me.tenant_id, id, &r);

	if (rc == 1)
		return cp_rbac_deny(id);
	if (rc)
		return rc;
	if ((rc = cp_db_begin(db)) == 0) {
		rc = cp_outbox_requeue(db, &r, actor);
		if (rc)
			cp_db_rollback(db);
		else
			rc = cp_db_commit(db);
	}
	if (!rc)
		cp_info("%s: %s %s of %s queued again", r.key,
		    cp_target_name(r.target), cp_push_action_name(r.action),
		    r.card_id);
	cp_outbox_row_free(&r);
	return rc;
}

static int resolve_one(cp_crm *c, const char *id)
{
	cp_outbox_row r;
	char state[16] = "";
	int rc = cp_outbox_get(db, me.tenant_id, id, &r);

	if (rc == 1)
		return cp_rbac_deny(id);
	if (rc)
		return rc;
	rc = cp_crm_resolve(c, r.id, state);
	if (!rc)
		printf("%s\t%s\n", r.key, state);
	cp_outbox_row_free(&r);
	return rc;
}

/* The object as the CRM has it now: {"key","target","action","remote_id",
 * "object"} or "gone": true. */
static int fetch_one(cp_crm *c, const char *id)
{
	cp_outbox_row r;
	json_t *obj = NULL, *out;
	bool gone;
	int rc = cp_outbox_get(db, me.tenant_id, id, &r);

	if (rc == 1)
		return cp_rbac_deny(id);
	if (rc)
		return rc;
	if (strcmp(r.state, "done")) {
		cp_err("%s: %s, not done: nothing in the CRM to fetch", r.key,
		    r.state);
		cp_outbox_row_free(&r);
		return CP_EX_DATAERR;
	}
	if (!(rc = cp_crm_fetch(c, &r, &obj, &gone))) {
		out = json_pack("{s:s,s:s,s:s,s:s?}", "key", r.key, "target",
		    cp_target_name(r.target), "action",
		    cp_push_action_name(r.action), "remote_id", r.remote_id);
		if (gone)
			json_object_set_new(out, "gone", json_true());
		else
			json_object_set_new(out, "object", obj);
		cp_emit(out);
		json_decref(out);
	}
	cp_outbox_row_free(&r);
	return rc;
}

/* ---- the run ------------------------------------------------------------- */

static void emit(const json_t *rec, void *arg)
{
	(void)arg;
	cp_emit(rec);
}

static int only_add(const char *id)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "INSERT OR IGNORE INTO temp.push_only (card_id) VALUES (?)");
	int rc;

	cp_db_bind_text(st, 1, id);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

/* A card id per line: bare, or a record with "id" (a card) or
 * "card_id" (a push record). */
static int only_line(const cp_line *ln, void *arg)
{
	char err[128];
	json_t *rec;
	const char *id;
	char *bare;
	int rc;

	(void)arg;
	if (ln->len && ln->text[0] != '{') {
		bare = xstrndup(ln->text, ln->len);
		bare[strcspn(bare, " \t\r")] = '\0';
		rc = only_add(bare);
		free(bare);
		return rc;
	}
	if (!(rec = cp_json_parse(ln->text, ln->len, err, sizeof err))) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	id = cp_json_str(rec, "card_id") ? cp_json_str(rec, "card_id") :
	    cp_json_str(rec, "id");
	rc = id ? only_add(id) : 0;
	if (!id)
		cp_reject(ln, "no card id (\"id\" or \"card_id\")");
	json_decref(rec);
	return rc;
}

static int only_cards(int n, char **ids)
{
	int rc, i;

	if ((rc = cp_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS push_only "
	    "(card_id TEXT PRIMARY KEY)")))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if (!strcmp(ids[i], "-"))
			rc = cp_ndjson_inputs_raw(0, NULL, only_line, NULL);
		else
			rc = only_add(ids[i]);
	}
	return rc;
}

static int run(cp_crm_opts *o)
{
	cp_crm *c;
	cp_crm_stats st;
	int rc;

	if ((rc = need_admin("push")))
		return rc;
	o->me = &me;
	o->actor = actor;
	o->emit = emit;
	if ((rc = cp_crm_open(db, o, &c)))
		return rc;
	if (!o->targets && !cp_outbox_active_targets(db))
		cp_warn("no push targets: set push.targets (hubspot, "
		    "salesforce, webhook, file) in the configuration");
	rc = cp_crm_push(c, &st);
	cp_info("%d done, %d failed, %d waiting, %d not attempted; %d "
	    "requests, %d looked up (%d found), %d recovered, %d enqueued "
	    "in %.2fs", st.done, st.failed, st.waiting, st.released,
	    st.requests, st.looked_up, st.found, st.recovered, st.enqueued,
	    st.seconds);
	cp_crm_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	enum { RUN, STATUS, RETRY, RESOLVE, FETCH } mode = RUN;
	cp_crm_opts o;
	const char *state = NULL, *token_file = NULL;
	bool json = false;
	int c, rc, i;

	memset(&o, 0, sizeof o);
	o.wait_lock = true;
	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		char err[160], *end;
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_STATUS: mode = STATUS; break;
		case OPT_RETRY: mode = RETRY; break;
		case OPT_RESOLVE: mode = RESOLVE; break;
		case OPT_FETCH: mode = FETCH; break;
		case OPT_JSON: json = true; break;
		case OPT_NOWAIT: o.wait_lock = false; break;
		case OPT_TOKENFILE: token_file = optarg; break;
		case OPT_STATE:
			if (strcmp(optarg, "queued") && strcmp(optarg, "sending") &&
			    strcmp(optarg, "done") && strcmp(optarg, "retry_wait") &&
			    strcmp(optarg, "failed"))
				cp_usage_error(usage, "--state: one of queued, "
				    "sending, done, retry_wait, failed");
			state = optarg;
			break;
		case OPT_TARGET:
			if (!cp_outbox_parse_targets(optarg, &o.targets, err,
			    sizeof err))
				cp_usage_error(usage, "--target: %s", err);
			if (!o.targets)
				cp_usage_error(usage, "--target: no target named");
			break;
		case OPT_LIMIT:
			o.limit = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || o.limit < 1)
				cp_usage_error(usage, "--limit: a positive number");
			break;
		}
	}
	if ((mode == RETRY || mode == RESOLVE || mode == FETCH) &&
	    optind == argc)
		cp_usage_error(usage, "--%s: which action (ID or key)?",
		    mode == RETRY ? "retry" : mode == FETCH ? "fetch" :
		    "resolve");
	if (mode == STATUS && optind < argc)
		cp_usage_error(usage, "--status takes no arguments");
	if ((rc = cp_cli_ready()))
		return rc;
	if (token_file)
		cp_credentials_set_path(token_file);
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		return rc;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		goto out;
	cp_user_actor(&me, actor, sizeof actor);
	switch (mode) {
	case STATUS:
		rc = status(state, json);
		break;
	case RETRY:
		if ((rc = need_admin("requeue pushes")))
			break;
		for (i = optind; i < argc; i++)
			rc = cp_exit_worst(rc, retry_one(argv[i]));
		break;
	case RESOLVE:
	case FETCH: {
		cp_crm *crm;
		if ((rc = need_admin(mode == FETCH ? "read pushed objects" :
		    "resolve pushes")))
			break;
		o.me = &me;
		o.actor = actor;
		if ((rc = cp_crm_open(db, &o, &crm)))
			break;
		for (i = optind; i < argc; i++)
			rc = cp_exit_worst(rc, mode == FETCH ?
			    fetch_one(crm, argv[i]) : resolve_one(crm, argv[i]));
		cp_crm_close(crm);
		break;
	}
	default:
		if (optind < argc) {
			o.only = true;
			rc = only_cards(argc - optind, argv + optind);
		}
		if (!rc)
			rc = run(&o);
		break;
	}
out:
	cp_db_close(db);
	return cp_ndjson_status(rc);
}
