/*
 * cp-fetch — turn the accounts in the state file into document records:
 * SEC EDGAR filings, news feed items and job postings, fetching only
 * what is new since the last run.
 *
 *   cp-fetch [--source sec|news|jobs] [--account ID]… [--since TIME]
 *            [--with-text] [--updates] [--dry-run]
 *   cp-fetch --url URL… | --file PATH… [--account ID]…
 *   cp-fetch --stdin                 validate and pass documents through
 *   cp-fetch --replay [--since TIME] re-emit logged documents
 *
 * The shape of a run: build the list of sources (one per tenant and URL,
 * with the accounts it serves), group sources that share a URL into one
 * request, run every request through lib/http (bounded concurrency, rate
 * limits, retries), and for each response: parse, decide per item
 * whether it is new (the document log, never position or date), log it
 * as pending, write it, flush, mark it emitted.  A source's validators
 * (ETag, Last-Modified) and cursor advance only when everything it
 * produced in this run was written; a failed source is recorded with its
 * reason and never stops the others.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "edgar.h"
#include "exitcode.h"
#include "feed.h"
#include "fetchdb.h"
#include "fetchdoc.h"
#include "fetchmatch.h"
#include "fetchurl.h"
#include "http.h"
#include "jobs.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "rbac.h"
#include "record.h"
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-fetch [--source sec|news|jobs] [--account ID]... [--since TIME]\n"
	"                [--with-text] [--updates] [--dry-run] [--replay]\n"
	"                [--url URL]... [--file PATH]... [--stdin]\n"
	"                [--user-agent UA] [--concurrency N] [--timeout SECONDS]\n"
	"                [--reject FILE] [--max-line BYTES] [--unbuffered]\n"
	"                [--db FILE] [--tenant NAME] [--config FILE] [-q] [-v]\n"
	"Fetch what is new for the accounts in the state file (SEC EDGAR, news\n"
	"feeds, job boards) and write document records.  See cp-fetch(1).\n";

enum { OPT_SOURCE = CP_OPT_LOCAL, OPT_ACCOUNT, OPT_SINCE, OPT_WITH_TEXT,
       OPT_UPDATES, OPT_DRY_RUN, OPT_REPLAY, OPT_URL, OPT_FILE, OPT_STDIN,
       OPT_UA, OPT_CONCURRENCY, OPT_TIMEOUT };

static const struct option longopts[] = {
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "with-text", no_argument, NULL, OPT_WITH_TEXT },
	{ "updates", no_argument, NULL, OPT_UPDATES },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "replay", no_argument, NULL, OPT_REPLAY },
	{ "url", required_argument, NULL, OPT_URL },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "stdin", no_argument, NULL, OPT_STDIN },
	{ "user-agent", required_argument, NULL, OPT_UA },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

enum kind { K_SEC, K_NEWS, K_GREENHOUSE, K_LEVER, K_WEB, K_FILE };

static const char *const kind_db[] = { "sec", "news", "jobs", "jobs", "web",
	"file" };

/* One source: what one tenant fetches from one URL, and for whom. */
struct source {
	enum kind kind;
	int64_t tenant_id;
	const char *tenant;
	char *url;                  /* fetched (for K_FILE: the path) */
	char *key;                  /* identity scope: feed URL, CIK, board */
	const cp_account **accts;   /* explicit accounts */
	size_t nacct;
	cp_matcher *matcher;        /* attribute by name instead */
	cp_fsrc st;                 /* stored validators and cursor */

	/* this run */
	long status;
	size_t bytes;
	double t0;
	long nnew, nseen, ndropped, nupdated;
	int fail;                   /* 0, 1 temporary, 2 permanent */
	char error[300];
	int outstanding;            /* requests of this source in flight */
	bool notmodified;
	bool main_done;             /* the source's own URL was processed */
	char *new_etag, *new_lm, *cursor_id, *cursor_at;
	char *company;              /* SEC: the company's name */
	struct pend **batch;        /* documents ready to write */
	size_t nbatch;
	struct source *next;
};

/* A document on its way out. */
struct pend {
	struct source *src;
	json_t *doc;
	char id[CP_ID_MAX];
	char hash[CP_SHA256_HEX];
	size_t text_max;
};

/* Sources that share a URL: one request serves them all. */
struct unit {
	char *url;
	struct source **src;
	size_t n;
	bool allow_file;
};

static struct {
	sqlite3 *db;
	cp_accounts acc;
	cp_http *http;
	int64_t tenant_id;          /* --tenant, else 0 */
	const char *sec_base, *sec_www, *gh_base, *lever_base;
	const char *ua;
	const char *only;           /* --source */
	const char **accounts;      /* --account */
	size_t naccounts;
	const char **urls, **files;
	size_t nurls, nfiles;
	bool with_text, updates, dry_run, replay, from_stdin;
	bool have_since;
	time_t since;
	long sec_window;            /* seconds back on a first SEC fetch */
	char now[CP_TIME_MAX];
	char **text_forms, **sec_forms;
	size_t ntext_forms, nsec_forms;
	size_t text_max;
	struct source *sources, *last;
	struct unit *units;
	size_t nunits;
	int temp_fail, perm_fail, config_fail;
	long total_new, total_seen, total_dropped, total_updated;
	long n_ok, n_304, n_failed;
} G;

/* ---- small helpers ---- */

static void split_list(const char *s, char ***out, size_t *n)
{
	char *copy = xstrdup(s ? s : ""), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		size_t l = strlen(tok);
		while (l && isspace((unsigned char)tok[l - 1]))
			tok[--l] = '\0';
		if (!l)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = xstrdup(tok);
	}
	free(copy);
}

static bool form_in(const char *form, char **list, size_t n)
{
	size_t i, l;

	for (i = 0; i < n; i++) {
		if (!strcasecmp(form, list[i]))
			return true;
		/* an amendment counts as its form: "8-K/A" is an 8-K */
		l = strlen(list[i]);
		if (!strncasecmp(form, list[i], l) && !strcasecmp(form + l, "/A"))
			return true;
	}
	return false;
}

static bool wanted(const char *what)
{
	return !G.only || !strcmp(G.only, what);
}

static bool account_selected(const cp_account *a)
{
	size_t i;

	if (!G.naccounts)
		return true;
	for (i = 0; i < G.naccounts; i++)
		if (!strcmp(a->id, G.accounts[i]))
			return true;
	return false;
}

static void source_fail(struct source *s, int how, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void source_fail(struct source *s, int how, const char *fmt, ...)
{
	va_list ap;

	if (s->fail)           /* the first reason is the one that counts */
		return;
	s->fail = how;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	cp_log_redact(s->error);
}

/* ---- sources ---- */

static struct source *find_source(enum kind k, int64_t tenant_id,
    const char *url)
{
	struct source *s;

	for (s = G.sources; s; s = s->next)
		if (s->kind == k && s->tenant_id == tenant_id &&
		    !strcmp(s->url, url))
			return s;
	return NULL;
}

static struct source *add_source(enum kind k, int64_t tenant_id,
    const char *tenant, const char *url, const char *key,
    const cp_account *a)
{
	struct source *s = find_source(k, tenant_id, url);

	if (!s) {
		s = xcalloc(1, sizeof *s);
		s->kind = k;
		s->tenant_id = tenant_id;
		s->tenant = tenant;
		s->url = xstrdup(url);
		s->key = xstrdup(key);
		if (G.last)
			G.last->next = s;
		else
			G.sources = s;
		G.last = s;
	}
	if (a) {
		size_t i;
		for (i = 0; i < s->nacct; i++)
			if (s->accts[i] == a)
				return s;
		s->accts = xrealloc(s->accts, (s->nacct + 1) * sizeof *s->accts);
		s->accts[s->nacct++] = a;
	}
	return s;
}

static void free_sources(void)
{
	struct source *s, *n;
	size_t i;

	for (s = G.sources; s; s = n) {
		n = s->next;
		free(s->url);
		free(s->key);
		free(s->accts);
		cp_matcher_free(s->matcher);
		cp_fsrc_free(&s->st);
		free(s->new_etag);
		free(s->new_lm);
		free(s->cursor_id);
		free(s->cursor_at);
		free(s->company);
		free(s->batch);
		free(s);
	}
	for (i = 0; i < G.nunits; i++) {
		free(G.units[i].url);
		free(G.units[i].src);
	}
	free(G.units);
}

/* The tenants the loaded accounts belong to (each once). */
static size_t tenants_in_scope(int64_t *ids, const char **names, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < G.acc.n; i++) {
		const cp_account *a = &G.acc.v[i];
		if (!account_selected(a))
			continue;
		for (j = 0; j < n && ids[j] != a->tenant_id; j++)
			;
		if (j == n && n < max) {
			ids[n] = a->tenant_id;
			names[n++] = a->tenant;
		}
	}
	return n;
}

