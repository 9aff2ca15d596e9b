#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "entities.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "cueset.h"

static json_t *lex;
static pcre2_code *re_money_a, *re_money_b, *re_percent, *re_head,
    *re_date_iso, *re_date_md, *re_date_dm, *re_p_comma, *re_p_rolefirst,
    *re_p_verb, *re_p_as, *re_date_md2, *re_date_dm2;
static int ref_year;
static pcre2_match_data *md;
static int inited;
/* Role phrases and month names: where the person and date patterns are
 * worth trying (running them over every capital letter is the cost). */
static cp_cueset *words_set;   /* tag 0: a role, 1: a month */

const json_t *cp_entities_lexicon(void) { return lex; }

/* ---- building patterns from the lexicon ------------------------------- */

static void escape(strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\^$.|?*+()[]{}/", *s))
			sb_addc(sb, '\\');
		if (*s == ' ')
			sb_adds(sb, "\\s");
		else
			sb_addc(sb, *s);
	}
}

static int bylen(const void *a, const void *b)
{
	size_t la = strlen(*(const char *const *)a);
	size_t lb = strlen(*(const char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : strcmp(*(const char *const *)a,
	    *(const char *const *)b);
}

/* "(?:longest|…|shortest)" from the keys of an object or an array. */
static char *alt(const json_t *v)
{
	const char **w;
	size_t n = 0, i;
	strbuf sb = CP_STRBUF_INIT;

	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		w = xmalloc((json_object_size(v) + 1) * sizeof *w);
		json_object_foreach((json_t *)v, k, x)
			w[n++] = k;
	} else {
		json_t *x;
		w = xmalloc((json_array_size(v) + 1) * sizeof *w);
		json_array_foreach(v, i, x)
			if (json_is_string(x))
				w[n++] = json_string_value(x);
	}
	qsort(w, n, sizeof *w, bylen);
	sb_adds(&sb, "(?:");
	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, '|');
		escape(&sb, w[i]);
	}
	if (!n)
		sb_adds(&sb, "(?!)");
	sb_addc(&sb, ')');
	free(w);
	return sb_detach(&sb);
}

static pcre2_code *compile(const char *pat, int caseless)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK |
	    (caseless ? PCRE2_CASELESS : 0), &err, &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof msg);
		cp_err("entities: bad pattern at %zu: %s", (size_t)off,
		    (char *)msg);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

#define NUM "((?<![\\p{L}\\p{N}.,])\\d{1,3}(?:[,.\\x{a0}\\x{202f} ]\\d{3})+" \
	"(?:[.,]\\d+)?(?![\\p{N}])|(?<![\\p{L}\\p{N}.,])\\d+(?:[.,]\\d+)?(?![\\p{N}]))"
#define NAME "(\\p{Lu}[\\p{Ll}\\x{2019}'-]+(?:\\s(?:\\p{Lu}\\.\\s)?" \
	"(?:(?:van|von|de|del|der|da|di|la|le|dos|du)\\s)?" \
	"\\p{Lu}[\\p{Ll}\\x{2019}'-]+){1,2})"

/* Add the keys of an object, each a literal phrase, with tag. */
static void cue_words(cp_cueset *c, const json_t *obj, int tag)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		strbuf sb = CP_STRBUF_INIT;
		escape(&sb, k);
		sb_adds(&sb, "(?![\\p{L}])");
		cp_cueset_add(c, sb.buf, tag);
		sb_free(&sb);
	}
}

