#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cueset.h"
#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"

#define KEYLEN 3

typedef struct cue {
	char *pat;
	int tag;
	pcre2_code *re;
	unsigned key;              /* first KEYLEN prefix bytes, or 0 */
	size_t next;               /* bucket chain (index + 1), 0 ends */
} cue;

struct cp_cueset {
	cue *v;
	size_t n, cap;
	size_t *bucket;            /* index + 1 of the first cue, 0: none */
	size_t nbucket;
	pcre2_code *generic;       /* the cues without a prefix */
	pcre2_match_data *md;
};

cp_cueset *cp_cueset_new(void)
{
	return xcalloc(1, sizeof(cp_cueset));
}

void cp_cueset_free(cp_cueset *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].pat);
		pcre2_code_free(c->v[i].re);
	}
	free(c->v);
	free(c->bucket);
	pcre2_code_free(c->generic);
	pcre2_match_data_free(c->md);
	free(c);
}

static void push(cp_cueset *c, const char *pat, size_t len, int tag)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	memset(&c->v[c->n], 0, sizeof c->v[c->n]);
	c->v[c->n].pat = xstrndup(pat, len);
	c->v[c->n].tag = tag;
	c->n++;
}

/* Is s[0..n) plain text (letters, spaces, hyphens, apostrophes, escaped
 * punctuation)? */
static int plain(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= n || ((unsigned char)s[i + 1] < 0x80 &&
			    ((s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
			    (s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
			    (s[i + 1] >= '0' && s[i + 1] <= '9'))))
				return 0;
			i++;
		} else if (strchr("()[]{}|.^$?*+", s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Every alternative of a group's content is plain. */
static int plain_group(const char *s, size_t n)
{
	size_t i, a = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] == '\\') {
			i++;
			continue;
		}
		if (i == n || s[i] == '|') {
			if (i == a || !plain(s + a, i - a))
				return 0;
			a = i + 1;
		}
	}
	return 1;
}

/*
 * A pattern that starts with a group of plain alternatives,
 * "(?:appoint|name|elect)rest", is added once per alternative so that each
 * gets its own literal prefix.
 */
void cp_cueset_add(cp_cueset *c, const char *pat, int tag)
{
	size_t n = strlen(pat), i, depth = 0, close = 0;

	if (n > 3 && !strncmp(pat, "(?:", 3)) {
		for (i = 3; i < n; i++) {
			if (pat[i] == '\\') {
				i++;
				continue;
			}
			if (pat[i] == '(')
				depth++;
			if (pat[i] == ')') {
				if (!depth) {
					close = i;
					break;
				}
				depth--;
			}
		}
		/* the group must not be quantified ("(?:a|b)?" is optional) */
		if (close && close + 1 <= n && !strchr("?*{+", pat[close + 1] ?
		    pat[close + 1] : 'x') && plain_group(pat + 3, close - 3)) {
			const char *a = pat + 3, *end = pat + close;
			while (a <= end) {
				const char *b = a;
				strbuf sb = CP_STRBUF_INIT;
				while (b < end && *b != '|') {
					if (*b == '\\')
						b++;
					b++;
				}
				sb_add(&sb, a, (size_t)(b - a));
				sb_adds(&sb, pat + close + 1);
				push(c, sb.buf, sb.len, tag);
				sb_free(&sb);
				a = b + 1;
			}
			return;
		}
	}
	push(c, pat, n, tag);
}

/* The literal bytes a pattern must start with, lower-cased, into out;
 * returns their number (0 when the pattern can start several ways). */
static size_t prefix(const char *p, char *out, size_t max)
{
	size_t n = 0, i, len = strlen(p), depth = 0;
	char *low;

	/* a top-level alternative anywhere: no single prefix */
	for (i = 0; i < len; i++) {
		if (p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '(' || p[i] == '[')
			depth++;
		else if ((p[i] == ')' || p[i] == ']') && depth)
			depth--;
		else if (p[i] == '|' && !depth)
			return 0;
	}
	for (i = 0; i < len && n + 4 < max; i++) {
		char ch = p[i];
		if (ch == '\\') {
			char e = p[i + 1];
			if (!e || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
			    (e >= '0' && e <= '9'))
				break;
			out[n++] = e;
			i++;
			continue;
		}
		if (strchr("?*{", ch)) {
			/* the character before was optional */
			if (n) {
				n--;
				while (n && ((unsigned char)out[n] & 0xC0) == 0x80)
					n--;
			}
			break;
		}
		if (strchr("()[]|.^$+", ch))
			break;
		out[n++] = ch;
	}
	out[n] = '\0';
	low = cp_text_lower(out, n);
	memcpy(out, low, n);
	free(low);
	return n;
}

