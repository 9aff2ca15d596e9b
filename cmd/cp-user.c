/*
 * cp-user — users, roles and account grants of a tenant.
 *
 *   cp-user add LOGIN --role ROLE [--manager LOGIN] [--name N] [--email E]
 *   cp-user set LOGIN [--role ROLE] [--manager LOGIN|--no-manager] …
 *   cp-user deactivate|activate LOGIN
 *   cp-user grant|revoke LOGIN ACCOUNT...
 *   cp-user list [--json]
 *   cp-user whoami [--json]
 *
 * Changes need the admin role and are audited in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "rbac.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-user add LOGIN --role admin|manager|am|viewer [--manager LOGIN]\n"
	"                   [--name NAME] [--email EMAIL]\n"
	"       cp-user set LOGIN [--role ROLE] [--manager LOGIN | --no-manager]\n"
	"                   [--name NAME] [--email EMAIL]\n"
	"       cp-user deactivate LOGIN | activate LOGIN\n"
	"       cp-user grant LOGIN ACCOUNT... | revoke LOGIN ACCOUNT...\n"
	"       cp-user list [--json]\n"
	"       cp-user whoami [--json]\n"
	"common options: --db FILE --as USER --tenant NAME -q -v --help --version\n";

enum { OPT_ROLE = CP_OPT_LOCAL, OPT_MANAGER, OPT_NOMANAGER, OPT_NAME,
       OPT_EMAIL, OPT_JSON };

static const struct option longopts[] = {
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "manager", required_argument, NULL, OPT_MANAGER },
	{ "no-manager", no_argument, NULL, OPT_NOMANAGER },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "json", no_argument, NULL, OPT_JSON },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static struct {
	const char *role, *manager, *name, *email;
	int no_manager, json;
} o;

static sqlite3 *db;
static cp_user me;
static char actor[300];

static json_t *user_json(int64_t id)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT u.login, u.role, m.login, u.name, u.email, u.active,"
	    " t.name, (SELECT count(*) FROM account_access g"
	    "          WHERE g.user_id = u.id),"
	    " (SELECT count(*) FROM accounts a WHERE a.owner_id = u.id"
	    "          AND a.deleted_at IS NULL)"
	    " FROM users u JOIN tenants t ON t.id = u.tenant_id"
	    " LEFT JOIN users m ON m.id = u.manager_id WHERE u.id = ?");
	json_t *j = NULL;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		j = json_object();
		cp_json_set_str(j, "login", cp_db_col_text(st, 0));
		cp_json_set_str(j, "role", cp_db_col_text(st, 1));
		json_object_set_new(j, "manager",
		    sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null() :
		    json_string(cp_db_col_text(st, 2)));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			cp_json_set_str(j, "name", cp_db_col_text(st, 3));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			cp_json_set_str(j, "email", cp_db_col_text(st, 4));
		json_object_set_new(j, "active",
		    json_boolean(sqlite3_column_int(st, 5)));
		cp_json_set_str(j, "tenant", cp_db_col_text(st, 6));
		json_object_set_new(j, "granted",
		    json_integer(sqlite3_column_int(st, 7)));
		json_object_set_new(j, "owned",
		    json_integer(sqlite3_column_int(st, 8)));
	}
	sqlite3_finalize(st);
	return j;
}

/* A user of my tenant by login, or 0 after an error message. */
static int64_t need_user(const char *login)
{
	int64_t id = cp_user_id(db, me.tenant_id, login);

	if (!id)
		cp_err("no user '%s' in tenant %s", login, me.tenant);
	return id;
}

static int valid_login(const char *s)
{
	size_t i;

	if (!*s || strlen(s) > 64 || *s == '-')
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._-@", s[i])))
			return 0;
	return 1;
}

