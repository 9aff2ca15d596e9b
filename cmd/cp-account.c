/*
 * cp-account — the tenant's customer accounts.
 *
 *   cp-account add --name NAME [--id ID] [--domain D] [--alias A]… …
 *   cp-account import [FILE…]        NDJSON account records, upsert
 *   cp-account list [--json] [--owner LOGIN]
 *   cp-account show ID [--json] [--health] [--ascii]
 *                                    with the account's health (health.h)
 *   cp-account assign ID… --owner LOGIN
 *   cp-account remove ID…            soft delete (audited, reversible by
 *                                    importing the account again)
 *
 * list and show are scoped by the caller's access (rbac.h); add, import
 * and remove need the admin role; assign needs manager or admin, within
 * scope, to a user in scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "audit.h"
#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "health.h"
#include "importer.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "rbac.h"
#include "strbuf.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-account add --name NAME [--id ID] [--domain DOMAIN]\n"
	"              [--alias NAME]... [--ticker T] [--cik CIK] [--industry I]\n"
	"              [--segment S] [--tier N] [--owner LOGIN] [--feed URL]...\n"
	"              [--greenhouse TOKEN] [--lever SITE] [--meta JSON]\n"
	"       cp-account import [--reject FILE] [FILE...]\n"
	"       cp-account list [--json] [--owner LOGIN]\n"
	"       cp-account show ID [--json] [--health] [--ascii]\n"
	"       cp-account assign ID... --owner LOGIN\n"
	"       cp-account remove ID...\n"
	"common options: --db FILE --as USER --tenant NAME -q -v --help --version\n";

enum { OPT_NAME = CP_OPT_LOCAL, OPT_ID, OPT_DOMAIN, OPT_ALIAS, OPT_TICKER,
       OPT_CIK, OPT_INDUSTRY, OPT_SEGMENT, OPT_TIER, OPT_OWNER, OPT_FEED,
       OPT_GREENHOUSE, OPT_LEVER, OPT_META, OPT_JSON, OPT_HEALTH, OPT_ASCII };

static const struct option longopts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "id", required_argument, NULL, OPT_ID },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "alias", required_argument, NULL, OPT_ALIAS },
	{ "ticker", required_argument, NULL, OPT_TICKER },
	{ "cik", required_argument, NULL, OPT_CIK },
	{ "industry", required_argument, NULL, OPT_INDUSTRY },
	{ "segment", required_argument, NULL, OPT_SEGMENT },
	{ "tier", required_argument, NULL, OPT_TIER },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "feed", required_argument, NULL, OPT_FEED },
	{ "greenhouse", required_argument, NULL, OPT_GREENHOUSE },
	{ "lever", required_argument, NULL, OPT_LEVER },
	{ "meta", required_argument, NULL, OPT_META },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "health", no_argument, NULL, OPT_HEALTH },
	{ "ascii", no_argument, NULL, OPT_ASCII },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static sqlite3 *db;
static cp_user me;
static char actor[300];
static int json_out;
static int health_only, ascii_out;   /* show --health, --ascii */
static const char *owner_filter;

static bool normalise(json_t *rec, void *arg, char *err, size_t errlen)
{
	(void)arg;
	return cp_account_normalise(rec, err, errlen);
}

static int upsert(cp_importer *im, json_t *rec, int *outcome, char *err,
    size_t errlen)
{
	return cp_account_upsert(im->db, im->me->tenant_id, im->actor, rec,
	    outcome, err, errlen);
}

static int import(int n, char **files)
{
	cp_importer im = { db, &me, actor, false, normalise, upsert, NULL,
	    0, 0, 0 };

	return cp_import_files(&im, n, files);
}

static json_t *add_rec;

static void add_field(const char *key, const char *val)
{
	if (!add_rec)
		add_rec = json_object();
	json_object_set_new(add_rec, key, json_string(val));
}

static void add_list(const char *key, const char *val)
{
	json_t *a;

	if (!add_rec)
		add_rec = json_object();
	if (!(a = json_object_get(add_rec, key))) {
		a = json_array();
		json_object_set_new(add_rec, key, a);
	}
	json_array_append_new(a, json_string(val));
}

