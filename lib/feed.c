/*
 * feed.c — RSS/Atom parsing (feed.h) on libxml2's tree.
 *
 * Elements are matched by local name and namespace family, not by
 * prefix, because feeds bind prefixes any way they like (and some use
 * undeclared ones, which libxml2's recover mode leaves as "content:
 * encoded" element names: those are matched by the part after ':').
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "feed.h"
#include "fetchurl.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"
#include "utf8.h"

#define NS_ATOM10  "http://www.w3.org/2005/Atom"
#define NS_ATOM03  "http://purl.org/atom/ns#"
#define NS_RSS10   "http://purl.org/rss/1.0/"
#define NS_RSS09   "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RDF     "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_DC      "http://purl.org/dc/elements/1.1/"
#define NS_DCT     "http://purl.org/dc/terms/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_ITUNES  "http://www.itunes.com/dtds/podcast-1.0.dtd"
#define NS_MEDIA   "http://search.yahoo.com/mrss/"

/* Namespace families an element may belong to. */
enum fam { F_NONE, F_RSS, F_ATOM, F_DC, F_CONTENT, F_ITUNES, F_MEDIA,
	   F_OTHER };

static enum fam family(const xmlNode *n)
{
	const char *u;

	if (!n->ns || !n->ns->href)
		return F_NONE;
	u = (const char *)n->ns->href;
	if (!strcmp(u, NS_ATOM10) || !strcmp(u, NS_ATOM03))
		return F_ATOM;
	if (!strcmp(u, NS_RSS10) || !strcmp(u, NS_RSS09))
		return F_RSS;
	if (!strcmp(u, NS_DC) || !strcmp(u, NS_DCT))
		return F_DC;
	if (!strcmp(u, NS_CONTENT))
		return F_CONTENT;
	if (!strncmp(u, "http://www.itunes.com/dtds/podcast", 34))
		return F_ITUNES;
	if (!strcmp(u, NS_MEDIA))
		return F_MEDIA;
	return F_OTHER;
}

/* Local name; an undeclared "pfx:name" counts as name with family from
 * the prefix's usual meaning. */
static const char *lname(const xmlNode *n, enum fam *f)
{
	const char *name = (const char *)n->name, *colon;

	*f = family(n);
	if (*f == F_NONE && (colon = strchr(name, ':'))) {
		size_t pl = (size_t)(colon - name);
		if (pl == 7 && !strncmp(name, "content", 7))
			*f = F_CONTENT;
		else if (pl == 2 && !strncmp(name, "dc", 2))
			*f = F_DC;
		else if (pl == 4 && !strncmp(name, "atom", 4))
			*f = F_ATOM;
		else if (pl == 6 && !strncmp(name, "itunes", 6))
			*f = F_ITUNES;
		else if (pl == 5 && !strncmp(name, "media", 5))
			*f = F_MEDIA;
		else
			*f = F_OTHER;
		return colon + 1;
	}
	return name;
}

/* ---- HTML entities (a feed's undeclared ones, and cp_feed_plain) ---- */

static const struct ent { const char *name; int32_t cp; } ents[] = {
	{ "AElig", 198 }, { "Aacute", 193 }, { "Acirc", 194 },
	{ "Agrave", 192 }, { "Aring", 197 }, { "Atilde", 195 },
	{ "Auml", 196 }, { "Ccedil", 199 }, { "Dagger", 8225 },
	{ "ETH", 208 }, { "Eacute", 201 }, { "Ecirc", 202 },
	{ "Egrave", 200 }, { "Euml", 203 }, { "Iacute", 205 },
	{ "Icirc", 206 }, { "Igrave", 204 }, { "Iuml", 207 },
	{ "Ntilde", 209 }, { "Oacute", 211 }, { "Ocirc", 212 },
	{ "Ograve", 210 }, { "Oslash", 216 }, { "Otilde", 213 },
	{ "Ouml", 214 }, { "THORN", 222 }, { "Uacute", 218 },
	{ "Ucirc", 219 }, { "Ugrave", 217 }, { "Uuml", 220 },
	{ "Yacute", 221 }, { "aacute", 225 }, { "acirc", 226 },
	{ "acute", 180 }, { "aelig", 230 }, { "agrave", 224 },
	{ "amp", 38 }, { "apos", 39 }, { "aring", 229 }, { "atilde", 227 },
	{ "auml", 228 }, { "bdquo", 8222 }, { "brvbar", 166 },
	{ "bull", 8226 }, { "ccedil", 231 }, { "cedil", 184 },
	{ "cent", 162 }, { "copy", 169 }, { "curren", 164 },
	{ "dagger", 8224 }, { "deg", 176 }, { "divide", 247 },
	{ "eacute", 233 }, { "ecirc", 234 }, { "egrave", 232 },
	{ "eth", 240 }, { "euml", 235 }, { "euro", 8364 },
	{ "frac12", 189 }, { "frac14", 188 }, { "frac34", 190 },
	{ "gt", 62 }, { "hellip", 8230 }, { "iacute", 237 },
	{ "icirc", 238 }, { "iexcl", 161 }, { "igrave", 236 },
	{ "iquest", 191 }, { "iuml", 239 }, { "laquo", 171 },
	{ "ldquo", 8220 }, { "lsaquo", 8249 }, { "lsquo", 8216 },
	{ "lt", 60 }, { "macr", 175 }, { "mdash", 8212 }, { "micro", 181 },
	{ "middot", 183 }, { "nbsp", 160 }, { "ndash", 8211 },
	{ "not", 172 }, { "ntilde", 241 }, { "oacute", 243 },
	{ "ocirc", 244 }, { "ograve", 242 }, { "ordf", 170 },
	{ "ordm", 186 }, { "oslash", 248 }, { "otilde", 245 },
	{ "ouml", 246 }, { "para", 182 }, { "permil", 8240 },
	{ "plusmn", 177 }, { "pound", 163 }, { "quot", 34 },
	{ "raquo", 187 }, { "rdquo", 8221 }, { "reg", 174 },
	{ "rsaquo", 8250 }, { "rsquo", 8217 }, { "sbquo", 8218 },
	{ "sect", 167 }, { "shy", 173 }, { "sup1", 185 }, { "sup2", 178 },
	{ "sup3", 179 }, { "szlig", 223 }, { "thinsp", 8201 },
	{ "thorn", 254 }, { "times", 215 }, { "trade", 8482 },
	{ "uacute", 250 }, { "ucirc", 251 }, { "ugrave", 249 },
	{ "uml", 168 }, { "uuml", 252 }, { "yacute", 253 }, { "yen", 165 },
	{ "yuml", 255 }, { "zwj", 8205 }, { "zwnj", 8204 },
};

