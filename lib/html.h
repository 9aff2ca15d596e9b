/*
 * html.h — HTML to the main text of the page.
 *
 * libxml2's HTML parser (recovering, no network, no error output) builds
 * the tree; the body is always taken as UTF-8 whatever the page declares,
 * because document bodies reach us as JSON strings, already decoded.
 *
 * Main-text selection, in the spirit of Mozilla's Readability and
 * trafilatura, from general cues only:
 *   1. drop what is never content: script, style, nav, header/footer of
 *      the site, aside, forms, buttons, iframes, AMP ads/consent/share
 *      widgets, hidden elements, ARIA roles navigation/banner/contentinfo/
 *      complementary/dialog, and elements whose class or id says cookie,
 *      share, social, newsletter, related, comment, promo, sidebar…
 *      (unless the last word of the name says content: "article-body");
 *   2. cut the rest into paragraph-level blocks (p, li, headings, table
 *      cells, text directly in a div, <br><br> runs), each with its text
 *      length, link-text length and commas;
 *   3. score containers: each block passes a score to its parent and,
 *      decaying, to its ancestors; tag and class/id weights; the score is
 *      scaled by (1 − link density); the best container and its
 *      well-scored siblings are the article;
 *   4. inside it, drop blocks dense with links ("Read more: …"), short
 *      chrome lines ("Advertisement", "Share this article"), and the h1
 *      (the title travels in its own field).
 * When nothing scores (a short fragment), every kept block is the text.
 * When the page's schema.org JSON-LD carries an articleBody more than
 * twice as long as what the markup gave (pages rendered by scripts), that
 * is the text.
 *
 * CP_HTML_ALL keeps every block (SEC filings: the whole filing is text).
 * The result keeps paragraph breaks as blank lines; it is not yet cleaned
 * (text.h does that).
 */
#ifndef CP_HTML_H
#define CP_HTML_H

#include <stddef.h>

enum {
	CP_HTML_MAIN = 0,     /* main content only */
	CP_HTML_ALL = 1       /* all text, chrome included */
};

typedef struct cp_html_result {
	char *text;           /* paragraphs separated by "\n\n"; never NULL */
	char *title;          /* <title> or og:title, or NULL */
	char *lang;           /* <html lang="…">, or NULL */
	char *charset;        /* declared charset (meta), or NULL */
	int whole;            /* no main content found: all text taken */
	int too_deep;         /* nesting beyond the limit was cut off */
	int empty;            /* no text at all */
	int from_ld;          /* taken from JSON-LD articleBody: the page's
	                         markup held much less than it declares */
} cp_html_result;

/* Extract; always fills out (free with cp_html_free). */
void cp_html_extract(const char *html, size_t len, int mode,
    cp_html_result *out);
void cp_html_free(cp_html_result *r);

/* Does the body look like HTML (a tag near the start)? */
int cp_html_sniff(const char *s, size_t len);

/* Call once before threads or at start-up; idempotent. */
void cp_html_init(void);

#endif
