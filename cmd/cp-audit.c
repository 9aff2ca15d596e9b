/*
 * cp-audit — read and verify the hash-chained audit log (clientpulse audit).
 *
 *   cp-audit [--entity ID] [--user LOGIN] [--since TIME] [--json]
 *   cp-audit --verify [--anchor HASH] [--json]
 *
 * Listing needs the manager role (audit read): an admin sees the tenant's
 * entries, a manager those about the accounts and cards in their scope
 * and the users of their team; scope is part of the query (rbac.h).
 * Verifying walks the whole chain of the file (every tenant: the chain is
 * one), so it is an admin's job; it prints the head hash, which an
 * operator can record elsewhere and later pass back as --anchor to prove
 * the log was not truncated or rewritten since.
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
#include "pager.h"
#include "rbac.h"
#include "strbuf.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-audit [--entity ID] [--user LOGIN] [--since TIME|AGE] [--json]\n"
	"                [--no-pager]\n"
	"       cp-audit --verify [--anchor HASH] [--json]\n"
	"common options: --db FILE --as USER --tenant NAME -q -v --help --version\n";

enum { OPT_ENTITY = CP_OPT_LOCAL, OPT_USER, OPT_SINCE, OPT_JSON, OPT_VERIFY,
       OPT_ANCHOR, OPT_NOPAGER };

static const struct option longopts[] = {
	{ "entity", required_argument, NULL, OPT_ENTITY },
	{ "user", required_argument, NULL, OPT_USER },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "anchor", required_argument, NULL, OPT_ANCHOR },
	{ "no-pager", no_argument, NULL, OPT_NOPAGER },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static struct {
	const char *entity, *user, *anchor;
	char since[CP_TIME_MAX];
	int json, verify, no_pager;
} o;

static sqlite3 *db;
static cp_user me;

/*
 * The caller's entries.  Managers: entries about an account in scope, a
 * card on such an account, or a user of their team (the same recursive
 * team as rbac.c).  The filters are bound as NULL when not given.
 */
static const char list_sql[] =
	"WITH RECURSIVE team(id) AS ("
	"  SELECT ?2 UNION SELECT u.id FROM users u JOIN team"
	"  ON u.manager_id = team.id WHERE u.tenant_id = ?1) "
	"SELECT a.seq, a.ts, a.actor, a.action, a.entity_type, a.entity_id,"
	"       a.diff, a.reason, a.prev_hash, a.hash "
	"FROM audit a WHERE a.tenant_id = ?1"
	" AND (?3 = 3"
	"  OR (a.entity_type = 'account' AND EXISTS (SELECT 1 FROM temp.scope s"
	"      WHERE s.account_id = a.entity_id))"
	"  OR (a.entity_type = 'card' AND EXISTS (SELECT 1 FROM cards c"
	"      JOIN temp.scope s ON s.account_id = c.account_id"
	"      WHERE c.tenant_id = ?1 AND c.id = a.entity_id))"
	"  OR (a.entity_type = 'user' AND EXISTS (SELECT 1 FROM users u"
	"      JOIN team t ON t.id = u.id"
	"      WHERE u.tenant_id = ?1 AND u.login = a.entity_id)))"
	" AND (?4 IS NULL OR a.entity_id = ?4)"
	" AND (?5 IS NULL OR a.actor = ?5"
	"      OR substr(a.actor, 1, length(?5) + 6) = ?5 || ' (via ')"
	" AND (?6 IS NULL OR a.ts >= ?6)"
	" ORDER BY a.seq";

static json_t *entry_json(sqlite3_stmt *st)
{
	json_t *e = json_object(), *diff;

	json_object_set_new(e, "seq", json_integer(sqlite3_column_int64(st, 0)));
	cp_json_set_str(e, "ts", cp_db_col_text(st, 1));
	cp_json_set_str(e, "tenant", me.tenant);
	cp_json_set_str(e, "actor", cp_db_col_text(st, 2));
	cp_json_set_str(e, "action", cp_db_col_text(st, 3));
	cp_json_set_str(e, "entity_type", cp_db_col_text(st, 4));
	cp_json_set_str(e, "entity_id", cp_db_col_text(st, 5));
	diff = json_loads(cp_db_col_text(st, 6), 0, NULL);
	json_object_set_new(e, "diff", diff ? diff : json_null());
	json_object_set_new(e, "reason",
	    sqlite3_column_type(st, 7) == SQLITE_NULL ? json_null() :
	    json_string(cp_db_col_text(st, 7)));
	cp_json_set_str(e, "prev_hash", cp_db_col_text(st, 8));
	cp_json_set_str(e, "hash", cp_db_col_text(st, 9));
	return e;
}

/* One line for a diff: the keys that changed, "created" or "removed". */
static void diff_summary(strbuf *sb, const char *text)
{
	json_t *d = json_loads(text, 0, NULL);
	json_t *old_v = json_object_get(d, "old"), *new_v = json_object_get(d, "new");
	const char *key;
	json_t *v;
	int n = 0;

	if (json_is_null(old_v) && !json_is_null(new_v))
		sb_adds(sb, "created");
	else if (!json_is_null(old_v) && json_is_null(new_v))
		sb_adds(sb, "removed");
	else if (json_is_object(new_v)) {
		json_object_foreach(new_v, key, v) {
			char *s = cp_json_dumps(v, CP_JSON_SORT);
			sb_addf(sb, "%s%s=%s", n++ ? " " : "", key, s);
			free(s);
		}
		if (json_is_object(old_v))
			json_object_foreach(old_v, key, v)
				if (!json_object_get(new_v, key))
					sb_addf(sb, "%s-%s", n++ ? " " : "", key);
	}
	json_decref(d);
}

