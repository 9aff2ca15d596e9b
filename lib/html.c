#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <jansson.h>

#include "html.h"
#include "mem.h"
#include "strbuf.h"

#define MAX_DEPTH 400

/* ---- what a tag is ---------------------------------------------------- */

enum { T_INLINE, T_BLOCK, T_DROP, T_BR, T_HEADING, T_ITEM };

static const char *const drop_tags[] = {
	"script", "style", "noscript", "template", "iframe", "object", "embed",
	"nav", "aside", "form", "button", "input", "select", "textarea",
	"option", "svg", "canvas", "video", "audio", "map", "head", "menu",
	"dialog", "label", "amp-ad", "amp-embed", "amp-sticky-ad",
	"amp-social-share", "amp-consent", "amp-user-notification",
	"amp-sidebar", "amp-analytics", "amp-pixel", "amp-iframe",
	"amp-list", "link", "meta", "title", NULL
};

static const char *const block_tags[] = {
	"p", "div", "section", "article", "main", "body", "html", "blockquote",
	"pre", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "ol",
	"dl", "dt", "dd", "figure", "figcaption", "caption", "address",
	"center", "header", "footer", "hr", "fieldset", "details", "summary",
	"hgroup", NULL
};

static int in_list(const char *name, const char *const *list)
{
	int i;
	for (i = 0; list[i]; i++)
		if (!strcasecmp(name, list[i]))
			return 1;
	return 0;
}

static int tag_kind(const char *name)
{
	if (!strcasecmp(name, "br"))
		return T_BR;
	if ((name[0] == 'h' || name[0] == 'H') && name[1] >= '1' &&
	    name[1] <= '6' && !name[2])
		return T_HEADING;
	if (!strcasecmp(name, "li"))
		return T_ITEM;
	if (in_list(name, drop_tags))
		return T_DROP;
	if (in_list(name, block_tags))
		return T_BLOCK;
	return T_INLINE;
}

/* ---- class / id / role cues ------------------------------------------- */

/* A class or id token that marks page chrome (whole token or prefix). */
/* Names that mean chrome whatever else the name says ("comment-content",
 * "related-content" are still comments and related links). */
static const char *const hard_prefix[] = {
	"comment", "related", "share", "sharing", "social", "newsletter",
	"cookie", "consent", "gdpr", "sidebar", "promo", "advert", "sponsor",
	"subscri", "outbrain", "taboola", "disqus", "breadcrumb", "popup",
	"modal", "paywall", "recommend", "trending", "mostread", "most-read",
	"signup", NULL
};

static const char *const neg_prefix[] = {
	"cookie", "consent", "gdpr", "share", "sharing", "social", "newsletter",
	"subscri", "signup", "sign-up", "related", "recommend", "promo",
	"advert", "sponsor", "comment", "disqus", "breadcrumb", "sidebar",
	"footer", "masthead", "navbar", "navigation", "paywall", "popup",
	"modal", "overlay", "outbrain", "taboola", "trending", "popular",
	"mostread", "most-read", "toolbar", "banner", "byline", "authorbio",
	"author-bio", "pagination", "pager", "skip", "widget", "teaser",
	"dateline-tools", "print", "social", NULL
};
static const char *const neg_exact[] = {
	"ad", "ads", "adv", "advert", "nav", "menu", "header", "footer", "bio",
	"tags", "tag", "topics", "hidden", "hide", "sr", "only", "more",
	"read", "also", "rail", "aside", "meta", "author", "share", "cta",
	"login", "signin", "account", "legal", "copyright", "credits",
	"caption", "credit", "nl", "fb", "tw", "li", "wa", "replies",
	"reply", "disclaimer", "notice", "alert", "breaking", "ticker",
	"topline", "kicker", "utility", "masthead", "stock", "quote",
	"bottom", "extra", "supplemental", NULL
};
static const char *const pos_tokens[] = {
	"content", "body", "text", "article", "story", "main", "post", "entry",
	"blog", "prose", "richtext", "rich", NULL
};

