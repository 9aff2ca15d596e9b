#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "cueset.h"
#include "text.h"
#include "themes.h"

#define MAXTHEMES 64
#define NEG_BEFORE (MAXTHEMES * 4)
#define NEG_AFTER (MAXTHEMES * 4 + 1)

struct cp_themes {
	json_t *doc;                 /* the parsed file */
	size_t n;
	const char *id[MAXTHEMES];
	double w[3];                 /* strong, medium, weak */
	double threshold;
	size_t negwin;
	cp_cueset *cues;             /* tag: theme * 4 + tier (3: exclude) */
	/* denial cues live in the same set, tagged NEG_BEFORE / NEG_AFTER
	 * ("denies …", verb-final "… zurückgewiesen"): one pass finds all */
	pcre2_code *item;            /* "Item 2.05" */
	pcre2_match_data *md;
	char *origin;
};

static const char *const tiers[3] = { "strong", "medium", "weak" };

size_t cp_themes_count(const cp_themes *t) { return t->n; }
const char *cp_themes_id(const cp_themes *t, size_t i)
{
	return i < t->n ? t->id[i] : NULL;
}

static pcre2_code *compile(const char *origin, const char *pat)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NO_UTF_CHECK, &err,
	    &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];
		size_t from = off > 30 ? off - 30 : 0;
		pcre2_get_error_message(err, msg, sizeof msg);
		cp_err("%s: bad pattern near \"%.60s\": %s", origin, pat + from,
		    (char *)msg);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int add_list(cp_themes *t, cp_cueset *c, const json_t *list,
    int tag)
{
	size_t i;
	json_t *a;

	json_array_foreach(list, i, a) {
		if (!json_is_string(a)) {
			cp_err("%s: every cue must be a string", t->origin);
			return -1;
		}
		cp_cueset_add(c, json_string_value(a), tag);
	}
	return 0;
}

static int finish_set(cp_themes *t, cp_cueset *c)
{
	char err[300];

	if (cp_cueset_compile(c, err, sizeof err)) {
		cp_err("%s: %s", t->origin, err);
		return -1;
	}
	return 0;
}

static int build(cp_themes *t)
{
	json_t *themes = json_object_get(t->doc, "themes"), *v;
	const char *key;
	int tier, rc = 0;

	if (!json_is_object(themes) || !json_object_size(themes)) {
		cp_err("%s: no \"themes\" object", t->origin);
		return CP_EX_CONFIG;
	}
	t->cues = cp_cueset_new();
	json_object_foreach(themes, key, v) {
		if (t->n >= MAXTHEMES) {
			cp_err("%s: more than %d themes", t->origin, MAXTHEMES);
			rc = CP_EX_CONFIG;
			break;
		}
		t->id[t->n] = key;
		for (tier = 0; tier < 3; tier++)
			if (add_list(t, t->cues, json_object_get(v, tiers[tier]),
			    (int)t->n * 4 + tier))
				rc = CP_EX_CONFIG;
		if (add_list(t, t->cues, json_object_get(v, "exclude"),
		    (int)t->n * 4 + 3))
			rc = CP_EX_CONFIG;
		t->n++;
	}
	if (add_list(t, t->cues, json_object_get(t->doc, "negation"),
	    NEG_BEFORE) || add_list(t, t->cues, json_object_get(t->doc,
	    "negation_after"), NEG_AFTER))
		rc = CP_EX_CONFIG;
	if (!rc && finish_set(t, t->cues))
		rc = CP_EX_CONFIG;
	if (!rc)
		t->item = compile(t->origin,
		    "(?<![\\p{L}])items?\\s+(\\d{1,2}\\.\\d{2})");
	return rc;
}

int cp_themes_load(const char *path, cp_themes **out)
{
	cp_themes *t = xcalloc(1, sizeof *t);
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	int rc, tier;

	*out = NULL;
	if (path) {
		FILE *fp = fopen(path, "r");
		strbuf sb = CP_STRBUF_INIT;
		char chunk[8192];
		size_t n;
		if (!fp) {
			cp_err("%s: %s", path, strerror(errno));
			free(t);
			return CP_EX_NOINPUT;
		}
		while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			sb_add(&sb, chunk, n);
		fclose(fp);
		len = sb.len;
		buf = sb_detach(&sb);
		if (!buf)
			buf = xstrdup("");
		t->origin = xstrdup(path);
	} else if (!(buf = cp_data_load("themes.json", &len, &t->origin))) {
		cp_err("themes.json: missing");
		free(t);
		return CP_EX_CONFIG;
	}
	t->doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!json_is_object(t->doc)) {
		cp_err("%s:%d: %s", t->origin, jerr.line, t->doc ?
		    "expected a JSON object" : jerr.text);
		cp_themes_free(t);
		return CP_EX_CONFIG;
	}
	t->threshold = 0.5;
	cp_json_num(t->doc, "threshold", &t->threshold);
	t->w[0] = 0.75;
	t->w[1] = 0.45;
	t->w[2] = 0.2;
	for (tier = 0; tier < 3; tier++)
		cp_json_num(json_object_get(t->doc, "weights"), tiers[tier],
		    &t->w[tier]);
	{
		double w = 90;
		cp_json_num(t->doc, "negation_window", &w);
		t->negwin = w > 0 ? (size_t)w : 0;
	}
	if ((rc = build(t))) {
		cp_themes_free(t);
		return rc;
	}
	t->md = pcre2_match_data_create(4, NULL);
	*out = t;
	return 0;
}

