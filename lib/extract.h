/*
 * extract.h — one document record in, one signal record out.
 *
 * The steps, each in its own module:
 *   body → main text (html.h for HTML, plain text unwrapped) → clean
 *   (text.h: UTF-8 repaired and counted, NFC, zero-width and control
 *   characters gone) → language (lang.h) → PII redacted (pii.h) →
 *   sentences → entities (entities.h) and organisations resolved to
 *   accounts (orgs.h) → themes (themes.h) → chunks (chunk.h) →
 *   SimHash fingerprint (fingerprint.h).
 *
 * The signal keeps every field of the document except "body" (unknown
 * fields and meta included, values unchanged) and adds id (sig_…),
 * document_id, account_ids (the document's own, then those found), text,
 * lang, entities, themes, pii, chunks, fingerprint, job (postings) and
 * extract {version, warnings, replaced_invalid}.  Problems that still
 * leave a usable signal (an ignored charset declaration, nesting cut off,
 * invalid UTF-8 replaced, no body text) are warnings; input that cannot
 * give one (binary content) is an error for the caller to reject.
 */
#ifndef CP_EXTRACT_H
#define CP_EXTRACT_H

#include <jansson.h>
#include <stddef.h>

#include "account.h"

#define CP_EXTRACT_VERSION "1"

typedef struct cp_extract_opts {
	const char *themes_path;   /* NULL: the default themes file */
	int keep_pii;
	size_t chunk_max;          /* 0: CP_CHUNK_DEFAULT */
	int shingle;               /* 0: CP_SHINGLE_DEFAULT */
	const cp_accounts *accounts; /* may be NULL: no resolution */
} cp_extract_opts;

typedef struct cp_extractor cp_extractor;

/* 0 or an exit code after a message (bad themes file…). */
int cp_extractor_new(const cp_extract_opts *o, cp_extractor **out);
void cp_extractor_free(cp_extractor *x);

/* The signal for doc (a checked document record), or NULL with a one-line
 * reason in err. */
json_t *cp_extract(cp_extractor *x, const json_t *doc, char *err,
    size_t errlen);

#endif
