/*
 * embed.h — text embeddings from an OpenAI-compatible endpoint and the
 * semantic side of cp-search: vectors stored in the state file, cosine
 * similarity, ranking.  Uses http.h (libcurl): only cp-search links it.
 *
 * Configuration (config.h precedence: environment, then file):
 *
 *   embed.url      base URL ("http://127.0.0.1:8080/v1") or the full
 *                  …/embeddings endpoint
 *   embed.model    the model name sent with every request
 *   embed.batch    texts per request (default 64)
 *   embed.timeout  seconds per request (default 30)
 *   embed.max_chars  bytes of an item's text sent (default 4000)
 *
 * The key is a secret: embed.api_key in the credentials file, else the
 * environment variable CLIENTPULSE_EMBED_API_KEY; sent as a Bearer token,
 * never logged.
 *
 * The endpoint is POST {url}/embeddings with {"model":…, "input":[…]}
 * and answers {"data":[{"index":i, "embedding":[…]}, …]} (the OpenAI
 * format).  Every vector of one model must have the same dimension.
 *
 * Vectors live in search_vectors (55-search.sql) as little-endian
 * float32, one row per item and model, with the item's version: a card
 * that changed is embedded again the next time it is searched.
 */
#ifndef CP_EMBED_H
#define CP_EMBED_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "rbac.h"
#include "search.h"

typedef struct cp_embed cp_embed;

/* Read the configuration and the key; 0, or CP_EX_CONFIG after saying
 * what is missing. */
int cp_embed_open(cp_embed **out);
void cp_embed_close(cp_embed *e);
const char *cp_embed_model(const cp_embed *e);

/*
 * Embed n texts: *out gets n * *dim floats (n vectors, in order; caller
 * frees), normalised to length 1.  0, or an exit code after one message
 * (69 when the endpoint cannot be reached or fails, 76 when it answers
 * something that is not embeddings).
 */
int cp_embed_texts(cp_embed *e, const char *const *texts, size_t n,
    float **out, int *dim);

/* Cosine similarity of two vectors of length dim. */
double cp_cosine(const float *a, const float *b, int dim);
/* Little-endian float32 bytes (4 * dim) from floats and back. */
void cp_vec_pack(const float *v, int dim, unsigned char *out);
void cp_vec_unpack(const unsigned char *in, int dim, float *v);

/*
 * Embed the items in u's scope (of the kinds and filters in o) that have
 * no vector for this model, or one of an older version, in batches,
 * storing each batch in its own transaction.  0 or an exit code.
 */
int cp_embed_sync(sqlite3 *db, const cp_user *u, cp_embed *e,
    const cp_search_opts *o);

/*
 * Rank u's items (kinds and filters of o) by cosine similarity to the
 * query vector q (dim floats): the best o->limit appended to out, score
 * the similarity.  Items without a vector of this model are not ranked.
 * 0 or an exit code.
 */
int cp_semantic_rank(sqlite3 *db, const cp_user *u, const char *model,
    const float *q, int dim, const cp_search_opts *o, cp_hits *out);

#endif
