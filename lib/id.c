#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

#include "id.h"
#include "log.h"

static void tohex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 fetched from the provider once: OpenSSL 3 looks EVP_sha256()
 * up again on every use, which cost more than hashing an id.  Once per
 * process, whichever thread gets here first (cp-dedupe makes ids in
 * two); never freed (the process holds it to the end). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? (const EVP_MD *)sha256_md : EVP_sha256();
}

void cp_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, len, out, &n, sha256(), NULL))
		cp_die(70, "sha256 failed");
}

void cp_sha256_hex(const void *data, size_t len, char out[CP_SHA256_HEX])
{
	unsigned char d[32];

	cp_sha256(data, len, d);
	tohex(d, 32, out);
}

void cp_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
    size_t len, char out[CP_SHA256_HEX])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, d, &n) || n != 32)
		cp_die(70, "hmac-sha256 failed");
	tohex(d, 32, out);
}

void cp_make_id(char out[CP_ID_MAX], const char *prefix,
    const char *const *parts, size_t n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned int dl = 32;
	size_t i, pl = strlen(prefix);

	if (!ctx || !EVP_DigestInit_ex(ctx, sha256(), NULL))
		cp_die(70, "sha256 failed");
	for (i = 0; i < n; i++) {
		const char *p = parts[i] ? parts[i] : "";
		EVP_DigestUpdate(ctx, p, strlen(p));
		EVP_DigestUpdate(ctx, "\x1f", 1);
	}
	EVP_DigestFinal_ex(ctx, d, &dl);
	EVP_MD_CTX_free(ctx);
	if (pl > CP_ID_MAX - 33)
		pl = CP_ID_MAX - 33;
	memcpy(out, prefix, pl);
	tohex(d, 16, out + pl);
}

void cp_make_id4(char out[CP_ID_MAX], const char *prefix, const char *a,
    const char *b, const char *c, const char *d)
{
	const char *parts[4] = { a, b, c, d };
	size_t n = d ? 4 : c ? 3 : b ? 2 : a ? 1 : 0;

	cp_make_id(out, prefix, parts, n);
}
