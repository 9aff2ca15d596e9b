#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dedupe.h"
#include "entities.h"
#include "exitcode.h"
#include "fingerprint.h"
#include "fpindex.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "timefmt.h"

#define BAND_LIMIT 8     /* newest signals taken per LSH band and week */
#define EVENT_LIMIT 16   /* newest taken per (account, theme) and week */
#define NEAR_MAX (CP_MH_BANDS * BAND_LIMIT * 3)
#define MAXKEYS 64
#define MAXPAIRS 32
#define WEEK (7 * 86400L)
/* The window's fingerprints in memory: a week of a busy tenant (some
 * 30,000 signals) takes about 5 MiB, so this holds several such weeks. */
#define WINDOW_MEMORY (40u << 20)

/* Lookups are grouped by the week of publication, as the index in memory
 * is (fpindex.h): a lookup visits the weeks its window touches. */
static long week_of(long t) { return t >= 0 ? t / WEEK : -((-t + WEEK - 1) / WEEK); }

struct cp_dedupe {
	sqlite3 *db;
	cp_dedupe_opts o;
	cp_fpx *fx;                  /* the window, in memory */
	int64_t maxsig;              /* newest fingerprint row it has seen */
	int dataver;                 /* PRAGMA data_version then */
	sqlite3_stmt *seen, *fp, *cl_new, *cl_upd, *sig_ins, *fp_ins,
	    *upd_themes, *load, *load_posts, *since, *dv;
	unsigned long nseg, nrows, ncand, nnear;
	uint32_t mark;               /* for cp_fpent.mark */
};

void cp_dedupe_defaults(cp_dedupe_opts *o)
{
	memset(o, 0, sizeof *o);
	o->threshold = 0.5;
	o->window = 7 * 86400;
	o->shingle = CP_SHINGLE_DEFAULT;
	o->surge_min = 3;
	o->surge_window = 30 * 86400;
}

static int data_version(cp_dedupe *d)
{
	int v = 0;

	if (sqlite3_step(d->dv) == SQLITE_ROW)
		v = sqlite3_column_int(d->dv, 0);
	sqlite3_reset(d->dv);
	return v;
}

int cp_dedupe_open(sqlite3 *db, const cp_dedupe_opts *o, cp_dedupe **out)
{
	cp_dedupe *d = xcalloc(1, sizeof *d);
	sqlite3_stmt *st;
	static const char cols[] = "sig, tenant_id, published, textkey,"
	    " minhash, pairs, cluster_id, keys";
	char sql[512];

	d->db = db;
	d->o = *o;
	d->fx = cp_fpx_new();
	d->seen = cp_db_prepare(db, "SELECT 1 FROM signals"
	    " WHERE tenant_id = ?1 AND id = ?2");
	d->fp = cp_db_prepare(db, "SELECT signal_id, cluster_id, simhash,"
	    " minhash, keys, published, textkey FROM dedupe_fingerprints"
	    " WHERE sig = ?1");
	d->cl_new = cp_db_prepare(db, "INSERT INTO clusters (tenant_id, id,"
	    " lead_signal_id, size, first_published, last_published, created_at,"
	    " updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?5)"
	    " ON CONFLICT DO NOTHING");
	d->cl_upd = cp_db_prepare(db, "UPDATE clusters SET size = size + 1,"
	    " last_published = max(coalesce(last_published, ''), coalesce(?3, '')),"
	    " updated_at = ?4, version = version + 1"
	    " WHERE tenant_id = ?1 AND id = ?2 RETURNING lead_signal_id, size");
	d->sig_ins = cp_db_prepare(db, "INSERT INTO signals (tenant_id, id,"
	    " account_ids, document_id, cluster_id, source, url, title, text,"
	    " lang, themes, entities, published_at, fetched_at, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15)");
	d->fp_ins = cp_db_prepare(db, "INSERT INTO dedupe_fingerprints (sig,"
	    " tenant_id, published, signal_id, cluster_id, simhash, minhash,"
	    " textkey, keys, pairs, postings) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11)");
	d->upd_themes = cp_db_prepare(db, "UPDATE signals SET themes = ?1"
	    " WHERE seq = ?2");
	snprintf(sql, sizeof sql, "SELECT %s FROM dedupe_fingerprints"
	    " WHERE tenant_id = ?1 AND published >= ?2 AND published < ?3", cols);
	d->load = cp_db_prepare(db, sql);
	snprintf(sql, sizeof sql, "SELECT %s FROM dedupe_fingerprints"
	    " WHERE tenant_id = ?1 AND published >= ?2 AND published < ?3"
	    " AND postings = 1", cols);
	d->load_posts = cp_db_prepare(db, sql);
	snprintf(sql, sizeof sql, "SELECT %s FROM dedupe_fingerprints"
	    " WHERE sig > ?1 ORDER BY sig", cols);
	d->since = cp_db_prepare(db, sql);
	d->dv = cp_db_prepare(db, "PRAGMA data_version");
	st = cp_db_prepare(db, "SELECT max(sig) FROM dedupe_fingerprints");
	if (sqlite3_step(st) == SQLITE_ROW)
		d->maxsig = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	d->dataver = data_version(d);
	*out = d;
	return 0;
}

void cp_dedupe_close(cp_dedupe *d)
{
	sqlite3_stmt **all[] = { &d->seen, &d->fp, &d->cl_new,
	    &d->cl_upd, &d->sig_ins, &d->fp_ins, &d->upd_themes, &d->load,
	    &d->load_posts, &d->since, &d->dv };
	size_t i;

	if (!d)
		return;
	cp_debug("window: %lu segments read (%lu rows), %lu candidates read"
	    " (%lu near), %zu entries in %zu KiB at the end", d->nseg, d->nrows,
	    d->ncand, d->nnear,
	    cp_fpx_entries(d->fx), cp_fpx_bytes(d->fx) >> 10);
	for (i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(*all[i]);
	cp_fpx_free(d->fx);
	free(d);
}

/* ---- the window in memory --------------------------------------------- */

/* A key's 32-bit hash: its kind (the first byte) above 24 bits of its
 * FNV-1a hash.  Equal keys, equal hashes, so counting shared hashes
 * bounds the shared keys from above, and the kinds of a stored signal's
 * keys are known exactly (event_bound, near_fast). */
#define KIND(h) ((h) >> 24)
static uint32_t key_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return (n ? (uint32_t)(unsigned char)s[0] << 24 : 0) | (h & 0xffffff);
}

/* The hashes of the keys of a fingerprint row's keys text, split as
 * keys_parse splits it when the row is read back; how many. */