/* A matcher over the selected accounts of one tenant.  G.sel holds
 * shallow copies of the selected accounts for the whole run (the matcher
 * points into it). */
static cp_accounts sel;

static cp_matcher *matcher_for(int64_t tenant_id)
{
	size_t i;

	if (!sel.v) {
		sel.v = xcalloc(G.acc.n ? G.acc.n : 1, sizeof *sel.v);
		for (i = 0; i < G.acc.n; i++)
			if (account_selected(&G.acc.v[i]))
				sel.v[sel.n++] = G.acc.v[i];
	}
	return cp_matcher_new(&sel, tenant_id);
}

/* ---- SEC ticker map ---- */

static void ticker_store_cb(const char *ticker, const char *cik,
    const char *title, void *arg)
{
	int *rc = arg;

	if (!*rc)
		*rc = cp_ticker_store(G.db, ticker, cik, title, G.now);
}

/* Fill the cache from company_tickers.json when it is missing or older
 * than sec.tickers_ttl.  Failure is reported; the caller goes on with
 * what the cache had. */
static void refresh_tickers(void)
{
	long ttl = cp_conf_long("sec.tickers_ttl", NULL, 7 * 86400);
	long age = cp_ticker_age(G.db, (long)cp_now());
	char *url, err[200];
	cp_http_req *r;
	int rc = 0;

	if (age >= 0 && age < ttl)
		return;
	url = xasprintf("%s/files/company_tickers.json", G.sec_www);
	r = cp_http_req_new("GET", url);
	r->allow_file = true;
	cp_http_req_header(r, "Accept: application/json");
	free(url);
	if (cp_http_do(G.http, r) || r->status != 200) {
		cp_err("sec: ticker map: %s", r->error[0] ? r->error :
		    "unexpected HTTP status");
		G.temp_fail = 1;
		cp_http_req_free(r);
		return;
	}
	if (cp_db_begin(G.db)) {
		cp_http_req_free(r);
		return;
	}
	if (!cp_ticker_clear(G.db) && !cp_sec_parse_tickers(r->resp.buf,
	    r->resp.len, ticker_store_cb, &rc, err, sizeof err) && !rc) {
		cp_db_commit(G.db);
	} else {
		cp_db_rollback(G.db);
		cp_err("sec: ticker map: %s", rc ? "cannot store" : err);
		G.perm_fail = 1;
	}
	cp_http_req_free(r);
}

/* May SEC be contacted?  Only with a contact in the User-Agent; a
 * file:// base URL (the offline demo) contacts nobody.  www: whether
 * www.sec.gov would be asked too (documents, the ticker map). */
static bool sec_possible(bool www)
{
	if (strncmp(G.sec_base, "http", 4) && (!www ||
	    strncmp(G.sec_www, "http", 4)))
		return true;
	if (cp_http_ua_has_contact(G.ua))
		return true;
	if (!G.config_fail)
		cp_err("sec: http.user_agent must name a contact e-mail or URL "
		    "(SEC EDGAR refuses undeclared clients): set it in the "
		    "config file or CLIENTPULSE_HTTP_USER_AGENT");
	G.config_fail = 1;
	return false;
}

/* ---- building the plan ---- */

static void plan_sec(const cp_account *a)
{
	char cik[11], *url;

	if (!a->cik || !cp_sec_cik(a->cik, cik)) {
		if (!a->ticker)
			return;
		if (!cp_ticker_lookup(G.db, a->ticker, cik)) {
			if (!G.dry_run && sec_possible(true))
				refresh_tickers();
			if (!cp_ticker_lookup(G.db, a->ticker, cik)) {
				if (!G.dry_run)
					cp_warn("sec: account %s: ticker %s has "
					    "no CIK in the SEC ticker map",
					    a->id, a->ticker);
				return;
			}
		}
	}
	url = xasprintf("%s/submissions/CIK%s.json", G.sec_base, cik);
	add_source(K_SEC, a->tenant_id, a->tenant, url, cik, a);
	free(url);
}

static void plan_jobs(const cp_account *a)
{
	char *url, *key, *esc;

	if (a->greenhouse_token && *a->greenhouse_token) {
		esc = cp_url_escape(a->greenhouse_token);
		url = xasprintf("%s/v1/boards/%s/jobs?content=true", G.gh_base,
		    esc);
		key = xasprintf("greenhouse:%s", a->greenhouse_token);
		add_source(K_GREENHOUSE, a->tenant_id, a->tenant, url, key, a);
		free(url);
		free(key);
		free(esc);
	}
	if (a->lever_site && *a->lever_site) {
		esc = cp_url_escape(a->lever_site);
		url = xasprintf("%s/v0/postings/%s?mode=json", G.lever_base, esc);
		key = xasprintf("lever:%s", a->lever_site);
		add_source(K_LEVER, a->tenant_id, a->tenant, url, key, a);
		free(url);
		free(key);
		free(esc);
	}
}

static void plan_accounts(void)
{
	size_t i, j, nt;
	int64_t tids[256];
	const char *tnames[256];
	const char *globals[256];
	int ng;

	for (i = 0; i < G.acc.n; i++) {
		const cp_account *a = &G.acc.v[i];
		if (!account_selected(a))
			continue;
		if (wanted("sec"))
			plan_sec(a);
		if (wanted("news"))
			for (j = 0; j < a->nfeeds; j++)
				add_source(K_NEWS, a->tenant_id, a->tenant,
				    a->feeds[j], a->feeds[j], a);
		if (wanted("jobs"))
			plan_jobs(a);
	}
	if (!wanted("news"))
		return;
	ng = cp_config_getall("news.feed", globals, 256);
	if (ng > 256)
		ng = 256;
	nt = tenants_in_scope(tids, tnames, 256);
	for (j = 0; j < nt; j++)
		for (i = 0; i < (size_t)ng; i++) {
			struct source *s = add_source(K_NEWS, tids[j], tnames[j],
			    globals[i], globals[i], NULL);
			if (!s->matcher)
				s->matcher = matcher_for(tids[j]);
		}
}

/* Resolve --account IDs for ad hoc input: one source per tenant. */
static void plan_adhoc(enum kind k, const char *url)
{
	size_t i, j, nt;
	int64_t tids[256];
	const char *tnames[256];

	if (G.naccounts) {
		for (i = 0; i < G.naccounts; i++)
			for (j = 0; j < G.acc.n; j++)
				if (!strcmp(G.acc.v[j].id, G.accounts[i]))
					add_source(k, G.acc.v[j].tenant_id,
					    G.acc.v[j].tenant, url, url,
					    &G.acc.v[j]);
		return;
	}
	nt = tenants_in_scope(tids, tnames, 256);
	for (j = 0; j < nt; j++) {
		struct source *s = add_source(k, tids[j], tnames[j], url, url,
		    NULL);
		if (!s->matcher)
			s->matcher = matcher_for(tids[j]);
	}
}

