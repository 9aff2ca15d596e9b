#include <stdlib.h>
#include <string.h>

#include "fpindex.h"
#include "id.h"
#include "mem.h"

_Static_assert(sizeof(cp_fpent) == 128, "a window entry is two cache lines");

/* Open addressing with linear probing: a slot holds an index + 1, 0 is
 * empty; tables double at 3/4 full (a probe sequence stays short, and
 * most slots visited are rejected without reading the entry). */
typedef struct table {
	uint32_t *slot;
	uint32_t cap, used;       /* cap a power of two, or 0 */
} table;

/* Filed under a key: the table has a slot per distinct key naming the
 * newest filed (index + 1), each the next older one of its key (next,
 * 0 at the end).  A key per slot, not a slot per filing: a busy key's
 * filings would fill a run of slots that every probe nearby must walk. */
typedef struct pair { uint32_t key, ent, next; } pair;
typedef struct post {
	uint32_t key, next;
	int64_t pub;
	uint8_t clu[16];
} post;

/* Entries are kept in blocks that never move: no copying as a segment
 * grows, and at most one block unfilled. */
#define BLOCK 1024

struct cp_fpseg {
	int64_t tenant;
	long week;
	int kind;
	unsigned long used;       /* the signal that last used it */
	cp_fpent **blk;
	uint32_t n, nblk;
	table bands;              /* slot: see band_slot() */
	pair *p;
	uint32_t np, pcap;
	table pairs;              /* slot: newest in p of a key + 1 */
	post *q;
	uint32_t nq, qcap;
	table posts;              /* slot: newest in q of a key + 1 */
	uint32_t *kh;             /* key hashes: a count, then the hashes */
	uint32_t nkh, khcap;
};

typedef struct ikey {
	char *s;                  /* tenant (8 bytes), account, NUL, theme */
	size_t len;
	uint64_t h;
} ikey;

struct cp_fpx {
	cp_fpseg **seg;
	size_t nseg, segcap;
	unsigned long stamp;
	ikey *k;                  /* interned triples; id = index + 1 */
	uint32_t nk, kcap;
	size_t kbytes;            /* their text */
	table keys;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a, finished with mix64. */
static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return mix64(h);
}

/* ---- tables ----------------------------------------------------------- */

static void t_free(table *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}

static size_t t_bytes(const table *t)
{
	return (size_t)t->cap * sizeof *t->slot;
}

/* Put v at the first free slot from hash h. */
static void t_put_raw(table *t, uint64_t h, uint32_t v)
{
	uint32_t m = t->cap - 1, i = (uint32_t)h & m;

	while (t->slot[i])
		i = (i + 1) & m;
	t->slot[i] = v;
	t->used++;
}

/* Room for one more value; rehash() gives the hash of a stored one. */
static void t_grow(table *t, uint64_t (*rehash)(const void *, uint32_t),
    const void *ctx)
{
	if ((t->used + 1) * 4 > t->cap * 3) {
		table old = *t;
		uint32_t i;
		t->cap = old.cap ? old.cap * 2 : 64;
		t->slot = xcalloc(t->cap, sizeof *t->slot);
		t->used = 0;
		for (i = 0; i < old.cap; i++)
			if (old.slot[i])
				t_put_raw(t, rehash(ctx, old.slot[i]), old.slot[i]);
		free(old.slot);
	}
}

/* Insert v with hash h. */
static void t_put(table *t, uint64_t h, uint32_t v,
    uint64_t (*rehash)(const void *, uint32_t), const void *ctx)
{
	t_grow(t, rehash, ctx);
	t_put_raw(t, h, v);
}

/* ---- hashes of what the tables hold ----------------------------------- */

static uint64_t band_hash(int b, uint32_t bh)
{
	return mix64((uint64_t)bh << 3 | (uint64_t)b);
}

static const cp_fpent *ent_at(const cp_fpseg *s, uint32_t i)
{
	return &s->blk[i / BLOCK][i % BLOCK];
}

/* A band slot: the entry + 1 above 6 bits of band number (3) and tag (3
 * bits of the key the position did not use), so that a probe rejects
 * nearly every slot without reading its entry.  Never 0. */
#define MAX_BANDED ((1u << 26) - 2)
static uint32_t band_slot(uint32_t ent, int b, uint32_t bh)
{
	return (ent + 1) << 6 | (uint32_t)b << 3 | bh >> 29;
}

static uint64_t band_rehash(const void *ctx, uint32_t v)
{
	const cp_fpseg *s = ctx;
	int b = (int)(v >> 3 & 7);
	return band_hash(b, ent_at(s, (v >> 6) - 1)->bh[b]);
}

static uint64_t key_hash(uint32_t key)
{
	return mix64((uint64_t)key * 0x9e3779b97f4a7c15ULL);
}