/* The legacy entities HTML decodes even without a ';'. */
static const char *const legacy[] = { "amp", "lt", "gt", "quot", "nbsp",
	"copy", "reg", NULL };

static int32_t entity(const char *name, size_t n)
{
	size_t lo = 0, hi = sizeof ents / sizeof ents[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(ents[mid].name, name, n);
		if (!c && ents[mid].name[n])
			c = 1;
		if (!c)
			return ents[mid].cp;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void add_cp(strbuf *sb, int32_t cp)
{
	char u[4];

	if (cp <= 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	sb_add(sb, u, cp_utf8_encode(cp, u));
}

/* Decode one reference at s ('&'); returns bytes consumed, 0 if none. */
static size_t decode_ref(const char *s, strbuf *sb)
{
	const char *p = s + 1;
	size_t n;
	int32_t cp;
	int i;

	if (*p == '#') {
		long v = 0;
		int hex = (p[1] == 'x' || p[1] == 'X');
		const char *d = p + 1 + hex, *q = d;
		while (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)) {
			if (v < 0x110000)
				v = v * (hex ? 16 : 10) + (isdigit((unsigned char)*q) ?
				    *q - '0' : (tolower((unsigned char)*q) - 'a' + 10));
			q++;
		}
		if (q == d)
			return 0;
		add_cp(sb, (int32_t)v);
		return (size_t)(q - s) + (*q == ';');
	}
	for (n = 0; isalnum((unsigned char)p[n]) && n < 32; n++)
		;
	if (!n)
		return 0;
	if (p[n] == ';' && (cp = entity(p, n)) >= 0) {
		add_cp(sb, cp);
		return n + 2;
	}
	/* legacy form: only when it cannot be part of a URL parameter */
	for (i = 0; legacy[i]; i++) {
		size_t l = strlen(legacy[i]);
		if (n >= l && !strncmp(p, legacy[i], l) && p[l] != '=' &&
		    !isalnum((unsigned char)p[l]) && p[l] != ';') {
			add_cp(sb, entity(p, l));
			return l + 1;
		}
	}
	return 0;
}

char *cp_html_unescape(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;
	size_t k;

	sb_adds(&sb, "");
	while (*s) {
		if (*s == '&' && (k = decode_ref(s, &sb))) {
			s += k;
			continue;
		}
		sb_addc(&sb, *s++);
	}
	return sb_detach(&sb);
}

static bool is_block(const char *tag, size_t n)
{
	static const char *const blocks[] = { "p", "br", "div", "li", "tr",
		"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
		"blockquote", "pre", "hr", "section", "article", NULL };
	int i;

	for (i = 0; blocks[i]; i++)
		if (strlen(blocks[i]) == n && !strncasecmp(tag, blocks[i], n))
			return true;
	return false;
}

char *cp_feed_plain(const char *html)
{
	strbuf raw = CP_STRBUF_INIT, out = CP_STRBUF_INIT;
	const char *p = html;
	char *dec, *q;
	bool space = true;

	if (!html)
		return xstrdup("");
	sb_adds(&raw, "");
	while (*p) {
		if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' ||
		    p[1] == '!' || p[1] == '?')) {
			const char *t = p + 1 + (p[1] == '/');
			size_t tn = strspn(t, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
			const char *end;
			if (!strncmp(p, "<!--", 4)) {
				end = strstr(p + 4, "-->");
				p = end ? end + 3 : p + strlen(p);
				continue;
			}
			end = strchr(p, '>');
			if (!end)
				break;
			if (p[1] != '/' && ((tn == 6 && !strncasecmp(t, "script", 6)) ||
			    (tn == 5 && !strncasecmp(t, "style", 5)))) {
				char close[16];
				const char *c;
				snprintf(close, sizeof close, "</%.*s", (int)tn, t);
				for (c = end; (c = strchr(c, '<')); c++)
					if (!strncasecmp(c, close, tn + 2))
						break;
				end = c ? strchr(c, '>') : NULL;
				if (!end)
					break;
			}
			sb_addc(&raw, is_block(t, tn) ? '\n' : ' ');
			/* inline tags glue words: "<b>Ac</b>me" is "Acme" */
			if (!is_block(t, tn))
				sb_truncate(&raw, raw.len - 1);
			p = end + 1;
			continue;
		}
		sb_addc(&raw, *p++);
	}
	dec = cp_html_unescape(raw.buf);
	sb_free(&raw);
	sb_adds(&out, "");
	for (q = dec; *q; q++) {
		unsigned char c = (unsigned char)*q;
		/* U+00A0 no-break space counts as space */
		if (c == 0xC2 && (unsigned char)q[1] == 0xA0) {
			q++;
			c = ' ';
		}
		if (isspace(c)) {
			space = true;
			continue;
		}
		if (space && out.len)
			sb_addc(&out, ' ');
		space = false;
		sb_addc(&out, (char)c);
	}
	free(dec);
	return sb_detach(&out);
}

/* ---- dates ---- */

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };

