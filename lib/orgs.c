#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "orgs.h"
#include "text.h"
#include "utf8.h"

typedef struct variant {
	char *low;               /* lower-cased form */
	size_t len;
	const cp_account *acc;
	int weak;                /* a common word: needs a company cue */
	int upper;               /* written with a capital first letter */
	uint64_t h;              /* hash of its first word */
	size_t next;             /* next variant in the bucket, or 0 */
} variant;

struct cp_orgs {
	variant *v;              /* v[0] unused: 0 ends a bucket chain */
	size_t n, cap;
	size_t *bucket;
	size_t nbucket;
	const cp_accounts *acc;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The length of the word (letters and digits) at s[0..n). */
static size_t word_len(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		if (!k || !cp_is_alnum(cp))
			break;
		i += k;
	}
	return i;
}

static int in_lex(const char *key, const char *word, size_t n)
{
	const json_t *a = json_object_get(cp_entities_lexicon(), key);
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x)
		if (json_is_string(x) && strlen(json_string_value(x)) == n &&
		    !memcmp(json_string_value(x), word, n))
			return 1;
	return 0;
}

static void add_variant(cp_orgs *o, const cp_account *a, const char *s,
    int is_name)
{
	variant *v;
	char *nfc;
	size_t wl;
	int32_t cp;

	if (!s || !*s)
		return;
	nfc = cp_text_clean(s, strlen(s), NULL);
	if (!*nfc) {
		free(nfc);
		return;
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = xrealloc(o->v, o->cap * sizeof *o->v);
	}
	v = &o->v[o->n];
	memset(v, 0, sizeof *v);
	v->acc = a;
	v->len = strlen(nfc);
	v->low = cp_text_lower(nfc, v->len);
	cp_utf8_decode(nfc, v->len, &cp);
	v->upper = is_name && cp_is_upper(cp);
	wl = word_len(v->low, v->len);
	if (!wl) {
		free(v->low);
		free(nfc);
		return;
	}
	v->h = hash(v->low, wl);
	if (is_name && wl == v->len) {
		json_t *cue = json_object_get(a->meta, "requires_company_cue");
		v->weak = json_is_true(cue) || in_lex("common_words", v->low,
		    v->len);
	}
	free(nfc);
	o->n++;
}

cp_orgs *cp_orgs_new(const cp_accounts *a)
{
	cp_orgs *o = xcalloc(1, sizeof *o);
	size_t i, j;

	cp_entities_init();
	o->acc = a;
	o->cap = 64;
	o->v = xcalloc(o->cap, sizeof *o->v);
	o->n = 1;
	for (i = 0; i < a->n; i++) {
		const cp_account *x = &a->v[i];
		add_variant(o, x, x->name, 1);
		for (j = 0; j < x->naliases; j++)
			add_variant(o, x, x->aliases[j], 1);
		add_variant(o, x, x->domain, 0);
	}
	for (o->nbucket = 64; o->nbucket < o->n * 2; o->nbucket *= 2)
		;
	o->bucket = xcalloc(o->nbucket, sizeof *o->bucket);
	for (i = 1; i < o->n; i++) {
		size_t b = o->v[i].h & (o->nbucket - 1);
		o->v[i].next = o->bucket[b];
		o->bucket[b] = i;
	}
	return o;
}

void cp_orgs_free(cp_orgs *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 1; i < o->n; i++)
		free(o->v[i].low);
	free(o->v);
	free(o->bucket);
	free(o);
}

typedef struct hit {
	const variant *v;
	size_t start, end;
} hit;

/* Is a a proper word-prefix of b ("northwind" of "northwind logistics")? */
static int word_prefix(const variant *a, const variant *b)
{
	return b->len > a->len && !memcmp(a->low, b->low, a->len) &&
	    (b->low[a->len] == ' ' || b->low[a->len] == '-');
}

static size_t skip_spaces(const char *t, size_t n, size_t i)
{
	while (i < n && t[i] == ' ')
		i++;
	return i;
}

/* What follows a one-word name that makes it a company. */
static int cue_after(const char *low, size_t n, size_t end)
{
	size_t i = end, wl;

	if (i + 1 < n && low[i] == '\'' && low[i + 1] == 's')
		i += 2;
	else if (i + 3 < n && !memcmp(low + i, "\xE2\x80\x99s", 4))
		i += 4;
	if (i != end) {
		i = skip_spaces(low, n, i);
		wl = word_len(low + i, n - i);
		return wl && in_lex("possessive_cues", low + i, wl);
	}
	if (i < n && low[i] == ',')
		i++;
	i = skip_spaces(low, n, i);
	wl = word_len(low + i, n - i);
	if (!wl)
		return 0;
	/* "inc." with its full stop, then without */
	if (i + wl < n && low[i + wl] == '.' &&
	    in_lex("company_cues", low + i, wl + 1))
		return 1;
	return in_lex("company_cues", low + i, wl) ||
	    in_lex("verb_cues", low + i, wl);
}

