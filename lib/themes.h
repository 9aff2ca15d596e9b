/*
 * themes.h — the taxonomy applied to clean text: which themes a document
 * asserts, which it denies, how sure we are and which sentence says so.
 *
 * Everything is data: the themes file (default lib/data/themes.json,
 * `cp-extract --themes FILE`, or themes.json in the configuration
 * directory; format in clientpulse-themes(5)).  Every cue of every theme
 * becomes one alternative of a single PCRE2 pattern (JIT-compiled, caseless,
 * Unicode), tagged with (*MARK) so one pass over the text finds every hit
 * and says whose it is.  A hit weighs its tier (strong, medium, weak);
 * a theme's confidence is 1 − Π(1 − w) over the sentences that hit it,
 * and it is asserted at or above the threshold.  A negation cue ("denies",
 * "no plans to", "dementiert", "не планує") shortly before a hit in the
 * same sentence makes that hit a denial; a theme only denied is reported
 * with "negated": true.
 *
 * SEC 8-K item numbers (meta.items, else "Item N.NN" in the text) map to
 * themes directly or choose among candidates by content; a source may be
 * limited to some themes (a job posting describes duties, not events);
 * job postings get a function and seniority from their title.
 */
#ifndef CP_THEMES_H
#define CP_THEMES_H

#include <jansson.h>

#include "text.h"

typedef struct cp_themes cp_themes;

/* Load and compile a themes file: path NULL means the default (config
 * directory override, else compiled in).  0, or CP_EX_CONFIG/NOINPUT after
 * a message naming the file and the problem. */
int cp_themes_load(const char *path, cp_themes **out);
void cp_themes_free(cp_themes *t);

/*
 * The "themes" array of a signal for text (clean, with its sentences) and
 * the document's title, source and meta.  *job (may be NULL) receives a new
 * {"function","seniority","title"} object for source "jobs", else NULL.
 */
json_t *cp_themes_match(const cp_themes *t, const char *title,
    const char *text, const cp_spans *sentences, const char *source,
    const json_t *meta, json_t **job);

/* The theme ids, in file order (borrowed). */
size_t cp_themes_count(const cp_themes *t);
const char *cp_themes_id(const cp_themes *t, size_t i);

#endif