static int month_of(const char *w, size_t n)
{
	int i;

	if (n < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (!strncasecmp(w, months[i], 3))
			return i;
	return -1;
}

/* Offset in seconds east of UTC for a zone name, or INT32_MIN. */
static long zone_of(const char *w, size_t n)
{
	static const struct { const char *z; int h; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
		{ "BST", 1 }, { "CET", 1 }, { "CEST", 2 }, { "EET", 2 },
		{ "EEST", 3 }, { "WET", 0 }, { "WEST", 1 }, { "IST", 5 },
		{ "JST", 9 }, { "KST", 9 }, { "HKT", 8 }, { "SGT", 8 },
		{ "AEST", 10 }, { "AEDT", 11 }, { "NZST", 12 }, { "NZDT", 13 },
	};
	size_t i;

	for (i = 0; i < sizeof zones / sizeof zones[0]; i++)
		if (strlen(zones[i].z) == n && !strncasecmp(w, zones[i].z, n))
			return zones[i].h * 3600L;
	if (n == 1 && isalpha((unsigned char)*w))
		return 0;   /* military zones: RFC 1123 says treat as 0 */
	return INT32_MIN;
}

/* "+0700", "-07:00", "+07" → seconds; false if not such a token */
static bool numeric_zone(const char *s, long *off)
{
	int h, m = 0, sign = *s == '-' ? -1 : 1;
	const char *p = s + 1;

	if ((*s != '+' && *s != '-') || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[1]))
		return false;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p == ':')
		p++;
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]))
		m = (p[0] - '0') * 10 + (p[1] - '0');
	*off = sign * (h * 3600L + m * 60L);
	return h <= 14 && m < 60;
}

static bool valid_tm(const struct tm *tm)
{
	static const int md[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 &&
	    tm->tm_mday <= md[tm->tm_mon] && tm->tm_hour >= 0 &&
	    tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
	    tm->tm_sec >= 0 && tm->tm_sec <= 60 && tm->tm_year > -1900;
}

/* hh:mm[:ss[.fff]] at s; returns the length or 0 */
static size_t parse_clock(const char *s, struct tm *tm)
{
	const char *p = s;
	int v[3] = { 0, 0, 0 }, i;

	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return i >= 2 ? (size_t)(p - 1 - s) : 0;
		v[i] = *p++ - '0';
		if (isdigit((unsigned char)*p))
			v[i] = v[i] * 10 + (*p++ - '0');
		if (i < 2 && *p != ':') {
			if (i == 1)
				break;
			return 0;
		}
		if (i < 2)
			p++;
	}
	if (*p == '.' || *p == ',')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	tm->tm_hour = v[0];
	tm->tm_min = v[1];
	tm->tm_sec = v[2];
	return (size_t)(p - s);
}

/* ISO 8601-ish: YYYY-MM-DD[(T| )hh:mm[:ss[.f]]][zone] */
static bool iso_date(const char *s, time_t *out)
{
	struct tm tm;
	long off = 0;
	const char *p = s;
	size_t k;
	int used = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(p, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &used) != 3 || !isdigit((unsigned char)p[3]) || p[4] != '-')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* what the date took: "2026-1-5" is 8 bytes, not 10 (p += 10 ran
	 * past the end of a short string) */
	p += used;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if ((k = parse_clock(p + 1, &tm)))
			p += 1 + k;
	}
	while (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z')
		off = 0;
	else if (*p == '+' || *p == '-') {
		if (!numeric_zone(p, &off))
			return false;
	} else if (isalpha((unsigned char)*p)) {
		size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		long z = zone_of(p, n);
		if (z != INT32_MIN)
			off = z;
	}
	if (!valid_tm(&tm))
		return false;
	*out = cp_timegm(&tm) - off;
	return true;
}