static void plan_files(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	char *abs;

	if (stat(path, &st)) {
		cp_err("%s: %s", path, strerror(errno));
		G.perm_fail = 1;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		abs = realpath(path, NULL);
		plan_adhoc(K_FILE, abs ? abs : path);
		free(abs);
		return;
	}
	if (!(d = opendir(path))) {
		cp_err("%s: %s", path, strerror(errno));
		G.perm_fail = 1;
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xasprintf("%s/%s", path, de->d_name);
		}
	closedir(d);
	/* a fixed order: the same directory gives the same output */
	for (i = 1; i < n; i++) {
		size_t j;
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++) {
		/* lstat: a symbolic link in the directory is not followed (a
		 * drop folder others can write to must not turn the state
		 * file or the credentials into documents) */
		if (!lstat(names[i], &st) && S_ISREG(st.st_mode)) {
			abs = realpath(names[i], NULL);
			plan_adhoc(K_FILE, abs ? abs : names[i]);
			free(abs);
		}
		free(names[i]);
	}
	free(names);
}

static void load_states(void)
{
	struct source *s;

	for (s = G.sources; s; s = s->next)
		cp_fsrc_load(G.db, s->tenant_id, kind_db[s->kind], s->url,
		    &s->st);
}

static void group_units(void)
{
	struct source *s;
	size_t i;

	for (s = G.sources; s; s = s->next) {
		struct unit *u = NULL;
		if (s->kind == K_FILE)
			continue;
		for (i = 0; i < G.nunits; i++)
			if (!strcmp(G.units[i].url, s->url)) {
				u = &G.units[i];
				break;
			}
		if (!u) {
			G.units = xrealloc(G.units, (G.nunits + 1) *
			    sizeof *G.units);
			u = &G.units[G.nunits++];
			memset(u, 0, sizeof *u);
			u->url = xstrdup(s->url);
		}
		/* operators' URLs (config, --url) may be file://; URLs from
		 * account records may not */
		if (s->kind == K_SEC || s->kind == K_GREENHOUSE ||
		    s->kind == K_LEVER || s->kind == K_WEB || s->matcher)
			u->allow_file = true;
		u->src = xrealloc(u->src, (u->n + 1) * sizeof *u->src);
		u->src[u->n++] = s;
	}
}

/* ---- writing documents ---- */

static void write_failed(void)
{
	if (errno == EPIPE)
		exit(CP_EX_OK);
	cp_err("write error: %s", strerror(errno));
	exit(CP_EX_IOERR);
}

/* Log, write, flush, mark: the batch is written out in full before any
 * of it counts as emitted. */
static void flush_batch(struct source *s)
{
	size_t i;
	int rc = 0;

	if (!s->nbatch)
		return;
	if ((rc = cp_db_begin(G.db)))
		goto dberr;
	for (i = 0; i < s->nbatch && !rc; i++) {
		struct pend *p = s->batch[i];
		char *rec = cp_json_dumps(p->doc, 0);
		rc = cp_flog_pending(G.db, s->tenant_id, p->id,
		    cp_json_str(p->doc, "source"), s->url,
		    cp_json_str(p->doc, "url"), cp_json_str(p->doc,
		    "published_at"), G.now, p->hash, rec);
		free(rec);
	}
	if (rc) {
		cp_db_rollback(G.db);
		goto dberr;
	}
	if ((rc = cp_db_commit(G.db)))
		goto dberr;
	for (i = 0; i < s->nbatch; i++)
		cp_emit(s->batch[i]->doc);
	if (fflush(stdout) == EOF || ferror(stdout))
		write_failed();
	if ((rc = cp_db_begin(G.db)))
		goto dberr;
	for (i = 0; i < s->nbatch && !rc; i++)
		rc = cp_flog_emitted(G.db, s->tenant_id, s->batch[i]->id);
	if (rc || (rc = cp_db_commit(G.db))) {
		if (rc)
			cp_db_rollback(G.db);
		goto dberr;
	}
	s->nnew += (long)s->nbatch;
	goto out;
dberr:
	source_fail(s, 1, "state file: cannot log documents");
out:
	for (i = 0; i < s->nbatch; i++) {
		json_decref(s->batch[i]->doc);
		free(s->batch[i]);
	}
	s->nbatch = 0;
}

static void queue_doc(struct source *s, struct pend *p)
{
	s->batch = xrealloc(s->batch, (s->nbatch + 1) * sizeof *s->batch);
	s->batch[s->nbatch++] = p;
}

static void text_done(cp_http *h, cp_http_req *r, void *arg);

/*
 * One candidate document of source s for its tenant: new, seen, or
 * updated?  Takes the reference to doc.  text_url: the page to fetch as
 * the body under --with-text (NULL: none).
 */
static void consider(struct source *s, json_t *doc, const char *identity,
    const char *text_url, size_t text_max, const char *updated)
{
	struct pend *p = xcalloc(1, sizeof *p);
	char old[CP_SHA256_HEX];
	int state;

	p->src = s;
	p->doc = doc;
	p->text_max = text_max;
	cp_doc_id(p->id, s->tenant, cp_json_str(doc, "source"), s->key,
	    identity);
	json_object_set_new(doc, "id", json_string(p->id));
	cp_doc_hash(doc, p->hash);
	state = cp_flog_state(G.db, s->tenant_id, p->id, old);
	if (state == CP_FLOG_EMITTED) {
		if (!G.updates || !strcmp(old, p->hash)) {
			s->nseen++;
			json_decref(doc);
			free(p);
			return;
		}
		json_object_set_new(json_object_get(doc, "meta"), "updated",
		    json_string(updated ? updated : G.now));
		s->nupdated++;
	}
	if (G.with_text && text_url && (!strncmp(text_url, "http://", 7) ||
	    !strncmp(text_url, "https://", 8) || !strncmp(text_url,
	    "file://", 7))) {
		cp_http_req *r = cp_http_req_new("GET", text_url);
		r->allow_file = !strncmp(text_url, "file://", 7) &&
		    s->kind != K_NEWS;
		r->done = text_done;
		r->arg = p;
		cp_http_req_header(r, "Accept: text/html, */*;q=0.5");
		s->outstanding++;
		cp_http_add(G.http, r);
		return;
	}
	queue_doc(s, p);
}

/* Cut s at most max bytes, on a UTF-8 boundary. */
static char *cut_utf8(const char *s, size_t len, size_t max, bool *cut)
{
	*cut = len > max;
	if (!*cut)
		return xstrndup(s, len);
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return xstrndup(s, max);
}

static void finalize(struct source *s);

static void text_done(cp_http *h, cp_http_req *r, void *arg)
{
	struct pend *p = arg;
	struct source *s = p->src;
	json_t *meta = json_object_get(p->doc, "meta");

	(void)h;
	s->outstanding--;
	if (r->error_kind == CP_HTTP_OK && r->status >= 200 && r->status < 300) {
		bool cut;
		char *body = cut_utf8(r->resp.buf, r->resp.len, p->text_max,
		    &cut);
		const char *ct = r->content_type;
		json_object_set_new(p->doc, "body", cp_jstr(body));
		json_object_set_new(p->doc, "content_type", json_string(
		    ct && strstr(ct, "text/plain") ? "text/plain" :
		    "text/html"));
		if (cut)
			json_object_set_new(meta, "truncated", json_true());
		free(body);
		queue_doc(s, p);
	} else if (cp_http_temporary(r)) {
		/* not written: the next run tries again */
		source_fail(s, 1, "text of %s: %s", r->url, r->error[0] ?
		    r->error : "temporary HTTP error");
		json_decref(p->doc);
		free(p);
	} else {
		/* a page that is gone: the document without it */
		char msg[300];
		if (r->error[0])
			snprintf(msg, sizeof msg, "%s", r->error);
		else
			snprintf(msg, sizeof msg, "HTTP %ld", r->status);
		json_object_set_new(meta, "text_error", json_string(msg));
		queue_doc(s, p);
	}
	flush_batch(s);
	finalize(s);
}

