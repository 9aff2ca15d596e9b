#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "score.h"
#include "strbuf.h"
#include "timefmt.h"

const char *const cp_factor_names[CP_NFACTORS] = {
	"impact", "urgency", "fit", "access", "feasibility", "confidence"
};

const char *const cp_reason_names[CP_NREASONS] = {
	"not_relevant", "already_known", "bad_timing", "wrong_account", "other"
};

/* ---- configuration ------------------------------------------------ */

/* One numeric setting: key (section.key), range, where it goes. */
struct numkey {
	const char *key;
	double lo, hi;
	size_t off;
};

#define NK(k, lo, hi, f) { k, lo, hi, offsetof(cp_scorecfg, f) }

static const struct numkey numkeys[] = {
	NK("weights.impact", 0, 100, weight[CP_F_IMPACT]),
	NK("weights.urgency", 0, 100, weight[CP_F_URGENCY]),
	NK("weights.fit", 0, 100, weight[CP_F_FIT]),
	NK("weights.access", 0, 100, weight[CP_F_ACCESS]),
	NK("weights.feasibility", 0, 100, weight[CP_F_FEASIBILITY]),
	NK("weights.confidence", 0, 100, weight[CP_F_CONFIDENCE]),
	NK("score.min_score", 0, 100, min_score),
	NK("impact.part.account", 0, 1, imp_account),
	NK("impact.part.magnitude", 0, 1, imp_magnitude),
	NK("impact.part.theme", 0, 1, imp_theme),
	NK("impact.tier.unknown", 0, 1, tier[0]),
	NK("impact.tier.1", 0, 1, tier[1]),
	NK("impact.tier.2", 0, 1, tier[2]),
	NK("impact.tier.3", 0, 1, tier[3]),
	NK("impact.tier.4", 0, 1, tier[4]),
	NK("impact.tier.5", 0, 1, tier[5]),
	NK("impact.segment.unknown", 0, 1, segment_unknown),
	NK("impact.money.floor", 1, 1e15, money_floor),
	NK("impact.money.ceiling", 1, 1e15, money_ceiling),
	NK("impact.headcount.floor", 1, 1e9, head_floor),
	NK("impact.headcount.ceiling", 1, 1e9, head_ceiling),
	NK("impact.postings_full", 1, 1e6, postings_full),
	NK("impact.magnitude.default", 0, 1, magnitude_default),
	NK("urgency.half_life_days", 0.01, 3650, urg_half_life),
	NK("urgency.part.recency", 0, 1, urg_recency),
	NK("urgency.part.theme", 0, 1, urg_theme),
	NK("urgency.deadline_horizon_days", 1, 3650, deadline_horizon),
	NK("fit.part.theme", 0, 1, fit_theme),
	NK("fit.part.industry", 0, 1, fit_industry),
	NK("fit.part.segment", 0, 1, fit_segment),
	NK("fit.theme.primary", 0, 1, theme_primary),
	NK("fit.theme.secondary", 0, 1, theme_secondary),
	NK("fit.listed", 0, 1, listed),
	NK("fit.open", 0, 1, open),
	NK("priors.half_life_days", 0.01, 3650, prior_half_life),
	NK("priors.step", 0, 1, prior_step),
	NK("priors.bound", 0, 1, prior_bound),
	NK("priors.horizon_half_lives", 1, 64, prior_horizon),
	NK("priors.approve", -10, 10, w_approve),
	NK("priors.refine", -10, 10, w_refine),
	NK("priors.reject.not_relevant", -10, 10, w_reject[CP_R_NOT_RELEVANT]),
	NK("priors.reject.already_known", -10, 10, w_reject[CP_R_ALREADY_KNOWN]),
	NK("priors.reject.bad_timing", -10, 10, w_reject[CP_R_BAD_TIMING]),
	NK("priors.reject.wrong_account", -10, 10, w_reject[CP_R_WRONG_ACCOUNT]),
	NK("priors.reject.other", -10, 10, w_reject[CP_R_OTHER]),
	NK("access.part.owner", 0, 1, acc_owner),
	NK("access.part.contact", 0, 1, acc_contact),
	NK("access.part.engagement", 0, 1, acc_engagement),
	NK("access.contact.senior", 0, 1, contact_senior),
	NK("access.contact.role", 0, 1, contact_role),
	NK("access.contact.person", 0, 1, contact_person),
	NK("access.engagement_window_days", 1, 3650, engagement_window),
	NK("feasibility.part.prerequisites", 0, 1, feas_prereq),
	NK("feasibility.part.assets", 0, 1, feas_assets),
	NK("feasibility.assets_full", 1, 1000, assets_full),
	NK("confidence.corroboration_gain", 0, 1, corr_gain),
	NK("confidence.max_corroborations", 0, 1000, max_corr),
	NK("confidence.negation_factor", 0, 1, negation_factor),
	NK("confidence.floor", 0, 1, conf_floor),
	NK("reliability.default", 0, 1, rel_default),
	NK("hiring_surge.min_postings", 1, 10000, surge_min),
	NK("hiring_surge.window_days", 1, 3650, surge_window),
};

