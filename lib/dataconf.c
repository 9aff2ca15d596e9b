#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "dataconf.h"
#include "exitcode.h"
#include "id.h"
#include "log.h"
#include "mem.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void add(cp_dconf *c, size_t *cap, const char *key, const char *val,
    unsigned line)
{
	if (c->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		c->v = xrealloc(c->v, *cap * sizeof *c->v);
	}
	c->v[c->n].key = xstrdup(key);
	c->v[c->n].val = xstrdup(val);
	c->v[c->n].line = line;
	c->n++;
}

int cp_dconf_parse(const char *text, size_t len, const char *origin,
    cp_dconf *c)
{
	char section[128] = "", *copy, *line, *next;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	char hex[CP_SHA256_HEX];

	memset(c, 0, sizeof *c);
	c->text = xstrndup(text, len);
	c->len = len;
	c->origin = xstrdup(origin);
	cp_sha256_hex(text, len, hex);
	memcpy(c->version, hex, 16);
	c->version[16] = '\0';
	copy = xstrndup(text, len);
	for (line = copy; line; line = next) {
		char *s, *eq, *key, *val, full[384];

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1] || end - s - 1 >= (long)sizeof section) {
				cp_err("%s:%u: bad section header", origin, lineno);
				rc = CP_EX_CONFIG;
				continue;
			}
			*end = '\0';
			snprintf(section, sizeof section, "%s", trim(s + 1));
			continue;
		}
		if (!(eq = strchr(s, '='))) {
			cp_err("%s:%u: expected \"key = value\"", origin, lineno);
			rc = CP_EX_CONFIG;
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!*key || strlen(key) > 200) {
			cp_err("%s:%u: bad key", origin, lineno);
			rc = CP_EX_CONFIG;
			continue;
		}
		if (*val == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		snprintf(full, sizeof full, "%s%s%s", section, *section ? "." : "",
		    key);
		add(c, &cap, full, val, lineno);
	}
	free(copy);
	return rc;
}

int cp_dconf_load(const char *name, cp_dconf *c)
{
	size_t len = 0;
	char *origin = NULL;
	char *text = cp_data_load(name, &len, &origin);
	int rc;

	if (!text) {
		cp_err("%s: no such data file", name);
		memset(c, 0, sizeof *c);
		free(origin);
		return CP_EX_CONFIG;
	}
	/* messages name the override's path, or "builtin:scoring.conf" */
	if (!strcmp(origin, "builtin")) {
		free(origin);
		origin = xasprintf("builtin:%s", name);
	}
	rc = cp_dconf_parse(text, len, origin, c);
	free(origin);
	free(text);
	return rc;
}

void cp_dconf_free(cp_dconf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].val);
	}
	free(c->v);
	free(c->text);
	free(c->origin);
	memset(c, 0, sizeof *c);
}

static const struct cp_dkv *find(const cp_dconf *c, const char *key)
{
	size_t i = c->n;

	/* the last assignment wins */
	while (i-- > 0)
		if (strcmp(c->v[i].key, key) == 0)
			return &c->v[i];
	return NULL;
}

const char *cp_dconf_get(const cp_dconf *c, const char *key)
{
	const struct cp_dkv *kv = find(c, key);

	return kv ? kv->val : NULL;
}

unsigned cp_dconf_line(const cp_dconf *c, const char *key)
{
	const struct cp_dkv *kv = find(c, key);

	return kv ? kv->line : 0;
}

bool cp_dconf_num(const cp_dconf *c, const char *key, double lo, double hi,
    bool dflt_ok, double *out)
{
	const struct cp_dkv *kv = find(c, key);
	char *end;
	double d;

	if (!kv) {
		if (dflt_ok)
			return true;
		cp_err("%s: missing key \"%s\"", c->origin, key);
		return false;
	}
	errno = 0;
	d = strtod(kv->val, &end);
	if (errno || end == kv->val || *end || !isfinite(d)) {
		cp_err("%s:%u: %s: not a number: %s", c->origin, kv->line, key,
		    kv->val);
		return false;
	}
	if (d < lo || d > hi) {
		cp_err("%s:%u: %s: %g is out of range [%g, %g]", c->origin,
		    kv->line, key, d, lo, hi);
		return false;
	}
	*out = d;
	return true;
}

long cp_dconf_next(const cp_dconf *c, const char *prefix, size_t *i)
{
	size_t plen = strlen(prefix);

	for (; *i < c->n; (*i)++) {
		const struct cp_dkv *kv = &c->v[*i];
		if (strncmp(kv->key, prefix, plen) != 0 || !kv->key[plen])
			continue;
		/* a key set again later is reported there, not here */
		if (find(c, kv->key) != kv)
			continue;
		return (long)(*i)++;
	}
	return -1;
}
