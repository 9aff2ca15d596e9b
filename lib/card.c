#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "audit.h"
#include "card.h"
#include "db.h"
#include "exitcode.h"
#include "id.h"
#include "jscan.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "record.h"
#include "score.h"
#include "strbuf.h"
#include "template.h"
#include "timefmt.h"
#include "unicode.h"

#define MAX_REFS 3
#define MAX_TITLE 200
#define MAX_LINKEDIN 300

struct refs {
	const cp_playbook *pb;
	char *theme, *industry;
	json_t *refs;
};

struct cp_cardgen {
	sqlite3 *db;
	cp_user me;
	cp_accounts accts;
	const cp_account **byid;
	int64_t *owner_id;           /* users.id of each account's owner */
	size_t nbyid;
	cp_playbooks pbs;
	cp_dconf tpl;
	struct refs *refs;
	size_t nrefs;
	sqlite3_stmt *sel, *ins, *upd, *ev, *ver, *have;
	/* the current opportunity's "inputs", still raw (cp_card_parse) */
	const char *inputs;
	size_t inputs_len;
};

/* ---- set-up --------------------------------------------------------- */

static int cmp_acct(const void *x, const void *y)
{
	return strcmp((*(const cp_account *const *)x)->id,
	    (*(const cp_account *const *)y)->id);
}

int cp_cardgen_new(sqlite3 *db, const cp_user *me, cp_cardgen **out)
{
	cp_cardgen *g = xcalloc(1, sizeof *g);
	size_t i;
	int rc;

	*out = g;
	g->db = db;
	g->me = *me;
	if ((rc = cp_accounts_load(db, me->tenant_id, &g->accts)) ||
	    (rc = cp_playbooks_load(db, me->tenant_id, true, &g->pbs)) ||
	    (rc = cp_dconf_load("card-templates.conf", &g->tpl)))
		return rc;
	g->byid = xcalloc(g->accts.n + 1, sizeof *g->byid);
	for (i = 0; i < g->accts.n; i++)
		g->byid[i] = &g->accts.v[i];
	g->nbyid = g->accts.n;
	qsort(g->byid, g->nbyid, sizeof *g->byid, cmp_acct);
	g->owner_id = xcalloc(g->nbyid + 1, sizeof *g->owner_id);
	for (i = 0; i < g->nbyid; i++)
		if (g->byid[i]->owner)
			g->owner_id[i] = cp_user_id(db, me->tenant_id,
			    g->byid[i]->owner);
	g->sel = cp_db_prepare(db, "SELECT status, version, record FROM cards"
	    " WHERE id = ?1 AND tenant_id = ?2");
	g->ins = cp_db_prepare(db, "INSERT INTO cards (id, tenant_id,"
	    " account_id, assignee_id, status, version, score, theme,"
	    " playbook_id, cluster_id, title, source, record, config_version,"
	    " first_fetched_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4,"
	    " 'pending_review', 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?14)");
	g->upd = cp_db_prepare(db, "UPDATE cards SET version = ?3, score = ?4,"
	    " title = ?5, record = ?6, config_version = ?7,"
	    " first_fetched_at = ?8, updated_at = ?9"
	    " WHERE id = ?1 AND version = ?2 AND status = 'pending_review'");
	g->ev = cp_db_prepare(db, "INSERT OR IGNORE INTO card_evidence"
	    " (card_id, signal_id, url, quote, published_at)"
	    " VALUES (?, ?, ?, ?, ?)");
	g->ver = cp_db_prepare(db, "INSERT INTO card_versions (card_id, version,"
	    " record, actor, created_at) VALUES (?, ?, ?, ?, ?)");
	g->have = cp_db_prepare(db, "SELECT 1 FROM card_evidence"
	    " WHERE card_id = ? AND signal_id = ?");
	/* cards are written in bulk: a bigger page cache keeps the random
	 * index inserts in memory, fewer checkpoints keep fsyncs rare */
	return cp_db_exec(db, "PRAGMA cache_size = -65536;"
	    " PRAGMA wal_autocheckpoint = 16384");
}

void cp_cardgen_free(cp_cardgen *g)
{
	size_t i;

	if (!g)
		return;
	sqlite3_finalize(g->sel);
	sqlite3_finalize(g->ins);
	sqlite3_finalize(g->upd);
	sqlite3_finalize(g->ev);
	sqlite3_finalize(g->ver);
	sqlite3_finalize(g->have);
	for (i = 0; i < g->nrefs; i++) {
		free(g->refs[i].theme);
		free(g->refs[i].industry);
		json_decref(g->refs[i].refs);
	}
	free(g->refs);
	free(g->byid);
	free(g->owner_id);
	cp_accounts_free(&g->accts);
	cp_playbooks_free(&g->pbs);
	cp_dconf_free(&g->tpl);
	free(g);
}

