/*
 * cp-score — signals in, scored opportunities out.
 *
 *   cp-score [--min-score N] [--max-per-signal N] [--explain] [FILE…]
 *   cp-score --explain CARD_ID…
 *   cp-score --priors [--json]
 *
 * For each signal, each account it is about and each of the tenant's
 * playbooks that answers it, the six factors are computed (score.h) and
 * the best opportunities at or above the threshold are written as
 * records.  Job postings are also counted per account and job function
 * (surge.h): a window with enough of them becomes one hiring_surge
 * opportunity, written when the input pauses or ends.
 *
 * Deterministic: the same state, input and clock (CLIENTPULSE_NOW) give
 * the same output bit for bit.  Never links libcurl: start-up time is
 * part of every pipeline run.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "asset.h"
#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "id.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "playbook.h"
#include "priors.h"
#include "rbac.h"
#include "record.h"
#include "score.h"
#include "sigview.h"
#include "strbuf.h"
#include "surge.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-score [--min-score N] [--max-per-signal N] [--explain]\n"
	"                [--reject FILE] [--max-line BYTES] [--unbuffered] [FILE...]\n"
	"       cp-score --explain CARD_ID...\n"
	"       cp-score --priors [--json]\n"
	"common options: --db FILE --as USER --tenant NAME --config FILE\n"
	"                --log-format text|json -q -v --help --version\n"
	"Score signals against the tenant's playbooks.  See cp-score(1).\n";

enum { OPT_MIN = CP_OPT_LOCAL, OPT_MAXPER, OPT_EXPLAIN, OPT_PRIORS,
       OPT_JSON };

static const struct option longopts[] = {
	{ "min-score", required_argument, NULL, OPT_MIN },
	{ "max-per-signal", required_argument, NULL, OPT_MAXPER },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "priors", no_argument, NULL, OPT_PRIORS },
	{ "json", no_argument, NULL, OPT_JSON },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* One opportunity being considered. */
struct cand {
	const cp_account *a;
	const cp_playbook *pb;
	struct cp_match m;
	cp_score_in in;
	cp_score_out out;
};

/* Asset counts per (playbook, theme), looked up once per run. */
struct acount {
	const cp_playbook *pb;
	char *theme;
	long n;
};

/* (account, function) pairs with new postings since the last flush. */
struct dirty {
	const cp_account *a;
	char *function;
};

static struct {
	sqlite3 *db;
	cp_user me;
	cp_scorecfg cfg;
	cp_playbooks pbs;
	cp_accounts accts;
	const cp_account **byid;     /* accounts in scope, sorted by id */
	size_t nbyid;
	cp_priors priors;
	struct acount *ac;
	size_t nac;
	struct dirty *dirty;
	size_t ndirty;
	bool in_txn;
	time_t now;
	char now_str[CP_TIME_MAX];
	double min_score;
	long max_per;
	bool explain, json;
	unsigned long signals, opps, below, unknown_accounts, postings;
} S;

/* ---- set-up --------------------------------------------------------- */

static int cmp_acct(const void *x, const void *y)
{
	return strcmp((*(const cp_account *const *)x)->id,
	    (*(const cp_account *const *)y)->id);
}

/* The accounts the caller may see, indexed by id: a signal about an
 * account outside the scope produces nothing for it. */
static int load_accounts(void)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if ((rc = cp_accounts_load(S.db, S.me.tenant_id, &S.accts)) ||
	    (rc = cp_rbac_load_scope(S.db, &S.me)))
		return rc;
	S.byid = xcalloc(S.accts.n + 1, sizeof *S.byid);
	st = cp_db_prepare(S.db, "SELECT 1 FROM temp.scope WHERE account_id = ?");
	for (i = 0; i < S.accts.n; i++) {
		cp_db_bind_text(st, 1, S.accts.v[i].id);
		if (sqlite3_step(st) == SQLITE_ROW)
			S.byid[S.nbyid++] = &S.accts.v[i];
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	qsort(S.byid, S.nbyid, sizeof *S.byid, cmp_acct);
	return 0;
}