/* Every "prefix.name = number" of a section into a table. */
static bool named_list(cp_scorecfg *c, const char *prefix, struct cp_named **out,
    size_t *n, const char *skip)
{
	size_t i = 0, plen = strlen(prefix);
	long k;
	bool ok = true;

	*out = NULL;
	*n = 0;
	while ((k = cp_dconf_next(&c->dc, prefix, &i)) >= 0) {
		const char *name = c->dc.v[k].key + plen;
		double v = 0;
		if (skip && !strcmp(name, skip))
			continue;
		/* a sub-section ("reliability.names.x") is not ours */
		if (strchr(name, '.') && !strcmp(prefix, "reliability."))
			continue;
		if (!cp_dconf_num(&c->dc, c->dc.v[k].key, 0, 1, false, &v)) {
			ok = false;
			continue;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[*n].name = xstrdup(name);
		(*out)[*n].v = v;
		(*n)++;
	}
	return ok;
}

static char **word_list(const char *s, size_t *n)
{
	char **v = NULL;
	const char *p = s ? s : "";

	*n = 0;
	while (*p) {
		size_t len;
		while (isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t");
		if (!len)
			break;
		v = xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = xstrndup(p, len);
		p += len;
	}
	return v;
}

static bool load_themes(cp_scorecfg *c)
{
	size_t i = 0;
	long k;
	bool ok = true;

	while ((k = cp_dconf_next(&c->dc, "theme_value.", &i)) >= 0) {
		const char *id = c->dc.v[k].key + strlen("theme_value.");
		char ukey[256];
		struct cp_theme t;

		t.id = (char *)id;
		t.value = t.urgency = 0;
		snprintf(ukey, sizeof ukey, "theme_urgency.%s", id);
		if (!cp_dconf_num(&c->dc, c->dc.v[k].key, 0, 1, false, &t.value) ||
		    !cp_dconf_num(&c->dc, ukey, 0, 1, false, &t.urgency)) {
			ok = false;
			continue;
		}
		c->theme = xrealloc(c->theme, (c->ntheme + 1) * sizeof *c->theme);
		t.id = xstrdup(id);
		c->theme[c->ntheme++] = t;
	}
	if (!c->ntheme) {
		cp_err("%s: no themes in [theme_value]", c->dc.origin);
		ok = false;
	}
	return ok;
}

static bool check_sums(cp_scorecfg *c)
{
	double w = 0;
	int i;

	for (i = 0; i < CP_NFACTORS; i++)
		w += c->weight[i];
	if (w <= 0) {
		cp_err("%s: the factor weights add up to 0", c->dc.origin);
		return false;
	}
	if (c->money_ceiling <= c->money_floor ||
	    c->head_ceiling <= c->head_floor) {
		cp_err("%s: a magnitude ceiling is not above its floor",
		    c->dc.origin);
		return false;
	}
	return true;
}

static int finish(cp_scorecfg *c)
{
	size_t i;
	bool ok = true;

	for (i = 0; i < sizeof numkeys / sizeof *numkeys; i++)
		if (!cp_dconf_num(&c->dc, numkeys[i].key, numkeys[i].lo,
		    numkeys[i].hi, false, (double *)((char *)c + numkeys[i].off)))
			ok = false;
	if (!named_list(c, "impact.segment.", &c->segment, &c->nsegment,
	    "unknown"))
		ok = false;
	if (!named_list(c, "reliability.", &c->rel_source, &c->nrel_source,
	    "default"))
		ok = false;
	if (!named_list(c, "reliability.names.", &c->rel_name, &c->nrel_name,
	    NULL))
		ok = false;
	if (!load_themes(c))
		ok = false;
	c->senior_roles = word_list(cp_dconf_get(&c->dc, "access.senior_roles"),
	    &c->nsenior);
	c->engagement_fields = word_list(cp_dconf_get(&c->dc,
	    "access.engagement_fields"), &c->nengagement);
	if (ok && !check_sums(c))
		ok = false;
	return ok ? 0 : CP_EX_CONFIG;
}

int cp_scorecfg_parse(cp_scorecfg *c, const char *text, size_t len,
    const char *origin)
{
	cp_dconf dc;
	int rc = cp_dconf_parse(text, len, origin, &dc);

	memset(c, 0, sizeof *c);
	c->dc = dc;
	return rc ? rc : finish(c);
}

int cp_scorecfg_load(cp_scorecfg *c)
{
	cp_dconf dc;
	int rc = cp_dconf_load("scoring.conf", &dc);

	memset(c, 0, sizeof *c);
	c->dc = dc;
	return rc ? rc : finish(c);
}

static void free_named(struct cp_named *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void free_words(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void cp_scorecfg_free(cp_scorecfg *c)
{
	size_t i;

	free_named(c->segment, c->nsegment);
	free_named(c->rel_source, c->nrel_source);
	free_named(c->rel_name, c->nrel_name);
	for (i = 0; i < c->ntheme; i++)
		free(c->theme[i].id);
	free(c->theme);
	free_words(c->senior_roles, c->nsenior);
	free_words(c->engagement_fields, c->nengagement);
	cp_dconf_free(&c->dc);
	memset(c, 0, sizeof *c);
}

const struct cp_theme *cp_scorecfg_theme(const cp_scorecfg *c, const char *id)
{
	size_t i;

	for (i = 0; id && i < c->ntheme; i++)
		if (!strcmp(c->theme[i].id, id))
			return &c->theme[i];
	return NULL;
}

static const struct cp_named *named_find(const struct cp_named *v, size_t n,
    const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcasecmp(v[i].name, name))
			return &v[i];
	return NULL;
}

bool cp_scorecfg_senior(const cp_scorecfg *c, const char *role)
{
	const char *p = role;

	if (!role)
		return false;
	while (*p) {
		size_t len, i;
		while (*p && !isalnum((unsigned char)*p))
			p++;
		len = 0;
		while (isalnum((unsigned char)p[len]))
			len++;
		if (!len)
			break;
		if (len == 5 && !strncasecmp(p, "chief", 5))
			return true;
		for (i = 0; i < c->nsenior; i++)
			if (strlen(c->senior_roles[i]) == len &&
			    !strncasecmp(p, c->senior_roles[i], len))
				return true;
		p += len;
	}
	return false;
}

int cp_scorecfg_remember(sqlite3 *db, const cp_scorecfg *c)
{
	sqlite3_stmt *st;
	char ts[CP_TIME_MAX];
	int rc, have;

	st = cp_db_prepare(db, "SELECT 1 FROM scoring_configs WHERE version = ?");
	cp_db_bind_text(st, 1, c->dc.version);
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (have)
		return 0;
	if ((rc = cp_db_begin(db)))
		return rc;
	st = cp_db_prepare(db, "INSERT OR IGNORE INTO scoring_configs"
	    " (version, text, origin, created_at) VALUES (?, ?, ?, ?)");
	cp_db_bind_text(st, 1, c->dc.version);
	sqlite3_bind_text(st, 2, c->dc.text, (int)c->dc.len, SQLITE_STATIC);
	cp_db_bind_text(st, 3, c->dc.origin);
	cp_db_bind_text(st, 4, cp_time_format(cp_now(), ts));
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

int cp_scorecfg_load_version(sqlite3 *db, const char *version, cp_scorecfg *c)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT text, origin FROM scoring_configs WHERE version = ?");
	int rc;

	memset(c, 0, sizeof *c);
	cp_db_bind_text(st, 1, version);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return cp_db_error(db, "read scoring configuration");
		cp_err("scoring configuration %s is not in the state file",
		    version);
		return CP_EX_CONFIG;
	}
	{
		char *origin = xasprintf("%s (version %s)",
		    cp_db_col_text(st, 1), version);
		rc = cp_scorecfg_parse(c, (const char *)sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), origin);
		free(origin);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- the factors -------------------------------------------------- */

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

double cp_score_round(double v, int decimals)
{
	double m = pow(10, decimals);

	return round(v * m) / m;
}

/* 1.2B, 350M, 45K, 900: amounts in reasons */
static void human(strbuf *sb, double v)
{
	static const struct { double div; const char *sfx; } u[] = {
		{ 1e12, "T" }, { 1e9, "B" }, { 1e6, "M" }, { 1e3, "K" }
	};
	size_t i;

	for (i = 0; i < sizeof u / sizeof *u; i++)
		if (fabs(v) >= u[i].div) {
			sb_addf(sb, "%.3g%s", v / u[i].div, u[i].sfx);
			return;
		}
	sb_addf(sb, "%.3g", v);
}

/* log-scaled position of v between floor (0) and ceiling (1) */
static double logscale(double v, double floor, double ceiling)
{
	if (v <= floor)
		return 0;
	return clamp01(log10(v / floor) / log10(ceiling / floor));
}

static double segment_value(const cp_scorecfg *c, const char *seg)
{
	const struct cp_named *n = named_find(c->segment, c->nsegment, seg);

	return n ? n->v : c->segment_unknown;
}

static double theme_field(const cp_scorecfg *c, const char *theme, int urg)
{
	const struct cp_theme *t = cp_scorecfg_theme(c, theme);

	if (!t)
		return 0.5;
	return urg ? t->urgency : t->value;
}

static double f_impact(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why)
{
	int tier = in->tier >= 1 && in->tier <= 5 ? in->tier : 0;
	double tv = c->tier[tier], sv = segment_value(c, in->segment);
	double mag = c->magnitude_default, mm = -1, hm = -1, themev;

	if (tier)
		sb_addf(why, "tier %d (%.2f)", tier, tv);
	else
		sb_addf(why, "tier unknown (%.2f)", tv);
	sb_addf(why, ", segment %s (%.2f); ", in->segment ? in->segment :
	    "unknown", sv);
	if (in->postings > 0) {
		mag = clamp01((double)in->postings / c->postings_full);
		sb_addf(why, "%ld postings (%.2f)", in->postings, mag);
	} else {
		if (in->has_money) {
			mm = logscale(in->money, c->money_floor, c->money_ceiling);
			sb_adds(why, "money ");
			if (in->currency)
				sb_addf(why, "%s ", in->currency);
			human(why, in->money);
			sb_addf(why, " (%.2f)", mm);
		}
		if (in->has_headcount) {
			hm = logscale(in->headcount, c->head_floor,
			    c->head_ceiling);
			sb_addf(why, "%sheadcount ", in->has_money ? ", " : "");
			human(why, in->headcount);
			sb_addf(why, " (%.2f)", hm);
		}
		if (mm >= 0 || hm >= 0)
			mag = mm > hm ? mm : hm;
		else
			sb_addf(why, "no amount or headcount (%.2f)", mag);
	}
	themev = theme_field(c, in->theme, 0);
	sb_addf(why, "; theme %s (%.2f)", in->theme, themev);
	return c->imp_account * (tv + sv) / 2 + c->imp_magnitude * mag +
	    c->imp_theme * themev;
}

static double days_between(time_t from, time_t to)
{
	return difftime(to, from) / 86400.0;
}

static double f_urgency(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why)
{
	double age = days_between(in->published_at, in->scored_at);
	double rec, tu, base, dl = 0;

	if (age < 0)
		age = 0;
	rec = pow(2, -age / c->urg_half_life);
	tu = theme_field(c, in->theme, 1);
	base = c->urg_recency * rec + c->urg_theme * tu;
	sb_addf(why, "published %.1f days before scoring (recency %.2f, "
	    "half-life %g d); theme %s urgency %.2f", age, rec,
	    c->urg_half_life, in->theme, tu);
	if (in->has_deadline) {
		double until = days_between(in->scored_at, in->deadline);
		char d[CP_TIME_MAX];
		cp_time_format(in->deadline, d);
		d[10] = '\0';
		if (until >= 0 && until <= c->deadline_horizon) {
			dl = 1 - until / c->deadline_horizon;
			sb_addf(why, "; deadline %s in %.0f days (%.2f)", d,
			    until, dl);
		} else {
			sb_addf(why, "; date %s beyond the %g-day horizon", d,
			    c->deadline_horizon);
		}
	} else {
		sb_adds(why, "; no deadline");
	}
	return base > dl ? base : dl;
}

double cp_score_prior_adj(const cp_scorecfg *c, double sum)
{
	double a = sum * c->prior_step;

	if (a > c->prior_bound)
		a = c->prior_bound;
	if (a < -c->prior_bound)
		a = -c->prior_bound;
	return a;
}

static double f_fit(const cp_scorecfg *c, const cp_score_in *in, strbuf *why,
    double *prior)
{
	double tm = in->primary_theme ? c->theme_primary : c->theme_secondary;
	double im = in->industry_listed ? c->listed : c->open;
	double sm = in->segment_listed ? c->listed : c->open;
	double base = c->fit_theme * tm + c->fit_industry * im +
	    c->fit_segment * sm;

	*prior = cp_score_prior_adj(c, in->prior_sum);
	sb_addf(why, "theme %s is %s's %s theme (%.2f); industry %s %s (%.2f); "
	    "segment %s %s (%.2f); ", in->theme, in->playbook_id,
	    in->primary_theme ? "primary" : "secondary", tm,
	    in->industry ? in->industry : "unknown",
	    in->industry_listed ? "listed" : "open", im,
	    in->segment ? in->segment : "unknown",
	    in->segment_listed ? "listed" : "open", sm);
	if (in->prior_n)
		sb_addf(why, "prior %+.3f from %ld decision%s (sum %.3f)",
		    *prior, in->prior_n, in->prior_n == 1 ? "" : "s",
		    in->prior_sum);
	else
		sb_adds(why, "no feedback yet (prior 0)");
	return clamp01(base + *prior);
}

static double f_access(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why)
{
	double ow = in->owner ? 1 : 0, ct = 0, en = 0;
	const struct cp_person *best = NULL;
	size_t i;

	if (in->owner)
		sb_addf(why, "owner %s (1)", in->owner);
	else
		sb_adds(why, "no account owner (0)");
	/* the best-placed person named in the evidence */
	for (i = 0; i < in->npersons; i++) {
		const struct cp_person *p = &in->person[i];
		double v = cp_scorecfg_senior(c, p->role) ? c->contact_senior :
		    p->role && *p->role ? c->contact_role : c->contact_person;
		if (v > ct) {
			ct = v;
			best = p;
		}
	}
	if (best)
		sb_addf(why, "; contact %s%s%s (%.2f)", best->name ? best->name :
		    "unnamed", best->role ? ", " : "", best->role ? best->role :
		    "", ct);
	else
		sb_adds(why, "; no contact in the evidence (0)");
	if (in->has_engaged) {
		double d = days_between(in->engaged_at, in->scored_at);
		if (d < 0)
			d = 0;
		en = clamp01(1 - d / c->engagement_window);
		sb_addf(why, "; last engaged %.0f days ago per meta.%s (%.2f)",
		    d, in->engaged_field ? in->engaged_field : "?", en);
	} else {
		sb_adds(why, "; no engagement on record (0)");
	}
	return c->acc_owner * ow + c->acc_contact * ct +
	    c->acc_engagement * en;
}

static double f_feasibility(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why)
{
	size_t i, met = 0;
	double pv, av;

	for (i = 0; i < in->nprereq; i++)
		if (in->prereq[i].met)
			met++;
	pv = in->nprereq ? (double)met / (double)in->nprereq : 1;
	if (in->nprereq) {
		sb_addf(why, "prerequisites %zu of %zu met (", met, in->nprereq);
		for (i = 0; i < in->nprereq; i++)
			sb_addf(why, "%s%s %s", i ? ", " : "",
			    in->prereq[i].name, in->prereq[i].met ? "yes" : "no");
		sb_addf(why, ") (%.2f)", pv);
	} else {
		sb_adds(why, "no prerequisites (1.00)");
	}
	av = clamp01((double)in->assets / c->assets_full);
	sb_addf(why, "; %ld asset%s for %s/%s (%.2f)", in->assets,
	    in->assets == 1 ? "" : "s", in->playbook_id, in->theme, av);
	return c->feas_prereq * pv + c->feas_assets * av;
}

/* The reliability a signal is trusted with, and why. */
static double reliability(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why)
{
	const struct cp_named *n = named_find(c->rel_name, c->nrel_name,
	    in->source_name);

	if (n) {
		sb_addf(why, "reliability %.2f (%s, scoring.conf)", n->v,
		    in->source_name);
		return n->v;
	}
	if (in->has_reliability && in->reliability >= 0 &&
	    in->reliability <= 1) {
		sb_addf(why, "reliability %.2f (%s, from the source)",
		    in->reliability, in->source_name ? in->source_name : "?");
		return in->reliability;
	}
	n = named_find(c->rel_source, c->nrel_source, in->source);
	sb_addf(why, "reliability %.2f (default for %s)", n ? n->v :
	    c->rel_default, in->source ? in->source : "unknown sources");
	return n ? n->v : c->rel_default;
}

static double f_confidence(const cp_scorecfg *c, const cp_score_in *in,
    strbuf *why, double *relout)
{
	double rel = reliability(c, in, why), ex = clamp01(in->theme_confidence);
	double corr = (double)in->corroborations, base, v;

	if (corr < 0)
		corr = 0;
	if (corr > c->max_corr)
		corr = c->max_corr;
	base = rel * ex;
	v = 1 - (1 - base) * pow(1 - c->corr_gain, corr);
	if (in->postings > 0)
		sb_addf(why, " for %ld postings", in->postings);
	sb_addf(why, " x extraction %.2f; %ld corroboration%s (gain %g)", ex,
	    in->corroborations, in->corroborations == 1 ? "" : "s",
	    c->corr_gain);
	if (in->negated) {
		v *= c->negation_factor;
		sb_addf(why, "; negated (x%g)", c->negation_factor);
	} else {
		sb_adds(why, "; not negated");
	}
	*relout = rel;
	return v;
}

void cp_score_compute(const cp_scorecfg *c, const cp_score_in *in,
    cp_score_out *out)
{
	strbuf why[CP_NFACTORS];
	double v[CP_NFACTORS], sum = 0, wsum = 0;
	int i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < CP_NFACTORS; i++)
		sb_init(&why[i]);
	v[CP_F_IMPACT] = f_impact(c, in, &why[CP_F_IMPACT]);
	v[CP_F_URGENCY] = f_urgency(c, in, &why[CP_F_URGENCY]);
	v[CP_F_FIT] = f_fit(c, in, &why[CP_F_FIT], &out->prior);
	v[CP_F_ACCESS] = f_access(c, in, &why[CP_F_ACCESS]);
	v[CP_F_FEASIBILITY] = f_feasibility(c, in, &why[CP_F_FEASIBILITY]);
	v[CP_F_CONFIDENCE] = f_confidence(c, in, &why[CP_F_CONFIDENCE],
	    &out->reliability);
	for (i = 0; i < CP_NFACTORS; i++) {
		/* the value shown is the value used: round first */
		out->f[i].value = cp_score_round(clamp01(v[i]), 4);
		out->f[i].weight = c->weight[i];
		out->f[i].reason = sb_detach(&why[i]);
		sum += out->f[i].weight * out->f[i].value;
		wsum += out->f[i].weight;
	}
	out->score = cp_score_round(100 * sum / wsum, 2);
}

void cp_score_out_free(cp_score_out *out)
{
	int i;

	for (i = 0; i < CP_NFACTORS; i++)
		free(out->f[i].reason);
	memset(out, 0, sizeof *out);
}

json_t *cp_score_factors_json(const cp_score_out *out)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < CP_NFACTORS; i++)
		json_object_set_new(o, cp_factor_names[i], json_pack("{s:f,s:f,s:s}",
		    "value", out->f[i].value, "weight", out->f[i].weight,
		    "reason", out->f[i].reason));
	return o;
}

