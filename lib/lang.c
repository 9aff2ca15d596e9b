#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "data.h"
#include "lang.h"
#include "mem.h"
#include "text.h"
#include "utf8.h"

#define MAXLANG 32
#define MAXTRI 800        /* trigrams looked at per text: plenty to decide */

enum { S_LATIN, S_CYRILLIC, S_GREEK, S_ARABIC, S_HEBREW, S_HAN, S_KANA,
       S_HANGUL, S_DEVANAGARI, S_THAI, S_OTHER, S_N };

static const char *const script_lang[S_N] = {
	NULL, NULL, "el", "ar", "he", "zh", "ja", "ko", "hi", "th", NULL
};

typedef struct entry {
	uint64_t key;          /* 0: empty slot */
	float *lp;             /* log P per language */
} entry;

static struct {
	int loaded;
	int n;
	char code[MAXLANG][8];
	int script[MAXLANG];
	double total[MAXLANG];
	double unseen[MAXLANG]; /* log P of a trigram the language never had */
	entry *tab;
	size_t cap, used;
	float *pool;
	size_t npool, poolcap;
} P;

static int script_of(int32_t cp)
{
	if (cp < 0x250)
		return S_LATIN;
	if (cp >= 0x400 && cp < 0x530)
		return S_CYRILLIC;
	if (cp >= 0x370 && cp < 0x400)
		return S_GREEK;
	if (cp >= 0x590 && cp < 0x600)
		return S_HEBREW;
	if (cp >= 0x600 && cp < 0x700)
		return S_ARABIC;
	if (cp >= 0x900 && cp < 0x980)
		return S_DEVANAGARI;
	if (cp >= 0xE00 && cp < 0xE80)
		return S_THAI;
	if (cp >= 0x3040 && cp < 0x3100)
		return S_KANA;
	if (cp >= 0xAC00 && cp < 0xD7B0)
		return S_HANGUL;
	if (cp >= 0x4E00 && cp < 0xA000)
		return S_HAN;
	if (cp >= 0x1E00 && cp < 0x1F00)
		return S_LATIN;
	return S_OTHER;
}

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static entry *slot(uint64_t key, int create)
{
	size_t i;

	if (create && (P.used + 1) * 2 > P.cap) {
		entry *old = P.tab;
		size_t oc = P.cap, j;
		P.cap = P.cap ? P.cap * 2 : 4096;
		P.tab = xcalloc(P.cap, sizeof *P.tab);
		P.used = 0;
		for (j = 0; j < oc; j++)
			if (old[j].key) {
				entry *e = slot(old[j].key, 1);
				e->key = old[j].key;
				e->lp = old[j].lp;
				P.used++;
			}
		free(old);
	}
	if (!P.cap)
		return NULL;
	for (i = mix(key) & (P.cap - 1);; i = (i + 1) & (P.cap - 1)) {
		if (P.tab[i].key == key)
			return &P.tab[i];
		if (!P.tab[i].key)
			return create ? &P.tab[i] : NULL;
	}
}

static uint64_t trikey(const int32_t t[3])
{
	return ((uint64_t)t[0] << 42) | ((uint64_t)t[1] << 21) |
	    (uint64_t)t[2] | (1ULL << 63);
}

/* Counts first go into lp[] as raw numbers; finish() turns them into
 * log-probabilities once every profile is in. */
static void add_count(int lang, const int32_t t[3], double count)
{
	uint64_t key = trikey(t);
	entry *e = slot(key, 1);

	if (!e->key) {
		e->key = key;
		e->lp = xcalloc(MAXLANG, sizeof *e->lp);
		P.used++;
	}
	e->lp[lang] += (float)count;
	P.total[lang] += count;
}

static void load_profile(const char *name)
{
	size_t len, i = 0;
	char *buf = cp_data_load(name, &len, NULL);
	int lang, scripts[S_N] = { 0 }, best = 0, s;
	const char *base = strrchr(name, '/') + 1;

	if (!buf || P.n >= MAXLANG)
		goto out;
	lang = P.n++;
	snprintf(P.code[lang], sizeof P.code[lang], "%.*s",
	    (int)(strlen(base) - 4), base);
	while (i < len) {
		size_t e = i, k;
		int32_t t[3];
		int nt = 0;
		while (e < len && buf[e] != '\n')
			e++;
		if (buf[i] != '#') {
			k = i;
			while (nt < 3 && k < e) {
				size_t m = cp_utf8_decode(buf + k, e - k, &t[nt]);
				if (!m)
					break;
				k += m;
				nt++;
			}
			if (nt == 3 && k < e && buf[k] == '\t') {
				double c = strtod(buf + k + 1, NULL);
				if (c > 0) {
					int j;
					add_count(lang, t, c);
					for (j = 0; j < 3; j++)
						if (t[j] != ' ')
							scripts[script_of(t[j])] +=
							    (int)c;
				}
			}
		}
		i = e + 1;
	}
	for (s = 1; s < S_N; s++)
		if (scripts[s] > scripts[best])
			best = s;
	P.script[lang] = best;
out:
	free(buf);
}