static const cp_account *account(const char *id)
{
	size_t lo = 0, hi = S.nbyid;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(S.byid[mid]->id, id);
		if (!r)
			return S.byid[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static long asset_count(const cp_playbook *pb, const char *theme)
{
	size_t i;

	for (i = 0; i < S.nac; i++)
		if (S.ac[i].pb == pb && !strcmp(S.ac[i].theme, theme))
			return S.ac[i].n;
	S.ac = xrealloc(S.ac, (S.nac + 1) * sizeof *S.ac);
	S.ac[S.nac].pb = pb;
	S.ac[S.nac].theme = xstrdup(theme);
	S.ac[S.nac].n = cp_asset_count(S.db, S.me.tenant_id, pb, theme);
	return S.ac[S.nac++].n;
}

/* ---- inputs of one candidate ----------------------------------------- */

/* The newest engagement time among the account's meta fields. */
static void engagement(const cp_account *a, cp_score_in *in)
{
	size_t i;

	for (i = 0; i < S.cfg.nengagement; i++) {
		const char *f = S.cfg.engagement_fields[i];
		time_t t;
		if (!cp_time_parse(cp_json_str(a->meta, f), &t))
			continue;
		if (!in->has_engaged || t > in->engaged_at) {
			in->has_engaged = true;
			in->engaged_at = t;
			in->engaged_field = f;
		}
	}
}

static void build_in(struct cand *c, cp_sigview *sv)
{
	cp_score_in *in = &c->in;
	const cp_prior *pr;
	size_t i;

	memset(in, 0, sizeof *in);
	in->theme = c->m.theme;
	in->theme_confidence = c->m.confidence;
	in->negated = c->m.negated;
	in->source = sv->source;
	in->source_name = sv->source_name;
	in->has_reliability = sv->has_reliability;
	in->reliability = sv->reliability;
	in->corroborations = sv->corroborations;
	in->published_at = sv->published_at;
	in->scored_at = S.now;
	in->has_money = sv->has_money;
	in->money = sv->money;
	in->currency = sv->currency;
	in->has_headcount = sv->has_headcount;
	in->headcount = sv->headcount;
	in->has_deadline = cp_sigview_deadline(sv, S.now, &in->deadline);
	for (i = 0; i < sv->npersons; i++)
		in->person[in->npersons++] = sv->persons[i];
	in->tier = c->a->tier;
	in->segment = c->a->segment;
	in->industry = c->a->industry;
	in->owner = c->a->owner;
	engagement(c->a, in);
	in->playbook_id = c->pb->id;
	in->primary_theme = c->m.primary;
	in->industry_listed = c->m.industry_listed;
	in->segment_listed = c->m.segment_listed;
	for (i = 0; i < c->pb->requires.n && i < CP_SCORE_MAXP; i++) {
		in->prereq[i].name = c->pb->requires.v[i];
		in->prereq[i].met = cp_playbook_prereq(c->pb->requires.v[i], sv,
		    c->a, &S.cfg);
	}
	in->nprereq = i;
	in->assets = asset_count(c->pb, c->m.theme);
	pr = cp_priors_find(&S.priors, c->m.theme, c->pb->id, c->a->segment);
	if (pr) {
		in->prior_sum = pr->sum;
		in->prior_n = pr->n;
	}
}

/* ---- the opportunity record ------------------------------------------ */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The person an account manager would address: senior first. */
static const struct cp_person *best_person(const cp_score_in *in)
{
	const struct cp_person *best = NULL;
	int bestv = -1;
	size_t i;

	for (i = 0; i < in->npersons; i++) {
		const struct cp_person *p = &in->person[i];
		int v = cp_scorecfg_senior(&S.cfg, p->role) ? 2 :
		    p->role && *p->role ? 1 : 0;
		if (v > bestv) {
			bestv = v;
			best = p;
		}
	}
	return best;
}

/* What templates and people need, in plain words (cp-card(1)). */
static json_t *facts(const struct cand *c, const char *event,
    const char *url, const char *function, long postings)
{
	const struct cp_person *p = best_person(&c->in);
	char date[CP_TIME_MAX];
	json_t *f = json_object();

	cp_time_format(c->in.published_at, date);
	date[10] = '\0';
	json_object_set_new(f, "account", json_string(c->a->name));
	json_object_set_new(f, "event", jstr(event));
	json_object_set_new(f, "person", jstr(p ? p->name : NULL));
	json_object_set_new(f, "role", jstr(p ? p->role : NULL));
	json_object_set_new(f, "amount", c->in.has_money ?
	    json_real(c->in.money) : json_null());
	json_object_set_new(f, "currency", jstr(c->in.has_money ?
	    c->in.currency : NULL));
	json_object_set_new(f, "headcount", c->in.has_headcount ?
	    json_real(c->in.headcount) : json_null());
	json_object_set_new(f, "date", json_string(date));
	json_object_set_new(f, "source", jstr(c->in.source_name));
	json_object_set_new(f, "evidence_url", jstr(url));
	json_object_set_new(f, "industry", jstr(c->a->industry));
	json_object_set_new(f, "segment", jstr(c->a->segment));
	json_object_set_new(f, "tier", c->a->tier ? json_integer(c->a->tier) :
	    json_null());
	json_object_set_new(f, "owner", jstr(c->a->owner));
	json_object_set_new(f, "function", jstr(function));
	json_object_set_new(f, "postings", postings ? json_integer(postings) :
	    json_null());
	return f;
}

static json_t *evidence(const char *sig, const char *url, const char *quote,
    const char *title, const char *source_name, const char *published,
    const char *fetched)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "signal_id", sig,
	    "url", url, "quote", quote, "title", jstr(title),
	    "source_name", jstr(source_name), "published_at", jstr(published),
	    "fetched_at", jstr(fetched));
}