/* ---- inputs as JSON ----------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(bool have, time_t t)
{
	char ts[CP_TIME_MAX];

	return have ? json_string(cp_time_format(t, ts)) : json_null();
}

json_t *cp_score_in_json(const cp_score_in *in)
{
	json_t *j = json_object(), *a, *pb, *pr, *ps;
	size_t i;
	char ts[CP_TIME_MAX];

	json_object_set_new(j, "theme", json_string(in->theme));
	json_object_set_new(j, "theme_confidence",
	    json_real(in->theme_confidence));
	json_object_set_new(j, "negated", json_boolean(in->negated));
	json_object_set_new(j, "source", str_or_null(in->source));
	json_object_set_new(j, "source_name", str_or_null(in->source_name));
	json_object_set_new(j, "reliability", in->has_reliability ?
	    json_real(in->reliability) : json_null());
	json_object_set_new(j, "corroborations",
	    json_integer(in->corroborations));
	json_object_set_new(j, "published_at",
	    json_string(cp_time_format(in->published_at, ts)));
	json_object_set_new(j, "scored_at",
	    json_string(cp_time_format(in->scored_at, ts)));
	json_object_set_new(j, "money", in->has_money ? json_pack("{s:f,s:o}",
	    "value", in->money, "currency", str_or_null(in->currency)) :
	    json_null());
	json_object_set_new(j, "headcount", in->has_headcount ?
	    json_real(in->headcount) : json_null());
	json_object_set_new(j, "deadline", time_or_null(in->has_deadline,
	    in->deadline));
	ps = json_array();
	for (i = 0; i < in->npersons; i++)
		json_array_append_new(ps, json_pack("{s:o,s:o}", "name",
		    str_or_null(in->person[i].name), "role",
		    str_or_null(in->person[i].role)));
	json_object_set_new(j, "persons", ps);
	a = json_pack("{s:i,s:o,s:o,s:o,s:o,s:o}", "tier", in->tier,
	    "segment", str_or_null(in->segment),
	    "industry", str_or_null(in->industry),
	    "owner", str_or_null(in->owner),
	    "engaged_at", time_or_null(in->has_engaged, in->engaged_at),
	    "engaged_field", str_or_null(in->has_engaged ?
	    in->engaged_field : NULL));
	json_object_set_new(j, "account", a);
	pr = json_array();
	for (i = 0; i < in->nprereq; i++)
		json_array_append_new(pr, json_pack("{s:s,s:b}", "name",
		    in->prereq[i].name, "met", in->prereq[i].met));
	pb = json_pack("{s:s,s:b,s:b,s:b,s:o,s:I}", "id", in->playbook_id,
	    "primary_theme", in->primary_theme,
	    "industry_listed", in->industry_listed,
	    "segment_listed", in->segment_listed,
	    "requires", pr, "assets", (json_int_t)in->assets);
	json_object_set_new(j, "playbook", pb);
	json_object_set_new(j, "prior", json_pack("{s:f,s:I}", "sum",
	    in->prior_sum, "decisions", (json_int_t)in->prior_n));
	if (in->postings > 0) {
		json_object_set_new(j, "postings", json_integer(in->postings));
		json_object_set_new(j, "function", str_or_null(in->function));
	}
	return j;
}

/* Field readers that record the first problem in err. */
struct rd {
	char *err;
	size_t errlen;
	bool bad;
};

