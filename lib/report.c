/*
 * report.c — KPIs per tenant, team and account manager, and their
 * renderings (report.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "report.h"
#include "table.h"

/* ---- building ----------------------------------------------------------- */

struct person {
	int64_t id, manager;
	char login[128], display[256];
	cp_role role;
	long accounts;
	bool has_cards;
};

/* One card as the KPIs need it. */
struct fact {
	int64_t who;              /* assignee, else account owner; 0 none */
	bool created_in, decided_in, approved, decided, explained;
	bool stuck_review;
	double ttc, ttr;          /* seconds, -1 when not applicable */
	int week;                 /* -1 outside the period */
	long pushes_done, pushes_failed, pushes_stuck;
};

struct build {
	sqlite3 *db;
	const cp_user *me;
	char since[CP_TIME_MAX], until[CP_TIME_MAX], stuck_cutoff[CP_TIME_MAX],
	    doc_since[CP_TIME_MAX];
	time_t t_since, t_until;
	int nweeks;
	struct person *p;
	size_t np;
	struct fact *f;
	size_t nf;
};

static struct person *person(struct build *b, int64_t id)
{
	size_t i;

	for (i = 0; i < b->np; i++)
		if (b->p[i].id == id)
			return &b->p[i];
	return NULL;
}

/* Is u in m's team (m itself, or reporting to m at any depth)? */
static bool in_team(struct build *b, int64_t u, int64_t m)
{
	int depth;

	for (depth = 0; u && depth < 64; depth++) {
		struct person *x;
		if (u == m)
			return true;
		if (!(x = person(b, u)))
			return false;
		u = x->manager;
	}
	return false;
}

