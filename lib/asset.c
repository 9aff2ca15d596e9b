#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

const char *const cp_asset_kinds[] = {
	"case_study", "whitepaper", "deck", "webinar", "one_pager", "guide",
	"report", "video", "demo", "blog", "calculator", NULL
};

static bool in_list(const char *const *l, const char *s)
{
	size_t i;

	for (i = 0; s && l[i]; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

static bool strlist(json_t *rec, const char *key, bool lc, char *err,
    size_t errlen)
{
	json_t *a = json_object_get(rec, key), *e, *out;
	size_t i;

	if (!a) {
		json_object_set_new(rec, key, json_array());
		return true;
	}
	if (!json_is_array(a)) {
		snprintf(err, errlen, "%s: expected an array of strings", key);
		return false;
	}
	out = json_array();
	json_array_foreach(a, i, e) {
		char *s, *p;
		if (!json_is_string(e) || !json_string_length(e)) {
			snprintf(err, errlen, "%s: expected an array of non-empty "
			    "strings", key);
			json_decref(out);
			return false;
		}
		s = xstrdup(json_string_value(e));
		for (p = s; lc && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(out, json_string(s));
		free(s);
	}
	json_object_set_new(rec, key, out);
	return true;
}

static bool need_str(json_t *rec, const char *key, char *err, size_t errlen)
{
	const char *s = cp_json_str(rec, key);

	if (!json_object_get(rec, key)) {
		snprintf(err, errlen, "missing field \"%s\"", key);
		return false;
	}
	if (!s || !*s) {
		snprintf(err, errlen, "%s: expected a non-empty string", key);
		return false;
	}
	return true;
}

bool cp_asset_normalise(json_t *rec, const cp_scorecfg *cfg, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "id", "kind", "title", "url",
	    "summary", "themes", "industries", "tags", "tenant", NULL };
	const char *k, *url;
	json_t *x;
	size_t i;

	json_object_foreach(rec, k, x)
		if (!in_list(keys, k)) {
			snprintf(err, errlen, "unknown field \"%s\"", k);
			return false;
		}
	json_object_del(rec, "tenant");
	if (!need_str(rec, "title", err, errlen) ||
	    !need_str(rec, "url", err, errlen) ||
	    !need_str(rec, "kind", err, errlen))
		return false;
	url = cp_json_str(rec, "url");
	if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
		snprintf(err, errlen, "url: expected an http or https URL");
		return false;
	}
	if (!in_list(cp_asset_kinds, cp_json_str(rec, "kind"))) {
		snprintf(err, errlen, "kind: \"%.40s\" is not one of case_study, "
		    "whitepaper, deck, webinar, one_pager, guide, report, video, "
		    "demo, blog, calculator", cp_json_str(rec, "kind"));
		return false;
	}
	if (json_object_get(rec, "summary") && !cp_json_str(rec, "summary")) {
		snprintf(err, errlen, "summary: expected a string");
		return false;
	}
	if (!json_object_get(rec, "summary"))
		json_object_set_new(rec, "summary", json_string(""));
	if (!strlist(rec, "themes", false, err, errlen) ||
	    !strlist(rec, "industries", true, err, errlen) ||
	    !strlist(rec, "tags", true, err, errlen))
		return false;
	json_array_foreach(json_object_get(rec, "themes"), i, x)
		if (!cp_scorecfg_theme(cfg, json_string_value(x))) {
			snprintf(err, errlen, "themes: unknown theme \"%.40s\"",
			    json_string_value(x));
			return false;
		}
	if (!json_object_get(rec, "id")) {
		char *slug = cp_slug(cp_json_str(rec, "title"));
		json_object_set_new(rec, "id", json_string(slug));
		free(slug);
	} else if (!cp_json_str(rec, "id") || !*cp_json_str(rec, "id") ||
	    strlen(cp_json_str(rec, "id")) > 80) {
		snprintf(err, errlen, "id: expected a string of 1 to 80 bytes");
		return false;
	}
	return true;
}

json_t *cp_asset_get_json(sqlite3 *db, int64_t tenant_id, const char *id)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT record FROM assets"
	    " WHERE tenant_id = ? AND id = ?");
	json_t *r = NULL;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = json_loads(cp_db_col_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	return r;
}