static void rd_fail(struct rd *r, const char *what, const char *key)
{
	if (!r->bad)
		snprintf(r->err, r->errlen, "inputs: %s: %s", key, what);
	r->bad = true;
}

static const char *rd_str(struct rd *r, const json_t *o, const char *key,
    bool nullable)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (nullable && (!v || json_is_null(v)))
		return NULL;
	rd_fail(r, nullable ? "expected a string or null" : "expected a string",
	    key);
	return NULL;
}

static double rd_num(struct rd *r, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_number(v))
		return json_number_value(v);
	rd_fail(r, "expected a number", key);
	return 0;
}

/* A count: a number within what a long holds (a cast of 1e300 would be
 * undefined behaviour), rounded toward zero. */
static long rd_count(struct rd *r, const json_t *o, const char *key)
{
	double d = rd_num(r, o, key);

	if (!(d >= -2147483648.0 && d <= 2147483647.0)) {
		rd_fail(r, "out of range", key);
		return 0;
	}
	return (long)d;
}

static bool rd_bool(struct rd *r, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_boolean(v))
		return json_is_true(v);
	rd_fail(r, "expected true or false", key);
	return false;
}

static bool rd_time(struct rd *r, const json_t *o, const char *key,
    time_t *t, bool nullable)
{
	json_t *v = json_object_get(o, key);

	if (nullable && (!v || json_is_null(v)))
		return false;
	if (!json_is_string(v) || !cp_time_parse(json_string_value(v), t)) {
		rd_fail(r, "expected an RFC 3339 time", key);
		return false;
	}
	return true;
}