static int list(void)
{
	static const char *const head[] = { "SEQ", "TIME", "ACTOR", "ACTION",
	    "ENTITY", "REASON", "CHANGE" };
	sqlite3_stmt *st;
	cp_table *t = NULL;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = cp_rbac_require(&me, CP_ACT_AUDIT_READ)) ||
	    (rc = cp_rbac_load_scope(db, &me)))
		return rc;
	st = cp_db_prepare(db, list_sql);
	sqlite3_bind_int64(st, 1, me.tenant_id);
	sqlite3_bind_int64(st, 2, me.id);
	sqlite3_bind_int(st, 3, (int)me.role);
	cp_db_bind_text(st, 4, o.entity);
	cp_db_bind_text(st, 5, o.user);
	cp_db_bind_text(st, 6, *o.since ? o.since : NULL);
	if (!o.json)
		t = cp_table_new(7, head);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (o.json) {
			json_t *e = entry_json(st);
			cp_emit(e);
			json_decref(e);
		} else {
			strbuf ent = CP_STRBUF_INIT, chg = CP_STRBUF_INIT;
			const char *cells[7];
			sb_addf(&ent, "%s %s", cp_db_col_text(st, 4),
			    cp_db_col_text(st, 5));
			diff_summary(&chg, cp_db_col_text(st, 6));
			cells[0] = (const char *)sqlite3_column_text(st, 0);
			cells[1] = cp_db_col_text(st, 1);
			cells[2] = cp_db_col_text(st, 2);
			cells[3] = cp_db_col_text(st, 3);
			cells[4] = sb_str(&ent);
			cells[5] = cp_db_col_text(st, 7);
			cells[6] = sb_str(&chg);
			cp_table_add(t, cells);
			sb_free(&ent);
			sb_free(&chg);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cp_table_free(t);
		return cp_db_error(db, "read audit log");
	}
	if (!t)
		return 0;
	cp_table_right(t, 0);
	cp_table_flex(t, 6);
	if (!(fp = open_memstream(&buf, &len)))
		cp_die(CP_EX_OSERR, "out of memory");
	cp_table_print_term(t, fp);
	fclose(fp);
	cp_table_free(t);
	rc = cp_page(buf, len, !o.no_pager);
	free(buf);
	return rc;
}

/* Is there an entry with this hash (the anchor an operator recorded)? */
static bool anchor_found(const char *hash)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT 1 FROM audit WHERE hash = ?");
	bool found;

	cp_db_bind_text(st, 1, hash);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int64_t entry_count(void)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT count(*) FROM audit");
	int64_t n = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int verify(void)
{
	char head[CP_SHA256_HEX];
	int64_t walked = 0, bad = 0;
	const char *why = NULL;
	char problem[256] = "";
	int rc;

	if ((rc = cp_rbac_require(&me, CP_ACT_AUDIT_VERIFY)))
		return rc;
	/* one read transaction: the chain and its head from one snapshot */
	if ((rc = cp_db_exec(db, "BEGIN")))
		return rc;
	rc = cp_audit_verify(db, &walked, &bad, &why);
	if (rc > 1) {
		cp_db_rollback(db);
		return rc;
	}
	if (cp_audit_head(db, head)) {
		cp_db_rollback(db);
		return CP_EX_SOFTWARE;
	}
	if (rc == 1)
		snprintf(problem, sizeof problem, "broken at entry %lld: %s",
		    (long long)bad, why);
	else if (o.anchor && !anchor_found(o.anchor))
		snprintf(problem, sizeof problem, "anchor %s not found: the log "
		    "was truncated or rewritten after it", o.anchor);
	walked = entry_count();
	cp_db_rollback(db);

	if (o.json) {
		json_t *r = json_pack("{s:I, s:s, s:b}", "entries",
		    (json_int_t)walked, "head", head, "intact", !*problem);
		json_object_set_new(r, "first_bad", bad ? json_integer(bad) :
		    json_null());
		json_object_set_new(r, "problem", *problem ? json_string(problem) :
		    json_null());
		if (o.anchor)
			cp_json_set_str(r, "anchor", o.anchor);
		cp_emit(r);
		json_decref(r);
	} else {
		printf("entries  %lld\nhead     %s\nchain    %s\n",
		    (long long)walked, head, *problem ? problem : "intact");
	}
	if (*problem) {
		cp_err("audit chain %s", problem);
		return CP_EX_FINDINGS;
	}
	return 0;
}

static bool valid_hash(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return i == 64;
}

int main(int argc, char **argv)
{
	int c, rc;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_ENTITY: o.entity = optarg; break;
		case OPT_USER: o.user = optarg; break;
		case OPT_SINCE: {
			time_t t;
			if (!cp_time_or_age(optarg, &t))
				cp_usage_error(usage, "--since: expected a time "
				    "(2026-11-25T10:00:00Z) or an age (7d), not '%s'",
				    optarg);
			cp_time_format(t, o.since);
			break;
		}
		case OPT_JSON: o.json = 1; break;
		case OPT_VERIFY: o.verify = 1; break;
		case OPT_ANCHOR:
			if (!valid_hash(optarg))
				cp_usage_error(usage, "--anchor: expected 64 "
				    "lowercase hex digits");
			o.anchor = optarg;
			break;
		case OPT_NOPAGER: o.no_pager = 1; break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (o.verify && (o.entity || o.user || *o.since))
		cp_usage_error(usage, "--verify walks the whole chain; it takes "
		    "no filters");
	if (o.anchor && !o.verify)
		cp_usage_error(usage, "--anchor goes with --verify");
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, CP_DB_READONLY, &db)))
		return rc;
	if (!(rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		rc = o.verify ? verify() : list();
	cp_db_close(db);
	return cp_ndjson_status(rc);
}
