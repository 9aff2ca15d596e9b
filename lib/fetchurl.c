/*
 * fetchurl.c — RFC 3986 reference resolution and canonical URLs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetchurl.h"
#include "mem.h"
#include "strbuf.h"

/* The five components of a URI reference (RFC 3986 appendix B), each an
 * owned string, NULL when absent (path is never NULL). */
struct parts {
	char *scheme, *authority, *path, *query, *fragment;
};

bool cp_url_absolute(const char *s)
{
	const char *p = s;

	if (!s || !isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

static void split(const char *ref, struct parts *u)
{
	const char *p = ref, *end, *q;

	memset(u, 0, sizeof *u);
	while (*p && isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if ((q = memchr(p, '#', (size_t)(end - p)))) {
		u->fragment = xstrndup(q + 1, (size_t)(end - q - 1));
		end = q;
	}
	if ((q = memchr(p, '?', (size_t)(end - p)))) {
		u->query = xstrndup(q + 1, (size_t)(end - q - 1));
		end = q;
	}
	if (cp_url_absolute(p) && (q = memchr(p, ':', (size_t)(end - p)))) {
		u->scheme = xstrndup(p, (size_t)(q - p));
		p = q + 1;
	}
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		u->authority = xstrndup(p, (size_t)(q - p));
		p = q;
	}
	u->path = xstrndup(p, (size_t)(end - p));
}

static void parts_free(struct parts *u)
{
	free(u->scheme);
	free(u->authority);
	free(u->path);
	free(u->query);
	free(u->fragment);
}

/* RFC 3986 5.2.4 */
static char *remove_dot_segments(const char *in)
{
	strbuf out = CP_STRBUF_INIT;
	const char *p = in;

	sb_adds(&out, "");
	while (*p) {
		if (!strncmp(p, "../", 3))
			p += 3;
		else if (!strncmp(p, "./", 2))
			p += 2;
		else if (!strncmp(p, "/./", 3))
			p += 2;
		else if (!strcmp(p, "/."))
			p = "/";
		else if (!strncmp(p, "/../", 4) || !strcmp(p, "/..")) {
			char *slash;
			p = p[3] ? p + 3 : "/";
			slash = strrchr(out.buf, '/');
			sb_truncate(&out, slash ? (size_t)(slash - out.buf) : 0);
		} else if (!strcmp(p, ".") || !strcmp(p, "..")) {
			p += strlen(p);
		} else {
			const char *e = strchr(p + 1, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			sb_add(&out, p, n);
			p += n;
		}
	}
	return sb_detach(&out);
}

static char *merge(const struct parts *b, const char *rpath)
{
	const char *slash;

	if (b->authority && !*b->path)
		return xasprintf("/%s", rpath);
	slash = strrchr(b->path, '/');
	if (!slash)
		return xstrdup(rpath);
	return xasprintf("%.*s%s", (int)(slash - b->path + 1), b->path, rpath);
}

static char *join(const char *scheme, const char *auth, const char *path,
    const char *query, const char *frag)
{
	strbuf sb = CP_STRBUF_INIT;

	sb_adds(&sb, scheme);
	sb_addc(&sb, ':');
	if (auth) {
		sb_adds(&sb, "//");
		sb_adds(&sb, auth);
	}
	sb_adds(&sb, path ? path : "");
	if (query) {
		sb_addc(&sb, '?');
		sb_adds(&sb, query);
	}
	if (frag) {
		sb_addc(&sb, '#');
		sb_adds(&sb, frag);
	}
	return sb_detach(&sb);
}

char *cp_url_resolve(const char *base, const char *ref)
{
	struct parts r, b;
	char *path = NULL, *tmp, *out;
	const char *auth, *query;

	if (!ref)
		return NULL;
	split(ref, &r);
	if (r.scheme) {
		tmp = remove_dot_segments(r.path);
		out = join(r.scheme, r.authority, tmp, r.query, r.fragment);
		free(tmp);
		parts_free(&r);
		return out;
	}
	if (!base || !cp_url_absolute(base)) {
		parts_free(&r);
		return NULL;
	}
	split(base, &b);
	if (r.authority) {
		auth = r.authority;
		path = remove_dot_segments(r.path);
		query = r.query;
	} else {
		auth = b.authority;
		if (!*r.path) {
			path = xstrdup(b.path);
			query = r.query ? r.query : b.query;
		} else {
			if (r.path[0] == '/')
				tmp = xstrdup(r.path);
			else
				tmp = merge(&b, r.path);
			path = remove_dot_segments(tmp);
			free(tmp);
			query = r.query;
		}
	}
	out = join(b.scheme, auth, path, query, r.fragment);
	free(path);
	parts_free(&r);
	parts_free(&b);
	return out;
}

/* Query parameters that only track the reader, never name the item. */
static bool tracking_param(const char *p, size_t n)
{
	static const char *const names[] = { "fbclid", "gclid", "mc_cid",
		"mc_eid", "ref_src", "cmpid", NULL };
	int i;

	if (n > 4 && !strncmp(p, "utm_", 4))
		return true;
	for (i = 0; names[i]; i++) {
		size_t l = strlen(names[i]);
		if (n >= l && !strncmp(p, names[i], l) &&
		    (n == l || p[l] == '='))
			return true;
	}
	return false;
}

char *cp_url_canonical(const char *url)
{
	struct parts u;
	strbuf auth = CP_STRBUF_INIT, q = CP_STRBUF_INIT;
	char *out, *s, *path;
	const char *port;

	if (!url)
		return NULL;
	split(url, &u);
	if (!u.scheme || !u.authority ||
	    (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https"))) {
		parts_free(&u);
		return xstrdup(url);
	}
	for (s = u.scheme; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	s = strrchr(u.authority, '@');
	s = s ? s + 1 : u.authority;
	for (; *s; s++)
		sb_addc(&auth, (char)tolower((unsigned char)*s));
	/* an empty host ("https://", "http://user@") leaves auth unallocated */
	port = auth.buf ? strrchr(auth.buf, ':') : NULL;
	if (port && !strchr(port, ']') &&
	    ((!strcmp(u.scheme, "http") && !strcmp(port, ":80")) ||
	    (!strcmp(u.scheme, "https") && !strcmp(port, ":443"))))
		sb_truncate(&auth, (size_t)(port - auth.buf));
	if (u.query) {
		char *tok = u.query, *amp;
		do {
			amp = strchr(tok, '&');
			size_t n = amp ? (size_t)(amp - tok) : strlen(tok);
			if (n && !tracking_param(tok, n)) {
				if (q.len)
					sb_addc(&q, '&');
				sb_add(&q, tok, n);
			}
			tok = amp ? amp + 1 : NULL;
		} while (tok);
	}
	path = remove_dot_segments(*u.path ? u.path : "/");
	out = join(u.scheme, auth.buf ? auth.buf : "", path,
	    q.len ? q.buf : NULL, NULL);
	free(path);
	sb_free(&auth);
	sb_free(&q);
	parts_free(&u);
	return out;
}

char *cp_url_host(const char *url)
{
	struct parts u;
	char *out = NULL, *s;

	if (!url)
		return NULL;
	split(url, &u);
	if (u.authority && *u.authority) {
		s = strrchr(u.authority, '@');
		out = xstrdup(s ? s + 1 : u.authority);
		for (s = out; *s; s++)
			*s = (char)tolower((unsigned char)*s);
	}
	parts_free(&u);
	return out;
}

char *cp_url_redact(const char *url)
{
	const char *p, *at, *end;

	if (!url)
		return NULL;
	p = strstr(url, "://");
	if (!p)
		return xstrdup(url);
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (!at)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(p - url), url, at + 1);
}

char *cp_url_escape(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;

	sb_adds(&sb, "");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			sb_addc(&sb, (char)c);
		else
			sb_addf(&sb, "%%%02X", c);
	}
	return sb_detach(&sb);
}