static size_t account_at(const cp_cardgen *g, const char *id)
{
	size_t lo = 0, hi = g->nbyid;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(g->byid[mid]->id, id);
		if (!r)
			return mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

static json_t *asset_refs(cp_cardgen *g, const cp_playbook *pb,
    const char *theme, const char *industry)
{
	const char *ind = industry ? industry : "";
	size_t i;

	for (i = 0; i < g->nrefs; i++)
		if (g->refs[i].pb == pb && !strcmp(g->refs[i].theme, theme) &&
		    !strcmp(g->refs[i].industry, ind))
			return json_incref(g->refs[i].refs);
	g->refs = xrealloc(g->refs, (g->nrefs + 1) * sizeof *g->refs);
	g->refs[g->nrefs].pb = pb;
	g->refs[g->nrefs].theme = xstrdup(theme);
	g->refs[g->nrefs].industry = xstrdup(ind);
	g->refs[g->nrefs].refs = cp_asset_refs(g->db, g->me.tenant_id, pb, theme,
	    industry, MAX_REFS);
	return json_incref(g->refs[g->nrefs++].refs);
}

/* ---- checking the opportunity ----------------------------------------- */

static bool check_factors(const json_t *f, char *err, size_t errlen)
{
	int i;

	if (!json_is_object(f)) {
		snprintf(err, errlen, "factors: expected an object");
		return false;
	}
	for (i = 0; i < CP_NFACTORS; i++) {
		json_t *x = json_object_get(f, cp_factor_names[i]);
		double v, w;
		if (!json_is_object(x) || !cp_json_num(x, "value", &v) ||
		    !cp_json_num(x, "weight", &w) || !cp_json_str(x, "reason")) {
			snprintf(err, errlen, "factors: %s: expected {value, weight, "
			    "reason}", cp_factor_names[i]);
			return false;
		}
		if (v < 0 || v > 1 || w < 0) {
			snprintf(err, errlen, "factors: %s: value must lie in [0,1] "
			    "and weight be >= 0", cp_factor_names[i]);
			return false;
		}
	}
	return true;
}

/* Evidence a person can check: a URL and a quote, and the signal. */
static bool check_evidence(const json_t *ev, char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_array_size(ev)) {
		snprintf(err, errlen, "evidence: a card needs at least one "
		    "piece of evidence");
		return false;
	}
	json_array_foreach(ev, i, e) {
		const char *s = cp_json_str(e, "signal_id"),
		    *u = cp_json_str(e, "url"), *q = cp_json_str(e, "quote");
		if (!s || !*s || !u || !*u || !q || !*q) {
			snprintf(err, errlen, "evidence[%zu]: needs signal_id, url "
			    "and quote", i);
			return false;
		}
	}
	return true;
}

/* ---- rendering ------------------------------------------------------- */

struct ctx {
	cp_cardgen *g;
	const json_t *opp, *facts;
	const cp_account *a;
	const cp_playbook *pb;
	const char *theme_label;
	char *offer, *next_step;      /* rendered */
	char amount[64], headcount[32], tier[8], postings[16], age[32];
};

static void group(char *out, size_t size, double v)
{
	char digits[40], *p;
	size_t n, i, o = 0;

	snprintf(digits, sizeof digits, "%.0f", v);
	n = strlen(digits);
	for (i = 0, p = digits; i < n && o + 2 < size; i++) {
		out[o++] = p[i];
		if (i + 1 < n && (n - i - 1) % 3 == 0)
			out[o++] = ',';
	}
	out[o] = '\0';
}

/* "$450 million", "EUR 1.2 billion", "$75,000" */
static void money(char *out, size_t size, double v, const char *cur)
{
	static const struct { double div; const char *word; } u[] = {
		{ 1e12, "trillion" }, { 1e9, "billion" }, { 1e6, "million" }
	};
	char sym[16], num[40];
	size_t i;

	if (!cur || !strcmp(cur, "USD"))
		snprintf(sym, sizeof sym, "$");
	else if (!strcmp(cur, "EUR"))
		snprintf(sym, sizeof sym, "\xe2\x82\xac");
	else if (!strcmp(cur, "GBP"))
		snprintf(sym, sizeof sym, "\xc2\xa3");
	else
		snprintf(sym, sizeof sym, "%.8s ", cur);
	for (i = 0; i < sizeof u / sizeof *u; i++)
		if (v >= u[i].div) {
			snprintf(out, size, "%s%.3g %s", sym, v / u[i].div,
			    u[i].word);
			return;
		}
	group(num, sizeof num, v);
	snprintf(out, size, "%s%s", sym, num);
}

/* How old the news is: the newest evidence, as scoring saw it. */
static void age(char *out, size_t size, const json_t *opp, const json_t *f)
{
	time_t pub = 0, t, now;
	const json_t *e;
	size_t i;
	long d;

	json_array_foreach(json_object_get(opp, "evidence"), i, e)
		if (cp_time_parse(cp_json_str(e, "published_at"), &t) && t > pub)
			pub = t;
	if (!pub && !cp_time_parse(cp_json_str(f, "date"), &pub)) {
		snprintf(out, size, "recent");
		return;
	}
	if (!cp_time_parse(cp_json_str(opp, "scored_at"), &now))
		now = cp_now();
	d = (long)(difftime(now, pub) / 86400);
	if (d <= 0)
		snprintf(out, size, "less than a day");
	else
		snprintf(out, size, "%ld day%s", d, d == 1 ? "" : "s");
}