int cp_entities_init(void)
{
	size_t len;
	char *buf, *scale, *suffix, *sym, *codes, *curw, *links, *pct, *months,
	    *nouns, *roles, *verbs;
	json_error_t jerr;
	strbuf p = CP_STRBUF_INIT;
	int rc = 0;

	if (inited)
		return 0;
	inited = 1;
	if (!(buf = cp_data_load("lexicons/entities.json", &len, NULL))) {
		cp_err("lexicons/entities.json: missing");
		return CP_EX_CONFIG;
	}
	lex = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(lex)) {
		cp_err("lexicons/entities.json:%d: %s", jerr.line, jerr.text);
		return CP_EX_CONFIG;
	}
	scale = alt(json_object_get(lex, "scales"));
	suffix = alt(json_object_get(lex, "scale_suffixes"));
	sym = alt(json_object_get(lex, "currency_symbols"));
	codes = alt(json_object_get(lex, "currency_codes"));
	curw = alt(json_object_get(lex, "currency_words"));
	links = alt(json_object_get(lex, "currency_links"));
	pct = alt(json_object_get(lex, "percent_words"));
	months = alt(json_object_get(lex, "months"));
	nouns = alt(json_object_get(lex, "headcount_nouns"));
	roles = alt(json_object_get(lex, "roles"));
	verbs = alt(json_object_get(lex, "person_verbs"));

	/* $1.2 billion, USD 450 million, €75m */
	/* symbols and codes as written (a code is upper-case: matching it
	 * caseless would try at most letters), the scale any case */
	sb_addf(&p, "(?<![\\p{L}])(%s|%s)\\s?" NUM "(?i:(%s)(?![\\p{L}])|"
	    "\\s(%s)(?![\\p{L}]))?", sym, codes, suffix, scale);
	re_money_a = compile(p.buf, 0);
	sb_reset(&p);
	/* 1,5 млрд гривень, 850 milioni di euro, 12,5 Mio. € */
	sb_addf(&p, NUM "(?:\\s?(%s))?\\s?(?:%s\\s?)?(%s|%s|%s)(?![\\p{L}])",
	    scale, links, curw, codes, sym);
	re_money_b = compile(p.buf, 1);
	sb_reset(&p);
	sb_addf(&p, NUM "\\s?%s(?![\\p{L}])", pct);
	re_percent = compile(p.buf, 1);
	sb_reset(&p);
	sb_addf(&p, NUM "(?:\\s(%s))?\\s(?:[\\p{L}-]+\\s){0,2}?%s(?![\\p{L}])",
	    scale, nouns);
	re_head = compile(p.buf, 1);
	sb_reset(&p);
	re_date_iso = compile("(?<![\\d-])(\\d{4})-(\\d{2})-(\\d{2})(?![\\d])", 0);
	sb_addf(&p, "(?<![\\p{L}])(%s)\\.?\\s(\\d{1,2})(?:st|nd|rd|th)?,?\\s"
	    "(\\d{4})(?![\\d])", months);
	re_date_md = compile(p.buf, 1);
	sb_reset(&p);
	sb_addf(&p, "(?<![\\d])(\\d{1,2})(?:st|nd|rd|th|\\.|er|º)?\\s(?:de\\s)?"
	    "(%s)\\.?,?\\s(?:de\\s)?(\\d{4})(?![\\d])", months);
	re_date_dm = compile(p.buf, 1);
	sb_reset(&p);
	/* without a year ("on October 27"): the year comes from the caller */
	sb_addf(&p, "(?<![\\p{L}])(%s)\\.?\\s(\\d{1,2})(?:st|nd|rd|th)?"
	    "(?![\\d])(?!,?\\s\\d{4})", months);
	re_date_md2 = compile(p.buf, 1);
	sb_reset(&p);
	sb_addf(&p, "(?<![\\d])(\\d{1,2})(?:st|nd|rd|th|\\.|er|º)?\\s(?:de\\s)?"
	    "(%s)(?![\\p{L}])(?!\\.?,?\\s(?:de\\s)?\\d{4})", months);
	re_date_dm2 = compile(p.buf, 1);
	sb_reset(&p);
	/* Jane Roe, chief financial officer */
	sb_addf(&p, NAME ",\\s(?:(?i:the|its|our)\\s)?(?:(?i:company|group)"
	    "(?:'s|\\x{2019}s)\\s)?(?:(?i:new|interim|former|incoming|outgoing|"
	    "acting)\\s)?((?i:%s))(?![\\p{L}])", roles);
	re_p_comma = compile(p.buf, 0);
	sb_reset(&p);
	/* chief executive Elena Marsh, CEO Tom Li */
	sb_addf(&p, "(?<![\\p{L}])((?i:%s)),?\\s" NAME, roles);
	re_p_rolefirst = compile(p.buf, 0);
	sb_reset(&p);
	/* named Tom Li as CTO; nombra a Carmen Ruiz Olmedo consejera delegada */
	sb_addf(&p, "(?<![\\p{L}])(?i:%s|names)\\s(?:(?i:%s)\\s)?" NAME
	    ",?\\s(?:(?i:as|its|the|new|a|an|como|als|comme|come|jako|"
	    "nuevo|nueva|neuer|neue|nouveau|nouvelle|nuovo|nuova|interim|"
	    "як|как|новим|новой)\\s)*((?i:%s))(?![\\p{L}])", verbs, roles,
	    roles);
	re_p_verb = compile(p.buf, 0);
	sb_reset(&p);
	/* Tom Li will become CTO */
	sb_addf(&p, NAME "\\s(?i:as|will become|becomes|to become|has been "
	    "named|was named|is named|has been appointed|was appointed|als|"
	    "como|comme|come|jako)\\s(?:(?i:its|the|new|a|an|interim|"
	    "company's)\\s)*((?i:%s))(?![\\p{L}])", roles);
	re_p_as = compile(p.buf, 0);
	sb_free(&p);
	words_set = cp_cueset_new();
	cue_words(words_set, json_object_get(lex, "roles"), 0);
	cue_words(words_set, json_object_get(lex, "months"), 1);
	{
		char err[300];
		if (cp_cueset_compile(words_set, err, sizeof err)) {
			cp_err("entities: %s", err);
			rc = CP_EX_CONFIG;
		}
	}
	free(scale); free(suffix); free(sym); free(codes); free(curw);
	free(links); free(pct); free(months); free(nouns); free(roles);
	free(verbs);
	if (!re_money_a || !re_money_b || !re_percent || !re_head ||
	    !re_date_iso || !re_date_md || !re_date_dm || !re_p_comma ||
	    !re_p_rolefirst || !re_p_verb || !re_p_as ||
	    !re_date_md2 || !re_date_dm2)
		rc = CP_EX_CONFIG;
	md = pcre2_match_data_create(32, NULL);
	return rc;
}