static int add(void)
{
	char err[256];
	int outcome, rc;

	if (!add_rec || !cp_json_str(add_rec, "name")) {
		cp_err("add: --name is required");
		return CP_EX_USAGE;
	}
	if (!cp_account_normalise(add_rec, err, sizeof err)) {
		cp_err("add: %s", err);
		return CP_EX_DATAERR;
	}
	if ((rc = cp_db_begin(db)))
		return rc;
	*err = '\0';
	rc = cp_account_upsert(db, me.tenant_id, actor, add_rec, &outcome, err,
	    sizeof err);
	if (rc) {
		cp_db_rollback(db);
		if (*err)
			cp_err("add: %s", err);
		return rc;
	}
	if ((rc = cp_db_commit(db)))
		return rc;
	/* the id is what the next command needs */
	printf("%s\n", cp_json_str(add_rec, "id"));
	return 0;
}

static int list(void)
{
	static const char *const head[] = { "ID", "NAME", "DOMAIN", "TIER",
	    "SEGMENT", "OWNER" };
	sqlite3_stmt *st;
	cp_table *t = NULL;
	int rc;

	if ((rc = cp_rbac_load_scope(db, &me)))
		return rc;
	st = cp_db_prepare(db, "SELECT a.id FROM accounts a"
	    " JOIN temp.scope s ON s.account_id = a.id"
	    " LEFT JOIN users u ON u.id = a.owner_id"
	    " WHERE a.tenant_id = ?1 AND a.deleted_at IS NULL"
	    "  AND (?2 IS NULL OR u.login = ?2) ORDER BY a.name, a.id");
	sqlite3_bind_int64(st, 1, me.tenant_id);
	cp_db_bind_text(st, 2, owner_filter);
	if (!json_out)
		t = cp_table_new(6, head);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *a = cp_account_get_json(db, me.tenant_id,
		    cp_db_col_text(st, 0));
		if (!a)
			continue;
		if (json_out) {
			cp_emit(a);
		} else {
			char tier[16] = "";
			const char *cells[6];
			if (cp_json_int(a, "tier", 0))
				snprintf(tier, sizeof tier, "%lld",
				    (long long)cp_json_int(a, "tier", 0));
			cells[0] = cp_json_str(a, "id");
			cells[1] = cp_json_str(a, "name");
			cells[2] = cp_json_strd(a, "domain", "");
			cells[3] = tier;
			cells[4] = cp_json_strd(a, "segment", "");
			cells[5] = cp_json_strd(a, "owner", "-");
			cp_table_add(t, cells);
		}
		json_decref(a);
	}
	sqlite3_finalize(st);
	if (t) {
		cp_table_right(t, 3);
		cp_table_flex(t, 1);
		cp_table_print_term(t, stdout);
		cp_table_free(t);
	}
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "list accounts");
}

static void show_list(const char *label, json_t *a)
{
	size_t i;
	json_t *e;
	strbuf sb = CP_STRBUF_INIT;

	if (!json_is_array(a) || !json_array_size(a))
		return;
	json_array_foreach(a, i, e) {
		if (i)
			sb_adds(&sb, ", ");
		sb_adds(&sb, json_string_value(e));
	}
	printf("%-12s %s\n", label, sb.buf);
	sb_free(&sb);
}

/* The health view (health.h): after the fields, or alone with
 * --health; as an object with --json --health. */
static int show_health(const json_t *a)
{
	cp_health h;
	int rc;

	if ((rc = cp_health_load(db, &me, cp_json_str(a, "id"), cp_now(), &h)))
		return rc;
	if (json_out) {
		json_t *o = cp_health_json(&h, cp_json_str(a, "id"));
		cp_emit(o);
		json_decref(o);
	} else {
		if (health_only)
			printf("%-12s %s\n", "name", cp_json_strd(a, "name", ""));
		else
			printf("\n");
		cp_health_print(stdout, &h, cp_term_width(STDOUT_FILENO),
		    ascii_out || !cp_u_locale_utf8(),
		    cp_term_color(STDOUT_FILENO));
	}
	cp_health_free(&h);
	return 0;
}