/* ---- accounts of a document ---- */

/* Fill account_ids (explicit, or by matching); false when none. */
static bool attribute(struct source *s, json_t *doc, const char *text,
    const char *link)
{
	json_t *ids = json_object_get(doc, "account_ids");
	const cp_account *hits[64];
	size_t i, n;

	if (!s->matcher) {
		for (i = 0; i < s->nacct; i++)
			json_array_append_new(ids, json_string(s->accts[i]->id));
		return s->nacct > 0;
	}
	n = cp_matcher_match(s->matcher, text, link, hits, 64);
	for (i = 0; i < n; i++)
		json_array_append_new(ids, json_string(hits[i]->id));
	return n > 0;
}

/* ---- news ---- */

static bool before_since(const char *rfc3339)
{
	time_t t;

	return G.have_since && rfc3339 && cp_time_parse(rfc3339, &t) &&
	    t < G.since;
}

static void note_cursor(struct source *s, const char *id, const char *at)
{
	if (!at || (s->cursor_at && strcmp(at, s->cursor_at) <= 0))
		return;
	free(s->cursor_at);
	free(s->cursor_id);
	s->cursor_at = xstrdup(at);
	s->cursor_id = xstrdup(id);
}

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, cp_jstr(v[i]));
	return a;
}

static void news_item(struct source *s, const cp_feed *f,
    const cp_feed_item *it, const char *feed_url, const char *source_name)
{
	char *title = cp_feed_plain(it->title), *ident, *text, *desc;
	const char *body = it->content ? it->content : it->description;
	const char *pub = it->published ? it->published :
	    it->updated ? it->updated : G.now;
	const char *link = it->link ? it->link : feed_url;
	json_t *doc, *meta;

	(void)f;
	ident = cp_item_identity(it->guid, it->link, it->title);
	note_cursor(s, ident, it->published ? it->published : it->updated);
	if (before_since(pub)) {
		free(title);
		free(ident);
		return;
	}
	doc = cp_doc_new(s->tenant, "news", source_name,
	    cp_reliability("news", it->link ? it->link : feed_url), link,
	    *title ? title : "(untitled)", pub, G.now, body && strchr(body,
	    '<') ? "text/html" : "text/plain", body);
	desc = cp_feed_plain(it->description);
	text = xasprintf("%s\n%s", title, desc);
	if (!attribute(s, doc, text, it->link)) {
		s->ndropped++;
		json_decref(doc);
	} else {
		meta = json_object_get(doc, "meta");
		json_object_set_new(meta, "feed_url", cp_jstr(feed_url));
		if (it->guid)
			json_object_set_new(meta, "guid", cp_jstr(it->guid));
		if (it->author)
			json_object_set_new(meta, "author", cp_jstr(it->author));
		json_object_set_new(meta, "categories",
		    str_array(it->categories, it->ncategories));
		if (!it->published && !it->updated)
			json_object_set_new(meta, "date_missing", json_true());
		consider(s, doc, ident, it->link, G.text_max, it->updated);
	}
	free(text);
	free(desc);
	free(title);
	free(ident);
}

static void parse_news(struct source *s, const char *buf, size_t len,
    const char *url, const char *charset)
{
	cp_feed f;
	int rc = cp_feed_parse(buf, len, url, charset, &f);
	size_t i;
	char *name = NULL;

	if (rc == CP_FEED_NOTFEED || rc == CP_FEED_EMPTY) {
		source_fail(s, 2, "%s", f.error);
		cp_feed_free(&f);
		return;
	}
	if (f.title && *f.title)
		name = cp_feed_plain(f.title);
	if (!name || !*name) {
		free(name);
		name = cp_url_host(url);
		if (!name)
			name = xstrdup("feed");
	}
	for (i = 0; i < f.nitems; i++)
		news_item(s, &f, &f.items[i], s->kind == K_FILE ? url : s->url,
		    name);
	if (rc == CP_FEED_MALFORMED)
		source_fail(s, 2, "%s (%zu items recovered)", f.error, f.nitems);
	else if (f.bad_bytes)
		cp_warn("news %s: %zu invalid UTF-8 sequences replaced", s->url,
		    f.bad_bytes);
	free(name);
	cp_feed_free(&f);
}

/* ---- SEC ---- */

static void sec_page_done(cp_http *h, cp_http_req *r, void *arg);

/* YYYY-MM-DD of the earliest filing date to consider. */
static void sec_cutoff(struct source *s, char out[11])
{
	time_t t;
	char buf[CP_TIME_MAX];

	if (G.have_since)
		t = G.since;
	else if (s->st.cursor_at && cp_time_parse(s->st.cursor_at, &t))
		;
	else
		t = cp_now() - G.sec_window;
	cp_time_format(t, buf);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

static void sec_filing(struct source *s, const char *cik,
    const cp_sec_filing *f)
{
	cp_sec_item items[24];
	size_t n = cp_sec_items(f->items, items, 24), i;
	char *url = cp_sec_doc_url(G.sec_www, cik, f->accession,
	    f->primary_doc), *ident, pub[CP_TIME_MAX];
	strbuf title = CP_STRBUF_INIT, body = CP_STRBUF_INIT;
	const char *company = s->company ? s->company : cik;
	json_t *doc, *meta, *jitems;
	bool text;

	if (f->accepted)
		snprintf(pub, sizeof pub, "%s", f->accepted);
	else
		snprintf(pub, sizeof pub, "%.10sT00:00:00Z", f->filed);
	sb_addf(&title, "%s %s", company, f->form);
	sb_addf(&body, "%s filed a Form %s with the SEC on %s (accession %s).",
	    company, f->form, f->filed, f->accession);
	for (i = 0; i < n; i++) {
		sb_addf(&title, "%s Item %s%s%s", i ? ";" : ":", items[i].code,
		    items[i].title ? " " : "", items[i].title ?
		    items[i].title : "");
		sb_addf(&body, "\nItem %s: %s.", items[i].code, items[i].title ?
		    items[i].title : "(unknown item)");
	}
	if (!n && f->primary_desc && strcasecmp(f->primary_desc, f->form))
		sb_addf(&title, ": %s", f->primary_desc);
	doc = cp_doc_new(s->tenant, "sec", "SEC EDGAR",
	    cp_reliability("sec", url), url, title.buf, pub, G.now,
	    "text/plain", body.buf);
	meta = json_object_get(doc, "meta");
	json_object_set_new(meta, "form", cp_jstr(f->form));
	json_object_set_new(meta, "filed", cp_jstr(f->filed));
	json_object_set_new(meta, "accession", cp_jstr(f->accession));
	jitems = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "code", json_string(items[i].code));
		json_object_set_new(o, "title", items[i].title ?
		    json_string(items[i].title) : json_null());
		if (strcmp(items[i].code, items[i].filed_as))
			json_object_set_new(o, "filed_as",
			    json_string(items[i].filed_as));
		json_array_append_new(jitems, o);
	}
	json_object_set_new(meta, "items", jitems);
	json_object_set_new(meta, "cik", json_string(cik));
	json_object_set_new(meta, "primary_doc_url", cp_jstr(url));
	if (f->report_date)
		json_object_set_new(meta, "report_date",
		    cp_jstr(f->report_date));
	json_object_set_new(meta, "company", cp_jstr(company));
	if (!attribute(s, doc, title.buf, NULL)) {
		s->ndropped++;
		json_decref(doc);
	} else {
		ident = xasprintf("acc:%s", f->accession);
		text = f->primary_doc && form_in(f->form, G.text_forms,
		    G.ntext_forms);
		/* a proxy statement is long: its cover is what matters */
		consider(s, doc, ident, text ? url : NULL,
		    !strncasecmp(f->form, "DEF 14A", 7) ? 64 * 1024 :
		    G.text_max, NULL);
		free(ident);
	}
	sb_free(&title);
	sb_free(&body);
	free(url);
}

