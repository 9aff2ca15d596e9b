/*
 * fpindex.h — the fingerprints of the clustering window, in memory.
 *
 * A signal can only join a story published within the window of its own
 * publication (default 7 days), so cp-dedupe searches only that part of
 * the state file: this module holds it in segments of one tenant and one
 * week of publication (seconds since the epoch / 604800).  The caller
 * fills a segment from the state file with one range scan on publication
 * time the first time a lookup needs it, then adds every signal it
 * stores, so a lookup never reads the state file and costs the same with
 * a thousand or a million fingerprints stored.
 *
 * A segment keeps, per stored signal, 128 bytes (cp_fpent), the 32-bit
 * hashes of its event keys (4 bytes each, about ten), and three
 * open-addressing tables (4-byte slots, at most 3/4 full), each with a
 * slot per distinct key whose signals are chained newest first:
 *   bands     the 8 LSH bands, by 32 bits of each band's key (boiler-
 *             plate makes some keys common: a lookup reads only the
 *             newest few);
 *   pairs     the (account, theme) pairs the signal is filed under
 *             (12 bytes a filing);
 *   postings  for (account, "job:<function>") pairs, the publication
 *             time and the cluster, for the hiring-surge count.
 * Anything found here is a candidate the caller confirms against the full
 * row in the state file; sketches only rule candidates out.
 *
 * A postings-only segment holds just the postings (a surge looks back
 * further than the window).  The caller bounds memory with
 * cp_fpx_trim(): the segments not used for the current signal go, least
 * recently used first; a dropped segment is simply read again when
 * needed.
 *
 * Ownership: the index owns every segment; pointers to segments and
 * entries are valid until the next cp_fpx_seg_new, cp_fpx_trim or add to
 * that segment.  Not thread-safe (the state thread owns it).
 */
#ifndef CP_FPINDEX_H
#define CP_FPINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

enum { CP_FPX_POSTINGS = 1, CP_FPX_FULL = 2 };

/* One stored signal as the window sees it: two cache lines (entries are
 * 64-byte aligned), the first with what walking a band chain and
 * ruling a candidate out by time or exact-copy key reads. */
typedef struct cp_fpent {
	uint32_t next[CP_MH_BANDS]; /* (the index's own: band chains) */
	uint32_t mark;            /* free for the caller (starts 0) */
	uint32_t keys;            /* (the index's own: its key hashes) */
	int64_t sig;              /* dedupe_fingerprints.sig (signals.seq) */
	int64_t pub;              /* publication time, seconds */
	uint64_t tk;              /* first 64 bits of the exact-copy key */
	uint8_t sk[CP_MH_N];      /* cp_minhash_sketch of its signature */
	uint32_t bh[CP_MH_BANDS]; /* low 32 bits of each cp_minhash_band */
} cp_fpent;

typedef struct cp_fpx cp_fpx;
typedef struct cp_fpseg cp_fpseg;

cp_fpx *cp_fpx_new(void);
void cp_fpx_free(cp_fpx *x);

/* The id of the (tenant, account, theme) triple; 0 when it was never
 * added and add is 0 (nothing can be filed under it then). */
uint32_t cp_fpx_key(cp_fpx *x, int64_t tenant, const char *account,
    size_t alen, const char *theme, size_t tlen, int add);

/* The loaded segment of (tenant, week), or NULL; marks it used by the
 * current signal. */
cp_fpseg *cp_fpx_seg(cp_fpx *x, int64_t tenant, long week);
/* A new, empty segment (replacing any of the same tenant and week). */
cp_fpseg *cp_fpx_seg_new(cp_fpx *x, int64_t tenant, long week, int kind);
int cp_fpseg_kind(const cp_fpseg *s);
/* Every loaded segment of a tenant and week range, in turn: i from 0
 * until NULL (for keeping them current with other writers). */
cp_fpseg *cp_fpx_seg_at(cp_fpx *x, size_t i, int64_t *tenant, long *week);

/* A new signal is being decided: segments used from now on are its. */
void cp_fpx_next(cp_fpx *x);
/* Drop least recently used segments, never those of the current signal,
 * until the index takes at most budget bytes. */
void cp_fpx_trim(cp_fpx *x, size_t budget);
size_t cp_fpx_bytes(const cp_fpx *x);
size_t cp_fpx_entries(const cp_fpx *x);

/* Add a signal to a full segment (banded: it has text, so bands) with
 * the nk hashes kh of its event keys (copied); its index in the
 * segment.  Cheapest in ascending order of sig. */
uint32_t cp_fpseg_add(cp_fpseg *s, const cp_fpent *e, int banded,
    const uint32_t *kh, size_t nk);
/* The key hashes of an entry of s, how many in *n. */
const uint32_t *cp_fpseg_keys(const cp_fpseg *s, const cp_fpent *e,
    size_t *n);
/* File entry ent under a pair key. */
void cp_fpseg_pair(cp_fpseg *s, uint32_t ent, uint32_t key);
/* A job posting (any segment kind). */
void cp_fpseg_post(cp_fpseg *s, uint32_t key, int64_t pub,
    const uint8_t clu[16]);

const cp_fpent *cp_fpseg_ent(const cp_fpseg *s, uint32_t i);
/* The newest (by sig) max entries whose band b has the key bh (32 bits
 * of it), newest first, into out; how many. */
size_t cp_fpseg_band(cp_fpseg *s, int b, uint32_t bh, cp_fpent **out,
    size_t max);
/* Call fn for every entry filed under key. */
void cp_fpseg_pairs(const cp_fpseg *s, uint32_t key,
    void (*fn)(const cp_fpent *, void *), void *arg);
/* Call fn for every posting filed under key. */
void cp_fpseg_posts(const cp_fpseg *s, uint32_t key,
    void (*fn)(int64_t pub, const uint8_t clu[16], void *), void *arg);

/* A cluster id as 16 bytes: the 32 hex digits of "clu_…", or for any
 * other text the first 16 bytes of its SHA-256. */
void cp_fpx_clu(const char *cluster_id, uint8_t out[16]);

#endif