static int show(const char *id)
{
	static const char *const keys[] = { "id", "name", "domain", "ticker",
	    "cik", "industry", "segment", "owner", "greenhouse_token",
	    "lever_site", "hubspot_id", "salesforce_id", NULL };
	json_t *a;
	int i, rc;

	if (!cp_rbac_in_scope(db, &me, id))
		return cp_rbac_deny(id);
	if (!(a = cp_account_get_json(db, me.tenant_id, id)))
		return cp_rbac_deny(id);
	if (health_only) {
		rc = show_health(a);
		json_decref(a);
		return rc;
	}
	if (json_out) {
		cp_emit(a);
		json_decref(a);
		return 0;
	}
	for (i = 0; keys[i]; i++) {
		const char *v = cp_json_str(a, keys[i]);
		if (v)
			printf("%-12s %s\n", !strcmp(keys[i], "greenhouse_token") ?
			    "greenhouse" : !strcmp(keys[i], "lever_site") ?
			    "lever" : keys[i], v);
	}
	if (cp_json_int(a, "tier", 0))
		printf("%-12s %lld\n", "tier", (long long)cp_json_int(a, "tier", 0));
	show_list("aliases", json_object_get(a, "aliases"));
	show_list("feeds", json_object_get(a, "feeds"));
	if (json_object_size(json_object_get(a, "meta"))) {
		char *m = cp_json_dumps(json_object_get(a, "meta"), CP_JSON_SORT);
		printf("%-12s %s\n", "meta", m);
		free(m);
	}
	rc = show_health(a);
	json_decref(a);
	return rc;
}

/* assign and remove: one transaction per id, so one bad id does not undo
 * the others; every bad id is reported and makes the status non-zero. */
static int change(int n, char **ids, const char *owner, int remove)
{
	int i, rc = 0, worst = 0;
	int64_t owner_id = 0;

	if (!remove) {
		if (!owner) {
			cp_err("assign: --owner is required");
			return CP_EX_USAGE;
		}
		if (!(owner_id = cp_user_id(db, me.tenant_id, owner))) {
			cp_err("assign: no user '%s' in tenant %s", owner, me.tenant);
			return CP_EX_DATAERR;
		}
		/* a manager hands accounts around within their team only */
		if (!cp_rbac_in_team(db, &me, owner_id))
			return cp_rbac_deny(owner);
	}
	for (i = 0; i < n; i++) {
		json_t *before, *after;
		sqlite3_stmt *st;

		if (!cp_rbac_in_scope(db, &me, ids[i])) {
			worst = cp_exit_worst(worst, cp_rbac_deny(ids[i]));
			continue;
		}
		if ((rc = cp_db_begin(db)))
			return rc;
		before = cp_account_get_json(db, me.tenant_id, ids[i]);
		if (remove)
			st = cp_db_prepare(db, "UPDATE accounts SET deleted_at = ?3,"
			    " updated_at = ?3, version = version + 1"
			    " WHERE tenant_id = ?1 AND id = ?2"
			    " AND deleted_at IS NULL");
		else
			st = cp_db_prepare(db, "UPDATE accounts SET owner_id = ?4,"
			    " updated_at = ?3, version = version + 1"
			    " WHERE tenant_id = ?1 AND id = ?2"
			    " AND owner_id IS NOT ?4");
		{
			char ts[CP_TIME_MAX];
			cp_time_format(cp_now(), ts);
			sqlite3_bind_int64(st, 1, me.tenant_id);
			cp_db_bind_text(st, 2, ids[i]);
			cp_db_bind_text(st, 3, ts);
			if (!remove)
				sqlite3_bind_int64(st, 4, owner_id);
		}
		rc = cp_db_step_done(db, st);
		sqlite3_finalize(st);
		after = cp_account_get_json(db, me.tenant_id, ids[i]);
		if (!rc && sqlite3_changes(db))
			rc = cp_audit(db, me.tenant_id, actor,
			    remove ? "account.remove" : "account.assign", "account",
			    ids[i], before, after, NULL);
		json_decref(before);
		json_decref(after);
		if (rc) {
			cp_db_rollback(db);
			return rc;
		}
		if ((rc = cp_db_commit(db)))
			return rc;
	}
	return worst;
}

