#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "mem.h"
#include "utf8.h"

#define MAXDEPTH 512

typedef struct scan {
	const char *s;
	size_t n, i;
	char *err;
	size_t errlen;
} scan;

static int fail(scan *x, const char *what)
{
	if (x->i < x->n)
		snprintf(x->err, x->errlen, "%s at byte %zu", what, x->i + 1);
	else
		snprintf(x->err, x->errlen, "%s at the end of the line", what);
	return -1;
}

static void ws(scan *x)
{
	while (x->i < x->n && (x->s[x->i] == ' ' || x->s[x->i] == '\t' ||
	    x->s[x->i] == '\n' || x->s[x->i] == '\r'))
		x->i++;
}

static int hex4(scan *x, unsigned *v)
{
	size_t k;

	*v = 0;
	if (x->i + 4 > x->n)
		return fail(x, "short \\u escape");
	for (k = 0; k < 4; k++) {
		char c = x->s[x->i + k];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return fail(x, "bad \\u escape");
	}
	x->i += 4;
	return 0;
}

static int string(scan *x)
{
	x->i++;    /* the opening quote */
	for (;;) {
		const char *q;
		unsigned char c;
		/* the common case: a run of plain characters */
		while (x->i < x->n && (c = (unsigned char)x->s[x->i]) != '"' &&
		    c != '\\' && c >= 0x20)
			x->i++;
		if (x->i >= x->n)
			return fail(x, "unterminated string");
		c = (unsigned char)x->s[x->i];
		if (c == '"') {
			x->i++;
			return 0;
		}
		if (c < 0x20)
			return fail(x, "control character in string");
		x->i++;
		if (x->i >= x->n)
			return fail(x, "unterminated string");
		q = strchr("\"\\/bfnrtu", x->s[x->i]);
		if (!q || !x->s[x->i])
			return fail(x, "bad escape");
		if (x->s[x->i++] == 'u') {
			unsigned v, w;
			if (hex4(x, &v))
				return -1;
			if (v == 0)
				return fail(x, "\\u0000 in string");
			if (v >= 0xDC00 && v <= 0xDFFF)
				return fail(x, "lone surrogate");
			if (v >= 0xD800 && v <= 0xDBFF) {
				if (x->i + 2 > x->n || x->s[x->i] != '\\' ||
				    x->s[x->i + 1] != 'u')
					return fail(x, "lone surrogate");
				x->i += 2;
				if (hex4(x, &w))
					return -1;
				if (w < 0xDC00 || w > 0xDFFF)
					return fail(x, "lone surrogate");
			}
		}
	}
}

static int digits(scan *x)
{
	size_t st = x->i;
	while (x->i < x->n && x->s[x->i] >= '0' && x->s[x->i] <= '9')
		x->i++;
	return x->i > st ? 0 : fail(x, "bad number");
}

static int number(scan *x)
{
	if (x->s[x->i] == '-')
		x->i++;
	if (x->i < x->n && x->s[x->i] == '0')
		x->i++;
	else if (digits(x))
		return -1;
	if (x->i < x->n && x->s[x->i] == '.') {
		x->i++;
		if (digits(x))
			return -1;
	}
	if (x->i < x->n && (x->s[x->i] == 'e' || x->s[x->i] == 'E')) {
		x->i++;
		if (x->i < x->n && (x->s[x->i] == '+' || x->s[x->i] == '-'))
			x->i++;
		if (digits(x))
			return -1;
	}
	return 0;
}

static int literal(scan *x, const char *w)
{
	size_t l = strlen(w);
	if (x->i + l > x->n || memcmp(x->s + x->i, w, l))
		return fail(x, "unexpected character");
	x->i += l;
	return 0;
}

static int value(scan *x, int depth);

static int container(scan *x, int depth, char close)
{
	int first = 1;

	if (depth > MAXDEPTH)
		return fail(x, "nesting too deep");
	x->i++;
	ws(x);
	if (x->i < x->n && x->s[x->i] == close) {
		x->i++;
		return 0;
	}
	for (;;) {
		ws(x);
		if (!first) {
			if (x->i < x->n && x->s[x->i] == close) {
				x->i++;
				return 0;
			}
			if (x->i >= x->n || x->s[x->i] != ',')
				return fail(x, close == '}' ? "expected ',' or '}'" :
				    "expected ',' or ']'");
			x->i++;
			ws(x);
		}
		first = 0;
		if (close == '}') {
			if (x->i >= x->n || x->s[x->i] != '"')
				return fail(x, "expected a string key");
			if (string(x))
				return -1;
			ws(x);
			if (x->i >= x->n || x->s[x->i] != ':')
				return fail(x, "expected ':'");
			x->i++;
			ws(x);
		}
		if (value(x, depth + 1))
			return -1;
	}
}

