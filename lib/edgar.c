/*
 * edgar.c — SEC EDGAR JSON mapping and Form 8-K items (edgar.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "edgar.h"
#include "json.h"
#include "mem.h"
#include "timefmt.h"

/* ---- the item table (lib/data/sec-items.tsv) ---- */

struct itemrow {
	char code[8];
	char *title;            /* NULL for a legacy mapping */
	char modern[8];         /* for a legacy mapping */
};

static struct itemrow *rows;
static size_t nrows;
static int loaded;

static void load_items(void)
{
	size_t len;
	char *text, *line, *save = NULL;

	if (loaded)
		return;
	loaded = 1;
	if (!(text = cp_data_load("sec-items.tsv", &len, NULL)))
		return;
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		struct itemrow *r;
		if (*line == '#' || !tab || tab - line >= 8)
			continue;
		*tab = '\0';
		rows = xrealloc(rows, (nrows + 1) * sizeof *rows);
		r = &rows[nrows++];
		memset(r, 0, sizeof *r);
		snprintf(r->code, sizeof r->code, "%s", line);
		if (strchr(line, '.'))
			r->title = xstrdup(tab + 1);
		else
			snprintf(r->modern, sizeof r->modern, "%.7s", tab + 1);
	}
	free(text);
}

static const struct itemrow *find_row(const char *code)
{
	size_t i;

	load_items();
	for (i = 0; i < nrows; i++)
		if (!strcmp(rows[i].code, code))
			return &rows[i];
	return NULL;
}

const char *cp_sec_item_title(const char *code)
{
	const struct itemrow *r = find_row(code);

	return r ? r->title : NULL;
}

size_t cp_sec_items(const char *items, cp_sec_item *out, size_t max)
{
	size_t n = 0;
	const char *p = items;

	while (p && *p && n < max) {
		size_t k;
		char code[8];
		const struct itemrow *r;
		while (*p == ',' || *p == ' ' || *p == ';')
			p++;
		k = strcspn(p, ", ;");
		if (!k)
			break;
		snprintf(code, sizeof code, "%.*s", (int)(k < 7 ? k : 7), p);
		p += k;
		memset(&out[n], 0, sizeof out[n]);
		snprintf(out[n].filed_as, sizeof out[n].filed_as, "%s", code);
		r = find_row(code);
		if (r && !r->title) {
			/* a pre-2004 number: its modern equivalent */
			snprintf(out[n].code, sizeof out[n].code, "%s",
			    r->modern);
			r = find_row(r->modern);
		} else {
			snprintf(out[n].code, sizeof out[n].code, "%s", code);
		}
		out[n].title = r ? r->title : NULL;
		n++;
	}
	return n;
}

/* ---- submissions ---- */

bool cp_sec_cik(const char *s, char out[11])
{
	size_t n;

	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (!strncasecmp(s, "CIK", 3))
		s += 3;
	n = strspn(s, "0123456789");
	if (!n || n > 10)
		return false;
	{
		const char *e = s + n;
		while (isspace((unsigned char)*e))
			e++;
		if (*e)
			return false;
	}
	memset(out, '0', 10);
	memcpy(out + 10 - n, s, n);
	out[10] = '\0';
	return true;
}

char *cp_sec_doc_url(const char *www, const char *cik, const char *accession,
    const char *doc)
{
	char acc[32];
	size_t i, j = 0;
	const char *c = cik;
	size_t wl = strlen(www);

	while (*c == '0' && c[1])
		c++;
	for (i = 0; accession[i] && j < sizeof acc - 1; i++)
		if (accession[i] != '-')
			acc[j++] = accession[i];
	acc[j] = '\0';
	while (wl && www[wl - 1] == '/')
		wl--;
	if (!doc || !*doc)
		return xasprintf("%.*s/Archives/edgar/data/%s/%s/%s-index.htm",
		    (int)wl, www, c, acc, accession);
	return xasprintf("%.*s/Archives/edgar/data/%s/%s/%s", (int)wl, www, c,
	    acc, doc);
}

static char *str_at(json_t *arr, size_t i)
{
	json_t *v = json_array_get(arr, i);
	const char *s = json_string_value(v);

	return s && *s ? xstrdup(s) : NULL;
}

/* "2019-11-15T06:02:24.000Z" → "2019-11-15T06:02:24Z" */
static char *norm_time(const char *s)
{
	char buf[CP_TIME_MAX];
	time_t t;

	if (!s || !cp_time_parse(s, &t))
		return NULL;
	return xstrdup(cp_time_format(t, buf));
}