static size_t keys_hash(const char *s, uint32_t out[MAXKEYS])
{
	size_t n = 0;

	while (s && *s && n < MAXKEYS) {
		const char *e = strchr(s, ' ');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len)
			out[n++] = key_hash(s, len);
		s += len;
		while (*s == ' ')
			s++;
	}
	return n;
}

/* The (account, theme) pairs of a fingerprint row: each string as its
 * length in decimal, a colon and its bytes, account then theme. */
static void pairs_add(strbuf *sb, const char *acc, const char *theme)
{
	sb_addf(sb, "%zu:%s%zu:%s", strlen(acc), acc, strlen(theme), theme);
}

/* The next string of a pairs text (pointer and length); the rest of the
 * text, or NULL at the end or when the text is not in that form. */
static const char *pairs_next(const char *s, const char **str, size_t *len)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return NULL;
	n = strtoul(s, &end, 10);
	if (*end != ':' || strnlen(end + 1, n) < n)
		return NULL;
	*str = end + 1;
	*len = n;
	return end + 1 + n;
}

/* Each (account, theme) pair of a pairs text. */
static void pairs_each(cp_dedupe *d, int64_t tenant, const char *p,
    void (*fn)(uint32_t key, int job, void *), void *arg)
{
	const char *acc, *theme;
	size_t al, tl;

	while (p && (p = pairs_next(p, &acc, &al)) &&
	    (p = pairs_next(p, &theme, &tl)))
		fn(cp_fpx_key(d->fx, tenant, acc, al, theme, tl, 1),
		    tl >= 4 && !memcmp(theme, "job:", 4), arg);
}

/* Filing one signal's pairs in a segment. */
typedef struct filing {
	cp_fpseg *s;
	uint32_t ent;
	int64_t pub;
	const char *cluster;
	uint8_t clu[16];
	int have_clu;
} filing;

static void file_pair(uint32_t key, int job, void *arg)
{
	filing *f = arg;

	if (cp_fpseg_kind(f->s) == CP_FPX_FULL)
		cp_fpseg_pair(f->s, f->ent, key);
	if (job) {
		if (!f->have_clu++)
			cp_fpx_clu(f->cluster, f->clu);
		cp_fpseg_post(f->s, key, f->pub, f->clu);
	}
}

static uint64_t hex64(const char *s)
{
	uint64_t v;
	char h[17];

	if (!s || strlen(s) < 16)
		return 0;
	memcpy(h, s, 16);
	h[16] = '\0';
	return cp_fp_parse(h, &v) ? v : 0;
}

/* A fingerprint row (columns as in cols) as the window keeps it; the
 * texts are the statement's, valid until its next step (a row is filed
 * as soon as it is read). */
typedef struct row {
	cp_fpent e;
	int banded;
	int64_t tenant;
	const char *pairs, *cluster, *keys;
} row;

static void row_read(sqlite3_stmt *st, row *r)
{
	const void *blob = sqlite3_column_blob(st, 4);
	uint32_t mh[CP_MH_N];
	int b;

	memset(r, 0, sizeof *r);
	memset(mh, 0, sizeof mh);
	r->e.sig = sqlite3_column_int64(st, 0);
	r->tenant = sqlite3_column_int64(st, 1);
	r->e.pub = sqlite3_column_int64(st, 2);
	r->e.tk = hex64((const char *)sqlite3_column_text(st, 3));
	r->banded = sqlite3_column_type(st, 3) != SQLITE_NULL;
	if (blob && sqlite3_column_bytes(st, 4) == (int)sizeof mh)
		memcpy(mh, blob, sizeof mh);
	cp_minhash_sketch(mh, r->e.sk);
	for (b = 0; b < CP_MH_BANDS; b++)
		r->e.bh[b] = (uint32_t)cp_minhash_band(mh, b);
	r->pairs = cp_db_col_text(st, 5);
	r->cluster = cp_db_col_text(st, 6);
	r->keys = cp_db_col_text(st, 7);
}

/* File a row in segment s (all of it, or its postings). */
static void row_file(cp_dedupe *d, cp_fpseg *s, row *r)
{
	filing f;
	uint32_t kh[MAXKEYS];

	memset(&f, 0, sizeof f);
	f.s = s;
	f.pub = r->e.pub;
	f.cluster = r->cluster;
	if (cp_fpseg_kind(s) == CP_FPX_FULL)
		f.ent = cp_fpseg_add(s, &r->e, r->banded, kh,
		    keys_hash(r->keys, kh));
	pairs_each(d, r->tenant, r->pairs, file_pair, &f);
	d->nrows++;
}

/* Read a segment from the state file: every fingerprint of the tenant
 * published in the week (one range scan), or its job postings only,
 * filed as they come.  They come in order of publication, which is
 * nearly the order of sig that the band chains keep (signals are stored
 * roughly as they are published); one out of order is linked in at its
 * place down its chains.  Not gathered and sorted first: a busy week's
 * rows, held whole, took several MB more at the peak. */
static int seg_load(cp_dedupe *d, int64_t tenant, long week, int kind)
{
	sqlite3_stmt *st = kind == CP_FPX_FULL ? d->load : d->load_posts;
	cp_fpseg *s = cp_fpx_seg_new(d->fx, tenant, week, kind);
	int rc;

	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, (int64_t)week * WEEK);
	sqlite3_bind_int64(st, 3, (int64_t)(week + 1) * WEEK);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row r;
		row_read(st, &r);
		row_file(d, s, &r);
	}
	sqlite3_reset(st);
	d->nseg++;
	return rc == SQLITE_DONE ? 0 : cp_db_error(d->db, "read fingerprints");
}

/* The segments a signal published at pub looks at: full ones over the
 * window, postings further back for a surge. */
static int window_load(cp_dedupe *d, int64_t tenant, long pub, int posting)
{
	long w, lo = week_of(pub - d->o.window), hi = week_of(pub + d->o.window);
	int rc;

	for (w = lo; w <= hi; w++) {
		cp_fpseg *s = cp_fpx_seg(d->fx, tenant, w);
		if ((!s || cp_fpseg_kind(s) != CP_FPX_FULL) &&
		    (rc = seg_load(d, tenant, w, CP_FPX_FULL)))
			return rc;
	}
	if (posting && d->o.surge_min > 0)
		for (w = week_of(pub - d->o.surge_window); w < lo; w++)
			if (!cp_fpx_seg(d->fx, tenant, w) &&
			    (rc = seg_load(d, tenant, w, CP_FPX_POSTINGS)))
				return rc;
	return 0;
}

/*
 * Another process may have stored signals since this one last looked (two
 * cp-dedupe runs on one state file take turns batch by batch): its rows
 * are the ones after the newest this process has seen, added to the
 * segments already in memory.  Segments read later have them anyway.
 */