static int write_user(const char *login, int add)
{
	char ts[CP_TIME_MAX];
	cp_role role;
	int64_t id, mid = 0;
	json_t *before = NULL, *after;
	sqlite3_stmt *st;
	int rc;

	if (o.role && !cp_role_parse(o.role, &role)) {
		cp_err("--role: expected admin, manager, am or viewer, not '%s'",
		    o.role);
		return CP_EX_USAGE;
	}
	if (add && !o.role) {
		cp_err("add: --role is required");
		return CP_EX_USAGE;
	}
	if (!valid_login(login)) {
		cp_err("'%s' is not a valid login name", login);
		return CP_EX_USAGE;
	}
	if ((rc = cp_db_begin(db)))
		return rc;
	id = cp_user_id(db, me.tenant_id, login);
	if (add && id) {
		cp_db_rollback(db);
		cp_err("user '%s' already exists in tenant %s; use 'cp-user set'",
		    login, me.tenant);
		return CP_EX_DATAERR;
	}
	if (!add && !id) {
		cp_db_rollback(db);
		cp_err("no user '%s' in tenant %s", login, me.tenant);
		return CP_EX_DATAERR;
	}
	if (o.manager && !(mid = need_user(o.manager))) {
		cp_db_rollback(db);
		return CP_EX_DATAERR;
	}
	if (mid && mid == id) {
		cp_db_rollback(db);
		cp_err("a user cannot be their own manager");
		return CP_EX_DATAERR;
	}
	cp_time_format(cp_now(), ts);
	if (add) {
		st = cp_db_prepare(db, "INSERT INTO users(tenant_id, login, role,"
		    " manager_id, name, email, created_at, updated_at)"
		    " VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7, ?7)");
	} else {
		before = user_json(id);
		st = cp_db_prepare(db, "UPDATE users SET"
		    " role = coalesce(?3, role),"
		    " manager_id = CASE WHEN ?8 THEN NULL WHEN ?4 > 0 THEN ?4"
		    "              ELSE manager_id END,"
		    " name = coalesce(?5, name), email = coalesce(?6, email),"
		    " updated_at = ?7, version = version + 1"
		    " WHERE tenant_id = ?1 AND login = ?2");
		sqlite3_bind_int(st, 8, o.no_manager);
	}
	sqlite3_bind_int64(st, 1, me.tenant_id);
	cp_db_bind_text(st, 2, login);
	cp_db_bind_text(st, 3, o.role);
	sqlite3_bind_int64(st, 4, mid);
	cp_db_bind_text(st, 5, o.name);
	cp_db_bind_text(st, 6, o.email);
	cp_db_bind_text(st, 7, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc) {
		cp_db_rollback(db);
		json_decref(before);
		return rc;
	}
	if (add)
		id = sqlite3_last_insert_rowid(db);
	after = user_json(id);
	rc = cp_audit(db, me.tenant_id, actor, add ? "user.create" : "user.update",
	    "user", login, before, after, NULL);
	json_decref(before);
	json_decref(after);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

static int set_active(const char *login, int active)
{
	json_t *before, *after;
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = cp_db_begin(db)))
		return rc;
	if (!(id = need_user(login))) {
		cp_db_rollback(db);
		return CP_EX_DATAERR;
	}
	if (id == me.id && !active) {
		cp_db_rollback(db);
		cp_err("you cannot deactivate yourself");
		return CP_EX_DATAERR;
	}
	before = user_json(id);
	st = cp_db_prepare(db, "UPDATE users SET active = ?, version = version"
	    " + 1 WHERE id = ? AND active != ?");
	sqlite3_bind_int(st, 1, active);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, active);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	after = user_json(id);
	if (!rc && sqlite3_changes(db))
		rc = cp_audit(db, me.tenant_id, actor,
		    active ? "user.activate" : "user.deactivate", "user", login,
		    before, after, NULL);
	json_decref(before);
	json_decref(after);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

static int grant(const char *login, int n, char **accounts, int on)
{
	char ts[CP_TIME_MAX];
	int64_t id;
	int i, rc, bad = 0;

	if (n == 0) {
		cp_err("%s: name at least one account", on ? "grant" : "revoke");
		return CP_EX_USAGE;
	}
	if ((rc = cp_db_begin(db)))
		return rc;
	if (!(id = need_user(login))) {
		cp_db_rollback(db);
		return CP_EX_DATAERR;
	}
	cp_time_format(cp_now(), ts);
	for (i = 0; i < n; i++) {
		sqlite3_stmt *st;
		json_t *g;

		st = cp_db_prepare(db, "SELECT 1 FROM accounts WHERE tenant_id = ?"
		    " AND id = ? AND deleted_at IS NULL");
		sqlite3_bind_int64(st, 1, me.tenant_id);
		cp_db_bind_text(st, 2, accounts[i]);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			/* the same words for another tenant's account */
			cp_rbac_deny(accounts[i]);
			bad = 1;
			continue;
		}
		sqlite3_finalize(st);
		st = cp_db_prepare(db, on ?
		    "INSERT OR IGNORE INTO account_access(tenant_id, account_id,"
		    " user_id, granted_at) VALUES (?, ?, ?, ?)" :
		    "DELETE FROM account_access WHERE tenant_id = ? AND"
		    " account_id = ? AND user_id = ?");
		sqlite3_bind_int64(st, 1, me.tenant_id);
		cp_db_bind_text(st, 2, accounts[i]);
		sqlite3_bind_int64(st, 3, id);
		if (on)
			cp_db_bind_text(st, 4, ts);
		rc = cp_db_step_done(db, st);
		sqlite3_finalize(st);
		if (rc)
			break;
		if (!sqlite3_changes(db))
			continue;
		g = json_pack("{s:s, s:s}", "user", login, "account", accounts[i]);
		rc = cp_audit(db, me.tenant_id, actor,
		    on ? "access.grant" : "access.revoke", "account", accounts[i],
		    on ? NULL : g, on ? g : NULL, NULL);
		json_decref(g);
		if (rc)
			break;
	}
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	/* the good grants stand; the bad names were reported */
	rc = cp_db_commit(db);
	return rc ? rc : bad ? CP_EX_NOPERM : 0;
}

