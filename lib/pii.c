#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "pii.h"
#include "strbuf.h"

enum { K_EMAIL, K_IBAN, K_CARD, K_SSN, K_PHONE, K_N };

static const char *const placeholder[K_N] = {
	"[EMAIL]", "[IBAN]", "[CARD]", "[SSN]", "[PHONE]"
};

/* Patterns find candidates; the checks below decide. */
static const char *const pattern[K_N] = {
	"(?<![\\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@[A-Za-z0-9]"
	    "(?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]"
	    "{0,62}[A-Za-z0-9])?)*\\.[A-Za-z]{2,24}(?![\\w-])",
	"(?<![A-Za-z0-9])[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
	    "(?![A-Za-z0-9])",
	"(?<!\\d|\\d[.,-])(?:\\d{13,19}|\\d{4}(?:[ -]\\d{4}){2,3}(?:[ -]\\d{1,3})?|"
	    "\\d{4}[ -]\\d{6}[ -]\\d{5})(?!\\d|[.,-]\\d)",
	"(?<![\\d-])(\\d{3})-(\\d{2})-(\\d{4})(?![\\d-])",
	"(?:(?<![\\w+])\\+\\d{1,3}(?:[ .-]?\\(?\\d{1,5}\\)?){2,6}"
	    "|(?<![\\w-])(?:1[ .-])?\\(\\d{3}\\) ?\\d{3}[ .-]\\d{4}"
	    "|(?<![\\w-])(?:1-)?\\d{3}-\\d{3}-\\d{4}"
	    "|(?<![\\w-])\\d{3}\\.\\d{3}\\.\\d{4}"
	    "|(?<![\\w./-])0[1-9]\\d{0,4}[ /-]\\d{3,8}(?:[ -]\\d{2,5}){0,3})"
	    "(?![\\w-])"
};

static pcre2_code *re[K_N];
static pcre2_match_data *md;

int cp_pii_init(void)
{
	int i, err;
	PCRE2_SIZE off;

	if (md)
		return 0;
	for (i = 0; i < K_N; i++) {
		re[i] = pcre2_compile((PCRE2_SPTR)pattern[i], PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_NO_UTF_CHECK, &err, &off, NULL);
		if (!re[i]) {
			cp_err("pii: pattern %d: error %d at %zu", i, err,
			    (size_t)off);
			return CP_EX_SOFTWARE;
		}
		pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE);
	}
	md = pcre2_match_data_create(8, NULL);
	return 0;
}

void cp_pii_cleanup(void)
{
	int i;
	for (i = 0; i < K_N; i++) {
		pcre2_code_free(re[i]);
		re[i] = NULL;
	}
	pcre2_match_data_free(md);
	md = NULL;
}

int cp_luhn_ok(const char *d, size_t n)
{
	int sum = 0, alt = 0;
	size_t i, nd = 0;

	for (i = n; i-- > 0;) {
		int v;
		if (!isdigit((unsigned char)d[i]))
			continue;
		v = d[i] - '0';
		if (alt && (v *= 2) > 9)
			v -= 9;
		sum += v;
		alt = !alt;
		nd++;
	}
	return nd >= 12 && sum % 10 == 0;
}