static void finish(void)
{
	size_t i;
	int l;
	double v = (double)P.used;

	for (l = 0; l < P.n; l++)
		P.unseen[l] = log(0.5 / (P.total[l] + 0.5 * v));
	for (i = 0; i < P.cap; i++) {
		entry *e = &P.tab[i];
		if (!e->key)
			continue;
		for (l = 0; l < P.n; l++)
			e->lp[l] = (float)log((e->lp[l] + 0.5) /
			    (P.total[l] + 0.5 * v));
	}
}

static void load(void)
{
	const struct cp_datafile *d;

	P.loaded = 1;
	for (d = cp_datafiles; d->name; d++) {
		size_t n = strlen(d->name);
		if (!strncmp(d->name, "lang/", 5) && n > 9 &&
		    !strcmp(d->name + n - 4, ".txt"))
			load_profile(d->name);
	}
	finish();
}

void cp_lang_free(void)
{
	size_t i;

	for (i = 0; i < P.cap; i++)
		free(P.tab[i].lp);
	free(P.tab);
	memset(&P, 0, sizeof P);
}

static const char *pick(const char *text, size_t n, double *conf)
{
	double score[MAXLANG] = { 0 };
	int32_t w[3] = { ' ', ' ', ' ' };
	int scripts[S_N] = { 0 }, dom = 0, s, l, best = -1, second = -1;
	size_t i = 0, ntri = 0, letters = 0, uk = 0, ru = 0;
	int prev_letter = 0;

	while (i < n && ntri < MAXTRI) {
		int32_t cp;
		size_t k = cp_utf8_decode(text + i, n - i, &cp);
		int letter;

		if (!k)
			k = 1;
		i += k;
		letter = cp_is_alnum(cp) && !(cp >= '0' && cp <= '9') &&
		    utf8proc_category(cp) <= UTF8PROC_CATEGORY_LO;
		if (letter) {
			cp = utf8proc_tolower(cp);
			scripts[script_of(cp)]++;
			letters++;
			if (cp == 0x456 || cp == 0x457 || cp == 0x454 ||
			    cp == 0x491)
				uk++;
			else if (cp == 0x44B || cp == 0x44D || cp == 0x44A ||
			    cp == 0x451)
				ru++;
		} else {
			if (!prev_letter)
				continue;
			cp = ' ';
		}
		prev_letter = letter;
		w[0] = w[1];
		w[1] = w[2];
		w[2] = cp;
		if (w[1] == ' ' && w[2] == ' ')
			continue;
		{
			entry *e = slot(trikey(w), 0);
			if (!e)
				continue;
			for (l = 0; l < P.n; l++)
				score[l] += e->lp[l];
			ntri++;
		}
	}
	*conf = 0;
	if (letters < 12)
		return "und";
	for (s = 1; s < S_N; s++)
		if (scripts[s] > scripts[dom])
			dom = s;
	if (script_lang[dom]) {
		*conf = (double)scripts[dom] / (double)letters;
		return script_lang[dom];
	}
	if (dom == S_CYRILLIC && (uk > 2 || ru > 2)) {
		if (uk > 2 * ru + 2 || ru > 2 * uk + 2) {
			*conf = 0.95;
			return uk > ru ? "uk" : "ru";
		}
	}
	for (l = 0; l < P.n; l++) {
		if (P.script[l] != dom)
			continue;
		if (best < 0 || score[l] > score[best]) {
			second = best;
			best = l;
		} else if (second < 0 || score[l] > score[second]) {
			second = l;
		}
	}
	if (best < 0 || ntri < 6)
		return "und";
	if (second >= 0) {
		double margin = (score[best] - score[second]) / (double)ntri;
		/* a margin per trigram this small is a coin toss */
		if (margin < 0.04)
			return "und";
		*conf = 1 - exp(-margin * 10);
	} else {
		*conf = 0.9;
	}
	return P.code[best];
}

const char *cp_lang_detect(const char *text, size_t n, double *confidence)
{
	double c;
	const char *r;

	if (!P.loaded)
		load();
	r = pick(text, n, &c);
	if (confidence)
		*confidence = c;
	return r;
}