/* RFC 822 and friends: order-tolerant tokens. */
static bool rfc822_date(const char *s, time_t *out)
{
	struct tm tm;
	long off = 0;
	int mon = -1, day = -1, year = -1;
	bool have_time = false;
	const char *p = s;

	memset(&tm, 0, sizeof tm);
	while (*p) {
		size_t n;
		if (*p == '(') {            /* "(PST)" comments */
			const char *e = strchr(p, ')');
			p = e ? e + 1 : p + strlen(p);
			continue;
		}
		if (isspace((unsigned char)*p) || *p == ',' || *p == '.') {
			p++;
			continue;
		}
		if (isalpha((unsigned char)*p)) {
			long z;
			n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
			if (mon < 0 && month_of(p, n) >= 0 && n <= 9)
				mon = month_of(p, n);
			else if ((z = zone_of(p, n)) != INT32_MIN && have_time)
				off = z;
			p += n;
			if ((*p == '+' || *p == '-') && numeric_zone(p, &off))
				p += strcspn(p, " ");
			continue;
		}
		if ((*p == '+' || *p == '-') && numeric_zone(p, &off)) {
			p += 1 + strspn(p + 1, "0123456789:");
			continue;
		}
		if (isdigit((unsigned char)*p)) {
			size_t k;
			n = strspn(p, "0123456789");
			if (p[n] == ':' && !have_time && (k = parse_clock(p, &tm))) {
				have_time = true;
				p += k;
				continue;
			}
			if (n <= 2 && day < 0 && year < 0)
				day = atoi(p);
			else if (n <= 2 && day < 0)
				day = atoi(p);
			else if (year < 0 && (n == 4 || n == 2))
				year = atoi(p);
			else
				return false;
			p += n;
			if (*p == '-' && mon < 0)   /* "02-Jan-2006" */
				p++;
			continue;
		}
		p++;
	}
	if (mon < 0 || day < 1 || year < 0)
		return false;
	if (year < 100)
		year += year < 50 ? 2000 : 1900;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	if (!valid_tm(&tm))
		return false;
	*out = cp_timegm(&tm) - off;
	return true;
}

bool cp_feed_date(const char *s, time_t *out)
{
	while (s && isspace((unsigned char)*s))
		s++;
	if (!s || !*s)
		return false;
	if (cp_time_parse(s, out))
		return true;
	if (iso_date(s, out))
		return true;
	return rfc822_date(s, out);
}

/* ---- text of elements ---- */

static void collect_text(const xmlNode *n, strbuf *sb)
{
	const xmlNode *c;

	for (c = n->children; c; c = c->next) {
		switch (c->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content)
				sb_adds(sb, (const char *)c->content);
			break;
		case XML_ENTITY_REF_NODE: {
			/* never expanded: only a known HTML entity counts */
			int32_t cp = entity((const char *)c->name,
			    strlen((const char *)c->name));
			if (cp >= 0)
				add_cp(sb, cp);
			break;
		}
		case XML_ELEMENT_NODE:
			collect_text(c, sb);
			break;
		default:
			break;
		}
	}
}

static char *trimmed(strbuf *sb)
{
	size_t a = 0, b = sb->len;

	while (a < b && isspace((unsigned char)sb->buf[a]))
		a++;
	while (b > a && isspace((unsigned char)sb->buf[b - 1]))
		b--;
	return xstrndup(sb->buf ? sb->buf + a : "", b - a);
}

static char *text_of(const xmlNode *n)
{
	strbuf sb = CP_STRBUF_INIT;
	char *s;

	collect_text(n, &sb);
	s = trimmed(&sb);
	sb_free(&sb);
	return s;
}

/* The children of n serialised as markup (Atom type="xhtml" and
 * undeclared markup inside RSS fields).  Entity references print as
 * references, never expanded. */
