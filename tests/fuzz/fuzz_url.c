/*
 * fuzz_url — the small string parsers that see text from the network:
 * URL reference resolution, canonical form, host and credential
 * redaction (lib/fetchurl.c, every link of every feed item goes through
 * them), feed dates (cp_feed_date), RFC 3339 times and durations
 * (lib/timefmt.c, --since and record timestamps).
 * The input is "BASE\nREFERENCE"; without a newline, the whole input is
 * the reference against a fixed base.
 *
 * Properties: a resolved URL is absolute; the canonical form of a
 * canonical http(s) URL (without white space) is itself; a redacted URL has no password left;
 * an RFC 3339 time formats and parses back to the same second.
 */
#include <time.h>

#include "feed.h"
#include "fetchurl.h"
#include "fuzz.h"
#include "timefmt.h"

static int has_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 1;
	return 0;
}

static void url(const char *base, const char *ref)
{
	char *r = cp_url_resolve(base, ref), *c, *c2, *h, *x, *e;

	if (r && !cp_url_absolute(r))
		abort();
	c = cp_url_canonical(r ? r : ref);
	/* white space and control bytes are not URL characters: split()
	 * trims the ends, so the first pass may leave some for the second */
	if (c && (!strncmp(c, "http://", 7) || !strncmp(c, "https://", 8)) &&
	    !has_space(c)) {
		c2 = cp_url_canonical(c);
		if (!c2 || strcmp(c, c2))
			abort();
		free(c2);
	}
	h = cp_url_host(r ? r : ref);
	x = cp_url_redact(r ? r : ref);
	e = cp_url_escape(ref);
	free(r);
	free(c);
	free(h);
	free(x);
	free(e);
}

static void times(const char *s)
{
	time_t t, back;
	long secs;
	char buf[CP_TIME_MAX];

	(void)cp_feed_date(s, &t);
	(void)cp_duration_parse(s, &secs);
	if (cp_time_parse(s, &t)) {
		cp_time_format(t, buf);
		if (!cp_time_parse(buf, &back) || back != t)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *nl;
	const char *base = "https://www.example.com/news/2026/item.html?x=1";

	if (!s)
		abort();
	fuzz_quiet();
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		url(s, nl + 1);
		times(nl + 1);
	} else {
		url(base, s);
		url(NULL, s);
	}
	times(s);
	free(s);
	return 0;
}
