#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chunk.h"
#include "entities.h"
#include "extract.h"
#include "fingerprint.h"
#include "html.h"
#include "id.h"
#include "json.h"
#include "lang.h"
#include "mem.h"
#include "orgs.h"
#include "pii.h"
#include "text.h"
#include "themes.h"
#include "timefmt.h"
#include "utf8.h"

struct cp_extractor {
	cp_extract_opts o;
	cp_themes *themes;
	cp_orgs *orgs;
};

int cp_extractor_new(const cp_extract_opts *o, cp_extractor **out)
{
	cp_extractor *x = xcalloc(1, sizeof *x);
	int rc;

	*out = NULL;
	x->o = *o;
	if (!x->o.chunk_max)
		x->o.chunk_max = CP_CHUNK_DEFAULT;
	if (!x->o.shingle)
		x->o.shingle = CP_SHINGLE_DEFAULT;
	if ((rc = cp_entities_init()) || (rc = cp_pii_init()) ||
	    (rc = cp_themes_load(o->themes_path, &x->themes))) {
		cp_extractor_free(x);
		return rc;
	}
	cp_html_init();
	if (o->accounts && o->accounts->n)
		x->orgs = cp_orgs_new(o->accounts);
	*out = x;
	return 0;
}

void cp_extractor_free(cp_extractor *x)
{
	if (!x)
		return;
	cp_themes_free(x->themes);
	cp_orgs_free(x->orgs);
	free(x);
}

static int is_html(const char *ct, const char *body, size_t n)
{
	if (ct && (strstr(ct, "html") || strstr(ct, "xml")))
		return 1;
	if (ct && !strncasecmp(ct, "text/plain", 10))
		return 0;
	return cp_html_sniff(body, n);
}

/* Share of the raw body that is control characters or invalid bytes:
 * a high share means binary content, not text. */
static double garbage_share(const char *s, size_t n)
{
	size_t i = 0, bad = 0, total = 0, lim = n < 65536 ? n : 65536;

	while (i < lim) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, lim - i, &cp);
		if (!k) {
			bad++;
			k = 1;
		} else if ((cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t') ||
		    cp == 0xFFFD || (cp >= 0x7f && cp < 0xa0)) {
			bad++;
		}
		total++;
		i += k;
	}
	return total ? (double)bad / (double)total : 0;
}

static int utf8_charset(const char *cs)
{
	while (*cs == ' ' || *cs == '"' || *cs == '\'')
		cs++;
	return !strncasecmp(cs, "utf-8", 5) || !strncasecmp(cs, "utf8", 4) ||
	    !strncasecmp(cs, "us-ascii", 8) || !strncasecmp(cs, "ascii", 5);
}

static void warn(json_t *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(json_t *w, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(w, json_string(buf));
}

/* The charset named in a content type ("text/html; charset=koi8-r"). */
static const char *ct_charset(const char *ct)
{
	const char *p;
	for (p = ct; p && *p; p++)
		if (!strncasecmp(p, "charset=", 8))
			return p + 8;
	return NULL;
}

/* Body → main text, cleaned.  NULL with err set for binary content. */
static char *main_text(const json_t *doc, json_t *warnings, size_t *nbad,
    char *err, size_t errlen)
{
	const char *body = cp_json_strd(doc, "body", "");
	const char *ct = cp_json_str(doc, "content_type");
	const char *src = cp_json_str(doc, "source");
	size_t n = strlen(body);
	char *text;
	const char *cs;

	if (n && garbage_share(body, n) > 0.1) {
		snprintf(err, errlen, "body is not text (binary content)");
		return NULL;
	}
	if ((cs = ct_charset(ct)) && !utf8_charset(cs))
		warn(warnings, "content type declares charset %.40s; body read "
		    "as UTF-8", cs);
	if (is_html(ct, body, n)) {
		cp_html_result r;
		cp_html_extract(body, n, src && !strcmp(src, "sec") ?
		    CP_HTML_ALL : CP_HTML_MAIN, &r);
		if (r.charset && !utf8_charset(r.charset))
			warn(warnings, "page declares charset %.40s; body read as "
			    "UTF-8", r.charset);
		if (r.too_deep)
			warn(warnings, "markup nested too deeply; the rest was cut "
			    "off");
		if (r.from_ld)
			warn(warnings, "main text taken from the page's JSON-LD "
			    "articleBody");
		if (r.whole && !r.empty)
			warn(warnings, "no main content block found; all text "
			    "kept");
		text = cp_text_clean(r.text, strlen(r.text), nbad);
		cp_html_free(&r);
	} else {
		text = cp_text_clean(body, n, nbad);
		cp_text_unwrap(text);
	}
	if (*nbad)
		warn(warnings, "%zu invalid UTF-8 sequences replaced", *nbad);
	if (!*text)
		warn(warnings, "no body text");
	return text;
}

/* The headline repeated as the text's first line (a page without <h1>,
 * a feed that prepends it) goes: the title travels in its own field. */
static void drop_title(char *text, const char *title)
{
	size_t tl = strlen(title);
	char *a, *b;

	if (tl < 8 || strncasecmp(text, title, tl) || (text[tl] &&
	    text[tl] != '\n'))
		return;
	a = text + tl;
	while (*a == '\n')
		a++;
	b = text;
	while ((*b++ = *a++))
		;
}

static json_t *pii_json(const cp_pii_counts *c)
{
	return json_pack("{s:i,s:i,s:i,s:i,s:i}", "email", c->email, "phone",
	    c->phone, "card", c->card, "iban", c->iban, "ssn", c->ssn);
}

static int has_id(const json_t *a, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), id))
			return 1;
	return 0;
}

