/*
 * fuzz_ndjson — the record loop every stage shares (lib/ndjson.c) over a
 * memory stream: line splitting, the length limit and the skipping of an
 * over-long line chunk by chunk, CR LF, blank lines, NUL bytes, UTF-8,
 * JSON syntax with duplicate keys, the top-level object check; then each
 * accepted record through the record validator.  The first byte picks
 * the line limit (small limits reach the skipping path).
 *
 * Properties: every line handed to the callback is valid UTF-8 without
 * NUL and within the limit; accepted + rejected never exceeds the lines.
 */
#include <stdio.h>

#include "fuzz.h"
#include "ndjson.h"
#include "record.h"
#include "utf8.h"

static unsigned long seen;

static int one(json_t *rec, const cp_line *ln, void *arg)
{
	char err[256];
	size_t *limit = arg;

	if (ln->len > *limit || memchr(ln->text, '\0', ln->len) ||
	    !cp_utf8_valid(ln->text, ln->len) || !json_is_object(rec))
		abort();
	if (!cp_record_check(rec, CP_REC_UNKNOWN, err, sizeof err))
		cp_reject(ln, "%s", err);
	seen++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 16u << 20, 64, 1, 4096 };
	size_t limit, nl = 0, i;
	unsigned long before_acc, before_rej;
	FILE *fp;

	fuzz_quiet();
	if (size == 0)
		return 0;
	limit = limits[data[0] & 3];
	data++, size--;
	cp_ndjson.max_line = limit;
	for (i = 0; i < size; i++)
		nl += data[i] == '\n';
	before_acc = cp_ndjson_accepted();
	before_rej = cp_ndjson_rejected();
	seen = 0;
	/* fmemopen of 0 bytes fails on some libcs: an empty stream is /dev/null */
	fp = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	if (!fp)
		abort();
	cp_ndjson_read(fp, "<fuzz>", one, &limit);
	fclose(fp);
	if (cp_ndjson_accepted() - before_acc != seen)
		abort();
	/* a record rejected by the validator counts twice at most */
	if (cp_ndjson_accepted() - before_acc > nl + 1 ||
	    cp_ndjson_rejected() - before_rej > 2 * (nl + 1))
		abort();
	cp_ndjson.max_line = 16u << 20;
	return 0;
}