void cp_themes_free(cp_themes *t)
{
	if (!t)
		return;
	cp_cueset_free(t->cues);
	pcre2_code_free(t->item);
	pcre2_match_data_free(t->md);
	json_decref(t->doc);
	free(t->origin);
	free(t);
}

/* ---- matching --------------------------------------------------------- */

typedef struct tstate {
	double keep;                 /* Π(1 − w) over asserting sentences */
	double negkeep;              /* the same over denying sentences */
	double best, negbest;
	long sent, negsent;          /* evidence sentence (-1: the title) */
	long cur, negcur;            /* the sentence being summed (-2: none) */
	double curw, negcurw;        /* its best weight so far */
	int hit;
	int strong, negstrong;       /* a strong cue seen (asserting, denying) */
} tstate;

static size_t sentence_of(const cp_spans *s, size_t pos)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->v[mid].end <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef struct hit {
	int tag;
	size_t s, e;
} hit;

typedef struct hits {
	hit *v;
	size_t n, cap;
} hits;

static void collect(int tag, size_t s, size_t e, void *arg)
{
	hits *h = arg;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	h->v[h->n].tag = tag;
	h->v[h->n].s = s;
	h->v[h->n].e = e;
	h->n++;
}

static int bypos(const void *a, const void *b)
{
	const hit *x = a, *y = b;
	return x->s < y->s ? -1 : x->s > y->s ? 1 : x->tag - y->tag;
}

/* A denial cue shortly before the hit in its sentence, or a verb-final
 * one after it in the same sentence. */
static int negated(const cp_themes *t, const hits *before,
    const hits *after, const cp_spans *s, size_t sent, size_t pos,
    size_t hend)
{
	size_t i, from = sent < s->n ? s->v[sent].start : 0;
	size_t to = sent < s->n ? s->v[sent].end : (size_t)-1;

	for (i = 0; i < before->n; i++) {
		size_t e = before->v[i].e;
		if (e <= hend && e > from && e + t->negwin >= pos)
			return 1;
	}
	for (i = 0; i < after->n; i++)
		if (after->v[i].s >= hend && after->v[i].s < to)
			return 1;
	return 0;
}

/* Fold the sentence being summed into the theme's confidence. */
static void fold(tstate *x)
{
	if (x->cur != -2)
		x->keep *= 1 - x->curw;
	if (x->negcur != -2)
		x->negkeep *= 1 - x->negcurw;
	x->cur = x->negcur = -2;
	x->curw = x->negcurw = 0;
}

static void count_hit(tstate *x, long sid, double w, int neg, int strong)
{
	x->hit = 1;
	if (strong) {
		if (neg)
			x->negstrong = 1;
		else
			x->strong = 1;
	}
	/* one weight per sentence and theme: the sentence's best */
	if (!neg) {
		if (x->cur != sid) {
			if (x->cur != -2)
				x->keep *= 1 - x->curw;
			x->cur = sid;
			x->curw = 0;
		}
		if (w > x->curw)
			x->curw = w;
		if (w > x->best) {
			x->best = w;
			x->sent = sid;
		}
	} else {
		if (x->negcur != sid) {
			if (x->negcur != -2)
				x->negkeep *= 1 - x->negcurw;
			x->negcur = sid;
			x->negcurw = 0;
		}
		if (w > x->negcurw)
			x->negcurw = w;
		if (w > x->negbest) {
			x->negbest = w;
			x->negsent = sid;
		}
	}
}

/* Score every hit of text (sentences s; s NULL: all of it is sentence
 * -1, the title) into st. */