int main(int argc, char **argv)
{
	const char *sub, *owner = NULL;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_NAME: add_field("name", optarg); break;
		case OPT_ID: add_field("id", optarg); break;
		case OPT_DOMAIN: add_field("domain", optarg); break;
		case OPT_ALIAS: add_list("aliases", optarg); break;
		case OPT_TICKER: add_field("ticker", optarg); break;
		case OPT_CIK: add_field("cik", optarg); break;
		case OPT_INDUSTRY: add_field("industry", optarg); break;
		case OPT_SEGMENT: add_field("segment", optarg); break;
		case OPT_TIER: {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (*end || t < 1 || t > 5)
				cp_usage_error(usage, "--tier: expected 1 to 5");
			if (!add_rec)
				add_rec = json_object();
			json_object_set_new(add_rec, "tier", json_integer(t));
			break;
		}
		case OPT_OWNER: owner = optarg; break;
		case OPT_FEED: add_list("feeds", optarg); break;
		case OPT_GREENHOUSE: add_field("greenhouse_token", optarg); break;
		case OPT_LEVER: add_field("lever_site", optarg); break;
		case OPT_META: {
			json_t *m = json_loads(optarg, 0, NULL);
			if (!json_is_object(m))
				cp_usage_error(usage, "--meta: expected a JSON object");
			if (!add_rec)
				add_rec = json_object();
			json_object_set_new(add_rec, "meta", m);
			break;
		}
		case OPT_JSON: json_out = 1; break;
		case OPT_HEALTH: health_only = 1; break;
		case OPT_ASCII: ascii_out = 1; break;
		}
	}
	if (optind >= argc)
		cp_usage_error(usage, "no subcommand given");
	sub = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (!strcmp(sub, "add")) {
		if (nargs)
			cp_usage_error(usage, "add takes options, not arguments");
		if (owner)
			add_field("owner", owner);
	} else if (!strcmp(sub, "show")) {
		if (nargs != 1)
			cp_usage_error(usage, "show takes one ID");
	} else if (!strcmp(sub, "assign") || !strcmp(sub, "remove")) {
		if (nargs < 1)
			cp_usage_error(usage, "%s takes at least one ID", sub);
	} else if (!strcmp(sub, "list")) {
		if (nargs)
			cp_usage_error(usage, "list takes no arguments");
		owner_filter = owner;
	} else if (strcmp(sub, "import")) {
		cp_usage_error(usage, "unknown subcommand '%s'", sub);
	}
	if (add_rec && strcmp(sub, "add"))
		cp_usage_error(usage, "account fields are options of 'add' only");
	if ((health_only || ascii_out) && strcmp(sub, "show"))
		cp_usage_error(usage, "--%s is an option of 'show' only",
		    health_only ? "health" : "ascii");
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		goto done;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		goto out;
	cp_user_actor(&me, actor, sizeof actor);

	if (!strcmp(sub, "list"))
		rc = list();
	else if (!strcmp(sub, "show"))
		rc = show(args[0]);
	else if (!strcmp(sub, "assign"))
		rc = cp_rbac_require(&me, CP_ACT_ASSIGN);
	else
		rc = cp_rbac_require(&me, CP_ACT_ACCOUNT_ADMIN);
	if (rc || !strcmp(sub, "list") || !strcmp(sub, "show"))
		goto out;
	if (!strcmp(sub, "add"))
		rc = add();
	else if (!strcmp(sub, "import"))
		rc = import(nargs, args);
	else
		rc = change(nargs, args, owner, !strcmp(sub, "remove"));
out:
	cp_db_close(db);
done:
	json_decref(add_rec);
	return cp_ndjson_status(rc);
}
