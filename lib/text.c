#include <string.h>
#include <utf8proc.h>

#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"

int cp_is_alnum(int32_t cp)
{
	utf8proc_category_t c;

	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' &&
		    (cp | 0x20) <= 'z');
	c = utf8proc_category(cp);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_MC) ||
	    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

int cp_is_upper(int32_t cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z';
	return utf8proc_category(cp) == UTF8PROC_CATEGORY_LU ||
	    utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
}

int32_t cp_prev_cp(const char *s, size_t i, size_t *start)
{
	size_t j = i;
	int32_t cp;

	/* back over at most three continuation bytes */
	while (j > 0 && i - j < 4 && ((unsigned char)s[j - 1] & 0xC0) == 0x80)
		j--;
	if (j > 0)
		j--;
	if (cp_utf8_decode(s + j, i - j, &cp) != i - j) {
		*start = i - 1;
		return 0xFFFD;
	}
	*start = j;
	return cp;
}

int cp_word_bounded(const char *s, size_t n, size_t start, size_t end)
{
	int32_t cp;
	size_t st;

	if (start > 0 && cp_is_alnum(cp_prev_cp(s, start, &st)))
		return 0;
	if (end < n) {
		cp_utf8_decode(s + end, n - end, &cp);
		if (cp_is_alnum(cp))
			return 0;
	}
	return 1;
}

/* What cleaning does with one code point. */
enum { KEEP, DROP, SPACE, NEWLINE };

static int classify(int32_t cp)
{
	utf8proc_category_t c;

	if (cp > 0x20 && cp < 0x7f)
		return KEEP;
	if (cp == ' ')
		return SPACE;
	if (cp == '\n')
		return NEWLINE;
	if (cp == '\t' || cp == '\r' || cp == '\f' || cp == '\v')
		return SPACE;
	if (cp < 0x20 || cp == 0x7f)
		return DROP;
	c = utf8proc_category(cp);
	switch (c) {
	case UTF8PROC_CATEGORY_ZS:
		return SPACE;
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return NEWLINE;
	case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_CF:   /* zero-width, BOM, soft hyphen, bidi */
	case UTF8PROC_CATEGORY_CS:
	case UTF8PROC_CATEGORY_CN:   /* unassigned: noise in scraped text */
		return cp == 0x85 ? NEWLINE : DROP;
	default:
		return KEEP;
	}
}

