#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "priors.h"
#include "timefmt.h"

double cp_prior_weight(const cp_scorecfg *c, const char *decision,
    const char *reason)
{
	int i;

	if (!decision)
		return 0;
	if (!strcmp(decision, "approve"))
		return c->w_approve;
	if (!strcmp(decision, "refine"))
		return c->w_refine;
	if (strcmp(decision, "reject"))
		return 0;
	for (i = 0; reason && i < CP_NREASONS; i++)
		if (!strcmp(reason, cp_reason_names[i]))
			return c->w_reject[i];
	return c->w_reject[CP_R_OTHER];
}

/* Decisions in key order, oldest first within a key, so the sums are
 * added in the same order every time (floating point is not
 * associative). */
static const char decisions_sql[] =
	"SELECT d.theme, coalesce(d.playbook_id, ''), coalesce(d.segment, ''),"
	" d.decision, d.reason, d.decided_at, d.id, d.card_id,"
	" coalesce(u.login, '')"
	" FROM decisions d LEFT JOIN users u ON u.id = d.user_id"
	" WHERE d.tenant_id = ?"
	" ORDER BY 1, 2, 3, d.decided_at, d.id";

/* Age in days and decay of one decision; false when it does not count
 * (in the future of the clock, or past the horizon). */
static bool decay(const cp_scorecfg *c, const char *when, time_t now,
    double *age, double *dec)
{
	time_t t;

	if (!cp_time_parse(when, &t))
		return false;
	*age = difftime(now, t) / 86400.0;
	if (*age < 0 || *age > c->prior_horizon * c->prior_half_life)
		return false;
	*dec = pow(2, -*age / c->prior_half_life);
	return true;
}

static bool same_key(const cp_prior *p, sqlite3_stmt *st)
{
	return !strcmp(p->theme, cp_db_col_text(st, 0)) &&
	    !strcmp(p->playbook_id, cp_db_col_text(st, 1)) &&
	    !strcmp(p->segment, cp_db_col_text(st, 2));
}

int cp_priors_load(sqlite3 *db, int64_t tenant_id, const cp_scorecfg *c,
    time_t now, cp_priors *out)
{
	sqlite3_stmt *st = cp_db_prepare(db, decisions_sql);
	size_t cap = 0;
	int rc;

	out->v = NULL;
	out->n = 0;
	sqlite3_bind_int64(st, 1, tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double age, dec, w;
		cp_prior *p;

		if (!decay(c, cp_db_col_text(st, 5), now, &age, &dec))
			continue;
		w = cp_prior_weight(c, cp_db_col_text(st, 3),
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL :
		    cp_db_col_text(st, 4));
		if (!out->n || !same_key(&out->v[out->n - 1], st)) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				out->v = xrealloc(out->v, cap * sizeof *out->v);
			}
			p = &out->v[out->n++];
			p->theme = xstrdup(cp_db_col_text(st, 0));
			p->playbook_id = xstrdup(cp_db_col_text(st, 1));
			p->segment = xstrdup(cp_db_col_text(st, 2));
			p->sum = 0;
			p->n = 0;
		}
		p = &out->v[out->n - 1];
		p->sum += w * dec;
		p->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cp_priors_free(out);
		return cp_db_error(db, "read decisions");
	}
	return 0;
}

void cp_priors_free(cp_priors *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].theme);
		free(p->v[i].playbook_id);
		free(p->v[i].segment);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int keycmp(const cp_prior *p, const char *t, const char *pb,
    const char *seg)
{
	int r = strcmp(p->theme, t);

	if (!r)
		r = strcmp(p->playbook_id, pb);
	if (!r)
		r = strcmp(p->segment, seg);
	return r;
}

