/*
 * fuzz_html — HTML to main text (lib/html.c) and the cleaning after it
 * (lib/text.c): any bytes, never a crash, a leak or undefined behaviour.
 * The first byte picks the mode (main text or all text).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "html.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_html_result r;
	char *clean;
	size_t bad;
	cp_spans s = { NULL, 0, 0 };
	int mode = size && (data[0] & 1) ? CP_HTML_ALL : CP_HTML_MAIN;

	cp_html_sniff((const char *)data, size);
	cp_html_extract((const char *)data, size, mode, &r);
	clean = cp_text_clean(r.text, strlen(r.text), &bad);
	cp_text_unwrap(clean);
	cp_sentences(clean, strlen(clean), &s);
	json_decref(cp_chunks(clean, &s, 200));
	cp_spans_free(&s);
	free(clean);
	cp_html_free(&r);
	return 0;
}