static unsigned key_of(const char *s)
{
	return ((unsigned)(unsigned char)s[0] << 16) |
	    ((unsigned)(unsigned char)s[1] << 8) | (unsigned)(unsigned char)s[2];
}

static pcre2_code *compile(const char *pat, char *err, size_t errlen)
{
	int e;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NO_UTF_CHECK, &e,
	    &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(e, msg, sizeof msg);
		snprintf(err, errlen, "bad pattern \"%.80s\": %s", pat,
		    (char *)msg);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

int cp_cueset_compile(cp_cueset *c, char *err, size_t errlen)
{
	strbuf gen = CP_STRBUF_INIT;
	size_t i;
	char pre[64];

	for (c->nbucket = 64; c->nbucket < c->n * 2; c->nbucket *= 2)
		;
	c->bucket = xcalloc(c->nbucket, sizeof *c->bucket);
	for (i = 0; i < c->n; i++) {
		cue *q = &c->v[i];
		int32_t cp;
		size_t pl = prefix(q->pat, pre, sizeof pre);

		if (pl >= KEYLEN && cp_utf8_decode(pre, pl, &cp) &&
		    cp_is_alnum(cp)) {
			size_t b;
			if (!(q->re = compile(q->pat, err, errlen))) {
				sb_free(&gen);
				return -1;
			}
			q->key = key_of(pre);
			b = q->key & (c->nbucket - 1);
			q->next = c->bucket[b];
			c->bucket[b] = i + 1;
			continue;
		}
		/* checked alone first, for a message that names it */
		{
			pcre2_code *re = compile(q->pat, err, errlen);
			if (!re) {
				sb_free(&gen);
				return -1;
			}
			pcre2_code_free(re);
		}
		if (gen.len)
			sb_addc(&gen, '|');
		sb_addf(&gen, "(?<![\\p{L}\\p{N}])(?:%s)(*:%zu)", q->pat, i);
	}
	if (gen.len && !(c->generic = compile(gen.buf, err, errlen))) {
		sb_free(&gen);
		return -1;
	}
	sb_free(&gen);
	c->md = pcre2_match_data_create(4, NULL);
	return 0;
}

void cp_cueset_scan(const cp_cueset *c, const char *t, size_t n,
    const char *low, cp_cue_fn fn, void *arg)
{
	size_t i = 0;
	int prev_alnum = 0;

	while (i < n) {
		int32_t cp;
		size_t k;
		int an;
		unsigned char ch = (unsigned char)t[i];

		if (ch < 0x80) {
			k = 1;
			an = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' &&
			    (ch | 0x20) <= 'z');
		} else {
			if (!(k = cp_utf8_decode(t + i, n - i, &cp))) {
				k = 1;
				cp = 0xFFFD;
			}
			an = cp_is_alnum(cp);
		}
		if (an && !prev_alnum && i + KEYLEN <= n) {
			unsigned key = key_of(low + i);
			size_t b = c->bucket[key & (c->nbucket - 1)];
			for (; b; b = c->v[b - 1].next) {
				const cue *q = &c->v[b - 1];
				if (q->key != key)
					continue;
				if (pcre2_match(q->re, (PCRE2_SPTR)t, n, i,
				    PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, c->md,
				    NULL) >= 0) {
					PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
					fn(q->tag, ov[0], ov[1], arg);
				}
			}
		}
		prev_alnum = an;
		i += k;
	}
	if (c->generic) {
		PCRE2_SIZE start = 0;
		while (start < n && pcre2_match(c->generic, (PCRE2_SPTR)t, n,
		    start, PCRE2_NO_UTF_CHECK, c->md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
			const char *mark = (const char *)pcre2_get_mark(c->md);
			size_t idx;
			if (mark && sscanf(mark, "%zu", &idx) == 1 && idx < c->n)
				fn(c->v[idx].tag, ov[0], ov[1], arg);
			start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
	}
}
