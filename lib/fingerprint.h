/*
 * fingerprint.h — what near-duplicate detection compares.
 *
 * Text is reduced to its words (letters and digits, lower-cased; the
 * same tokenisation everywhere) and to shingles of k consecutive words
 * (default 3).  From the shingles:
 *
 *   cp_simhash   64-bit SimHash (Charikar): the signal's "fingerprint",
 *                close texts differ in few bits (Hamming distance);
 *   cp_minhash   a MinHash signature of CP_MH_N 32-bit values by one
 *                permutation hashing with rotation densification: the
 *                share of equal values estimates the Jaccard similarity of
 *                the shingle sets, and bands of CP_MH_ROWS values give the
 *                LSH keys cp-dedupe indexes (CP_MH_BANDS of them);
 *   cp_text_key  the exact-duplicate key: a hash of the word sequence,
 *                so whitespace, case and punctuation do not matter
 *                (cp_minhash_key computes it with the signature).
 */
#ifndef CP_FINGERPRINT_H
#define CP_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define CP_MH_N     32
#define CP_MH_ROWS  4
#define CP_MH_BANDS (CP_MH_N / CP_MH_ROWS)
#define CP_SHINGLE_DEFAULT 3

uint64_t cp_simhash(const char *text, size_t n, int shingle);
void cp_minhash(const char *text, size_t n, int shingle,
    uint32_t sig[CP_MH_N]);
/* Both at once, in one pass over the words: the MinHash signature and
 * the exact-duplicate key (a 128-bit hash of the word sequence, hex). */
void cp_minhash_key(const char *text, size_t n, int shingle,
    uint32_t sig[CP_MH_N], char key[33]);
/* Estimated Jaccard similarity of two signatures, in [0,1]. */
double cp_minhash_sim(const uint32_t *a, const uint32_t *b);
/* The sketch of a signature: bits 1..8 of each value (bit 0 is always
 * set).  Equal values have equal sketches, so the share of equal sketch
 * values bounds the Jaccard estimate from above (cp_minhash_sketch_sim):
 * 32 bytes that rule most candidates out without their signature. */
void cp_minhash_sketch(const uint32_t sig[CP_MH_N], uint8_t sk[CP_MH_N]);
/* At least cp_minhash_sim(a, b) when sk is the sketch of b. */
double cp_minhash_sketch_sim(const uint32_t a[CP_MH_N],
    const uint8_t sk[CP_MH_N]);
/* The LSH key of band b (0..CP_MH_BANDS-1), never 0. */
int64_t cp_minhash_band(const uint32_t sig[CP_MH_N], int b);
/* 32 hex digits + NUL. */
void cp_text_key(const char *text, size_t n, char out[33]);
/* 16 lower-case hex digits + NUL; and back (false if not 16 hex). */
void cp_fp_hex(uint64_t fp, char out[17]);
int cp_fp_parse(const char *s, uint64_t *out);
int cp_hamming(uint64_t a, uint64_t b);

#endif