/* The record common to signal and surge opportunities; the caller adds
 * signal_ids, evidence and facts. */
static json_t *opportunity(const struct cand *c, const char *cluster,
    const char *source, const char *first_fetched)
{
	char id[CP_ID_MAX];
	json_t *o;

	cp_make_id4(id, "opp_", S.me.tenant, c->a->id, c->pb->id, cluster);
	o = json_object();
	json_object_set_new(o, "type", json_string("opportunity"));
	json_object_set_new(o, "v", json_integer(CP_RECORD_V));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "tenant", json_string(S.me.tenant));
	json_object_set_new(o, "account_id", json_string(c->a->id));
	json_object_set_new(o, "account_name", json_string(c->a->name));
	json_object_set_new(o, "signal_ids", json_array());
	json_object_set_new(o, "cluster_id", json_string(cluster));
	json_object_set_new(o, "theme", json_string(c->m.theme));
	json_object_set_new(o, "playbook_id", json_string(c->pb->id));
	json_object_set_new(o, "playbook_name", json_string(c->pb->name));
	json_object_set_new(o, "score", json_real(c->out.score));
	json_object_set_new(o, "factors", cp_score_factors_json(&c->out));
	json_object_set_new(o, "evidence", json_array());
	json_object_set_new(o, "source", jstr(source));
	json_object_set_new(o, "first_fetched_at", jstr(first_fetched));
	json_object_set_new(o, "scored_at", json_string(S.now_str));
	json_object_set_new(o, "config_version",
	    json_string(S.cfg.dc.version));
	json_object_set_new(o, "inputs", cp_score_in_json(&c->in));
	return o;
}

/* ---- explain tables -------------------------------------------------- */

static void explain_table(const cp_score_out *out, FILE *fp)
{
	static const char *const head[] = { "FACTOR", "VALUE", "WEIGHT",
	    "POINTS", "REASON" };
	cp_table *t = cp_table_new(5, head);
	double wsum = 0, sum = 0;
	char v[32], w[32], p[32], tot[64];
	const char *cells[5];
	int i;

	for (i = 0; i < CP_NFACTORS; i++)
		wsum += out->f[i].weight;
	for (i = 0; i < CP_NFACTORS; i++) {
		snprintf(v, sizeof v, "%.4f", out->f[i].value);
		snprintf(w, sizeof w, "%g", out->f[i].weight);
		snprintf(p, sizeof p, "%.2f",
		    100 * out->f[i].weight * out->f[i].value / wsum);
		sum += out->f[i].weight * out->f[i].value;
		cells[0] = cp_factor_names[i];
		cells[1] = v;
		cells[2] = w;
		cells[3] = p;
		cells[4] = out->f[i].reason;
		cp_table_add(t, cells);
	}
	snprintf(p, sizeof p, "%.2f", out->score);
	snprintf(tot, sizeof tot, "= 100 x %.6f / %g", sum, wsum);
	cells[0] = "total";
	cells[1] = "";
	cells[2] = "";
	cells[3] = p;
	cells[4] = tot;
	cp_table_add(t, cells);
	for (i = 1; i <= 3; i++)
		cp_table_right(t, i);
	cp_table_flex(t, 4);
	cp_table_print(t, fp, cp_term_width(fileno(fp)), false,
	    !cp_u_locale_utf8());
	cp_table_free(t);
}