int cp_asset_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome)
{
	const char *id = cp_json_str(rec, "id");
	json_t *old = cp_asset_get_json(db, tenant_id, id);
	char ts[CP_TIME_MAX], *text, *th, *ind, *tags;
	sqlite3_stmt *st;
	int rc;

	*outcome = 0;
	if (old && json_equal(old, rec)) {
		json_decref(old);
		return 0;
	}
	cp_time_format(cp_now(), ts);
	text = cp_json_dumps(rec, 0);
	th = cp_json_dumps(json_object_get(rec, "themes"), 0);
	ind = cp_json_dumps(json_object_get(rec, "industries"), 0);
	tags = cp_json_dumps(json_object_get(rec, "tags"), 0);
	if (old)
		st = cp_db_prepare(db, "UPDATE assets SET kind = ?3, title = ?4,"
		    " url = ?5, summary = ?6, themes = ?7, industries = ?8,"
		    " tags = ?9, record = ?10, updated_at = ?11,"
		    " version = version + 1 WHERE tenant_id = ?1 AND id = ?2");
	else
		st = cp_db_prepare(db, "INSERT INTO assets (tenant_id, id, kind,"
		    " title, url, summary, themes, industries, tags, record,"
		    " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		    " ?7, ?8, ?9, ?10, ?11, ?11)");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	cp_db_bind_text(st, 3, cp_json_str(rec, "kind"));
	cp_db_bind_text(st, 4, cp_json_str(rec, "title"));
	cp_db_bind_text(st, 5, cp_json_str(rec, "url"));
	cp_db_bind_text(st, 6, cp_json_strd(rec, "summary", ""));
	cp_db_bind_text(st, 7, th);
	cp_db_bind_text(st, 8, ind);
	cp_db_bind_text(st, 9, tags);
	cp_db_bind_text(st, 10, text);
	cp_db_bind_text(st, 11, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	free(text);
	free(th);
	free(ind);
	free(tags);
	if (!rc)
		rc = cp_audit(db, tenant_id, actor, old ? "asset.update" :
		    "asset.create", "asset", id, old, rec, NULL);
	if (!rc)
		*outcome = old ? 2 : 1;
	json_decref(old);
	return rc;
}

bool cp_fts_terms(strbuf *q, const char *s, const char *sep)
{
	bool any = false;

	while (s && *s) {
		size_t n = 0;
		/* a word: letters, digits, '_' and any non-ASCII byte */
		while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '_' ||
		    (unsigned char)s[n] >= 0x80))
			n++;
		if (!n) {
			s++;
			continue;
		}
		if (any)
			sb_adds(q, sep);
		sb_addc(q, '"');
		sb_add(q, s, n);
		sb_addc(q, '"');
		any = true;
		s += n;
	}
	return any;
}

/* bm25 weights: title, summary, themes, industries, tags */
#define RANK "bm25(assets_fts, 4.0, 1.0, 6.0, 2.0, 3.0)"

json_t *cp_asset_search(sqlite3 *db, int64_t tenant_id, const char *fts,
    long limit, int *rc)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT a.record, " RANK
	    " FROM assets_fts JOIN assets a ON a.seq = assets_fts.rowid"
	    " WHERE assets_fts MATCH ?2 AND a.tenant_id = ?1"
	    " ORDER BY 2, a.id LIMIT ?3");
	json_t *out = json_array();
	int s;

	*rc = 0;
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, fts);
	sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *r = json_loads(cp_db_col_text(st, 0), 0, NULL);
		if (!r)
			continue;
		/* bm25 is negative, lower is better; show a plain rank */
		json_object_set_new(r, "rank", json_real(cp_score_round(
		    -sqlite3_column_double(st, 1), 4)));
		json_array_append_new(out, r);
	}
	if (s != SQLITE_DONE) {
		cp_err("search: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		json_decref(out);
		*rc = CP_EX_USAGE;
		return NULL;
	}
	sqlite3_finalize(st);
	return out;
}

static json_t *id_array(const cp_playbook *pb)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; pb && i < pb->assets.n; i++)
		json_array_append_new(a, json_string(pb->assets.v[i]));
	return a;
}