static const char *fact(const struct ctx *c, const char *key)
{
	const char *s = cp_json_str(c->facts, key);

	return s && *s ? s : NULL;
}

/* The value of a placeholder, or a neutral default (template.h). */
static const char *lookup(void *arg, const char *name, bool *have)
{
	struct ctx *c = arg;
	const char *v = NULL, *dflt = "";

	if (!strcmp(name, "account")) {
		v = c->a->name;
	} else if (!strcmp(name, "event")) {
		v = fact(c, "event");
		dflt = "the news";
	} else if (!strcmp(name, "person")) {
		v = fact(c, "person");
		dflt = "the team";
	} else if (!strcmp(name, "role")) {
		v = fact(c, "role");
		dflt = "leader";
	} else if (!strcmp(name, "amount")) {
		v = *c->amount ? c->amount : NULL;
		dflt = "an undisclosed amount";
	} else if (!strcmp(name, "headcount")) {
		v = *c->headcount ? c->headcount : NULL;
	} else if (!strcmp(name, "evidence_url")) {
		v = fact(c, "evidence_url");
	} else if (!strcmp(name, "date")) {
		v = fact(c, "date");
		dflt = "recently";
	} else if (!strcmp(name, "source")) {
		v = fact(c, "source");
		dflt = "a source";
	} else if (!strcmp(name, "industry")) {
		v = c->a->industry;
	} else if (!strcmp(name, "segment")) {
		v = c->a->segment;
	} else if (!strcmp(name, "tier")) {
		v = *c->tier ? c->tier : NULL;
	} else if (!strcmp(name, "owner")) {
		v = c->a->owner;
		dflt = "the account team";
	} else if (!strcmp(name, "playbook")) {
		v = c->pb->name;
	} else if (!strcmp(name, "offer")) {
		v = c->offer;
	} else if (!strcmp(name, "next_step")) {
		v = c->next_step;
	} else if (!strcmp(name, "theme")) {
		v = c->theme_label;
	} else if (!strcmp(name, "function")) {
		v = fact(c, "function");
	} else if (!strcmp(name, "postings")) {
		v = *c->postings ? c->postings : NULL;
	} else if (!strcmp(name, "age")) {
		v = c->age;
	}
	*have = v && *v;
	return *have ? v : dflt;
}

static char *render(struct ctx *c, const char *tpl)
{
	strbuf sb = CP_STRBUF_INIT;
	char *s, *p, *q;

	if (!tpl)
		return xstrdup("");
	cp_tpl_render(&sb, tpl, lookup, c);
	/* an empty placeholder leaves two spaces or a space before a
	 * comma: tidy, so "a tier 1  software account" reads right */
	s = sb_detach(&sb);
	for (p = q = s; *p; p++) {
		if (*p == ' ' && (q == s || q[-1] == ' ' || p[1] == ',' ||
		    p[1] == '.' || p[1] == '\0'))
			continue;
		*q++ = *p;
	}
	*q = '\0';
	return s;
}

/* Truncate s to at most max bytes at a character boundary, with "…". */
static void clip(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(s + n, "\xe2\x80\xa6", 4);
}

static const char *tpl_get(const cp_dconf *t, const char *theme,
    const char *key, bool fallback)
{
	char k[160];
	const char *v;

	snprintf(k, sizeof k, "%s.%s", theme, key);
	if ((v = cp_dconf_get(t, k)) != NULL || !fallback)
		return v;
	snprintf(k, sizeof k, "default.%s", key);
	return cp_dconf_get(t, k);
}

static json_t *narrative(struct ctx *c, const char *theme)
{
	const cp_dconf *t = &c->g->tpl;
	char *what = render(c, tpl_get(t, theme, "what", true));
	char *why1 = render(c, tpl_get(t, theme, "why", false));
	char *why2 = render(c, tpl_get(t, "default", "why", false));
	char *now1 = render(c, tpl_get(t, "default", "now", false));
	char *now2 = render(c, tpl_get(t, theme, "now", false));
	char *why = xasprintf("%s%s%s", why1, *why1 ? " " : "", why2);
	char *now = xasprintf("%s%s%s", now1, *now1 ? " " : "", now2);
	json_t *n = json_pack("{s:s,s:s,s:s,s:s,s:s}", "what_happened", what,
	    "why_it_matters", why, "why_now", now, "next_step", c->next_step,
	    "source", "template");

	free(what);
	free(why1);
	free(why2);
	free(now1);
	free(now2);
	free(why);
	free(now);
	return n;
}

static json_t *channel(const char *ch, const char *subject, char *body)
{
	json_t *o = json_pack("{s:s,s:o,s:s}", "channel", ch, "subject",
	    subject ? json_string(subject) : json_null(), "body", body);

	free(body);
	return o;
}