void cp_entities_cleanup(void)
{
	pcre2_code **all[] = { &re_money_a, &re_money_b, &re_percent, &re_head,
	    &re_date_iso, &re_date_md, &re_date_dm, &re_p_comma,
	    &re_p_rolefirst, &re_p_verb, &re_p_as, &re_date_md2,
	    &re_date_dm2 };
	size_t i;

	for (i = 0; i < sizeof all / sizeof *all; i++) {
		pcre2_code_free(*all[i]);
		*all[i] = NULL;
	}
	pcre2_match_data_free(md);
	md = NULL;
	cp_cueset_free(words_set);
	words_set = NULL;
	json_decref(lex);
	lex = NULL;
	inited = 0;
}

/* ---- the entity list -------------------------------------------------- */

cp_entity *cp_entities_add(cp_entities *e, int kind, size_t start, size_t end)
{
	cp_entity *x;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = xrealloc(e->v, e->cap * sizeof *e->v);
	}
	x = &e->v[e->n++];
	memset(x, 0, sizeof *x);
	x->kind = kind;
	x->start = start;
	x->end = end;
	return x;
}

void cp_entities_free(cp_entities *e)
{
	size_t i;
	for (i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
	memset(e, 0, sizeof *e);
}

static int bystart(const void *a, const void *b)
{
	const cp_entity *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start ? 1 :
	    x->kind - y->kind;
}

void cp_entities_sort(cp_entities *e)
{
	if (e->n > 1)
		qsort(e->v, e->n, sizeof *e->v, bystart);
}

const char *cp_entkind_name(int kind)
{
	static const char *const names[] = { "org", "person", "money",
	    "percent", "date", "headcount" };
	return kind >= 0 && kind <= CP_ENT_HEADCOUNT ? names[kind] : "?";
}

/* An integer when the value is a whole number JSON readers keep exact,
 * else a real; null for what is not a number at all. */
static json_t *num_json(double v)
{
	if (!isfinite(v))
		return json_null();
	if (v == floor(v) && fabs(v) < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

json_t *cp_entity_json(const cp_entity *e, const char *text)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(cp_entkind_name(e->kind)));
	json_object_set_new(o, "text", json_stringn(text + e->start,
	    e->end - e->start));
	switch (e->kind) {
	case CP_ENT_ORG:
		json_object_set_new(o, "account_id", json_string(e->account_id));
		break;
	case CP_ENT_PERSON:
		json_object_set_new(o, "text", json_string(e->name));
		json_object_set_new(o, "role", e->role ? json_string(e->role) :
		    json_null());
		break;
	case CP_ENT_MONEY:
		json_object_set_new(o, "value", num_json(e->value));
		json_object_set_new(o, "currency", json_string(e->currency));
		break;
	case CP_ENT_PERCENT:
		json_object_set_new(o, "value", num_json(e->value));
		break;
	case CP_ENT_DATE:
		json_object_set_new(o, "value", json_string(e->date));
		break;
	case CP_ENT_HEADCOUNT:
		json_object_set_new(o, "value", num_json(e->value));
		break;
	}
	return o;
}

/* ---- numbers ---------------------------------------------------------- */

static int euro_style(const char *lang)
{
	return lang && strcmp(lang, "en") && strcmp(lang, "und");
}

double cp_parse_number(const char *s, size_t n, const char *lang,
    int scale_follows)
{
	char digits[64];
	size_t i, nd = 0, ncomma = 0, ndot = 0, lastsep = (size_t)-1, after = 0;
	char lastc = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == ',') {
			ncomma++;
			lastsep = i;
			lastc = ',';
		} else if (s[i] == '.') {
			ndot++;
			lastsep = i;
			lastc = '.';
		}
	}
	if (lastsep != (size_t)-1)
		for (i = lastsep + 1; i < n; i++)
			if (s[i] >= '0' && s[i] <= '9')
				after++;
	/* is the last separator a decimal point? */
	{
		int decimal = 0;
		if (lastc && ncomma && ndot)
			decimal = 1;
		else if (lastc && n > 1 && s[0] == '0' && lastsep == 1)
			decimal = 1;    /* "0.001", "0,5" */
		else if (lastc && (lastc == ',' ? ncomma : ndot) == 1)
			decimal = after != 3 || (lastc == '.' && scale_follows &&
			    !euro_style(lang));
		for (i = 0; i < n && nd < sizeof digits - 2; i++) {
			if (s[i] >= '0' && s[i] <= '9')
				digits[nd++] = s[i];
			else if (decimal && i == lastsep)
				digits[nd++] = '.';
		}
	}
	digits[nd] = '\0';
	return strtod(digits, NULL);
}

