/*
 * search.h — full-text search over cards, signals and assets, scoped by
 * access (cp-search).  The indexes are lib/data/schema/55-search.sql
 * (cards_fts, signals_fts) and 40-score.sql (assets_fts).
 *
 * What people type is never handed to FTS5 as is: cp_query_parse() turns
 * it into an expression built only of quoted strings and the operators
 * this module writes, so no input can be an FTS5 syntax error, a column
 * filter or a NEAR group.  The grammar people get:
 *
 *   word            a word (case, diacritics and English endings folded)
 *   cloud-native    words joined by punctuation are a phrase
 *   "a phrase"      words next to each other, in order
 *   word*           a prefix (three characters or more)
 *   -word           results without the word (or -"a phrase"); NOT word
 *   a OR b          either (upper-case OR); terms are otherwise all needed
 *                   (an upper-case AND between them changes nothing)
 *
 * Everything else (FTS5's NEAR ^ : ( ) + {…}) is plain text.
 *
 * Scope is part of every query (rbac.h): cards on accounts in temp.scope;
 * signals naming at least one account in temp.scope (an admin also sees
 * the tenant's signals that name no account); the tenant's assets.
 * Nothing of another tenant is ever read.  Call cp_rbac_load_scope()
 * first.
 *
 * Results come by kind: cards, then signals, then assets, each kind
 * ranked by BM25 (title weighted up) and cut at the limit.  BM25 scores
 * of different indexes are not comparable (each has its own word
 * statistics), so kinds are never interleaved by score.  A query
 * matching more than
 * search.max_candidates items of a kind (default 10,000) is ranked among
 * the newest that many, which keeps a search for a word every card has
 * as fast as any other (cp-search(1)).
 */
#ifndef CP_SEARCH_H
#define CP_SEARCH_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbac.h"
#include "strbuf.h"
#include "timefmt.h"

/* Kinds of things found (bits, for --type). */
enum {
	CP_SK_CARD = 1,
	CP_SK_SIGNAL = 2,
	CP_SK_ASSET = 4,
	CP_SK_ALL = 7
};
/* "card", "signal", "asset" */
const char *cp_search_kind_name(int kind);
/* Parse a --type value ("card", "cards", "signal,asset"); 0 when bad. */
int cp_search_kinds_parse(const char *s);

#define CP_QUERY_MAX_BYTES 1024
#define CP_QUERY_MAX_TERMS 32

typedef struct cp_query {
	char *fts;      /* the FTS5 expression */
	char *words;    /* the positive words, space-separated (for embedding) */
	int nterms;     /* terms, positive and excluded */
} cp_query;

/* Parse s (NUL-terminated UTF-8).  false with a one-line reason in err
 * ("no words to search for", "query longer than 1024 bytes", …); q is
 * then empty.  Free with cp_query_free either way. */
bool cp_query_parse(const char *s, cp_query *q, char *err, size_t errlen);
void cp_query_free(cp_query *q);

typedef struct cp_search_opts {
	int kinds;                /* CP_SK_* bits; 0 means all */
	const char *account;      /* only this account (cards, signals) */
	char since[CP_TIME_MAX];  /* cards created, signals published, assets
	                             updated at or after; "" for any time */
	long limit;               /* results of each kind; default 10 */
	long candidates;          /* search.max_candidates */
	bool ascii;               /* "..." instead of "…" in snippets */
	sqlite3 *db2;             /* a second connection to the same file,
	                             temp.scope loaded: signals are then
	                             searched alongside cards, in a thread;
	                             NULL: one after the other */
} cp_search_opts;

void cp_search_opts_default(cp_search_opts *o);

/* One thing found. */
typedef struct cp_hit {
	int kind;                 /* CP_SK_* */
	int64_t rid;              /* rowid in its table */
	int64_t version;          /* the item's version (signals: 1) */
	double score;             /* higher is better (-bm25, cosine, RRF) */
	char *snippet;            /* text around the match, matches between
	                             CP_HL_ON and CP_HL_OFF; may be NULL */
} cp_hit;

#define CP_HL_ON  '\x02'
#define CP_HL_OFF '\x03'

typedef struct cp_hits {
	cp_hit *v;
	size_t n, cap;
} cp_hits;

void cp_hits_free(cp_hits *h);
/* Sort by kind (cards, signals, assets), then best first, then rid
 * (newer first). */
void cp_hits_sort(cp_hits *h);

/*
 * Bring the indexes up to date (55-search.sql): the cards noted as
 * written since, the signals stored since, in transactions of a thousand
 * or two.  When the state file is busy for longer than wait_ms, or
 * read-only, the search goes on with what is indexed (said at -v).
 * 0 or an exit code.
 */
int cp_search_sync(sqlite3 *db, int wait_ms);
/* Rebuild every index from its table (cards, signals), and drop the
 * vectors of items that are gone.  0 or rc. */
int cp_search_reindex(sqlite3 *db);

/*
 * Full-text search as u: up to o->limit hits of each kind asked, by kind
 * and best first, appended to out, each with its snippet.  0 or an exit
 * code (after a message).
 */
int cp_search_fts(sqlite3 *db, const cp_user *u, const cp_query *q,
    const cp_search_opts *o, cp_hits *out);

/*
 * Reciprocal rank fusion: each item's score is the sum over the lists
 * it is in of 1 / (k + rank), rank counting from 1 within the item's
 * kind.  a and b are rankings sorted by cp_hits_sort; out gets their
 * union by kind and best first, at most limit of each kind.  Snippets
 * are taken from a, else from b.
 */
void cp_search_fuse(const cp_hits *a, const cp_hits *b, double k, long limit,
    cp_hits *out);

/* The record of a hit as u sees it (new reference; NULL when it went
 * away): a card (inbox.h), a signal as stored, an asset with "type":
 * "asset"; each with "search": {"kind","rank","score","snippet"}. */
json_t *cp_search_record(sqlite3 *db, const cp_user *u, const cp_hit *h,
    long rank);

/*
 * Append a snippet fitted to width display columns (ellipsis when cut),
 * the matches between on and off (NULL: unmarked).  Control characters
 * are shown as spaces.
 */
void cp_search_fit_snippet(strbuf *out, const char *snippet, int width,
    bool ascii, const char *on, const char *off);

/* The text an item is embedded from (title and body), at most max bytes
 * (cut at a character boundary); caller frees.  NULL when gone. */
char *cp_search_item_text(sqlite3 *db, int kind, int64_t rid, size_t max);

#endif
