/*
 * chunk.h — sentence-aware chunks of a text for search and quoting.
 *
 * Chunks hold whole sentences (text.h) up to max characters (code
 * points); each chunk after the first repeats the last sentence of the one
 * before, so a quote that spans the seam is still found whole.  A sentence
 * longer than max is cut at the last space before the limit.  Offsets are
 * in characters (code points) from the start of the text.
 */
#ifndef CP_CHUNK_H
#define CP_CHUNK_H

#include <jansson.h>
#include <stddef.h>

#include "text.h"

#define CP_CHUNK_DEFAULT 1200

/* [{"text":…,"offset":N}, …] (new reference). */
json_t *cp_chunks(const char *text, const cp_spans *sentences, size_t max);

#endif
