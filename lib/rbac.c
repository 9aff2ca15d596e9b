#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "rbac.h"

static const char *const roles[] = { "viewer", "am", "manager", "admin" };

const char *cp_role_name(cp_role r)
{
	return (unsigned)r < 4 ? roles[r] : "?";
}

bool cp_role_parse(const char *s, cp_role *out)
{
	int i;

	for (i = 0; i < 4; i++)
		if (s && strcmp(s, roles[i]) == 0) {
			*out = (cp_role)i;
			return true;
		}
	return false;
}

const char *cp_action_name(cp_action a)
{
	/* phrased to follow "role am may not …" */
	static const char *const names[] = { "read", "export cards",
	    "decide on cards", "assign accounts", "administer accounts",
	    "administer users", "read the audit log",
	    "change tenant settings", "verify the audit chain" };
	return (unsigned)a < sizeof names / sizeof *names ? names[a] : "?";
}

int cp_os_login(char *out, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	/* not getlogin(): under cron and in pipelines there is no tty */
	if (pw && pw->pw_name && *pw->pw_name) {
		snprintf(out, size, "%s", pw->pw_name);
		return 0;
	}
	snprintf(out, size, "uid%ld", (long)getuid());
	return 0;
}

bool cp_may_impersonate(const char *db_path)
{
	struct stat st;

	if (getuid() == 0)
		return true;
	return db_path && stat(db_path, &st) == 0 && st.st_uid == getuid();
}

static int load_user(sqlite3 *db, sqlite3_stmt *st, cp_user *u)
{
	(void)db;
	u->id = sqlite3_column_int64(st, 0);
	u->tenant_id = sqlite3_column_int64(st, 1);
	snprintf(u->login, sizeof u->login, "%s", cp_db_col_text(st, 2));
	if (!cp_role_parse(cp_db_col_text(st, 3), &u->role))
		u->role = CP_ROLE_VIEWER;
	u->manager_id = sqlite3_column_int64(st, 4);
	snprintf(u->tenant, sizeof u->tenant, "%s", cp_db_col_text(st, 5));
	return 0;
}

int cp_whoami(sqlite3 *db, const char *as, const char *tenant, cp_user *out)
{
	sqlite3_stmt *st;
	char os[128];
	const char *login;
	int n = 0, rc;

	memset(out, 0, sizeof *out);
	cp_os_login(os, sizeof os);
	snprintf(out->os_login, sizeof out->os_login, "%s", os);
	login = os;
	if (as && *as && strcmp(as, os) != 0) {
		if (!cp_may_impersonate(cp_db_filename(db))) {
			cp_err("--as is honoured only for root or the owner of "
			    "the state file");
			return CP_EX_NOPERM;
		}
		login = as;
	}
	st = cp_db_prepare(db,
	    "SELECT u.id, u.tenant_id, u.login, u.role, "
	    "       coalesce(u.manager_id, 0), t.name "
	    "FROM users u JOIN tenants t ON t.id = u.tenant_id "
	    "WHERE u.login = ?1 AND u.active = 1 "
	    "  AND (?2 IS NULL OR t.name = ?2) ORDER BY t.name");
	cp_db_bind_text(st, 1, login);
	cp_db_bind_text(st, 2, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0)
			load_user(db, st, out);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cp_db_error(db, "look up user");
	if (n == 0) {
		cp_err("unknown user '%s'%s%s; an admin can add you with: "
		    "cp-user add %s --role am", login,
		    tenant ? " in tenant " : "", tenant ? tenant : "", login);
		return CP_EX_NOPERM;
	}
	if (n > 1) {
		cp_err("user '%s' exists in several tenants; choose one with "
		    "--tenant NAME", login);
		return CP_EX_NOPERM;
	}
	return 0;
}

void cp_user_actor(const cp_user *u, char *out, size_t size)
{
	if (*u->os_login && strcmp(u->os_login, u->login) != 0)
		snprintf(out, size, "%s (via %s)", u->login, u->os_login);
	else
		snprintf(out, size, "%s", u->login);
}

