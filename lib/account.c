#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

static const char *const known_fields[] = {
	"id", "name", "aliases", "domain", "ticker", "cik", "industry",
	"segment", "tier", "owner", "feeds", "greenhouse_token", "lever_site",
	"hubspot_id", "salesforce_id", "meta", "tenant", "deleted", NULL
};

char *cp_slug(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;
	bool dash = false;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) && c < 0x80) {
			if (dash && sb.len)
				sb_addc(&sb, '-');
			sb_addc(&sb, (char)tolower(c));
			dash = false;
		} else {
			dash = true;
		}
	}
	if (!sb.len)
		sb_adds(&sb, "account");
	return sb_detach(&sb);
}

static bool string_array(json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return false;
	return true;
}

/* "https://www.Example.com/about" -> "example.com" */
static bool norm_domain(json_t *rec, char *err, size_t errlen)
{
	const char *d = cp_json_str(rec, "domain");
	char buf[256], *p, *q;

	if (!d)
		return true;
	if (strncmp(d, "http://", 7) == 0)
		d += 7;
	else if (strncmp(d, "https://", 8) == 0)
		d += 8;
	if (strncmp(d, "www.", 4) == 0)
		d += 4;
	snprintf(buf, sizeof buf, "%s", d);
	if ((p = strpbrk(buf, "/?#:")) != NULL)
		*p = '\0';
	for (q = buf; *q; q++) {
		*q = (char)tolower((unsigned char)*q);
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-') {
			snprintf(err, errlen, "domain: not a host name: %s", d);
			return false;
		}
	}
	if (!*buf || !strchr(buf, '.')) {
		snprintf(err, errlen, "domain: not a host name: %s", d);
		return false;
	}
	json_object_set_new(rec, "domain", json_string(buf));
	return true;
}

static bool norm_cik(json_t *rec, char *err, size_t errlen)
{
	json_t *v = json_object_get(rec, "cik");
	char buf[32];
	const char *s;
	size_t i;

	if (!v || json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%010lld", (long long)json_integer_value(v));
	} else if ((s = json_string_value(v)) != NULL) {
		while (*s == ' ')
			s++;
		if (strncasecmp(s, "CIK", 3) == 0)
			s += 3;
		if (strlen(s) > 10 || !*s) {
			snprintf(err, errlen, "cik: expected up to 10 digits");
			return false;
		}
		for (i = 0; s[i]; i++)
			if (!isdigit((unsigned char)s[i])) {
				snprintf(err, errlen, "cik: expected digits");
				return false;
			}
		snprintf(buf, sizeof buf, "%010lld", atoll(s));
	} else {
		snprintf(err, errlen, "cik: expected a string of digits");
		return false;
	}
	if (strlen(buf) > 10) {
		snprintf(err, errlen, "cik: expected up to 10 digits");
		return false;
	}
	json_object_set_new(rec, "cik", json_string(buf));
	return true;
}

bool cp_account_normalise(json_t *rec, char *err, size_t errlen)
{
	const char *key, *s;
	json_t *v;
	size_t i;

	json_object_foreach(rec, key, v) {
		for (i = 0; known_fields[i]; i++)
			if (!strcmp(key, known_fields[i]))
				break;
		if (!known_fields[i]) {
			snprintf(err, errlen, "unknown field \"%s\" (free-form "
			    "data goes in \"meta\")", key);
			return false;
		}
		if (json_is_null(v))
			continue;
		if (!strcmp(key, "aliases") || !strcmp(key, "feeds")) {
			if (!string_array(v)) {
				snprintf(err, errlen, "%s: expected an array of "
				    "strings", key);
				return false;
			}
		} else if (!strcmp(key, "meta")) {
			if (!json_is_object(v)) {
				snprintf(err, errlen, "meta: expected an object");
				return false;
			}
		} else if (!strcmp(key, "tier")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 5) {
				snprintf(err, errlen, "tier: expected 1 to 5");
				return false;
			}
		} else if (!strcmp(key, "cik") || !strcmp(key, "deleted")) {
			continue;
		} else if (!json_is_string(v)) {
			snprintf(err, errlen, "%s: expected a string", key);
			return false;
		}
	}
	s = cp_json_str(rec, "name");
	if (!s || !*s) {
		snprintf(err, errlen, "missing field \"name\"");
		return false;
	}
	if (strlen(s) > 300) {
		snprintf(err, errlen, "name: longer than 300 bytes");
		return false;
	}
	if ((s = cp_json_str(rec, "id")) != NULL) {
		if (!*s || strlen(s) > 100 || strpbrk(s, " \t\n/")) {
			snprintf(err, errlen, "id: 1 to 100 characters, no "
			    "spaces or slashes");
			return false;
		}
	}
	if (!norm_domain(rec, err, errlen) || !norm_cik(rec, err, errlen))
		return false;
	if ((s = cp_json_str(rec, "ticker")) != NULL) {
		char t[16];
		for (i = 0; s[i] && i < sizeof t - 1; i++)
			t[i] = (char)toupper((unsigned char)s[i]);
		t[i] = '\0';
		if (s[i] || !*t) {
			snprintf(err, errlen, "ticker: 1 to 15 characters");
			return false;
		}
		json_object_set_new(rec, "ticker", json_string(t));
	}
	if ((v = json_object_get(rec, "feeds")) != NULL && json_is_array(v)) {
		json_t *f;
		json_array_foreach(v, i, f) {
			s = json_string_value(f);
			if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8) &&
			    strncmp(s, "file://", 7)) {
				snprintf(err, errlen, "feeds: not an http(s) or "
				    "file URL: %s", s);
				return false;
			}
		}
	}
	return true;
}