static json_t *outreach(struct ctx *c)
{
	json_t *o = json_object_get(c->pb->rec, "outreach"), *x, *out;

	out = json_array();
	if ((x = json_object_get(o, "email")) != NULL) {
		char *subj = render(c, cp_json_str(x, "subject"));
		clip(subj, MAX_TITLE);
		json_array_append_new(out, channel("email", subj,
		    render(c, cp_json_str(x, "body"))));
		free(subj);
	}
	if ((x = json_object_get(o, "call")) != NULL)
		json_array_append_new(out, channel("call", NULL,
		    render(c, cp_json_str(x, "opener"))));
	if ((x = json_object_get(o, "linkedin")) != NULL) {
		char *note = render(c, cp_json_str(x, "note"));
		/* LinkedIn refuses longer connection notes */
		clip(note, MAX_LINKEDIN);
		json_array_append_new(out, channel("linkedin", NULL, note));
	}
	return out;
}

/* The deal amount by the playbook's rule, or null, and how it was
 * reached. */
static json_t *deal_amount(struct ctx *c, const json_t *rule, char *how,
    size_t size)
{
	const char *r = cp_json_str(rule, "rule");
	double v = -1, x, lo, hi, d;
	const json_t *f = c->facts;

	if (!r) {
		snprintf(how, size, "no amount rule");
		return json_null();
	}
	if (!strcmp(r, "fixed") && cp_json_num(rule, "value", &x)) {
		v = x;
		snprintf(how, size, "fixed %g", x);
	} else if (!strcmp(r, "percent_of_amount") &&
	    cp_json_num(f, "amount", &d) && cp_json_num(rule, "percent", &x)) {
		v = d * x / 100;
		snprintf(how, size, "%g%% of %g", x, d);
	} else if (!strcmp(r, "per_headcount") &&
	    cp_json_num(f, "headcount", &d) && cp_json_num(rule, "per", &x)) {
		v = d * x;
		snprintf(how, size, "%g per head x %g", x, d);
	} else if (!strcmp(r, "per_posting") &&
	    cp_json_num(f, "postings", &d) && cp_json_num(rule, "per", &x)) {
		v = d * x;
		snprintf(how, size, "%g per posting x %g", x, d);
	}
	if (v < 0) {
		if (!cp_json_num(rule, "default", &x)) {
			snprintf(how, size, "%s: no input and no default", r);
			return json_null();
		}
		v = x;
		snprintf(how, size, "%s: no input, default %g", r, x);
	}
	if (cp_json_num(rule, "min", &lo) && v < lo) {
		v = lo;
		snprintf(how + strlen(how), size - strlen(how), ", raised to the "
		    "minimum %g", lo);
	}
	if (cp_json_num(rule, "max", &hi) && v > hi) {
		v = hi;
		snprintf(how + strlen(how), size - strlen(how), ", capped at the "
		    "maximum %g", hi);
	}
	return json_integer((json_int_t)llround(v));
}

static json_t *crm(struct ctx *c)
{
	json_t *spec = json_object_get(c->pb->rec, "crm"), *x, *out = json_array();
	char *s;

	if ((x = json_object_get(spec, "note")) != NULL) {
		s = render(c, cp_json_str(x, "body"));
		json_array_append_new(out, json_pack("{s:s,s:s}", "action", "note",
		    "body", s));
		free(s);
	}
	if ((x = json_object_get(spec, "task")) != NULL) {
		s = render(c, cp_json_str(x, "subject"));
		clip(s, MAX_TITLE);
		json_array_append_new(out, json_pack("{s:s,s:s,s:I}", "action",
		    "task", "subject", s, "due_in_days",
		    (json_int_t)cp_json_int(x, "due_in_days", 0)));
		free(s);
	}
	if ((x = json_object_get(spec, "opportunity")) != NULL) {
		char how[200] = "";
		json_t *amt = deal_amount(c, json_object_get(x, "amount"), how,
		    sizeof how);
		const char *cur = cp_json_str(c->facts, "currency");
		s = render(c, cp_json_str(x, "name"));
		clip(s, MAX_TITLE);
		json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}",
		    "action", "opportunity", "name", s, "stage",
		    cp_json_strd(x, "stage", ""), "amount", amt,
		    "currency", cur && *cur ? cur : "USD", "amount_rule", how));
		free(s);
	}
	return out;
}

static void ctx_init(struct ctx *c, cp_cardgen *g, const json_t *opp,
    const cp_account *a, const cp_playbook *pb, const char *theme)
{
	double d;
	char k[160];

	memset(c, 0, sizeof *c);
	c->g = g;
	c->opp = opp;
	c->facts = json_object_get(opp, "facts");
	c->a = a;
	c->pb = pb;
	snprintf(k, sizeof k, "%s.label", theme);
	c->theme_label = cp_dconf_get(&g->tpl, k);
	if (!c->theme_label)
		c->theme_label = theme;
	if (cp_json_num(c->facts, "amount", &d) && d > 0)
		money(c->amount, sizeof c->amount, d,
		    cp_json_str(c->facts, "currency"));
	if (cp_json_num(c->facts, "headcount", &d) && d > 0)
		group(c->headcount, sizeof c->headcount, d);
	if (cp_json_num(c->facts, "postings", &d) && d > 0)
		snprintf(c->postings, sizeof c->postings, "%.0f", d);
	if (a->tier)
		snprintf(c->tier, sizeof c->tier, "%d", a->tier);
	age(c->age, sizeof c->age, opp, c->facts);
	/* offer and next step are values of other templates: render first */
	c->offer = render(c, cp_json_str(pb->rec, "offer"));
	c->next_step = render(c, cp_json_str(pb->rec, "next_step"));
}

