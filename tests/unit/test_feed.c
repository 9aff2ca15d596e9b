/*
 * test_feed — lib/feed (RSS/Atom), lib/fetchurl and feed dates.
 *
 *   test_feed                       the unit tests (TAP)
 *   test_feed --conformance DIR     parse every *.xml under DIR that has
 *                                   an expected *.json beside it (the
 *                                   gofeed corpus) and report the share
 *                                   of expected title/link/guid/published
 *                                   values matched, one line per miss
 *                                   ("miss FIELD FILE: got … want …") and
 *                                   a last line "matched N/M (P%)".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "feed.h"
#include "fetchurl.h"
#include "mem.h"
#include "tap.h"
#include "timefmt.h"

static char *parse_date(const char *s)
{
	static char buf[CP_TIME_MAX];
	time_t t;

	if (!cp_feed_date(s, &t))
		return NULL;
	return cp_time_format(t, buf);
}

static void test_dates(void)
{
	static const char *const cases[][2] = {
		{ "Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
		{ "Sun, 06 Jul 2014 12:56:00 GMT", "2014-07-06T12:56:00Z" },
		{ "Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02T22:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 +07:00", "2006-01-02T08:04:05Z" },
		{ "Mon, 2 Jan 2006 15:04 EST", "2006-01-02T20:04:00Z" },
		{ "2 Jan 06 15:04:05 PDT", "2006-01-02T22:04:05Z" },
		{ "Monday, 02-Jan-2006 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "Mon, 02 January 2006 15:04:05 Z", "2006-01-02T15:04:05Z" },
		{ "Mon Jan 2 15:04:05 2006", "2006-01-02T15:04:05Z" },
		{ "Tue, 10 Jun 2003 04:00:00 GMT (PDT)", "2003-06-10T04:00:00Z" },
		{ "  Wed, 03 Dec 2025 09:00:00 +0000  ", "2025-12-03T09:00:00Z" },
		{ "Wed, 03 Dec 2025 09:00:00.123 +0000", "2025-12-03T09:00:00Z" },
		{ "2006-01-02T15:04:05Z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04:05.999Z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04:05+01:00", "2006-01-02T14:04:05Z" },
		{ "2006-01-02T15:04:05+0100", "2006-01-02T14:04:05Z" },
		{ "2006-01-02T15:04:05", "2006-01-02T15:04:05Z" },
		{ "2006-01-02 15:04:05", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04Z", "2006-01-02T15:04:00Z" },
		{ "2006-01-02", "2006-01-02T00:00:00Z" },
		{ "2006-01-02T15:04:05 PST", "2006-01-02T23:04:05Z" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(parse_date(cases[i][0]), cases[i][1], "date '%s'",
		    cases[i][0]);
	ok(!parse_date("yesterday"), "a word is not a date");
	ok(!parse_date("2006-13-45"), "month 13 is not a date");
	ok(!parse_date(""), "empty is not a date");
	ok(!parse_date("Mon, 31 Feb 2006 10:00:00 GMT"), "31 February is not");
}

static void test_urls(void)
{
	static const char *const cases[][3] = {
		{ "http://a/b/c/d;p?q", "g", "http://a/b/c/g" },
		{ "http://a/b/c/d;p?q", "./g", "http://a/b/c/g" },
		{ "http://a/b/c/d;p?q", "g/", "http://a/b/c/g/" },
		{ "http://a/b/c/d;p?q", "/g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "//g", "http://g" },
		{ "http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y" },
		{ "http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s" },
		{ "http://a/b/c/d;p?q", "../g", "http://a/b/g" },
		{ "http://a/b/c/d;p?q", "../../../g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q" },
		{ "http://a", "x", "http://a/x" },
		{ "http://a/b", " https://x.org/y ", "https://x.org/y" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = cp_url_resolve(cases[i][0], cases[i][1]);
		is_str(s, cases[i][2], "resolve '%s' against '%s'",
		    cases[i][1], cases[i][0]);
		free(s);
	}
	ok(!(s = cp_url_resolve(NULL, "/x")), "relative without base");
	free(s);
	s = cp_url_canonical("HTTP://Example.COM:80/a/./b?utm_source=x&id=3"
	    "&utm_medium=y#frag");
	is_str(s, "http://example.com/a/b?id=3", "canonical link");
	free(s);
	s = cp_url_canonical("https://example.com");
	is_str(s, "https://example.com/", "canonical empty path");
	free(s);
	s = cp_url_host("https://user:pw@Data.SEC.gov:8443/x");
	is_str(s, "data.sec.gov:8443", "host without user info");
	free(s);
	s = cp_url_redact("https://user:pw@host/x?y=1");
	is_str(s, "https://host/x?y=1", "redacted");
	free(s);
}

static void test_text(void)
{
	char *s;

	s = cp_html_unescape("Fish & Chips &amp; more &lt;3 &#8217; &#x41;");
	is_str(s, "Fish & Chips & more <3 \xE2\x80\x99 A", "unescape");
	free(s);
	s = cp_html_unescape("?page=1&copy=2;mode=x &copy 2024");
	is_str(s, "?page=1&copy=2;mode=x \xC2\xA9 2024", "legacy entities");
	free(s);
	s = cp_feed_plain("<p>Acme <b>to</b> acquire&nbsp;Globex</p>"
	    "<script>alert(1)</script><p>Second&hellip;</p>");
	is_str(s, "Acme to acquire Globex Second\xE2\x80\xA6", "plain text");
	free(s);
}

static int parse(const char *xml, cp_feed *f)
{
	return cp_feed_parse(xml, strlen(xml), "http://example.org/feed", NULL,
	    f);
}

static void test_parse(void)
{
	cp_feed f;
	int rc;

	rc = parse("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
	    "<title>T</title><link>http://example.org/</link>"
	    "<item><title>One &amp; two</title><link>/a/1</link>"
	    "<guid isPermaLink=\"false\">g1</guid>"
	    "<pubDate>Tue, 02 Dec 2025 10:00:00 +0100</pubDate>"
	    "<description>&lt;p&gt;Hi&lt;/p&gt;</description>"
	    "<category>M&amp;A</category></item>"
	    "<item><title><![CDATA[Two <b>bold</b>]]></title>"
	    "<guid>http://example.org/p/2</guid></item>"
	    "</channel></rss>", &f);
	is(rc, CP_FEED_OK, "rss parses");
	is(f.kind, CP_FEED_RSS2, "rss kind");
	is(f.nitems, 2, "two items");
	is_str(f.items[0].title, "One & two", "entity in title");
	is_str(f.items[0].link, "http://example.org/a/1", "relative link");
	is_str(f.items[0].guid, "g1", "guid");
	is_str(f.items[0].published, "2025-12-02T09:00:00Z", "pubDate");
	is_str(f.items[0].description, "<p>Hi</p>", "description");
	is_str(f.items[0].categories[0], "M&A", "category");
	is_str(f.items[1].title, "Two <b>bold</b>", "cdata title");
	is_str(f.items[1].link, "http://example.org/p/2", "permalink guid");
	cp_feed_free(&f);

	rc = parse("<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xml:base=\"http://example.com/blog/\"><title>A</title>"
	    "<entry><title type=\"html\">&lt;i&gt;x&lt;/i&gt;</title>"
	    "<link rel=\"self\" href=\"/self\"/>"
	    "<link href=\"post/1\"/><id>urn:x:1</id>"
	    "<updated>2025-12-02T10:00:00.123+02:00</updated>"
	    "<summary>S</summary><author><name>Ann</name></author></entry>"
	    "</feed>", &f);
	is(rc, CP_FEED_OK, "atom parses");
	is(f.kind, CP_FEED_ATOM, "atom kind");
	is_str(f.items[0].title, "<i>x</i>", "html title");
	is_str(f.items[0].link, "http://example.com/blog/post/1", "xml:base");
	is_str(f.items[0].updated, "2025-12-02T08:00:00Z", "updated");
	is_str(f.items[0].author, "Ann", "author");
	cp_feed_free(&f);

	rc = parse("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/"
	    "22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\" "
	    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel "
	    "rdf:about=\"x\"><title>R</title></channel><item rdf:about="
	    "\"http://example.org/r/1\"><title>R1</title><dc:date>"
	    "2025-01-02T03:04:05Z</dc:date></item></rdf:RDF>", &f);
	is(rc, CP_FEED_OK, "rss 1.0 parses");
	is(f.kind, CP_FEED_RSS1, "rdf kind");
	is_str(f.items[0].link, "http://example.org/r/1", "rdf:about link");
	is_str(f.items[0].published, "2025-01-02T03:04:05Z", "dc:date");
	cp_feed_free(&f);
}

static void test_hostile(void)
{
	cp_feed f;
	int rc;
	const char *laughs =
	    "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
	    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
	    "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
	    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
	    "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
	    "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
	    "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
	    "<rss><channel><item><title>&i;boom</title>"
	    "<link>http://x.org/1</link></item></channel></rss>";
	const char *xxe =
	    "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><rss><channel><item><title>&x;t"
	    "</title><description>&x;</description></item></channel></rss>";

	rc = parse(laughs, &f);
	ok(rc == CP_FEED_OK || rc == CP_FEED_MALFORMED, "billion laughs: "
	    "parsed without expansion");
	ok(f.nitems <= 1 && (!f.nitems || !f.items[0].title ||
	    !strstr(f.items[0].title, "aaaa")), "billion laughs: never "
	    "expanded");
	cp_feed_free(&f);
	rc = parse(xxe, &f);
	ok(f.nitems == 1 && f.items[0].title && !strstr(f.items[0].title,
	    "root:") && !f.items[0].description, "xxe: never read");
	cp_feed_free(&f);

	rc = parse("<rss><channel><item><title>Good</title></item><item>"
	    "<title>Broken &amp</title><link>http://x/2</link></item>"
	    "<item><title>After</title></channel>", &f);
	is(rc, CP_FEED_MALFORMED, "malformed is reported");
	ok(f.nitems >= 2, "malformed: items before the error recovered");
	ok(strstr(f.error, "line") != NULL, "malformed: error names a line");
	cp_feed_free(&f);

	rc = parse("<!DOCTYPE html><html><head><title>Hi</title></head>"
	    "<body><p>not a feed</body></html>", &f);
	is(rc, CP_FEED_NOTFEED, "html page is not a feed");
	cp_feed_free(&f);
	rc = parse("{\"error\":\"nope\"}", &f);
	is(rc, CP_FEED_NOTFEED, "json is not a feed");
	cp_feed_free(&f);
	rc = parse("   ", &f);
	is(rc, CP_FEED_EMPTY, "blank is empty");
	cp_feed_free(&f);

	rc = parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>"
	    "<channel><item><title>Caf\xE9 \xA9</title></item></channel>"
	    "</rss>", &f);
	is(rc, CP_FEED_OK, "latin-1 feed parses");
	is_str(f.items[0].title, "Caf\xC3\xA9 \xC2\xA9", "latin-1 converted");
	cp_feed_free(&f);
	rc = parse("<rss><channel><item><title>Caf\xE9</title></item>"
	    "</channel></rss>", &f);
	is_str(f.items[0].title, "Caf\xC3\xA9", "undeclared 8-bit as cp1252");
	cp_feed_free(&f);
	rc = parse("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel>"
	    "<item><title>Bad \xFF byte</title></item></channel></rss>", &f);
	is_str(f.items[0].title, "Bad \xEF\xBF\xBD byte", "invalid utf-8 "
	    "repaired");
	is(f.bad_bytes, 1, "invalid bytes counted");
	cp_feed_free(&f);
	rc = parse("<rss><channel><item><title>A&nbsp;B &copy; C</title>"
	    "</item></channel></rss>", &f);
	is_str(f.items[0].title, "A\xC2\xA0" "B \xC2\xA9 C", "undeclared html "
	    "entities");
	cp_feed_free(&f);
	ok(cp_feed_sniff("\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><rss>",
	    40), "sniff rss");
	ok(!cp_feed_sniff("<!DOCTYPE html><html>", 21), "sniff html");
}

/* ---- conformance over the gofeed corpus ---- */

