#include <string.h>
#include <utf8proc.h>

#include "fingerprint.h"
#include "mem.h"
#include "strbuf.h"
#include "text.h"
#include "utf8.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Call fn with the hash of every word of text, in order. */
static void words(const char *t, size_t n, void (*fn)(uint64_t, void *),
    void *arg)
{
	size_t i = 0;

	while (i < n) {
		uint64_t h = 1469598103934665603ULL;
		size_t len = 0;
		while (i < n) {
			unsigned char c = (unsigned char)t[i];
			int32_t cp;
			size_t k;
			if (c < 0x80) {
				if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
				    (c | 0x20) <= 'z')))
					break;
				h = (h ^ (c >= 'A' && c <= 'Z' ? c | 0x20 : c)) *
				    1099511628211ULL;
				i++;
				len++;
				continue;
			}
			k = cp_utf8_decode(t + i, n - i, &cp);
			if (!k || !cp_is_alnum(cp))
				break;
			h = (h ^ (uint64_t)utf8proc_tolower(cp)) * 1099511628211ULL;
			i += k;
			len++;
		}
		if (len) {
			fn(mix64(h), arg);
		} else {
			int32_t cp;
			size_t k = cp_utf8_decode(t + i, n - i, &cp);
			i += k ? k : 1;
		}
	}
}

/* Shingles: the last k word hashes combined. */
typedef struct shingler {
	uint64_t ring[16];
	int k, seen;
	void (*fn)(uint64_t, void *);
	void *arg;
	uint64_t last;     /* the pending short shingle for tiny texts */
} shingler;

static void shingle_word(uint64_t h, void *arg)
{
	shingler *s = arg;
	uint64_t x = 0;
	int i;

	s->ring[s->seen % s->k] = h;
	s->seen++;
	if (s->seen < s->k)
		return;
	for (i = 0; i < s->k; i++)
		x = mix64(x ^ s->ring[(s->seen - s->k + i) % s->k]);
	s->fn(x, s->arg);
}

static void shingles(const char *t, size_t n, int k,
    void (*fn)(uint64_t, void *), void *arg)
{
	shingler s;
	int i;

	memset(&s, 0, sizeof s);
	s.k = k < 1 ? 1 : k > 16 ? 16 : k;
	s.fn = fn;
	s.arg = arg;
	words(t, n, shingle_word, &s);
	/* fewer words than a shingle: the words are the shingle */
	if (s.seen > 0 && s.seen < s.k) {
		uint64_t x = 0;
		for (i = 0; i < s.seen; i++)
			x = mix64(x ^ s.ring[i]);
		fn(x, arg);
	}
}

static void sim_add(uint64_t h, void *arg)
{
	int *v = arg, b;
	for (b = 0; b < 64; b++)
		v[b] += (h >> b) & 1 ? 1 : -1;
}

uint64_t cp_simhash(const char *text, size_t n, int k)
{
	int v[64] = { 0 }, b;
	uint64_t r = 0;

	shingles(text, n, k, sim_add, v);
	for (b = 0; b < 64; b++)
		if (v[b] > 0)
			r |= 1ULL << b;
	return r;
}

typedef struct mhkey {
	uint32_t *sig;
	uint64_t k1, k2;          /* the word-sequence key, two lanes */
	shingler sh;
} mhkey;

static void mh_add(uint64_t h, void *arg)
{
	uint32_t *sig = arg;
	unsigned bin = (unsigned)(h >> 59);          /* 32 bins */
	uint32_t v = (uint32_t)h | 1;                /* 0 means empty */

	if (!sig[bin] || v < sig[bin])
		sig[bin] = v;
}

static void densify(uint32_t sig[CP_MH_N]);

static void mhkey_word(uint64_t h, void *arg)
{
	mhkey *m = arg;

	m->k1 = mix64(m->k1 ^ h);
	m->k2 = mix64(m->k2 + h * 0x9e3779b97f4a7c15ULL);
	shingle_word(h, &m->sh);
}

