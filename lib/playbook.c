#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "playbook.h"
#include "template.h"
#include "timefmt.h"

const char *const cp_playbook_prereqs[] = {
	"owner", "contact", "senior_contact", "amount", "headcount", "crm_id",
	"domain", NULL
};

const char *const cp_amount_rules[] = {
	"fixed", "percent_of_amount", "per_headcount", "per_posting", NULL
};

static const char *const list_conds[] = {
	"industries", "segments", "sources", "keywords", "entities", "roles",
	"functions", NULL
};

static bool in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; s && list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* ---- validation ----------------------------------------------------- */

struct val {
	char *err;
	size_t errlen;
};

static bool fail(struct val *v, const char *fmt, const char *a, const char *b)
{
	snprintf(v->err, v->errlen, fmt, a, b);
	return false;
}

static bool only_keys(struct val *v, json_t *o, const char *const *keys,
    const char *where)
{
	const char *k;
	json_t *x;

	json_object_foreach(o, k, x)
		if (!in_list(keys, k))
			return fail(v, "%sunknown field \"%s\"", where, k);
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* An array of non-empty strings (lower-cased when lc), made present. */
static bool str_list(struct val *v, json_t *o, const char *key, bool lc,
    const char *where)
{
	json_t *a = json_object_get(o, key), *e, *out;
	size_t i;

	if (!a) {
		json_object_set_new(o, key, json_array());
		return true;
	}
	if (!json_is_array(a))
		return fail(v, "%s%s: expected an array of strings", where, key);
	out = json_array();
	json_array_foreach(a, i, e) {
		char *s;
		if (!json_is_string(e) || !json_string_length(e)) {
			json_decref(out);
			return fail(v, "%s%s: expected an array of non-empty strings",
			    where, key);
		}
		s = xstrdup(json_string_value(e));
		if (lc)
			lower(s);
		json_array_append_new(out, json_string(s));
		free(s);
	}
	json_object_set_new(o, key, out);
	return true;
}

static bool tpl(struct val *v, json_t *o, const char *key, bool required,
    const char *where)
{
	json_t *s = json_object_get(o, key);
	char e[200], msg[300];

	if (!s) {
		if (!required)
			return true;
		return fail(v, "%smissing field \"%s\"", where, key);
	}
	if (!json_is_string(s) || !json_string_length(s))
		return fail(v, "%s%s: expected a non-empty string", where, key);
	if (!cp_tpl_check(json_string_value(s), e, sizeof e)) {
		snprintf(msg, sizeof msg, "%s: %s", key, e);
		return fail(v, "%s%s", where, msg);
	}
	return true;
}

static bool when(struct val *v, json_t *rec)
{
	static const char *const keys[] = { "industries", "segments", "tiers",
	    "sources", "keywords", "entities", "roles", "functions",
	    "min_amount", "min_headcount", NULL };
	json_t *w = json_object_get(rec, "when"), *t, *e;
	size_t i;
	int k;

	if (!w) {
		w = json_object();
		json_object_set_new(rec, "when", w);
	}
	if (!json_is_object(w))
		return fail(v, "%s%s", "when: expected an object", "");
	if (!only_keys(v, w, keys, "when: "))
		return false;
	for (k = 0; list_conds[k]; k++)
		if (!str_list(v, w, list_conds[k],
		    strcmp(list_conds[k], "roles") != 0, "when: "))
			return false;
	json_array_foreach(json_object_get(w, "entities"), i, e)
		if (!cp_entity_kind(json_string_value(e)))
			return fail(v, "when: entities: unknown kind \"%s\"%s",
			    json_string_value(e), "");
	t = json_object_get(w, "tiers");
	if (!t)
		json_object_set_new(w, "tiers", t = json_array());
	if (!json_is_array(t))
		return fail(v, "%s%s", "when: tiers: expected an array", "");
	json_array_foreach(t, i, e)
		if (!json_is_integer(e) || json_integer_value(e) < 1 ||
		    json_integer_value(e) > 5)
			return fail(v, "%s%s", "when: tiers: expected numbers 1 to 5",
			    "");
	for (k = 0; k < 2; k++) {
		const char *key = k ? "min_headcount" : "min_amount";
		json_t *n = json_object_get(w, key);
		if (!n)
			json_object_set_new(w, key, json_integer(0));
		else if (!json_is_number(n) || json_number_value(n) < 0)
			return fail(v, "when: %s: expected a number >= 0%s", key, "");
	}
	return true;
}

static bool amount(struct val *v, json_t *a)
{
	static const char *const keys[] = { "rule", "value", "percent", "per",
	    "min", "max", "default", NULL };
	const char *rule = cp_json_str(a, "rule"), *need = NULL, *k;
	json_t *x;

	if (!json_is_object(a))
		return fail(v, "%s%s", "crm: opportunity: amount: expected an object",
		    "");
	if (!only_keys(v, a, keys, "crm: opportunity: amount: "))
		return false;
	if (!in_list(cp_amount_rules, rule))
		return fail(v, "crm: opportunity: amount: rule must be one of "
		    "fixed, percent_of_amount, per_headcount, per_posting%s%s",
		    "", "");
	if (!strcmp(rule, "fixed"))
		need = "value";
	else if (!strcmp(rule, "percent_of_amount"))
		need = "percent";
	else
		need = "per";
	if (!json_is_number(json_object_get(a, need)))
		return fail(v, "crm: opportunity: amount: rule %s needs a number "
		    "\"%s\"", rule, need);
	json_object_foreach(a, k, x)
		if (strcmp(k, "rule") && (!json_is_number(x) ||
		    json_number_value(x) < 0))
			return fail(v, "crm: opportunity: amount: %s: expected a "
			    "number >= 0%s", k, "");
	return true;
}

static bool crm(struct val *v, json_t *rec)
{
	static const char *const keys[] = { "note", "task", "opportunity",
	    NULL };
	static const char *const note_k[] = { "body", NULL };
	static const char *const task_k[] = { "subject", "due_in_days", NULL };
	static const char *const opp_k[] = { "name", "stage", "amount", NULL };
	json_t *c = json_object_get(rec, "crm"), *n, *t, *o, *d;

	if (!c)
		return fail(v, "%s%s", "missing field \"crm\"", "");
	if (!json_is_object(c) || !json_object_size(c))
		return fail(v, "%s%s", "crm: expected an object with note, task "
		    "or opportunity", "");
	if (!only_keys(v, c, keys, "crm: "))
		return false;
	if ((n = json_object_get(c, "note")) != NULL &&
	    (!json_is_object(n) || !only_keys(v, n, note_k, "crm: note: ") ||
	    !tpl(v, n, "body", true, "crm: note: ")))
		return json_is_object(n) ? false :
		    fail(v, "%s%s", "crm: note: expected an object", "");
	if ((t = json_object_get(c, "task")) != NULL) {
		if (!json_is_object(t))
			return fail(v, "%s%s", "crm: task: expected an object", "");
		if (!only_keys(v, t, task_k, "crm: task: ") ||
		    !tpl(v, t, "subject", true, "crm: task: "))
			return false;
		d = json_object_get(t, "due_in_days");
		if (!json_is_integer(d) || json_integer_value(d) < 0 ||
		    json_integer_value(d) > 365)
			return fail(v, "%s%s", "crm: task: due_in_days: expected "
			    "0 to 365", "");
	}
	if ((o = json_object_get(c, "opportunity")) != NULL) {
		if (!json_is_object(o))
			return fail(v, "%s%s", "crm: opportunity: expected an object",
			    "");
		if (!only_keys(v, o, opp_k, "crm: opportunity: ") ||
		    !tpl(v, o, "name", true, "crm: opportunity: "))
			return false;
		if (!cp_json_str(o, "stage") || !*cp_json_str(o, "stage"))
			return fail(v, "%s%s", "crm: opportunity: missing field "
			    "\"stage\"", "");
		if (json_object_get(o, "amount") &&
		    !amount(v, json_object_get(o, "amount")))
			return false;
	}
	return true;
}

static bool outreach(struct val *v, json_t *rec)
{
	static const char *const keys[] = { "email", "call", "linkedin", NULL };
	static const char *const email_k[] = { "subject", "body", NULL };
	static const char *const call_k[] = { "opener", NULL };
	static const char *const li_k[] = { "note", NULL };
	json_t *o = json_object_get(rec, "outreach"), *e;

	if (!o)
		return fail(v, "%s%s", "missing field \"outreach\"", "");
	if (!json_is_object(o))
		return fail(v, "%s%s", "outreach: expected an object", "");
	if (!only_keys(v, o, keys, "outreach: "))
		return false;
	e = json_object_get(o, "email");
	if (!json_is_object(e))
		return fail(v, "%s%s", "outreach: email: expected an object with "
		    "subject and body", "");
	if (!only_keys(v, e, email_k, "outreach: email: ") ||
	    !tpl(v, e, "subject", true, "outreach: email: ") ||
	    !tpl(v, e, "body", true, "outreach: email: "))
		return false;
	if ((e = json_object_get(o, "call")) != NULL &&
	    (!json_is_object(e) || !only_keys(v, e, call_k, "outreach: call: ") ||
	    !tpl(v, e, "opener", true, "outreach: call: ")))
		return json_is_object(e) ? false :
		    fail(v, "%s%s", "outreach: call: expected an object", "");
	if ((e = json_object_get(o, "linkedin")) != NULL &&
	    (!json_is_object(e) ||
	    !only_keys(v, e, li_k, "outreach: linkedin: ") ||
	    !tpl(v, e, "note", true, "outreach: linkedin: ")))
		return json_is_object(e) ? false :
		    fail(v, "%s%s", "outreach: linkedin: expected an object", "");
	return true;
}

static bool valid_id(const char *id)
{
	size_t i, n = id ? strlen(id) : 0;

	if (n < 1 || n > 64 || !isalnum((unsigned char)id[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)id[i]) && !isdigit((unsigned char)id[i])
		    && id[i] != '-' && id[i] != '_')
			return false;
	return true;
}

bool cp_playbook_normalise(json_t *rec, const cp_scorecfg *cfg, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "id", "name", "description",
	    "themes", "when", "requires", "offer", "next_step", "crm",
	    "outreach", "assets", "asset_terms", "active", "tenant", "type",
	    "v", NULL };
	struct val v = { err, errlen };
	json_t *themes, *e, *act;
	size_t i, j;

	if (!only_keys(&v, rec, keys, ""))
		return false;
	json_object_del(rec, "tenant");
	json_object_del(rec, "type");
	json_object_del(rec, "v");
	if (!cp_json_str(rec, "id"))
		return fail(&v, "%s%s", "missing field \"id\"", "");
	if (!valid_id(cp_json_str(rec, "id")))
		return fail(&v, "id: \"%.64s\" is not lower-case letters, digits, "
		    "'-' and '_' (at most 64)%s", cp_json_str(rec, "id"), "");
	if (!cp_json_str(rec, "name") || !*cp_json_str(rec, "name"))
		return fail(&v, "%s%s", "missing field \"name\"", "");
	if (json_object_get(rec, "description") &&
	    !cp_json_str(rec, "description"))
		return fail(&v, "%s%s", "description: expected a string", "");
	themes = json_object_get(rec, "themes");
	if (!json_is_array(themes) || !json_array_size(themes))
		return fail(&v, "%s%s", "themes: expected a non-empty array", "");
	json_array_foreach(themes, i, e) {
		if (!cp_scorecfg_theme(cfg, json_string_value(e)))
			return fail(&v, "themes: unknown theme \"%.40s\"%s",
			    json_is_string(e) ? json_string_value(e) : "?", "");
		for (j = 0; j < i; j++)
			if (json_equal(e, json_array_get(themes, j)))
				return fail(&v, "themes: \"%s\" listed twice%s",
				    json_string_value(e), "");
	}
	if (!when(&v, rec) || !str_list(&v, rec, "requires", true, "") ||
	    !str_list(&v, rec, "assets", false, "") ||
	    !str_list(&v, rec, "asset_terms", true, ""))
		return false;
	json_array_foreach(json_object_get(rec, "requires"), i, e)
		if (!in_list(cp_playbook_prereqs, json_string_value(e)))
			return fail(&v, "requires: unknown prerequisite \"%.40s\"%s",
			    json_string_value(e), "");
	if (!tpl(&v, rec, "offer", true, "") ||
	    !tpl(&v, rec, "next_step", true, "") || !crm(&v, rec) ||
	    !outreach(&v, rec))
		return false;
	act = json_object_get(rec, "active");
	if (act && !json_is_boolean(act))
		return fail(&v, "%s%s", "active: expected true or false", "");
	if (!act)
		json_object_set_new(rec, "active", json_true());
	return true;
}

