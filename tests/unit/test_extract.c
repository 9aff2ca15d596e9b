/* Unit tests for the pieces of cp-extract and cp-dedupe in lib/: numbers,
 * checksums, sentences, cleaning, cue sets, fingerprints, the JSON scan. */
#include <stdlib.h>
#include <string.h>

#include "cueset.h"
#include "entities.h"
#include "fingerprint.h"
#include "jscan.h"
#include "pii.h"
#include "tap.h"
#include "text.h"

static void test_numbers(void)
{
	ok(cp_parse_number("1,200", 5, "en", 0) == 1200, "1,200 is thousands");
	ok(cp_parse_number("1,5", 3, "uk", 1) == 1.5, "1,5 is a decimal");
	ok(cp_parse_number("1.200", 5, "de", 0) == 1200, "1.200 in German");
	ok(cp_parse_number("1.250", 5, "en", 1) == 1.25, "1.250 billion in English");
	ok(cp_parse_number("12.5", 4, "en", 0) == 12.5, "12.5");
	ok(cp_parse_number("1,234.56", 8, "en", 0) == 1234.56, "1,234.56");
	ok(cp_parse_number("1.234,56", 8, "de", 0) == 1234.56, "1.234,56");
	ok(cp_parse_number("0.001", 5, "en", 0) == 0.001, "0.001 is no thousand");
}

static void test_checks(void)
{
	ok(cp_luhn_ok("4111 1111 1111 1111", 19), "Luhn: test Visa");
	ok(!cp_luhn_ok("1234567812345678", 16), "Luhn: order number");
	ok(cp_iban_ok("DE89 3704 0044 0532 0130 00", 27), "IBAN: DE example");
	ok(cp_iban_ok("GB82WEST12345698765432", 22), "IBAN: GB, no spaces");
	ok(!cp_iban_ok("GB82 WEST 1234 5698 7654 33", 27), "IBAN: bad check");
}

static void test_text(void)
{
	char *c = cp_text_clean("a\xe2\x80\x8b" "b \xc2\xa0 c\x01\n\n\nd\xff", 16, NULL);
	size_t bad;
	cp_spans s = { NULL, 0, 0 };
	const char *t = "Acme Inc. said Mr. Smith left. Series B. The round closed! "
	    "Was it? Yes.";

	is_str(c, "ab c\n\nd\xef\xbf\xbd", "clean: zero-width, spaces, controls, "
	    "breaks, repair");
	free(c);
	c = cp_text_clean("e\xcc\x81", 3, &bad);
	is_str(c, "\xc3\xa9", "clean: NFC");
	is(bad, 0, "clean: nothing replaced");
	free(c);
	cp_sentences(t, strlen(t), &s);
	is(s.n, 5, "sentences: abbreviations do not split");
	ok(s.n > 1 && !strncmp(t + s.v[1].start, "Series B.", 9),
	    "sentences: an initial before 'The' ends one");
	cp_spans_free(&s);
}

static int hits;
static void count(int tag, size_t s, size_t e, void *arg)
{
	(void)s; (void)e; (void)arg;
	hits += tag;
}

static void test_cueset(void)
{
	cp_cueset *c = cp_cueset_new();
	char err[200];
	const char *t = "Acme appointed a CFO and names its CEO; no layoffs.";
	char *low = cp_text_lower(t, strlen(t));

	cp_cueset_add(c, "(?:appoint|name)(?:s|ed)?\\s", 1);
	cp_cueset_add(c, "layoffs?\\b", 10);
	cp_cueset_add(c, "\\bno\\b", 100);
	ok(cp_cueset_compile(c, err, sizeof err) == 0, "cueset compiles");
	cp_cueset_scan(c, t, strlen(t), low, count, NULL);
	is(hits, 112, "cueset: prefixed, expanded and generic cues all hit");
	cp_cueset_free(c);
	free(low);
}

static void test_fingerprints(void)
{
	const char *a = "The quick brown fox jumps over the lazy dog near the river bank today.";
	const char *b = "The quick brown fox jumps over the lazy dog near the river bank tonight.";
	const char *z = "Completely different words make a completely different text here.";
	uint32_t sa[CP_MH_N], sb[CP_MH_N], sz[CP_MH_N];
	char ka[33], kb[33], kc[33];

	cp_minhash_key(a, strlen(a), 3, sa, ka);
	cp_minhash_key(b, strlen(b), 3, sb, kb);
	cp_minhash_key(z, strlen(z), 3, sz, kc);
	ok(cp_minhash_sim(sa, sb) > 0.5, "minhash: near texts are near");
	ok(cp_minhash_sim(sa, sz) < 0.2, "minhash: other texts are far");
	ok(strcmp(ka, kb) != 0, "exact key: differs");
	cp_text_key("THE quick, brown   fox", 22, ka);
	cp_text_key("the quick brown fox", 19, kb);
	is_str(ka, kb, "exact key: case, spacing, punctuation ignored");
	ok(cp_hamming(cp_simhash(a, strlen(a), 3), cp_simhash(b, strlen(b), 3)) <
	    cp_hamming(cp_simhash(a, strlen(a), 3), cp_simhash(z, strlen(z), 3)),
	    "simhash: nearer texts, fewer bits apart");
}