static int window_sync(cp_dedupe *d)
{
	int v = data_version(d), rc;

	if (v == d->dataver)
		return 0;
	d->dataver = v;
	sqlite3_bind_int64(d->since, 1, d->maxsig);
	while ((rc = sqlite3_step(d->since)) == SQLITE_ROW) {
		cp_fpseg *s = cp_fpx_seg(d->fx, sqlite3_column_int64(d->since, 1),
		    week_of((long)sqlite3_column_int64(d->since, 2)));
		if (s) {
			row r;
			row_read(d->since, &r);
			row_file(d, s, &r);
		}
		d->maxsig = sqlite3_column_int64(d->since, 0);
	}
	sqlite3_reset(d->since);
	return rc == SQLITE_DONE ? 0 : cp_db_error(d->db, "read fingerprints");
}

/* ---- event keys ------------------------------------------------------- */

typedef struct keys {
	char *k[MAXKEYS];
	size_t n;
} keys;

static void key_add(keys *ks, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void key_add(keys *ks, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	size_t i;

	if (ks->n >= MAXKEYS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i], buf))
			return;
	ks->k[ks->n++] = xstrdup(buf);
}

static void keys_free(keys *ks)
{
	size_t i;
	for (i = 0; i < ks->n; i++)
		free(ks->k[i]);
	ks->n = 0;
}

/* The last word of a name, lower-cased: "Daniel Okoye" and "Okoye". */
static void person_key(keys *ks, const char *name)
{
	const char *p = strrchr(name, ' ');
	char *low;

	p = p ? p + 1 : name;
	low = cp_text_lower(p, strlen(p));
	key_add(ks, "p:%s", low);
	free(low);
}

static void make_keys(const json_t *sig, keys *ks)
{
	json_t *e;
	size_t i, nq;
	const char *text = cp_json_strd(sig, "text", "");
	double q[24];

	json_t *themes = json_object_get(sig, "themes"), *t;
	json_t *accs = json_object_get(sig, "account_ids");

	json_array_foreach(accs, i, e)
		if (json_is_string(e))
			key_add(ks, "a:%s", json_string_value(e));
	json_array_foreach(json_object_get(sig, "entities"), i, e) {
		const char *kind = cp_json_strd(e, "kind", "");
		double v;
		if (!strcmp(kind, "money") && cp_json_num(e, "value", &v)) {
			size_t j;
			const char *mt = cp_json_strd(e, "text", "");
			key_add(ks, "m:%.3g", v);
			/* the amount the story is about: in a theme's evidence */
			json_array_foreach(themes, j, t)
				if (*mt && strstr(cp_json_strd(t, "evidence", ""), mt))
					key_add(ks, "L:%.3g", v);
		} else if (!strcmp(kind, "percent") && cp_json_num(e, "value", &v))
			key_add(ks, "%%:%g", v);
		else if (!strcmp(kind, "headcount") && cp_json_num(e, "value", &v))
			key_add(ks, "h:%.0f", v);
		else if (!strcmp(kind, "person") && cp_json_str(e, "text"))
			person_key(ks, cp_json_str(e, "text"));
		else if (!strcmp(kind, "date") && cp_json_str(e, "value"))
			key_add(ks, "d:%s", cp_json_str(e, "value"));
	}
	nq = cp_quantities(text, strlen(text), cp_json_strd(sig, "lang", "und"),
	    q, sizeof q / sizeof *q);
	for (i = 0; i < nq; i++)
		key_add(ks, "n:%.3g", q[i]);
}

static void keys_join(const keys *ks, strbuf *sb)
{
	size_t i;
	for (i = 0; i < ks->n; i++) {
		if (i)
			sb_addc(sb, ' ');
		sb_adds(sb, ks->k[i]);
	}
}

static void keys_parse(const char *s, keys *ks)
{
	while (*s && ks->n < MAXKEYS) {
		const char *e = strchr(s, ' ');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n)
			ks->k[ks->n++] = xstrndup(s, n);
		s += n;
		while (*s == ' ')
			s++;
	}
}

/* Shared keys of one kind, and whether both sides have that kind. */
static int shared(const keys *a, const keys *b, char kind, int *both)
{
	size_t i, j;
	int n = 0, ha = 0, hb = 0;

	for (i = 0; i < a->n; i++)
		if (a->k[i][0] == kind)
			ha = 1;
	for (j = 0; j < b->n; j++)
		if (b->k[j][0] == kind)
			hb = 1;
	*both = ha && hb;
	for (i = 0; i < a->n; i++) {
		if (a->k[i][0] != kind)
			continue;
		for (j = 0; j < b->n; j++)
			if (!strcmp(a->k[i], b->k[j])) {
				n++;
				break;
			}
	}
	return n;
}

/* Same event?  The score (see dedupe.h) or -1 for disagreeing amounts. */
static int event_score(const keys *a, const keys *b, int leadership,
    double jac, char *why, size_t whylen)
{
	int bm, bh, bp, bd, bn, bl, bx, score = 0;
	int sm = shared(a, b, 'm', &bm), sh = shared(a, b, 'h', &bh);
	int sp = shared(a, b, 'p', &bp), sd = shared(a, b, 'd', &bd);
	int sn = shared(a, b, 'n', &bn), st = shared(a, b, 't', &bx);
	int sl = shared(a, b, 'L', &bl), sc = shared(a, b, '%', &bx);
	int sa = shared(a, b, 'a', &bx);

	/* each is about an amount and the amounts differ: another deal; or
	 * the same wording with other amounts: a template reused */
	if ((bl && !sl && !sm) || (bm && !sm && jac >= 0.3))
		return snprintf(why, whylen, "amounts differ"), -1;
	score += sm ? 2 : 0;
	score += sc ? 1 : 0;
	score += sa >= 2 ? 1 : 0;
	score += sh ? 2 : 0;
	score += sp ? (leadership ? 2 : 1) : 0;
	score += sd ? 1 : 0;
	score += sn ? 1 : 0;
	score += st ? 2 : 0;
	score += jac >= 0.2 ? 1 : 0;
	snprintf(why, whylen, "shared amounts %d, headcounts %d, people %d, "
	    "dates %d, figures %d, percentages %d, accounts %d, title %d, "
	    "jaccard %.2f: score %d", sm, sh, sp, sd, sn, sc, sa, st, jac, score);
	return score;
}

/*
 * The most event_score can give a stored signal, from what memory holds
 * of it: the hashes of its keys (a shared key has a shared hash) and the
 * sketch of its signature (jub, at least its Jaccard).  A signal whose
 * bound does not beat the best score so far cannot be chosen, so it is
 * never read from the state file: most signals filed under a busy
 * (account, theme) pair share nothing with this one.
 */