static void parse_sec(struct source *s, const char *buf, size_t len,
    bool main_page)
{
	cp_sec_subm sub;
	char err[256], cutoff[11], oldest[11] = "9999-99-99";
	const char *cik;
	size_t i;

	if (cp_sec_parse(buf, len, &sub, err, sizeof err)) {
		source_fail(s, 2, "%s", err);
		cp_sec_free(&sub);
		return;
	}
	if (sub.name && !s->company)
		s->company = xstrdup(sub.name);
	if (!s->company && s->nacct)
		s->company = xstrdup(s->accts[0]->name);
	cik = sub.cik ? sub.cik : s->key;
	sec_cutoff(s, cutoff);
	for (i = 0; i < sub.nfilings; i++) {
		const cp_sec_filing *f = &sub.filings[i];
		char at[CP_TIME_MAX];
		if (strcmp(f->filed, oldest) < 0)
			snprintf(oldest, sizeof oldest, "%.10s", f->filed);
		snprintf(at, sizeof at, "%s", f->accepted ? f->accepted :
		    f->filed);
		note_cursor(s, f->accession, at);
		if (strncmp(f->filed, cutoff, 10) < 0)
			continue;
		if (G.nsec_forms && !form_in(f->form, G.sec_forms,
		    G.nsec_forms))
			continue;
		sec_filing(s, cik, f);
	}
	/* older pages, only when the window reaches back past the recent
	 * filings and into the page */
	for (i = 0; main_page && i < sub.npages; i++) {
		const cp_sec_page *p = &sub.pages[i];
		char *url;
		cp_http_req *r;
		if (strcmp(cutoff, oldest) >= 0 || strcmp(p->to, cutoff) < 0)
			continue;
		url = xasprintf("%s/submissions/%s", G.sec_base, p->name);
		r = cp_http_req_new("GET", url);
		r->allow_file = true;
		r->done = sec_page_done;
		r->arg = s;
		cp_http_req_header(r, "Accept: application/json");
		s->outstanding++;
		cp_http_add(G.http, r);
		free(url);
	}
	cp_sec_free(&sub);
}

static void sec_page_done(cp_http *h, cp_http_req *r, void *arg)
{
	struct source *s = arg;

	(void)h;
	s->outstanding--;
	if (r->error_kind != CP_HTTP_OK)
		source_fail(s, cp_http_temporary(r) ? 1 : 2, "older page %s: %s",
		    r->url, r->error);
	else if (r->status != 200)
		source_fail(s, cp_http_temporary(r) ? 1 : 2, "older page %s: "
		    "HTTP %ld", r->url, r->status);
	else
		parse_sec(s, r->resp.buf, r->resp.len, false);
	flush_batch(s);
	finalize(s);
}

/* ---- jobs ---- */

static void parse_jobs(struct source *s, const char *buf, size_t len,
    bool lever)
{
	cp_jobs jobs;
	char err[256];
	size_t i;
	int rc = lever ? cp_jobs_lever(buf, len, &jobs, err, sizeof err) :
	    cp_jobs_greenhouse(buf, len, &jobs, err, sizeof err);

	if (rc) {
		source_fail(s, 2, "%s", err);
		cp_jobs_free(&jobs);
		return;
	}
	for (i = 0; i < jobs.n; i++) {
		const cp_job *j = &jobs.v[i];
		char *plain = cp_feed_plain(j->body), *text, *ident;
		json_t *doc, *meta;

		doc = cp_doc_new(s->tenant, "jobs", lever ? "Lever" :
		    "Greenhouse", cp_reliability("jobs", j->url),
		    j->url ? j->url : s->url, j->title, j->posted_at ?
		    j->posted_at : G.now, G.now, "text/html", j->body);
		text = xasprintf("%s\n%s", j->title, plain);
		ident = xasprintf("job:%s", j->id);
		note_cursor(s, ident, j->posted_at);
		if (!attribute(s, doc, text, j->url)) {
			s->ndropped++;
			json_decref(doc);
		} else {
			meta = json_object_get(doc, "meta");
			json_object_set_new(meta, "board", cp_jstr(s->key));
			json_object_set_new(meta, "department", j->department ?
			    cp_jstr(j->department) : json_null());
			json_object_set_new(meta, "location", j->location ?
			    cp_jstr(j->location) : json_null());
			json_object_set_new(meta, "posted_at", j->posted_at ?
			    json_string(j->posted_at) : json_null());
			json_object_set_new(meta, "job_id", cp_jstr(j->id));
			consider(s, doc, ident, NULL, 0, NULL);
		}
		free(ident);
		free(text);
		free(plain);
	}
	cp_jobs_free(&jobs);
}

/* ---- ad hoc pages and files ---- */

static char *html_title(const char *buf)
{
	const char *p = buf, *e;
	char *raw, *t;

	while ((p = strchr(p, '<'))) {
		if (!strncasecmp(p, "<title", 6) && (p[6] == '>' || p[6] == ' '))
			break;
		p++;
	}
	if (!p || !(p = strchr(p, '>')) || !(e = strchr(p, '<')))
		return NULL;
	raw = xstrndup(p + 1, (size_t)(e - p - 1));
	t = cp_feed_plain(raw);
	free(raw);
	return t;
}

static void parse_page(struct source *s, const char *buf, size_t len,
    const char *url, const char *ctype)
{
	const char *src = s->kind == K_FILE ? "file" : "web";
	char *title = html_title(buf), *plain, *text, *canon;
	bool html = (ctype && strstr(ctype, "html")) || strstr(buf, "<html") ||
	    strstr(buf, "<HTML") || strstr(buf, "<body") || title;
	json_t *doc;
	const char *base;

	(void)len;
	if (!title || !*title) {
		free(title);
		base = strrchr(url, '/');
		title = xstrdup(base && base[1] ? base + 1 : url);
	}
	doc = cp_doc_new(s->tenant, src, s->kind == K_FILE ? "file" :
	    "web", cp_reliability(src, url), url, title, G.now, G.now,
	    html ? "text/html" : "text/plain", buf);
	plain = html ? cp_feed_plain(buf) : xstrdup(buf);
	text = xasprintf("%s\n%s", title, plain);
	canon = cp_item_identity(NULL, url, NULL);
	if (!attribute(s, doc, text, url)) {
		s->ndropped++;
		json_decref(doc);
	} else {
		consider(s, doc, canon, NULL, 0, NULL);
	}
	free(canon);
	free(text);
	free(plain);
	free(title);
}

/* What is this? A feed, a JSON API response we know, or a page. */
static void parse_any(struct source *s, const char *buf, size_t len,
    const char *url, const char *ctype)
{
	const char *p = buf;

	while (p < buf + len && isspace((unsigned char)*p))
		p++;
	if (cp_feed_sniff(buf, len)) {
		parse_news(s, buf, len, url, NULL);
		return;
	}
	if (*p == '{' || *p == '[') {
		if (strstr(p, "\"accessionNumber\"")) {
			free(s->key);
			s->key = xstrdup(url);
			parse_sec(s, buf, len, false);
		} else if (*p == '{' && strstr(p, "\"jobs\"")) {
			parse_jobs(s, buf, len, false);
		} else if (*p == '[' && strstr(p, "\"hostedUrl\"")) {
			parse_jobs(s, buf, len, true);
		} else {
			source_fail(s, 2, "JSON that is neither EDGAR "
			    "submissions nor a Greenhouse or Lever board");
		}
		return;
	}
	parse_page(s, buf, len, url, ctype);
}