static uint64_t pair_rehash(const void *ctx, uint32_t v)
{
	const cp_fpseg *s = ctx;
	return key_hash(s->p[v - 1].key);
}

static uint64_t post_rehash(const void *ctx, uint32_t v)
{
	const cp_fpseg *s = ctx;
	return key_hash(s->q[v - 1].key);
}

static uint64_t ikey_rehash(const void *ctx, uint32_t v)
{
	const cp_fpx *x = ctx;
	return x->k[v - 1].h;
}

/* ---- the index -------------------------------------------------------- */

cp_fpx *cp_fpx_new(void)
{
	return xcalloc(1, sizeof(cp_fpx));
}

static void seg_free(cp_fpseg *s)
{
	uint32_t i;

	for (i = 0; i < s->nblk; i++)
		free(s->blk[i]);
	free(s->blk);
	free(s->p);
	free(s->q);
	free(s->kh);
	t_free(&s->bands);
	t_free(&s->pairs);
	t_free(&s->posts);
	free(s);
}

void cp_fpx_free(cp_fpx *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->nseg; i++)
		seg_free(x->seg[i]);
	free(x->seg);
	for (i = 0; i < x->nk; i++)
		free(x->k[i].s);
	free(x->k);
	t_free(&x->keys);
	free(x);
}

uint32_t cp_fpx_key(cp_fpx *x, int64_t tenant, const char *account,
    size_t la, const char *theme, size_t lt, int add)
{
	size_t len = 8 + la + 1 + lt;
	char small[256], *buf = len <= sizeof small ? small : xmalloc(len);
	uint64_t h;
	uint32_t i, m;

	memcpy(buf, &tenant, 8);
	memcpy(buf + 8, account, la);
	buf[8 + la] = '\0';
	memcpy(buf + 9 + la, theme, lt);
	h = hash_bytes(buf, len);
	if (x->keys.cap) {
		m = x->keys.cap - 1;
		for (i = (uint32_t)h & m; x->keys.slot[i]; i = (i + 1) & m) {
			const ikey *k = &x->k[x->keys.slot[i] - 1];
			if (k->h == h && k->len == len && !memcmp(k->s, buf, len)) {
				if (buf != small)
					free(buf);
				return x->keys.slot[i];
			}
		}
	}
	if (!add) {
		if (buf != small)
			free(buf);
		return 0;
	}
	if (buf == small) {
		buf = xmalloc(len);
		memcpy(buf, small, len);
	}
	if (x->nk == x->kcap) {
		x->kcap = x->kcap ? x->kcap * 2 : 64;
		x->k = xrealloc(x->k, x->kcap * sizeof *x->k);
	}
	x->k[x->nk].s = buf;
	x->k[x->nk].len = len;
	x->k[x->nk].h = h;
	x->nk++;
	x->kbytes += len;
	t_put(&x->keys, h, x->nk, ikey_rehash, x);
	return x->nk;
}

cp_fpseg *cp_fpx_seg(cp_fpx *x, int64_t tenant, long week)
{
	size_t i;

	for (i = 0; i < x->nseg; i++)
		if (x->seg[i]->week == week && x->seg[i]->tenant == tenant) {
			x->seg[i]->used = x->stamp;
			return x->seg[i];
		}
	return NULL;
}

cp_fpseg *cp_fpx_seg_new(cp_fpx *x, int64_t tenant, long week, int kind)
{
	cp_fpseg *s = xcalloc(1, sizeof *s);
	size_t i;

	s->tenant = tenant;
	s->week = week;
	s->kind = kind;
	s->used = x->stamp;
	for (i = 0; i < x->nseg; i++)
		if (x->seg[i]->week == week && x->seg[i]->tenant == tenant) {
			seg_free(x->seg[i]);
			x->seg[i] = s;
			return s;
		}
	if (x->nseg == x->segcap) {
		x->segcap = x->segcap ? x->segcap * 2 : 16;
		x->seg = xrealloc(x->seg, x->segcap * sizeof *x->seg);
	}
	x->seg[x->nseg++] = s;
	return s;
}

int cp_fpseg_kind(const cp_fpseg *s)
{
	return s->kind;
}

cp_fpseg *cp_fpx_seg_at(cp_fpx *x, size_t i, int64_t *tenant, long *week)
{
	if (i >= x->nseg)
		return NULL;
	*tenant = x->seg[i]->tenant;
	*week = x->seg[i]->week;
	return x->seg[i];
}

void cp_fpx_next(cp_fpx *x)
{
	x->stamp++;
}

static size_t seg_bytes(const cp_fpseg *s)
{
	return sizeof *s + s->nblk * (BLOCK * sizeof(cp_fpent) +
	    sizeof *s->blk) + s->pcap * sizeof *s->p +
	    s->qcap * sizeof *s->q + s->khcap * sizeof *s->kh +
	    t_bytes(&s->bands) + t_bytes(&s->pairs) +
	    t_bytes(&s->posts);
}