/* ---- the draft -------------------------------------------------------- */

json_t *cp_card_parse(const char *line, size_t len, cp_cardraw *raw,
    char *err, size_t errlen)
{
	cp_jkeep keep[] = { { "inputs", '{', 0, NULL, 0 } };
	json_t *rec = cp_jscan_decode(line, len, keep, 1, err, errlen);

	raw->inputs = keep[0].val;
	raw->inputs_len = keep[0].vlen;
	return rec;
}

/* The card as text; "inputs" kept raw by cp_card_parse goes last, as it
 * came (never decoded and encoded again: it is a tenth of a card). */
static char *dump(const cp_cardgen *g, const json_t *card)
{
	strbuf sb = CP_STRBUF_INIT;

	cp_json_dump(&sb, card, 0);
	if (g->inputs && !json_object_get(card, "inputs") && sb.len > 2 &&
	    sb.buf[sb.len - 1] == '}') {
		sb_truncate(&sb, sb.len - 1);
		sb_adds(&sb, ",\"inputs\":");
		sb_add(&sb, g->inputs, g->inputs_len);
		sb_addc(&sb, '}');
	}
	return sb_detach(&sb);
}

/* Does the headline name the account?  Byte for byte first (the common
 * case), else after NFC and case folding, so "CAFÉ CRÈME" written with
 * combining accents still names "Café Crème". */
static bool names_account(const char *ev, const char *name)
{
	char *fe, *fn;
	bool hit;

	if (strstr(ev, name))
		return true;
	fe = cp_u_casefold(ev);
	fn = cp_u_casefold(name);
	hit = *fn && strstr(fe, fn) != NULL;
	free(fe);
	free(fn);
	return hit;
}

/* The theme's title, else the default one; a headline that already
 * names the account is the best title as it is. */
static char *card_title(struct ctx *c, const char *theme)
{
	const char *t = tpl_get(&c->g->tpl, theme, "title", false);
	const char *ev = fact(c, "event");
	char *s;

	if (!t && ev && names_account(ev, c->a->name))
		s = xstrdup(ev);
	else
		s = render(c, t ? t : tpl_get(&c->g->tpl, "default", "title",
		    false));
	clip(s, MAX_TITLE);
	return s;
}

/* Share from's value of key (or null): cards and opportunities are
 * never changed in place once built, so a reference is enough and
 * copying the big members (inputs, factors, evidence) is not needed. */
static void copy(json_t *to, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	json_object_set_new(to, key, v ? json_incref(v) : json_null());
}

json_t *cp_card_draft(cp_cardgen *g, const json_t *opp,
    const cp_cardraw *raw, char *err, size_t errlen)
{
	const char *tenant, *acct, *pbid, *cluster, *theme;
	const cp_account *a;
	const cp_playbook *pb;
	char id[CP_ID_MAX], *title;
	struct ctx c;
	json_t *d;
	double score;
	size_t at;

	if (!cp_record_check(opp, CP_REC_OPPORTUNITY, err, errlen))
		return NULL;
	tenant = cp_json_str(opp, "tenant");
	acct = cp_json_str(opp, "account_id");
	pbid = cp_json_str(opp, "playbook_id");
	cluster = cp_json_str(opp, "cluster_id");
	theme = cp_json_str(opp, "theme");
	if (strcmp(tenant, g->me.tenant)) {
		snprintf(err, errlen, "tenant \"%.60s\" is not yours (%s)", tenant,
		    g->me.tenant);
		return NULL;
	}
	if ((at = account_at(g, acct)) == (size_t)-1) {
		snprintf(err, errlen, "account \"%.60s\" is not an account of "
		    "tenant %s", acct, tenant);
		return NULL;
	}
	a = g->byid[at];
	if (!(pb = cp_playbooks_find(&g->pbs, pbid))) {
		snprintf(err, errlen, "playbook \"%.60s\" is not a playbook of "
		    "tenant %s", pbid, tenant);
		return NULL;
	}
	if (!*cluster || !*theme) {
		snprintf(err, errlen, "cluster_id and theme must not be empty");
		return NULL;
	}
	cp_json_num(opp, "score", &score);
	if (score < 0 || score > 100) {
		snprintf(err, errlen, "score must lie in [0,100]");
		return NULL;
	}
	if (!check_factors(json_object_get(opp, "factors"), err, errlen) ||
	    !check_evidence(json_object_get(opp, "evidence"), err, errlen))
		return NULL;

	cp_make_id4(id, "card_", tenant, acct, pbid, cluster);
	g->inputs = raw ? raw->inputs : NULL;
	g->inputs_len = raw ? raw->inputs_len : 0;
	ctx_init(&c, g, opp, a, pb, theme);
	title = card_title(&c, theme);
	d = json_object();
	json_object_set_new(d, "type", json_string("card"));
	json_object_set_new(d, "v", json_integer(CP_RECORD_V));
	json_object_set_new(d, "id", json_string(id));
	json_object_set_new(d, "tenant", json_string(tenant));
	json_object_set_new(d, "account_id", json_string(acct));
	json_object_set_new(d, "account_name", json_string(a->name));
	json_object_set_new(d, "assignee", a->owner ? json_string(a->owner) :
	    json_null());
	json_object_set_new(d, "status", json_string("pending_review"));
	json_object_set_new(d, "version", json_integer(1));
	copy(d, opp, "score");
	json_object_set_new(d, "theme", json_string(theme));
	json_object_set_new(d, "playbook_id", json_string(pbid));
	json_object_set_new(d, "playbook_name", json_string(pb->name));
	json_object_set_new(d, "cluster_id", json_string(cluster));
	copy(d, opp, "signal_ids");
	json_object_set_new(d, "title", json_string(title));
	json_object_set_new(d, "narrative", narrative(&c, theme));
	json_object_set_new(d, "outreach", outreach(&c));
	json_object_set_new(d, "crm", crm(&c));
	json_object_set_new(d, "asset_refs", asset_refs(g, pb, theme,
	    a->industry));
	copy(d, opp, "evidence");
	copy(d, opp, "factors");
	copy(d, opp, "source");
	copy(d, opp, "first_fetched_at");
	json_object_set_new(d, "created_at", json_null());
	json_object_set_new(d, "updated_at", json_null());
	json_object_set_new(d, "opportunity_id",
	    json_string(cp_json_str(opp, "id")));
	copy(d, opp, "scored_at");
	copy(d, opp, "config_version");
	copy(d, opp, "facts");
	if (json_object_get(opp, "inputs"))
		copy(d, opp, "inputs");	/* else kept raw: dump() */
	free(title);
	free(c.offer);
	free(c.next_step);
	return d;
}