static int tok_match(const char *t, size_t n, const char *const *list,
    int prefix)
{
	int i;
	for (i = 0; list[i]; i++) {
		size_t m = strlen(list[i]);
		if (prefix ? (n >= m && !strncasecmp(t, list[i], m)) :
		    (n == m && !strncasecmp(t, list[i], m)))
			return 1;
	}
	return 0;
}

/*
 * Weigh a class or id value: negative when some token names chrome and the
 * last token does not name content ("article-footer" is chrome,
 * "article-body" and "footer-content"… are not).  Returns -1, 0 or 1.
 */
static int cue_weight(const char *v)
{
	const char *p = v;
	int neg = 0, pos = 0, lastpos = 0;

	while (*p) {
		const char *s;
		size_t n;
		while (*p && !isalnum((unsigned char)*p))
			p++;
		s = p;
		while (*p && isalnum((unsigned char)*p))
			p++;
		n = (size_t)(p - s);
		if (!n)
			break;
		lastpos = 0;
		if (tok_match(s, n, hard_prefix, 1))
			return -1;
		if (tok_match(s, n, pos_tokens, 0)) {
			pos = lastpos = 1;
		} else if (tok_match(s, n, neg_exact, 0) ||
		    tok_match(s, n, neg_prefix, 1)) {
			neg = 1;
		}
	}
	if (tok_match(v, strlen(v), hard_prefix, 1))
		return -1;
	/* whole-value prefixes: "sharebar", "cookiebanner", "relatedposts" */
	if (!neg && tok_match(v, strlen(v), neg_prefix, 1))
		neg = 1;
	if (neg && !lastpos)
		return -1;
	return pos ? 1 : 0;
}

static const char *attr(xmlNode *n, const char *name)
{
	xmlAttr *a;
	for (a = n->properties; a; a = a->next)
		if (a->name && !strcasecmp((const char *)a->name, name))
			return a->children && a->children->content ?
			    (const char *)a->children->content : "";
	return NULL;
}

static int hidden(xmlNode *n)
{
	const char *v;

	if (attr(n, "hidden"))
		return 1;
	if ((v = attr(n, "aria-hidden")) && !strcasecmp(v, "true"))
		return 1;
	if ((v = attr(n, "style")) && (strstr(v, "display:none") ||
	    strstr(v, "display: none") || strstr(v, "visibility:hidden") ||
	    strstr(v, "visibility: hidden")))
		return 1;
	if ((v = attr(n, "role")) && (!strcasecmp(v, "navigation") ||
	    !strcasecmp(v, "banner") || !strcasecmp(v, "contentinfo") ||
	    !strcasecmp(v, "complementary") || !strcasecmp(v, "dialog") ||
	    !strcasecmp(v, "alertdialog") || !strcasecmp(v, "menu") ||
	    !strcasecmp(v, "menubar") || !strcasecmp(v, "search") ||
	    !strcasecmp(v, "alert")))
		return 1;
	return 0;
}

/* ---- blocks and candidates -------------------------------------------- */

typedef struct block {
	strbuf text;
	size_t chars, linkchars, commas;
	xmlNode *elem;        /* the block-level element holding the text */
	int heading;          /* 1..6, or 0 */
	int item;             /* inside li */
	xmlNode *neg;         /* innermost ancestor whose class/id says chrome */
	int in_header;        /* inside an article's own <header> */
} block;

typedef struct cand {
	xmlNode *node;
	double score;
	size_t chars, linkchars;
	size_t negchars, neglink;
	int init;
} cand;

typedef struct ctx {
	int mode;
	block *b;
	size_t nb, cap;
	block *cur;
	int pending_br;
	cand *c;
	size_t nc, ccap;
	int too_deep;
	xmlNode *neg;
	int in_header;
} ctx;

static block *new_block(ctx *x, xmlNode *elem, int heading, int item)
{
	block *b;

	if (x->nb == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->b = xrealloc(x->b, x->cap * sizeof *x->b);
	}
	b = &x->b[x->nb++];
	memset(b, 0, sizeof *b);
	sb_init(&b->text);
	b->elem = elem;
	b->heading = heading;
	b->item = item;
	b->neg = x->neg;
	b->in_header = x->in_header;
	return b;
}

static void flush(ctx *x)
{
	x->cur = NULL;
	x->pending_br = 0;
}

