/*
 * fuzz_feed — the RSS/Atom parser (lib/feed.c) on any bytes: charset
 * detection and conversion, UTF-8 repair, numeric entities, libxml2 in
 * recover mode (no entity expansion, no network), Atom and RSS items,
 * xml:base and link resolution (lib/fetchurl.c), dates, and the display
 * text made of each field (cp_feed_plain, cp_html_unescape).
 * The first byte picks the HTTP charset hint and the document URL.
 *
 * Property: every string the parser returns is valid UTF-8 (feed.h).
 */
#include <time.h>

#include "feed.h"
#include "fuzz.h"
#include "utf8.h"

static void check_utf8(const char *s)
{
	if (s && !cp_utf8_valid(s, strlen(s)))
		abort();
}

static void plain(const char *s)
{
	char *p;

	if (!s)
		return;
	p = cp_feed_plain(s);
	free(p);
	p = cp_html_unescape(s);
	free(p);
}

static void item(const cp_feed_item *it)
{
	time_t t;
	size_t j;

	check_utf8(it->title);
	check_utf8(it->link);
	check_utf8(it->guid);
	check_utf8(it->description);
	check_utf8(it->content);
	check_utf8(it->author);
	for (j = 0; j < it->ncategories; j++)
		check_utf8(it->categories[j]);
	plain(it->title);
	plain(it->description);
	plain(it->content);
	if (it->published_raw)
		(void)cp_feed_date(it->published_raw, &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = { NULL, "utf-8", "iso-8859-1",
		"windows-1252", "shift_jis", "no-such-charset", "utf-16", "" };
	static const char *const urls[] = { NULL,
		"https://news.example.com/feeds/all.xml", "relative/feed",
		"file:///srv/feeds/x.xml" };
	cp_feed f;
	size_t i;

	fuzz_quiet();
	if (size == 0)
		return 0;
	(void)cp_feed_sniff((const char *)data + 1, size - 1);
	cp_feed_parse((const char *)data + 1, size - 1, urls[(data[0] >> 3) & 3],
	    charsets[data[0] & 7], &f);
	check_utf8(f.title);
	check_utf8(f.link);
	for (i = 0; i < f.nitems; i++)
		item(&f.items[i]);
	cp_feed_free(&f);
	return 0;
}
