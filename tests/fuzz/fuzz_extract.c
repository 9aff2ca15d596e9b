/*
 * fuzz_extract — the text stages after HTML: cleaning, language,
 * entities (money, percent, dates, headcounts, people), quantities, PII
 * redaction, themes and fingerprints, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entities.h"
#include "fingerprint.h"
#include "lang.h"
#include "pii.h"
#include "text.h"
#include "themes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cp_themes *themes;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *clean, *red, key[33];
	const char *lang;
	cp_entities e = { NULL, 0, 0 };
	cp_pii_counts pc;
	cp_spans s = { NULL, 0, 0 };
	double q[16];
	uint32_t mh[CP_MH_N];
	json_t *th, *job = NULL, *meta;
	size_t i;

	if (!themes && cp_themes_load(NULL, &themes))
		abort();
	clean = cp_text_clean((const char *)data, size, NULL);
	lang = cp_lang_detect(clean, strlen(clean), NULL);
	red = cp_pii_redact(clean, strlen(clean), size & 1, &pc);
	cp_entities_set_year(size & 2 ? 2026 : 0);
	cp_entities_find(red, strlen(red), lang, &e);
	for (i = 0; i < e.n; i++)
		json_decref(cp_entity_json(&e.v[i], red));
	cp_quantities(red, strlen(red), lang, q, 16);
	cp_sentences(red, strlen(red), &s);
	meta = json_pack("{s:[s,s]}", "items", "2.05", "1.01");
	th = cp_themes_match(themes, "Title: Acme to acquire Beta", red, &s,
	    size & 4 ? "jobs" : "sec", meta, &job);
	json_decref(th);
	json_decref(job);
	json_decref(meta);
	cp_simhash(red, strlen(red), 3);
	cp_minhash_key(red, strlen(red), 3, mh, key);
	cp_spans_free(&s);
	cp_entities_free(&e);
	free(red);
	free(clean);
	return 0;
}