static const char select_cols[] =
	"SELECT a.id, a.name, a.aliases, a.domain, a.ticker, a.cik, a.industry,"
	" a.segment, a.tier, u.login, a.feeds, a.greenhouse_token, a.lever_site,"
	" a.hubspot_id, a.salesforce_id, a.meta, a.deleted_at, a.tenant_id,"
	" t.name, a.version"
	" FROM accounts a JOIN tenants t ON t.id = a.tenant_id"
	" LEFT JOIN users u ON u.id = a.owner_id ";

static void set_text(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_NULL)
		json_object_set_new(o, key, json_string(cp_db_col_text(st, col)));
}

static void set_json(json_t *o, const char *key, sqlite3_stmt *st, int col)
{
	json_t *v = json_loads(cp_db_col_text(st, col), JSON_DECODE_ANY, NULL);
	if (v)
		json_object_set_new(o, key, v);
}

static json_t *row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();

	set_text(o, "id", st, 0);
	set_text(o, "name", st, 1);
	set_json(o, "aliases", st, 2);
	set_text(o, "domain", st, 3);
	set_text(o, "ticker", st, 4);
	set_text(o, "cik", st, 5);
	set_text(o, "industry", st, 6);
	set_text(o, "segment", st, 7);
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		json_object_set_new(o, "tier",
		    json_integer(sqlite3_column_int(st, 8)));
	set_text(o, "owner", st, 9);
	set_json(o, "feeds", st, 10);
	set_text(o, "greenhouse_token", st, 11);
	set_text(o, "lever_site", st, 12);
	set_text(o, "hubspot_id", st, 13);
	set_text(o, "salesforce_id", st, 14);
	set_json(o, "meta", st, 15);
	if (sqlite3_column_type(st, 16) != SQLITE_NULL)
		json_object_set_new(o, "deleted", json_true());
	json_object_set_new(o, "tenant", json_string(cp_db_col_text(st, 18)));
	return o;
}

json_t *cp_account_get_json(sqlite3 *db, int64_t tenant_id, const char *id)
{
	strbuf sql = CP_STRBUF_INIT;
	sqlite3_stmt *st;
	json_t *o = NULL;

	sb_adds(&sql, select_cols);
	sb_adds(&sql, "WHERE a.tenant_id = ? AND a.id = ?");
	st = cp_db_prepare(db, sql.buf);
	sb_free(&sql);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = row_json(st);
	sqlite3_finalize(st);
	return o;
}

/* An id for a new account: slug of domain or name, made unique. */
static char *new_id(sqlite3 *db, int64_t tenant_id, json_t *rec)
{
	const char *base = cp_json_str(rec, "domain");
	char *slug = cp_slug(base ? base : cp_json_str(rec, "name"));
	char *id = xstrdup(slug);
	int n = 2;
	json_t *clash;

	while ((clash = cp_account_get_json(db, tenant_id, id)) != NULL) {
		json_decref(clash);
		free(id);
		id = xasprintf("%s-%d", slug, n++);
	}
	free(slug);
	return id;
}