void cp_card_set_narrative(json_t *draft, json_t *narrative)
{
	json_object_set_new(draft, "narrative", narrative);
}

char *cp_card_corpus(const json_t *d)
{
	strbuf sb = CP_STRBUF_INIT;
	const json_t *f = json_object_get(d, "facts"), *n, *e, *v;
	const char *k;
	size_t i;

	sb_adds(&sb, cp_json_strd(d, "account_name", ""));
	sb_addc(&sb, '\n');
	sb_adds(&sb, cp_json_strd(d, "playbook_name", ""));
	sb_addc(&sb, '\n');
	json_object_foreach((json_t *)f, k, v) {
		if (json_is_string(v))
			sb_addf(&sb, "%s\n", json_string_value(v));
		else if (json_is_number(v))
			sb_addf(&sb, "%.0f\n", json_number_value(v));
	}
	json_array_foreach(json_object_get(d, "evidence"), i, e) {
		sb_addf(&sb, "%s\n%s\n%s\n%s\n", cp_json_strd(e, "quote", ""),
		    cp_json_strd(e, "title", ""), cp_json_strd(e, "source_name", ""),
		    cp_json_strd(e, "published_at", ""));
	}
	/* the template narrative and the playbook's words are facts too */
	n = json_object_get(d, "narrative");
	json_object_foreach((json_t *)n, k, v)
		if (json_is_string(v))
			sb_addf(&sb, "%s\n", json_string_value(v));
	json_array_foreach(json_object_get(d, "outreach"), i, e)
		sb_addf(&sb, "%s\n%s\n", cp_json_strd(e, "subject", ""),
		    cp_json_strd(e, "body", ""));
	return sb_detach(&sb);
}

/* ---- storing ---------------------------------------------------------- */

/* What the audit log keeps of a card: enough to see what changed. */
static json_t *summary(const json_t *card)
{
	json_t *s = json_object();

	copy(s, card, "status");
	copy(s, card, "version");
	copy(s, card, "score");
	copy(s, card, "title");
	copy(s, card, "signal_ids");
	return s;
}

static bool has_signal(const json_t *ids, const char *id)
{
	size_t i;
	json_t *e;

	json_array_foreach(ids, i, e)
		if (json_is_string(e) && !strcmp(json_string_value(e), id))
			return true;
	return false;
}

/* The evidence of the draft the stored card lacks, merged into merged
 * (a copy of the stored record); false when there is none. */
static bool merge(json_t *merged, const json_t *draft)
{
	json_t *ids = json_object_get(merged, "signal_ids");
	json_t *ev = json_object_get(merged, "evidence"), *e;
	const char *ff = cp_json_str(draft, "first_fetched_at");
	const char *mf = cp_json_str(merged, "first_fetched_at");
	bool more = false;
	size_t i;

	if (!json_is_array(ids) || !json_is_array(ev))
		return false;
	json_array_foreach(json_object_get(draft, "evidence"), i, e) {
		const char *sid = cp_json_str(e, "signal_id");
		if (has_signal(ids, sid))
			continue;
		json_array_append_new(ids, json_string(sid));
		json_array_append(ev, e);
		more = true;
	}
	json_array_foreach(json_object_get(draft, "signal_ids"), i, e)
		if (json_is_string(e) && !has_signal(ids, json_string_value(e))) {
			json_array_append(ids, e);
			more = true;
		}
	if (ff && (!mf || strcmp(ff, mf) < 0))
		json_object_set_new(merged, "first_fetched_at", json_string(ff));
	return more;
}

