/*
 * fetchmatch.c — account attribution by name/alias/ticker/domain.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "fetchmatch.h"
#include "fetchurl.h"
#include "mem.h"
#include "unicode.h"
#include "utf8.h"

struct term {
	char *s;               /* folded (or exact, for a ticker) */
	size_t len;
	bool exact;
	size_t acct;           /* index into accts */
};

struct cp_matcher {
	const cp_account **accts;
	size_t nacct;
	struct term *terms;
	size_t nterms;
};

static void add_term(cp_matcher *m, const char *s, bool exact, size_t acct)
{
	struct term *t;
	char *f;

	if (!s || !*s)
		return;
	f = exact ? xstrdup(s) : cp_u_casefold(s);
	if (strlen(f) < 2) {
		free(f);
		return;
	}
	m->terms = xrealloc(m->terms, (m->nterms + 1) * sizeof *m->terms);
	t = &m->terms[m->nterms++];
	t->s = f;
	t->len = strlen(f);
	t->exact = exact;
	t->acct = acct;
}

/* "Northwind Labs Inc." → "Northwind Labs"; NULL when no suffix. */
static char *strip_suffix(const char *name)
{
	static const char *const sfx[] = { " inc.", " inc", ", inc.", ", inc",
		" corp.", " corp", " corporation", " llc", " ltd.", " ltd",
		" plc", " co.", " s.a.", " ag", " gmbh", " limited",
		" holdings", " group", NULL };
	size_t n = strlen(name), i;

	for (i = 0; sfx[i]; i++) {
		size_t l = strlen(sfx[i]);
		if (n > l + 2 && !strcasecmp(name + n - l, sfx[i]))
			return xstrndup(name, n - l);
	}
	return NULL;
}

cp_matcher *cp_matcher_new(const cp_accounts *a, int64_t tenant_id)
{
	cp_matcher *m = xcalloc(1, sizeof *m);
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		const cp_account *ac = &a->v[i];
		size_t k;
		char *st;
		if (tenant_id && ac->tenant_id != tenant_id)
			continue;
		m->accts = xrealloc(m->accts, (m->nacct + 1) * sizeof *m->accts);
		k = m->nacct++;
		m->accts[k] = ac;
		add_term(m, ac->name, false, k);
		if ((st = strip_suffix(ac->name))) {
			add_term(m, st, false, k);
			free(st);
		}
		for (j = 0; j < ac->naliases; j++)
			add_term(m, ac->aliases[j], false, k);
		add_term(m, ac->domain, false, k);
		add_term(m, ac->ticker, true, k);
	}
	return m;
}

void cp_matcher_free(cp_matcher *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nterms; i++)
		free(m->terms[i].s);
	free(m->terms);
	free(m->accts);
	free(m);
}

static bool word_cp(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
	    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) ||
	    c == UTF8PROC_CATEGORY_MN;
}

/* Is s[at] preceded by a non-word character (or the start)? */
static bool boundary_before(const char *s, size_t at)
{
	size_t b = at;
	int32_t cp;

	if (!at)
		return true;
	do
		b--;
	while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80);
	cp_utf8_decode(s + b, at - b, &cp);
	return !word_cp(cp);
}

static bool boundary_after(const char *s, size_t at, size_t n)
{
	int32_t cp;

	if (at >= n)
		return true;
	cp_utf8_decode(s + at, n - at, &cp);
	return !word_cp(cp);
}

static bool find_word(const char *hay, size_t n, const struct term *t)
{
	const char *p = hay;

	while ((p = strstr(p, t->s))) {
		size_t at = (size_t)(p - hay);
		if (boundary_before(hay, at) &&
		    boundary_after(hay, at + t->len, n))
			return true;
		p++;
	}
	return false;
}

static bool host_matches(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);
	const char *colon = strchr(host, ':');

	if (colon)
		h = (size_t)(colon - host);
	if (h == d && !strncmp(host, domain, d))
		return true;
	return h > d && host[h - d - 1] == '.' &&
	    !strncmp(host + h - d, domain, d);
}

size_t cp_matcher_match(const cp_matcher *m, const char *text,
    const char *link, const cp_account **out, size_t max)
{
	char *folded = cp_u_casefold(text ? text : "");
	char *host = link ? cp_url_host(link) : NULL;
	size_t fl = strlen(folded), tl = text ? strlen(text) : 0;
	bool *hit = xcalloc(m->nacct ? m->nacct : 1, sizeof *hit);
	size_t i, n = 0;

	for (i = 0; i < m->nterms; i++) {
		const struct term *t = &m->terms[i];
		if (hit[t->acct])
			continue;
		if (t->exact)
			hit[t->acct] = text && find_word(text, tl, t);
		else
			hit[t->acct] = find_word(folded, fl, t);
		if (!hit[t->acct] && host && m->accts[t->acct]->domain &&
		    !strcmp(t->s, m->accts[t->acct]->domain))
			hit[t->acct] = host_matches(host, t->s);
	}
	for (i = 0; i < m->nacct && n < max; i++)
		if (hit[i])
			out[n++] = m->accts[i];
	free(hit);
	free(folded);
	free(host);
	return n;
}