void cp_minhash_key(const char *text, size_t n, int k, uint32_t sig[CP_MH_N],
    char key[33])
{
	mhkey m;
	int i;

	memset(&m, 0, sizeof m);
	memset(sig, 0, CP_MH_N * sizeof *sig);
	m.sig = sig;
	m.k1 = 0x243f6a8885a308d3ULL;
	m.k2 = 0x13198a2e03707344ULL;
	m.sh.k = k < 1 ? 1 : k > 16 ? 16 : k;
	m.sh.fn = mh_add;
	m.sh.arg = sig;
	words(text, n, mhkey_word, &m);
	if (m.sh.seen > 0 && m.sh.seen < m.sh.k) {
		uint64_t x = 0;
		for (i = 0; i < m.sh.seen; i++)
			x = mix64(x ^ m.sh.ring[i]);
		mh_add(x, sig);
	}
	densify(sig);
	cp_fp_hex(m.k1, key);
	cp_fp_hex(m.k2 ^ (uint64_t)m.sh.seen, key + 16);
}

void cp_minhash(const char *text, size_t n, int k, uint32_t sig[CP_MH_N])
{
	memset(sig, 0, CP_MH_N * sizeof *sig);
	shingles(text, n, k, mh_add, sig);
	densify(sig);
}

static void densify(uint32_t sig[CP_MH_N])
{
	int i, j;
	uint32_t tmp[CP_MH_N];

	/* densify: an empty bin borrows the next non-empty one, salted by
	 * the distance so equal texts still agree bin for bin */
	memcpy(tmp, sig, sizeof tmp);
	for (i = 0; i < CP_MH_N; i++) {
		if (tmp[i])
			continue;
		for (j = 1; j < CP_MH_N; j++)
			if (tmp[(i + j) % CP_MH_N]) {
				sig[i] = (uint32_t)mix64((uint64_t)tmp[(i + j) %
				    CP_MH_N] * 31 + (uint64_t)j) | 1;
				break;
			}
	}
}

double cp_minhash_sim(const uint32_t *a, const uint32_t *b)
{
	int i, eq = 0;

	for (i = 0; i < CP_MH_N; i++)
		if (a[i] && a[i] == b[i])
			eq++;
	return (double)eq / CP_MH_N;
}

void cp_minhash_sketch(const uint32_t sig[CP_MH_N], uint8_t sk[CP_MH_N])
{
	int i;

	for (i = 0; i < CP_MH_N; i++)
		sk[i] = (uint8_t)(sig[i] >> 1);
}

double cp_minhash_sketch_sim(const uint32_t a[CP_MH_N],
    const uint8_t sk[CP_MH_N])
{
	int i, eq = 0;

	for (i = 0; i < CP_MH_N; i++)
		if (a[i] && (uint8_t)(a[i] >> 1) == sk[i])
			eq++;
	return (double)eq / CP_MH_N;
}

int64_t cp_minhash_band(const uint32_t sig[CP_MH_N], int b)
{
	uint64_t x = mix64((uint64_t)(b + 1));
	int i;

	for (i = 0; i < CP_MH_ROWS; i++)
		x = mix64(x ^ sig[b * CP_MH_ROWS + i]);
	x &= 0x7fffffffffffffffULL;
	return (int64_t)(x ? x : 1);
}

void cp_text_key(const char *text, size_t n, char out[33])
{
	uint32_t sig[CP_MH_N];

	cp_minhash_key(text, n, CP_SHINGLE_DEFAULT, sig, out);
}

void cp_fp_hex(uint64_t fp, char out[17])
{
	static const char hx[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 16; i++)
		out[i] = hx[(fp >> (60 - 4 * i)) & 15];
	out[16] = '\0';
}

int cp_fp_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	if (!s || strlen(s) != 16)
		return 0;
	for (i = 0; i < 16; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint64_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint64_t)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

int cp_hamming(uint64_t a, uint64_t b)
{
	return __builtin_popcountll(a ^ b);
}