static int load_people(struct build *b)
{
	sqlite3_stmt *st = cp_db_prepare(b->db, "SELECT u.id,"
	    " coalesce(u.manager_id, 0), u.login, coalesce(u.name, u.login),"
	    " u.role, (SELECT count(*) FROM accounts a WHERE a.tenant_id ="
	    " u.tenant_id AND a.owner_id = u.id AND a.deleted_at IS NULL)"
	    " FROM users u WHERE u.tenant_id = ? ORDER BY u.login");
	int rc;

	sqlite3_bind_int64(st, 1, b->me->tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct person *x;
		b->p = xrealloc(b->p, (b->np + 1) * sizeof *b->p);
		x = &b->p[b->np++];
		memset(x, 0, sizeof *x);
		x->id = sqlite3_column_int64(st, 0);
		x->manager = sqlite3_column_int64(st, 1);
		snprintf(x->login, sizeof x->login, "%s", cp_db_col_text(st, 2));
		snprintf(x->display, sizeof x->display, "%s",
		    cp_db_col_text(st, 3));
		if (!cp_role_parse(cp_db_col_text(st, 4), &x->role))
			x->role = CP_ROLE_VIEWER;
		x->accounts = (long)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(b->db, "report: users");
}

#define SECS(a, b) "round((julianday(" a ") - julianday(" b ")) * 86400.0, 3)"

static int load_facts(struct build *b)
{
	sqlite3_stmt *st = cp_db_prepare(b->db, "SELECT"
	    " coalesce(c.assignee_id, a.owner_id, 0),"
	    " c.created_at >= ?2 AND c.created_at < ?3,"
	    " c.decided_at IS NOT NULL AND c.decided_at >= ?2"
	    "   AND c.decided_at < ?3,"
	    " c.status IN ('approved', 'pushed'),"
	    " c.status IN ('approved', 'pushed', 'rejected'),"
	    " c.playbook_id IS NOT NULL AND EXISTS (SELECT 1 FROM card_evidence e"
	    "   WHERE e.card_id = c.id) AND json_valid(c.record) AND"
	    "   (SELECT count(*) FROM json_each(c.record, '$.factors') j WHERE"
	    "    j.key IN ('impact', 'urgency', 'fit', 'access', 'feasibility',"
	    "    'confidence')) = 6,"
	    " c.status = 'pending_review' AND (julianday(?3) -"
	    "   julianday(c.created_at)) * 24.0 > t.review_sla_hours,"
	    " CASE WHEN c.first_fetched_at IS NOT NULL THEN "
	    SECS("c.created_at", "c.first_fetched_at") " END,"
	    " CASE WHEN c.decided_at IS NOT NULL THEN "
	    SECS("c.decided_at", "c.created_at") " END,"
	    " " SECS("?3", "c.created_at") ", c.id"
	    " FROM cards c JOIN tenants t ON t.id = c.tenant_id"
	    " LEFT JOIN accounts a ON a.tenant_id = c.tenant_id"
	    "   AND a.id = c.account_id"
	    " WHERE c.tenant_id = ?1 AND c.created_at < ?3 AND"
	    " ((c.created_at >= ?2) OR (c.decided_at >= ?2)"
	    "  OR c.status = 'pending_review')");
	sqlite3_stmt *ps = NULL;
	bool outbox = false;
	int rc;

	{
		sqlite3_stmt *t = cp_db_prepare(b->db, "SELECT 1 FROM sqlite_master"
		    " WHERE name = 'push_outbox'");
		outbox = sqlite3_step(t) == SQLITE_ROW;
		sqlite3_finalize(t);
	}
	if (outbox)
		ps = cp_db_prepare(b->db, "SELECT"
		    " sum(state = 'done' AND done_at >= ?2 AND done_at < ?3),"
		    " sum(state = 'failed' AND updated_at >= ?2"
		    "   AND updated_at < ?3),"
		    " sum(state = 'sending' AND coalesce(sent_at, updated_at) < ?4)"
		    " FROM push_outbox WHERE card_id = ?1");
	sqlite3_bind_int64(st, 1, b->me->tenant_id);
	cp_db_bind_text(st, 2, b->since);
	cp_db_bind_text(st, 3, b->until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fact *x;
		struct person *who;
		double age = sqlite3_column_double(st, 9);

		b->f = xrealloc(b->f, (b->nf + 1) * sizeof *b->f);
		x = &b->f[b->nf++];
		memset(x, 0, sizeof *x);
		x->who = sqlite3_column_int64(st, 0);
		x->created_in = sqlite3_column_int(st, 1);
		x->decided_in = sqlite3_column_int(st, 2);
		x->approved = sqlite3_column_int(st, 3);
		x->decided = sqlite3_column_int(st, 4);
		x->explained = sqlite3_column_int(st, 5);
		x->stuck_review = sqlite3_column_int(st, 6);
		x->ttc = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 7);
		x->ttr = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 8);
		x->week = x->created_in ? b->nweeks - 1 - (int)(age / 604800.0) :
		    -1;
		if (x->week < 0)
			x->week = x->created_in ? 0 : -1;
		if ((who = person(b, x->who)) != NULL)
			who->has_cards = true;
		if (ps) {
			cp_db_bind_text(ps, 1, cp_db_col_text(st, 10));
			cp_db_bind_text(ps, 2, b->since);
			cp_db_bind_text(ps, 3, b->until);
			cp_db_bind_text(ps, 4, b->stuck_cutoff);
			if (sqlite3_step(ps) == SQLITE_ROW) {
				x->pushes_done = (long)sqlite3_column_int64(ps, 0);
				x->pushes_failed = (long)sqlite3_column_int64(ps, 1);
				x->pushes_stuck = (long)sqlite3_column_int64(ps, 2);
			}
			sqlite3_reset(ps);
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ps);
	return rc == SQLITE_DONE ? 0 : cp_db_error(b->db, "report: cards");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank, as cp-inbox stats computes it. */
static double percentile(double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return -1;
	qsort(v, n, sizeof *v, cmp_double);
	k = (size_t)ceil(p * (double)n);
	if (k < 1)
		k = 1;
	return v[k - 1];
}

/* which: 0 tenant, 1 team of id, 2 am id */
static bool member(struct build *b, const struct fact *x, int which,
    int64_t id)
{
	return which == 0 || (which == 1 ? in_team(b, x->who, id) :
	    x->who == id);
}

static long stuck_documents(struct build *b)
{
	sqlite3_stmt *st = cp_db_prepare(b->db, "SELECT count(*) FROM"
	    " fetch_log l WHERE l.tenant_id = ?1 AND l.fetched_at >= ?2"
	    " AND l.fetched_at < ?3 AND NOT EXISTS (SELECT 1 FROM signals s"
	    " WHERE s.tenant_id = l.tenant_id AND s.document_id = l.doc_id)");
	long n = 0;

	sqlite3_bind_int64(st, 1, b->me->tenant_id);
	cp_db_bind_text(st, 2, b->doc_since);
	cp_db_bind_text(st, 3, b->stuck_cutoff);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void add_row(struct build *b, cp_report *r, int which, int64_t id)
{
	double *ttc = xmalloc((b->nf + 1) * sizeof *ttc);
	double *ttr = xmalloc((b->nf + 1) * sizeof *ttr);
	double weeks = r->days / 7.0;
	cp_kpi *k;
	size_t i;

	r->rows = xrealloc(r->rows, (r->nrows + 1) * sizeof *r->rows);
	k = &r->rows[r->nrows++];
	memset(k, 0, sizeof *k);
	k->weekly = xcalloc((size_t)b->nweeks, sizeof *k->weekly);
	if (which == 0) {
		snprintf(k->level, sizeof k->level, "tenant");
		snprintf(k->name, sizeof k->name, "%s", r->tenant);
		snprintf(k->display, sizeof k->display, "%s", r->tenant);
		for (i = 0; i < b->np; i++)
			k->accounts += b->p[i].accounts;
		{
			/* accounts without an owner count for the tenant */
			sqlite3_stmt *st = cp_db_prepare(b->db, "SELECT count(*)"
			    " FROM accounts WHERE tenant_id = ? AND owner_id IS NULL"
			    " AND deleted_at IS NULL");
			sqlite3_bind_int64(st, 1, b->me->tenant_id);
			if (sqlite3_step(st) == SQLITE_ROW)
				k->accounts += (long)sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		k->stuck_documents = stuck_documents(b);
	} else {
		struct person *x = person(b, id);
		snprintf(k->level, sizeof k->level, which == 1 ? "team" : "am");
		snprintf(k->name, sizeof k->name, "%s", x->login);
		snprintf(k->display, sizeof k->display, "%s", x->display);
		for (i = 0; i < b->np; i++)
			if (which == 1 ? in_team(b, b->p[i].id, id) :
			    b->p[i].id == id)
				k->accounts += b->p[i].accounts;
	}
	for (i = 0; i < b->nf; i++) {
		const struct fact *x = &b->f[i];
		if (!member(b, x, which, id))
			continue;
		if (x->created_in) {
			k->cards++;
			if (x->explained)
				k->explained++;
			if (x->ttc >= 0)
				ttc[k->ttc_n++] = x->ttc;
			if (x->week >= 0 && x->week < b->nweeks)
				k->weekly[x->week]++;
		}
		if (x->decided_in && x->decided) {
			k->decided++;
			if (x->approved)
				k->approved++;
			if (x->ttr >= 0)
				ttr[k->ttr_n++] = x->ttr;
		}
		if (x->stuck_review)
			k->stuck_reviews++;
		k->stuck_pushes += x->pushes_stuck;
		k->pushes_done += x->pushes_done;
		k->pushes_failed += x->pushes_failed;
	}
	k->coverage = k->accounts && weeks > 0 ?
	    (double)k->cards / ((double)k->accounts * weeks) : -1;
	k->relevance = k->decided ? (double)k->approved / (double)k->decided :
	    -1;
	k->explainability = k->cards ? (double)k->explained /
	    (double)k->cards : -1;
	k->ttc_p50 = percentile(ttc, (size_t)k->ttc_n, 0.5);
	k->ttc_p95 = percentile(ttc, (size_t)k->ttc_n, 0.95);
	k->ttr_p50 = percentile(ttr, (size_t)k->ttr_n, 0.5);
	k->ttr_p95 = percentile(ttr, (size_t)k->ttr_n, 0.95);
	free(ttc);
	free(ttr);
}

/* An AM row is worth showing for someone who owns accounts or has cards. */
static bool works_accounts(const struct person *x)
{
	return x->role >= CP_ROLE_AM && (x->role == CP_ROLE_AM ||
	    x->accounts > 0 || x->has_cards);
}

int cp_report_build(sqlite3 *db, const cp_user *me, time_t since,
    time_t until, cp_report *r)
{
	struct build b;
	size_t i;
	int rc;

	memset(r, 0, sizeof *r);
	memset(&b, 0, sizeof b);
	if (me->role < CP_ROLE_AM) {
		cp_err("permission denied: role %s may not read reports",
		    cp_role_name(me->role));
		return CP_EX_NOPERM;
	}
	b.db = db;
	b.me = me;
	b.t_since = since;
	b.t_until = until;
	cp_time_format(since, b.since);
	cp_time_format(until, b.until);
	cp_time_format(until - 3600, b.stuck_cutoff);
	cp_time_format(until - 7 * 86400, b.doc_since);
	snprintf(r->tenant, sizeof r->tenant, "%s", me->tenant);
	snprintf(r->since, sizeof r->since, "%s", b.since);
	snprintf(r->until, sizeof r->until, "%s", b.until);
	r->days = (double)(until - since) / 86400.0;
	r->nweeks = b.nweeks = (int)ceil(r->days / 7.0) > 0 ?
	    (int)ceil(r->days / 7.0) : 1;
	if ((rc = load_people(&b)) || (rc = load_facts(&b)))
		goto out;
	if (me->role == CP_ROLE_ADMIN)
		add_row(&b, r, 0, 0);
	for (i = 0; i < b.np; i++)
		if (b.p[i].role == CP_ROLE_MANAGER && (me->role == CP_ROLE_ADMIN ||
		    (me->role == CP_ROLE_MANAGER && b.p[i].id == me->id)))
			add_row(&b, r, 1, b.p[i].id);
	for (i = 0; i < b.np; i++) {
		bool visible = me->role == CP_ROLE_ADMIN ||
		    (me->role == CP_ROLE_MANAGER && in_team(&b, b.p[i].id, me->id)) ||
		    b.p[i].id == me->id;
		if (visible && (works_accounts(&b.p[i]) || (b.p[i].id == me->id &&
		    me->role == CP_ROLE_AM)))
			add_row(&b, r, 2, b.p[i].id);
	}
out:
	free(b.p);
	free(b.f);
	if (rc)
		cp_report_free(r);
	return rc;
}

void cp_report_free(cp_report *r)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		free(r->rows[i].weekly);
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
}

/* ---- renderings --------------------------------------------------------- */

void cp_report_duration(double s, char *out, size_t n)
{
	if (s < 0)
		snprintf(out, n, "-");
	else if (s < 120)
		snprintf(out, n, "%.0fs", s);
	else if (s < 7200)
		snprintf(out, n, "%.0fm", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, n, "%.1fh", s / 3600);
	else
		snprintf(out, n, "%.1fd", s / 86400);
}

static bool coverage_off(const cp_kpi *k)
{
	return k->coverage >= 0 && (k->coverage < CP_REPORT_COVERAGE_MIN ||
	    k->coverage > CP_REPORT_COVERAGE_MAX);
}

static bool relevance_off(const cp_kpi *k)
{
	return k->relevance >= 0 && k->relevance < CP_REPORT_RELEVANCE_MIN;
}

static long stuck_total(const cp_kpi *k)
{
	return k->stuck_reviews + k->stuck_pushes + k->stuck_documents;
}

static bool explain_off(const cp_kpi *k)
{
	return k->explainability >= 0 && k->explained < k->cards;
}

static void spark(strbuf *sb, const long *w, int n, bool ascii)
{
	static const char *const blocks[] = { "\xe2\x96\x81", "\xe2\x96\x82",
	    "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
	    "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii_blocks[] = "_.-:=+*#";
	long max = 0;
	int i;

	for (i = 0; i < n; i++)
		if (w[i] > max)
			max = w[i];
	for (i = 0; i < n; i++) {
		int lvl = max ? (int)((w[i] * 7 + max - 1) / max) : 0;
		if (w[i] == 0)
			lvl = 0;
		if (ascii)
			sb_addc(sb, ascii_blocks[lvl]);
		else
			sb_adds(sb, blocks[lvl]);
	}
}

static void pct(char *out, size_t n, double v, bool off)
{
	if (v < 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.0f%%%s", v * 100, off ? "*" : "");
}

/* "P50/P95", or "-" when there is nothing to measure */
static void pair(char *out, size_t n, const char *p50, const char *p95)
{
	if (!strcmp(p50, "-"))
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%s/%s", p50, p95);
}

void cp_report_text(const cp_report *r, strbuf *out, bool color, bool ascii)
{
	/* percentiles share a cell ("5m/60m") and the headers are short,
	 * so a row fits 100 columns with room for the name */
	static const char *const head[] = { "LEVEL", "NAME", "CARDS", "ACCTS",
	    "COVER", "RELEV", "TTC P50/95", "TTR P50/95", "STUCK", "EXPL",
	    "PUSHED", "FAILED", "WEEKLY" };
	cp_table *t = cp_table_new(13, head);
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp;
	int c;

	for (c = 2; c < 12; c++)
		cp_table_right(t, c);
	cp_table_flex(t, 1);
	sb_addf(out, "ClientPulse report for %s: %.10s to %.10s (%.0f days, "
	    "%d weeks)\n\n", r->tenant, r->since, r->until, r->days, r->nweeks);
	for (i = 0; i < r->nrows; i++) {
		const cp_kpi *k = &r->rows[i];
		char cards[24], accts[24], cov[24], rel[24], t1[24], t2[24],
		    t3[24], t4[24], ttc[50], ttr[50], stuck[24], ex[24], pd[24],
		    pf[24];
		strbuf sp = CP_STRBUF_INIT;
		const char *cells[13];

		snprintf(cards, sizeof cards, "%ld", k->cards);
		snprintf(accts, sizeof accts, "%ld", k->accounts);
		if (k->coverage < 0)
			snprintf(cov, sizeof cov, "-");
		else
			snprintf(cov, sizeof cov, "%.2f%s", k->coverage,
			    coverage_off(k) ? "*" : "");
		pct(rel, sizeof rel, k->relevance, relevance_off(k));
		cp_report_duration(k->ttc_p50, t1, sizeof t1);
		cp_report_duration(k->ttc_p95, t2, sizeof t2);
		cp_report_duration(k->ttr_p50, t3, sizeof t3);
		cp_report_duration(k->ttr_p95, t4, sizeof t4);
		snprintf(stuck, sizeof stuck, "%ld%s", stuck_total(k),
		    stuck_total(k) ? "*" : "");
		pct(ex, sizeof ex, k->explainability, explain_off(k));
		snprintf(pd, sizeof pd, "%ld", k->pushes_done);
		snprintf(pf, sizeof pf, "%ld", k->pushes_failed);
		spark(&sp, k->weekly, r->nweeks, ascii);
		cells[0] = k->level;
		cells[1] = k->display;
		cells[2] = cards;
		cells[3] = accts;
		cells[4] = cov;
		cells[5] = rel;
		pair(ttc, sizeof ttc, t1, t2);
		pair(ttr, sizeof ttr, t3, t4);
		cells[6] = ttc;
		cells[7] = ttr;
		cells[8] = stuck;
		cells[9] = ex;
		cells[10] = pd;
		cells[11] = pf;
		cells[12] = sp.buf;
		cp_table_add(t, cells);
		sb_free(&sp);
	}
	if ((fp = open_memstream(&buf, &len)) != NULL) {
		cp_table_print(t, fp, cp_term_width(1), color, ascii);
		fclose(fp);
		sb_add(out, buf, len);
		free(buf);
	}
	cp_table_free(t);
	sb_addf(out, "\n* off target: coverage %.0f-%.0f cards per account per "
	    "week, relevance %.0f%% or more, stuck 0, explainability 100%%.\n"
	    "TTC: time to card (fetch to card); TTR: time to review.\n",
	    CP_REPORT_COVERAGE_MIN, CP_REPORT_COVERAGE_MAX,
	    CP_REPORT_RELEVANCE_MIN * 100);
}

static json_t *num_or_null(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *row_json(const cp_report *r, const cp_kpi *k)
{
	json_t *o = json_object(), *w = json_array();
	int i;

	for (i = 0; i < r->nweeks; i++)
		json_array_append_new(w, json_integer(k->weekly[i]));
	json_object_set_new(o, "tenant", json_string(r->tenant));
	json_object_set_new(o, "since", json_string(r->since));
	json_object_set_new(o, "until", json_string(r->until));
	json_object_set_new(o, "level", json_string(k->level));
	json_object_set_new(o, "name", json_string(k->name));
	json_object_set_new(o, "display", json_string(k->display));
	json_object_set_new(o, "accounts", json_integer(k->accounts));
	json_object_set_new(o, "cards", json_integer(k->cards));
	json_object_set_new(o, "coverage", num_or_null(k->coverage));
	json_object_set_new(o, "decided", json_integer(k->decided));
	json_object_set_new(o, "approved", json_integer(k->approved));
	json_object_set_new(o, "relevance", num_or_null(k->relevance));
	json_object_set_new(o, "time_to_card", json_pack("{s:I, s:o, s:o}",
	    "n", (json_int_t)k->ttc_n, "p50", num_or_null(k->ttc_p50), "p95",
	    num_or_null(k->ttc_p95)));
	json_object_set_new(o, "time_to_review", json_pack("{s:I, s:o, s:o}",
	    "n", (json_int_t)k->ttr_n, "p50", num_or_null(k->ttr_p50), "p95",
	    num_or_null(k->ttr_p95)));
	json_object_set_new(o, "stuck", json_pack("{s:I, s:I, s:I, s:I}",
	    "reviews", (json_int_t)k->stuck_reviews, "pushes",
	    (json_int_t)k->stuck_pushes, "documents",
	    (json_int_t)k->stuck_documents, "total", (json_int_t)stuck_total(k)));
	json_object_set_new(o, "explained", json_integer(k->explained));
	json_object_set_new(o, "explainability", num_or_null(k->explainability));
	json_object_set_new(o, "pushes", json_pack("{s:I, s:I}", "done",
	    (json_int_t)k->pushes_done, "failed", (json_int_t)k->pushes_failed));
	json_object_set_new(o, "weekly", w);
	/* null where there is nothing to judge */
	json_object_set_new(o, "on_target", json_pack("{s:o, s:o, s:b, s:o}",
	    "coverage", k->coverage < 0 ? json_null() :
	    json_boolean(!coverage_off(k)), "relevance", k->relevance < 0 ?
	    json_null() : json_boolean(!relevance_off(k)), "stuck",
	    !stuck_total(k), "explainability", k->explainability < 0 ?
	    json_null() : json_boolean(!explain_off(k))));
	return o;
}

void cp_report_json(const cp_report *r, strbuf *out)
{
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		json_t *o = row_json(r, &r->rows[i]);
		cp_json_dump(out, o, 0);
		sb_addc(out, '\n');
		json_decref(o);
	}
}

/* Plain decimals (no exponent), at most four places: 0.3571, 10800. */
static void csv_num(char *buf, size_t n, double v)
{
	char *e;

	if (v < 0) {
		*buf = '\0';
		return;
	}
	snprintf(buf, n, "%.4f", v);
	for (e = buf + strlen(buf) - 1; e > buf && *e == '0'; e--)
		*e = '\0';
	if (*e == '.')
		*e = '\0';
}

void cp_report_csv(const cp_report *r, strbuf *out)
{
	static const char *const head[] = { "tenant", "since", "until",
	    "level", "name", "display", "accounts", "cards", "coverage",
	    "decided", "approved", "relevance", "ttc_n", "ttc_p50_s",
	    "ttc_p95_s", "ttr_n", "ttr_p50_s", "ttr_p95_s", "stuck_reviews",
	    "stuck_pushes", "stuck_documents", "explained", "explainability",
	    "pushes_done", "pushes_failed", "weekly" };
	size_t i;

	cp_csv_row(out, head, sizeof head / sizeof *head);
	for (i = 0; i < r->nrows; i++) {
		const cp_kpi *k = &r->rows[i];
		char v[19][32];
		strbuf w = CP_STRBUF_INIT;
		const char *f[26];
		int j;

		snprintf(v[0], 32, "%ld", k->accounts);
		snprintf(v[1], 32, "%ld", k->cards);
		csv_num(v[2], 32, k->coverage);
		snprintf(v[3], 32, "%ld", k->decided);
		snprintf(v[4], 32, "%ld", k->approved);
		csv_num(v[5], 32, k->relevance);
		snprintf(v[6], 32, "%ld", k->ttc_n);
		csv_num(v[7], 32, k->ttc_p50);
		csv_num(v[8], 32, k->ttc_p95);
		snprintf(v[9], 32, "%ld", k->ttr_n);
		csv_num(v[10], 32, k->ttr_p50);
		csv_num(v[11], 32, k->ttr_p95);
		snprintf(v[12], 32, "%ld", k->stuck_reviews);
		snprintf(v[13], 32, "%ld", k->stuck_pushes);
		snprintf(v[14], 32, "%ld", k->stuck_documents);
		snprintf(v[15], 32, "%ld", k->explained);
		csv_num(v[16], 32, k->explainability);
		snprintf(v[17], 32, "%ld", k->pushes_done);
		snprintf(v[18], 32, "%ld", k->pushes_failed);
		for (j = 0; j < r->nweeks; j++)
			sb_addf(&w, "%s%ld", j ? " " : "", k->weekly[j]);
		f[0] = r->tenant;
		f[1] = r->since;
		f[2] = r->until;
		f[3] = k->level;
		f[4] = k->name;
		f[5] = k->display;
		for (j = 0; j < 19; j++)
			f[6 + j] = v[j];
		f[25] = w.buf ? w.buf : "";
		cp_csv_row(out, f, 26);
		sb_free(&w);
	}
}

/* ---- HTML --------------------------------------------------------------- */

static void esc(strbuf *sb, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': sb_adds(sb, "&amp;"); break;
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '"': sb_adds(sb, "&quot;"); break;
		case '\'': sb_adds(sb, "&#39;"); break;
		default: sb_addc(sb, *s);
		}
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
	"h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}"
	"table{border-collapse:collapse}th,td{padding:.3em .7em;"
	"border-bottom:1px solid #ddd;text-align:right}"
	"th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}"
	"td.off{color:#b00020;font-weight:600}"
	"svg text{font:12px system-ui,sans-serif;fill:#222}"
	".bar{fill:#3b6ea5}.bar2{fill:#9fbad6}.target{stroke:#b00020;"
	"stroke-dasharray:4 3;stroke-width:1.5}.axis{stroke:#888}"
	"p.note{color:#555;font-size:.9em}";

static void cell(strbuf *sb, const char *text, bool off)
{
	sb_adds(sb, off ? "<td class=\"off\">" : "<td>");
	esc(sb, text);
	sb_adds(sb, "</td>");
}

static void html_table(const cp_report *r, strbuf *sb)
{
	size_t i;

	sb_adds(sb, "<table id=\"kpis\"><thead><tr><th>Level</th><th>Name</th>"
	    "<th>Cards</th><th>Accounts</th><th>Coverage</th><th>Relevance</th>"
	    "<th>Time to card P50</th><th>P95</th><th>Time to review P50</th>"
	    "<th>P95</th><th>Stuck</th><th>Explainability</th><th>Pushed</th>"
	    "<th>Failed</th></tr></thead><tbody>\n");
	for (i = 0; i < r->nrows; i++) {
		const cp_kpi *k = &r->rows[i];
		char b[64];

		sb_adds(sb, "<tr>");
		cell(sb, k->level, false);
		cell(sb, k->display, false);
		snprintf(b, sizeof b, "%ld", k->cards);
		cell(sb, b, false);
		snprintf(b, sizeof b, "%ld", k->accounts);
		cell(sb, b, false);
		if (k->coverage < 0)
			snprintf(b, sizeof b, "-");
		else
			snprintf(b, sizeof b, "%.2f", k->coverage);
		cell(sb, b, coverage_off(k));
		pct(b, sizeof b, k->relevance, false);
		cell(sb, b, relevance_off(k));
		cp_report_duration(k->ttc_p50, b, sizeof b);
		cell(sb, b, false);
		cp_report_duration(k->ttc_p95, b, sizeof b);
		cell(sb, b, false);
		cp_report_duration(k->ttr_p50, b, sizeof b);
		cell(sb, b, false);
		cp_report_duration(k->ttr_p95, b, sizeof b);
		cell(sb, b, false);
		snprintf(b, sizeof b, "%ld", stuck_total(k));
		cell(sb, b, stuck_total(k) > 0);
		pct(b, sizeof b, k->explainability, false);
		cell(sb, b, explain_off(k));
		snprintf(b, sizeof b, "%ld", k->pushes_done);
		cell(sb, b, false);
		snprintf(b, sizeof b, "%ld", k->pushes_failed);
		cell(sb, b, k->pushes_failed > 0);
		sb_adds(sb, "</tr>\n");
	}
	sb_adds(sb, "</tbody></table>\n");
}

/* Cards per week of the first row (the widest view the reader has). */
static void svg_weekly(const cp_report *r, strbuf *sb)
{
	const cp_kpi *k = &r->rows[0];
	int i, w = 560, h = 200, left = 40, bottom = 30;
	double max = 1, bw;

	for (i = 0; i < r->nweeks; i++)
		if (k->weekly[i] > max)
			max = (double)k->weekly[i];
	bw = (double)(w - left - 10) / r->nweeks;
	sb_addf(sb, "<svg id=\"chart-weekly\" xmlns=\"http://www.w3.org/2000/svg\""
	    " width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"cards per "
	    "week\"><title>Cards per week: ", w, h);
	esc(sb, k->display);
	sb_adds(sb, "</title>");
	sb_addf(sb, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	    left, h - bottom, w - 10, h - bottom);
	for (i = 0; i < r->nweeks; i++) {
		double bh = (h - bottom - 20) * (double)k->weekly[i] / max;
		double x = left + i * bw + 4;
		sb_addf(sb, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
		    " height=\"%.1f\"><title>week %d: %ld cards</title></rect>",
		    x, h - bottom - bh, bw - 8, bh, i + 1, k->weekly[i]);
		sb_addf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
		    "%ld</text>", x + (bw - 8) / 2, h - bottom - bh - 4,
		    k->weekly[i]);
		sb_addf(sb, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">w%d"
		    "</text>", x + (bw - 8) / 2, h - 10, i + 1);
	}
	sb_adds(sb, "</svg>\n");
}

/* One horizontal bar per row: value in [0, scale], a target line. */
static void svg_bars(const cp_report *r, strbuf *sb, const char *id,
    const char *label, int what)
{
	int left = 190, w = 560, rowh = 26, h;
	double scale = 1, target = -1;
	size_t i;

	if (what == 0) {
		target = CP_REPORT_RELEVANCE_MIN;
	} else {
		for (i = 0; i < r->nrows; i++)
			if (r->rows[i].ttc_p95 > scale)
				scale = r->rows[i].ttc_p95;
	}
	h = (int)r->nrows * rowh + 30;
	sb_addf(sb, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\"><title>"
	    "%s</title>", id, w, h, label, label);
	for (i = 0; i < r->nrows; i++) {
		const cp_kpi *k = &r->rows[i];
		double y = 10 + (double)i * rowh, span = w - left - 60;
		char v1[32], v2[32];

		sb_addf(sb, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
		    left - 8, y + 15);
		esc(sb, k->level);
		sb_adds(sb, " ");
		esc(sb, k->display);
		sb_adds(sb, "</text>");
		if (what == 0) {
			double v = k->relevance < 0 ? 0 : k->relevance;
			pct(v1, sizeof v1, k->relevance, false);
			sb_addf(sb, "<rect class=\"bar\" x=\"%d\" y=\"%.1f\" width="
			    "\"%.1f\" height=\"18\"><title>%s</title></rect>", left,
			    y + 2, span * v, v1);
			sb_addf(sb, "<text x=\"%.1f\" y=\"%.1f\">%s</text>",
			    left + span * v + 6, y + 15, v1);
		} else {
			double p50 = k->ttc_p50 < 0 ? 0 : k->ttc_p50;
			double p95 = k->ttc_p95 < 0 ? 0 : k->ttc_p95;
			cp_report_duration(k->ttc_p50, v1, sizeof v1);
			cp_report_duration(k->ttc_p95, v2, sizeof v2);
			sb_addf(sb, "<rect class=\"bar2\" x=\"%d\" y=\"%.1f\" width="
			    "\"%.1f\" height=\"18\"><title>P95 %s</title></rect>",
			    left, y + 2, span * p95 / scale, v2);
			sb_addf(sb, "<rect class=\"bar\" x=\"%d\" y=\"%.1f\" width="
			    "\"%.1f\" height=\"18\"><title>P50 %s</title></rect>",
			    left, y + 2, span * p50 / scale, v1);
			sb_addf(sb, "<text x=\"%.1f\" y=\"%.1f\">%s / %s</text>",
			    left + span * p95 / scale + 6, y + 15, v1, v2);
		}
	}
	if (target >= 0) {
		double x = left + (w - left - 60) * target;
		sb_addf(sb, "<line class=\"target\" x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" "
		    "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\">target %.0f%%</text>",
		    x, x, h - 16, x + 4, h - 4, target * 100);
	}
	sb_adds(sb, "</svg>\n");
}

void cp_report_html(const cp_report *r, strbuf *sb)
{
	sb_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset="
	    "\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>ClientPulse report: ");
	esc(sb, r->tenant);
	sb_addf(sb, "</title><style>%s</style></head><body>\n<h1>ClientPulse "
	    "report: ", css);
	esc(sb, r->tenant);
	sb_addf(sb, "</h1>\n<p>%.10s to %.10s (%.0f days, %d weeks).</p>\n",
	    r->since, r->until, r->days, r->nweeks);
	if (!r->nrows) {
		sb_adds(sb, "<p>Nothing to show.</p></body></html>\n");
		return;
	}
	html_table(r, sb);
	sb_addf(sb, "<p class=\"note\">Highlighted: off target. Coverage %.0f"
	    "&ndash;%.0f cards per account per week, relevance %.0f%% or more of "
	    "the decided cards approved, stuck 0, explainability 100%% (evidence, "
	    "playbook and score breakdown on every card).</p>\n",
	    CP_REPORT_COVERAGE_MIN, CP_REPORT_COVERAGE_MAX,
	    CP_REPORT_RELEVANCE_MIN * 100);
	sb_adds(sb, "<h2>Cards per week</h2>\n");
	svg_weekly(r, sb);
	sb_adds(sb, "<h2>Relevance</h2>\n");
	svg_bars(r, sb, "chart-relevance", "relevance by row", 0);
	sb_adds(sb, "<h2>Time to card (P50 / P95)</h2>\n");
	svg_bars(r, sb, "chart-time-to-card", "time to card by row", 1);
	sb_adds(sb, "</body></html>\n");
}