char *cp_text_clean(const char *s, size_t n, size_t *nbad)
{
	strbuf sb = CP_STRBUF_INIT;
	size_t i = 0, bad = 0;
	int pend_space = 0, pend_nl = 0, at_start = 1, need_nfc = 0;
	char *out;
	utf8proc_uint8_t *nfc = NULL;

	sb_grow(&sb, n + 1);
	while (i < n) {
		int32_t cp;
		size_t k;
		int what, invalid = 0;

		/* printable ASCII, the bulk of most text */
		if ((unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f) {
			if (!at_start && pend_nl)
				sb_adds(&sb, pend_nl > 1 ? "\n\n" : "\n");
			else if (!at_start && pend_space)
				sb_addc(&sb, ' ');
			pend_nl = pend_space = 0;
			at_start = 0;
			sb_addc(&sb, s[i++]);
			continue;
		}
		k = cp_utf8_decode(s + i, n - i, &cp);

		if (k == 0) {
			invalid = 1;
			bad++;
			k = 1;
			/* one replacement per maximal invalid run of bytes */
			while (i + k < n && cp_utf8_decode(s + i + k, n - i - k,
			    &cp) == 0 && k < 4)
				k++;
			cp = 0xFFFD;
		}
		what = classify(cp);
		/* only these can change under NFC: combining marks, scripts
		 * with compositions, singletons; Latin-1, Cyrillic,
		 * punctuation and currency signs are stable */
		if (cp >= 0x300 && !(cp >= 0x400 && cp < 0x530) &&
		    !(cp >= 0x2010 && cp < 0x2070) && !(cp >= 0x20A0 &&
		    cp < 0x20C0) && what == KEEP)
			need_nfc = 1;
		if (what == DROP) {
			i += k;
			continue;
		}
		if (what == SPACE) {
			pend_space = 1;
		} else if (what == NEWLINE) {
			pend_nl++;
			pend_space = 0;
		} else {
			if (!at_start && pend_nl)
				sb_adds(&sb, pend_nl > 1 ? "\n\n" : "\n");
			else if (!at_start && pend_space)
				sb_addc(&sb, ' ');
			pend_nl = pend_space = 0;
			at_start = 0;
			if (invalid)
				sb_adds(&sb, "\xEF\xBF\xBD");
			else
				sb_add(&sb, s + i, k);
		}
		i += k;
	}
	if (nbad)
		*nbad = bad;
	if (!sb.len) {
		sb_free(&sb);
		return xstrdup("");
	}
	if (!need_nfc)
		return sb_detach(&sb);
	if (utf8proc_map((const utf8proc_uint8_t *)sb.buf, (utf8proc_ssize_t)sb.len,
	    &nfc, UTF8PROC_COMPOSE | UTF8PROC_STABLE) < 0) {
		free(nfc);
		return sb_detach(&sb);
	}
	sb_free(&sb);
	out = (char *)nfc;
	return out;
}

char *cp_text_lower(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		int32_t cp, lo;
		size_t k;
		char enc[4];

		if (c < 0x80) {
			out[i++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
			continue;
		}
		k = cp_utf8_decode(s + i, n - i, &cp);
		if (k == 0) {
			out[i] = s[i];
			i++;
			continue;
		}
		lo = utf8proc_tolower(cp);
		if (lo != cp && cp_utf8_encode(lo, enc) == k)
			memcpy(out + i, enc, k);
		else
			memcpy(out + i, s + i, k);
		i += k;
	}
	out[n] = '\0';
	return out;
}

void cp_spans_add(cp_spans *s, size_t start, size_t end)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n].start = start;
	s->v[s->n].end = end;
	s->n++;
}