/* ---- finishing a source ---- */

static void report(struct source *s)
{
	double secs = cp_monotonic() - s->t0;
	char *red = cp_url_redact(s->url);

	if (s->fail) {
		cp_err("%s %s: %s", kind_db[s->kind], red, s->error);
		G.n_failed++;
		if (s->fail == 1)
			G.temp_fail = 1;
		else
			G.perm_fail = 1;
	} else if (s->notmodified) {
		G.n_304++;
	} else {
		G.n_ok++;
	}
	cp_info("%s %s (%s): %ld%s, %ld new, %ld seen, %ld updated, %ld "
	    "dropped, %zu bytes, %.2fs", kind_db[s->kind], red, s->tenant,
	    s->status, s->notmodified ? " not modified" : "", s->nnew,
	    s->nseen, s->nupdated, s->ndropped, s->bytes, secs);
	free(red);
	G.total_new += s->nnew;
	G.total_seen += s->nseen;
	G.total_dropped += s->ndropped;
	G.total_updated += s->nupdated;
}

/* When nothing of the source is in flight: record the outcome, and the
 * validators and cursor when everything was written. */
static void finalize(struct source *s)
{
	cp_fsrc_result r;
	int rc;

	if (s->outstanding || !s->main_done)
		return;
	s->main_done = false;     /* once */
	flush_batch(s);
	memset(&r, 0, sizeof r);
	r.status = s->status;
	r.error = s->fail ? s->error : NULL;
	/* ad hoc input (--url) and a --since window are one-off looks,
	 * not the source's history */
	r.advance = !s->fail && !G.have_since && s->kind != K_FILE;
	r.etag = s->new_etag;
	r.last_modified = s->new_lm;
	r.cursor_id = s->cursor_id;
	r.cursor_at = s->cursor_at;
	r.seen = s->nseen;
	r.emitted = s->nnew;
	r.now = G.now;
	if (!(rc = cp_db_begin(G.db))) {
		rc = cp_fsrc_save(G.db, s->tenant_id, kind_db[s->kind], s->url,
		    &r);
		if (rc)
			cp_db_rollback(G.db);
		else
			rc = cp_db_commit(G.db);
	}
	if (rc)
		source_fail(s, 1, "state file: cannot record the source");
	report(s);
}

/* What an API said about its error: the "error" or "message" of a
 * small JSON body ({"status":404,"error":"Job not found"}). */
static void http_error_detail(const cp_http_req *r, char *out, size_t len)
{
	json_t *j;
	const char *m;

	if (r->resp.len == 0 || r->resp.len > 4096)
		return;
	j = json_loadb(r->resp.buf, r->resp.len, 0, NULL);
	if (json_is_object(j) && ((m = cp_json_str(j, "error")) ||
	    (m = cp_json_str(j, "message"))))
		snprintf(out, len, "%.150s", m);
	json_decref(j);
	cp_log_redact(out);
}

static void process(struct source *s, cp_http_req *r)
{
	const char *url = r->effective_url ? r->effective_url : r->url;
	const char *ct = r->content_type, *cs = NULL;
	char charset[64] = "";

	s->status = r->status;
	s->bytes = r->bytes;
	if (r->error_kind != CP_HTTP_OK) {
		source_fail(s, cp_http_temporary(r) ? 1 : 2, "%s", r->error);
		return;
	}
	if (r->status == 304) {
		s->notmodified = true;
		return;
	}
	if (r->status < 200 || r->status >= 300) {
		char detail[200] = "";
		if (r->error[0]) {      /* the client gave up early: why */
			source_fail(s, 1, "%s", r->error);
			return;
		}
		http_error_detail(r, detail, sizeof detail);
		source_fail(s, cp_http_temporary(r) ? 1 : 2, "HTTP %ld%s%s",
		    r->status, *detail ? ": " : "", detail);
		return;
	}
	free(s->new_etag);
	free(s->new_lm);
	s->new_etag = r->resp_etag ? xstrdup(r->resp_etag) : NULL;
	s->new_lm = r->resp_last_modified ? xstrdup(r->resp_last_modified) :
	    NULL;
	if (ct && (cs = strstr(ct, "charset="))) {
		snprintf(charset, sizeof charset, "%.*s",
		    (int)strcspn(cs + 8, "; \""), cs + 8 + (cs[8] == '"'));
		cs = charset;
	}
	switch (s->kind) {
	case K_SEC:
		parse_sec(s, r->resp.buf, r->resp.len, true);
		break;
	case K_NEWS:
		parse_news(s, r->resp.buf, r->resp.len, url, cs);
		break;
	case K_GREENHOUSE:
		parse_jobs(s, r->resp.buf, r->resp.len, false);
		break;
	case K_LEVER:
		parse_jobs(s, r->resp.buf, r->resp.len, true);
		break;
	case K_WEB:
	case K_FILE:
		parse_any(s, r->resp.buf, r->resp.len, url, ct);
		break;
	}
}

static void unit_done(cp_http *h, cp_http_req *r, void *arg)
{
	struct unit *u = arg;
	size_t i;

	(void)h;
	for (i = 0; i < u->n; i++) {
		struct source *s = u->src[i];
		s->outstanding--;
		s->main_done = true;
		process(s, r);
		flush_batch(s);
		finalize(s);
	}
}

/* Validators are sent only when every source of the unit holds the same
 * ones (a source that never saw the URL must get the full response). */
static void conditional(struct unit *u, cp_http_req *r)
{
	size_t i;
	const cp_fsrc *a = &u->src[0]->st;

	if (G.have_since)
		return;
	for (i = 1; i < u->n; i++) {
		const cp_fsrc *b = &u->src[i]->st;
		if (!a->etag != !b->etag || (a->etag && strcmp(a->etag,
		    b->etag)) || !a->last_modified != !b->last_modified ||
		    (a->last_modified && strcmp(a->last_modified,
		    b->last_modified)))
			return;
	}
	if (a->etag)
		r->etag = xstrdup(a->etag);
	if (a->last_modified)
		r->last_modified = xstrdup(a->last_modified);
}

static const char *accept_of(enum kind k)
{
	switch (k) {
	case K_NEWS:
		return "Accept: application/rss+xml, application/atom+xml, "
		    "application/rdf+xml, application/xml;q=0.9, "
		    "text/xml;q=0.9, */*;q=0.5";
	case K_SEC: case K_GREENHOUSE: case K_LEVER:
		return "Accept: application/json";
	default:
		return "Accept: */*";
	}
}

/* A local file, read as the HTTP layer would read it (size limit). */
static void process_file(struct source *s, size_t max)
{
	/* O_NONBLOCK: opening a FIFO nobody writes to must not hang; only
	 * a regular file is read (not a FIFO, a device, /dev/zero) */
	int fd = open(s->url, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *fp = NULL;
	strbuf sb = CP_STRBUF_INIT;
	char buf[65536];
	size_t n;

	s->main_done = true;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		source_fail(s, 2, "not a regular file");
		finalize(s);
		return;
	}
	if (fd < 0 || !(fp = fdopen(fd, "rb"))) {
		source_fail(s, 2, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		finalize(s);
		return;
	}
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		if (sb.len + n > max) {
			source_fail(s, 2, "file larger than %zu bytes", max);
			break;
		}
		sb_add(&sb, buf, n);
	}
	if (ferror(fp))
		source_fail(s, 2, "%s", strerror(errno));
	fclose(fp);
	s->status = 0;
	s->bytes = sb.len;
	if (!s->fail) {
		char *url = xasprintf("file://%s", s->url);
		free(s->key);
		s->key = xstrdup(s->url);
		parse_any(s, sb_str(&sb), sb.len, url, NULL);
		free(url);
	}
	sb_free(&sb);
	flush_batch(s);
	finalize(s);
}