static void add_text(ctx *x, xmlNode *elem, const char *s, int in_link,
    int heading, int item)
{
	size_t i, nch = 0, ncomma = 0, len = strlen(s);
	int any = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > ' ' && (c & 0xC0) != 0x80) {
			nch++;
			any = 1;
		}
		if (c == ',')
			ncomma++;
	}
	if (!x->cur) {
		if (!any)
			return;
		x->cur = new_block(x, elem, heading, item);
	}
	if (any)
		x->pending_br = 0;
	/* source line breaks are spaces, except in preformatted text */
	if (elem && elem->name && !strcasecmp((const char *)elem->name, "pre")) {
		sb_add(&x->cur->text, s, len);
	} else {
		for (i = 0; i < len; i++)
			sb_addc(&x->cur->text, s[i] == '\n' || s[i] == '\r' ||
			    s[i] == '\t' ? ' ' : s[i]);
	}
	x->cur->chars += nch;
	x->cur->commas += ncomma;
	if (in_link)
		x->cur->linkchars += nch;
}

static void walk(ctx *x, xmlNode *n, int depth, int in_link, int heading,
    int item, xmlNode *elem);

static int inside_article(xmlNode *n)
{
	int d = 0;
	for (n = n->parent; n && n->type == XML_ELEMENT_NODE && d < MAX_DEPTH;
	    n = n->parent, d++)
		if (!strcasecmp((const char *)n->name, "article") ||
		    !strcasecmp((const char *)n->name, "main"))
			return 1;
	return 0;
}

static void element(ctx *x, xmlNode *c, int depth, int in_link,
    int heading, int item, xmlNode *elem)
{
	const char *name = (const char *)c->name;
	int kind = tag_kind(name);
	const char *v;
	xmlNode *saved_neg = x->neg;
	int neg = 0;

	if (kind == T_DROP)
		return;
	if (kind == T_BR) {
		if (x->cur) {
			if (x->pending_br) {
				flush(x);   /* <br><br>: a paragraph break */
			} else {
				sb_addc(&x->cur->text, '\n');
				x->pending_br = 1;
			}
		}
		return;
	}
	if (x->mode == CP_HTML_MAIN) {
		if (hidden(c))
			return;
		if (strcasecmp(name, "body") && strcasecmp(name, "html") &&
		    strcasecmp(name, "main") && strcasecmp(name, "article") &&
		    (((v = attr(c, "class")) && cue_weight(v) < 0) ||
		    ((v = attr(c, "id")) && cue_weight(v) < 0))) {
			/* inline chrome (a share link in a paragraph) goes at
			 * once; a block may yet turn out to wrap the page */
			if (kind == T_INLINE)
				return;
			neg = 1;
		}
		/* the site's header and footer go; an article's own header
		 * holds the headline, kicker and byline, and sometimes a
		 * standfirst worth keeping (keep_block decides) */
		if (!strcasecmp(name, "footer"))
			return;
		if (!strcasecmp(name, "header")) {
			if (!inside_article(c))
				return;
			{
				int saved = x->in_header;
				x->in_header = 1;
				flush(x);
				walk(x, c, depth + 1, in_link, heading, item, c);
				flush(x);
				x->in_header = saved;
			}
			return;
		}
	}
	if (kind == T_INLINE) {
		walk(x, c, depth + 1, in_link || !strcasecmp(name, "a"), heading,
		    item, elem);
		return;
	}
	flush(x);
	if (kind == T_HEADING)
		heading = name[1] - '0';
	if (kind == T_ITEM)
		item = 1;
	if (neg)
		x->neg = c;
	walk(x, c, depth + 1, in_link, heading, item, c);
	flush(x);
	x->neg = saved_neg;
}

static void walk(ctx *x, xmlNode *n, int depth, int in_link, int heading,
    int item, xmlNode *elem)
{
	xmlNode *c;

	if (depth > MAX_DEPTH) {
		x->too_deep = 1;
		return;
	}
	for (c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content)
				add_text(x, elem, (const char *)c->content,
				    in_link, heading, item);
		} else if (c->type == XML_ELEMENT_NODE && c->name) {
			element(x, c, depth, in_link, heading, item, elem);
		}
	}
}