int cp_iban_ok(const char *s, size_t n)
{
	char c[40];
	size_t i, k = 0;
	int rem = 0;

	for (i = 0; i < n; i++)
		if (s[i] != ' ') {
			if (k >= sizeof c)
				return 0;
			c[k++] = s[i];
		}
	if (k < 15 || k > 34)
		return 0;
	/* move the country and check digits to the end, letters to 10..35 */
	for (i = 0; i < k; i++) {
		char ch = c[(i + 4) % k];
		if (isdigit((unsigned char)ch))
			rem = (rem * 10 + (ch - '0')) % 97;
		else if (ch >= 'A' && ch <= 'Z')
			rem = (rem * 100 + (ch - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

static size_t ndigits(const char *s, size_t n)
{
	size_t i, c = 0;
	for (i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			c++;
	return c;
}

/* Does the candidate [s,e) of kind k hold?  May shorten *e (an IBAN
 * followed by unrelated capitals). */
static int accept(int k, const char *t, size_t s, size_t *e,
    PCRE2_SIZE *ov)
{
	size_t n = *e - s, nd;

	switch (k) {
	case K_EMAIL:
		return 1;
	case K_IBAN:
		/* drop trailing groups until the checksum holds */
		while (n >= 15) {
			if (cp_iban_ok(t + s, n)) {
				*e = s + n;
				return 1;
			}
			while (n > 0 && t[s + n - 1] != ' ')
				n--;
			while (n > 0 && t[s + n - 1] == ' ')
				n--;
		}
		return 0;
	case K_CARD:
		nd = ndigits(t + s, n);
		return nd >= 13 && nd <= 19 && t[s] >= '2' && t[s] <= '6' &&
		    cp_luhn_ok(t + s, n);
	case K_SSN: {
		int area = atoi(t + ov[2]), group = atoi(t + ov[4]),
		    serial = atoi(t + ov[6]);
		return area != 0 && area != 666 && area < 900 && group != 0 &&
		    serial != 0;
	}
	case K_PHONE:
		nd = ndigits(t + s, n);
		if (t[s] == '+')
			return nd >= 8 && nd <= 15;
		return nd >= 9 && nd <= 13;
	}
	return 0;
}

typedef struct span {
	size_t s, e;
	int k;
} span;

static int byspan(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return x->s < y->s ? -1 : x->s > y->s ? 1 : x->k - y->k;
}

char *cp_pii_redact(const char *t, size_t n, int redact, cp_pii_counts *c)
{
	span *sp = NULL;
	size_t nsp = 0, cap = 0, i, at = 0;
	strbuf out = CP_STRBUF_INIT;
	int k, has_at;
	size_t ndig;

	memset(c, 0, sizeof *c);
	if (cp_pii_init())
		return xstrndup(t, n);
	{
		/* cheap tests first: most texts hold no '@' and few digits */
		size_t d = 0;
		for (i = 0; i < n; i++)
			if (t[i] >= '0' && t[i] <= '9')
				d++;
		if (d < 8 && !memchr(t, '@', n))
			return xstrndup(t, n);
		has_at = memchr(t, '@', n) != NULL;
		ndig = d;
	}
	for (k = 0; k < K_N; k++) {
		PCRE2_SIZE start = 0;
		if ((k == K_EMAIL && !has_at) || (k != K_EMAIL && ndig < 8))
			continue;
		while (start < n && pcre2_match(re[k], (PCRE2_SPTR)t, n, start,
		    PCRE2_NO_UTF_CHECK, md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			size_t s = ov[0], e = ov[1], j;
			int clash = 0;
			start = e > s ? e : s + 1;
			if (!accept(k, t, s, &e, ov))
				continue;
			/* earlier kinds win: an e-mail's digits are no phone */
			for (j = 0; j < nsp && !clash; j++)
				if (sp[j].s < e && s < sp[j].e)
					clash = 1;
			if (clash)
				continue;
			if (nsp == cap) {
				cap = cap ? cap * 2 : 8;
				sp = xrealloc(sp, cap * sizeof *sp);
			}
			sp[nsp].s = s;
			sp[nsp].e = e;
			sp[nsp].k = k;
			nsp++;
			start = e;
		}
	}
	if (nsp > 1)
		qsort(sp, nsp, sizeof *sp, byspan);
	for (i = 0; i < nsp; i++) {
		switch (sp[i].k) {
		case K_EMAIL: c->email++; break;
		case K_IBAN: c->iban++; break;
		case K_CARD: c->card++; break;
		case K_SSN: c->ssn++; break;
		case K_PHONE: c->phone++; break;
		}
		if (redact) {
			sb_add(&out, t + at, sp[i].s - at);
			sb_adds(&out, placeholder[sp[i].k]);
			at = sp[i].e;
		}
	}
	free(sp);
	if (!redact)
		return xstrndup(t, n);
	sb_add(&out, t + at, n - at);
	if (!out.buf)
		return xstrdup("");
	return sb_detach(&out);
}