/* The updated card: the draft's new content on the stored card's
 * identity and history, with the merged evidence. */
static json_t *updated(const json_t *old, const json_t *merged, json_t *draft)
{
	json_t *u = json_copy(draft);

	copy(u, old, "assignee");
	copy(u, old, "created_at");
	json_object_set_new(u, "version", json_integer(
	    cp_json_int(old, "version", 1) + 1));
	copy(u, merged, "signal_ids");
	copy(u, merged, "evidence");
	copy(u, merged, "first_fetched_at");
	return u;
}

static int write_evidence(cp_cardgen *g, const char *id, const json_t *ev)
{
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(ev, i, e) {
		cp_db_bind_text(g->ev, 1, id);
		cp_db_bind_text(g->ev, 2, cp_json_str(e, "signal_id"));
		cp_db_bind_text(g->ev, 3, cp_json_str(e, "url"));
		cp_db_bind_text(g->ev, 4, cp_json_str(e, "quote"));
		cp_db_bind_text(g->ev, 5, cp_json_str(e, "published_at"));
		if ((rc = cp_db_step_done(g->db, g->ev)))
			break;
	}
	return rc;
}

static int write_version(cp_cardgen *g, const json_t *card, const char *text,
    const char *actor, const char *ts)
{
	cp_db_bind_text(g->ver, 1, cp_json_str(card, "id"));
	sqlite3_bind_int64(g->ver, 2, cp_json_int(card, "version", 1));
	cp_db_bind_text(g->ver, 3, text);
	cp_db_bind_text(g->ver, 4, actor);
	cp_db_bind_text(g->ver, 5, ts);
	return cp_db_step_done(g->db, g->ver);
}

/* A failure after the card's first row: the transaction must not be
 * committed (the caller rolls it back), so it is not a refused record. */
static int half_written(const json_t *card, int rc)
{
	if (rc != CP_EX_DATAERR)
		return rc;
	cp_err("%s: refused by the state file after its first row; nothing of "
	    "this batch is stored", cp_json_str(card, "id"));
	return CP_EX_SOFTWARE;
}

static int insert(cp_cardgen *g, json_t *card, const char *actor,
    const char *ts, char **textp)
{
	size_t at = account_at(g, cp_json_str(card, "account_id"));
	char *text;
	double score = 0;
	json_t *sum;
	int rc;

	json_object_set_new(card, "created_at", json_string(ts));
	json_object_set_new(card, "updated_at", json_string(ts));
	text = dump(g, card);
	cp_json_num(card, "score", &score);
	cp_db_bind_text(g->ins, 1, cp_json_str(card, "id"));
	sqlite3_bind_int64(g->ins, 2, g->me.tenant_id);
	cp_db_bind_text(g->ins, 3, cp_json_str(card, "account_id"));
	if (at != (size_t)-1 && g->owner_id[at])
		sqlite3_bind_int64(g->ins, 4, g->owner_id[at]);
	else
		sqlite3_bind_null(g->ins, 4);
	sqlite3_bind_double(g->ins, 5, score);
	cp_db_bind_text(g->ins, 6, cp_json_str(card, "theme"));
	cp_db_bind_text(g->ins, 7, cp_json_str(card, "playbook_id"));
	cp_db_bind_text(g->ins, 8, cp_json_str(card, "cluster_id"));
	cp_db_bind_text(g->ins, 9, cp_json_str(card, "title"));
	cp_db_bind_text(g->ins, 10, cp_json_str(card, "source"));
	cp_db_bind_text(g->ins, 11, text);
	cp_db_bind_text(g->ins, 12, cp_json_str(card, "config_version"));
	cp_db_bind_text(g->ins, 13, cp_json_str(card, "first_fetched_at"));
	cp_db_bind_text(g->ins, 14, ts);
	/* a refused card (a constraint) fails here, before anything of it
	 * is written: no savepoint needed (a savepoint per card journals
	 * every page it touches, which cost more than the card) */
	if ((rc = cp_db_step_done(g->db, g->ins))) {
		free(text);
		return rc;
	}
	rc = write_evidence(g, cp_json_str(card, "id"),
	    json_object_get(card, "evidence"));
	if (!rc)
		rc = write_version(g, card, text, actor, ts);
	if (!rc) {
		sum = summary(card);
		rc = cp_audit(g->db, g->me.tenant_id, actor, "card.create", "card",
		    cp_json_str(card, "id"), NULL, sum, NULL);
		json_decref(sum);
	}
	*textp = text;
	return half_written(card, rc);
}