static int list(void)
{
	static const char *const head[] = { "LOGIN", "ROLE", "MANAGER", "NAME",
	    "ACCOUNTS", "ACTIVE" };
	sqlite3_stmt *st;
	cp_table *t = NULL;
	int rc;

	/* admins see the tenant, managers their team, others themselves */
	st = cp_db_prepare(db,
	    "WITH RECURSIVE team(id) AS (SELECT ?2 UNION SELECT u.id FROM users u"
	    "  JOIN team ON u.manager_id = team.id WHERE ?3 >= 2)"
	    " SELECT id FROM users WHERE tenant_id = ?1"
	    "  AND (?3 = 3 OR id IN (SELECT id FROM team)) ORDER BY login");
	sqlite3_bind_int64(st, 1, me.tenant_id);
	sqlite3_bind_int64(st, 2, me.id);
	sqlite3_bind_int(st, 3, (int)me.role);
	if (!o.json)
		t = cp_table_new(6, head);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *u = user_json(sqlite3_column_int64(st, 0));
		if (!u)
			continue;
		if (o.json) {
			cp_emit(u);
		} else {
			char n[32];
			const char *cells[6];
			snprintf(n, sizeof n, "%lld",
			    (long long)(cp_json_int(u, "owned", 0) +
			    cp_json_int(u, "granted", 0)));
			cells[0] = cp_json_str(u, "login");
			cells[1] = cp_json_str(u, "role");
			cells[2] = cp_json_strd(u, "manager", "-");
			cells[3] = cp_json_strd(u, "name", "");
			cells[4] = n;
			cells[5] = cp_json_bool(u, "active", true) ? "yes" : "no";
			cp_table_add(t, cells);
		}
		json_decref(u);
	}
	sqlite3_finalize(st);
	if (t) {
		cp_table_right(t, 4);
		cp_table_flex(t, 3);
		cp_table_print_term(t, stdout);
		cp_table_free(t);
	}
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "list users");
}

static int whoami(void)
{
	json_t *u = user_json(me.id);

	if (o.json) {
		cp_emit(u);
	} else {
		printf("%s (%s) in tenant %s\n", me.login, cp_role_name(me.role),
		    me.tenant);
	}
	json_decref(u);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sub;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_ROLE: o.role = optarg; break;
		case OPT_MANAGER: o.manager = optarg; break;
		case OPT_NOMANAGER: o.no_manager = 1; break;
		case OPT_NAME: o.name = optarg; break;
		case OPT_EMAIL: o.email = optarg; break;
		case OPT_JSON: o.json = 1; break;
		}
	}
	if (optind >= argc)
		cp_usage_error(usage, "no subcommand given");
	sub = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (strcmp(sub, "add") && strcmp(sub, "set") && strcmp(sub, "list") &&
	    strcmp(sub, "whoami") && strcmp(sub, "grant") &&
	    strcmp(sub, "revoke") && strcmp(sub, "deactivate") &&
	    strcmp(sub, "activate"))
		cp_usage_error(usage, "unknown subcommand '%s'", sub);
	if ((!strcmp(sub, "list") || !strcmp(sub, "whoami")) && nargs)
		cp_usage_error(usage, "%s takes no arguments", sub);
	if ((!strcmp(sub, "add") || !strcmp(sub, "set") ||
	    !strcmp(sub, "deactivate") || !strcmp(sub, "activate")) &&
	    nargs != 1)
		cp_usage_error(usage, "%s takes one LOGIN", sub);
	if ((!strcmp(sub, "grant") || !strcmp(sub, "revoke")) && nargs < 2)
		cp_usage_error(usage, "%s takes LOGIN ACCOUNT...", sub);
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		return rc;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		goto out;
	cp_user_actor(&me, actor, sizeof actor);

	if (!strcmp(sub, "list")) {
		rc = list();
	} else if (!strcmp(sub, "whoami")) {
		rc = whoami();
	} else if ((rc = cp_rbac_require(&me, CP_ACT_USER_ADMIN))) {
		/* denied */
	} else if (!strcmp(sub, "add") || !strcmp(sub, "set")) {
		rc = write_user(args[0], !strcmp(sub, "add"));
	} else if (!strcmp(sub, "deactivate") || !strcmp(sub, "activate")) {
		rc = set_active(args[0], !strcmp(sub, "activate"));
	} else {
		rc = grant(args[0], nargs - 1, args + 1, !strcmp(sub, "grant"));
	}
out:
	cp_db_close(db);
	return cp_exit_worst(rc, cp_output_close());
}
