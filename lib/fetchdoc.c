/*
 * fetchdoc.c — building document records (fetchdoc.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "dataconf.h"
#include "exitcode.h"
#include "fetchdoc.h"
#include "fetchurl.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "utf8.h"

static struct {
	double sec, newswire, news, jobs, web, file;
	char **hosts;
	size_t nhosts;
	int loaded;
} rel = { 0.95, 0.85, 0.70, 0.70, 0.50, 0.50, NULL, 0, 0 };

/* reliability.conf through the shared data-file parser (dataconf.h):
 * [reliability] values by source kind, [newswire] hosts. */
int cp_reliability_load(void)
{
	static const char *const names[] = { "sec", "newswire", "news",
		"jobs", "web", "file", NULL };
	double *slots[] = { &rel.sec, &rel.newswire, &rel.news, &rel.jobs,
		&rel.web, &rel.file };
	cp_dconf c;
	const char *hosts;
	size_t i = 0;
	long k;
	int rc;

	if (rel.loaded)
		return 0;
	rel.loaded = 1;
	if ((rc = cp_dconf_load("reliability.conf", &c)))
		return rc;
	while ((k = cp_dconf_next(&c, "reliability.", &i)) >= 0) {
		const char *key = c.v[k].key + strlen("reliability.");
		int n;

		for (n = 0; names[n] && strcmp(key, names[n]); n++)
			;
		if (!names[n]) {
			cp_err("%s:%u: unknown key reliability.%s", c.origin,
			    c.v[k].line, key);
			rc = CP_EX_CONFIG;
		} else if (!cp_dconf_num(&c, c.v[k].key, 0, 1, false, slots[n])) {
			rc = CP_EX_CONFIG;
		}
	}
	if ((hosts = cp_dconf_get(&c, "newswire.hosts")) != NULL) {
		char *copy = xstrdup(hosts), *tok, *save = NULL;

		for (tok = strtok_r(copy, " \t,", &save); tok;
		    tok = strtok_r(NULL, " \t,", &save)) {
			rel.hosts = xrealloc(rel.hosts, (rel.nhosts + 1) *
			    sizeof *rel.hosts);
			rel.hosts[rel.nhosts++] = xstrdup(tok);
		}
		free(copy);
	}
	cp_dconf_free(&c);
	return rc;
}

bool cp_newswire(const char *url)
{
	char *host = url ? cp_url_host(url) : NULL, *c;
	size_t i, h;
	bool hit = false;

	if (!host)
		return false;
	if ((c = strchr(host, ':')))
		*c = '\0';
	h = strlen(host);
	for (i = 0; i < rel.nhosts && !hit; i++) {
		size_t d = strlen(rel.hosts[i]);
		hit = (h == d && !strcmp(host, rel.hosts[i])) || (h > d &&
		    host[h - d - 1] == '.' && !strcmp(host + h - d,
		    rel.hosts[i]));
	}
	free(host);
	return hit;
}

double cp_reliability(const char *kind, const char *url)
{
	cp_reliability_load();
	if (!strcmp(kind, "sec"))
		return rel.sec;
	if (!strcmp(kind, "news"))
		return cp_newswire(url) ? rel.newswire : rel.news;
	if (!strcmp(kind, "jobs"))
		return rel.jobs;
	if (!strcmp(kind, "web"))
		return rel.web;
	return rel.file;
}

char *cp_item_identity(const char *guid, const char *link, const char *title)
{
	char hex[CP_SHA256_HEX];
	strbuf sb = CP_STRBUF_INIT;

	if (guid && *guid)
		return xasprintf("guid:%s", guid);
	if (link && *link) {
		char *c = cp_url_canonical(link), *r = xasprintf("link:%s", c);
		free(c);
		return r;
	}
	sb_adds(&sb, title ? title : "");
	sb_addc(&sb, '\x1f');
	sb_adds(&sb, link ? link : "");
	cp_sha256_hex(sb.buf, sb.len, hex);
	sb_free(&sb);
	return xasprintf("hash:%s", hex);
}

void cp_doc_id(char out[CP_ID_MAX], const char *tenant, const char *kind,
    const char *source_key, const char *identity)
{
	cp_make_id4(out, "doc_", tenant, kind, source_key, identity);
}

void cp_doc_hash(const json_t *doc, char out[CP_SHA256_HEX])
{
	static const char *const keys[] = { "title", "url", "published_at",
		"body", NULL };
	strbuf sb = CP_STRBUF_INIT;
	int i;

	for (i = 0; keys[i]; i++) {
		sb_adds(&sb, cp_json_strd(doc, keys[i], ""));
		sb_addc(&sb, '\x1f');
	}
	cp_sha256_hex(sb.buf, sb.len, out);
	sb_free(&sb);
}

json_t *cp_jstr(const char *s)
{
	json_t *v;
	char *r;

	if (!s)
		s = "";
	if ((v = json_string(s)))
		return v;
	/* invalid UTF-8 (a page in an undeclared charset): repaired */
	r = cp_utf8_repair(s, strlen(s), NULL);
	v = json_string(r);
	free(r);
	return v ? v : json_string("");
}

json_t *cp_doc_new(const char *tenant, const char *source,
    const char *source_name, double reliability, const char *url,
    const char *title, const char *published_at, const char *fetched_at,
    const char *content_type, const char *body)
{
	json_t *d = json_object();

#define S(k, v) json_object_set_new(d, k, cp_jstr(v))
	S("type", "document");
	json_object_set_new(d, "v", json_integer(1));
	S("id", "");
	S("tenant", tenant);
	json_object_set_new(d, "account_ids", json_array());
	S("source", source);
	S("source_name", source_name);
	json_object_set_new(d, "reliability", json_real(reliability));
	S("url", url);
	S("title", title);
	S("published_at", published_at);
	S("fetched_at", fetched_at);
	S("content_type", content_type);
	S("body", body);
	json_object_set_new(d, "meta", json_object());
#undef S
	return d;
}