static int value(scan *x, int depth)
{
	char c;

	if (x->i >= x->n)
		return fail(x, "expected a value");
	c = x->s[x->i];
	switch (c) {
	case '{': return container(x, depth, '}');
	case '[': return container(x, depth, ']');
	case '"': return string(x);
	case 't': return literal(x, "true");
	case 'f': return literal(x, "false");
	case 'n': return literal(x, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return number(x);
		return fail(x, "unexpected character");
	}
}

int cp_jscan_object(const char *s, size_t n, cp_jmember *m, size_t max,
    char *err, size_t errlen)
{
	scan x = { s, n, 0, err, errlen };
	int count = 0;

	ws(&x);
	if (x.i >= n || s[x.i] != '{') {
		if (x.i < n && (s[x.i] == '[' || s[x.i] == '"' || s[x.i] == 't' ||
		    s[x.i] == 'f' || s[x.i] == 'n' || s[x.i] == '-' ||
		    (s[x.i] >= '0' && s[x.i] <= '9')))
			snprintf(err, errlen, "not a JSON object");
		else
			fail(&x, "expected '{'");
		return -1;
	}
	x.i++;
	ws(&x);
	if (x.i < n && s[x.i] == '}') {
		x.i++;
		goto end;
	}
	for (;;) {
		size_t ks, ke, vs;
		int k;
		ws(&x);
		if (x.i >= n || s[x.i] != '"')
			return fail(&x, "expected a string key");
		ks = x.i + 1;
		if (string(&x))
			return -1;
		ke = x.i - 1;
		ws(&x);
		if (x.i >= n || s[x.i] != ':')
			return fail(&x, "expected ':'");
		x.i++;
		ws(&x);
		vs = x.i;
		if (value(&x, 1))
			return -1;
		for (k = 0; k < count; k++)
			if (m[k].klen == ke - ks && !memcmp(m[k].key, s + ks,
			    ke - ks)) {
				snprintf(err, errlen, "duplicate key \"%.*s\"",
				    (int)(ke - ks > 64 ? 64 : ke - ks), s + ks);
				return -1;
			}
		if ((size_t)count >= max) {
			snprintf(err, errlen, "more than %zu members", max);
			return -1;
		}
		m[count].key = s + ks;
		m[count].klen = ke - ks;
		m[count].val = s + vs;
		m[count].vlen = x.i - vs;
		count++;
		ws(&x);
		if (x.i < n && s[x.i] == ',') {
			x.i++;
			continue;
		}
		if (x.i < n && s[x.i] == '}') {
			x.i++;
			break;
		}
		return fail(&x, "expected ',' or '}'");
	}
end:
	ws(&x);
	if (x.i != n)
		return fail(&x, "trailing characters");
	return count;
}

int cp_jkey_is(const cp_jmember *m, const char *k)
{
	return strlen(k) == m->klen && !memcmp(m->key, k, m->klen);
}

/* Decode the (valid) string literal at v into sb. */
static void decode(const char *v, size_t n, strbuf *sb)
{
	size_t i = 1, run;

	while (i < n - 1) {
		run = i;
		while (i < n - 1 && v[i] != '\\')
			i++;
		sb_add(sb, v + run, i - run);
		if (i >= n - 1)
			break;
		i++;
		switch (v[i]) {
		case 'b': sb_addc(sb, '\b'); i++; break;
		case 'f': sb_addc(sb, '\f'); i++; break;
		case 'n': sb_addc(sb, '\n'); i++; break;
		case 'r': sb_addc(sb, '\r'); i++; break;
		case 't': sb_addc(sb, '\t'); i++; break;
		case 'u': {
			unsigned cp = 0, w = 0;
			char enc[4];
			int k;
			for (k = 1; k <= 4; k++)
				cp = cp * 16 + (unsigned)(v[i + k] <= '9' ?
				    v[i + k] - '0' : (v[i + k] | 0x20) - 'a' + 10);
			i += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				for (k = 2; k <= 5; k++)
					w = w * 16 + (unsigned)(v[i + k] <= '9' ?
					    v[i + k] - '0' : (v[i + k] | 0x20) - 'a' +
					    10);
				i += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (w - 0xDC00);
			}
			sb_add(sb, enc, cp_utf8_encode((int32_t)cp, enc));
			break;
		}
		default: sb_addc(sb, v[i]); i++; break;
		}
	}
}

/*
 * Building values from text the scanner has accepted (so no grammar is
 * checked again; the line's UTF-8 was checked before it was scanned).
 * Several times faster than json_loadb, which lexes every character
 * again; it refuses what json_loadb would: an integer beyond int64, a
 * real beyond a double, a duplicate key.
 */
static void skip_ws(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' ||
	    s[*i] == '\r'))
		(*i)++;
}