void cp_spans_free(cp_spans *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static const char *const abbrevs[] = {
	"Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "Inc", "Corp", "Co",
	"Ltd", "No", "Nr", "vs", "etc", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul",
	"Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Gen", "Gov", "Sen", "Rep",
	"Mt", "Ave", "Rd", "Blvd", "Dept", "Fig", "approx", "est", "ca", "bzw",
	"Mio", "Mrd", "Hr", "Hrn", "Sra", "Sres", "Dña", "Ing", "Dipl", "St",
	"Av", "Nº", "resp", "ggf", "inkl", "ul", "tj", "np", "ok", "ds", "vgl",
	"Abs", "Art", "Bd", "Mag", "Dott", "Sig", "Mme", "Mlle", "Ste", "S.A",
	"U.S", "U.K", "e.g", "i.e", "a.m", "p.m", "z.B", "u.a", "d.h", "т.д",
	"т.п", "Н.В", NULL
};

static const char *const starters[] = {
	"The", "A", "An", "It", "He", "She", "We", "They", "This", "That", "In",
	"On", "At", "But", "And", "Der", "Die", "Das", "El", "La", "Los", "Las",
	"Il", "Le", "Les", "O", "Os", "As", "De", "Het", "Een", NULL
};

static int is_abbrev(const char *w, size_t n, const char *next, size_t nn)
{
	int i;

	if (n == 0)
		return 0;
	for (i = 0; abbrevs[i]; i++)
		if (strlen(abbrevs[i]) == n && !memcmp(abbrevs[i], w, n))
			return 1;
	/* a single capital initial ("Jane Q. Public"), unless the next word
	 * plainly starts a sentence ("Series B. The round…") */
	if (n == 1 && w[0] >= 'A' && w[0] <= 'Z') {
		for (i = 0; starters[i]; i++)
			if (strlen(starters[i]) == nn && !memcmp(starters[i], next,
			    nn))
				return 0;
		return 1;
	}
	/* dotted acronyms: "U.S.", "S.p.A." */
	if (memchr(w, '.', n) && n <= 6)
		return 1;
	return 0;
}

static int is_closer(int32_t cp)
{
	return cp == '"' || cp == '\'' || cp == ')' || cp == ']' ||
	    cp == 0x201D || cp == 0x2019 || cp == 0xBB || cp == 0x201C;
}

static int may_start(int32_t cp)
{
	return cp_is_upper(cp) || (cp >= '0' && cp <= '9') || cp == '"' ||
	    cp == '(' || cp == '[' || cp == 0x201C || cp == 0x201E ||
	    cp == 0xAB || cp == 0x2018 || cp == '\'' || cp == 0x2014 ||
	    cp == 0x2013 || cp == 0xBF || cp == 0xA1 || cp == '$' ||
	    cp == 0x20AC || cp == 0xA3 || (cp > 0x2E80 && cp_is_alnum(cp));
}

static void add_trimmed(cp_spans *out, const char *t, size_t a, size_t b)
{
	while (a < b && (t[a] == ' ' || t[a] == '\n'))
		a++;
	while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\n'))
		b--;
	if (b > a)
		cp_spans_add(out, a, b);
}

void cp_sentences(const char *t, size_t n, cp_spans *out)
{
	size_t i = 0, start = 0;

	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(t + i, n - i, &cp), j, ws, we;

		if (!k)
			k = 1;
		if (cp == '\n') {
			add_trimmed(out, t, start, i);
			start = i + 1;
			i++;
			continue;
		}
		if (!(cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 ||
		    cp == 0x3002)) {
			i += k;
			continue;
		}
		/* run of terminators and closers */
		j = i + k;
		while (j < n) {
			int32_t c2;
			size_t k2 = cp_utf8_decode(t + j, n - j, &c2);
			if (!k2 || !(c2 == '.' || c2 == '!' || c2 == '?' ||
			    is_closer(c2)))
				break;
			j += k2;
		}
		if (j < n && t[j] != ' ' && t[j] != '\n') {
			i = j;
			continue;
		}
		if (j < n && t[j] == ' ') {
			int32_t nx;
			size_t p = j + 1, q;
			if (p >= n || !cp_utf8_decode(t + p, n - p, &nx) ||
			    !may_start(nx)) {
				i = j;
				continue;
			}
			if (cp == '.' && j == i + 1) {
				/* the word before the full stop */
				we = i;
				ws = i;
				while (ws > start && t[ws - 1] != ' ' &&
				    t[ws - 1] != '\n' && t[ws - 1] != '(')
					ws--;
				q = p;
				while (q < n && t[q] != ' ' && t[q] != '\n')
					q++;
				if (is_abbrev(t + ws, we - ws, t + p, q - p)) {
					i = j;
					continue;
				}
			}
		}
		add_trimmed(out, t, start, j);
		start = j;
		i = j;
	}
	add_trimmed(out, t, start, n);
}

static size_t line_chars(const char *s, size_t n)
{
	size_t i, c = 0;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

void cp_text_unwrap(char *t)
{
	size_t n = strlen(t), i, w = 0, ls = 0;

	/* the wrap width: the longest line */
	for (i = 0; i <= n; i++)
		if (i == n || t[i] == '\n') {
			size_t c = line_chars(t + ls, i - ls);
			if (c > w)
				w = c;
			ls = i + 1;
		}
	if (w < 40)
		return;
	ls = 0;
	for (i = 0; i < n; i++) {
		size_t len, nw, j;
		if (t[i] != '\n')
			continue;
		len = line_chars(t + ls, i - ls);
		if (i + 1 >= n || t[i + 1] == '\n' || (i > 0 && t[i - 1] == '\n')) {
			ls = i + 1;
			continue;
		}
		for (j = i + 1; j < n && t[j] != ' ' && t[j] != '\n'; j++)
			;
		nw = line_chars(t + i + 1, j - i - 1);
		if (len * 2 >= w && len + 1 + nw > w)
			t[i] = ' ';
		ls = i + 1;
	}
}