json_t *cp_extract(cp_extractor *x, const json_t *doc, char *err,
    size_t errlen)
{
	json_t *sig, *warnings = json_array(), *ents, *accts, *job = NULL, *v;
	const char *key, *tenant = cp_json_str(doc, "tenant");
	const char *title = cp_json_strd(doc, "title", "");
	const char *lang;
	char *text, *red, *ctitle, id[CP_ID_MAX], fp[17];
	size_t nbad = 0, i;
	cp_pii_counts pc;
	cp_spans sents = { NULL, 0, 0 };
	cp_entities e = { NULL, 0, 0 };

	if (!(text = main_text(doc, warnings, &nbad, err, errlen))) {
		json_decref(warnings);
		return NULL;
	}
	ctitle = cp_text_clean(title, strlen(title), NULL);
	drop_title(text, ctitle);
	{
		/* too little body to tell: let the title help */
		size_t tl = strlen(text);
		if (tl < 200) {
			char *both = xasprintf("%s\n\n%s", ctitle, text);
			lang = cp_lang_detect(both, strlen(both), NULL);
			free(both);
		} else {
			lang = cp_lang_detect(text, tl, NULL);
		}
	}
	red = cp_pii_redact(text, strlen(text), !x->o.keep_pii, &pc);
	free(text);
	cp_sentences(red, strlen(red), &sents);
	{
		const char *pa = cp_json_str(doc, "published_at");
		time_t t;
		struct tm tm;
		if ((pa && cp_time_parse(pa, &t)) || ((pa = cp_json_str(doc,
		    "fetched_at")) && cp_time_parse(pa, &t)))
			cp_entities_set_year(gmtime_r(&t, &tm) ? tm.tm_year +
			    1900 : 0);
		else
			cp_entities_set_year(0);
	}
	cp_entities_find(red, strlen(red), lang, &e);
	if (x->orgs)
		cp_orgs_find(x->orgs, tenant, red, strlen(red), &e);
	cp_entities_sort(&e);

	cp_make_id4(id, "sig_", tenant, cp_json_str(doc, "id"), NULL, NULL);
	sig = json_object();
	json_object_set_new(sig, "type", json_string("signal"));
	json_object_set_new(sig, "v", json_integer(1));
	json_object_set_new(sig, "id", json_string(id));
	json_object_set(sig, "document_id", json_object_get(doc, "id"));
	json_object_foreach((json_t *)doc, key, v) {
		if (!strcmp(key, "type") || !strcmp(key, "v") ||
		    !strcmp(key, "id") || !strcmp(key, "body") ||
		    !strcmp(key, "document_id"))
			continue;
		json_object_set(sig, key, v);
	}
	/* the document's own accounts, then those the text names */
	accts = json_array();
	json_array_foreach(json_object_get(doc, "account_ids"), i, v)
		if (json_is_string(v) && !has_id(accts, json_string_value(v)))
			json_array_append(accts, v);
	if (x->orgs) {
		cp_entities te = { NULL, 0, 0 };
		cp_orgs_find(x->orgs, tenant, ctitle, strlen(ctitle), &te);
		for (i = 0; i < e.n + te.n; i++) {
			cp_entity *o = i < e.n ? &e.v[i] : &te.v[i - e.n];
			if (o->kind == CP_ENT_ORG && !has_id(accts, o->account_id))
				json_array_append_new(accts,
				    json_string(o->account_id));
		}
		cp_entities_free(&te);
	}
	json_object_set_new(sig, "account_ids", accts);
	json_object_set_new(sig, "text", json_string(red));
	json_object_set_new(sig, "lang", json_string(lang));
	ents = json_array();
	for (i = 0; i < e.n; i++)
		json_array_append_new(ents, cp_entity_json(&e.v[i], red));
	json_object_set_new(sig, "entities", ents);
	json_object_set_new(sig, "themes", cp_themes_match(x->themes, ctitle,
	    red, &sents, cp_json_str(doc, "source"),
	    json_object_get(doc, "meta"), &job));
	json_object_set_new(sig, "pii", pii_json(&pc));
	json_object_set_new(sig, "chunks", cp_chunks(red, &sents,
	    x->o.chunk_max));
	cp_fp_hex(cp_simhash(red, strlen(red), x->o.shingle), fp);
	json_object_set_new(sig, "fingerprint", json_string(fp));
	if (job)
		json_object_set_new(sig, "job", job);
	json_object_set_new(sig, "extract", json_pack("{s:s,s:o,s:I}",
	    "version", CP_EXTRACT_VERSION, "warnings", warnings,
	    "replaced_invalid", (json_int_t)nbad));
	cp_entities_free(&e);
	cp_spans_free(&sents);
	free(red);
	free(ctitle);
	return sig;
}
