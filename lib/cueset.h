/*
 * cueset.h — many PCRE2 patterns matched over a text in one pass.
 *
 * One alternation of hundreds of cues costs hundreds of attempts at every
 * byte.  Instead each pattern's literal prefix is worked out ("acquir" of
 * "acquir(?:e|es|ed)", both "appoint" and "name" of
 * "(?:appoint|name)s?\s…") and the pattern is filed under the first three
 * lower-cased bytes of it; at each word start of the text only the
 * patterns filed under that word's first three bytes are tried, anchored
 * there.  Patterns without a usable prefix go into one (*MARK)-tagged
 * alternation scanned the ordinary way.  Patterns match caseless, with
 * Unicode properties, at word starts only.
 */
#ifndef CP_CUESET_H
#define CP_CUESET_H

#include <stddef.h>

typedef struct cp_cueset cp_cueset;

cp_cueset *cp_cueset_new(void);
void cp_cueset_free(cp_cueset *c);
/* Add a pattern with a tag (≥ 0) reported with its hits. */
void cp_cueset_add(cp_cueset *c, const char *pattern, int tag);
/* Compile everything; 0, or -1 with the offending pattern and the
 * compiler's message in err. */
int cp_cueset_compile(cp_cueset *c, char *err, size_t errlen);

typedef void (*cp_cue_fn)(int tag, size_t start, size_t end, void *arg);
/* Report every hit in text (lower: cp_text_lower(text), same length). */
void cp_cueset_scan(const cp_cueset *c, const char *text, size_t n,
    const char *lower, cp_cue_fn fn, void *arg);

#endif