static void rd_persons(struct rd *r, const json_t *a, cp_score_in *in)
{
	size_t i;
	json_t *p;

	if (!json_is_array(a)) {
		rd_fail(r, "expected an array", "persons");
		return;
	}
	json_array_foreach(a, i, p) {
		if (in->npersons == CP_SCORE_MAXP)
			break;
		in->person[in->npersons].name = rd_str(r, p, "name", true);
		in->person[in->npersons].role = rd_str(r, p, "role", true);
		in->npersons++;
	}
}

static void rd_playbook(struct rd *r, const json_t *pb, cp_score_in *in)
{
	json_t *req = json_object_get(pb, "requires"), *e;
	size_t i;

	if (!json_is_object(pb)) {
		rd_fail(r, "expected an object", "playbook");
		return;
	}
	in->playbook_id = rd_str(r, pb, "id", false);
	in->primary_theme = rd_bool(r, pb, "primary_theme");
	in->industry_listed = rd_bool(r, pb, "industry_listed");
	in->segment_listed = rd_bool(r, pb, "segment_listed");
	in->assets = rd_count(r, pb, "assets");
	if (!json_is_array(req)) {
		rd_fail(r, "expected an array", "playbook.requires");
		return;
	}
	json_array_foreach(req, i, e) {
		if (in->nprereq == CP_SCORE_MAXP)
			break;
		in->prereq[in->nprereq].name = rd_str(r, e, "name", false);
		in->prereq[in->nprereq].met = rd_bool(r, e, "met");
		in->nprereq++;
	}
}