static void scan(const cp_themes *t, const char *text, const cp_spans *s,
    tstate *st)
{
	size_t n = strlen(text), i, j;
	char *low = cp_text_lower(text, n);
	hits h = { NULL, 0, 0 }, nb = { NULL, 0, 0 }, na = { NULL, 0, 0 };
	hits ex = { NULL, 0, 0 };
	cp_spans one = { NULL, 0, 0 };

	if (!s) {
		cp_spans_add(&one, 0, n);
		s = &one;
	}
	cp_cueset_scan(t->cues, text, n, low, collect, &h);
	free(low);
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, bypos);
	for (i = 0; i < h.n; i++) {
		hits *to = h.v[i].tag == NEG_BEFORE ? &nb : h.v[i].tag ==
		    NEG_AFTER ? &na : h.v[i].tag % 4 == 3 ? &ex : NULL;
		if (to)
			collect(h.v[i].tag, h.v[i].s, h.v[i].e, to);
	}
	for (i = 0; i < h.n; i++) {
		size_t th = (size_t)h.v[i].tag / 4, sent;
		int tier = h.v[i].tag % 4, neg, inside = 0;
		long sid;

		if (tier == 3 || th >= t->n || h.v[i].tag >= NEG_BEFORE)
			continue;
		/* "talent acquisition", "cut its forecast": not the theme */
		for (j = 0; j < ex.n && !inside; j++)
			if (h.v[i].s >= ex.v[j].s && h.v[i].s < ex.v[j].e)
				inside = 1;
		if (inside)
			continue;
		sent = sentence_of(s, h.v[i].s);
		neg = negated(t, &nb, &na, s, sent, h.v[i].s, h.v[i].e);
		sid = s == &one ? -1 : (long)sent;
		count_hit(&st[th], sid, t->w[tier], neg, tier == 0);
	}
	for (i = 0; i < t->n; i++)
		fold(&st[i]);
	free(h.v);
	free(nb.v);
	free(na.v);
	free(ex.v);
	cp_spans_free(&one);
}

static int theme_index(const cp_themes *t, const char *id)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->id[i], id))
			return (int)i;
	return -1;
}

static char *sentence_text(const char *title, const char *text,
    const cp_spans *s, long sid)
{
	if (sid < 0 || (size_t)sid >= s->n)
		return xstrdup(title ? title : "");
	return xstrndup(text + s->v[sid].start, s->v[sid].end -
	    s->v[sid].start);
}

/* The sentence that names item (or -1). */
static long item_sentence(const char *text, const cp_spans *s,
    const char *item)
{
	const char *p = strstr(text, item);
	return p ? (long)sentence_of(s, (size_t)(p - text)) : -1;
}

static int allowed(const cp_themes *t, const char *source, const char *id)
{
	json_t *allow = json_object_get(json_object_get(json_object_get(t->doc,
	    "sources"), source ? source : ""), "allow");
	size_t i;
	json_t *a;

	if (!json_is_array(allow))
		return 1;
	json_array_foreach(allow, i, a)
		if (json_is_string(a) && !strcmp(json_string_value(a), id))
			return 1;
	return 0;
}

/* Medium and weak cues add confidence to a theme a strong cue found;
 * alone they never assert it. */
static double conf_of(const tstate *x)
{
	return x->strong ? 1 - x->keep : 0;
}

/* SEC items: forced themes (conf) and whether content themes count. */
static int sec_items(const cp_themes *t, const char *text, const cp_spans *s,
    const json_t *meta, tstate *st, double *forced, long *fsent)
{
	json_t *map = json_object_get(t->doc, "sec_items");
	json_t *items = json_object_get(meta, "items"), *found = NULL;
	size_t i, j;
	json_t *it;
	int content = 0, any = 0;

	if (!json_is_array(items) || !json_array_size(items)) {
		PCRE2_SIZE start = 0;
		size_t n = strlen(text);
		found = json_array();
		while (start < n && pcre2_match(t->item, (PCRE2_SPTR)text, n,
		    start, PCRE2_NO_UTF_CHECK, t->md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
			json_array_append_new(found, json_stringn(text + ov[2],
			    ov[3] - ov[2]));
			start = ov[1];
		}
		items = found;
	}
	json_array_foreach(items, i, it) {
		json_t *m, *a;
		/* "5.02", or {"code": "5.02", "title": …} */
		if (json_is_object(it))
			it = json_object_get(it, "code");
		if (!json_is_string(it))
			continue;
		m = json_object_get(map, json_string_value(it));
		json_t *bc;
		if (!json_is_object(m))
			continue;
		any = 1;
		json_array_foreach(json_object_get(m, "themes"), j, a) {
			int k = theme_index(t, json_string_value(a));
			if (k >= 0) {
				forced[k] = 0.95;
				fsent[k] = item_sentence(text, s,
				    json_string_value(it));
			}
		}
		bc = json_object_get(m, "by_content");
		if (json_is_array(bc) && !json_array_size(bc))
			content = 1;
		else if (json_is_array(bc)) {
			int best = -1;
			json_array_foreach(bc, j, a) {
				int k = theme_index(t, json_string_value(a));
				/* every cue counts for choosing, strong or not */
				if (k >= 0 && (best < 0 || st[k].keep <
				    st[best].keep))
					best = k;
			}
			if (best >= 0) {
				forced[best] = 0.9;
				fsent[best] = st[best].hit ? st[best].sent :
				    item_sentence(text, s, json_string_value(it));
			}
		}
	}
	json_decref(found);
	return any ? content : 1;
}

static int rx_any(const char *pat, const char *s)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re;
	pcre2_match_data *m;
	strbuf sb = CP_STRBUF_INIT;
	int r = 0;

	sb_addf(&sb, "(?<![\\p{L}])(?:%s)", pat);
	re = pcre2_compile((PCRE2_SPTR)sb.buf, PCRE2_ZERO_TERMINATED, PCRE2_UTF |
	    PCRE2_UCP | PCRE2_CASELESS, &err, &off, NULL);
	sb_free(&sb);
	if (!re)
		return 0;
	m = pcre2_match_data_create(1, NULL);
	r = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, m, NULL) >= 0;
	pcre2_match_data_free(m);
	pcre2_code_free(re);
	return r;
}