static int fetch_all(size_t max_body)
{
	struct source *s;
	size_t i;
	int rc;

	for (s = G.sources; s; s = s->next)
		s->t0 = cp_monotonic();
	for (s = G.sources; s; s = s->next)
		if (s->kind == K_FILE)
			process_file(s, max_body);
	for (i = 0; i < G.nunits; i++) {
		struct unit *u = &G.units[i];
		cp_http_req *r = cp_http_req_new("GET", u->url);
		size_t j;
		r->allow_file = u->allow_file;
		r->done = unit_done;
		r->arg = u;
		cp_http_req_header(r, accept_of(u->src[0]->kind));
		conditional(u, r);
		for (j = 0; j < u->n; j++)
			u->src[j]->outstanding++;
		cp_http_add(G.http, r);
	}
	rc = cp_http_run(G.http);
	cp_info("%ld sources: %ld ok, %ld not modified, %ld failed; %ld "
	    "documents (%ld updated), %ld seen, %ld dropped", G.n_ok + G.n_304 +
	    G.n_failed, G.n_ok, G.n_304, G.n_failed, G.total_new,
	    G.total_updated, G.total_seen, G.total_dropped);
	return rc;
}

/* ---- the document log: crash leftovers and --replay ---- */

struct replay_ctx {
	long n;
	bool mark;
};

static bool record_has_account(const char *rec)
{
	size_t i;
	json_t *r, *ids, *v;
	bool hit = false;

	if (!G.naccounts)
		return true;
	r = json_loads(rec, 0, NULL);
	ids = json_object_get(r, "account_ids");
	json_array_foreach(ids, i, v) {
		size_t k;
		for (k = 0; k < G.naccounts; k++)
			if (json_is_string(v) && !strcmp(json_string_value(v),
			    G.accounts[k]))
				hit = true;
	}
	json_decref(r);
	return hit;
}

static int replay_one(int64_t tenant_id, const char *doc_id,
    const char *record, void *arg)
{
	struct replay_ctx *c = arg;

	if (!record_has_account(record))
		return 0;
	cp_emit_raw(record, strlen(record));
	c->n++;
	if (c->mark) {
		if (fflush(stdout) == EOF)
			write_failed();
		return cp_flog_emitted(G.db, tenant_id, doc_id);
	}
	return 0;
}

/* Documents logged as pending by a run that died before it could mark
 * them: written again (downstream stages are idempotent by id). */
static int resume_pending(void)
{
	struct replay_ctx c = { 0, true };
	int rc;

	if ((rc = cp_db_begin(G.db)))
		return rc;
	rc = cp_flog_each(G.db, G.tenant_id, CP_FLOG_PENDING, NULL, G.only ?
	    (strcmp(G.only, "jobs") ? G.only : "jobs") : NULL, replay_one, &c);
	if (rc) {
		cp_db_rollback(G.db);
		return rc;
	}
	if ((rc = cp_db_commit(G.db)))
		return rc;
	if (c.n)
		cp_info("%ld pending documents from an interrupted run written",
		    c.n);
	return 0;
}

static int replay(void)
{
	struct replay_ctx c = { 0, false };
	char since[CP_TIME_MAX];
	int rc;

	rc = cp_flog_each(G.db, G.tenant_id, 0, G.have_since ?
	    cp_time_format(G.since, since) : NULL, G.only, replay_one, &c);
	cp_info("%ld documents replayed", c.n);
	return rc;
}

/* ---- --stdin: documents in, validated, logged, out ---- */

