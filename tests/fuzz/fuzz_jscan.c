/*
 * fuzz_jscan — cp-dedupe's one-pass JSON check (lib/jscan.c) against
 * jansson: on valid UTF-8, a line jscan accepts but jansson refuses (an
 * integer too big for jansson) must still fail when its members are
 * decoded, so cp-dedupe rejects it either way; a line both accept must
 * decode member by member.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jscan.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_jmember m[64];
	char err[256];
	int n, i;
	const char *s = (const char *)data;

	if (!cp_utf8_valid(s, size))
		return 0;
	n = cp_jscan_object(s, size, m, 64, err, sizeof err);
	if (n < 0)
		return 0;
	{
		json_t *all = json_loadb(s, size, JSON_DECODE_ANY, NULL);
		int failed = 0;
		for (i = 0; i < n; i++) {
			json_t *v = cp_jvalue(&m[i]);
			if (!v)
				failed = 1;
			json_decref(v);
		}
		if (!all && !failed)
			abort();    /* accepted what jansson refuses */
		if (all && failed)
			abort();    /* a good member that does not decode */
		json_decref(all);
	}
	return 0;
}
