/*
 * cp-init — create or upgrade the state file ("clientpulse init").
 *
 * Creates the file (0600, or 0660 with --group-shared), applies the
 * schema migrations, creates the tenant and makes the caller its first
 * admin.  Running it again is harmless: it migrates, and with a new
 * --tenant adds that tenant (the caller must be root, the file's owner, or
 * an admin already).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "rbac.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-init [--tenant NAME] [--group-shared] [--sla HOURS]\n"
	"               [--db FILE] [-q] [-v]\n"
	"Create or upgrade the state file; the caller becomes the tenant's\n"
	"first admin.  See cp-init(1).\n";

enum { OPT_GROUP = CP_OPT_LOCAL, OPT_SLA };

static const struct option longopts[] = {
	{ "group-shared", no_argument, NULL, OPT_GROUP },
	{ "sla", required_argument, NULL, OPT_SLA },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int create_tenant(sqlite3 *db, const char *name, long sla,
    const char *login, int64_t *tid, int *created)
{
	char ts[CP_TIME_MAX];
	sqlite3_stmt *st;
	json_t *rec;
	int rc;

	*created = 0;
	if ((*tid = cp_tenant_id(db, name)) != 0)
		return 0;
	cp_time_format(cp_now(), ts);
	st = cp_db_prepare(db, "INSERT INTO tenants(name, review_sla_hours,"
	    " created_at) VALUES (?, ?, ?)");
	cp_db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, sla);
	cp_db_bind_text(st, 3, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	*tid = sqlite3_last_insert_rowid(db);
	*created = 1;
	rec = json_pack("{s:s, s:I}", "name", name, "review_sla_hours",
	    (json_int_t)sla);
	rc = cp_audit(db, *tid, login, "tenant.create", "tenant", name, NULL,
	    rec, NULL);
	json_decref(rec);
	return rc;
}

/* The caller becomes admin when the tenant has no users yet. */
static int first_admin(sqlite3 *db, int64_t tid, const char *login,
    int *made)
{
	char ts[CP_TIME_MAX];
	sqlite3_stmt *st;
	json_t *rec;
	int rc, n;

	*made = 0;
	st = cp_db_prepare(db, "SELECT count(*) FROM users WHERE tenant_id = ?");
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_step(st);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (n > 0)
		return 0;
	cp_time_format(cp_now(), ts);
	st = cp_db_prepare(db, "INSERT INTO users(tenant_id, login, role,"
	    " created_at, updated_at) VALUES (?, ?, 'admin', ?, ?)");
	sqlite3_bind_int64(st, 1, tid);
	cp_db_bind_text(st, 2, login);
	cp_db_bind_text(st, 3, ts);
	cp_db_bind_text(st, 4, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	*made = 1;
	rec = json_pack("{s:s, s:s}", "login", login, "role", "admin");
	rc = cp_audit(db, tid, login, "user.create", "user", login, NULL, rec,
	    "first admin of a new tenant");
	json_decref(rec);
	return rc;
}

/* Adding a tenant to an existing file needs authority over the file. */
static int may_add_tenant(sqlite3 *db, const char *login)
{
	sqlite3_stmt *st;
	int ntenants, admin;

	st = cp_db_prepare(db, "SELECT count(*) FROM tenants");
	sqlite3_step(st);
	ntenants = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ntenants == 0 || cp_may_impersonate(cp_db_filename(db)))
		return 1;
	st = cp_db_prepare(db, "SELECT 1 FROM users WHERE login = ? AND"
	    " role = 'admin' AND active = 1");
	cp_db_bind_text(st, 1, login);
	admin = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return admin;
}

int main(int argc, char **argv)
{
	const char *tenant = NULL, *login;
	char os[128];
	long sla = 48;
	int c, rc, flags = CP_DB_CREATE, created = 0, made = 0;
	int64_t tid = 0;
	sqlite3 *db;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_GROUP:
			flags |= CP_DB_GROUP;
			break;
		case OPT_SLA:
			sla = atol(optarg);
			if (sla <= 0)
				cp_usage_error(usage, "--sla: expected hours > 0");
			break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if ((rc = cp_cli_ready()))
		return rc;
	tenant = cp_cli.tenant;
	if ((rc = cp_db_open(cp_cli.db, flags, &db)))
		return rc;

	cp_os_login(os, sizeof os);
	login = os;
	if (cp_cli.as && strcmp(cp_cli.as, os)) {
		if (!cp_may_impersonate(cp_db_filename(db))) {
			cp_db_close(db);
			cp_err("--as is honoured only for root or the owner of "
			    "the state file");
			return CP_EX_NOPERM;
		}
		login = cp_cli.as;
	}
	if ((rc = cp_db_begin(db)))
		goto out;
	if (!tenant) {
		/* no --tenant: the only tenant there is, or "default" */
		sqlite3_stmt *st = cp_db_prepare(db,
		    "SELECT name FROM tenants ORDER BY id LIMIT 1");
		static char first[256];
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(first, sizeof first, "%s", cp_db_col_text(st, 0));
			tenant = first;
		}
		sqlite3_finalize(st);
		if (!tenant)
			tenant = "default";
	}
	if (!cp_tenant_id(db, tenant) && !may_add_tenant(db, login)) {
		cp_db_rollback(db);
		cp_err("permission denied: only an admin, root or the state "
		    "file's owner may add a tenant");
		rc = CP_EX_NOPERM;
		goto out;
	}
	if ((rc = create_tenant(db, tenant, sla, login, &tid, &created)) ||
	    (rc = first_admin(db, tid, login, &made))) {
		cp_db_rollback(db);
		goto out;
	}
	if ((rc = cp_db_commit(db)))
		goto out;
	/* say what happened, unless -q: init is run by hand */
	if (cp_log_level() >= CP_LOG_WARN) {
		fprintf(stderr, "%s: state file %s, schema %d, tenant %s%s\n",
		    cp_prog(), cp_db_filename(db), cp_db_schema_version(), tenant,
		    created ? " (created)" : "");
		if (made)
			fprintf(stderr, "%s: %s is the admin of tenant %s\n",
			    cp_prog(), login, tenant);
	}
out:
	cp_db_close(db);
	return rc;
}