struct tally {
	int want, got;
	int by[4][2];    /* title link guid published: matched, expected */
};

static const char *const fieldnames[] = { "title", "link", "guid",
	"published" };

static void check(struct tally *t, int k, const char *file, const char *got,
    const char *want)
{
	if (!want)
		return;
	t->want++;
	t->by[k][1]++;
	if (got && !strcmp(got, want)) {
		t->got++;
		t->by[k][0]++;
		return;
	}
	printf("miss %s %s: got '%s' want '%s'\n", fieldnames[k], file,
	    got ? got : "(none)", want);
}

/* The link gofeed's parser records for an Atom entry: the alternate. */
static const char *atom_link(json_t *links)
{
	size_t i;
	json_t *l;

	json_array_foreach(links, i, l) {
		const char *rel = json_string_value(json_object_get(l, "rel"));
		const char *href = json_string_value(json_object_get(l, "href"));
		if (href && (!rel || !strcmp(rel, "alternate")))
			return href;
	}
	return NULL;
}

static void conform_file(const char *xmlpath, const char *jsonpath,
    struct tally *t)
{
	FILE *fp = fopen(xmlpath, "rb");
	char *buf;
	long n;
	cp_feed f;
	json_t *exp, *items;
	size_t i;

	if (!fp)
		return;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	n = (long)fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	cp_feed_parse(buf, (size_t)n, NULL, NULL, &f);
	free(buf);
	exp = json_load_file(jsonpath, 0, NULL);
	items = json_object_get(exp, "items");
	if (!items)
		items = json_object_get(exp, "entries");
	for (i = 0; i < json_array_size(items); i++) {
		json_t *e = json_array_get(items, i);
		cp_feed_item *it = i < f.nitems ? &f.items[i] : NULL;
		json_t *g = json_object_get(e, "guid");
		const char *link = json_string_value(json_object_get(e, "link"));
		const char *pub = json_string_value(json_object_get(e,
		    "publishedParsed"));
		const char *upd = json_string_value(json_object_get(e,
		    "updatedParsed"));

		if (!link && json_object_get(e, "links") &&
		    json_is_object(json_array_get(json_object_get(e, "links"), 0)))
			link = atom_link(json_object_get(e, "links"));
		if (!pub)
			pub = json_string_value(json_object_get(e,
			    "pubDateParsed"));
		check(t, 0, xmlpath, it ? it->title : NULL,
		    json_string_value(json_object_get(e, "title")));
		check(t, 1, xmlpath, it ? it->link : NULL, link);
		check(t, 2, xmlpath, it ? it->guid : NULL, json_is_object(g) ?
		    json_string_value(json_object_get(g, "value")) :
		    json_is_string(g) ? json_string_value(g) :
		    json_string_value(json_object_get(e, "id")));
		/* gofeed's translator falls back from published to updated */
		check(t, 3, xmlpath, it ? (it->published ? it->published :
		    (strstr(xmlpath, "translator") ? it->updated : NULL)) : NULL,
		    pub);
		check(t, 3, xmlpath, it ? it->updated : NULL, upd);
	}
	json_decref(exp);
	cp_feed_free(&f);
}