/* ---- scoring ---------------------------------------------------------- */

static int cand_of(ctx *x, xmlNode *n)
{
	intptr_t i = (intptr_t)n->_private;

	if (i > 0 && (size_t)i <= x->nc && x->c[i - 1].node == n)
		return (int)(i - 1);
	if (x->nc == x->ccap) {
		x->ccap = x->ccap ? x->ccap * 2 : 64;
		x->c = xrealloc(x->c, x->ccap * sizeof *x->c);
	}
	memset(&x->c[x->nc], 0, sizeof x->c[x->nc]);
	x->c[x->nc].node = n;
	n->_private = (void *)(intptr_t)(x->nc + 1);
	return (int)x->nc++;
}

static double tag_weight(xmlNode *n)
{
	const char *name = (const char *)n->name;
	const char *v;
	double w = 0;

	if (!strcasecmp(name, "div") || !strcasecmp(name, "article") ||
	    !strcasecmp(name, "main") || !strcasecmp(name, "section"))
		w = 5;
	else if (!strcasecmp(name, "pre") || !strcasecmp(name, "td") ||
	    !strcasecmp(name, "blockquote"))
		w = 3;
	else if (!strcasecmp(name, "ol") || !strcasecmp(name, "ul") ||
	    !strcasecmp(name, "dl") || !strcasecmp(name, "li") ||
	    !strcasecmp(name, "address"))
		w = -3;
	else if (!strcasecmp(name, "th") || (name[0] == 'h' && name[1] &&
	    isdigit((unsigned char)name[1])))
		w = -5;
	if (!strcasecmp(name, "article") || !strcasecmp(name, "main"))
		w += 10;
	if ((v = attr(n, "class")))
		w += 25 * cue_weight(v);
	if ((v = attr(n, "id")))
		w += 25 * cue_weight(v);
	if ((v = attr(n, "itemprop")) && strstr(v, "articleBody"))
		w += 50;
	return w;
}

static int is_descendant(xmlNode *n, xmlNode *anc)
{
	int d = 0;
	for (; n && d < MAX_DEPTH + 8; n = n->parent, d++)
		if (n == anc)
			return 1;
	return 0;
}

/*
 * A class like "has-sidebar" or "with-related" can sit on the element
 * that wraps the whole page.  A chrome-named element holding most of the
 * page's text, little of it links, is such a wrapper: its blocks stay.
 */
static void release_wrappers(ctx *x)
{
	size_t i, total = 0;

	for (i = 0; i < x->nb; i++) {
		block *b = &x->b[i];
		total += b->chars;
		if (b->neg) {
			int k = cand_of(x, b->neg);
			x->c[k].negchars += b->chars;
			x->c[k].neglink += b->linkchars;
		}
	}
	for (i = 0; i < x->nb; i++) {
		block *b = &x->b[i];
		cand *c;
		if (!b->neg)
			continue;
		c = &x->c[cand_of(x, b->neg)];
		if (c->negchars * 10 > total * 4 && c->neglink * 10 <
		    c->negchars * 3)
			b->neg = NULL;
	}
}

static void score(ctx *x)
{
	size_t i;

	release_wrappers(x);
	for (i = 0; i < x->nb; i++) {
		block *b = &x->b[i];
		xmlNode *p;
		double s;
		int level;

		if (b->neg)
			continue;

		/* every ancestor learns how much text and link text it holds */
		for (p = b->elem; p && p->type == XML_ELEMENT_NODE; p = p->parent) {
			int k = cand_of(x, p);
			x->c[k].chars += b->chars;
			x->c[k].linkchars += b->linkchars;
		}
		if (b->chars < 25 || b->heading)
			continue;
		s = 1 + (double)b->commas + (b->chars / 100 > 3 ? 3 :
		    (double)(b->chars / 100));
		p = b->elem;
		/* text straight in a div scores the div itself, like a <p> */
		if (p && strcasecmp((const char *)p->name, "p") &&
		    strcasecmp((const char *)p->name, "li") &&
		    strcasecmp((const char *)p->name, "td") &&
		    strcasecmp((const char *)p->name, "pre") &&
		    strcasecmp((const char *)p->name, "dd") &&
		    strcasecmp((const char *)p->name, "blockquote"))
			;
		else if (p)
			p = p->parent;
		for (level = 0; p && p->type == XML_ELEMENT_NODE && level < 5;
		    p = p->parent, level++) {
			int k = cand_of(x, p);
			if (!x->c[k].init) {
				x->c[k].init = 1;
				x->c[k].score += tag_weight(p);
			}
			x->c[k].score += level == 0 ? s : level == 1 ? s / 2 :
			    s / (level * 3);
		}
	}
}

