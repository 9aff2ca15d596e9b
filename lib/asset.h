/*
 * asset.h — sales assets (case studies, whitepapers, decks…) and their
 * full-text index.  The format is cp-asset(1):
 *
 *   {"id":"cs-fabrikam-erp", "kind":"case_study",
 *    "title":"How Fabrikam cut month-end close by 40%",
 *    "url":"https://example.com/cs/fabrikam", "summary":"…",
 *    "themes":["cost_cutting"], "industries":["manufacturing"],
 *    "tags":["erp","finance"]}
 *
 * Without an id, one is made from the title (cp_slug).  The index
 * (assets_fts, FTS5, porter stemming) covers title, summary, themes,
 * industries and tags and is kept in step by triggers on assets.
 */
#ifndef CP_ASSET_H
#define CP_ASSET_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "playbook.h"
#include "score.h"
#include "strbuf.h"

/* The asset kinds (NULL-terminated). */
extern const char *const cp_asset_kinds[];

/* Validate and normalise an asset record in place (themes known to cfg,
 * an http(s) URL, lists of strings).  false with a reason in err. */
bool cp_asset_normalise(json_t *rec, const cp_scorecfg *cfg, char *err,
    size_t errlen);
/* Insert or update inside the caller's transaction, audited as actor.
 * *outcome: 0 unchanged, 1 created, 2 updated.  0 or an exit code. */
int cp_asset_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome);
/* The stored asset record (new reference) or NULL. */
json_t *cp_asset_get_json(sqlite3 *db, int64_t tenant_id, const char *id);

/* Append an FTS5 phrase for each word run of s ("cloud-native" is
 * "cloud native"), joined by sep (" OR ", " "), to q; false when s has
 * no words. */
bool cp_fts_terms(strbuf *q, const char *s, const char *sep);
/*
 * Search the tenant's assets with an FTS5 query, best first (bm25 with
 * title and themes weighted up, then id).  Returns a new array of asset
 * records each with "rank", or NULL after reporting a query error
 * (*rc gets the exit code).
 */
json_t *cp_asset_search(sqlite3 *db, int64_t tenant_id, const char *fts,
    long limit, int *rc);

/* How many of the tenant's assets serve this playbook and theme: listed
 * by the playbook, or tagged with the theme. */
long cp_asset_count(sqlite3 *db, int64_t tenant_id, const cp_playbook *pb,
    const char *theme);
/*
 * The assets to attach to a card: the playbook's own first, then the
 * full-text matches for the theme or the playbook's terms (phrases):
 * those of the theme first, then those for the account's industry, then
 * the best (BM25); at most
 * limit, as a new array of {id, kind, title, url}.
 */
json_t *cp_asset_refs(sqlite3 *db, int64_t tenant_id, const cp_playbook *pb,
    const char *theme, const char *industry, long limit);

#endif
