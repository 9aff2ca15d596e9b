/*
 * test_fetch — lib/edgar, lib/jobs, lib/fetchmatch, lib/fetchdoc and the
 * pure parts of lib/http (Retry-After, User-Agent contact).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "edgar.h"
#include "fetchdoc.h"
#include "fetchmatch.h"
#include "http.h"
#include "jobs.h"
#include "mem.h"
#include "tap.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void test_edgar(void)
{
	cp_sec_item it[8];
	cp_sec_subm s;
	char cik[11], err[200], *u, *buf, path[1024];
	const char *top = getenv("CP_TOP");
	size_t n, len, i;

	n = cp_sec_items("5.02,9.01", it, 8);
	is(n, 2, "two items");
	is_str(it[0].code, "5.02", "item code");
	is_str(it[0].title, "Departure of Directors or Certain Officers; "
	    "Election of Directors; Appointment of Certain Officers; "
	    "Compensatory Arrangements of Certain Officers", "5.02 title");
	n = cp_sec_items("12,7", it, 8);
	is_str(it[0].code, "2.02", "pre-2004 12 is 2.02");
	is_str(it[0].filed_as, "12", "filed as 12");
	is_str(it[1].code, "9.01", "pre-2004 7 is 9.01");
	n = cp_sec_items("5", it, 8);
	is_str(it[0].code, "8.01", "pre-2004 5 is 8.01");
	n = cp_sec_items("99.99", it, 8);
	ok(n == 1 && !it[0].title, "unknown item kept without title");
	is(cp_sec_items("", it, 8), 0, "no items");
	ok(cp_sec_cik("320193", cik) && !strcmp(cik, "0000320193"), "cik pad");
	ok(cp_sec_cik("CIK0000320193", cik), "cik prefix");
	ok(!cp_sec_cik("12345678901", cik), "cik too long");
	ok(!cp_sec_cik("12a", cik), "cik not digits");
	u = cp_sec_doc_url("https://www.sec.gov/", "0000320193",
	    "0001193125-19-292676", "d828969d8k.htm");
	is_str(u, "https://www.sec.gov/Archives/edgar/data/320193/"
	    "000119312519292676/d828969d8k.htm", "document url");
	free(u);

	ok(cp_sec_parse("{\"message\":\"Too many\"}", 22, &s, err, sizeof err)
	    == -1 && strstr(err, "error object"), "error object");
	cp_sec_free(&s);
	ok(cp_sec_parse("nope", 4, &s, err, sizeof err) == -1 &&
	    strstr(err, "not JSON"), "not json");
	cp_sec_free(&s);
	ok(cp_sec_parse("{\"accessionNumber\":[\"a\"],\"form\":[],"
	    "\"filingDate\":[\"x\"]}", 56, &s, err, sizeof err) == -1,
	    "arrays of different lengths");
	cp_sec_free(&s);

	if (!top) {
		ok(1, "# SKIP no CP_TOP for the corpus");
		return;
	}
	snprintf(path, sizeof path, "%s/../shared/corpora/edgar/"
	    "sample_api_responses/CIK0000320193.json", top);
	if (!(buf = slurp(path, &len))) {
		ok(1, "# SKIP corpus not found");
		return;
	}
	ok(cp_sec_parse(buf, len, &s, err, sizeof err) == 0, "apple parses");
	is_str(s.cik, "0000320193", "cik");
	is_str(s.name, "Apple Inc.", "name");
	is(s.nfilings, 1000, "recent filings");
	is(s.npages, 1, "one older page");
	is_str(s.pages[0].to, "2013-02-07", "page range");
	for (i = 0; i < s.nfilings; i++)
		if (!strcmp(s.filings[i].accession, "0001193125-19-292676"))
			break;
	ok(i < s.nfilings, "the 8-K is there");
	if (i < s.nfilings) {
		is_str(s.filings[i].items, "8.01,9.01", "its items");
		is_str(s.filings[i].accepted, "2019-11-15T06:02:24Z",
		    "acceptance time normalised");
	}
	cp_sec_free(&s);
	free(buf);
}

static void test_jobs(void)
{
	cp_jobs j;
	char err[200];
	const char *gh = "{\"jobs\":[{\"id\":7,\"title\":\"T\",\"content\":"
	    "\"&lt;p&gt;x&lt;/p&gt;\",\"departments\":[{\"name\":\"D\"}],"
	    "\"location\":{\"name\":\"L\"},\"updated_at\":"
	    "\"2026-01-02T03:04:05-05:00\"}]}";
	const char *lv = "[{\"id\":\"u\",\"text\":\"T\",\"categories\":{"
	    "\"department\":\"D\"},\"createdAt\":1700000000000}]";

	ok(!cp_jobs_greenhouse(gh, strlen(gh), &j, err, sizeof err), "gh ok");
	is_str(j.v[0].id, "7", "numeric id");
	is_str(j.v[0].body, "<p>x</p>", "content unescaped");
	is_str(j.v[0].posted_at, "2026-01-02T08:04:05Z", "date in UTC");
	cp_jobs_free(&j);
	ok(!cp_jobs_lever(lv, strlen(lv), &j, err, sizeof err), "lever ok");
	is_str(j.v[0].department, "D", "department fallback");
	is_str(j.v[0].posted_at, "2023-11-14T22:13:20Z", "createdAt ms");
	cp_jobs_free(&j);
	ok(cp_jobs_lever("{\"ok\":false,\"error\":\"Document not found\"}", 41,
	    &j, err, sizeof err) && strstr(err, "Document not found"),
	    "lever error object");
	cp_jobs_free(&j);
	ok(cp_jobs_greenhouse("[]", 2, &j, err, sizeof err) &&
	    strstr(err, "no \"jobs\""), "greenhouse wrong shape");
	cp_jobs_free(&j);
}

static void test_match(void)
{
	static char *al[] = { "Northwind" };
	cp_account acc[3];
	cp_accounts a = { acc, 3 };
	const cp_account *hit[4];
	cp_matcher *m;

	memset(acc, 0, sizeof acc);
	acc[0].tenant_id = 1;
	acc[0].id = "nw";
	acc[0].name = "Northwind Labs Inc.";
	acc[0].aliases = al;
	acc[0].naliases = 1;
	acc[0].ticker = "NWLB";
	acc[1].tenant_id = 1;
	acc[1].id = "ct";
	acc[1].name = "Contoso";
	acc[1].domain = "contoso.com";
	acc[2].tenant_id = 2;
	acc[2].id = "other";
	acc[2].name = "Contoso";
	m = cp_matcher_new(&a, 1);
	is(cp_matcher_match(m, "NORTHWIND's results", NULL, hit, 4), 1,
	    "case-folded alias with possessive");
	is(cp_matcher_match(m, "Northwindville fair", NULL, hit, 4), 0,
	    "no match inside a word");
	is(cp_matcher_match(m, "Northwind Labs gains", NULL, hit, 4), 1,
	    "name without legal suffix");
	is(cp_matcher_match(m, "nwlb fell", NULL, hit, 4), 0,
	    "lower-case ticker is a word, not a ticker");
	is(cp_matcher_match(m, "(NWLB) fell", NULL, hit, 4), 1, "ticker");
	is(cp_matcher_match(m, "a story", "https://news.contoso.com/x", hit,
	    4), 1, "domain of the link");
	ok(hit[0] == &acc[1], "the right account");
	is(cp_matcher_match(m, "Contoso and Northwind", NULL, hit, 4), 2,
	    "two accounts, one tenant");
	is(cp_matcher_match(m, "«Contoso» — «Northwind»", NULL, hit, 4), 2,
	    "unicode punctuation is a boundary");
	cp_matcher_free(m);
}

static void test_http_pure(void)
{
	ok(cp_http_parse_retry_after("120", 0) == 120, "retry-after seconds");
	ok(cp_http_parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT",
	    1445412480) == 10, "retry-after date");
	ok(cp_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    1445412490) == 0, "retry-after date in the past");
	ok(cp_http_parse_retry_after("soon", 0) < 0, "retry-after junk");
	ok(cp_http_ua_has_contact("Acme ops@acme.example"), "e-mail contact");
	ok(cp_http_ua_has_contact("Acme (+https://acme.example/bot)"), "url");
	ok(!cp_http_ua_has_contact("ClientPulse/0.1.0"), "no contact");
	ok(!cp_http_ua_has_contact("a @ b"), "a lone @ is no contact");
	ok(!cp_http_ua_has_contact(NULL), "none");
}

static void test_doc(void)
{
	char a[CP_ID_MAX], b[CP_ID_MAX], *i1, *i2;

	i1 = cp_item_identity(NULL, "HTTP://X.org/a?utm_source=1", "t");
	i2 = cp_item_identity(NULL, "http://x.org/a", "other title");
	is_str(i1, i2, "identity by canonical link, not title");
	cp_doc_id(a, "acme", "news", "http://f", i1);
	cp_doc_id(b, "globex", "news", "http://f", i1);
	ok(strcmp(a, b) != 0, "tenants get different ids");
	ok(!strncmp(a, "doc_", 4) && strlen(a) == 36, "id shape");
	free(i1);
	free(i2);
	i1 = cp_item_identity("g1", "http://x.org/a", "t");
	is_str(i1, "guid:g1", "guid first");
	free(i1);
	ok(cp_reliability("sec", NULL) == 0.95, "sec reliability");
	ok(cp_reliability("news", "https://www.reuters.com/x") == 0.85,
	    "newswire subdomain");
	ok(cp_reliability("news", "https://notreuters.com/x") == 0.70,
	    "not a newswire");
	ok(cp_reliability("jobs", NULL) == 0.70, "jobs");
}

int main(void)
{
	test_edgar();
	test_jobs();
	test_match();
	test_http_pure();
	test_doc();
	return done_testing();
}