static double link_density(const cand *c)
{
	return c->chars ? (double)c->linkchars / (double)c->chars : 0;
}

/* Short lines that are page furniture in any layout. */
static const char *const chrome_lines[] = {
	"advertisement", "anzeige", "werbung", "publicidad", "publicité",
	"pubblicità", "reklama", "реклама", "read more", "read next",
	"continue reading", "share this", "share on", "sign up", "subscribe",
	"all rights reserved", "copyright", "©", "related:", "see also",
	"читайте також", "читайте также", "lesen sie auch", "mehr zum thema",
	"lee también", "leia mais", "leia também", "czytaj także",
	"czytaj też", "lees ook", "lire aussi", "à lire aussi", "leggi anche",
	"click here", "follow us", "photo:", "image:", "foto:", NULL
};

/* Bylines in several languages: "By Jane Doe", "Von …", "Por …". */
static const char *const byline_words[] = {
	"by ", "von ", "por ", "par ", "di ", "door ", "autor: ", "author: ",
	"автор: ", "від ", NULL
};

/* Month names and abbreviations a dateline starts its words with. */
static const char *const month_stems[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec", "mär", "mai", "okt", "dez", "janv", "févr", "avr",
	"juil", "août", "déc", "ene", "abr", "ago", "dic", "gen", "mag", "giu",
	"lug", "set", "ott", "updated", "published", "aktualisiert", NULL
};

/* A short line that is only a byline or a date ("By Ray Duffy",
 * "25 November 2026", "Updated Nov. 3, 2026 10:32"): page furniture when
 * no class name said so.  A year must stand alone ("R-2026-04431" is a
 * reference, not a date) beside a month name. */
static int byline_or_date(const char *t, size_t chars)
{
	int i, words = 1, year = 0, month = 0;
	const char *p;

	if (chars > 60)
		return 0;
	for (i = 0; byline_words[i]; i++)
		if (!strncasecmp(t, byline_words[i], strlen(byline_words[i])) &&
		    !strpbrk(t, ".!?"))
			return 1;
	for (p = t; *p; p++) {
		int start = p == t || !(isalnum((unsigned char)p[-1]) ||
		    p[-1] == '-' || p[-1] == '/' || (unsigned char)p[-1] >= 0x80);
		if (*p == ' ')
			words++;
		if (start && (p[0] == '1' || p[0] == '2') &&
		    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) && !isalnum((unsigned char)p[4]) &&
		    p[4] != '-' && p[4] != '/')
			year = 1;
		if (start && isalpha((unsigned char)*p))
			for (i = 0; month_stems[i]; i++)
				if (!strncasecmp(p, month_stems[i],
				    strlen(month_stems[i])))
					month = 1;
	}
	return year && month && words <= 6;
}

static int chrome_line(const block *b)
{
	const char *t = b->text.buf ? b->text.buf : "";
	int i;

	while (*t == ' ' || *t == '\n' || *t == '\t')
		t++;
	if (b->chars > 160)
		return 0;
	for (i = 0; chrome_lines[i]; i++)
		if (!strncasecmp(t, chrome_lines[i], strlen(chrome_lines[i])))
			return 1;
	return byline_or_date(t, b->chars);
}

static int keep_block(const block *b, int mode)
{
	double ld = b->chars ? (double)b->linkchars / (double)b->chars : 0;

	if (mode == CP_HTML_ALL)
		return 1;
	if (b->neg || b->heading == 1)
		return 0;
	/* in an article's header only a standfirst: a real sentence */
	if (b->in_header) {
		const char *t = b->text.buf ? b->text.buf : "";
		size_t n = b->text.len;
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\n'))
			n--;
		if (b->chars < 60 || !n || !strchr(".!?\"", t[n - 1]))
			return 0;
	}
	if (ld > 0.5)
		return 0;
	if (chrome_line(b))
		return 0;
	return 1;
}

