/*
 * edgar.h — SEC EDGAR: the company submissions JSON, Form 8-K items and
 * the ticker map, as pure functions from bytes to values (no network).
 *
 * The submissions JSON (data.sec.gov/submissions/CIK##########.json)
 * keeps recent filings as parallel arrays under "filings.recent" and
 * points at older pages in "filings.files[]" ({name, filingCount,
 * filingFrom, filingTo}); an older page holds the same arrays at its top
 * level.  cp_sec_parse() reads either.
 *
 * Form 8-K items arrive as "5.02,9.01"; before August 2004 the form had
 * numbered items ("5", "7", "12") that cp_sec_items() maps to the modern
 * ones.  Titles come from lib/data/sec-items.tsv (overridable, data.h).
 */
#ifndef CP_EDGAR_H
#define CP_EDGAR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_sec_filing {
	char *accession;        /* "0001193125-19-292676" */
	char *form;             /* "8-K" */
	char *filed;            /* "2019-11-15" */
	char *accepted;         /* RFC 3339 UTC, or NULL */
	char *report_date;      /* or NULL */
	char *primary_doc;      /* "d828969d8k.htm", or NULL */
	char *primary_desc;     /* "8-K", or NULL */
	char *items;            /* "8.01,9.01" as filed, or NULL */
	long long size;
} cp_sec_filing;

typedef struct cp_sec_page {
	char *name;             /* "CIK0000320193-submissions-001.json" */
	char *from, *to;        /* filing dates covered */
	long long count;
} cp_sec_page;

typedef struct cp_sec_subm {
	char *cik;              /* 10 digits, or NULL on an older page */
	char *name;             /* company name, or NULL */
	cp_sec_filing *filings;
	size_t nfilings;
	cp_sec_page *pages;
	size_t npages;
} cp_sec_subm;

/* Parse a submissions JSON or one of its older pages.  0, or -1 with a
 * one-line reason in err (not JSON, an error object, arrays of different
 * lengths…).  out is initialised either way; free with cp_sec_free. */
int cp_sec_parse(const char *buf, size_t len, cp_sec_subm *out, char *err,
    size_t errlen);
void cp_sec_free(cp_sec_subm *s);

typedef struct cp_sec_item {
	char code[8];           /* modern code: "5.02" */
	const char *title;      /* official title (static), or NULL */
	char filed_as[8];       /* as filed: "5" for a pre-2004 item */
} cp_sec_item;

/* Split and map an items string; returns how many were stored in out
 * (at most max).  Unknown codes are kept with a NULL title. */
size_t cp_sec_items(const char *items, cp_sec_item *out, size_t max);
/* The title of a modern item code, or NULL. */
const char *cp_sec_item_title(const char *code);

/* "0000320193" from "320193", "CIK320193", " 0000320193 " into
 * out[11]; false when s is not a CIK. */
bool cp_sec_cik(const char *s, char out[11]);
/* https://www.sec.gov/Archives/edgar/data/320193/000119312519292676/
 * d828969d8k.htm — from the www base URL.  Caller frees. */
char *cp_sec_doc_url(const char *www, const char *cik, const char *accession,
    const char *doc);

/* company_tickers.json: {"0":{"cik_str":320193,"ticker":"AAPL","title":
 * "Apple Inc."},…}.  Calls fn for each entry; 0, or -1 with err. */
typedef void (*cp_sec_ticker_fn)(const char *ticker, const char *cik,
    const char *title, void *arg);
int cp_sec_parse_tickers(const char *buf, size_t len, cp_sec_ticker_fn fn,
    void *arg, char *err, size_t errlen);

#endif