static double lookup_num(const char *key, const char *obj, size_t n)
{
	json_t *o = json_object_get(lex, key);
	char *k = xstrndup(obj, n), *low = cp_text_lower(k, strlen(k));
	json_t *v = json_object_get(o, low);
	double r = 0;

	/* "mil millones" with a line break or double space inside */
	if (!v) {
		char *p;
		for (p = low; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		v = json_object_get(o, low);
	}
	if (json_is_number(v))
		r = json_number_value(v);
	free(k);
	free(low);
	return r;
}

static const char *lookup_str(const char *key, const char *s, size_t n,
    int lower)
{
	json_t *o = json_object_get(lex, key);
	char *k = xstrndup(s, n), *low = lower ? cp_text_lower(k, n) : k;
	json_t *v = json_object_get(o, low);

	if (low != k)
		free(low);
	free(k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- finders ---------------------------------------------------------- */

#define OV(i) (ov[2 * (i)])
#define OE(i) (ov[2 * (i) + 1])
#define SET(i) (OV(i) != PCRE2_UNSET)

static int overlaps(const cp_entities *e, size_t from, size_t s, size_t t)
{
	size_t i;
	for (i = from; i < e->n; i++)
		if (e->v[i].start < t && s < e->v[i].end)
			return 1;
	return 0;
}

typedef void (*hit_fn)(const char *text, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first);

static void scan(pcre2_code *re, const char *text, size_t n,
    const char *lang, cp_entities *out, size_t first, hit_fn fn)
{
	PCRE2_SIZE start = 0;

	if (!re)
		return;
	while (start < n) {
		int rc = pcre2_match(re, (PCRE2_SPTR)text, n, start,
		    PCRE2_NO_UTF_CHECK, md, NULL);
		PCRE2_SIZE *ov;
		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		fn(text, ov, lang, out, first);
		if (ov[1] <= start) {
			/* empty match: step one whole character */
			start++;
			while (start < n && ((unsigned char)text[start] & 0xC0) ==
			    0x80)
				start++;
		} else {
			start = ov[1];
		}
	}
}

typedef struct windows {
	cp_span *v;
	size_t n, cap;
	size_t before, after, textlen;
	const char *text;
} windows;

static void add_to(windows *w, size_t s, size_t e)
{
	size_t a = s > w->before ? s - w->before : 0;
	size_t b = e + w->after < w->textlen ? e + w->after : w->textlen;

	while (a > 0 && ((unsigned char)w->text[a] & 0xC0) == 0x80)
		a--;
	while (b < w->textlen && ((unsigned char)w->text[b] & 0xC0) == 0x80)
		b++;
	/* hits come in text order: merge with the last window */
	if (w->n && a <= w->v[w->n - 1].end) {
		if (b > w->v[w->n - 1].end)
			w->v[w->n - 1].end = b;
		return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->v = xrealloc(w->v, w->cap * sizeof *w->v);
	}
	w->v[w->n].start = a;
	w->v[w->n].end = b;
	w->n++;
}

/* Role hits make windows wide enough for a name before or after; month
 * hits, for a day and a year around. */
static void add_window(int tag, size_t s, size_t e, void *arg)
{
	windows *w = arg;
	add_to(&w[tag ? 1 : 0], s, e);
}

static void init_windows(windows *w, const char *text, size_t n,
    size_t before, size_t after)
{
	memset(w, 0, sizeof *w);
	w->before = before;
	w->after = after;
	w->textlen = n;
	w->text = text;
}

/* scan() restricted to the windows (the pattern still sees the text
 * before a window for its look-behind). */
static void scan_in(pcre2_code *re, const char *text, const windows *w,
    const char *lang, cp_entities *out, size_t first, hit_fn fn)
{
	size_t i;

	for (i = 0; i < w->n && re; i++) {
		PCRE2_SIZE start = w->v[i].start;
		while (start < w->v[i].end && pcre2_match(re, (PCRE2_SPTR)text,
		    w->v[i].end, start, PCRE2_NO_UTF_CHECK, md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			fn(text, ov, lang, out, first);
			start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			while (start < w->v[i].end &&
			    ((unsigned char)text[start] & 0xC0) == 0x80)
				start++;
		}
	}
}

static void money_a(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	const char *cur;
	double v, mult = 1;
	cp_entity *e;

	if (overlaps(out, first, OV(0), OE(0)))
		return;
	if (SET(3))
		mult = lookup_num("scale_suffixes", t + OV(3), OE(3) - OV(3));
	else if (SET(4))
		mult = lookup_num("scales", t + OV(4), OE(4) - OV(4));
	v = cp_parse_number(t + OV(2), OE(2) - OV(2), lang, SET(3) || SET(4));
	if (!(cur = lookup_str("currency_symbols", t + OV(1), OE(1) - OV(1), 0)))
		cur = NULL;
	e = cp_entities_add(out, CP_ENT_MONEY, OV(0), OE(0));
	e->value = v * (mult ? mult : 1);
	if (cur)
		snprintf(e->currency, sizeof e->currency, "%s", cur);
	else
		snprintf(e->currency, sizeof e->currency, "%.*s",
		    (int)(OE(1) - OV(1)), t + OV(1));
}

static void money_b(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	const char *cur;
	double v, mult = 1;
	cp_entity *e;
	size_t cl = OE(3) - OV(3);

	if (overlaps(out, first, OV(0), OE(0)))
		return;
	if (SET(2))
		mult = lookup_num("scales", t + OV(2), OE(2) - OV(2));
	v = cp_parse_number(t + OV(1), OE(1) - OV(1), lang, SET(2));
	if (!(cur = lookup_str("currency_words", t + OV(3), cl, 1)) &&
	    !(cur = lookup_str("currency_symbols", t + OV(3), cl, 0)))
		cur = NULL;
	e = cp_entities_add(out, CP_ENT_MONEY, OV(0), OE(0));
	e->value = v * (mult ? mult : 1);
	if (cur)
		snprintf(e->currency, sizeof e->currency, "%s", cur);
	else
		snprintf(e->currency, sizeof e->currency, "%.*s", (int)cl,
		    t + OV(3));
	{
		char *p;
		for (p = e->currency; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
	}
}

static void percent(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	cp_entity *e;

	if (overlaps(out, first, OV(0), OE(0)))
		return;
	e = cp_entities_add(out, CP_ENT_PERCENT, OV(0), OE(0));
	e->value = cp_parse_number(t + OV(1), OE(1) - OV(1), lang, 0);
}

static void headcount(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	cp_entity *e;
	double v, mult = 1;

	if (overlaps(out, first, OV(0), OE(0)))
		return;
	if (SET(2))
		mult = lookup_num("scales", t + OV(2), OE(2) - OV(2));
	v = cp_parse_number(t + OV(1), OE(1) - OV(1), lang, SET(2)) *
	    (mult ? mult : 1);
	/* "in 2019 jobs…" is a year, not a headcount */
	if (v < 1 || (!SET(2) && v >= 1900 && v <= 2100 && OE(1) - OV(1) == 4))
		return;
	e = cp_entities_add(out, CP_ENT_HEADCOUNT, OV(1), OE(0));
	e->value = floor(v + 0.5);
}

static void set_date(cp_entities *out, size_t s, size_t t, int y, int m,
    int d, size_t first)
{
	cp_entity *e;

	if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2200 ||
	    overlaps(out, first, s, t))
		return;
	e = cp_entities_add(out, CP_ENT_DATE, s, t);
	snprintf(e->date, sizeof e->date, "%04d-%02d-%02d", y, m, d);
}

static void date_iso(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang;
	set_date(out, OV(0), OE(0), atoi(t + OV(1)), atoi(t + OV(2)),
	    atoi(t + OV(3)), first);
}

static void date_md(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang;
	set_date(out, OV(0), OE(0), atoi(t + OV(3)), (int)lookup_num("months",
	    t + OV(1), OE(1) - OV(1)), atoi(t + OV(2)), first);
}

static void date_dm(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang;
	set_date(out, OV(0), OE(0), atoi(t + OV(3)), (int)lookup_num("months",
	    t + OV(2), OE(2) - OV(2)), atoi(t + OV(1)), first);
}

static void date_md2(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang;
	set_date(out, OV(0), OE(0), ref_year, (int)lookup_num("months",
	    t + OV(1), OE(1) - OV(1)), atoi(t + OV(2)), first);
}

static void date_dm2(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang;
	set_date(out, OV(0), OE(0), ref_year, (int)lookup_num("months",
	    t + OV(2), OE(2) - OV(2)), atoi(t + OV(1)), first);
}

void cp_entities_set_year(int year)
{
	ref_year = year;
}

/* Words that start a capitalised run without being part of a name. */
static const char *const not_name[] = {
	"The", "A", "An", "Under", "Chief", "Executive", "Officer", "President",
	"Group", "Inc", "Company", "In", "On", "At", "By", "For", "And", "Of",
	"Der", "Die", "Das", "El", "La", "Los", "Il", "Le", "Les", "Mr", "Mrs",
	"Ms", "Dr", "Interim", "New", "Former", "Finance", "Vice", "Senior",
	"Board", "Its", "Our", "Their", "This", "That", "Analysts", "Shares",
	NULL
};

static int stop_word(const char *s, size_t n)
{
	int i;
	for (i = 0; not_name[i]; i++)
		if (strlen(not_name[i]) == n && !memcmp(not_name[i], s, n))
			return 1;
	return 0;
}

static void person(cp_entities *out, const char *t, size_t ns, size_t ne,
    size_t rs, size_t re_, size_t s, size_t e)
{
	const char *role;
	size_t i, words = 1;
	cp_entity *x;

	/* trim leading words that are not names ("Chief Executive Laura…") */
	for (;;) {
		size_t w = ns;
		while (w < ne && t[w] != ' ')
			w++;
		if (w < ne && stop_word(t + ns, w - ns))
			ns = w + 1;
		else
			break;
	}
	for (i = ns; i < ne; i++)
		if (t[i] == ' ')
			words++;
	if (words < 2 || stop_word(t + ns, ne - ns))
		return;
	role = lookup_str("roles", t + rs, re_ - rs, 1);
	for (i = 0; i < out->n; i++)
		if (out->v[i].kind == CP_ENT_PERSON && out->v[i].name &&
		    strlen(out->v[i].name) == ne - ns &&
		    !memcmp(out->v[i].name, t + ns, ne - ns))
			return;
	x = cp_entities_add(out, CP_ENT_PERSON, s, e);
	x->name = xstrndup(t + ns, ne - ns);
	x->role = role;
}

static void p_comma(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang; (void)first;
	person(out, t, OV(1), OE(1), OV(2), OE(2), OV(0), OE(0));
}

static void p_rolefirst(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang; (void)first;
	person(out, t, OV(2), OE(2), OV(1), OE(1), OV(0), OE(0));
}

static void p_verb(const char *t, PCRE2_SIZE *ov, const char *lang,
    cp_entities *out, size_t first)
{
	(void)lang; (void)first;
	person(out, t, OV(1), OE(1), OV(2), OE(2), OV(0), OE(0));
}

void cp_entities_find(const char *text, size_t n, const char *lang,
    cp_entities *out)
{
	size_t first = out->n;
	char *low;
	windows mw, rw;

	if (cp_entities_init())
		return;
	low = cp_text_lower(text, n);
	{
		windows both[2];
		init_windows(&both[0], text, n, 160, 80);
		init_windows(&both[1], text, n, 8, 14);
		if (words_set)
			cp_cueset_scan(words_set, text, n, low, add_window, both);
		rw = both[0];
		mw = both[1];
	}
	free(low);
	scan(re_money_a, text, n, lang, out, first, money_a);
	scan(re_money_b, text, n, lang, out, first, money_b);
	scan(re_percent, text, n, lang, out, first, percent);
	scan(re_date_iso, text, n, lang, out, first, date_iso);
	scan_in(re_date_md, text, &mw, lang, out, first, date_md);
	scan_in(re_date_dm, text, &mw, lang, out, first, date_dm);
	if (ref_year) {
		scan_in(re_date_md2, text, &mw, lang, out, first, date_md2);
		scan_in(re_date_dm2, text, &mw, lang, out, first, date_dm2);
	}
	scan(re_head, text, n, lang, out, first, headcount);
	scan_in(re_p_verb, text, &rw, lang, out, first, p_verb);
	scan_in(re_p_comma, text, &rw, lang, out, first, p_comma);
	scan_in(re_p_rolefirst, text, &rw, lang, out, first, p_rolefirst);
	scan_in(re_p_as, text, &rw, lang, out, first, p_comma);
	free(mw.v);
	free(rw.v);
}

/* A scale word at t[i..] ("million", "Mio.", "млн", "mil millones"):
 * its multiplier and length, or 0. */
static double scale_at(const char *t, size_t n, size_t i, size_t *len)
{
	size_t e = i, words = 0, best = 0;
	double mult = 0;

	while (e < n && words < 2) {
		size_t w = e;
		char *low;
		json_t *v;
		while (w < n && !(t[w] == ' ' || t[w] == ',' || t[w] == ';' ||
		    t[w] == ')' || t[w] == '\n' || t[w] == '"'))
			w++;
		if (w == e || w - i > 24)
			break;
		low = cp_text_lower(t + i, w - i);
		v = json_object_get(json_object_get(lex, "scales"), low);
		if (!v && low[w - i - 1] == '.') {
			low[w - i - 1] = '\0';
			v = json_object_get(json_object_get(lex, "scales"), low);
		}
		free(low);
		if (json_is_number(v)) {
			mult = json_number_value(v);
			best = w - i;
		}
		words++;
		if (w >= n || t[w] != ' ')
			break;
		e = w + 1;
	}
	*len = best;
	return mult;
}

size_t cp_quantities(const char *t, size_t n, const char *lang, double *out,
    size_t max)
{
	size_t i = 0, k = 0;

	if (cp_entities_init())
		return 0;
	while (i < n && k < max) {
		size_t s, e, len, j;
		double v, mult;
		int dup = 0;
		if (!(t[i] >= '0' && t[i] <= '9') || (i > 0 &&
		    ((t[i - 1] >= '0' && t[i - 1] <= '9') || t[i - 1] == '.' ||
		    t[i - 1] == ',' || ((t[i - 1] | 0x20) >= 'a' &&
		    (t[i - 1] | 0x20) <= 'z')))) {
			i++;
			continue;
		}
		/* digits, thousands groups, one decimal part */
		s = i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		for (;;) {
			size_t g = i;
			if (g < n && (t[g] == ',' || t[g] == '.' || t[g] == ' '))
				g++;
			else if (g + 1 < n && !memcmp(t + g, "\xC2\xA0", 2))
				g += 2;
			else if (g + 2 < n && !memcmp(t + g, "\xE2\x80\xAF", 3))
				g += 3;
			else
				break;
			for (j = g; j < n && t[j] >= '0' && t[j] <= '9'; j++)
				;
			if (j == g)
				break;
			if (j - g == 3 || ((t[i] == '.' || t[i] == ',') &&
			    (j >= n || !(t[j] == ',' || t[j] == '.')))) {
				i = j;
				if (j - g != 3)
					break;
			} else {
				break;
			}
		}
		e = i;
		len = 0;
		mult = 1;
		if (i + 1 < n && t[i] == ' ') {
			double m = scale_at(t, n, i + 1, &len);
			if (m > 0) {
				mult = m;
				i += 1 + len;
			}
		}
		v = cp_parse_number(t + s, e - s, lang, len > 0) * mult;
		if (v < 1000 || (!len && e - s == 4 && v >= 1900 && v <= 2100))
			continue;
		for (j = 0; j < k; j++)
			if (out[j] == v)
				dup = 1;
		if (!dup)
			out[k++] = v;
	}
	return k;
}
