#include <stdio.h>
#include <string.h>

#include "template.h"

const char *const cp_tpl_names[] = {
	"account", "event", "person", "role", "amount", "headcount",
	"evidence_url", "date", "source", "industry", "segment", "tier",
	"owner", "playbook", "offer", "next_step", "theme", "function",
	"postings", "age", NULL
};

static bool known(const char *name, size_t len)
{
	int i;

	for (i = 0; cp_tpl_names[i]; i++)
		if (strlen(cp_tpl_names[i]) == len &&
		    !memcmp(cp_tpl_names[i], name, len))
			return true;
	return false;
}

/* The extent of "{…}" starting at p (p[0] == '{'): name and fallback. */
struct ph {
	const char *name, *fb;
	size_t nlen, fblen, total;
};

static bool parse_ph(const char *p, struct ph *ph)
{
	const char *end = strchr(p + 1, '}'), *bar;

	if (!end)
		return false;
	ph->name = p + 1;
	bar = memchr(ph->name, '|', (size_t)(end - ph->name));
	ph->nlen = (size_t)((bar ? bar : end) - ph->name);
	ph->fb = bar ? bar + 1 : NULL;
	ph->fblen = bar ? (size_t)(end - bar - 1) : 0;
	ph->total = (size_t)(end - p) + 1;
	return true;
}

bool cp_tpl_check(const char *tpl, char *err, size_t errlen)
{
	const char *p;

	for (p = tpl; *p; p++) {
		struct ph ph;
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		if (*p == '}') {
			snprintf(err, errlen, "unbalanced '}' at character %zu",
			    (size_t)(p - tpl) + 1);
			return false;
		}
		if (*p != '{')
			continue;
		if (!parse_ph(p, &ph)) {
			snprintf(err, errlen, "unclosed '{' at character %zu",
			    (size_t)(p - tpl) + 1);
			return false;
		}
		if (!known(ph.name, ph.nlen)) {
			snprintf(err, errlen, "unknown placeholder {%.*s}",
			    (int)(ph.nlen > 40 ? 40 : ph.nlen), ph.name);
			return false;
		}
		if (ph.fb && memchr(ph.fb, '{', ph.fblen)) {
			snprintf(err, errlen, "'{' inside the fallback of {%.*s}",
			    (int)ph.nlen, ph.name);
			return false;
		}
		p += ph.total - 1;
	}
	return true;
}

void cp_tpl_render(strbuf *out, const char *tpl, cp_tpl_fn fn, void *arg)
{
	const char *p = tpl, *run = tpl;

	while (*p) {
		struct ph ph;
		char name[32];
		const char *v;
		bool have = false;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			sb_add(out, run, (size_t)(p - run) + 1);
			p += 2;
			run = p;
			continue;
		}
		if (*p != '{' || !parse_ph(p, &ph) || ph.nlen >= sizeof name) {
			p++;
			continue;
		}
		sb_add(out, run, (size_t)(p - run));
		memcpy(name, ph.name, ph.nlen);
		name[ph.nlen] = '\0';
		v = fn(arg, name, &have);
		if (have)
			sb_adds(out, v ? v : "");
		else if (ph.fb)
			sb_add(out, ph.fb, ph.fblen);
		else if (v)
			sb_adds(out, v);
		p += ph.total;
		run = p;
	}
	sb_add(out, run, (size_t)(p - run));
}