/* A capitalised word just before: part of a longer proper name. */
static int compound_before(const char *t, size_t start)
{
	size_t i = start, ws;
	int32_t cp;

	if (i < 2 || t[i - 1] != ' ')
		return 0;
	i--;
	ws = i;
	while (ws > 0) {
		size_t st;
		int32_t c = cp_prev_cp(t, ws, &st);
		if (!cp_is_alnum(c))
			break;
		ws = st;
	}
	if (ws == i)
		return 0;
	cp_utf8_decode(t + ws, i - ws, &cp);
	if (!cp_is_upper(cp))
		return 0;
	/* a capital after a sentence end is just a sentence start */
	if (ws == 0 || t[ws - 1] == '\n')
		return 0;
	if (ws >= 2 && t[ws - 1] == ' ' && strchr(".!?:\"", t[ws - 2]))
		return 0;
	return 1;
}

static const cp_account *ticker_cue(const cp_orgs *o, const char *tenant,
    const char *t, const char *low, size_t n, size_t *s, size_t *e)
{
	static const char *const ex[] = { "nasdaq:", "nyse:", "nyse american:",
	    "lse:", "xetra:", "tsx:", "otc:", "nasdaq :", "nyse :", NULL };
	size_t i, j;

	for (i = 0; ex[i]; i++) {
		const char *p = low, *q;
		size_t el = strlen(ex[i]);
		while ((q = strstr(p, ex[i])) != NULL) {
			size_t at = (size_t)(q - low) + el, tl;
			at = skip_spaces(t, n, at);
			tl = 0;
			while (at + tl < n && ((t[at + tl] >= 'A' && t[at + tl] <=
			    'Z') || t[at + tl] == '.'))
				tl++;
			for (j = 0; tl && j < o->acc->n; j++) {
				const cp_account *a = &o->acc->v[j];
				if (a->ticker && strlen(a->ticker) == tl &&
				    !memcmp(a->ticker, t + at, tl) &&
				    !strcmp(a->tenant, tenant)) {
					*s = (size_t)(q - low);
					*e = at + tl;
					return a;
				}
			}
			p = q + el;
		}
	}
	return NULL;
}

static void add_org(cp_entities *out, size_t first, const cp_account *a,
    size_t s, size_t e)
{
	size_t i;
	cp_entity *x;

	for (i = first; i < out->n; i++)
		if (out->v[i].kind == CP_ENT_ORG && out->v[i].account_id == a->id)
			return;
	x = cp_entities_add(out, CP_ENT_ORG, s, e);
	x->account_id = a->id;
}

void cp_orgs_find(const cp_orgs *o, const char *tenant, const char *t,
    size_t n, cp_entities *out)
{
	char *low;
	hit *hits = NULL;
	size_t nh = 0, cap = 0, i = 0, j, first = out->n, ts, te;
	const cp_account *tick;

	if (!o || o->n <= 1 || !tenant)
		return;
	low = cp_text_lower(t, n);
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(t + i, n - i, &cp), wl, b;
		const variant *best = NULL;

		if (!k || !cp_is_alnum(cp)) {
			i += k ? k : 1;
			continue;
		}
		wl = word_len(low + i, n - i);
		b = o->bucket[hash(low + i, wl) & (o->nbucket - 1)];
		for (; b; b = o->v[b].next) {
			const variant *v = &o->v[b];
			if (i + v->len > n || memcmp(low + i, v->low, v->len) ||
			    strcmp(v->acc->tenant, tenant) ||
			    !cp_word_bounded(low, n, i, i + v->len))
				continue;
			if (v->upper && !cp_is_upper(cp))
				continue;
			if (!best || v->len > best->len)
				best = v;
		}
		if (best) {
			if (nh == cap) {
				cap = cap ? cap * 2 : 16;
				hits = xrealloc(hits, cap * sizeof *hits);
			}
			hits[nh].v = best;
			hits[nh].start = i;
			hits[nh].end = i + best->len;
			nh++;
			i += best->len;
		} else {
			i += wl ? wl : k;
		}
	}
	if ((tick = ticker_cue(o, tenant, t, low, n, &ts, &te)))
		add_org(out, first, tick, ts, te);
	for (i = 0; i < nh; i++) {
		const variant *v = hits[i].v;
		int shadowed = 0;
		for (j = 0; j < nh && !shadowed; j++)
			if (hits[j].v->acc != v->acc && word_prefix(v, hits[j].v))
				shadowed = 1;
		if (shadowed)
			continue;
		if (v->weak && !(tick == v->acc) &&
		    (compound_before(t, hits[i].start) ||
		    !cue_after(low, n, hits[i].end)))
			continue;
		add_org(out, first, v->acc, hits[i].start, hits[i].end);
	}
	free(hits);
	free(low);
}
