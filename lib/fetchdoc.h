/*
 * fetchdoc.h — document records as cp-fetch builds them: identity, ids,
 * content hashes and source reliability (lib/data/reliability.conf).
 *
 * Identity of an item (never its position or a date): within its source,
 * the guid, else the canonical link (fetchurl.h), else a hash of title
 * and link.  The document id is "doc_" + cp_make_id(tenant, source kind,
 * source key, identity): the same item of the same source is the same
 * document for a tenant on every run.
 */
#ifndef CP_FETCHDOC_H
#define CP_FETCHDOC_H

#include <jansson.h>
#include <stdbool.h>

#include "id.h"

/* Load reliability.conf (builtin or override).  0 or CP_EX_CONFIG. */
int cp_reliability_load(void);
/* Reliability of a source kind ("sec", "news", "jobs", "web", "file");
 * news on a major newswire host (url's host or a parent domain listed)
 * gets the "newswire" value. */
double cp_reliability(const char *kind, const char *url);
/* Whether url's host is a listed newswire. */
bool cp_newswire(const char *url);

/* "guid:…", "link:…" or "hash:…" (caller frees). */
char *cp_item_identity(const char *guid, const char *link, const char *title);
void cp_doc_id(char out[CP_ID_MAX], const char *tenant, const char *kind,
    const char *source_key, const char *identity);
/* SHA-256 over the fields whose change makes an item "updated": title,
 * url, published_at, body. */
void cp_doc_hash(const json_t *doc, char out[CP_SHA256_HEX]);

/* A JSON string of s, invalid UTF-8 repaired to U+FFFD, NULL as "". */
json_t *cp_jstr(const char *s);

/* A document record with every required field, in the documented order
 * (id "" and account_ids [] to be filled in; meta {}).  New reference;
 * NULL strings become "". */
json_t *cp_doc_new(const char *tenant, const char *source,
    const char *source_name, double reliability, const char *url,
    const char *title, const char *published_at, const char *fetched_at,
    const char *content_type, const char *body);

#endif