static int parse_arrays(json_t *rec, cp_sec_subm *out, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "accessionNumber", "filingDate",
		"form", NULL };
	json_t *acc = json_object_get(rec, "accessionNumber");
	size_t n, i;
	int k;

	for (k = 0; keys[k]; k++)
		if (!json_is_array(json_object_get(rec, keys[k]))) {
			snprintf(err, errlen, "submissions: \"%s\" is not an "
			    "array", keys[k]);
			return -1;
		}
	n = json_array_size(acc);
	if (json_array_size(json_object_get(rec, "form")) != n ||
	    json_array_size(json_object_get(rec, "filingDate")) != n) {
		snprintf(err, errlen, "submissions: filing arrays of different "
		    "lengths");
		return -1;
	}
	out->filings = xcalloc(n ? n : 1, sizeof *out->filings);
	for (i = 0; i < n; i++) {
		cp_sec_filing *f = &out->filings[out->nfilings];
		json_t *sz = json_array_get(json_object_get(rec, "size"), i);
		char *acc_s = str_at(acc, i), *t;
		if (!acc_s)
			continue;
		f->accession = acc_s;
		f->form = str_at(json_object_get(rec, "form"), i);
		f->filed = str_at(json_object_get(rec, "filingDate"), i);
		t = str_at(json_object_get(rec, "acceptanceDateTime"), i);
		f->accepted = norm_time(t);
		free(t);
		f->report_date = str_at(json_object_get(rec, "reportDate"), i);
		f->primary_doc = str_at(json_object_get(rec, "primaryDocument"),
		    i);
		f->primary_desc = str_at(json_object_get(rec,
		    "primaryDocDescription"), i);
		f->items = str_at(json_object_get(rec, "items"), i);
		f->size = json_is_integer(sz) ? json_integer_value(sz) : 0;
		if (!f->form)
			f->form = xstrdup("");
		if (!f->filed)
			f->filed = xstrdup("");
		out->nfilings++;
	}
	return 0;
}

int cp_sec_parse(const char *buf, size_t len, cp_sec_subm *out, char *err,
    size_t errlen)
{
	char jerr[160];
	json_t *root, *filings, *recent, *files, *f;
	const char *s;
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	root = cp_json_parse(buf, len, jerr, sizeof jerr);
	if (!root) {
		snprintf(err, errlen, "submissions: not JSON: %s", jerr);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "submissions: not a JSON object");
		json_decref(root);
		return -1;
	}
	if ((s = cp_json_str(root, "error")) || (s = cp_json_str(root,
	    "message"))) {
		snprintf(err, errlen, "submissions: error object: %.160s", s);
		json_decref(root);
		return -1;
	}
	filings = json_object_get(root, "filings");
	if (filings) {
		char cik[11];
		json_t *c = json_object_get(root, "cik");
		if (json_is_string(c) && cp_sec_cik(json_string_value(c), cik))
			out->cik = xstrdup(cik);
		else if (json_is_integer(c)) {
			char tmp[24];
			snprintf(tmp, sizeof tmp, "%lld",
			    (long long)json_integer_value(c));
			if (cp_sec_cik(tmp, cik))
				out->cik = xstrdup(cik);
		}
		if ((s = cp_json_str(root, "name")))
			out->name = xstrdup(s);
		recent = json_object_get(filings, "recent");
		if (!json_is_object(recent)) {
			snprintf(err, errlen, "submissions: no filings.recent");
			json_decref(root);
			return -1;
		}
		rc = parse_arrays(recent, out, err, errlen);
		files = json_object_get(filings, "files");
		json_array_foreach(files, i, f) {
			cp_sec_page *p;
			if (!cp_json_str(f, "name"))
				continue;
			out->pages = xrealloc(out->pages, (out->npages + 1) *
			    sizeof *out->pages);
			p = &out->pages[out->npages++];
			p->name = xstrdup(cp_json_str(f, "name"));
			p->from = xstrdup(cp_json_strd(f, "filingFrom", ""));
			p->to = xstrdup(cp_json_strd(f, "filingTo", ""));
			p->count = cp_json_int(f, "filingCount", 0);
		}
	} else if (json_object_get(root, "accessionNumber")) {
		rc = parse_arrays(root, out, err, errlen);
	} else {
		snprintf(err, errlen, "submissions: neither a submissions "
		    "file nor an older page");
		rc = -1;
	}
	json_decref(root);
	return rc;
}

void cp_sec_free(cp_sec_subm *s)
{
	size_t i;

	for (i = 0; i < s->nfilings; i++) {
		cp_sec_filing *f = &s->filings[i];
		free(f->accession);
		free(f->form);
		free(f->filed);
		free(f->accepted);
		free(f->report_date);
		free(f->primary_doc);
		free(f->primary_desc);
		free(f->items);
	}
	for (i = 0; i < s->npages; i++) {
		free(s->pages[i].name);
		free(s->pages[i].from);
		free(s->pages[i].to);
	}
	free(s->filings);
	free(s->pages);
	free(s->cik);
	free(s->name);
	memset(s, 0, sizeof *s);
}

int cp_sec_parse_tickers(const char *buf, size_t len, cp_sec_ticker_fn fn,
    void *arg, char *err, size_t errlen)
{
	char jerr[160], cik[11], num[24];
	json_t *root, *v;
	const char *key;

	root = cp_json_parse(buf, len, jerr, sizeof jerr);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "company tickers: %s", root ?
		    "not a JSON object" : jerr);
		json_decref(root);
		return -1;
	}
	json_object_foreach(root, key, v) {
		json_t *c = json_object_get(v, "cik_str");
		const char *t = cp_json_str(v, "ticker");
		if (json_is_integer(c))
			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(c));
		else if (json_is_string(c))
			snprintf(num, sizeof num, "%.20s", json_string_value(c));
		else
			continue;
		if (t && cp_sec_cik(num, cik))
			fn(t, cik, cp_json_str(v, "title"), arg);
	}
	json_decref(root);
	return 0;
}