static int event_bound(const keys *mine, const uint32_t *mkh,
    const uint32_t *theirs, size_t nt, int leadership, double jub)
{
	int m = 0, c = 0, a = 0, h = 0, p = 0, dd = 0, n = 0, t = 0;
	size_t i, j;

	for (i = 0; i < mine->n; i++) {
		for (j = 0; j < nt && theirs[j] != mkh[i]; j++)
			;
		if (j == nt)
			continue;
		switch (mine->k[i][0]) {
		case 'm': m = 1; break;
		case '%': c = 1; break;
		case 'a': a++; break;
		case 'h': h = 1; break;
		case 'p': p = 1; break;
		case 'd': dd = 1; break;
		case 'n': n = 1; break;
		case 't': t = 1; break;
		}
	}
	return 2 * m + c + (a >= 2) + 2 * h + (p ? (leadership ? 2 : 1) : 0) +
	    dd + n + 2 * t + (jub >= 0.2);
}

/* ---- lookups ---------------------------------------------------------- */

typedef struct cand {
	int64_t sig;
	char signal_id[CP_ID_MAX];
	char cluster_id[CP_ID_MAX];
	uint64_t simhash;
	uint32_t mh[CP_MH_N];
	char *keys;
	long published;
	char textkey[33];
} cand;

