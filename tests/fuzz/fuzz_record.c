/*
 * fuzz_record — one line as the stages see it: the JSON parser with
 * duplicate keys rejected (lib/json.c), the record validator for every
 * type (lib/record.c), the exact serialiser, and scoring's one-pass
 * signal reader (lib/sigview.c, the path cp-score takes).
 *
 * Properties: a parsed value serialises to text that parses back to an
 * equal value and serialises to the same bytes again (no field changes
 * on its way through a stage); a record the validator accepts as one
 * type has that type.
 */
#include <jansson.h>

#include "fuzz.h"
#include "json.h"
#include "record.h"
#include "sigview.h"
#include "utf8.h"

static void roundtrip(const json_t *v)
{
	char *a = cp_json_dumps(v, 0), *b, *s = cp_json_dumps(v, CP_JSON_SORT);
	char err[256];
	json_t *back = cp_json_parse(a, strlen(a), err, sizeof err);

	if (!back || !json_equal((json_t *)v, back))
		abort();
	b = cp_json_dumps(back, 0);
	if (strcmp(a, b))
		abort();
	json_decref(back);
	free(a);
	free(b);
	free(s);
}

static void validate(const json_t *rec)
{
	char err[256];
	int t;

	for (t = CP_REC_UNKNOWN; t <= CP_REC_FINDING; t++)
		if (cp_record_check(rec, (cp_rectype)t, err, sizeof err) &&
		    t != CP_REC_UNKNOWN && (int)cp_record_type(rec) != t)
			abort();
	(void)cp_rectype_name(cp_record_type(rec));
}

/* cp-score's path: jscan, the signal check, the view and its helpers. */
static void score_view(const char *s, size_t n)
{
	char err[256];
	cp_sigraw raw;
	cp_sigview sv;
	json_t *rec = cp_sigview_parse(s, n, &raw, err, sizeof err);
	time_t dl;

	if (!rec)
		return;
	if (cp_record_check(rec, CP_REC_SIGNAL, err, sizeof err) &&
	    cp_sigview_init_raw(&sv, rec, &raw, err, sizeof err)) {
		(void)cp_sigview_lower(&sv);
		(void)cp_sigview_quote(&sv, "funding");
		(void)cp_sigview_deadline(&sv, 0, &dl);
		cp_sigview_free(&sv);
	}
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[256];
	json_t *v;

	fuzz_quiet();
	/* the reader hands on only NUL-free valid UTF-8 (fuzz_ndjson) */
	if (memchr(s, '\0', size) || !cp_utf8_valid(s, size))
		return 0;
	if ((v = cp_json_parse(s, size, err, sizeof err)) != NULL) {
		roundtrip(v);
		if (json_is_object(v))
			validate(v);
		json_decref(v);
	}
	score_view(s, size);
	return 0;
}