bool cp_score_in_parse(const json_t *j, cp_score_in *in, char *err,
    size_t errlen)
{
	struct rd r = { err, errlen, false };
	json_t *m, *a, *pr, *v;

	memset(in, 0, sizeof *in);
	if (!json_is_object(j)) {
		snprintf(err, errlen, "inputs: expected an object");
		return false;
	}
	in->theme = rd_str(&r, j, "theme", false);
	in->theme_confidence = rd_num(&r, j, "theme_confidence");
	in->negated = rd_bool(&r, j, "negated");
	in->source = rd_str(&r, j, "source", true);
	in->source_name = rd_str(&r, j, "source_name", true);
	v = json_object_get(j, "reliability");
	if ((in->has_reliability = json_is_number(v)))
		in->reliability = json_number_value(v);
	in->corroborations = rd_count(&r, j, "corroborations");
	rd_time(&r, j, "published_at", &in->published_at, false);
	rd_time(&r, j, "scored_at", &in->scored_at, false);
	m = json_object_get(j, "money");
	if (json_is_object(m)) {
		in->has_money = true;
		in->money = rd_num(&r, m, "value");
		in->currency = rd_str(&r, m, "currency", true);
	}
	v = json_object_get(j, "headcount");
	if ((in->has_headcount = json_is_number(v)))
		in->headcount = json_number_value(v);
	in->has_deadline = rd_time(&r, j, "deadline", &in->deadline, true);
	rd_persons(&r, json_object_get(j, "persons"), in);
	a = json_object_get(j, "account");
	if (!json_is_object(a)) {
		rd_fail(&r, "expected an object", "account");
	} else {
		in->tier = (int)rd_num(&r, a, "tier");
		in->segment = rd_str(&r, a, "segment", true);
		in->industry = rd_str(&r, a, "industry", true);
		in->owner = rd_str(&r, a, "owner", true);
		in->has_engaged = rd_time(&r, a, "engaged_at", &in->engaged_at,
		    true);
		in->engaged_field = rd_str(&r, a, "engaged_field", true);
	}
	rd_playbook(&r, json_object_get(j, "playbook"), in);
	pr = json_object_get(j, "prior");
	if (!json_is_object(pr)) {
		rd_fail(&r, "expected an object", "prior");
	} else {
		in->prior_sum = rd_num(&r, pr, "sum");
		in->prior_n = rd_count(&r, pr, "decisions");
	}
	if ((v = json_object_get(j, "postings")) != NULL) {
		in->postings = rd_count(&r, j, "postings");
		in->function = rd_str(&r, j, "function", true);
	}
	return !r.bad;
}