static void emit(ctx *x, strbuf *out, int (*want)(ctx *, block *, void *),
    void *arg)
{
	size_t i;
	char *keep = xcalloc(x->nb + 1, 1);

	for (i = 0; i < x->nb; i++)
		keep[i] = keep_block(&x->b[i], x->mode) &&
		    (!want || want(x, &x->b[i], arg));
	/* a heading whose section went ("Related topics" over a dropped
	 * list of links) goes with it */
	for (i = 0; x->mode == CP_HTML_MAIN && i < x->nb; i++)
		if (keep[i] && x->b[i].heading && (i + 1 >= x->nb || !keep[i + 1]))
			keep[i] = 0;
	for (i = 0; i < x->nb; i++) {
		block *b = &x->b[i];
		if (!keep[i])
			continue;
		if (out->len)
			sb_adds(out, "\n\n");
		if (x->mode == CP_HTML_ALL || !memchr(b->text.buf, '\n',
		    b->text.len)) {
			sb_add(out, b->text.buf, b->text.len);
			continue;
		}
		/* lines split by <br>: a byline or a date among them goes */
		{
			const char *l = b->text.buf, *e;
			size_t mark = out->len;
			for (; *l; l = *e ? e + 1 : e) {
				char *line;
				size_t n;
				e = strchr(l, '\n');
				if (!e)
					e = l + strlen(l);
				n = (size_t)(e - l);
				line = xstrndup(l, n);
				{
					char *t = line;
					size_t c = 0, k;
					while (*t == ' ')
						t++;
					for (k = 0; t[k]; k++)
						if (((unsigned char)t[k] & 0xC0) != 0x80)
							c++;
					if (!byline_or_date(t, c)) {
						if (out->len > mark)
							sb_addc(out, '\n');
						sb_add(out, l, n);
					}
				}
				free(line);
			}
		}
	}
	free(keep);
}

typedef struct sel {
	xmlNode **nodes;
	size_t n;
} sel;

static int in_sel(ctx *x, block *b, void *arg)
{
	sel *s = arg;
	size_t i;
	xmlNode *a;
	int d = 0;

	(void)x;
	for (i = 0; i < s->n; i++)
		if (is_descendant(b->elem, s->nodes[i]))
			return 1;
	if (!b->in_header)
		return 0;
	/* the standfirst in the header of the article the text is in */
	for (a = b->elem; a && a->type == XML_ELEMENT_NODE && d < MAX_DEPTH;
	    a = a->parent, d++)
		if (!strcasecmp((const char *)a->name, "article") ||
		    !strcasecmp((const char *)a->name, "main"))
			break;
	if (!a || a->type != XML_ELEMENT_NODE)
		return 0;
	for (i = 0; i < s->n; i++)
		if (is_descendant(s->nodes[i], a))
			return 1;
	return 0;
}

