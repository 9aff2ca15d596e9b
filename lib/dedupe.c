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
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "timefmt.h"

#define BAND_LIMIT 8     /* newest rows read per LSH band */
#define EVENT_LIMIT 16   /* newest rows read per (account, theme) */
#define MAXKEYS 64
#define WEEK (7 * 86400L)
/* Index rows lead with the week of publication: this week's inserts land
 * in one small, hot part of each index instead of anywhere in it, which
 * is what keeps writing flat as millions of rows accumulate; a lookup
 * visits the few weeks its window touches. */
static long week_of(long t) { return t >= 0 ? t / WEEK : -((-t + WEEK - 1) / WEEK); }
#define LAST_WEEK(d, pub) week_of((pub) + (d)->o.window < (d)->newest ? \
	(pub) + (d)->o.window : (d)->newest > (pub) ? (d)->newest : (pub))

struct cp_dedupe {
	sqlite3 *db;
	cp_dedupe_opts o;
	long newest;                 /* latest publication stored (per run) */
	sqlite3_stmt *seen, *band, *fp, *events, *cl_get, *cl_new,
	    *cl_upd, *sig_ins, *fp_ins, *band_ins, *ev_ins, *surge,
	    *upd_themes;
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

int cp_dedupe_open(sqlite3 *db, const cp_dedupe_opts *o, cp_dedupe **out)
{
	cp_dedupe *d = xcalloc(1, sizeof *d);

	d->db = db;
	d->o = *o;
	d->seen = cp_db_prepare(db, "SELECT 1 FROM signals"
	    " WHERE tenant_id = ?1 AND id = ?2");
	/* every band of one week in one statement: 8 seeks, one round trip */
	{
		strbuf sb = CP_STRBUF_INIT;
		int b;
		for (b = 0; b < CP_MH_BANDS; b++)
			sb_addf(&sb, "%sSELECT * FROM (SELECT sig FROM dedupe_bands"
			    " WHERE tenant_id = ?1 AND week = ?10 AND band = ?%d"
			    " ORDER BY sig DESC LIMIT %d)", b ? " UNION ALL " : "",
			    b + 2, BAND_LIMIT);
		d->band = cp_db_prepare(db, sb.buf);
		sb_reset(&sb);
		sb_adds(&sb, "INSERT OR IGNORE INTO dedupe_bands (tenant_id, week,"
		    " band, sig) VALUES ");
		for (b = 0; b < CP_MH_BANDS; b++)
			sb_addf(&sb, "%s(?1, ?11, ?%d, ?2)", b ? ", " : "", b + 3);
		d->band_ins = cp_db_prepare(db, sb.buf);
		sb_free(&sb);
	}
	d->fp = cp_db_prepare(db, "SELECT signal_id, cluster_id, simhash,"
	    " minhash, keys, published, textkey FROM dedupe_fingerprints"
	    " WHERE sig = ?1");
	d->events = cp_db_prepare(db, "SELECT sig FROM dedupe_events"
	    " WHERE tenant_id = ?1 AND week = ?7 AND account_id = ?2"
	    " AND theme = ?3 AND published BETWEEN ?4 AND ?5"
	    " ORDER BY published DESC LIMIT ?6");
	d->cl_get = cp_db_prepare(db, "SELECT lead_signal_id, size FROM clusters"
	    " WHERE tenant_id = ?1 AND id = ?2");
	d->cl_new = cp_db_prepare(db, "INSERT INTO clusters (tenant_id, id,"
	    " lead_signal_id, size, first_published, last_published, created_at,"
	    " updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?5)"
	    " ON CONFLICT DO NOTHING");
	d->cl_upd = cp_db_prepare(db, "UPDATE clusters SET size = size + 1,"
	    " last_published = max(coalesce(last_published, ''), coalesce(?3, '')),"
	    " updated_at = ?4, version = version + 1"
	    " WHERE tenant_id = ?1 AND id = ?2");
	d->sig_ins = cp_db_prepare(db, "INSERT INTO signals (tenant_id, id,"
	    " account_ids, document_id, cluster_id, source, url, title, text,"
	    " lang, themes, entities, published_at, fetched_at, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15)");
	d->fp_ins = cp_db_prepare(db, "INSERT INTO dedupe_fingerprints (sig,"
	    " tenant_id, signal_id, cluster_id, simhash, minhash, keys, published,"
	    " textkey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	d->ev_ins = cp_db_prepare(db, "INSERT OR IGNORE INTO dedupe_events"
	    " (tenant_id, week, account_id, theme, published, sig, cluster_id)"
	    " VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6)");
	d->surge = cp_db_prepare(db, "SELECT DISTINCT cluster_id"
	    " FROM dedupe_events WHERE tenant_id = ?1 AND week = ?6"
	    " AND account_id = ?2 AND theme = ?3 AND published BETWEEN ?4 AND ?5");
	d->upd_themes = cp_db_prepare(db, "UPDATE signals SET themes = ?1"
	    " WHERE seq = ?2");
	/* weeks after the newest stored publication hold nothing: lookups
	 * skip them (an in-order stream then visits two weeks, not three) */
	{
		sqlite3_stmt *st = cp_db_prepare(db, "SELECT max(published) FROM"
		    " dedupe_fingerprints");
		d->newest = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL ?
		    (long)sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
	}
	*out = d;
	return 0;
}

void cp_dedupe_close(cp_dedupe *d)
{
	sqlite3_stmt **all[] = { &d->seen, &d->band, &d->fp,
	    &d->events, &d->cl_get, &d->cl_new, &d->cl_upd, &d->sig_ins,
	    &d->fp_ins, &d->band_ins, &d->ev_ins, &d->surge,
	    &d->upd_themes };
	size_t i;

	if (!d)
		return;
	for (i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(*all[i]);
	free(d);
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

static int load_cand(cp_dedupe *d, int64_t sig, cand *c)
{
	int rc;
	const void *blob;

	memset(c, 0, sizeof *c);
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

/* Near duplicates through the bands; also remembers the nearest. */
static void near(cp_dedupe *d, int64_t tenant, const uint32_t *mh,
    uint64_t simhash, const char *textkey, const keys *mine, long pub,
    decision *dc, decision *nearest)
{
	int64_t seen[CP_MH_BANDS * BAND_LIMIT * 3];
	size_t nseen = 0, i;
	int b;
	double best = -1;

	long w;

	sqlite3_bind_int64(d->band, 1, tenant);
	for (b = 0; b < CP_MH_BANDS; b++)
		sqlite3_bind_int64(d->band, b + 2, cp_minhash_band(mh, b));
	/* newest weeks first: the nearest neighbours are usually recent */
	for (w = LAST_WEEK(d, pub); w >= week_of(pub - d->o.window); w--) {
		sqlite3_bind_int64(d->band, 10, w);
		while (sqlite3_step(d->band) == SQLITE_ROW) {
			int64_t s = sqlite3_column_int64(d->band, 0);
			int dup = 0;
			for (i = 0; i < nseen; i++)
				if (seen[i] == s)
					dup = 1;
			if (!dup && nseen < sizeof seen / sizeof *seen)
				seen[nseen++] = s;
		}
		sqlite3_reset(d->band);
	}
	for (i = 0; i < nseen; i++) {
		cand c;
		double j;
		if (load_cand(d, seen[i], &c) <= 0)
			continue;
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
			nearest->jac = j;
			nearest->hamming = cp_hamming(simhash, c.simhash);
			take(nearest, &c);
			if (load_cand(d, seen[i], &c) <= 0)
				continue;
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

static void by_event(cp_dedupe *d, int64_t tenant, const pairs *p,
    const keys *mine, const uint32_t *mh, long pub, decision *dc)
{
	size_t i;
	int best = 1;

	for (i = 0; i < p->n; i++) {
	    int leadership = !strcmp(p->theme[i], "leadership_change");
	    long w;
	    for (w = LAST_WEEK(d, pub); w >= week_of(pub - d->o.window); w--) {
		sqlite3_bind_int64(d->events, 1, tenant);
		cp_db_bind_text(d->events, 2, p->acc[i]);
		cp_db_bind_text(d->events, 3, p->theme[i]);
		sqlite3_bind_int64(d->events, 4, pub - d->o.window);
		sqlite3_bind_int64(d->events, 5, pub + d->o.window);
		sqlite3_bind_int(d->events, 6, EVENT_LIMIT);
		sqlite3_bind_int64(d->events, 7, w);
		while (sqlite3_step(d->events) == SQLITE_ROW) {
			int64_t s = sqlite3_column_int64(d->events, 0);
			cand c;
			keys theirs = { { 0 }, 0 };
			char why[200];
			int score;
			double j;
			if (load_cand(d, s, &c) <= 0)
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
		sqlite3_reset(d->events);
	    }
	}
}

struct cp_dedupe_prep {
	json_t *sig;                 /* the record (a reference) */
	const char *id;
	size_t tl;
	uint32_t mh[CP_MH_N];
	uint64_t simhash;
	char textkey[33];
	keys mine;
	strbuf ks;
	pairs p;
	long pub;
	char *accs, *themes, *ents; /* serialised for the signals row */
};

/* ---- storing ---------------------------------------------------------- */

static char *dumps(const json_t *v)
{
	return v ? cp_json_dumps(v, 0) : xstrdup("[]");
}

static int store(cp_dedupe *d, int64_t tenant, const struct cp_dedupe_prep *x,
    const char *cluster, int64_t *rowid)
{
	const json_t *sig = x->sig;
	char now[CP_TIME_MAX];
	int rc, b;
	size_t i;

	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(d->sig_ins, 1, tenant);
	cp_db_bind_text(d->sig_ins, 2, x->id);
	cp_db_bind_text(d->sig_ins, 3, x->accs);
	cp_db_bind_text(d->sig_ins, 4, cp_json_strd(sig, "document_id", ""));
	cp_db_bind_text(d->sig_ins, 5, cluster);
	cp_db_bind_text(d->sig_ins, 6, cp_json_str(sig, "source"));
	cp_db_bind_text(d->sig_ins, 7, cp_json_str(sig, "url"));
	cp_db_bind_text(d->sig_ins, 8, cp_json_str(sig, "title"));
	sqlite3_bind_text(d->sig_ins, 9, cp_json_strd(sig, "text", ""),
	    (int)x->tl, SQLITE_STATIC);
	cp_db_bind_text(d->sig_ins, 10, cp_json_str(sig, "lang"));
	cp_db_bind_text(d->sig_ins, 11, x->themes);
	cp_db_bind_text(d->sig_ins, 12, x->ents);
	cp_db_bind_text(d->sig_ins, 13, cp_json_str(sig, "published_at"));
	cp_db_bind_text(d->sig_ins, 14, cp_json_str(sig, "fetched_at"));
	cp_db_bind_text(d->sig_ins, 15, now);
	if ((rc = cp_db_step_done(d->db, d->sig_ins)))
		return rc;
	*rowid = sqlite3_last_insert_rowid(d->db);
	if (x->pub > d->newest)
		d->newest = x->pub;
	sqlite3_bind_int64(d->fp_ins, 1, *rowid);
	sqlite3_bind_int64(d->fp_ins, 2, tenant);
	cp_db_bind_text(d->fp_ins, 3, x->id);
	cp_db_bind_text(d->fp_ins, 4, cluster);
	sqlite3_bind_int64(d->fp_ins, 5, (int64_t)x->simhash);
	sqlite3_bind_blob(d->fp_ins, 6, x->mh, CP_MH_N * sizeof *x->mh,
	    SQLITE_STATIC);
	cp_db_bind_text(d->fp_ins, 7, sb_str(&x->ks));
	sqlite3_bind_int64(d->fp_ins, 8, x->pub);
	cp_db_bind_text(d->fp_ins, 9, x->tl ? x->textkey : NULL);
	if ((rc = cp_db_step_done(d->db, d->fp_ins)))
		return rc;
	if (x->tl) {
		sqlite3_bind_int64(d->band_ins, 1, tenant);
		sqlite3_bind_int64(d->band_ins, 2, *rowid);
		sqlite3_bind_int64(d->band_ins, 11, week_of(x->pub));
		for (b = 0; b < CP_MH_BANDS; b++)
			sqlite3_bind_int64(d->band_ins, b + 3,
			    cp_minhash_band(x->mh, b));
		if ((rc = cp_db_step_done(d->db, d->band_ins)))
			return rc;
	}
	for (i = 0; i < x->p.n; i++) {
		sqlite3_bind_int64(d->ev_ins, 1, tenant);
		cp_db_bind_text(d->ev_ins, 2, x->p.acc[i]);
		cp_db_bind_text(d->ev_ins, 3, x->p.theme[i]);
		sqlite3_bind_int64(d->ev_ins, 4, x->pub);
		sqlite3_bind_int64(d->ev_ins, 5, *rowid);
		cp_db_bind_text(d->ev_ins, 6, cluster);
		sqlite3_bind_int64(d->ev_ins, 7, week_of(x->pub));
		if ((rc = cp_db_step_done(d->db, d->ev_ins)))
			return rc;
	}
	return 0;
}

static int cluster_join(cp_dedupe *d, int64_t tenant, const char *cluster,
    const char *pub_at, cp_dedupe_result *r)
{
	char now[CP_TIME_MAX];
	int rc;

	sqlite3_bind_int64(d->cl_get, 1, tenant);
	cp_db_bind_text(d->cl_get, 2, cluster);
	if (sqlite3_step(d->cl_get) == SQLITE_ROW) {
		snprintf(r->duplicate_of, sizeof r->duplicate_of, "%s",
		    cp_db_col_text(d->cl_get, 0));
		r->corroborations = (long)sqlite3_column_int64(d->cl_get, 1);
	}
	sqlite3_reset(d->cl_get);
	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(d->cl_upd, 1, tenant);
	cp_db_bind_text(d->cl_upd, 2, cluster);
	cp_db_bind_text(d->cl_upd, 3, pub_at);
	cp_db_bind_text(d->cl_upd, 4, now);
	rc = cp_db_step_done(d->db, d->cl_upd);
	return rc;
}

static int cluster_new(cp_dedupe *d, int64_t tenant, const char *cluster,
    const char *lead, const char *pub_at)
{
	char now[CP_TIME_MAX];

	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(d->cl_new, 1, tenant);
	cp_db_bind_text(d->cl_new, 2, cluster);
	cp_db_bind_text(d->cl_new, 3, lead);
	cp_db_bind_text(d->cl_new, 4, pub_at);
	cp_db_bind_text(d->cl_new, 5, now);
	return cp_db_step_done(d->db, d->cl_new);
}

/* Postings of one function at one account within the surge window,
 * counted by cluster (a repost is one posting). */
static json_t *surge(cp_dedupe *d, int64_t tenant, const json_t *sig,
    const pairs *p, long pub)
{
	size_t i;

	if (!json_object_get(sig, "job") || d->o.surge_min <= 0)
		return NULL;
	for (i = 0; i < p->n; i++) {
		long n = 0, w;
		char **seen = NULL;
		size_t ns = 0, k;
		for (w = week_of(pub); w >= week_of(pub - d->o.surge_window); w--) {
			sqlite3_bind_int64(d->surge, 1, tenant);
			cp_db_bind_text(d->surge, 2, p->acc[i]);
			cp_db_bind_text(d->surge, 3, p->theme[i]);
			sqlite3_bind_int64(d->surge, 4, pub - d->o.surge_window);
			sqlite3_bind_int64(d->surge, 5, pub);
			sqlite3_bind_int64(d->surge, 6, w);
			while (sqlite3_step(d->surge) == SQLITE_ROW) {
				const char *c = cp_db_col_text(d->surge, 0);
				int dup = 0;
				for (k = 0; k < ns; k++)
					if (!strcmp(seen[k], c))
						dup = 1;
				if (!dup) {
					seen = xrealloc(seen, (ns + 1) * sizeof *seen);
					seen[ns++] = xstrdup(c);
				}
			}
			sqlite3_reset(d->surge);
		}
		n = (long)ns;
		while (ns)
			free(seen[--ns]);
		free(seen);
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


cp_dedupe_prep *cp_dedupe_prepare(const cp_dedupe_opts *o, json_t *sig,
    char *err, size_t errlen)
{
	const char *text = cp_json_strd(sig, "text", "");
	const char *pub_at = cp_json_str(sig, "published_at");
	const char *fpx = cp_json_str(sig, "fingerprint");
	cp_dedupe_prep *x;
	time_t t;

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
	make_keys(sig, &x->mine);
	if (json_object_get(sig, "job")) {
		char *low = cp_text_lower(cp_json_strd(sig, "title", ""),
		    strlen(cp_json_strd(sig, "title", "")));
		key_add(&x->mine, "t:%.100s", low);
		free(low);
	}
	keys_join(&x->mine, &x->ks);
	make_pairs(sig, &x->p);
	x->accs = dumps(json_object_get(sig, "account_ids"));
	x->themes = dumps(json_object_get(sig, "themes"));
	x->ents = dumps(json_object_get(sig, "entities"));
	return x;
}

void cp_dedupe_prep_free(cp_dedupe_prep *x)
{
	if (!x)
		return;
	keys_free(&x->mine);
	sb_free(&x->ks);
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
	rc = 0;

	/* exact, then near, then event */
	if (x->tl) {
		near(d, tenant, x->mh, x->simhash, x->textkey, &x->mine, x->pub,
		    &dc, &nb);
	}
	if (!dc.have)
		by_event(d, tenant, &x->p, &x->mine, x->mh, x->pub, &dc);

	if (dc.have) {
		snprintf(cluster, sizeof cluster, "%s", dc.best.cluster_id);
		if ((rc = cluster_join(d, tenant, cluster, pub_at, r)))
			goto out;
	} else {
		cp_make_id4(cluster, "clu_", cp_json_str(sig, "tenant"), id, NULL,
		    NULL);
		r->is_new = 1;
		if ((rc = cluster_new(d, tenant, cluster, id, pub_at)))
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
