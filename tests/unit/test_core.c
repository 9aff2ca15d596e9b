/* Unit tests for the core of lib/: json, utf8, unicode, time, ids, slug. */
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "id.h"
#include "json.h"
#include "strbuf.h"
#include "tap.h"
#include "timefmt.h"
#include "unicode.h"
#include "utf8.h"

static char *roundtrip(const char *in)
{
	json_t *v = cp_json_parse(in, strlen(in), NULL, 0);
	char *out = v ? cp_json_dumps(v, 0) : NULL;
	json_decref(v);
	return out;
}

static void test_json(void)
{
	static const char *const same[] = {
		"{\"amount\":849624.42}", "{\"a\":0.1,\"b\":1.5e+300}",
		"{\"x\":-0.0}", "{\"i\":9007199254740993}", "{\"r\":1.0}",
		"{\"s\":\"caf\\u00e9 \\\"q\\\" \\\\ \\n \\u0001\"}",
		"{\"z\":1,\"a\":2,\"m\":[true,false,null,{}]}",
		"{\"u\":\"Київ 東京 😀\"}", "{\"p\":3.141592653589793}",
		"{\"e\":1e-07}", NULL
	};
	char *s;
	int i;
	json_t *v;
	strbuf sb = CP_STRBUF_INIT;

	for (i = 0; same[i]; i++) {
		s = roundtrip(same[i]);
		/* café is printed as UTF-8, not escaped: compare by value */
		if (i == 5) {
			is_str(s, "{\"s\":\"café \\\"q\\\" \\\\ \\n \\u0001\"}",
			    "json: escapes and UTF-8 survive");
		} else {
			is_str(s, same[i], "json: %s comes back unchanged", same[i]);
		}
		free(s);
	}
	v = json_pack("{s:i, s:i, s:{s:i, s:i}}", "b", 1, "a", 2, "c", "y", 1,
	    "x", 2);
	cp_json_dump(&sb, v, CP_JSON_SORT);
	is_str(sb.buf, "{\"a\":2,\"b\":1,\"c\":{\"x\":2,\"y\":1}}",
	    "json: canonical form sorts keys at every level");
	json_decref(v);
	sb_free(&sb);
	ok(cp_json_parse("{\"a\":1,\"a\":2}", 13, NULL, 0) == NULL,
	    "json: duplicate keys are rejected");
	ok(cp_json_parse("{\"a\":\"\\u0000\"}", 13, NULL, 0) == NULL,
	    "json: \\u0000 in a string is rejected");
	v = json_pack("{s:f, s:f, s:f}", "big", 5.9e20, "ok", 42.9, "neg",
	    -1e300);
	ok(cp_json_int(v, "big", -1) == -1,
	    "json: a real beyond int64 is the default, not a wild cast (fuzz_edgar)");
	ok(cp_json_int(v, "ok", -1) == 42, "json: a real in range is truncated");
	ok(cp_json_int(v, "neg", -1) == -1, "json: so is a huge negative one");
	json_decref(v);
}