size_t cp_fpx_bytes(const cp_fpx *x)
{
	size_t i, n = x->segcap * sizeof *x->seg + x->kcap * sizeof *x->k +
	    t_bytes(&x->keys) + x->kbytes;

	for (i = 0; i < x->nseg; i++)
		n += seg_bytes(x->seg[i]);
	return n;
}

size_t cp_fpx_entries(const cp_fpx *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->nseg; i++)
		n += x->seg[i]->n + x->seg[i]->nq;
	return n;
}

void cp_fpx_trim(cp_fpx *x, size_t budget)
{
	size_t total = cp_fpx_bytes(x);

	while (total > budget) {
		size_t i, lru = x->nseg;
		for (i = 0; i < x->nseg; i++)
			if (x->seg[i]->used != x->stamp && (lru == x->nseg ||
			    x->seg[i]->used < x->seg[lru]->used))
				lru = i;
		if (lru == x->nseg)
			return;          /* all in use: over budget for now */
		total -= seg_bytes(x->seg[lru]);
		seg_free(x->seg[lru]);
		x->seg[lru] = x->seg[--x->nseg];
	}
}

/* ---- segments --------------------------------------------------------- */

/* The slot of band b's key bh in s, or the empty slot where it goes. */
static uint32_t band_find(const cp_fpseg *s, int b, uint32_t bh)
{
	uint32_t m = s->bands.cap - 1, low = band_slot(0, b, bh) & 63, i;

	for (i = (uint32_t)band_hash(b, bh) & m; s->bands.slot[i];
	    i = (i + 1) & m) {
		uint32_t v = s->bands.slot[i];
		if ((v & 63) == low && ent_at(s, (v >> 6) - 1)->bh[b] == bh)
			break;
	}
	return i;
}

/* Chain entry i into band b: the slot names the newest of the key, each
 * entry the next older (index + 1, 0 at the end). */
static void band_add(cp_fpseg *s, uint32_t i, int b)
{
	cp_fpent *e = (cp_fpent *)ent_at(s, i);
	uint32_t k, v, *link;

	t_grow(&s->bands, band_rehash, s);
	k = band_find(s, b, e->bh[b]);
	if (!(v = s->bands.slot[k])) {
		e->next[b] = 0;
		s->bands.slot[k] = band_slot(i, b, e->bh[b]);
		s->bands.used++;
		return;
	}
	/* older than the newest: down the chain to its place */
	if (ent_at(s, (v >> 6) - 1)->sig > e->sig) {
		cp_fpent *p = (cp_fpent *)ent_at(s, (v >> 6) - 1);
		while (p->next[b] && ent_at(s, p->next[b] - 1)->sig > e->sig)
			p = (cp_fpent *)ent_at(s, p->next[b] - 1);
		link = &p->next[b];
		e->next[b] = *link;
		*link = i + 1;
		return;
	}
	e->next[b] = (v >> 6);
	s->bands.slot[k] = band_slot(i, b, e->bh[b]);
}

/* Append a count and nk hashes to the arena; their offset + 1. */
static uint32_t keys_add(cp_fpseg *s, const uint32_t *kh, size_t nk)
{
	uint32_t at = s->nkh;

	while (s->nkh + nk + 1 > s->khcap) {
		s->khcap = s->khcap ? s->khcap * 2 : 1024;
		s->kh = xrealloc(s->kh, s->khcap * sizeof *s->kh);
	}
	s->kh[s->nkh++] = (uint32_t)nk;
	if (nk)
		memcpy(s->kh + s->nkh, kh, nk * sizeof *kh);
	s->nkh += (uint32_t)nk;
	return at + 1;
}

uint32_t cp_fpseg_add(cp_fpseg *s, const cp_fpent *e, int banded,
    const uint32_t *kh, size_t nk)
{
	uint32_t i = s->n;
	int b;

	if (i % BLOCK == 0) {
		void *blk;
		/* on cache-line boundaries: an entry is two lines, not three */
		if (posix_memalign(&blk, 64, BLOCK * sizeof(cp_fpent)))
			blk = xmalloc(BLOCK * sizeof(cp_fpent));
		s->blk = xrealloc(s->blk, (s->nblk + 1) * sizeof *s->blk);
		s->blk[s->nblk++] = blk;
	}
	s->blk[i / BLOCK][i % BLOCK] = *e;
	s->blk[i / BLOCK][i % BLOCK].keys = keys_add(s, kh, nk);
	s->n++;
	/* (a segment is one tenant's week: 67 million signals in a week
	 * are far beyond one state file; more would go unbanded) */
	if (banded && i <= MAX_BANDED)
		for (b = 0; b < CP_MH_BANDS; b++)
			band_add(s, i, b);
	return i;
}