static void explain_opp(const json_t *o, const struct cand *c,
    const char *dropped)
{
	printf("%s  %s (%s) x %s  theme %s  score %.2f%s%s\n",
	    cp_json_str(o, "id"), c->a->id, c->a->name, c->pb->id, c->m.theme,
	    c->out.score, *dropped ? "  not emitted: " : "", dropped);
	explain_table(&c->out, stdout);
	putchar('\n');
}

/* ---- emitting -------------------------------------------------------- */

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	int r;

	/* best first; ties by account, then playbook id, so the order is
	 * the same on every run */
	if (a->out.score != b->out.score)
		return a->out.score > b->out.score ? -1 : 1;
	if ((r = strcmp(a->a->id, b->a->id)))
		return r;
	return strcmp(a->pb->id, b->pb->id);
}

/* Why a candidate is not emitted ("" when it is). */
static void dropped(const struct cand *c, size_t emitted, char *why,
    size_t size)
{
	*why = '\0';
	if (c->out.score < S.min_score)
		snprintf(why, size, "score below --min-score %g", S.min_score);
	else if (c->out.f[CP_F_CONFIDENCE].value < S.cfg.conf_floor)
		snprintf(why, size, "confidence %.4f below the floor %g",
		    c->out.f[CP_F_CONFIDENCE].value, S.cfg.conf_floor);
	else if (S.max_per && emitted >= (size_t)S.max_per)
		snprintf(why, size, "a better playbook answered (--max-per-signal "
		    "%ld)", S.max_per);
}

/*
 * Records made while the postings' write transaction is open wait here
 * until it commits: writing them could block on a full pipe while the
 * next stage (cp-card) waits for the write lock we hold — a deadlock
 * through the pipe.  The state is committed before anything goes out.
 */
static json_t *held;
static long txn_postings;   /* postings recorded in the open transaction */

static void out(json_t *o)
{
	if (!S.in_txn) {
		cp_emit(o);
		return;
	}
	if (!held)
		held = json_array();
	json_array_append(held, o);
}

static void release_held(void)
{
	size_t i;
	json_t *o;

	json_array_foreach(held, i, o)
		cp_emit(o);
	json_decref(held);
	held = NULL;
}

/* Emit (or explain) the candidates of one account, best first. */
static void emit_cands(struct cand *cs, size_t n,
    json_t *(*make)(struct cand *, void *), void *arg)
{
	size_t i, emitted = 0;
	char why[128];

	qsort(cs, n, sizeof *cs, cand_cmp);
	for (i = 0; i < n; i++) {
		json_t *o;

		dropped(&cs[i], emitted, why, sizeof why);
		if (*why && !S.explain) {
			S.below++;
			continue;
		}
		o = make(&cs[i], arg);
		if (S.explain)
			explain_opp(o, &cs[i], why);
		else
			out(o);
		json_decref(o);
		if (*why) {
			S.below++;
		} else {
			emitted++;
			S.opps++;
		}
	}
}

static json_t *make_signal_opp(struct cand *c, void *arg)
{
	cp_sigview *sv = arg;
	const char *quote = c->m.evidence && *c->m.evidence ? c->m.evidence :
	    cp_sigview_quote(sv, c->m.theme);
	json_t *o = opportunity(c, sv->cluster_id, sv->source, sv->fetched_str);

	json_array_append_new(json_object_get(o, "signal_ids"),
	    json_string(sv->id));
	json_array_append_new(json_object_get(o, "evidence"), evidence(sv->id,
	    sv->url, quote, sv->title, sv->source_name, sv->published_str,
	    sv->fetched_str));
	json_object_set_new(o, "facts", facts(c, sv->title, sv->url,
	    sv->job_function, 0));
	return o;
}

static void free_cands(struct cand *cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cp_score_out_free(&cs[i].out);
	free(cs);
}

