/*
 * fetchurl.h — URL helpers without libcurl: RFC 3986 reference
 * resolution, the canonical form used for item identity, host
 * extraction and credential redaction.  Pure functions on strings, so
 * the feed parser (and its fuzz target) need no network library.
 * Every returned string is new; the caller frees it.
 */
#ifndef CP_FETCHURL_H
#define CP_FETCHURL_H

#include <stdbool.h>

/* Resolve ref against base (RFC 3986 section 5.2).  base may be NULL or
 * relative; the result is NULL when no absolute URL comes out.
 * Leading and trailing white space of ref is ignored. */
char *cp_url_resolve(const char *base, const char *ref);
/* Whether s starts with a scheme ("http:", "file:"…). */
bool cp_url_absolute(const char *s);
/* The canonical form for identity: scheme and host lowercased, default
 * port dropped, fragment dropped, utm_* and similar tracking parameters
 * dropped, an empty path as "/".  NULL for a non-http(s) URL is not an
 * error: the URL is returned unchanged (copied). */
char *cp_url_canonical(const char *url);
/* "host" or "host:port", lowercased, without user info; NULL when url
 * has no authority. */
char *cp_url_host(const char *url);
/* url without a "user:password@" part. */
char *cp_url_redact(const char *url);
/* Percent-encode s for a path segment or query value. */
char *cp_url_escape(const char *s);

#endif