static void choose(ctx *x, strbuf *out, int *whole)
{
	size_t i, best = (size_t)-1;
	double top = 0;
	xmlNode *tn, *p, *sib;
	sel s = { NULL, 0 };

	for (i = 0; i < x->nc; i++) {
		cand *c = &x->c[i];
		if (!c->init)
			continue;
		c->score *= 1 - link_density(c);
		if (best == (size_t)-1 || c->score > top) {
			top = c->score;
			best = i;
		}
	}
	if (best == (size_t)-1 || top <= 0) {
		*whole = 1;
		emit(x, out, NULL, NULL);
		return;
	}
	tn = x->c[best].node;
	/* a lone <p>-less wrapper with one child: climb while the parent adds
	 * real text the child does not have (split article bodies) */
	for (p = tn->parent; p && p->type == XML_ELEMENT_NODE; p = p->parent) {
		int k = cand_of(x, p);
		if (x->c[k].init && x->c[k].score >= top * 0.95 &&
		    strcasecmp((const char *)p->name, "body") &&
		    strcasecmp((const char *)p->name, "html"))
			tn = p;
		else
			break;
	}
	/* the best container holds a minority of its parent's text, and the
	 * parent is no link farm: the article is the parent (a fragment whose
	 * paragraphs sit beside a well-named intro box) */
	for (p = tn->parent; p && p->type == XML_ELEMENT_NODE &&
	    strcasecmp((const char *)p->name, "html"); p = p->parent) {
		cand *pc = &x->c[cand_of(x, p)], *tc = &x->c[cand_of(x, tn)];
		if (tc->chars * 10 < pc->chars * 6 && link_density(pc) < 0.25)
			tn = p;
		else
			break;
	}
	s.nodes = xmalloc(sizeof *s.nodes);
	s.nodes[s.n++] = tn;
	if (tn->parent) {
		double thr = top * 0.2 > 10 ? top * 0.2 : 10;
		for (sib = tn->parent->children; sib; sib = sib->next) {
			int k;
			intptr_t idx;
			if (sib == tn || sib->type != XML_ELEMENT_NODE)
				continue;
			idx = (intptr_t)sib->_private;
			if (idx <= 0 || (size_t)idx > x->nc ||
			    x->c[idx - 1].node != sib)
				continue;
			k = (int)(idx - 1);
			if ((x->c[k].init && x->c[k].score >= thr) ||
			    (!strcasecmp((const char *)sib->name, "p") &&
			    x->c[k].chars > 80 && link_density(&x->c[k]) < 0.25)) {
				s.nodes = xrealloc(s.nodes, (s.n + 1) *
				    sizeof *s.nodes);
				s.nodes[s.n++] = sib;
			}
		}
	}
	emit(x, out, in_sel, &s);
	free(s.nodes);
}

/* ---- metadata --------------------------------------------------------- */

static const char *find_ci(const char *h, const char *needle)
{
	size_t n = strlen(needle);
	for (; *h; h++)
		if (!strncasecmp(h, needle, n))
			return h;
	return NULL;
}

static char *node_text(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *r = t ? xstrdup((const char *)t) : NULL;
	xmlFree(t);
	return r;
}

static void meta(xmlNode *n, cp_html_result *r, int depth)
{
	xmlNode *c;

	if (depth > 8)
		return;
	for (c = n; c; c = c->next) {
		const char *name, *v;
		if (c->type != XML_ELEMENT_NODE || !c->name)
			continue;
		name = (const char *)c->name;
		if (!strcasecmp(name, "html") && !r->lang && (v = attr(c, "lang")) &&
		    *v)
			r->lang = xstrdup(v);
		if (!strcasecmp(name, "title") && !r->title)
			r->title = node_text(c);
		if (!strcasecmp(name, "meta")) {
			if ((v = attr(c, "charset")) && !r->charset)
				r->charset = xstrdup(v);
			if ((v = attr(c, "http-equiv")) &&
			    !strcasecmp(v, "content-type") && !r->charset &&
			    (v = attr(c, "content")) && (v = find_ci(v,
			    "charset=")))
				r->charset = xstrdup(v + 8);
		}
		if (!strcasecmp(name, "html") || !strcasecmp(name, "head"))
			meta(c->children, r, depth + 1);
	}
}

/* ---- JSON-LD ---------------------------------------------------------- */

/* The longest "articleBody" in a JSON-LD value (borrowed), or NULL. */
static const char *ld_body(const json_t *v, int depth)
{
	const char *best = NULL, *b, *key;
	size_t i;
	json_t *x;

	if (depth > 8)
		return NULL;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x) {
			if (!strcmp(key, "articleBody") && json_is_string(x))
				b = json_string_value(x);
			else
				b = ld_body(x, depth + 1);
			if (b && (!best || strlen(b) > strlen(best)))
				best = b;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if ((b = ld_body(x, depth + 1)) &&
			    (!best || strlen(b) > strlen(best)))
				best = b;
	}
	return best;
}

/* Pages rendered by scripts often carry the whole article only in their
 * schema.org JSON-LD; keep the longest articleBody found. */