/* Every playbook that answers the signal for account a. */
static void score_account(cp_sigview *sv, const cp_account *a)
{
	struct cand *cs = NULL;
	size_t i, n = 0;

	for (i = 0; i < S.pbs.n; i++) {
		struct cp_match m;
		if (!cp_playbook_match(&S.pbs.v[i], sv, a, false, &m))
			continue;
		cs = xrealloc(cs, (n + 1) * sizeof *cs);
		memset(&cs[n], 0, sizeof cs[n]);
		cs[n].a = a;
		cs[n].pb = &S.pbs.v[i];
		cs[n].m = m;
		build_in(&cs[n], sv);
		cp_score_compute(&S.cfg, &cs[n].in, &cs[n].out);
		n++;
	}
	if (n)
		emit_cands(cs, n, make_signal_opp, sv);
	free_cands(cs, n);
}

/* ---- hiring surges --------------------------------------------------- */

static int begin(void)
{
	int rc;

	if (S.in_txn)
		return 0;
	if ((rc = cp_db_begin(S.db)))
		return rc;
	S.in_txn = true;
	return 0;
}

static void mark_dirty(const cp_account *a, const char *function)
{
	size_t i;
	char *f = xstrdup(function), *p;

	for (p = f; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	for (i = 0; i < S.ndirty; i++)
		if (S.dirty[i].a == a && !strcmp(S.dirty[i].function, f)) {
			free(f);
			return;
		}
	S.dirty = xrealloc(S.dirty, (S.ndirty + 1) * sizeof *S.dirty);
	S.dirty[S.ndirty].a = a;
	S.dirty[S.ndirty].function = f;
	S.ndirty++;
}

struct surge_arg {
	cp_surge *s;
	const char *function;
	char cluster[CP_ID_MAX];
};

static json_t *make_surge_opp(struct cand *c, void *arg)
{
	struct surge_arg *sa = arg;
	const struct cp_posting *newest = &sa->s->p[sa->s->n - 1];
	const char *first = sa->s->p[0].fetched_at;
	char event[160];
	json_t *o;
	size_t i;

	for (i = 0; i < sa->s->n; i++)
		if (strcmp(sa->s->p[i].fetched_at, first) < 0)
			first = sa->s->p[i].fetched_at;
	o = opportunity(c, sa->cluster, "jobs", first);
	for (i = 0; i < sa->s->n; i++) {
		const struct cp_posting *p = &sa->s->p[i];
		json_array_append_new(json_object_get(o, "signal_ids"),
		    json_string(p->signal_id));
		json_array_append_new(json_object_get(o, "evidence"),
		    evidence(p->signal_id, p->url, p->quote, p->title,
		    p->source_name, p->published_at, p->fetched_at));
	}
	snprintf(event, sizeof event, "%zu open %s roles posted within %g days",
	    sa->s->n, sa->function, S.cfg.surge_window);
	json_object_set_new(o, "facts", facts(c, event, newest->url,
	    sa->function, (long)sa->s->n));
	return o;
}

/* The inputs of a surge: the newest posting speaks for the event, the
 * reliability is the postings' mean. */
static void surge_view(cp_sigview *sv, const cp_surge *s, const char *function)
{
	const struct cp_posting *newest = &s->p[s->n - 1];
	double rel = 0;
	size_t i, nrel = 0;

	memset(sv, 0, sizeof *sv);
	for (i = 0; i < s->n; i++)
		if (s->p[i].reliability >= 0) {
			rel += s->p[i].reliability;
			nrel++;
		}
	sv->id = newest->signal_id;
	sv->source = "jobs";
	sv->source_name = newest->source_name;
	sv->url = newest->url;
	sv->title = newest->title;
	sv->published_at = newest->published;
	sv->has_reliability = nrel > 0;
	sv->reliability = nrel ? rel / (double)nrel : 0;
	sv->job_function = function;
}

static void score_surge(const cp_account *a, const char *function,
    cp_surge *s)
{
	struct surge_arg sa = { s, function, "" };
	struct cand *cs = NULL;
	char month[CP_TIME_MAX];
	cp_sigview sv;
	size_t i, n = 0;

	surge_view(&sv, s, function);
	/* one story per account, function and month of the newest posting:
	 * more postings that month update the same card */
	cp_time_format(sv.published_at, month);
	month[7] = '\0';
	cp_make_id(sa.cluster, "clu_", (const char *const[]){ S.me.tenant,
	    a->id, "hiring_surge", function, month }, 5);
	for (i = 0; i < S.pbs.n; i++) {
		struct cp_match m;
		if (!cp_playbook_match(&S.pbs.v[i], &sv, a, true, &m))
			continue;
		cs = xrealloc(cs, (n + 1) * sizeof *cs);
		memset(&cs[n], 0, sizeof cs[n]);
		cs[n].a = a;
		cs[n].pb = &S.pbs.v[i];
		cs[n].m = m;
		build_in(&cs[n], &sv);
		cs[n].in.postings = (long)s->n;
		cs[n].in.function = function;
		cp_score_compute(&S.cfg, &cs[n].in, &cs[n].out);
		n++;
	}
	if (n)
		emit_cands(cs, n, make_surge_opp, &sa);
	free_cands(cs, n);
}

static int dirty_cmp(const void *x, const void *y)
{
	const struct dirty *a = x, *b = y;
	int r = strcmp(a->a->id, b->a->id);

	return r ? r : strcmp(a->function, b->function);
}

/* Commit the postings seen so far and emit the surges they complete. */
static int flush(void)
{
	size_t i;
	int rc = 0;

	if (S.ndirty)
		qsort(S.dirty, S.ndirty, sizeof *S.dirty, dirty_cmp);
	for (i = 0; i < S.ndirty; i++) {
		cp_surge s;
		if (!rc && !(rc = cp_surge_window(S.db, S.me.tenant_id,
		    S.dirty[i].a->id, S.dirty[i].function, &S.cfg, &s))) {
			if ((double)s.n >= S.cfg.surge_min)
				score_surge(S.dirty[i].a, S.dirty[i].function, &s);
			cp_surge_free(&s);
		}
		free(S.dirty[i].function);
	}
	S.ndirty = 0;
	txn_postings = 0;
	if (S.in_txn) {
		S.in_txn = false;
		if (rc)
			cp_db_rollback(S.db);
		else
			rc = cp_db_commit(S.db);
	}
	/* committed (or rolled back): only now may records go out */
	if (!rc)
		release_held();
	else {
		json_decref(held);
		held = NULL;
	}
	if (!rc && cp_ndjson.unbuffered)
		fflush(stdout);
	return rc;
}

/* Postings older than two windows can no longer be part of a surge. */
static int prune(void)
{
	char cutoff[CP_TIME_MAX];
	sqlite3_stmt *st;
	int rc;

	cp_time_format(S.now - (time_t)(2 * S.cfg.surge_window * 86400), cutoff);
	if ((rc = cp_db_begin(S.db)))
		return rc;
	st = cp_db_prepare(S.db, "DELETE FROM score_postings"
	    " WHERE tenant_id = ? AND published_at < ?");
	sqlite3_bind_int64(st, 1, S.me.tenant_id);
	cp_db_bind_text(st, 2, cutoff);
	rc = cp_db_step_done(S.db, st);
	sqlite3_finalize(st);
	if (rc) {
		cp_db_rollback(S.db);
		return rc;
	}
	return cp_db_commit(S.db);
}

/* The reader is about to wait on an empty pipe: never with the write
 * lock held (cp-card may be waiting for it), and what is done goes on. */
static int idle(void)
{
	int rc = 0;

	if (S.ndirty || S.in_txn)
		rc = flush();
	fflush(stdout);
	return rc;
}

/* Nothing more to read right now: a pipe gone quiet. */
static bool input_idle(const cp_line *ln)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	return !strcmp(ln->input, "<stdin>") && poll(&p, 1, 0) == 0;
}