/* cp_jvalue builds what json_loadb would from the same text, and refuses
 * what it refuses. */
static void test_jvalue_like_jansson(void)
{
	static const char *vals[] = {
		"[]", "{}", " [ 1 , 2 ,3 ] ", "[-0, 0.5, -1.5e3, 1E2, 2e-3, 1e-400]",
		"9223372036854775807", "-9223372036854775808",
		"{\"k\u00e9y\" : {\"a\":[true,false,null]}, \"b\\\"q\":\"v\\n\\t\\/\"}",
		"[[[[[\"deep\"]]]]]",
		"[{\"kind\":\"money\",\"value\":757900000000,\"currency\":\"USD\"}]",
		"\"\\ud83d\\ude00 x\"", "123456789012345678901234567890.5",
	};
	static const char *bad[] = {
		"9223372036854775808", "-9223372036854775809", "1e400", "[-1e999]",
		"{\"a\":1,\"a\":2}", "[{\"b\":{\"c\":1,\"c\":1}}]",
	};
	char obj[512], err[200];
	cp_jmember m[2];
	size_t i;

	for (i = 0; i < sizeof vals / sizeof *vals; i++) {
		json_t *a, *b;
		snprintf(obj, sizeof obj, "{\"x\":%s}", vals[i]);
		if (cp_jscan_object(obj, strlen(obj), m, 2, err, sizeof err) != 1) {
			ok(0, "jvalue: %s scans (%s)", vals[i], err);
			continue;
		}
		a = cp_jvalue(&m[0]);
		b = json_loadb(m[0].val, m[0].vlen, JSON_DECODE_ANY |
		    JSON_REJECT_DUPLICATES, NULL);
		ok(a && b && json_equal(a, b), "jvalue: %s as jansson loads it",
		    vals[i]);
		json_decref(a);
		json_decref(b);
	}
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *a;
		snprintf(obj, sizeof obj, "{\"x\":%s}", bad[i]);
		if (cp_jscan_object(obj, strlen(obj), m, 2, err, sizeof err) != 1) {
			ok(0, "jvalue: %s scans (%s)", bad[i], err);
			continue;
		}
		a = cp_jvalue(&m[0]);
		ok(!a && !json_loadb(m[0].val, m[0].vlen, JSON_DECODE_ANY |
		    JSON_REJECT_DUPLICATES, NULL), "jvalue: %s refused, as by "
		    "jansson", bad[i]);
		json_decref(a);
	}
}

static void test_jscan(void)
{
	cp_jmember m[8];
	char err[200];
	const char *ok1 = "{\"a\":\"x\\u00e9\\ud83d\\ude00\",\"b\":[1,{\"c\":null}],\"d\":-1.5e3}";
	json_t *v;

	is(cp_jscan_object(ok1, strlen(ok1), m, 8, err, sizeof err), 3,
	    "jscan: members found");
	v = cp_jvalue(&m[0]);
	is_str(json_string_value(v), "x\xc3\xa9\xf0\x9f\x98\x80", "jscan: string decoded");
	json_decref(v);
	ok(cp_jscan_object("{\"a\":1,\"a\":2}", 13, m, 8, err, sizeof err) < 0,
	    "jscan: duplicate key refused");
	ok(cp_jscan_object("{\"a\":01}", 8, m, 8, err, sizeof err) < 0,
	    "jscan: leading zero refused");
	ok(cp_jscan_object("{\"a\":\"\\ud800\"}", 14, m, 8, err, sizeof err) < 0,
	    "jscan: lone surrogate refused");
	ok(cp_jscan_object("[1]", 3, m, 8, err, sizeof err) < 0 &&
	    !strcmp(err, "not a JSON object"), "jscan: not an object");
	test_jvalue_like_jansson();
}

int main(void)
{
	test_numbers();
	test_checks();
	test_text();
	test_cueset();
	test_fingerprints();
	test_jscan();
	cp_entities_cleanup();
	return done_testing();
}