/* The full row of a candidate found in memory. */
static int load_cand(cp_dedupe *d, int64_t sig, cand *c)
{
	int rc;
	const void *blob;

	memset(c, 0, sizeof *c);
	d->ncand++;
	sqlite3_bind_int64(d->fp, 1, sig);
	if ((rc = sqlite3_step(d->fp)) != SQLITE_ROW) {
		sqlite3_reset(d->fp);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	c->sig = sig;
	snprintf(c->signal_id, sizeof c->signal_id, "%s",
	    cp_db_col_text(d->fp, 0));
	snprintf(c->cluster_id, sizeof c->cluster_id, "%s",
	    cp_db_col_text(d->fp, 1));
	c->simhash = (uint64_t)sqlite3_column_int64(d->fp, 2);
	blob = sqlite3_column_blob(d->fp, 3);
	if (blob && sqlite3_column_bytes(d->fp, 3) == (int)sizeof c->mh)
		memcpy(c->mh, blob, sizeof c->mh);
	c->keys = xstrdup(cp_db_col_text(d->fp, 4));
	c->published = (long)sqlite3_column_int64(d->fp, 5);
	snprintf(c->textkey, sizeof c->textkey, "%s", cp_db_col_text(d->fp, 6));
	sqlite3_reset(d->fp);
	return 1;
}

static long labs_(long x) { return x < 0 ? -x : x; }

typedef struct decision {
	const char *how;        /* "exact", "near", "event", "new" */
	cand best;              /* the cluster chosen, or the nearest one */
	int have;               /* best is set */
	double jac;
	int hamming;
	char why[400];
} decision;

static void take(decision *dc, cand *c)
{
	free(dc->best.keys);
	dc->best = *c;
	c->keys = NULL;
	dc->have = 1;
}

/* The newest few entries of one segment's matches: sig descending for a
 * band, (publication, sig) descending for an event key. */
typedef struct top {
	const cp_fpent *e[EVENT_LIMIT];
	size_t n, max;
	int by_pub;
	long lo, hi;            /* events: publication range */
} top;

static int newer(const top *t, const cp_fpent *a, const cp_fpent *b)
{
	if (t->by_pub && a->pub != b->pub)
		return a->pub > b->pub;
	return a->sig > b->sig;
}

static void top_add(const cp_fpent *e, void *arg)
{
	top *t = arg;
	size_t i;

	if (t->by_pub && (e->pub < t->lo || e->pub > t->hi))
		return;
	if (t->n == t->max && !newer(t, e, t->e[t->n - 1]))
		return;
	i = t->n < t->max ? t->n++ : t->n - 1;
	while (i > 0 && newer(t, e, t->e[i - 1])) {
		t->e[i] = t->e[i - 1];
		i--;
	}
	t->e[i] = e;
}

/* Whether a shared key of kind k is possible, and whether theirs has a
 * key of that kind at all (exact: the kind is in the hash). */
static int maybe_shared(const keys *mine, const uint32_t *mkh,
    const uint32_t *theirs, size_t nt, char k, int *both)
{
	size_t i, j;
	int ha = 0, hb = 0, sh = 0;

	for (j = 0; j < nt; j++)
		if (KIND(theirs[j]) == (unsigned char)k)
			hb = 1;
	for (i = 0; i < mine->n; i++) {
		if (mine->k[i][0] != k)
			continue;
		ha = 1;
		for (j = 0; j < nt; j++)
			if (theirs[j] == mkh[i])
				sh = 1;
	}
	*both = ha && hb;
	return sh;
}

/*
 * The decision of near() below, first from memory alone: what memory
 * holds of a candidate allows at least as much as its full row (32 bits
 * of each band key, an upper bound of its Jaccard from the sketch, the
 * first 64 bits of its exact-copy key, its key hashes), so the signal
 * the full comparison would choose is the one memory suggests, read and
 * confirmed: the first with the same exact-copy key, else the first of
 * the highest bound.  1 when decided so (dc set, or nothing found),
 * 0 when the confirmation failed (a hash collision: the caller compares
 * in full).  One row read instead of one per improving candidate.
 */
static int near_fast(cp_dedupe *d, cp_fpseg **segs, const cp_fpent **seen,
    size_t nseen, const uint32_t *mh, const int64_t *band, uint64_t simhash,
    const char *textkey, uint64_t tk, const keys *mine, const uint32_t *mkh,
    long pub, decision *dc)
{
	const cp_fpent *w = NULL;
	double wj = -1;
	int exact = 0, b, both, sm;
	size_t i, nt;
	cand c;
	keys theirs = { { 0 }, 0 };

	for (i = 0; i < nseen; i++) {
		const cp_fpent *e = seen[i];
		const uint32_t *th;
		double ub;
		if (labs_((long)e->pub - pub) > d->o.window)
			continue;
		if (e->tk == tk) {
			w = e;
			exact = 1;
			break;
		}
		ub = cp_minhash_sketch_sim(mh, e->sk);
		if (ub < d->o.threshold || ub <= wj)
			continue;
		th = cp_fpseg_keys(segs[i], e, &nt);
		if (!maybe_shared(mine, mkh, th, nt, 'm', &both) && both &&
		    ub < 0.9)
			continue;
		w = e;
		wj = ub;
	}
	if (!w)
		return 1;
	d->nnear++;
	if (load_cand(d, w->sig, &c) <= 0)
		return 0;
	for (b = 0; b < CP_MH_BANDS; b++)
		if (cp_minhash_band(c.mh, b) == band[b])
			break;
	if (b == CP_MH_BANDS || labs_(c.published - pub) > d->o.window ||
	    exact != !strcmp(textkey, c.textkey)) {
		free(c.keys);
		return 0;
	}
	if (exact) {
		dc->jac = 1;
		dc->hamming = cp_hamming(simhash, c.simhash);
		dc->how = "exact";
		take(dc, &c);
		return 1;
	}
	dc->jac = cp_minhash_sim(mh, c.mh);
	keys_parse(c.keys, &theirs);
	sm = shared(mine, &theirs, 'm', &both);
	keys_free(&theirs);
	if (dc->jac != wj || (both && !sm && dc->jac < 0.9)) {
		dc->jac = 0;
		free(c.keys);
		return 0;
	}
	dc->hamming = cp_hamming(simhash, c.simhash);
	dc->how = "near";
	take(dc, &c);
	return 1;
}

/*
 * Exact copies, then near duplicates, through the bands; also remembers
 * the nearest (for --explain).  The candidates are those the banded
 * index in the state file used to give, in the same order: weeks newest
 * first, bands in order, the 8 newest signals of each.  Without --explain
 * a candidate is read from the state file only when its entry in memory
 * says it can matter: in the window, and the same exact-copy key or a
 * sketch similarity (an upper bound of its Jaccard) at the threshold and
 * above the best so far.
 */
static void near(cp_dedupe *d, int64_t tenant, const uint32_t *mh,
    const int64_t *band, uint64_t simhash, const char *textkey, uint64_t tk,
    const keys *mine, const uint32_t *mkh, long pub, decision *dc,
    decision *nearest)
{
	const cp_fpent *seen[NEAR_MAX];
	cp_fpseg *segs[NEAR_MAX];
	size_t nseen = 0, i, k;
	int b;
	double best = -1;
	long w;

	d->mark++;

	for (w = week_of(pub + d->o.window); w >= week_of(pub - d->o.window);
	    w--) {
		cp_fpseg *s = cp_fpx_seg(d->fx, tenant, w);
		if (!s)
			continue;
		for (b = 0; b < CP_MH_BANDS; b++) {
			cp_fpent *got[BAND_LIMIT];
			size_t n = cp_fpseg_band(s, b, (uint32_t)band[b], got,
			    BAND_LIMIT);
			/* each signal once, where it was first found */
			for (k = 0; k < n && nseen < NEAR_MAX; k++)
				if (got[k]->mark != d->mark) {
					got[k]->mark = d->mark;
					segs[nseen] = s;
					seen[nseen++] = got[k];
				}
		}
	}
	/* --explain shows the nearest neighbour: that needs them all */
	if (!d->o.explain && near_fast(d, segs, seen, nseen, mh, band, simhash,
	    textkey, tk, mine, mkh, pub, dc))
		return;
	for (i = 0; i < nseen; i++) {
		cand c;
		double j;
		if (!d->o.explain) {
			const cp_fpent *e = seen[i];
			double ub;
			if (labs_((long)e->pub - pub) > d->o.window)
				continue;
			ub = cp_minhash_sketch_sim(mh, e->sk);
			if (e->tk != tk && !(ub >= d->o.threshold && ub > best))
				continue;
		}
		d->nnear++;
		if (load_cand(d, seen[i]->sig, &c) <= 0)
			continue;
		/* 32 bits of a band key found it: the whole key must agree */
		for (b = 0; b < CP_MH_BANDS; b++)
			if (cp_minhash_band(c.mh, b) == band[b])
				break;
		if (b == CP_MH_BANDS) {
			free(c.keys);
			continue;
		}
		j = cp_minhash_sim(mh, c.mh);
		/* the same words: an exact copy (all its bands agree, so the
		 * band lookup finds it like any near one) */
		if (!strcmp(textkey, c.textkey) && labs_(c.published - pub) <=
		    d->o.window) {
			dc->jac = 1;
			dc->hamming = cp_hamming(simhash, c.simhash);
			dc->how = "exact";
			take(dc, &c);
			return;
		}
		if (j > nearest->jac || !nearest->have) {
			cand copy = c;
			copy.keys = xstrdup(c.keys);
			nearest->jac = j;
			nearest->hamming = cp_hamming(simhash, c.simhash);
			take(nearest, &copy);
		}
		if (j >= d->o.threshold && j > best &&
		    labs_(c.published - pub) <= d->o.window) {
			keys theirs = { { 0 }, 0 };
			int both, sm;
			keys_parse(c.keys, &theirs);
			sm = shared(mine, &theirs, 'm', &both);
			keys_free(&theirs);
			/* one template, another deal: not the same story */
			if (both && !sm && j < 0.9) {
				free(c.keys);
				continue;
			}
			best = j;
			dc->jac = j;
			dc->hamming = cp_hamming(simhash, c.simhash);
			dc->how = "near";
			take(dc, &c);
			continue;
		}
		free(c.keys);
	}
}
static int has_theme(const json_t *themes, const char *id)
{
	size_t i;
	json_t *t;
	json_array_foreach(themes, i, t)
		if (!cp_json_bool(t, "negated", false) &&
		    !strcmp(cp_json_strd(t, "theme", ""), id))
			return 1;
	return 0;
}

/* The (account, theme) pairs a signal is indexed under. */
typedef struct pairs {
	const char *acc[32];
	char theme[32][64];
	size_t n;
} pairs;

static void make_pairs(const json_t *sig, pairs *p)
{
	json_t *accs = json_object_get(sig, "account_ids"), *a, *t;
	json_t *themes = json_object_get(sig, "themes");
	json_t *job = json_object_get(sig, "job");
	size_t i, j;

	p->n = 0;
	json_array_foreach(accs, i, a) {
		if (!json_is_string(a))
			continue;
		if (job) {
			if (p->n < 32) {
				p->acc[p->n] = json_string_value(a);
				snprintf(p->theme[p->n], sizeof p->theme[p->n],
				    "job:%s", cp_json_strd(job, "function", "other"));
				p->n++;
			}
			continue;
		}
		json_array_foreach(themes, j, t) {
			if (cp_json_bool(t, "negated", false) || p->n >= 32)
				continue;
			p->acc[p->n] = json_string_value(a);
			snprintf(p->theme[p->n], sizeof p->theme[p->n], "%s",
			    cp_json_strd(t, "theme", ""));
			p->n++;
		}
	}
}

/* The signals filed under one of the signal's (account, theme) pairs
 * within the window, the 16 newest of each week, as the event index in
 * the state file used to give them; each is read and scored. */
static void by_event(cp_dedupe *d, int64_t tenant, const pairs *p,
    const keys *mine, const uint32_t *mkh, const uint32_t *mh, long pub,
    decision *dc)
{
	size_t i, k;
	int best = 1;

	for (i = 0; i < p->n; i++) {
	    int leadership = !strcmp(p->theme[i], "leadership_change");
	    uint32_t key = cp_fpx_key(d->fx, tenant, p->acc[i], strlen(p->acc[i]),
		    p->theme[i], strlen(p->theme[i]), 0);
	    long w;
	    if (!key)
		continue;
	    for (w = week_of(pub + d->o.window); w >= week_of(pub - d->o.window);
		w--) {
		cp_fpseg *s = cp_fpx_seg(d->fx, tenant, w);
		top t;
		if (!s)
			continue;
		memset(&t, 0, sizeof t);
		t.max = EVENT_LIMIT;
		t.by_pub = 1;
		t.lo = pub - d->o.window;
		t.hi = pub + d->o.window;
		cp_fpseg_pairs(s, key, top_add, &t);
		for (k = 0; k < t.n; k++) {
			cand c;
			keys theirs = { { 0 }, 0 };
			char why[200];
			int score;
			double j;
			size_t nt;
			const uint32_t *th = cp_fpseg_keys(s, t.e[k], &nt);
			if (event_bound(mine, mkh, th, nt, leadership,
			    cp_minhash_sketch_sim(mh, t.e[k]->sk)) <= best)
				continue;
			if (load_cand(d, t.e[k]->sig, &c) <= 0)
				continue;
			keys_parse(c.keys, &theirs);
			j = cp_minhash_sim(mh, c.mh);
			score = event_score(mine, &theirs, leadership, j, why,
			    sizeof why);
			keys_free(&theirs);
			if (score > best) {
				best = score;
				dc->how = "event";
				dc->jac = j;
				snprintf(dc->why, sizeof dc->why, "%s %s, %s",
				    p->acc[i], p->theme[i], why);
				take(dc, &c);
			} else {
				free(c.keys);
			}
		}
	    }
	}
}

struct cp_dedupe_prep {
	json_t *sig;                 /* the record (a reference) */
	const char *id;
	size_t tl;
	uint32_t mh[CP_MH_N];
	uint8_t sk[CP_MH_N];
	int64_t band[CP_MH_BANDS];
	uint64_t simhash, tk;
	char textkey[33];
	keys mine;
	uint32_t mkh[MAXKEYS];       /* the hash of each of mine */
	strbuf ks;
	uint32_t kh[MAXKEYS];        /* of ks's keys, as read back */
	size_t nkh;
	pairs p;
	strbuf ps;                   /* the distinct pairs, for the row */
	int postings;                /* some are (account, job:…) */
	long pub;
	char *accs, *themes, *ents; /* serialised for the signals row */
	/* worked out here, off the state thread: the members the row
	 * stores, the id of the cluster it would start, the time */
	const char *doc, *source, *url, *title, *text, *lang, *pub_at,
	    *fetched_at;
	char newclu[CP_ID_MAX];
	char now[CP_TIME_MAX];
};

/* ---- storing ---------------------------------------------------------- */

static char *dumps(const json_t *v)
{
	return v ? cp_json_dumps(v, 0) : xstrdup("[]");
}

/* File a stored signal in its week's segment (loaded by the lookup). */
static void remember(cp_dedupe *d, int64_t tenant, const cp_dedupe_prep *x,
    int64_t rowid, const char *cluster)
{
	cp_fpseg *s = cp_fpx_seg(d->fx, tenant, week_of(x->pub));
	filing f;

	if (rowid > d->maxsig)
		d->maxsig = rowid;
	if (!s)
		return;
	memset(&f, 0, sizeof f);
	f.s = s;
	f.pub = x->pub;
	f.cluster = cluster;
	if (cp_fpseg_kind(s) == CP_FPX_FULL) {
		cp_fpent e;
		int i;
		memset(&e, 0, sizeof e);
		e.sig = rowid;
		e.pub = x->pub;
		e.tk = x->tl ? x->tk : 0;
		memcpy(e.sk, x->sk, sizeof e.sk);
		for (i = 0; i < CP_MH_BANDS; i++)
			e.bh[i] = (uint32_t)x->band[i];
		f.ent = cp_fpseg_add(s, &e, x->tl > 0, x->kh, x->nkh);
	}
	pairs_each(d, tenant, sb_str(&x->ps), file_pair, &f);
}

static int store(cp_dedupe *d, int64_t tenant, const struct cp_dedupe_prep *x,
    const char *cluster, int64_t *rowid)
{
	int rc;

	sqlite3_bind_int64(d->sig_ins, 1, tenant);
	cp_db_bind_text(d->sig_ins, 2, x->id);
	cp_db_bind_text(d->sig_ins, 3, x->accs);
	cp_db_bind_text(d->sig_ins, 4, x->doc);
	cp_db_bind_text(d->sig_ins, 5, cluster);
	cp_db_bind_text(d->sig_ins, 6, x->source);
	cp_db_bind_text(d->sig_ins, 7, x->url);
	cp_db_bind_text(d->sig_ins, 8, x->title);
	sqlite3_bind_text(d->sig_ins, 9, x->text, (int)x->tl, SQLITE_STATIC);
	cp_db_bind_text(d->sig_ins, 10, x->lang);
	cp_db_bind_text(d->sig_ins, 11, x->themes);
	cp_db_bind_text(d->sig_ins, 12, x->ents);
	cp_db_bind_text(d->sig_ins, 13, x->pub_at);
	cp_db_bind_text(d->sig_ins, 14, x->fetched_at);
	cp_db_bind_text(d->sig_ins, 15, x->now);
	if ((rc = cp_db_step_done(d->db, d->sig_ins)))
		return rc;
	*rowid = sqlite3_last_insert_rowid(d->db);
	sqlite3_bind_int64(d->fp_ins, 1, *rowid);
	sqlite3_bind_int64(d->fp_ins, 2, tenant);
	sqlite3_bind_int64(d->fp_ins, 3, x->pub);
	cp_db_bind_text(d->fp_ins, 4, x->id);
	cp_db_bind_text(d->fp_ins, 5, cluster);
	sqlite3_bind_int64(d->fp_ins, 6, (int64_t)x->simhash);
	sqlite3_bind_blob(d->fp_ins, 7, x->mh, CP_MH_N * sizeof *x->mh,
	    SQLITE_STATIC);
	cp_db_bind_text(d->fp_ins, 8, x->tl ? x->textkey : NULL);
	cp_db_bind_text(d->fp_ins, 9, sb_str(&x->ks));
	cp_db_bind_text(d->fp_ins, 10, sb_str(&x->ps));
	sqlite3_bind_int(d->fp_ins, 11, x->postings);
	if ((rc = cp_db_step_done(d->db, d->fp_ins)))
		return rc;
	remember(d, tenant, x, *rowid, cluster);
	return 0;
}
static int cluster_join(cp_dedupe *d, int64_t tenant, const char *cluster,
    const char *pub_at, const char *now, cp_dedupe_result *r)
{
	int rc;

	/* one statement finds, updates and reports the cluster: its lead
	 * and its size, this signal included */
	sqlite3_bind_int64(d->cl_upd, 1, tenant);
	cp_db_bind_text(d->cl_upd, 2, cluster);
	cp_db_bind_text(d->cl_upd, 3, pub_at);
	cp_db_bind_text(d->cl_upd, 4, now);
	if ((rc = sqlite3_step(d->cl_upd)) == SQLITE_ROW) {
		snprintf(r->duplicate_of, sizeof r->duplicate_of, "%s",
		    cp_db_col_text(d->cl_upd, 0));
		r->corroborations = (long)sqlite3_column_int64(d->cl_upd, 1) - 1;
		rc = sqlite3_step(d->cl_upd);
	}
	rc = rc == SQLITE_DONE ? 0 : cp_db_error(d->db, "update cluster");
	sqlite3_reset(d->cl_upd);
	return rc;
}

static int cluster_new(cp_dedupe *d, int64_t tenant, const char *cluster,
    const char *lead, const char *pub_at, const char *now)
{
	sqlite3_bind_int64(d->cl_new, 1, tenant);
	cp_db_bind_text(d->cl_new, 2, cluster);
	cp_db_bind_text(d->cl_new, 3, lead);
	cp_db_bind_text(d->cl_new, 4, pub_at);
	cp_db_bind_text(d->cl_new, 5, now);
	return cp_db_step_done(d->db, d->cl_new);
}

/* Distinct clusters among the postings counted for a surge. */
typedef struct postcount {
	uint8_t (*clu)[16];
	size_t n, cap;
	long lo, hi;
} postcount;

static void post_add(int64_t pub, const uint8_t *clu, void *arg)
{
	postcount *pc = arg;
	size_t i;

	if (pub < pc->lo || pub > pc->hi)
		return;
	for (i = 0; i < pc->n; i++)
		if (!memcmp(pc->clu[i], clu, 16))
			return;
	if (pc->n == pc->cap) {
		pc->cap = pc->cap ? pc->cap * 2 : 16;
		pc->clu = xrealloc(pc->clu, pc->cap * sizeof *pc->clu);
	}
	memcpy(pc->clu[pc->n++], clu, 16);
}

/* Postings of one function at one account within the surge window,
 * counted by cluster (a repost is one posting); this one included. */
static json_t *surge(cp_dedupe *d, int64_t tenant, const json_t *sig,
    const pairs *p, long pub)
{
	size_t i;

	if (!json_object_get(sig, "job") || d->o.surge_min <= 0)
		return NULL;
	for (i = 0; i < p->n; i++) {
		uint32_t key = cp_fpx_key(d->fx, tenant, p->acc[i], strlen(p->acc[i]),
		    p->theme[i], strlen(p->theme[i]), 0);
		postcount pc;
		long w, n;
		memset(&pc, 0, sizeof pc);
		pc.lo = pub - d->o.surge_window;
		pc.hi = pub;
		for (w = week_of(pub); key && w >= week_of(pub - d->o.surge_window);
		    w--) {
			cp_fpseg *s = cp_fpx_seg(d->fx, tenant, w);
			if (s)
				cp_fpseg_posts(s, key, post_add, &pc);
		}
		n = (long)pc.n;
		free(pc.clu);
		if (n >= d->o.surge_min) {
			char ev[200];
			snprintf(ev, sizeof ev, "%ld %s postings at %s within %ld "
			    "days", n, p->theme[i] + 4, p->acc[i],
			    d->o.surge_window / 86400);
			return json_pack("{s:s,s:f,s:s,s:b}", "theme",
			    "hiring_surge", "confidence", n >= 2L * d->o.surge_min ?
			    0.9 : 0.75, "evidence", ev, "negated", 0);
		}
	}
	return NULL;
}
static void explain(const char *id, const decision *dc, const decision *nb,
    const char *cluster)
{
	if (!strcmp(dc->how, "new")) {
		if (nb->have)
			fprintf(stderr, "%s: explain: %s: new %s; nearest %s "
			    "(jaccard %.2f, hamming %d)\n", cp_prog(), id, cluster,
			    nb->best.signal_id, nb->jac, nb->hamming);
		else
			fprintf(stderr, "%s: explain: %s: new %s; no neighbour\n",
			    cp_prog(), id, cluster);
	} else if (!strcmp(dc->how, "event")) {
		fprintf(stderr, "%s: explain: %s: event in %s with %s (%s)\n",
		    cp_prog(), id, cluster, dc->best.signal_id, dc->why);
	} else {
		fprintf(stderr, "%s: explain: %s: %s duplicate in %s of %s "
		    "(jaccard %.2f, hamming %d)\n", cp_prog(), id, dc->how,
		    cluster, dc->best.signal_id, dc->jac, dc->hamming);
	}
}

/*
 * The id of the cluster a signal starts: "clu_", the week of its
 * publication (4 hex digits: weeks since the epoch, modulo 65536), then
 * 28 hex digits of the hash of its tenant and id.  The same signal always
 * makes the same id (a rerun finds it), and the stories of one week sit
 * side by side in the clusters table: the corroborations that update
 * them, all within the window, touch a few of its pages, not a page
 * anywhere in the file each.
 */
static void new_cluster_id(char out[CP_ID_MAX], const char *tenant,
    const char *id, long pub)
{
	char wk[5];

	cp_make_id4(out, "clu_", tenant, id, NULL, NULL);
	snprintf(wk, sizeof wk, "%04lx",
	    (unsigned long)week_of(pub) & 0xffffUL);
	memcpy(out + 4, wk, 4);
}

cp_dedupe_prep *cp_dedupe_prepare(const cp_dedupe_opts *o, json_t *sig,
    char *err, size_t errlen)
{
	const char *text = cp_json_strd(sig, "text", "");
	const char *pub_at = cp_json_str(sig, "published_at");
	const char *fpx = cp_json_str(sig, "fingerprint");
	cp_dedupe_prep *x;
	time_t t;
	size_t i, j;

	if (!(pub_at && cp_time_parse(pub_at, &t)) &&
	    !(cp_json_str(sig, "fetched_at") &&
	    cp_time_parse(cp_json_str(sig, "fetched_at"), &t))) {
		snprintf(err, errlen, "no valid published_at or fetched_at");
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->sig = json_incref(sig);
	x->id = cp_json_str(sig, "id");
	x->pub = (long)t;
	x->tl = strlen(text);
	if (!(o->shingle == CP_SHINGLE_DEFAULT && cp_fp_parse(fpx, &x->simhash)))
		x->simhash = cp_simhash(text, x->tl, o->shingle);
	cp_minhash_key(text, x->tl, o->shingle, x->mh, x->textkey);
	cp_minhash_sketch(x->mh, x->sk);
	for (i = 0; i < CP_MH_BANDS; i++)
		x->band[i] = cp_minhash_band(x->mh, (int)i);
	x->tk = hex64(x->textkey);
	make_keys(sig, &x->mine);
	if (json_object_get(sig, "job")) {
		char *low = cp_text_lower(cp_json_strd(sig, "title", ""),
		    strlen(cp_json_strd(sig, "title", "")));
		key_add(&x->mine, "t:%.100s", low);
		free(low);
	}
	keys_join(&x->mine, &x->ks);
	for (i = 0; i < x->mine.n; i++)
		x->mkh[i] = key_hash(x->mine.k[i], strlen(x->mine.k[i]));
	x->nkh = keys_hash(sb_str(&x->ks), x->kh);
	make_pairs(sig, &x->p);
	/* each pair once, as the state file's event index had it */
	for (i = 0; i < x->p.n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(x->p.acc[i], x->p.acc[j]) &&
			    !strcmp(x->p.theme[i], x->p.theme[j]))
				break;
		if (j < i)
			continue;
		pairs_add(&x->ps, x->p.acc[i], x->p.theme[i]);
		if (!strncmp(x->p.theme[i], "job:", 4))
			x->postings = 1;
	}
	x->accs = dumps(json_object_get(sig, "account_ids"));
	x->themes = dumps(json_object_get(sig, "themes"));
	x->ents = dumps(json_object_get(sig, "entities"));
	x->doc = cp_json_strd(sig, "document_id", "");
	x->source = cp_json_str(sig, "source");
	x->url = cp_json_str(sig, "url");
	x->title = cp_json_str(sig, "title");
	x->text = text;
	x->lang = cp_json_str(sig, "lang");
	x->pub_at = pub_at;
	x->fetched_at = cp_json_str(sig, "fetched_at");
	new_cluster_id(x->newclu, cp_json_str(sig, "tenant"), x->id, x->pub);
	cp_time_format(cp_now(), x->now);
	return x;
}

void cp_dedupe_prep_free(cp_dedupe_prep *x)
{
	if (!x)
		return;
	keys_free(&x->mine);
	sb_free(&x->ks);
	sb_free(&x->ps);
	free(x->accs);
	free(x->themes);
	free(x->ents);
	json_decref(x->sig);
	free(x);
}

int cp_dedupe_apply(cp_dedupe *d, int64_t tenant, cp_dedupe_prep *x,
    cp_dedupe_result *r)
{
	const json_t *sig = x->sig;
	const char *id = x->id;
	const char *pub_at = cp_json_str(sig, "published_at");
	char cluster[CP_ID_MAX];
	decision dc, nb;
	int64_t rowid;
	json_t *themes = json_object_get(sig, "themes");
	int rc = 0;

	memset(r, 0, sizeof *r);
	memset(&dc, 0, sizeof dc);
	memset(&nb, 0, sizeof nb);
	dc.how = "new";
	cp_fpx_next(d->fx);
	if ((rc = window_sync(d)))
		return rc;
	sqlite3_bind_int64(d->seen, 1, tenant);
	cp_db_bind_text(d->seen, 2, id);
	rc = sqlite3_step(d->seen);
	sqlite3_reset(d->seen);
	if (rc == SQLITE_ROW) {
		r->seen = 1;
		if (d->o.explain)
			fprintf(stderr, "%s: explain: %s: already seen\n",
			    cp_prog(), id);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return cp_db_error(d->db, "look up signal");
	if ((rc = window_load(d, tenant, x->pub, x->postings)))
		return rc;

	/* exact, then near, then event */
	if (x->tl) {
		near(d, tenant, x->mh, x->band, x->simhash, x->textkey, x->tk,
		    &x->mine, x->mkh, x->pub, &dc, &nb);
	}
	if (!dc.have)
		by_event(d, tenant, &x->p, &x->mine, x->mkh, x->mh, x->pub,
		    &dc);

	if (dc.have) {
		snprintf(cluster, sizeof cluster, "%s", dc.best.cluster_id);
		if ((rc = cluster_join(d, tenant, cluster, pub_at, x->now, r)))
			goto out;
	} else {
		snprintf(cluster, sizeof cluster, "%s", x->newclu);
		r->is_new = 1;
		if ((rc = cluster_new(d, tenant, cluster, id, pub_at, x->now)))
			goto out;
	}
	snprintf(r->cluster_id, sizeof r->cluster_id, "%s", cluster);
	/* the surge counts this posting too: store first, then count */
	if ((rc = store(d, tenant, x, cluster, &rowid)))
		goto out;
	if ((r->surge = surge(d, tenant, sig, &x->p, x->pub)) &&
	    !has_theme(themes, "hiring_surge")) {
		json_t *all = json_copy(themes ? themes : json_array());
		char *th;
		json_array_append(all, r->surge);
		th = cp_json_dumps(all, 0);
		json_decref(all);
		sqlite3_bind_int64(d->upd_themes, 2, rowid);
		cp_db_bind_text(d->upd_themes, 1, th);
		rc = cp_db_step_done(d->db, d->upd_themes);
		free(th);
	} else if (r->surge) {
		json_decref(r->surge);
		r->surge = NULL;
	}
	if (d->o.explain)
		explain(id, &dc, &nb, cluster);
out:
	free(dc.best.keys);
	free(nb.best.keys);
	cp_fpx_trim(d->fx, WINDOW_MEMORY);
	return rc;
}

int cp_dedupe_add(cp_dedupe *d, int64_t tenant, json_t *sig,
    cp_dedupe_result *r, char *err, size_t errlen)
{
	cp_dedupe_prep *x = cp_dedupe_prepare(&d->o, sig, err, errlen);
	int rc;

	if (!x) {
		memset(r, 0, sizeof *r);
		return CP_EX_DATAERR;
	}
	rc = cp_dedupe_apply(d, tenant, x, r);
	cp_dedupe_prep_free(x);
	return rc;
}