/* The string literal at s[*i] decoded into sb (reset first). */
static void build_string(const char *s, size_t *i, strbuf *sb)
{
	size_t st = *i, j = st + 1;

	while (s[j] != '"')
		j += s[j] == '\\' ? 2 : 1;
	*i = j + 1;
	sb_reset(sb);
	decode(s + st, *i - st, sb);
}

static json_t *build_number(const char *s, size_t n, size_t *i)
{
	size_t st = *i, len;
	int real = 0;
	char small[64], *buf, *end;
	json_t *v = NULL;

	while (*i < n && strchr("+-.eE0123456789", s[*i]) && s[*i]) {
		if (s[*i] == '.' || s[*i] == 'e' || s[*i] == 'E')
			real = 1;
		(*i)++;
	}
	len = *i - st;
	buf = len < sizeof small ? small : xmalloc(len + 1);
	memcpy(buf, s + st, len);
	buf[len] = '\0';
	errno = 0;
	if (!real) {
		long long ll = strtoll(buf, &end, 10);
		if (errno != ERANGE)
			v = json_integer((json_int_t)ll);
	} else {
		double d = strtod(buf, &end);
		if (!(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)))
			v = json_real(d);
	}
	if (buf != small)
		free(buf);
	return v;
}

static json_t *build(const char *s, size_t n, size_t *i, strbuf *sb)
{
	json_t *c, *v;
	char close;

	switch (s[*i]) {
	case '"':
		build_string(s, i, sb);
		return json_stringn_nocheck(sb->buf ? sb->buf : "", sb->len);
	case 't': *i += 4; return json_true();
	case 'f': *i += 5; return json_false();
	case 'n': *i += 4; return json_null();
	case '[': case '{': break;
	default: return build_number(s, n, i);
	}
	close = s[*i] == '[' ? ']' : '}';
	c = close == ']' ? json_array() : json_object();
	(*i)++;
	for (;;) {
		skip_ws(s, n, i);
		if (s[*i] == close)
			break;
		if (s[*i] == ',') {
			(*i)++;
			skip_ws(s, n, i);
		}
		if (close == ']') {
			if (!(v = build(s, n, i, sb)) || json_array_append_new(c, v))
				goto fail;
			continue;
		}
		{
			char small[64], *key;
			size_t klen;
			int bad;
			build_string(s, i, sb);
			klen = sb->len;
			key = klen < sizeof small ? small : xmalloc(klen + 1);
			memcpy(key, sb->buf ? sb->buf : "", klen);
			key[klen] = '\0';
			skip_ws(s, n, i);
			(*i)++;            /* the colon */
			skip_ws(s, n, i);
			bad = json_object_getn(c, key, klen) != NULL ||
			    !(v = build(s, n, i, sb)) ||
			    json_object_setn_new_nocheck(c, key, klen, v);
			if (key != small)
				free(key);
			if (bad)
				goto fail;
		}
	}
	(*i)++;
	return c;
fail:
	json_decref(c);
	return NULL;
}

json_t *cp_jvalue(const cp_jmember *m)
{
	strbuf sb = CP_STRBUF_INIT;
	size_t i = 0;
	json_t *r;

	r = build(m->val, m->vlen, &i, &sb);
	sb_free(&sb);
	return r;
}

static cp_jkeep *kept(cp_jkeep *keep, size_t nkeep, const cp_jmember *m)
{
	size_t i;

	for (i = 0; i < nkeep; i++)
		if (cp_jkey_is(m, keep[i].key) &&
		    (!keep[i].open || m->val[0] == keep[i].open))
			return &keep[i];
	return NULL;
}

json_t *cp_jscan_decode(const char *line, size_t len, cp_jkeep *keep,
    size_t nkeep, char *err, size_t errlen)
{
	cp_jmember m[128];
	json_t *rec;
	size_t i;
	int n;

	for (i = 0; i < nkeep; i++) {
		keep[i].val = NULL;
		keep[i].vlen = 0;
	}
	if ((n = cp_jscan_object(line, len, m, 128, err, errlen)) < 0)
		return NULL;
	rec = json_object();
	for (i = 0; i < (size_t)n; i++) {
		cp_jkeep *k = kept(keep, nkeep, &m[i]);
		json_t *v;

		if (k) {
			k->val = m[i].val;
			k->vlen = m[i].vlen;
			if (!k->placeholder)
				continue;
			v = json_string("");
		} else {
			v = cp_jvalue(&m[i]);
		}
		if (!v || json_object_setn_new(rec, m[i].key, m[i].klen, v)) {
			snprintf(err, errlen, "member \"%.*s\" does not load",
			    (int)(m[i].klen > 64 ? 64 : m[i].klen), m[i].key);
			json_decref(rec);
			return NULL;
		}
	}
	return rec;
}
