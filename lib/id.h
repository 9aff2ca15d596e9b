/*
 * id.h — SHA-256 and the deterministic record ids.
 *
 * An id is a prefix ("doc_", "sig_", "opp_", "card_", "acc_") and the first
 * 32 hex digits (128 bits) of SHA-256 over the identity fields, each field
 * followed by a 0x1F unit separator so that ("ab","c") and ("a","bc")
 * differ.  The same identity always gives the same id, which is what makes
 * every stage idempotent.
 */
#ifndef CP_ID_H
#define CP_ID_H

#include <stddef.h>

#define CP_SHA256_HEX 65   /* 64 hex digits and a NUL */
#define CP_ID_MAX     48   /* longest prefix + 32 hex digits + NUL */

/* hex SHA-256 of data into out[CP_SHA256_HEX] */
void cp_sha256_hex(const void *data, size_t len, char out[CP_SHA256_HEX]);
/* raw SHA-256 of data into out[32] */
void cp_sha256(const void *data, size_t len, unsigned char out[32]);
/* HMAC-SHA256 of data under key, as hex */
void cp_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[CP_SHA256_HEX]);

/* out[CP_ID_MAX] = prefix + hex over the n NULL-safe parts (NULL is ""). */
void cp_make_id(char out[CP_ID_MAX], const char *prefix,
    const char *const *parts, size_t n);
/* Convenience: up to four parts, the rest NULL. */
void cp_make_id4(char out[CP_ID_MAX], const char *prefix, const char *a,
    const char *b, const char *c, const char *d);

#endif
