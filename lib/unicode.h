/*
 * unicode.h — utf8proc-backed text operations: normalisation, case
 * folding, terminal display width.
 *
 * Every function accepts invalid UTF-8 (it is repaired to U+FFFD first),
 * so callers never need to validate before calling.  Returned strings are
 * new and freed with free().
 */
#ifndef CP_UNICODE_H
#define CP_UNICODE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

char *cp_u_nfc(const char *s);            /* NFC */
char *cp_u_casefold(const char *s);       /* NFC + case folding, for matching */
/* Columns s takes on a terminal: wide (CJK, emoji) count 2, combining
 * marks and zero-width characters 0, control characters 1 (cp_u_fit
 * shows them as a space, so they can never drive the terminal). */
int cp_u_width(const char *s);
/*
 * Append s to out so that it takes exactly width columns: truncated with
 * an ellipsis ("…", or "..." when ascii is set) when longer, padded with
 * spaces when shorter (on the right, or on the left when right_align).
 */
void cp_u_fit(strbuf *out, const char *s, int width, bool right_align,
    bool ascii);
/* Whether the C library's locale speaks UTF-8 (LC_CTYPE after setlocale). */
bool cp_u_locale_utf8(void);

#endif