static int stdin_one(json_t *rec, const cp_line *ln, void *arg)
{
	char err[256], hash[CP_SHA256_HEX], old[CP_SHA256_HEX];
	const char *id, *tenant;
	int64_t tid;
	int rc, state;
	char *text;

	(void)arg;
	if (!cp_record_check(rec, CP_REC_DOCUMENT, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	tenant = cp_json_str(rec, "tenant");
	id = cp_json_str(rec, "id");
	if (!(tid = cp_tenant_id(G.db, tenant)) || (G.tenant_id &&
	    tid != G.tenant_id)) {
		cp_reject(ln, "tenant \"%s\" is not in this state file", tenant);
		return 0;
	}
	cp_doc_hash(rec, hash);
	state = cp_flog_state(G.db, tid, id, old);
	if (state == CP_FLOG_EMITTED && !G.replay && (!G.updates ||
	    !strcmp(hash, old))) {
		G.total_seen++;
		return 0;
	}
	text = xstrndup(ln->text, ln->len);
	if ((rc = cp_db_begin(G.db)) || (rc = cp_flog_pending(G.db, tid, id,
	    cp_json_str(rec, "source"), "stdin", cp_json_str(rec, "url"),
	    cp_json_str(rec, "published_at"), cp_json_strd(rec, "fetched_at",
	    G.now), hash, text)) || (rc = cp_db_commit(G.db))) {
		free(text);
		return rc;
	}
	/* passed through byte for byte */
	cp_emit_raw(text, strlen(text));
	free(text);
	if (fflush(stdout) == EOF)
		write_failed();
	if ((rc = cp_db_begin(G.db)) || (rc = cp_flog_emitted(G.db, tid, id))
	    || (rc = cp_db_commit(G.db)))
		return rc;
	G.total_new++;
	return 0;
}

/* ---- --dry-run ---- */

static void dry_run(void)
{
	struct source *s;
	size_t i;

	for (s = G.sources; s; s = s->next) {
		strbuf acc = CP_STRBUF_INIT;
		char *red = cp_url_redact(s->url);
		if (s->matcher)
			sb_adds(&acc, "(by name)");
		for (i = 0; i < s->nacct; i++)
			sb_addf(&acc, "%s%s", i ? "," : "", s->accts[i]->id);
		printf("%s\t%s\t%s\t%s%s\n", kind_db[s->kind], s->tenant, red,
		    sb_str(&acc), s->st.etag || s->st.last_modified ?
		    "\tconditional" : "");
		free(red);
		sb_free(&acc);
	}
}

/* ---- configuration ---- */

static char *bases[4];

static const char *base_url(int slot, const char *key, const char *dflt)
{
	const char *v = cp_conf(key, NULL, dflt);
	size_t l = strlen(v);

	while (l && v[l - 1] == '/')
		l--;
	free(bases[slot]);
	bases[slot] = xstrndup(v, l);
	return bases[slot];
}

static int configure(const char *ua_flag, const char *conc_flag,
    const char *timeout_flag, size_t *max_body)
{
	cp_http_opts o;
	const char *s;
	double rate;
	char *host;

	cp_http_opts_default(&o);
	G.ua = cp_conf("http.user_agent", ua_flag, NULL);
	if (G.ua && *G.ua)
		o.user_agent = G.ua;
	else
		G.ua = NULL;
	o.concurrency = (int)cp_conf_long("http.concurrency", conc_flag, 8);
	o.host_concurrency = (int)cp_conf_long("http.host_concurrency", NULL,
	    6);
	o.timeout = cp_conf_double("http.timeout", timeout_flag, 60);
	o.connect_timeout = cp_conf_double("http.connect_timeout", NULL, 10);
	o.stall_timeout = cp_conf_double("http.stall_timeout", NULL, 30);
	o.retries = (int)cp_conf_long("http.retries", NULL, 3);
	o.backoff_base = cp_conf_double("http.backoff_base", NULL, 0.5);
	o.backoff_max = cp_conf_double("http.backoff_max", NULL, 30);
	o.retry_after_max = cp_conf_double("http.retry_after_max", NULL, 120);
	o.max_redirects = (int)cp_conf_long("http.max_redirects", NULL, 5);
	if (o.concurrency < 1 || o.concurrency > 64 || o.timeout <= 0 ||
	    o.connect_timeout <= 0 || o.retries < 0 || o.retries > 10 ||
	    o.max_redirects < 0 || o.max_redirects > 5) {
		cp_err("http: bad setting (concurrency 1-64, timeouts > 0, "
		    "retries 0-10, max_redirects 0-5)");
		return CP_EX_CONFIG;
	}
	s = cp_conf("http.max_body", NULL, "20M");
	if (!cp_parse_size(s, &o.max_body)) {
		cp_err("http.max_body: not a size: %s", s);
		return CP_EX_CONFIG;
	}
	*max_body = o.max_body;
	s = cp_conf("fetch.text_max", NULL, "2M");
	if (!cp_parse_size(s, &G.text_max)) {
		cp_err("fetch.text_max: not a size: %s", s);
		return CP_EX_CONFIG;
	}
	G.sec_base = base_url(0, "sec.base_url", "https://data.sec.gov");
	G.sec_www = base_url(1, "sec.www_url", "https://www.sec.gov");
	G.gh_base = base_url(2, "greenhouse.base_url",
	    "https://boards-api.greenhouse.io");
	G.lever_base = base_url(3, "lever.base_url", "https://api.lever.co");
	split_list(cp_conf("fetch.forms", NULL, "8-K,10-Q,10-K,S-1,DEF 14A"),
	    &G.text_forms, &G.ntext_forms);
	split_list(cp_conf("sec.forms", NULL, ""), &G.sec_forms,
	    &G.nsec_forms);
	s = cp_conf("sec.since", NULL, "30d");
	if (!cp_duration_parse(s, &G.sec_window)) {
		cp_err("sec.since: not a duration: %s", s);
		return CP_EX_CONFIG;
	}
	rate = cp_conf_double("sec.rate", NULL, 5);
	if (rate <= 0 || rate > 10) {
		cp_err("sec.rate: SEC allows at most 10 requests per second, "
		    "not %g", rate);
		return CP_EX_CONFIG;
	}
	if (cp_reliability_load())
		return CP_EX_CONFIG;
	G.http = cp_http_new(&o);
	cp_http_set_rate_db(G.http, G.db);
	if ((host = cp_url_host(G.sec_base))) {
		cp_http_set_rate(G.http, host, rate, rate);
		free(host);
	}
	if ((host = cp_url_host(G.sec_www))) {
		cp_http_set_rate(G.http, host, rate, rate);
		free(host);
	}
	return 0;
}

static void parse_since(const char *arg)
{
	if (!cp_time_or_age(arg, &G.since))
		cp_usage_error(usage, "--since: expected an RFC 3339 time or "
		    "an age (48h, 7d), not '%s'", arg);
	G.have_since = true;
}

static void push(const char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

static int check_accounts(void)
{
	size_t i, j;

	for (i = 0; i < G.naccounts; i++) {
		int hits = 0;
		for (j = 0; j < G.acc.n; j++)
			hits += !strcmp(G.acc.v[j].id, G.accounts[i]);
		if (!hits) {
			cp_err("--account %s: no such account%s", G.accounts[i],
			    G.tenant_id ? " in this tenant" : "");
			return CP_EX_NOINPUT;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *ua = NULL, *conc = NULL, *tmo = NULL;
	size_t max_body = 0, i;
	int c, rc;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_SOURCE:
			if (strcmp(optarg, "sec") && strcmp(optarg, "news") &&
			    strcmp(optarg, "jobs"))
				cp_usage_error(usage, "--source: expected sec, "
				    "news or jobs, not '%s'", optarg);
			G.only = optarg;
			break;
		case OPT_ACCOUNT: push(&G.accounts, &G.naccounts, optarg); break;
		case OPT_SINCE: parse_since(optarg); break;
		case OPT_WITH_TEXT: G.with_text = true; break;
		case OPT_UPDATES: G.updates = true; break;
		case OPT_DRY_RUN: G.dry_run = true; break;
		case OPT_REPLAY: G.replay = true; break;
		case OPT_URL: push(&G.urls, &G.nurls, optarg); break;
		case OPT_FILE: push(&G.files, &G.nfiles, optarg); break;
		case OPT_STDIN: G.from_stdin = true; break;
		case OPT_UA: ua = optarg; break;
		case OPT_CONCURRENCY: conc = optarg; break;
		case OPT_TIMEOUT: tmo = optarg; break;
		}
	}
	if (optind < argc)
		cp_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (G.from_stdin && (G.nurls || G.nfiles))
		cp_usage_error(usage, "--stdin cannot be combined with --url "
		    "or --file");
	if (G.replay && !G.from_stdin && (G.nurls || G.nfiles || G.dry_run))
		cp_usage_error(usage, "--replay re-emits logged documents; it "
		    "takes no --url, --file or --dry-run");
	if ((rc = cp_cli_ready()))
		return rc;
	cp_time_format(cp_now(), G.now);
	if ((rc = cp_db_open(cp_cli.db, 0, &G.db)))
		return rc;
	if (cp_cli.tenant && !(G.tenant_id = cp_tenant_id(G.db,
	    cp_cli.tenant))) {
		cp_err("--tenant %s: no such tenant", cp_cli.tenant);
		rc = CP_EX_NOINPUT;
		goto out;
	}
	if ((rc = cp_accounts_load(G.db, G.tenant_id, &G.acc)))
		goto out;
	if ((rc = check_accounts()))
		goto out;
	if (G.from_stdin) {
		rc = cp_ndjson_inputs(0, NULL, stdin_one, NULL);
		goto out;
	}
	if (G.replay) {
		rc = replay();
		goto out;
	}
	if ((rc = configure(ua, conc, tmo, &max_body)))
		goto out;
	if (G.nurls || G.nfiles) {
		for (i = 0; i < G.nurls; i++)
			plan_adhoc(K_WEB, G.urls[i]);
		for (i = 0; i < G.nfiles; i++)
			plan_files(G.files[i]);
	} else {
		plan_accounts();
	}
	/* SEC sources without a declared contact are not contacted */
	{
		struct source **pp = &G.sources, *s;
		bool has_sec = false;
		for (s = G.sources; s; s = s->next)
			has_sec |= s->kind == K_SEC;
		if (has_sec && !G.dry_run && !sec_possible(G.with_text)) {
			G.last = NULL;
			while ((s = *pp)) {
				if (s->kind == K_SEC) {
					*pp = s->next;
					s->next = NULL;
					cp_matcher_free(s->matcher);
					free(s->url);
					free(s->key);
					free(s->accts);
					free(s);
				} else {
					G.last = s;
					pp = &s->next;
				}
			}
		}
	}
	load_states();
	if (G.dry_run) {
		dry_run();
		goto out;
	}
	if ((rc = resume_pending()))
		goto out;
	group_units();
	rc = fetch_all(max_body);
out:
	free_sources();
	cp_http_free(G.http);
	cp_fetchdb_release();
	cp_accounts_free(&G.acc);
	free(sel.v);
	for (i = 0; i < G.ntext_forms; i++)
		free(G.text_forms[i]);
	for (i = 0; i < G.nsec_forms; i++)
		free(G.sec_forms[i]);
	free(G.text_forms);
	free(G.sec_forms);
	free(G.accounts);
	free(G.urls);
	free(G.files);
	for (i = 0; i < 4; i++)
		free(bases[i]);
	if (G.db)
		cp_db_close(G.db);
	if (!rc && G.config_fail)
		rc = CP_EX_CONFIG;
	if (!rc && G.temp_fail)
		rc = CP_EX_TEMPFAIL;
	if (!rc && G.perm_fail)
		rc = CP_EX_DATAERR;
	return cp_ndjson_status(rc);
}
