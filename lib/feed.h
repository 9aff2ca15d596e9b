/*
 * feed.h — RSS 2.0 (and 0.9x), RSS 1.0 (RDF) and Atom 1.0 (and 0.3)
 * parsing: bytes in, items out.  A pure function of its input (no
 * network, no files, no global state), so it can be fuzzed directly.
 *
 * Safety: libxml2 with XML_PARSE_NONET and without XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD or XML_PARSE_HUGE: external entities are never
 * fetched and no entity is ever expanded (an entity reference contributes
 * nothing to a field, except the HTML named entities that sloppy feeds
 * use undeclared, which map to their one character), so XXE and
 * billion-laughs documents cost nothing.  Recover mode: a malformed
 * document yields the items that parsed, and the result says so.
 *
 * Text: every field is UTF-8 (the declared charset, else the HTTP
 * charset hint, else UTF-8 — with Windows-1252 as the fallback for bytes
 * that are not UTF-8 — is converted).  Fields are the element's text as
 * XML defines it (entities and CDATA resolved); markup inside them is
 * left alone: cp_feed_plain() makes display text of them.  Links are
 * resolved against xml:base and the document URL.  Dates are RFC 3339
 * UTC strings, parsed from RFC 822, RFC 3339 and their common malformed
 * variants (cp_feed_date).
 *
 * Ownership: cp_feed_free() frees everything in a cp_feed.
 */
#ifndef CP_FEED_H
#define CP_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum cp_feed_kind {
	CP_FEED_NONE = 0,
	CP_FEED_RSS2,          /* <rss> (0.91 to 2.0) */
	CP_FEED_RSS1,          /* <rdf:RDF> */
	CP_FEED_ATOM,          /* <feed>, Atom 1.0 or 0.3 */
};

/* Results of cp_feed_parse. */
enum cp_feed_status {
	CP_FEED_OK = 0,
	CP_FEED_MALFORMED,     /* recovered: items holds what parsed */
	CP_FEED_NOTFEED,       /* HTML, JSON, another XML vocabulary… */
	CP_FEED_EMPTY          /* no bytes at all */
};

typedef struct cp_feed_item {
	char *title;           /* as in the feed (may contain markup) */
	char *link;            /* absolute when resolvable */
	char *guid;            /* guid / atom:id, or NULL */
	bool guid_permalink;   /* RSS isPermaLink (default true) */
	char *published;       /* RFC 3339 UTC, or NULL */
	char *updated;         /* RFC 3339 UTC, or NULL */
	char *published_raw;   /* the date text as found, or NULL */
	char *description;     /* summary / description (HTML or text) */
	char *content;         /* content:encoded / atom:content, or NULL */
	char *author;
	char **categories;
	size_t ncategories;
} cp_feed_item;

typedef struct cp_feed {
	int kind;              /* enum cp_feed_kind */
	char *title, *link;
	cp_feed_item *items;
	size_t nitems;
	char *encoding;        /* the charset converted from, or NULL */
	size_t bad_bytes;      /* invalid UTF-8 sequences replaced */
	char error[256];       /* for MALFORMED/NOTFEED: what and where */
} cp_feed;

/*
 * Parse buf[0..len).  url is the document's URL (base for relative
 * links; may be NULL); charset is the HTTP Content-Type charset (may be
 * NULL).  Returns enum cp_feed_status; out is always initialised and
 * must be freed.
 */
int cp_feed_parse(const char *buf, size_t len, const char *url,
    const char *charset, cp_feed *out);
void cp_feed_free(cp_feed *f);

/* Whether the bytes look like an RSS/Atom document (cheap sniff of the
 * first element name, after a BOM, XML declaration and comments). */
bool cp_feed_sniff(const char *buf, size_t len);

/* Parse a feed date into UTC seconds: RFC 3339 / ISO 8601 (with or
 * without fraction or zone), RFC 822 / 1123 (2- or 4-digit years,
 * missing weekday or seconds, named zones GMT/UT/EST…/military, full
 * month and day names, trailing comments), and a bare date. */
bool cp_feed_date(const char *s, time_t *out);

/* Display text of an HTML or text fragment: tags removed (script and
 * style with their content), entities decoded (named, decimal, hex;
 * undefined ones left as written), white space collapsed, trimmed.
 * Caller frees. */
char *cp_feed_plain(const char *html);
/* Decode HTML character references in s (named, &#N;, &#xH;); legacy
 * entities without ';' only when not followed by '=' or alphanumerics
 * (so "?a=1&copy=2" survives).  Caller frees. */
char *cp_html_unescape(const char *s);

#endif