bool cp_rbac_allows(const cp_user *u, cp_action a)
{
	switch (a) {
	case CP_ACT_READ:
		return true;
	case CP_ACT_EXPORT:
	case CP_ACT_DECIDE:
		return u->role >= CP_ROLE_AM;
	case CP_ACT_ASSIGN:
	case CP_ACT_AUDIT_READ:
		return u->role >= CP_ROLE_MANAGER;
	case CP_ACT_ACCOUNT_ADMIN:
	case CP_ACT_USER_ADMIN:
	case CP_ACT_TENANT_ADMIN:
	case CP_ACT_AUDIT_VERIFY:
		return u->role == CP_ROLE_ADMIN;
	}
	return false;
}

int cp_rbac_require(const cp_user *u, cp_action a)
{
	if (cp_rbac_allows(u, a))
		return 0;
	cp_err("permission denied: role %s may not %s", cp_role_name(u->role),
	    cp_action_name(a));
	return CP_EX_NOPERM;
}

int cp_rbac_deny(const char *what)
{
	cp_err("%s: not found or not permitted", what);
	return CP_EX_NOPERM;
}

/*
 * One SQL text for every role: the CTE "team" is the caller plus, for a
 * manager, everyone reporting to them at any depth; owned and granted
 * accounts of the team form the scope; an admin gets the whole tenant.
 * Viewers are only ever granted, never owners, so the same text fits.
 */
static const char scope_sql[] =
	"WITH RECURSIVE team(id) AS ("
	"  SELECT ?2"
	"  UNION SELECT u.id FROM users u JOIN team ON u.manager_id = team.id"
	"  WHERE ?3 >= 2 AND u.tenant_id = ?1"
	") "
	"INSERT OR IGNORE INTO temp.scope(account_id) "
	"SELECT a.id FROM accounts a WHERE a.tenant_id = ?1 "
	"  AND a.deleted_at IS NULL AND ("
	"    ?3 = 3"
	"    OR a.owner_id IN (SELECT id FROM team)"
	"    OR EXISTS (SELECT 1 FROM account_access g WHERE g.tenant_id = ?1"
	"               AND g.account_id = a.id"
	"               AND g.user_id IN (SELECT id FROM team)))";

int cp_rbac_load_scope(sqlite3 *db, const cp_user *u)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = cp_db_exec(db,
	    "CREATE TEMP TABLE IF NOT EXISTS scope("
	    "  account_id TEXT PRIMARY KEY) WITHOUT ROWID;"
	    "DELETE FROM temp.scope;")))
		return rc;
	st = cp_db_prepare(db, scope_sql);
	sqlite3_bind_int64(st, 1, u->tenant_id);
	sqlite3_bind_int64(st, 2, u->id);
	sqlite3_bind_int(st, 3, (int)u->role);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

bool cp_rbac_in_scope(sqlite3 *db, const cp_user *u, const char *account_id)
{
	sqlite3_stmt *st;
	bool in;

	if (cp_rbac_load_scope(db, u))
		return false;
	st = cp_db_prepare(db,
	    "SELECT 1 FROM temp.scope s JOIN accounts a ON a.id = s.account_id"
	    " WHERE a.tenant_id = ? AND s.account_id = ?");
	sqlite3_bind_int64(st, 1, u->tenant_id);
	cp_db_bind_text(st, 2, account_id);
	in = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return in;
}

int64_t cp_tenant_id(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT id FROM tenants WHERE name = ?");
	int64_t id = 0;

	cp_db_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

int64_t cp_user_id(sqlite3 *db, int64_t tenant_id, const char *login)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT id FROM users WHERE tenant_id = ? AND login = ?");
	int64_t id = 0;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, login);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

bool cp_rbac_in_team(sqlite3 *db, const cp_user *u, int64_t user_id)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "WITH RECURSIVE team(id) AS (SELECT ?2 UNION SELECT x.id FROM users x"
	    "  JOIN team ON x.manager_id = team.id WHERE ?3 >= 2)"
	    " SELECT 1 FROM users WHERE tenant_id = ?1 AND id = ?4"
	    "  AND (?3 = 3 OR id IN (SELECT id FROM team))");
	bool in;

	sqlite3_bind_int64(st, 1, u->tenant_id);
	sqlite3_bind_int64(st, 2, u->id);
	sqlite3_bind_int(st, 3, (int)u->role);
	sqlite3_bind_int64(st, 4, user_id);
	in = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return in;
}
