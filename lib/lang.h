/*
 * lang.h — language identification: script, then character trigrams.
 *
 * The script of the letters decides first (Cyrillic, Latin, Greek, Arabic,
 * Hebrew, Han, kana, Hangul, Devanagari, Thai); within Latin and Cyrillic,
 * the language whose trigram profile gives the text the highest
 * likelihood wins (naive Bayes over add-one-smoothed counts), with the
 * letters only Ukrainian (і ї є ґ) or only Russian (ы э ъ ё) uses as
 * strong evidence.  Too few letters, or a winner not clearly ahead of the
 * runner-up, gives "und".
 *
 * Profiles are data: lib/data/lang/XX.txt ("trigram<TAB>count" lines, '#'
 * comments), one per ISO 639-1 code, built by tests/quality/mkprofiles.py
 * and overridable from the configuration directory (data.h).  Loaded once,
 * on first use.
 */
#ifndef CP_LANG_H
#define CP_LANG_H

#include <stddef.h>

/* ISO 639-1 code (static storage) and a confidence in [0,1] (may be
 * NULL). */
const char *cp_lang_detect(const char *text, size_t n, double *confidence);
/* Free the profiles (for leak checkers); detection reloads on next use. */
void cp_lang_free(void);

#endif