static void conform_dir(const char *dir, struct tally *t, int *files)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nn = 0, i;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (nn + 1) * sizeof *names);
		names[nn++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (i = 0; i < nn; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		size_t l = strlen(p);
		if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
			conform_dir(p, t, files);
		} else if (l > 4 && !strcmp(p + l - 4, ".xml")) {
			char *j = xasprintf("%.*s.json", (int)(l - 4), p);
			if (!stat(j, &st)) {
				conform_file(p, j, t);
				(*files)++;
			} else {
				/* no expectation: it must still not crash */
				cp_feed f;
				FILE *fp = fopen(p, "rb");
				char buf[65536];
				size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
				if (fp)
					fclose(fp);
				cp_feed_parse(buf, n, NULL, NULL, &f);
				cp_feed_free(&f);
				(*files)++;
			}
			free(j);
		}
		free(p);
		free(names[i]);
	}
	free(names);
}

static int conformance(const char *dir)
{
	struct tally t;
	int files = 0, k;

	memset(&t, 0, sizeof t);
	conform_dir(dir, &t, &files);
	for (k = 0; k < 4; k++)
		printf("field %s %d/%d\n", fieldnames[k], t.by[k][0],
		    t.by[k][1]);
	printf("files %d\n", files);
	printf("matched %d/%d (%.1f%%)\n", t.got, t.want,
	    t.want ? 100.0 * t.got / t.want : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--conformance"))
		return conformance(argv[2]);
	test_dates();
	test_urls();
	test_text();
	test_parse();
	test_hostile();
	return done_testing();
}