static int update(cp_cardgen *g, const json_t *old, json_t *card,
    const char *actor, const char *ts, char **textp)
{
	char *text;
	double score = 0;
	json_t *so, *sn;
	int rc;

	json_object_set_new(card, "updated_at", json_string(ts));
	text = dump(g, card);
	cp_json_num(card, "score", &score);
	cp_db_bind_text(g->upd, 1, cp_json_str(card, "id"));
	sqlite3_bind_int64(g->upd, 2, cp_json_int(old, "version", 1));
	sqlite3_bind_int64(g->upd, 3, cp_json_int(card, "version", 1));
	sqlite3_bind_double(g->upd, 4, score);
	cp_db_bind_text(g->upd, 5, cp_json_str(card, "title"));
	cp_db_bind_text(g->upd, 6, text);
	cp_db_bind_text(g->upd, 7, cp_json_str(card, "config_version"));
	cp_db_bind_text(g->upd, 8, cp_json_str(card, "first_fetched_at"));
	cp_db_bind_text(g->upd, 9, ts);
	if ((rc = cp_db_step_done(g->db, g->upd))) {
		free(text);
		return rc;
	}
	if (sqlite3_changes(g->db) != 1) {
		cp_err("%s: changed by someone else meanwhile; try again",
		    cp_json_str(card, "id"));
		free(text);
		return CP_EX_TEMPFAIL;
	}
	rc = write_evidence(g, cp_json_str(card, "id"),
	    json_object_get(card, "evidence"));
	if (!rc)
		rc = write_version(g, card, text, actor, ts);
	if (!rc) {
		so = summary(old);
		sn = summary(card);
		rc = cp_audit(g->db, g->me.tenant_id, actor, "card.update", "card",
		    cp_json_str(card, "id"), so, sn, NULL);
		json_decref(so);
		json_decref(sn);
	}
	*textp = text;
	return half_written(card, rc);
}

/* Does the stored card lack any of the draft's signals? */
static bool brings_news(cp_cardgen *g, const char *id, const json_t *draft)
{
	sqlite3_stmt *st = g->have;
	size_t i;
	json_t *e;
	bool news = false;

	json_array_foreach(json_object_get(draft, "signal_ids"), i, e) {
		cp_db_bind_text(st, 1, id);
		cp_db_bind_text(st, 2, json_string_value(e));
		news = sqlite3_step(st) != SQLITE_ROW;
		sqlite3_reset(st);
		if (news)
			break;
	}
	return news;
}

int cp_card_store(cp_cardgen *g, json_t *draft, const char *actor, bool dry,
    int *outcome, char **text, char status[32])
{
	const char *id = cp_json_str(draft, "id");
	char ts[CP_TIME_MAX];
	json_t *old, *merged, *card;
	int s, rc = 0;

	*text = NULL;
	*status = '\0';
	/* the facts are rendered into narrative, outreach and CRM actions;
	 * the card does not keep them (the opportunity has them), which
	 * saves a tenth of every card's bytes, written twice */
	json_object_del(draft, "facts");
	cp_time_format(cp_now(), ts);
	cp_db_bind_text(g->sel, 1, id);
	sqlite3_bind_int64(g->sel, 2, g->me.tenant_id);
	if ((s = sqlite3_step(g->sel)) != SQLITE_ROW) {
		sqlite3_reset(g->sel);
		if (s != SQLITE_DONE)
			return cp_db_error(g->db, "read card");
		*outcome = CP_CARD_CREATED;
		if (!dry)
			return insert(g, draft, actor, ts, text);
		json_object_set_new(draft, "created_at", json_string(ts));
		json_object_set_new(draft, "updated_at", json_string(ts));
		*text = dump(g, draft);
		return 0;
	}
	snprintf(status, 32, "%s", cp_db_col_text(g->sel, 0));
	if (strcmp(status, "pending_review")) {
		/* decided: a person has acted on it; never reopened here */
		*outcome = CP_CARD_DECIDED;
		sqlite3_reset(g->sel);
		return 0;
	}
	if (!brings_news(g, id, draft)) {
		/* nothing new: the stored card, as stored */
		*outcome = CP_CARD_UNCHANGED;
		*text = xstrdup(cp_db_col_text(g->sel, 2));
		sqlite3_reset(g->sel);
		return 0;
	}
	old = json_loads(cp_db_col_text(g->sel, 2), 0, NULL);
	if (!json_is_object(old)) {
		json_decref(old);
		old = json_object();
	}
	/* the columns are the truth (the inbox changes them) */
	json_object_set_new(old, "status", json_string(status));
	json_object_set_new(old, "version",
	    json_integer(sqlite3_column_int64(g->sel, 1)));
	sqlite3_reset(g->sel);
	merged = json_deep_copy(old);
	merge(merged, draft);
	card = updated(old, merged, draft);
	json_decref(merged);
	*outcome = CP_CARD_UPDATED;
	if (dry) {
		json_object_set_new(card, "updated_at", json_string(ts));
		*text = dump(g, card);
	} else {
		rc = update(g, old, card, actor, ts, text);
	}
	json_decref(card);
	json_decref(old);
	return rc;
}