/* ---- the record loop ------------------------------------------------- */

static bool seen(json_t *ids, size_t upto, const char *id)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (!strcmp(json_string_value(json_array_get(ids, i)), id))
			return true;
	return false;
}

static int one_signal(json_t *rec, const cp_line *ln, const cp_sigraw *raw)
{
	char err[256];
	cp_sigview sv;
	json_t *ids = json_object_get(rec, "account_ids"), *e;
	size_t i;
	int rc = 0;

	if (!cp_record_check(rec, CP_REC_SIGNAL, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	if (strcmp(cp_json_str(rec, "tenant"), S.me.tenant)) {
		cp_reject(ln, "tenant \"%s\" is not yours (%s)",
		    cp_json_str(rec, "tenant"), S.me.tenant);
		return 0;
	}
	if (!cp_sigview_init_raw(&sv, rec, raw, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		cp_sigview_free(&sv);
		return 0;
	}
	S.signals++;
	json_array_foreach(ids, i, e) {
		const cp_account *a;
		if (!json_is_string(e) || seen(ids, i, json_string_value(e)))
			continue;
		if (!(a = account(json_string_value(e)))) {
			S.unknown_accounts++;
			cp_debug("%s:%lu: account %s: not in scope, skipped",
			    ln->input, ln->lineno, json_string_value(e));
			continue;
		}
		score_account(&sv, a);
		if (sv.job_function && *sv.job_function) {
			if ((rc = begin()) ||
			    (rc = cp_surge_record(S.db, S.me.tenant_id, a->id, &sv)))
				break;
			S.postings++;
			txn_postings++;
			mark_dirty(a, sv.job_function);
		}
	}
	cp_sigview_free(&sv);
	/* Commit when the input pauses, and in any case every few hundred
	 * held records: the write lock is never held for long (cp-card
	 * waits for it) and the held records stay few.  A count, not a
	 * clock, so a file gives the same output every time. */
	if (!rc && (S.ndirty || S.in_txn) &&
	    (input_idle(ln) || txn_postings >= 512 ||
	    (held && json_array_size(held) >= 256)))
		rc = flush();
	return rc;
}

/* Signals are mostly text this stage never reads: scan the line once
 * (jscan.h) and decode only the members scoring uses. */
static int one_line(const cp_line *ln, void *arg)
{
	char err[256];
	cp_sigraw raw;
	json_t *rec;
	int rc;

	(void)arg;
	if (!(rec = cp_sigview_parse(ln->text, ln->len, &raw, err,
	    sizeof err))) {
		cp_reject(ln, "invalid JSON: %s", err);
		return 0;
	}
	rc = one_signal(rec, ln, &raw);
	json_decref(rec);
	return rc;
}

/* ---- --explain CARD_ID ----------------------------------------------- */

static int explain_card(const char *id)
{
	sqlite3_stmt *st = cp_db_prepare(S.db, "SELECT record, account_id,"
	    " score FROM cards WHERE id = ? AND tenant_id = ?");
	json_t *rec = NULL;
	char err[256], acct[256] = "";
	double stored = 0;
	cp_scorecfg cfg;
	cp_score_in in;
	cp_score_out out;
	const char *ver;
	int rc;

	cp_db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, S.me.tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rec = json_loads(cp_db_col_text(st, 0), 0, NULL);
		snprintf(acct, sizeof acct, "%s", cp_db_col_text(st, 1));
		stored = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	if (!rec || !cp_rbac_in_scope(S.db, &S.me, acct)) {
		json_decref(rec);
		return cp_rbac_deny(id);
	}
	if (!cp_score_in_parse(json_object_get(rec, "inputs"), &in, err,
	    sizeof err) || !(ver = cp_json_str(rec, "config_version"))) {
		cp_err("%s: cannot recompute: %s", id, *err ? err :
		    "no config_version");
		json_decref(rec);
		return CP_EX_DATAERR;
	}
	if ((rc = cp_scorecfg_load_version(S.db, ver, &cfg))) {
		json_decref(rec);
		return rc;
	}
	cp_score_compute(&cfg, &in, &out);
	if (S.json) {
		json_t *o = json_pack("{s:s,s:f,s:f,s:b,s:s,s:o}", "card_id", id,
		    "stored_score", stored, "score", out.score,
		    "match", out.score == stored, "config_version", ver,
		    "factors", cp_score_factors_json(&out));
		cp_emit(o);
		json_decref(o);
	} else {
		printf("%s  %s x %s  theme %s  scored %s with scoring.conf "
		    "version %s\n", id, cp_json_strd(rec, "account_id", "?"),
		    in.playbook_id, in.theme, cp_json_strd(rec, "scored_at", "?"),
		    ver);
		explain_table(&out, stdout);
		printf("stored score %.2f, recomputed %.2f: %s\n\n", stored,
		    out.score, out.score == stored ? "the same" : "DIFFERENT");
	}
	rc = out.score == stored ? 0 : CP_EX_FINDINGS;
	if (rc)
		cp_err("%s: recomputed score %.2f differs from the stored %.2f",
		    id, out.score, stored);
	cp_score_out_free(&out);
	cp_scorecfg_free(&cfg);
	json_decref(rec);
	return rc;
}

static bool is_card_id(const char *s)
{
	size_t i;

	if (strncmp(s, "card_", 5) || strlen(s) != 37)
		return false;
	for (i = 5; s[i]; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* ---- main ------------------------------------------------------------ */

static double parse_num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end || d < lo || d > hi)
		cp_usage_error(usage, "%s: expected a number from %g to %g", opt,
		    lo, hi);
	return d;
}

static void cleanup(void)
{
	size_t i;

	for (i = 0; i < S.nac; i++)
		free(S.ac[i].theme);
	free(S.ac);
	for (i = 0; i < S.ndirty; i++)
		free(S.dirty[i].function);
	free(S.dirty);
	free(S.byid);
	cp_priors_free(&S.priors);
	cp_playbooks_free(&S.pbs);
	cp_accounts_free(&S.accts);
	cp_scorecfg_free(&S.cfg);
}

static int run(int nargs, char **args, bool priors, bool cards)
{
	int rc, i;

	if (priors) {
		if ((rc = cp_rbac_require(&S.me, CP_ACT_AUDIT_READ)))
			return rc;
		return cp_priors_report(S.db, S.me.tenant_id, &S.cfg, S.now,
		    stdout, S.json);
	}
	if (cards) {
		int worst = 0;
		for (i = 0; i < nargs; i++)
			worst = cp_exit_worst(worst, explain_card(args[i]));
		return worst;
	}
	if ((rc = cp_scorecfg_remember(S.db, &S.cfg)) ||
	    (rc = load_accounts()) ||
	    (rc = cp_playbooks_load(S.db, S.me.tenant_id, false, &S.pbs)) ||
	    (rc = cp_priors_load(S.db, S.me.tenant_id, &S.cfg, S.now,
	    &S.priors)))
		return rc;
	if (!S.pbs.n)
		cp_warn("tenant %s has no active playbooks: nothing can match "
		    "(see cp-playbook import)", S.me.tenant);
	cp_ndjson.idle = idle;
	rc = cp_ndjson_inputs_raw(nargs, args, one_line, NULL);
	if (!rc || rc == CP_EX_NOINPUT) {
		int frc = flush();
		if (!frc && S.postings)
			frc = prune();
		rc = cp_exit_worst(rc, frc);
	} else if (S.in_txn) {
		cp_db_rollback(S.db);
	}
	cp_info("%lu signals, %lu opportunities, %lu below the threshold, "
	    "%lu accounts not in scope", S.signals, S.opps, S.below,
	    S.unknown_accounts);
	return rc;
}

int main(int argc, char **argv)
{
	bool priors = false, cards = false, have_min = false;
	int c, rc, nargs, i;
	char **args;

	cp_cli_init(argc, argv);
	S.max_per = 1;
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_MIN:
			S.min_score = parse_num("--min-score", optarg, 0, 100);
			have_min = true;
			break;
		case OPT_MAXPER:
			S.max_per = (long)parse_num("--max-per-signal", optarg, 0,
			    1000);
			break;
		case OPT_EXPLAIN: S.explain = true; break;
		case OPT_PRIORS: priors = true; break;
		case OPT_JSON: S.json = true; break;
		}
	}
	args = argv + optind;
	nargs = argc - optind;
	/* --explain with card ids recomputes stored cards */
	for (i = 0; S.explain && i < nargs && is_card_id(args[i]); i++)
		;
	cards = S.explain && nargs > 0 && i == nargs;
	if (priors && (nargs || S.explain))
		cp_usage_error(usage, "--priors takes no files and no --explain");
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_scorecfg_load(&S.cfg)))
		goto done;
	if (!have_min)
		S.min_score = S.cfg.min_score;
	S.now = cp_now();
	cp_time_format(S.now, S.now_str);
	if ((rc = cp_db_open(cp_cli.db, 0, &S.db)))
		goto done;
	if (!(rc = cp_whoami(S.db, cp_cli.as, cp_cli.tenant, &S.me)))
		rc = run(nargs, args, priors, cards);
	cp_db_close(S.db);
done:
	cleanup();
	return cp_ndjson_status(rc);
}
