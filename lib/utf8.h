/*
 * utf8.h — UTF-8 validation and decoding, no dependencies.
 *
 * Kept apart from unicode.h (utf8proc: normalisation, case folding, display
 * width) so that binaries which only validate input do not load utf8proc.
 */
#ifndef CP_UTF8_H
#define CP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 prefix of s[0..n): n when all of it is valid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
size_t cp_utf8_valid_prefix(const char *s, size_t n);
static inline bool cp_utf8_valid(const char *s, size_t n)
{
	return cp_utf8_valid_prefix(s, n) == n;
}
/* Decode one code point at s (at most n bytes); returns its length, or 0
 * for an invalid sequence (then *cp is U+FFFD). */
size_t cp_utf8_decode(const char *s, size_t n, int32_t *cp);
/* Encode cp into out (4 bytes room); returns the length. */
size_t cp_utf8_encode(int32_t cp, char *out);
/* A copy with every invalid sequence replaced by U+FFFD; *nbad (may be
 * NULL) receives the number of replacements.  Caller frees. */
char *cp_utf8_repair(const char *s, size_t n, size_t *nbad);

#endif