static void find_ld(xmlNode *n, int depth, char **out)
{
	xmlNode *c;

	if (depth > MAX_DEPTH)
		return;
	for (c = n; c; c = c->next) {
		const char *type;
		if (c->type != XML_ELEMENT_NODE || !c->name)
			continue;
		if (!strcasecmp((const char *)c->name, "script") &&
		    (type = attr(c, "type")) && strstr(type, "ld+json")) {
			xmlChar *t = xmlNodeGetContent(c);
			json_t *j = t ? json_loads((const char *)t, 0, NULL) : NULL;
			const char *b = j ? ld_body(j, 0) : NULL;
			if (b && (!*out || strlen(b) > strlen(*out))) {
				free(*out);
				*out = xstrdup(b);
			}
			json_decref(j);
			xmlFree(t);
			continue;
		}
		find_ld(c->children, depth + 1, out);
	}
}

static size_t nchars(const char *s)
{
	size_t c = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80 && (unsigned char)*s > ' ')
			c++;
	return c;
}

/* ---- entry points ----------------------------------------------------- */

void cp_html_init(void)
{
	static int done;
	if (!done) {
		xmlInitParser();
		done = 1;
	}
}

/* Does s[i..len) start with the (lower-case) word w, ignoring case? */
static int at_ci(const char *s, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);
	return i + n <= len && !strncasecmp(s + i, w, n);
}

int cp_html_sniff(const char *s, size_t len)
{
	size_t i = 0, lim = len < 1024 ? len : 1024;

	while (i < lim && isspace((unsigned char)s[i]))
		i++;
	if (i + 3 <= len && !memcmp(s + i, "\xEF\xBB\xBF", 3))
		i += 3;
	if (i < lim && s[i] == '<')
		return 1;
	/* a fragment that starts with text but carries markup soon after */
	for (; i + 2 < lim; i++)
		if (s[i] == '<' && (at_ci(s, lim, i + 1, "p>") ||
		    at_ci(s, lim, i + 1, "br") || at_ci(s, lim, i + 1, "div") ||
		    at_ci(s, lim, i + 1, "/p>")))
			return 1;
	return 0;
}

void cp_html_extract(const char *html, size_t len, int mode,
    cp_html_result *out)
{
	htmlDocPtr doc;
	xmlNode *root;
	ctx x;
	strbuf sb = CP_STRBUF_INIT;
	size_t i;

	memset(out, 0, sizeof *out);
	memset(&x, 0, sizeof x);
	x.mode = mode;
	cp_html_init();
	if (len > INT32_MAX)
		len = INT32_MAX;
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT | XML_PARSE_HUGE);
	if (!doc || !(root = xmlDocGetRootElement(doc))) {
		if (doc)
			xmlFreeDoc(doc);
		out->text = xstrdup("");
		out->empty = 1;
		return;
	}
	meta(root, out, 0);
	{
		/* walk from a synthetic parent so the root element is seen */
		xmlNode fake;
		memset(&fake, 0, sizeof fake);
		fake.children = root;
		walk(&x, &fake, 0, 0, 0, 0, root);
	}
	if (mode == CP_HTML_MAIN) {
		score(&x);
		choose(&x, &sb, &out->whole);
	} else {
		emit(&x, &sb, NULL, NULL);
	}
	if (mode == CP_HTML_MAIN) {
		char *ld = NULL;
		find_ld(root, 0, &ld);
		/* the DOM gave a fraction of what the page says it holds */
		if (ld && nchars(ld) >= 200 && nchars(ld) > 2 * nchars(sb_str(&sb))) {
			sb_reset(&sb);
			sb_adds(&sb, ld);
			out->from_ld = 1;
			out->whole = 0;
		}
		free(ld);
	}
	for (i = 0; i < x.nb; i++)
		sb_free(&x.b[i].text);
	free(x.b);
	free(x.c);
	xmlFreeDoc(doc);
	out->too_deep = x.too_deep;
	out->text = sb_detach(&sb);
	if (!out->text)
		out->text = xstrdup("");
	out->empty = !*out->text;
}

void cp_html_free(cp_html_result *r)
{
	free(r->text);
	free(r->title);
	free(r->lang);
	free(r->charset);
	memset(r, 0, sizeof *r);
}