/* First key of order whose patterns match s. */
static const char *classify(const json_t *map, const json_t *order,
    const char *s)
{
	size_t i, j;
	json_t *k, *p;

	json_array_foreach(order, i, k) {
		json_t *pats = json_object_get(map, json_string_value(k));
		json_array_foreach(pats, j, p)
			if (json_is_string(p) && rx_any(json_string_value(p), s))
				return json_string_value(k);
	}
	return NULL;
}

static json_t *job_info(const cp_themes *t, const char *title,
    const json_t *meta)
{
	json_t *jobs = json_object_get(t->doc, "jobs");
	const char *dept = cp_json_str(meta, "department");
	const char *f, *sn;
	strbuf sb = CP_STRBUF_INIT;
	json_t *o;

	sb_addf(&sb, "%s %s", title ? title : "", dept ? dept : "");
	f = classify(json_object_get(jobs, "functions"),
	    json_object_get(jobs, "function_order"), sb.buf);
	sn = classify(json_object_get(jobs, "seniority"),
	    json_object_get(jobs, "seniority_order"), title ? title : "");
	sb_free(&sb);
	o = json_object();
	json_object_set_new(o, "function", json_string(f ? f : "other"));
	json_object_set_new(o, "seniority", json_string(sn ? sn : "mid"));
	json_object_set_new(o, "title", json_string(title ? title : ""));
	return o;
}

json_t *cp_themes_match(const cp_themes *t, const char *title,
    const char *text, const cp_spans *s, const char *source,
    const json_t *meta, json_t **job)
{
	tstate st[MAXTHEMES];
	double forced[MAXTHEMES] = { 0 };
	long fsent[MAXTHEMES];
	json_t *out = json_array();
	size_t i;
	int content = 1, is_sec = source && !strcmp(source, "sec");

	for (i = 0; i < t->n; i++) {
		memset(&st[i], 0, sizeof st[i]);
		st[i].keep = st[i].negkeep = 1;
		st[i].sent = st[i].negsent = -1;
		st[i].cur = st[i].negcur = -2;
		fsent[i] = -1;
	}
	/* a posting's duties ("automate triage") are not company events: for
	 * such sources only the title (the role itself) speaks */
	if (!cp_json_bool(json_object_get(json_object_get(t->doc, "sources"),
	    source ? source : ""), "title_only", false))
		scan(t, text, s, st);
	if (title && *title && !is_sec)
		scan(t, title, NULL, st);
	if (is_sec)
		content = sec_items(t, text, s, meta, st, forced, fsent);
	for (i = 0; i < t->n; i++) {
		double c = content ? conf_of(&st[i]) : 0;
		double nc = st[i].negstrong ? 1 - st[i].negkeep : 0;
		json_t *o;
		char *ev;
		long sid;
		int neg = 0;

		if (!allowed(t, source, t->id[i]))
			continue;
		if (forced[i] > c) {
			c = forced[i];
			sid = fsent[i];
		} else {
			sid = st[i].sent;
		}
		if (c < t->threshold) {
			if (!content || nc < t->threshold)
				continue;
			c = nc;
			sid = st[i].negsent;
			neg = 1;
		}
		ev = sentence_text(title, text, s, sid);
		o = json_object();
		json_object_set_new(o, "theme", json_string(t->id[i]));
		json_object_set_new(o, "confidence",
		    json_real(floor(c * 100 + 0.5) / 100));
		json_object_set_new(o, "evidence", json_string(ev));
		json_object_set_new(o, "negated", json_boolean(neg));
		json_array_append_new(out, o);
		free(ev);
	}
	if (job)
		*job = source && !strcmp(source, "jobs") ?
		    job_info(t, title, meta) : NULL;
	return out;
}