long cp_asset_count(sqlite3 *db, int64_t tenant_id, const cp_playbook *pb,
    const char *theme)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT count(*) FROM assets a"
	    " WHERE a.tenant_id = ?1 AND (a.id IN (SELECT value FROM"
	    " json_each(?3)) OR EXISTS (SELECT 1 FROM json_each(a.themes)"
	    " WHERE value = ?2))");
	char *ids;
	long n = 0;
	json_t *a = id_array(pb);

	ids = cp_json_dumps(a, 0);
	json_decref(a);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, theme);
	cp_db_bind_text(st, 3, ids);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(ids);
	return n;
}

static json_t *ref(const json_t *rec)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "id", cp_json_strd(rec, "id", ""),
	    "kind", cp_json_strd(rec, "kind", ""), "title",
	    cp_json_strd(rec, "title", ""), "url", cp_json_strd(rec, "url", ""));
}

static bool listed(const json_t *refs, const char *id)
{
	size_t i;
	json_t *r;

	json_array_foreach(refs, i, r)
		if (!strcmp(cp_json_strd(r, "id", ""), id))
			return true;
	return false;
}

/* An FTS5 phrase of the words of s ("first 90 days"); false when none. */
static bool phrase(strbuf *q, const char *s)
{
	strbuf w = CP_STRBUF_INIT;
	bool any = cp_fts_terms(&w, s, " ");
	const char *p;

	if (any) {
		/* "a" "b" -> "a b": one phrase, not a list */
		sb_addc(q, '"');
		for (p = w.buf; *p; p++)
			if (*p != '"')
				sb_addc(q, *p);
		sb_addc(q, '"');
	}
	sb_free(&w);
	return any;
}

json_t *cp_asset_refs(sqlite3 *db, int64_t tenant_id, const cp_playbook *pb,
    const char *theme, const char *industry, long limit)
{
	json_t *refs = json_array();
	strbuf q = CP_STRBUF_INIT, terms = CP_STRBUF_INIT;
	const struct cp_strs *ts = NULL;
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; pb && i < pb->assets.n &&
	    (long)json_array_size(refs) < limit; i++) {
		json_t *a = cp_asset_get_json(db, tenant_id, pb->assets.v[i]);
		if (a)
			json_array_append_new(refs, ref(a));
		json_decref(a);
	}
	if ((long)json_array_size(refs) >= limit)
		return refs;
	/* assets of the theme or about the playbook's terms (else its
	 * keywords): those of the theme first, then those of the account's
	 * industry, then the best BM25 match */
	sb_adds(&q, "themes : ");
	if (!phrase(&q, theme)) {
		sb_free(&q);
		return refs;
	}
	if (pb)
		ts = pb->asset_terms.n ? &pb->asset_terms : &pb->keywords;
	for (i = 0; ts && i < ts->n; i++) {
		if (terms.len)
			sb_adds(&terms, " OR ");
		if (!phrase(&terms, ts->v[i]) && terms.len)
			sb_truncate(&terms, terms.len - 4);
	}
	if (terms.len)
		sb_addf(&q, " OR {title summary tags} : (%s)", terms.buf);
	st = cp_db_prepare(db, "SELECT a.record FROM assets_fts"
	    " JOIN assets a ON a.seq = assets_fts.rowid"
	    " WHERE assets_fts MATCH ?2 AND a.tenant_id = ?1"
	    " ORDER BY EXISTS (SELECT 1 FROM json_each(a.themes)"
	    "  WHERE value = ?5) DESC,"
	    " EXISTS (SELECT 1 FROM json_each(a.industries)"
	    "  WHERE value = lower(?3)) DESC, " RANK ", a.id LIMIT ?4");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, q.buf);
	cp_db_bind_text(st, 3, industry);
	sqlite3_bind_int64(st, 4, limit + (pb ? (long)pb->assets.n : 0));
	cp_db_bind_text(st, 5, theme);
	while ((long)json_array_size(refs) < limit &&
	    sqlite3_step(st) == SQLITE_ROW) {
		json_t *a = json_loads(cp_db_col_text(st, 0), 0, NULL);
		if (a && !listed(refs, cp_json_strd(a, "id", "")))
			json_array_append_new(refs, ref(a));
		json_decref(a);
	}
	sqlite3_finalize(st);
	sb_free(&q);
	sb_free(&terms);
	return refs;
}