static void test_utf8(void)
{
	char *r;
	size_t bad;

	ok(cp_utf8_valid("plain", 5), "utf8: ASCII is valid");
	ok(cp_utf8_valid("Київ", strlen("Київ")), "utf8: Cyrillic is valid");
	is(cp_utf8_valid_prefix("ab\xC0\xAF", 4), 2, "utf8: overlong rejected");
	is(cp_utf8_valid_prefix("a\xED\xA0\x80", 4), 1,
	    "utf8: surrogate rejected");
	is(cp_utf8_valid_prefix("\xF4\x90\x80\x80", 4), 0,
	    "utf8: beyond U+10FFFF rejected");
	is(cp_utf8_valid_prefix("ab\xE2\x82", 4), 2,
	    "utf8: truncated sequence rejected");
	r = cp_utf8_repair("a\xFF" "b\xE2\x82", 5, &bad);
	is_str(r, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD", "utf8: repair replaces");
	is(bad, 2, "utf8: repair counts replacements");
	free(r);
}

static void test_unicode(void)
{
	strbuf sb = CP_STRBUF_INIT;
	char *s;

	is(cp_u_width("abc"), 3, "width: ASCII");
	is(cp_u_width("東京"), 4, "width: CJK is double");
	is(cp_u_width("Київ"), 4, "width: Cyrillic is single");
	is(cp_u_width("😀"), 2, "width: emoji is double");
	is(cp_u_width("e\xCC\x81"), 1, "width: combining mark is zero");
	cp_u_fit(&sb, "東京商事株式会社", 6, false, false);
	is_str(sb.buf, "東京… ", "fit: a wide char that does not fit leaves a pad");
	is(cp_u_width(sb.buf), 6, "fit: exact width");
	sb_reset(&sb);
	cp_u_fit(&sb, "ab", 4, true, false);
	is_str(sb.buf, "  ab", "fit: right aligned");
	sb_reset(&sb);
	cp_u_fit(&sb, "abcdefgh", 6, false, true);
	is_str(sb.buf, "abc...", "fit: ASCII ellipsis");
	sb_reset(&sb);
	cp_u_fit(&sb, "a\x1b[31mb\xC2\x9B", 9, false, false);
	is_str(sb.buf, "a [31mb  ", "fit: ESC and C1 CSI shown as spaces");
	is(cp_u_width("a\x1b[31mb\xC2\x9B"), 8, "width: controls count one");
	sb_free(&sb);
	s = cp_u_nfc("e\xCC\x81");
	is_str(s, "\xC3\xA9", "nfc: e + combining acute composes");
	free(s);
	s = cp_u_casefold("Straße ÀB");
	is_str(s, "strasse àb", "casefold: ß folds to ss");
	free(s);
}

static void test_time(void)
{
	time_t t;
	char buf[CP_TIME_MAX];
	long d;

	ok(cp_time_parse("2026-11-25T10:56:05Z", &t), "time: parse Z");
	is_str(cp_time_format(t, buf), "2026-11-25T10:56:05Z", "time: format");
	ok(cp_time_parse("2026-11-25T12:56:05.123+02:00", &t), "time: offset");
	is_str(cp_time_format(t, buf), "2026-11-25T10:56:05Z",
	    "time: offset applied");
	ok(cp_time_parse("2026-11-25T05:26:05-0530", &t), "time: -hhmm");
	is_str(cp_time_format(t, buf), "2026-11-25T10:56:05Z",
	    "time: negative offset applied");
	ok(cp_time_parse("0026-11-12", &t), "time: a year before 1000");
	is_str(cp_time_format(t, buf), "0026-11-12T00:00:00Z",
	    "time: four-digit year, parsed back the same (fuzz_url)");
	ok(cp_time_parse("2024-02-29", &t), "time: bare date, leap day");
	ok(!cp_time_parse("2023-02-29", &t), "time: not a leap year");
	ok(!cp_time_parse("2026-13-01T00:00:00Z", &t), "time: month 13");
	ok(!cp_time_parse("2026-11-25T10:56:05Zjunk", &t), "time: trailing junk");
	ok(!cp_time_parse("yesterday", &t), "time: words");
	ok(cp_duration_parse("48h", &d) && d == 172800, "duration: 48h");
	ok(cp_duration_parse("7d", &d) && d == 604800, "duration: 7d");
	ok(!cp_duration_parse("7x", &d), "duration: bad unit");
	setenv("CLIENTPULSE_NOW", "2030-01-01T00:00:00Z", 1);
	is(cp_now(), 1893456000, "time: CLIENTPULSE_NOW freezes the clock");
	ok(cp_time_or_age("7d", &t) && t == 1893456000 - 7 * 86400,
	    "time or age: an age counts back from now");
	ok(cp_time_or_age("2029-12-31T00:00:00Z", &t) && t == 1893369600,
	    "time or age: a time is itself");
	ok(!cp_time_or_age("last week", &t), "time or age: neither");
	unsetenv("CLIENTPULSE_NOW");
}

static void test_id(void)
{
	char a[CP_ID_MAX], b[CP_ID_MAX], h[CP_SHA256_HEX];

	cp_sha256_hex("abc", 3, h);
	is_str(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256: known answer");
	cp_make_id4(a, "doc_", "ab", "c", NULL, NULL);
	cp_make_id4(b, "doc_", "a", "bc", NULL, NULL);
	ok(strcmp(a, b) != 0, "id: field boundaries matter");
	is(strlen(a), 4 + 32, "id: prefix + 32 hex");
	cp_make_id4(b, "doc_", "ab", "c", NULL, NULL);
	is_str(a, b, "id: deterministic");
	cp_hmac_sha256_hex("key", 3,
	    "The quick brown fox jumps over the lazy dog", 43, h);
	is_str(h, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
	    "hmac-sha256: known answer");
}

static void test_slug(void)
{
	char *s = cp_slug("Northwind Labs, Inc.");
	is_str(s, "northwind-labs-inc", "slug: words joined by dashes");
	free(s);
	s = cp_slug("Київ");
	is_str(s, "account", "slug: nothing ASCII falls back");
	free(s);
}

int main(void)
{
	test_json();
	test_utf8();
	test_unicode();
	test_time();
	test_id();
	test_slug();
	return done_testing();
}