static char *markup_of(xmlDoc *doc, const xmlNode *n, bool xhtml)
{
	xmlBuffer *b = xmlBufferCreate();
	xmlNode *c;
	strbuf sb = CP_STRBUF_INIT;
	char *s;

	if (!b)
		return xstrdup("");
	for (c = n->children; c; c = c->next) {
		if (!xhtml && (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE)) {
			/* markup where none was declared (RSS): text keeps
			 * its decoded form; real XHTML is serialised as XML */
			if (c->content)
				xmlBufferCat(b, c->content);
		} else {
			xmlNodeDump(b, doc, c, 0, 0);
		}
	}
	sb_adds(&sb, (const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	s = trimmed(&sb);
	sb_free(&sb);
	return s;
}

static bool has_element_child(const xmlNode *n)
{
	const xmlNode *c;

	for (c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s;

	if (!v)
		return NULL;
	s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

static size_t b64val(int c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;

	return p ? (size_t)(p - t) : 64;
}

static char *base64_decode(const char *s, bool force)
{
	strbuf sb = CP_STRBUF_INIT;
	uint32_t acc = 0;
	int bits = 0;
	char *r;

	sb_adds(&sb, "");
	for (; *s && *s != '='; s++) {
		size_t v = b64val((unsigned char)*s);
		if (v == 64) {
			if (!force && !isspace((unsigned char)*s)) {
				sb_free(&sb);
				return NULL;
			}
			continue;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_addc(&sb, (char)((acc >> bits) & 0xFF));
		}
	}
	if (!force && (bits >= 6 || !cp_utf8_valid(sb.buf, sb.len))) {
		sb_free(&sb);
		return NULL;
	}
	r = cp_utf8_repair(sb.buf, sb.len, NULL);
	sb_free(&sb);
	return r;
}

/* An Atom text construct: text, html, xhtml, or base64 (0.3 mode, or a
 * non-text MIME type). */
static char *atom_text(xmlDoc *doc, const xmlNode *n)
{
	char *type = attr(n, "type"), *mode = attr(n, "mode"), *s, *t;

	if (type && (!strcmp(type, "xhtml") ||
	    !strcmp(type, "application/xhtml+xml"))) {
		const xmlNode *c, *div = NULL;
		for (c = n->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE) {
				if (!div && !strcmp((const char *)c->name, "div"))
					div = c;
				else
					div = NULL;
			}
		s = markup_of(doc, div ? div : n, true);
	} else if ((mode && !strcmp(mode, "base64")) || (type &&
	    strcmp(type, "text") && strcmp(type, "html") &&
	    strncmp(type, "text/", 5) && !strstr(type, "xml"))) {
		/* binary media types are base64 (RFC 4287 3.1.1.3); an
		 * unknown type whose text does not decode to UTF-8 text was
		 * meant as text */
		t = text_of(n);
		s = base64_decode(t, mode && !strcmp(mode, "base64"));
		if (!s)
			s = t;
		else
			free(t);
	} else if (has_element_child(n)) {
		s = markup_of(doc, n, false);
	} else {
		s = text_of(n);
	}
	free(type);
	free(mode);
	return s;
}

/* ---- items ---- */

static void set(char **dst, char *v)
{
	if (!v)
		return;
	if (!*v) {
		free(v);
		return;
	}
	free(*dst);
	*dst = v;
}

static void set_if_empty(char **dst, char *v)
{
	if (*dst || !v || !*v) {
		free(v);
		return;
	}
	*dst = v;
}

static char *resolve_in(xmlDoc *doc, const xmlNode *n, const char *ref)
{
	xmlChar *base = xmlNodeGetBase(doc, n);
	char *r = cp_url_resolve((const char *)base, ref);

	if (base)
		xmlFree(base);
	if (!r) {
		/* relative with nothing to resolve against: kept, trimmed */
		strbuf sb = CP_STRBUF_INIT;
		sb_adds(&sb, ref);
		r = trimmed(&sb);
		sb_free(&sb);
	}
	return r;
}

static char *date_text(const xmlNode *n, char **raw)
{
	char *t = text_of(n), buf[CP_TIME_MAX];
	time_t tt;

	if (raw && !*raw)
		*raw = xstrdup(t);
	if (!cp_feed_date(t, &tt)) {
		free(t);
		return NULL;
	}
	free(t);
	return xstrdup(cp_time_format(tt, buf));
}

static void add_category(cp_feed_item *it, char *c)
{
	if (!c || !*c) {
		free(c);
		return;
	}
	it->categories = xrealloc(it->categories,
	    (it->ncategories + 1) * sizeof *it->categories);
	it->categories[it->ncategories++] = c;
}

/* Does the Atom link element n name the entry's page? */
static bool alternate(const xmlNode *n)
{
	char *rel = attr(n, "rel");
	bool ok = !rel || !*rel || !strcmp(rel, "alternate");

	free(rel);
	return ok;
}

static void atom_author(const xmlNode *n, cp_feed_item *it)
{
	const xmlNode *c;
	enum fam f;

	for (c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp(lname(c, &f), "name"))
			set_if_empty(&it->author, text_of(c));
}

static void parse_entry(xmlDoc *doc, const xmlNode *e, cp_feed_item *it)
{
	const xmlNode *n;
	char *alt = NULL, *other = NULL;

	for (n = e->children; n; n = n->next) {
		enum fam f;
		const char *name;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		name = lname(n, &f);
		if (f == F_ATOM || f == F_NONE) {
			if (!strcmp(name, "title"))
				set(&it->title, atom_text(doc, n));
			else if (!strcmp(name, "id"))
				set(&it->guid, text_of(n));
			else if (!strcmp(name, "link")) {
				char *href = attr(n, "href");
				if (href && *href) {
					char *abs = resolve_in(doc, n, href);
					if (alternate(n))
						set_if_empty(&alt, abs);
					else
						set_if_empty(&other, abs);
				}
				free(href);
			} else if (!strcmp(name, "published") ||
			    !strcmp(name, "issued") || !strcmp(name, "created"))
				set_if_empty(&it->published, date_text(n,
				    &it->published_raw));
			else if (!strcmp(name, "updated") ||
			    !strcmp(name, "modified"))
				set_if_empty(&it->updated, date_text(n, NULL));
			else if (!strcmp(name, "summary"))
				set(&it->description, atom_text(doc, n));
			else if (!strcmp(name, "content"))
				set(&it->content, atom_text(doc, n));
			else if (!strcmp(name, "author"))
				atom_author(n, it);
			else if (!strcmp(name, "category"))
				add_category(it, attr(n, "term"));
		} else if (f == F_DC) {
			if (!strcmp(name, "creator"))
				set_if_empty(&it->author, text_of(n));
			else if (!strcmp(name, "date"))
				set_if_empty(&it->published, date_text(n,
				    &it->published_raw));
			else if (!strcmp(name, "subject"))
				add_category(it, text_of(n));
			else if (!strcmp(name, "title"))
				set_if_empty(&it->title, text_of(n));
		}
	}
	it->link = alt ? alt : other;
	if (alt)
		free(other);
	/* an id that is relative is relative to xml:base */
	if (it->guid && !cp_url_absolute(it->guid)) {
		char *r = resolve_in(doc, e, it->guid);
		free(it->guid);
		it->guid = r;
	}
}

static void parse_rss_item(xmlDoc *doc, const xmlNode *e, cp_feed_item *it)
{
	const xmlNode *n;
	char *link = NULL, *atomlink = NULL, *dc_title = NULL;

	it->guid_permalink = false;
	for (n = e->children; n; n = n->next) {
		enum fam f;
		const char *name;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		name = lname(n, &f);
		if (f == F_NONE || f == F_RSS) {
			if (!strcmp(name, "title"))
				set(&it->title, has_element_child(n) ?
				    markup_of(doc, n, false) : text_of(n));
			else if (!strcmp(name, "link")) {
				/* the last one wins, as in gofeed; an Atom-style
				 * <link href> without the namespace counts */
				char *t = text_of(n);
				if (!*t) {
					free(t);
					t = attr(n, "href");
				}
				if (t && *t)
					set(&link, resolve_in(doc, n, t));
				free(t);
			} else if (!strcmp(name, "guid")) {
				char *p = attr(n, "isPermaLink");
				set(&it->guid, has_element_child(n) ?
				    markup_of(doc, n, false) : text_of(n));
				it->guid_permalink = !p || strcasecmp(p, "false");
				free(p);
			} else if (!strcmp(name, "pubDate"))
				set_if_empty(&it->published, date_text(n,
				    &it->published_raw));
			else if (!strcmp(name, "description"))
				set(&it->description, has_element_child(n) ?
				    markup_of(doc, n, false) : text_of(n));
			else if (!strcmp(name, "author"))
				set_if_empty(&it->author, text_of(n));
			else if (!strcmp(name, "category"))
				add_category(it, text_of(n));
		} else if (f == F_CONTENT && !strcmp(name, "encoded")) {
			set(&it->content, text_of(n));
		} else if (f == F_DC) {
			if (!strcmp(name, "creator"))
				set_if_empty(&it->author, text_of(n));
			else if (!strcmp(name, "date")) {
				set_if_empty(&it->published, date_text(n,
				    &it->published_raw));
				set_if_empty(&it->updated, date_text(n, NULL));
			} else if (!strcmp(name, "modified"))
				set_if_empty(&it->updated, date_text(n, NULL));
			else if (!strcmp(name, "subject"))
				add_category(it, text_of(n));
			else if (!strcmp(name, "title"))
				set_if_empty(&dc_title, text_of(n));
		} else if (f == F_ATOM) {
			if (!strcmp(name, "link") && alternate(n)) {
				char *href = attr(n, "href");
				if (href && *href)
					set_if_empty(&atomlink,
					    resolve_in(doc, n, href));
				free(href);
			} else if (!strcmp(name, "published"))
				set_if_empty(&it->published, date_text(n,
				    &it->published_raw));
			else if (!strcmp(name, "updated"))
				set_if_empty(&it->updated, date_text(n, NULL));
			else if (!strcmp(name, "author"))
				atom_author(n, it);
		} else if (f == F_ITUNES && !strcmp(name, "author")) {
			set_if_empty(&it->author, text_of(n));
		}
	}
	set_if_empty(&it->title, dc_title);
	if (!link && atomlink) {
		link = atomlink;
		atomlink = NULL;
	}
	free(atomlink);
	/* RSS 1.0: rdf:about names the item */
	if (!link) {
		xmlChar *about = xmlGetNsProp(e, (const xmlChar *)"about",
		    (const xmlChar *)NS_RDF);
		if (about && *about)
			link = resolve_in(doc, e, (const char *)about);
		if (about)
			xmlFree(about);
	}
	if (!link && it->guid && it->guid_permalink &&
	    cp_url_absolute(it->guid))
		link = xstrdup(it->guid);
	it->link = link;
}

static cp_feed_item *new_item(cp_feed *f)
{
	cp_feed_item *it;

	f->items = xrealloc(f->items, (f->nitems + 1) * sizeof *f->items);
	it = &f->items[f->nitems++];
	memset(it, 0, sizeof *it);
	return it;
}

static void channel_meta(xmlDoc *doc, const xmlNode *ch, cp_feed *f)
{
	const xmlNode *n;

	for (n = ch->children; n; n = n->next) {
		enum fam fm;
		const char *name;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		name = lname(n, &fm);
		if (fm != F_NONE && fm != F_RSS && fm != F_ATOM)
			continue;
		if (!strcmp(name, "title") && !f->title)
			f->title = fm == F_ATOM ? atom_text(doc, n) : text_of(n);
		else if (!strcmp(name, "link") && !f->link) {
			char *href = fm == F_ATOM ? attr(n, "href") : text_of(n);
			if (href && *href && (fm != F_ATOM || alternate(n)))
				f->link = resolve_in(doc, n, href);
			free(href);
		}
	}
}

/* Walk for <item> / <entry> elements (RSS puts them under channel, RSS
 * 1.0 beside it, some feeds anywhere). */
static void find_items(xmlDoc *doc, const xmlNode *n, cp_feed *f, int depth)
{
	const xmlNode *c;

	if (depth > 4)
		return;
	for (c = n->children; c; c = c->next) {
		enum fam fm;
		const char *name;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		name = lname(c, &fm);
		if (f->kind == CP_FEED_ATOM && !strcmp(name, "entry") &&
		    (fm == F_ATOM || fm == F_NONE))
			parse_entry(doc, c, new_item(f));
		else if (f->kind != CP_FEED_ATOM && !strcmp(name, "item") &&
		    (fm == F_NONE || fm == F_RSS))
			parse_rss_item(doc, c, new_item(f));
		else if (!strcmp(name, "channel"))
			find_items(doc, c, f, depth + 1);
	}
}

/* ---- bytes to a document ---- */

/* The encoding named in the XML declaration, or NULL (static buffer). */
static const char *declared_encoding(const char *buf, size_t len, char *out,
    size_t outlen)
{
	const char *end, *p;
	size_t n;

	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
		buf += 3;
		len -= 3;
	}
	if (len < 5 || memcmp(buf, "<?xml", 5))
		return NULL;
	end = memchr(buf, '>', len < 300 ? len : 300);
	if (!end)
		return NULL;
	for (p = buf; p + 8 < end; p++)
		if (!strncmp(p, "encoding", 8))
			break;
	if (p + 8 >= end)
		return NULL;
	p += 8;
	while (p < end && (*p == ' ' || *p == '='))
		p++;
	if (p >= end || (*p != '"' && *p != '\''))
		return NULL;
	p++;
	/* the closing quote, before the '>' (strcspn would run past a
	 * buffer that is not NUL-terminated) */
	for (n = 0; p + n < end && p[n] != '"' && p[n] != '\''; n++)
		;
	if (n == 0 || n >= outlen || p + n >= end)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static bool utf16_bom(const char *buf, size_t len)
{
	return len >= 2 && (((unsigned char)buf[0] == 0xFF &&
	    (unsigned char)buf[1] == 0xFE) || ((unsigned char)buf[0] == 0xFE &&
	    (unsigned char)buf[1] == 0xFF));
}

static bool is_utf8_name(const char *e)
{
	return !strcasecmp(e, "utf-8") || !strcasecmp(e, "utf8") ||
	    !strcasecmp(e, "us-ascii") || !strcasecmp(e, "ascii");
}

/* Feeds use HTML's named entities without declaring them, which XML
 * forbids and libxml2 drops.  Rewrite the ones we know as numeric
 * references before parsing (unless the document declares entities of
 * its own: then nothing is touched).  NULL when nothing changed. */
static char *numeric_entities(const char *buf, size_t len)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *p = buf, *end = buf + len, *amp;
	bool changed = false;

	for (p = buf; (p = memchr(p, '<', (size_t)(end - p))); p++)
		if (end - p >= 8 && !memcmp(p, "<!ENTITY", 8))
			return NULL;
	p = buf;
	while ((amp = memchr(p, '&', (size_t)(end - p)))) {
		const char *q = amp + 1;
		int32_t cp;
		while (q < end && q - amp <= 10 && isalnum((unsigned char)*q))
			q++;
		if (q < end && *q == ';' && q > amp + 1 &&
		    (cp = entity(amp + 1, (size_t)(q - amp - 1))) >= 0 &&
		    cp != '&' && cp != '<' && cp != '>' && cp != '"' &&
		    cp != '\'') {
			sb_add(&sb, p, (size_t)(amp - p));
			sb_addf(&sb, "&#%d;", (int)cp);
			p = q + 1;
			changed = true;
			continue;
		}
		sb_add(&sb, p, (size_t)(amp + 1 - p));
		p = amp + 1;
	}
	if (!changed) {
		sb_free(&sb);
		return NULL;
	}
	sb_add(&sb, p, (size_t)(end - p));
	return sb_detach(&sb);
}

/* The end of the comment opened at p, within [p, end): strstr would run
 * past a buffer that is not NUL-terminated. */
static const char *comment_end(const char *p, const char *end)
{
	for (; end - p >= 3; p++)
		if (p[0] == '-' && p[1] == '-' && p[2] == '>')
			return p;
	return NULL;
}

bool cp_feed_sniff(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + (len < 4096 ? len : 4096);

	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p + 1 >= end || *p != '<')
			return false;
		if (p[1] == '?' || p[1] == '!') {
			const char *e = p[1] == '!' && end - p > 4 &&
			    !memcmp(p, "<!--", 4) ? comment_end(p, end) : NULL;
			p = e ? e + 3 : memchr(p, '>', (size_t)(end - p));
			if (!p)
				return false;
			if (!e)
				p++;
			continue;
		}
		p++;
		{
			size_t n = 0;
			const char *c;
			/* the element name, never past the end of buf */
			while (p + n < end && p[n] && !strchr(" \t\r\n>/", p[n]))
				n++;
			c = memchr(p, ':', n);
			if (c) {
				n -= (size_t)(c + 1 - p);
				p = c + 1;
			}
			return (n == 3 && !strncmp(p, "rss", 3)) ||
			    (n == 4 && !strncmp(p, "feed", 4)) ||
			    (n == 3 && !strncmp(p, "RDF", 3));
		}
	}
	return false;
}

/* A field that is not UTF-8 (libxml2 recovering from a charset it cannot
 * convert hands the bytes on as they were) gets its bad bytes replaced,
 * so every string of a cp_feed is UTF-8, as feed.h promises. */
static void repair(char **s, size_t *nbad)
{
	char *r;
	size_t k = 0;

	if (!*s || cp_utf8_valid(*s, strlen(*s)))
		return;
	r = cp_utf8_repair(*s, strlen(*s), &k);
	free(*s);
	*s = r;
	*nbad += k;
}

static void repair_fields(cp_feed *f)
{
	size_t i, j, n = 0;

	repair(&f->title, &n);
	repair(&f->link, &n);
	for (i = 0; i < f->nitems; i++) {
		cp_feed_item *it = &f->items[i];
		repair(&it->title, &n);
		repair(&it->link, &n);
		repair(&it->guid, &n);
		repair(&it->published_raw, &n);
		repair(&it->description, &n);
		repair(&it->content, &n);
		repair(&it->author, &n);
		for (j = 0; j < it->ncategories; j++)
			repair(&it->categories[j], &n);
	}
	f->bad_bytes += n;
}

int cp_feed_parse(const char *buf, size_t len, const char *url,
    const char *charset, cp_feed *out)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	xmlNode *root;
	const char *enc = NULL, *data = buf;
	char decl[64], *fixed = NULL;
	size_t dlen = len;
	int rc = CP_FEED_OK;
	enum fam fm;
	const char *rname;

	memset(out, 0, sizeof *out);
	while (dlen && isspace((unsigned char)*data)) {
		data++;
		dlen--;
	}
	if (!dlen) {
		snprintf(out->error, sizeof out->error, "empty response");
		return CP_FEED_EMPTY;
	}
	enc = declared_encoding(data, dlen, decl, sizeof decl);
	if (!enc && !utf16_bom(data, dlen)) {
		/* no declaration: the HTTP charset, else UTF-8 with the
		 * web's legacy default for bytes that are not UTF-8 */
		if (charset && *charset && !is_utf8_name(charset))
			enc = charset;
		else if (!cp_utf8_valid(data, dlen))
			enc = "windows-1252";
	} else if (enc && is_utf8_name(enc) && !cp_utf8_valid(data, dlen)) {
		/* declared UTF-8 but is not: keep what is readable */
		fixed = cp_utf8_repair(data, dlen, &out->bad_bytes);
		data = fixed;
		dlen = strlen(fixed);
	}
	if (enc && !is_utf8_name(enc))
		out->encoding = xstrdup(enc);
	if (!utf16_bom(data, dlen)) {
		char *ne = numeric_entities(data, dlen);
		if (ne) {
			free(fixed);
			fixed = ne;
			data = ne;
			dlen = strlen(ne);
		}
	}
	if (!(ctxt = xmlNewParserCtxt()))
		cp_die(71, "out of memory");
	/* NONET and no NOENT/DTDLOAD/HUGE: see feed.h */
	doc = xmlCtxtReadMemory(ctxt, data, (int)(dlen > 0x7fffffff ?
	    0x7fffffff : dlen), url, out->encoding ? out->encoding :
	    (out->bad_bytes ? "UTF-8" : NULL), XML_PARSE_RECOVER | XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160];
		size_t ml;
		snprintf(msg, sizeof msg, "%s", e && e->message ? e->message :
		    "not well-formed");
		ml = strlen(msg);
		while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
			msg[--ml] = '\0';
		if (ml)
			msg[0] = (char)tolower((unsigned char)msg[0]);
		snprintf(out->error, sizeof out->error, "malformed XML at line "
		    "%d: %s", e ? e->line : 0, msg);
		rc = CP_FEED_MALFORMED;
	}
	xmlFreeParserCtxt(ctxt);
	free(fixed);
	if (!doc || !(root = xmlDocGetRootElement(doc))) {
		if (doc)
			xmlFreeDoc(doc);
		if (!out->error[0])
			snprintf(out->error, sizeof out->error, "not XML");
		return CP_FEED_NOTFEED;
	}
	rname = lname(root, &fm);
	if (!strcmp(rname, "rss"))
		out->kind = CP_FEED_RSS2;
	else if (!strcmp(rname, "RDF"))
		out->kind = CP_FEED_RSS1;
	else if (!strcmp(rname, "feed"))
		out->kind = CP_FEED_ATOM;
	if (!out->kind) {
		snprintf(out->error, sizeof out->error, "not a feed: the "
		    "document is <%.40s>, not RSS or Atom", rname);
		xmlFreeDoc(doc);
		return CP_FEED_NOTFEED;
	}
	if (out->kind == CP_FEED_ATOM) {
		channel_meta(doc, root, out);
	} else {
		const xmlNode *c;
		for (c = root->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
			    !strcmp(lname(c, &fm), "channel"))
				channel_meta(doc, c, out);
	}
	find_items(doc, root, out, 0);
	xmlFreeDoc(doc);
	repair_fields(out);
	return rc;
}

void cp_feed_free(cp_feed *f)
{
	size_t i, j;

	for (i = 0; i < f->nitems; i++) {
		cp_feed_item *it = &f->items[i];
		free(it->title);
		free(it->link);
		free(it->guid);
		free(it->published);
		free(it->updated);
		free(it->published_raw);
		free(it->description);
		free(it->content);
		free(it->author);
		for (j = 0; j < it->ncategories; j++)
			free(it->categories[j]);
		free(it->categories);
	}
	free(f->items);
	free(f->title);
	free(f->link);
	free(f->encoding);
	memset(f, 0, sizeof *f);
}