const cp_prior *cp_priors_find(const cp_priors *p, const char *theme,
    const char *playbook_id, const char *segment)
{
	size_t lo = 0, hi = p->n;

	/* SQLite's ORDER BY on text is memcmp order, as strcmp's */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = keycmp(&p->v[mid], theme ? theme : "",
		    playbook_id ? playbook_id : "", segment ? segment : "");
		if (!r)
			return &p->v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void print_prior(FILE *out, const cp_scorecfg *c, json_t *p,
    bool json)
{
	json_t *ds = json_object_get(p, "decisions"), *d;
	double sum = 0;
	size_t i;

	cp_json_num(p, "sum", &sum);
	json_object_set_new(p, "fit_adjustment",
	    json_real(cp_score_round(cp_score_prior_adj(c, sum), 6)));
	json_object_set_new(p, "sum", json_real(cp_score_round(sum, 6)));
	if (json) {
		cp_emit(p);
		return;
	}
	fprintf(out, "theme %s  playbook %s  segment %s\n",
	    cp_json_str(p, "theme"), *cp_json_str(p, "playbook_id") ?
	    cp_json_str(p, "playbook_id") : "-", *cp_json_str(p, "segment") ?
	    cp_json_str(p, "segment") : "-");
	fprintf(out, "  sum %.3f -> fit %+.3f (step %g, bound %g) from %zu "
	    "decision%s\n", sum, cp_score_prior_adj(c, sum), c->prior_step,
	    c->prior_bound, json_array_size(ds), json_array_size(ds) == 1 ?
	    "" : "s");
	json_array_foreach(ds, i, d) {
		double w = 0, dec = 0, age = 0, con = 0;
		cp_json_num(d, "weight", &w);
		cp_json_num(d, "decay", &dec);
		cp_json_num(d, "age_days", &age);
		cp_json_num(d, "contribution", &con);
		fprintf(out, "  #%-6lld %s  %-10s %-7s %-14s %5.1f d  %+.2f x "
		    "%.3f = %+.3f  %s\n", (long long)cp_json_int(d, "id", 0),
		    cp_json_strd(d, "decided_at", ""), cp_json_strd(d, "user", ""),
		    cp_json_strd(d, "decision", ""),
		    cp_json_strd(d, "reason", "-"), age, w, dec, con,
		    cp_json_strd(d, "card_id", ""));
	}
}

int cp_priors_report(sqlite3 *db, int64_t tenant_id, const cp_scorecfg *c,
    time_t now, FILE *out, bool json)
{
	sqlite3_stmt *st = cp_db_prepare(db, decisions_sql);
	json_t *cur = NULL;
	double sum = 0;
	int rc;
	size_t shown = 0;

	sqlite3_bind_int64(st, 1, tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double age, dec, w;
		const char *reason = sqlite3_column_type(st, 4) == SQLITE_NULL ?
		    NULL : cp_db_col_text(st, 4);

		if (!decay(c, cp_db_col_text(st, 5), now, &age, &dec))
			continue;
		w = cp_prior_weight(c, cp_db_col_text(st, 3), reason);
		if (cur && (strcmp(cp_json_str(cur, "theme"), cp_db_col_text(st, 0)) ||
		    strcmp(cp_json_str(cur, "playbook_id"), cp_db_col_text(st, 1)) ||
		    strcmp(cp_json_str(cur, "segment"), cp_db_col_text(st, 2)))) {
			json_object_set_new(cur, "sum", json_real(sum));
			print_prior(out, c, cur, json);
			json_decref(cur);
			cur = NULL;
			shown++;
		}
		if (!cur) {
			cur = json_pack("{s:s,s:s,s:s,s:[]}", "theme",
			    cp_db_col_text(st, 0), "playbook_id", cp_db_col_text(st, 1),
			    "segment", cp_db_col_text(st, 2), "decisions");
			sum = 0;
		}
		sum += w * dec;
		json_array_append_new(json_object_get(cur, "decisions"),
		    json_pack("{s:I,s:s,s:s,s:s,s:o,s:s,s:f,s:f,s:f,s:f}",
		    "id", (json_int_t)sqlite3_column_int64(st, 6),
		    "card_id", cp_db_col_text(st, 7),
		    "user", cp_db_col_text(st, 8),
		    "decision", cp_db_col_text(st, 3),
		    "reason", reason ? json_string(reason) : json_null(),
		    "decided_at", cp_db_col_text(st, 5),
		    "age_days", cp_score_round(age, 3),
		    "weight", w, "decay", cp_score_round(dec, 6),
		    "contribution", cp_score_round(w * dec, 6)));
	}
	sqlite3_finalize(st);
	if (cur) {
		json_object_set_new(cur, "sum", json_real(sum));
		print_prior(out, c, cur, json);
		json_decref(cur);
		shown++;
	}
	if (rc != SQLITE_DONE)
		return cp_db_error(db, "read decisions");
	if (!shown && !json)
		fprintf(out, "no decisions within the last %g days: every prior "
		    "is 0\n", c->prior_horizon * c->prior_half_life);
	return 0;
}