/* ---- storage -------------------------------------------------------- */

json_t *cp_playbook_get_json(sqlite3 *db, int64_t tenant_id, const char *id)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT record FROM playbooks"
	    " WHERE tenant_id = ? AND id = ?");
	json_t *r = NULL;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = json_loads(cp_db_col_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	return r;
}

int cp_playbook_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome)
{
	const char *id = cp_json_str(rec, "id");
	json_t *old = cp_playbook_get_json(db, tenant_id, id);
	char ts[CP_TIME_MAX], *text, *themes;
	sqlite3_stmt *st;
	int rc;

	*outcome = 0;
	if (old && json_equal(old, rec)) {
		json_decref(old);
		return 0;
	}
	cp_time_format(cp_now(), ts);
	text = cp_json_dumps(rec, 0);
	themes = cp_json_dumps(json_object_get(rec, "themes"), 0);
	if (old)
		st = cp_db_prepare(db, "UPDATE playbooks SET name = ?3,"
		    " themes = ?4, record = ?5, active = ?6, updated_at = ?7,"
		    " version = version + 1 WHERE tenant_id = ?1 AND id = ?2");
	else
		st = cp_db_prepare(db, "INSERT INTO playbooks (tenant_id, id,"
		    " name, themes, record, active, created_at, updated_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, id);
	cp_db_bind_text(st, 3, cp_json_str(rec, "name"));
	cp_db_bind_text(st, 4, themes);
	cp_db_bind_text(st, 5, text);
	sqlite3_bind_int(st, 6, cp_json_bool(rec, "active", true));
	cp_db_bind_text(st, 7, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	free(text);
	free(themes);
	if (!rc)
		rc = cp_audit(db, tenant_id, actor, old ? "playbook.update" :
		    "playbook.create", "playbook", id, old, rec, NULL);
	if (!rc)
		*outcome = old ? 2 : 1;
	json_decref(old);
	return rc;
}

static void strs(struct cp_strs *s, const json_t *a)
{
	size_t i;
	json_t *e;

	s->n = 0;
	s->v = xcalloc(json_array_size(a) + 1, sizeof *s->v);
	json_array_foreach(a, i, e)
		if (json_is_string(e))
			s->v[s->n++] = xstrdup(json_string_value(e));
}

static void strs_free(struct cp_strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void cp_playbook_from_json(cp_playbook *pb, json_t *rec)
{
	json_t *w = json_object_get(rec, "when"), *e;
	size_t i;
	double d;

	memset(pb, 0, sizeof *pb);
	pb->rec = rec;
	pb->id = xstrdup(cp_json_strd(rec, "id", ""));
	pb->name = xstrdup(cp_json_strd(rec, "name", ""));
	strs(&pb->themes, json_object_get(rec, "themes"));
	strs(&pb->industries, json_object_get(w, "industries"));
	strs(&pb->segments, json_object_get(w, "segments"));
	strs(&pb->sources, json_object_get(w, "sources"));
	strs(&pb->keywords, json_object_get(w, "keywords"));
	strs(&pb->entities, json_object_get(w, "entities"));
	strs(&pb->roles, json_object_get(w, "roles"));
	strs(&pb->functions, json_object_get(w, "functions"));
	strs(&pb->requires, json_object_get(rec, "requires"));
	strs(&pb->assets, json_object_get(rec, "assets"));
	strs(&pb->asset_terms, json_object_get(rec, "asset_terms"));
	json_array_foreach(json_object_get(w, "tiers"), i, e)
		if (pb->ntiers < 5 && json_is_integer(e))
			pb->tiers[pb->ntiers++] = (int)json_integer_value(e);
	pb->min_amount = cp_json_num(w, "min_amount", &d) ? d : 0;
	pb->min_headcount = cp_json_num(w, "min_headcount", &d) ? d : 0;
	pb->active = cp_json_bool(rec, "active", true);
}

void cp_playbook_free(cp_playbook *pb)
{
	free(pb->id);
	free(pb->name);
	strs_free(&pb->themes);
	strs_free(&pb->industries);
	strs_free(&pb->segments);
	strs_free(&pb->sources);
	strs_free(&pb->keywords);
	strs_free(&pb->entities);
	strs_free(&pb->roles);
	strs_free(&pb->functions);
	strs_free(&pb->requires);
	strs_free(&pb->assets);
	strs_free(&pb->asset_terms);
	json_decref(pb->rec);
	memset(pb, 0, sizeof *pb);
}

int cp_playbooks_load(sqlite3 *db, int64_t tenant_id, bool all,
    cp_playbooks *out)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT record, version"
	    " FROM playbooks WHERE tenant_id = ? AND (? OR active = 1)"
	    " ORDER BY id");
	size_t cap = 0;
	int rc;

	out->v = NULL;
	out->n = 0;
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_int(st, 2, all);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *rec = json_loads(cp_db_col_text(st, 0), 0, NULL);
		if (!json_is_object(rec)) {
			json_decref(rec);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		cp_playbook_from_json(&out->v[out->n], rec);
		out->v[out->n].version = (long)sqlite3_column_int64(st, 1);
		out->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cp_playbooks_free(out);
		return cp_db_error(db, "load playbooks");
	}
	return 0;
}

void cp_playbooks_free(cp_playbooks *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		cp_playbook_free(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

const cp_playbook *cp_playbooks_find(const cp_playbooks *p, const char *id)
{
	size_t i;

	for (i = 0; id && i < p->n; i++)
		if (!strcmp(p->v[i].id, id))
			return &p->v[i];
	return NULL;
}

/* ---- matching ------------------------------------------------------- */

static bool has_ci(const struct cp_strs *s, const char *x)
{
	size_t i;

	for (i = 0; x && i < s->n; i++)
		if (!strcasecmp(s->v[i], x))
			return true;
	return false;
}

/* keyword kw (lower case) as a whole word or phrase of hay */
static bool has_word(const char *hay, const char *kw)
{
	size_t n = strlen(kw);
	const char *p = hay;

	while (n && (p = strstr(p, kw)) != NULL) {
		bool left = p == hay || !isalnum((unsigned char)p[-1]);
		bool right = !isalnum((unsigned char)p[n]);
		if (left && right)
			return true;
		p++;
	}
	return false;
}

static bool role_match(const cp_playbook *pb, const cp_sigview *sv)
{
	size_t i, j;

	for (i = 0; i < sv->npersons; i++)
		for (j = 0; sv->persons[i].role && j < pb->roles.n; j++)
			if (!strcasecmp(sv->persons[i].role, pb->roles.v[j]))
				return true;
	return false;
}

static bool conditions(const cp_playbook *pb, cp_sigview *sv,
    const cp_account *a, bool surge)
{
	size_t i;

	if (pb->ntiers) {
		bool ok = false;
		for (i = 0; i < pb->ntiers; i++)
			ok |= a->tier == pb->tiers[i];
		if (!ok)
			return false;
	}
	if (pb->segments.n && !has_ci(&pb->segments, a->segment))
		return false;
	if (pb->industries.n && !has_ci(&pb->industries, a->industry))
		return false;
	if (pb->sources.n && !has_ci(&pb->sources, sv->source))
		return false;
	if (pb->functions.n && !has_ci(&pb->functions, sv->job_function))
		return false;
	if (surge)
		return true;	/* the rest is about one event's content */
	if (pb->min_amount > 0 && (!sv->has_money || sv->money < pb->min_amount))
		return false;
	if (pb->min_headcount > 0 &&
	    (!sv->has_headcount || sv->headcount < pb->min_headcount))
		return false;
	for (i = 0; i < pb->entities.n; i++)
		if (!(sv->kinds & cp_entity_kind(pb->entities.v[i])))
			return false;
	if (pb->roles.n && !role_match(pb, sv))
		return false;
	if (pb->keywords.n) {
		const char *low = cp_sigview_lower(sv);
		bool any = false;
		for (i = 0; !any && i < pb->keywords.n; i++)
			any = has_word(low, pb->keywords.v[i]);
		if (!any)
			return false;
	}
	return true;
}

/* Is theme t of the signal a better answer than the one chosen so far? */
static bool better(const struct cp_sigtheme *t, const struct cp_match *m)
{
	if (!m->theme)
		return true;
	if (t->negated != m->negated)
		return !t->negated;
	return t->confidence > m->confidence;
}

bool cp_playbook_match(const cp_playbook *pb, cp_sigview *sv,
    const cp_account *a, bool surge, struct cp_match *m)
{
	size_t i, j;

	memset(m, 0, sizeof *m);
	if (!pb->active)
		return false;
	if (surge) {
		for (i = 0; i < pb->themes.n; i++)
			if (!strcmp(pb->themes.v[i], "hiring_surge"))
				break;
		if (i == pb->themes.n)
			return false;
		m->theme = "hiring_surge";
		m->confidence = 1;
		m->primary = i == 0;
	} else {
		bool posting = sv->job_function || (sv->source &&
		    !strcmp(sv->source, "jobs"));
		/* the playbook's themes in order; the signal's best reading */
		for (j = 0; j < pb->themes.n; j++)
			for (i = 0; i < sv->nthemes; i++) {
				const struct cp_sigtheme *t = &sv->themes[i];
				if (strcmp(t->theme, pb->themes.v[j]))
					continue;
				if (posting && !strcmp(t->theme, "hiring_surge"))
					continue;
				if (!better(t, m))
					continue;
				m->theme = t->theme;
				m->confidence = t->confidence;
				m->negated = t->negated;
				m->evidence = t->evidence;
				m->primary = j == 0;
			}
		if (!m->theme)
			return false;
	}
	if (!conditions(pb, sv, a, surge))
		return false;
	m->industry_listed = pb->industries.n > 0;
	m->segment_listed = pb->segments.n > 0;
	return true;
}

bool cp_playbook_prereq(const char *name, const cp_sigview *sv,
    const cp_account *a, const cp_scorecfg *cfg)
{
	size_t i;

	if (!strcmp(name, "owner"))
		return a->owner != NULL;
	if (!strcmp(name, "contact"))
		return sv->npersons > 0;
	if (!strcmp(name, "senior_contact")) {
		for (i = 0; i < sv->npersons; i++)
			if (cp_scorecfg_senior(cfg, sv->persons[i].role))
				return true;
		return false;
	}
	if (!strcmp(name, "amount"))
		return sv->has_money;
	if (!strcmp(name, "headcount"))
		return sv->has_headcount;
	if (!strcmp(name, "crm_id"))
		return a->hubspot_id || a->salesforce_id;
	if (!strcmp(name, "domain"))
		return a->domain != NULL;
	return false;
}
