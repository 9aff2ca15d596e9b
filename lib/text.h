/*
 * text.h — clean text and its sentences: the common ground of every
 * cp-extract step after HTML.
 *
 * Cleaning (cp_text_clean) makes any input safe and uniform for matching
 * and output: invalid UTF-8 replaced by U+FFFD (and counted), control and
 * format characters (zero-width space, joiners, BOM, soft hyphen, bidi
 * marks) removed, every kind of Unicode space (U+00A0, U+202F, tabs…) made
 * one ASCII space, runs of spaces collapsed, lines trimmed, paragraph
 * breaks (blank lines) kept as "\n\n", then NFC.
 *
 * Sentences are byte spans of a cleaned text: a sentence ends at . ! ? …
 * (and closing quotes or brackets after them) followed by a space and
 * something that can start a sentence, unless the word before the full
 * stop is a known abbreviation ("Inc.", "Dr.", "Jan.", single initials,
 * "U.S."); a line break always ends a sentence.
 */
#ifndef CP_TEXT_H
#define CP_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct cp_span {
	size_t start, end;      /* byte offsets, end exclusive */
} cp_span;

typedef struct cp_spans {
	cp_span *v;
	size_t n, cap;
} cp_spans;

/* Cleaned copy of s[0..n) (caller frees); *nbad (may be NULL) receives
 * the number of invalid sequences replaced.  Never fails. */
char *cp_text_clean(const char *s, size_t n, size_t *nbad);

/* Rejoin hard-wrapped lines of cleaned plain text, in place: a single
 * line break becomes a space when the line is long and the next line's
 * first word would not have fitted on it (the mark of a wrapped
 * paragraph); short lines (addresses, contact blocks) stay. */
void cp_text_unwrap(char *text);

/* Split text into sentences (appended to out; free with cp_spans_free). */
void cp_sentences(const char *text, size_t n, cp_spans *out);
void cp_spans_free(cp_spans *s);
void cp_spans_add(cp_spans *s, size_t start, size_t end);

/* Lowercase copy for matching, byte for byte the same length: each code
 * point is lowercased only when its lowercase encodes in the same number
 * of bytes, so offsets into the copy are offsets into the original.
 * Caller frees. */
char *cp_text_lower(const char *s, size_t n);

/* Is the code point a letter or digit (Unicode categories L*, N*)? */
int cp_is_alnum(int32_t cp);
int cp_is_upper(int32_t cp);
/* Decode the code point ending just before s[i] (i > 0); its start in
 * *start.  Invalid bytes decode as U+FFFD one byte long. */
int32_t cp_prev_cp(const char *s, size_t i, size_t *start);
/* Whether the text at [start,end) is bounded by non-alphanumerics. */
int cp_word_bounded(const char *s, size_t n, size_t start, size_t end);

#endif
