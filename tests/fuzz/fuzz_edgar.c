/*
 * fuzz_edgar — the SEC EDGAR mappers (lib/edgar.c) on any bytes: the
 * company submissions JSON and its older pages (parallel arrays that
 * may disagree in length or type), the ticker map, and on every filing
 * found: the 8-K items string, the CIK normaliser and the document URL.
 * The first byte picks submissions or tickers.
 */
#include "edgar.h"
#include "fuzz.h"

static void ticker(const char *t, const char *cik, const char *title, void *arg)
{
	char out[11];

	(void)title;
	(*(size_t *)arg)++;
	if (cik && !cp_sec_cik(cik, out))
		abort();        /* the mapper hands on normalised CIKs only */
	(void)t;
}

static void filing(const cp_sec_subm *s, const cp_sec_filing *f)
{
	cp_sec_item items[16];
	size_t n, i;
	char cik[11];
	char *u;

	if (f->items) {
		n = cp_sec_items(f->items, items, 16);
		if (n > 16)
			abort();
		for (i = 0; i < n; i++)
			(void)cp_sec_item_title(items[i].code);
	}
	if (s->cik && cp_sec_cik(s->cik, cik) && f->accession) {
		u = cp_sec_doc_url("https://www.sec.gov", cik, f->accession,
		    f->primary_doc);
		free(u);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], cik[11];
	cp_sec_subm s;
	size_t i, n = 0;

	fuzz_quiet();
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		cp_sec_parse_tickers((const char *)data + 1, size - 1, ticker,
		    &n, err, sizeof err);
		return 0;
	}
	if (cp_sec_parse((const char *)data + 1, size - 1, &s, err,
	    sizeof err) == 0)
		for (i = 0; i < s.nfilings; i++)
			filing(&s, &s.filings[i]);
	if (s.cik)
		(void)cp_sec_cik(s.cik, cik);
	cp_sec_free(&s);
	return 0;
}