static char *find_by_domain(sqlite3 *db, int64_t tenant_id, const char *dom)
{
	sqlite3_stmt *st;
	char *id = NULL;

	if (!dom)
		return NULL;
	st = cp_db_prepare(db, "SELECT id FROM accounts WHERE tenant_id = ? AND"
	    " domain = ? ORDER BY deleted_at IS NOT NULL, id LIMIT 1");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, dom);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = xstrdup(cp_db_col_text(st, 0));
	sqlite3_finalize(st);
	return id;
}

static void bind_field(sqlite3_stmt *st, int idx, json_t *rec,
    const char *key)
{
	json_t *v = json_object_get(rec, key);

	if (!v || json_is_null(v))
		sqlite3_bind_null(st, idx);
	else if (json_is_string(v))
		cp_db_bind_text(st, idx, json_string_value(v));
	else if (json_is_integer(v))
		sqlite3_bind_int64(st, idx, json_integer_value(v));
	else {
		char *s = cp_json_dumps(v, 0);
		sqlite3_bind_text(st, idx, s, -1, free);
	}
}

int cp_account_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome, char *err, size_t errlen)
{
	char ts[CP_TIME_MAX];
	char *id;
	json_t *old, *merged, *cmp_old, *cmp_new;
	const char *key, *owner;
	json_t *v;
	int64_t owner_id = 0;
	sqlite3_stmt *st;
	int rc;

	*outcome = 0;
	if (cp_json_str(rec, "id"))
		id = xstrdup(cp_json_str(rec, "id"));
	else if (!(id = find_by_domain(db, tenant_id, cp_json_str(rec,
	    "domain"))))
		id = new_id(db, tenant_id, rec);
	old = cp_account_get_json(db, tenant_id, id);
	merged = old ? json_deep_copy(old) : json_object();
	json_object_foreach(rec, key, v)
		if (strcmp(key, "tenant") && strcmp(key, "deleted"))
			json_object_set(merged, key, v);
	json_object_set_new(merged, "id", json_string(id));
	json_object_del(merged, "deleted");
	json_object_del(merged, "tenant");
	if (!json_object_get(merged, "aliases"))
		json_object_set_new(merged, "aliases", json_array());
	if (!json_object_get(merged, "feeds"))
		json_object_set_new(merged, "feeds", json_array());
	if (!json_object_get(merged, "meta"))
		json_object_set_new(merged, "meta", json_object());

	if ((owner = cp_json_str(merged, "owner")) != NULL) {
		st = cp_db_prepare(db, "SELECT id FROM users WHERE tenant_id = ?"
		    " AND login = ? AND active = 1");
		sqlite3_bind_int64(st, 1, tenant_id);
		cp_db_bind_text(st, 2, owner);
		if (sqlite3_step(st) == SQLITE_ROW)
			owner_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (!owner_id) {
			snprintf(err, errlen, "owner: no active user '%s' in "
			    "this tenant", owner);
			json_decref(old);
			json_decref(merged);
			free(id);
			return CP_EX_DATAERR;
		}
	}

	/* unchanged and live: nothing to write, nothing to audit */
	cmp_old = old ? json_deep_copy(old) : NULL;
	cmp_new = json_deep_copy(merged);
	if (cmp_old) {
		json_object_del(cmp_old, "tenant");
		if (!json_object_get(old, "deleted") && json_equal(cmp_old, cmp_new)) {
			json_decref(cmp_old);
			json_decref(cmp_new);
			json_decref(old);
			json_decref(merged);
			free(id);
			return 0;
		}
	}
	json_decref(cmp_new);

	cp_time_format(cp_now(), ts);
	if (old)
		st = cp_db_prepare(db,
		    "UPDATE accounts SET name=?3, aliases=?4, domain=?5, ticker=?6,"
		    " cik=?7, industry=?8, segment=?9, tier=?10, owner_id=?11,"
		    " feeds=?12, greenhouse_token=?13, lever_site=?14,"
		    " hubspot_id=?15, salesforce_id=?16, meta=?17,"
		    " deleted_at=NULL, updated_at=?18, version=version+1"
		    " WHERE tenant_id=?1 AND id=?2");
	else
		st = cp_db_prepare(db,
		    "INSERT INTO accounts(tenant_id, id, name, aliases, domain,"
		    " ticker, cik, industry, segment, tier, owner_id, feeds,"
		    " greenhouse_token, lever_site, hubspot_id, salesforce_id,"
		    " meta, created_at, updated_at)"
		    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
		    "?16,?17,?18,?18)");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	bind_field(st, 3, merged, "name");
	bind_field(st, 4, merged, "aliases");
	bind_field(st, 5, merged, "domain");
	bind_field(st, 6, merged, "ticker");
	bind_field(st, 7, merged, "cik");
	bind_field(st, 8, merged, "industry");
	bind_field(st, 9, merged, "segment");
	bind_field(st, 10, merged, "tier");
	if (owner_id)
		sqlite3_bind_int64(st, 11, owner_id);
	else
		sqlite3_bind_null(st, 11);
	bind_field(st, 12, merged, "feeds");
	bind_field(st, 13, merged, "greenhouse_token");
	bind_field(st, 14, merged, "lever_site");
	bind_field(st, 15, merged, "hubspot_id");
	bind_field(st, 16, merged, "salesforce_id");
	bind_field(st, 17, merged, "meta");
	cp_db_bind_text(st, 18, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (!rc)
		rc = cp_audit(db, tenant_id, actor,
		    old ? "account.update" : "account.create", "account", id,
		    cmp_old, merged, NULL);
	if (!rc)
		*outcome = old ? 2 : 1;
	json_decref(cmp_old);
	json_decref(old);
	/* hand the stored form back to the caller */
	json_object_set_new(rec, "id", json_string(id));
	json_decref(merged);
	free(id);
	return rc;
}

static char *dupcol(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL :
	    xstrdup(cp_db_col_text(st, col));
}

static char **str_list(const char *json, size_t *n)
{
	json_t *a = json_loads(json, 0, NULL), *e;
	char **v;
	size_t i, k = 0;

	*n = 0;
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	v = xcalloc(json_array_size(a) + 1, sizeof *v);
	json_array_foreach(a, i, e)
		if (json_is_string(e))
			v[k++] = xstrdup(json_string_value(e));
	*n = k;
	json_decref(a);
	return v;
}

int cp_accounts_load(sqlite3 *db, int64_t tenant_id, cp_accounts *out)
{
	strbuf sql = CP_STRBUF_INIT;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	out->v = NULL;
	out->n = 0;
	sb_adds(&sql, select_cols);
	sb_adds(&sql, "WHERE a.deleted_at IS NULL AND (?1 = 0 OR a.tenant_id = ?1)"
	    " ORDER BY a.tenant_id, a.id");
	st = cp_db_prepare(db, sql.buf);
	sb_free(&sql);
	sqlite3_bind_int64(st, 1, tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cp_account *a;

		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		a = &out->v[out->n++];
		memset(a, 0, sizeof *a);
		a->id = dupcol(st, 0);
		a->name = dupcol(st, 1);
		a->aliases = str_list(cp_db_col_text(st, 2), &a->naliases);
		a->domain = dupcol(st, 3);
		a->ticker = dupcol(st, 4);
		a->cik = dupcol(st, 5);
		a->industry = dupcol(st, 6);
		a->segment = dupcol(st, 7);
		a->tier = sqlite3_column_int(st, 8);
		a->owner = dupcol(st, 9);
		a->feeds = str_list(cp_db_col_text(st, 10), &a->nfeeds);
		a->greenhouse_token = dupcol(st, 11);
		a->lever_site = dupcol(st, 12);
		a->hubspot_id = dupcol(st, 13);
		a->salesforce_id = dupcol(st, 14);
		a->meta = json_loads(cp_db_col_text(st, 15), 0, NULL);
		if (!json_is_object(a->meta)) {
			json_decref(a->meta);
			a->meta = json_object();
		}
		a->tenant_id = sqlite3_column_int64(st, 17);
		a->tenant = dupcol(st, 18);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cp_accounts_free(out);
		return cp_db_error(db, "load accounts");
	}
	return 0;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void cp_accounts_free(cp_accounts *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		cp_account *a = &as->v[i];
		free(a->tenant);
		free(a->id);
		free(a->name);
		free_list(a->aliases, a->naliases);
		free(a->domain);
		free(a->ticker);
		free(a->cik);
		free(a->industry);
		free(a->segment);
		free(a->owner);
		free_list(a->feeds, a->nfeeds);
		free(a->greenhouse_token);
		free(a->lever_site);
		free(a->hubspot_id);
		free(a->salesforce_id);
		json_decref(a->meta);
	}
	free(as->v);
	as->v = NULL;
	as->n = 0;
}

const cp_account *cp_accounts_find(const cp_accounts *as, int64_t tenant_id,
    const char *id)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if ((!tenant_id || as->v[i].tenant_id == tenant_id) &&
		    strcmp(as->v[i].id, id) == 0)
			return &as->v[i];
	return NULL;
}