/* The slot of key in a table of chain heads (key_of gives a head's
 * key), or the empty slot where it goes. */
static uint32_t head_find(const table *t, uint32_t key,
    uint32_t (*key_of)(const cp_fpseg *, uint32_t), const cp_fpseg *s)
{
	uint32_t m = t->cap - 1, i;

	for (i = (uint32_t)key_hash(key) & m; t->slot[i] && key_of(s,
	    t->slot[i]) != key; i = (i + 1) & m)
		;
	return i;
}

static uint32_t pair_key(const cp_fpseg *s, uint32_t v) { return s->p[v - 1].key; }
static uint32_t post_key(const cp_fpseg *s, uint32_t v) { return s->q[v - 1].key; }

/* Make filing v (index + 1) the head of its key's chain; *next gets the
 * old head. */
static void head_push(table *t, uint32_t key, uint32_t v, uint32_t *next,
    uint32_t (*key_of)(const cp_fpseg *, uint32_t),
    uint64_t (*rehash)(const void *, uint32_t), const cp_fpseg *s)
{
	uint32_t i;

	t_grow(t, rehash, s);
	i = head_find(t, key, key_of, s);
	*next = t->slot[i];
	if (!t->slot[i])
		t->used++;
	t->slot[i] = v;
}

void cp_fpseg_pair(cp_fpseg *s, uint32_t ent, uint32_t key)
{
	if (s->np == s->pcap) {
		s->pcap = s->pcap ? s->pcap * 2 : 256;
		s->p = xrealloc(s->p, s->pcap * sizeof *s->p);
	}
	s->p[s->np].key = key;
	s->p[s->np].ent = ent;
	s->np++;
	head_push(&s->pairs, key, s->np, &s->p[s->np - 1].next, pair_key,
	    pair_rehash, s);
}

void cp_fpseg_post(cp_fpseg *s, uint32_t key, int64_t pub,
    const uint8_t clu[16])
{
	if (s->nq == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 64;
		s->q = xrealloc(s->q, s->qcap * sizeof *s->q);
	}
	s->q[s->nq].key = key;
	s->q[s->nq].pub = pub;
	memcpy(s->q[s->nq].clu, clu, 16);
	s->nq++;
	head_push(&s->posts, key, s->nq, &s->q[s->nq - 1].next, post_key,
	    post_rehash, s);
}

const uint32_t *cp_fpseg_keys(const cp_fpseg *s, const cp_fpent *e,
    size_t *n)
{
	*n = e->keys ? s->kh[e->keys - 1] : 0;
	return e->keys ? s->kh + e->keys : NULL;
}

const cp_fpent *cp_fpseg_ent(const cp_fpseg *s, uint32_t i)
{
	return ent_at(s, i);
}

size_t cp_fpseg_band(cp_fpseg *s, int b, uint32_t bh, cp_fpent **out,
    size_t max)
{
	uint32_t v;
	cp_fpent *e;
	size_t n = 0;

	if (!s->bands.cap || !(v = s->bands.slot[band_find(s, b, bh)]))
		return 0;
	for (e = (cp_fpent *)ent_at(s, (v >> 6) - 1); n < max;
	    e = (cp_fpent *)ent_at(s, e->next[b] - 1)) {
		out[n++] = e;
		if (!e->next[b])
			break;
	}
	return n;
}

void cp_fpseg_pairs(const cp_fpseg *s, uint32_t key,
    void (*fn)(const cp_fpent *, void *), void *arg)
{
	uint32_t v;

	if (!s->pairs.cap)
		return;
	for (v = s->pairs.slot[head_find(&s->pairs, key, pair_key, s)]; v;
	    v = s->p[v - 1].next)
		fn(ent_at(s, s->p[v - 1].ent), arg);
}

void cp_fpseg_posts(const cp_fpseg *s, uint32_t key,
    void (*fn)(int64_t, const uint8_t *, void *), void *arg)
{
	uint32_t v;

	if (!s->posts.cap)
		return;
	for (v = s->posts.slot[head_find(&s->posts, key, post_key, s)]; v;
	    v = s->q[v - 1].next)
		fn(s->q[v - 1].pub, s->q[v - 1].clu, arg);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : -1;
}

void cp_fpx_clu(const char *id, uint8_t out[16])
{
	unsigned char sha[32];
	int i;

	if (strlen(id) == 36 && !strncmp(id, "clu_", 4)) {
		for (i = 0; i < 16; i++) {
			int hi = hexval(id[4 + 2 * i]), lo = hexval(id[5 + 2 * i]);
			if (hi < 0 || lo < 0)
				break;
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == 16)
			return;
	}
	cp_sha256(id, strlen(id), sha);
	memcpy(out, sha, 16);
}
