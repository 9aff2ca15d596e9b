/*
 * http.c — the HTTP client (http.h) over libcurl's multi interface.
 *
 * One loop drives everything: requests wait in a queue until their
 * not-before time has come (backoff, Retry-After), their host has a token
 * (rate limit) and a free transfer slot (concurrency); curl_multi_poll
 * sleeps until the next of those or socket activity.  Done callbacks may
 * queue more requests; the loop ends when nothing is queued or running.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"
#include "fetchurl.h"
#include "http.h"
#include "log.h"
#include "mem.h"

struct host {
	char *name;
	double rate, burst;      /* rate <= 0: unlimited */
	double tokens, last;     /* in-memory bucket (monotonic clock) */
	double wait_until;       /* the bucket is empty until then */
	int active;
};

struct cp_http_slot {
	CURL *easy;
	struct curl_slist *hdrs;  /* this attempt's header list */
	cp_http_req *r;
	struct host *host;
	char errbuf[CURL_ERROR_SIZE];
	size_t max;
	bool toobig;
	char *date;               /* the server's Date header */
};

struct cp_http {
	cp_http_opts o;
	CURLM *multi;
	cp_http_req *head, *tail;   /* the queue */
	int active;
	/* one allocation per host: a transfer in flight keeps a pointer to
	 * its host (cp_http_slot.host), which must survive new hosts */
	struct host **hosts;
	size_t nhosts;
	sqlite3 *db;
	uint64_t rng;
};

static int curl_ready;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wall-clock time for buckets shared through the state file.  Not
 * cp_now(): a frozen CLIENTPULSE_NOW must not freeze the rate limit. */
static double wall(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static double uniform(cp_http *h)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return (double)((h->rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

void cp_http_opts_default(cp_http_opts *o)
{
	memset(o, 0, sizeof *o);
	o->user_agent = "ClientPulse/" CP_VERSION;
	o->concurrency = 8;
	o->host_concurrency = 6;
	o->connect_timeout = 10;
	o->timeout = 60;
	o->stall_timeout = 30;
	o->max_redirects = 5;
	o->max_body = (size_t)20 << 20;
	o->retries = 3;
	o->backoff_base = 0.5;
	o->backoff_max = 30;
	o->retry_after_max = 120;
}

cp_http *cp_http_new(const cp_http_opts *o)
{
	cp_http *h = xcalloc(1, sizeof *h);

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			cp_die(CP_EX_SOFTWARE, "libcurl initialisation failed");
		curl_ready = 1;
	}
	h->o = *o;
	if (h->o.concurrency < 1)
		h->o.concurrency = 1;
	if (h->o.host_concurrency < 1)
		h->o.host_concurrency = h->o.concurrency;
	if (!h->o.classify)
		h->o.classify = cp_http_classify_default;
	if (!(h->multi = curl_multi_init()))
		cp_die(CP_EX_OSERR, "out of memory");
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)h->o.concurrency);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)h->o.host_concurrency);
	h->rng = (uint64_t)wall() * 1000003u ^ (uint64_t)getpid() << 17 ^
	    0x9E3779B97F4A7C15ULL;
	return h;
}

void cp_http_free(cp_http *h)
{
	size_t i;

	if (!h)
		return;
	while (h->head) {
		cp_http_req *r = h->head;
		h->head = r->next_;
		if (!r->keep)
			cp_http_req_free(r);
	}
	curl_multi_cleanup(h->multi);
	for (i = 0; i < h->nhosts; i++) {
		free(h->hosts[i]->name);
		free(h->hosts[i]);
	}
	free(h->hosts);
	free(h);
}

static struct host *host_get(cp_http *h, const char *name)
{
	size_t i;
	struct host *e;

	for (i = 0; i < h->nhosts; i++)
		if (!strcmp(h->hosts[i]->name, name))
			return h->hosts[i];
	h->hosts = xrealloc(h->hosts, (h->nhosts + 1) * sizeof *h->hosts);
	e = h->hosts[h->nhosts++] = xcalloc(1, sizeof *e);
	e->name = xstrdup(name);
	return e;
}

void cp_http_set_rate(cp_http *h, const char *host, double rate, double burst)
{
	char *lc = xstrdup(host), *p;
	struct host *e;

	for (p = lc; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	e = host_get(h, lc);
	free(lc);
	e->rate = rate;
	e->burst = burst >= 1 ? burst : 1;
	e->tokens = e->burst;
	e->last = mono();
}

void cp_http_set_rate_db(cp_http *h, sqlite3 *db)
{
	h->db = db;
}

cp_http_req *cp_http_req_new(const char *method, const char *url)
{
	cp_http_req *r = xcalloc(1, sizeof *r);

	r->method = xstrdup(method ? method : "GET");
	r->url = xstrdup(url);
	r->retry_after = -1;
	sb_init(&r->resp);
	return r;
}

void cp_http_req_header(cp_http_req *r, const char *line)
{
	struct curl_slist *n = curl_slist_append(r->headers, line);

	if (!n)
		cp_die(CP_EX_OSERR, "out of memory");
	r->headers = n;
}

void cp_http_req_body(cp_http_req *r, const void *data, size_t len)
{
	free(r->body);
	r->body = xmalloc(len + 1);
	memcpy(r->body, data, len);
	r->body[len] = '\0';
	r->body_len = len;
}

static void resp_clear(cp_http_req *r)
{
	sb_reset(&r->resp);
	free(r->content_type);
	free(r->resp_etag);
	free(r->resp_last_modified);
	r->content_type = r->resp_etag = r->resp_last_modified = NULL;
	r->status = 0;
	r->retry_after = -1;
	r->server_date_ = -1;
	r->error_kind = CP_HTTP_OK;
	r->error[0] = '\0';
	r->bytes = 0;
	sb_reset(&r->resp_headers);
}

void cp_http_req_free(cp_http_req *r)
{
	if (!r)
		return;
	resp_clear(r);
	sb_free(&r->resp);
	sb_free(&r->resp_headers);
	curl_slist_free_all(r->headers);
	free(r->method);
	free(r->url);
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	free(r->effective_url);
	free(r->host_);
	free(r);
}

void cp_http_add(cp_http *h, cp_http_req *r)
{
	r->next_ = NULL;
	if (!r->host_) {
		r->host_ = cp_url_host(r->url);
		if (!r->host_)
			r->host_ = xstrdup("");
		r->t0_ = mono();
	}
	if (h->tail)
		h->tail->next_ = r;
	else
		h->head = r;
	h->tail = r;
}

/* ---- response callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cp_http_slot *s = arg;
	size_t len = size * n;

	if (s->r->resp.len + len > s->max) {
		s->toobig = true;
		return 0;     /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	sb_add(&s->r->resp, p, len);
	return len;
}

static char *header_value(const char *p, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *v, *e;

	if (len <= nl || strncasecmp(p, name, nl) || p[nl] != ':')
		return NULL;
	v = p + nl + 1;
	e = p + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	return xstrndup(v, (size_t)(e - v));
}

static void set_header(char **dst, char *v)
{
	if (v) {
		free(*dst);
		*dst = v;
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cp_http_slot *s = arg;
	cp_http_req *r = s->r;
	size_t len = size * n;
	char *v;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect or a 100): forget the
		 * headers of the previous one */
		free(r->content_type);
		free(r->resp_etag);
		free(r->resp_last_modified);
		free(s->date);
		r->content_type = r->resp_etag = r->resp_last_modified = NULL;
		s->date = NULL;
		r->retry_after = -1;
		sb_reset(&r->resp_headers);
		if (r->keep_headers)
			sb_add(&r->resp_headers, p, len);
		return len;
	}
	if (r->keep_headers)
		sb_add(&r->resp_headers, p, len);
	set_header(&r->content_type, header_value(p, len, "Content-Type"));
	set_header(&r->resp_etag, header_value(p, len, "ETag"));
	set_header(&r->resp_last_modified, header_value(p, len,
	    "Last-Modified"));
	set_header(&s->date, header_value(p, len, "Date"));
	if ((v = header_value(p, len, "Retry-After"))) {
		double now = wall();
		if (s->date) {
			time_t d = curl_getdate(s->date, NULL);
			if (d > 0)
				now = (double)d;
		}
		r->retry_after = cp_http_parse_retry_after(v, now);
		free(v);
	}
	return len;
}

/* ---- the rate limit ---- */

/* Take a token from the bucket in the state file.  Returns the seconds
 * to wait (0: token taken), or -1 when the state file is unusable (the
 * in-memory bucket then stands in). */
static double bucket_db(cp_http *h, struct host *e)
{
	sqlite3_stmt *st;
	double now = wall(), tokens = e->burst, last = now, wait = 0;
	int rc;

	if (cp_db_begin(h->db))
		return -1;
	st = cp_db_prepare_cached(h->db, "SELECT tokens, updated_at FROM "
	    "http_buckets WHERE host = ?");
	sqlite3_bind_text(st, 1, e->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		tokens = sqlite3_column_double(st, 0);
		last = sqlite3_column_double(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (now > last)
		tokens += (now - last) * e->rate;
	if (tokens > e->burst)
		tokens = e->burst;
	if (tokens >= 1)
		tokens -= 1;
	else
		wait = (1 - tokens) / e->rate;
	st = cp_db_prepare_cached(h->db, "INSERT INTO http_buckets (host, tokens, "
	    "updated_at) VALUES (?, ?, ?) ON CONFLICT (host) DO UPDATE SET "
	    "tokens = excluded.tokens, updated_at = excluded.updated_at");
	sqlite3_bind_text(st, 1, e->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, tokens);
	sqlite3_bind_double(st, 3, now > last ? now : last);
	rc = cp_db_step_done(h->db, st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc || cp_db_commit(h->db)) {
		if (rc)
			cp_db_rollback(h->db);
		return -1;
	}
	return wait;
}

static double bucket_take(cp_http *h, struct host *e)
{
	double now = mono(), w;

	if (e->rate <= 0)
		return 0;
	if (now < e->wait_until)
		return e->wait_until - now;
	if (h->db && (w = bucket_db(h, e)) >= 0) {
		if (w > 0)
			e->wait_until = now + w;
		return w;
	}
	e->tokens += (now - e->last) * e->rate;
	e->last = now;
	if (e->tokens > e->burst)
		e->tokens = e->burst;
	if (e->tokens >= 1) {
		e->tokens -= 1;
		return 0;
	}
	w = (1 - e->tokens) / e->rate;
	e->wait_until = now + w;
	return w;
}

/* ---- starting and finishing transfers ---- */

static struct curl_slist *slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (!n)
		cp_die(CP_EX_OSERR, "out of memory");
	return n;
}

static void start(cp_http *h, cp_http_req *r, struct host *e)
{
	struct cp_http_slot *s = xcalloc(1, sizeof *s);
	struct curl_slist *l;
	CURL *c;
	char *line;

	if (!(c = curl_easy_init()))
		cp_die(CP_EX_OSERR, "out of memory");
	s->easy = c;
	s->r = r;
	s->host = e;
	s->max = r->max_body ? r->max_body : h->o.max_body;
	r->slot_ = s;
	r->attempts++;
	resp_clear(r);
	for (l = r->headers; l; l = l->next)
		s->hdrs = slist_add(s->hdrs, l->data);
	if (r->etag) {
		line = xasprintf("If-None-Match: %s", r->etag);
		s->hdrs = slist_add(s->hdrs, line);
		free(line);
	}
	if (r->last_modified) {
		line = xasprintf("If-Modified-Since: %s", r->last_modified);
		s->hdrs = slist_add(s->hdrs, line);
		free(line);
	}
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    r->allow_file ? "http,https,file" : "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)h->o.max_redirects);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->o.user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(h->o.connect_timeout * 1000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(h->o.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    (long)(h->o.stall_timeout < 1 ? 1 : h->o.stall_timeout));
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	/* never off: a fetcher that skips verification is a fetcher that
	 * can be fed anything */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	if (r->fresh_connect)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (!strcmp(r->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(r->method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	}
	if (curl_multi_add_handle(h->multi, c) != CURLM_OK)
		cp_die(CP_EX_SOFTWARE, "curl_multi_add_handle failed");
	e->active++;
	h->active++;
}

static void set_error(cp_http_req *r, int kind, const char *what,
    const char *detail)
{
	strbuf sb = CP_STRBUF_INIT;

	r->error_kind = kind;
	sb_adds(&sb, what);
	if (detail && *detail) {
		sb_adds(&sb, ": ");
		sb_adds(&sb, detail);
	}
	snprintf(r->error, sizeof r->error, "%.*s", (int)sizeof r->error - 1,
	    sb_str(&sb));
	sb_free(&sb);
	cp_log_redact(r->error);
}

static void map_result(cp_http_req *r, struct cp_http_slot *s, CURLcode rc)
{
	const char *d = *s->errbuf ? s->errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OK:
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		set_error(r, CP_HTTP_ECONNECT, "connection failed", d);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		set_error(r, CP_HTTP_ETIMEOUT, "timed out", d);
		return;
	case CURLE_FILESIZE_EXCEEDED:
		s->toobig = true;
		break;
	case CURLE_WRITE_ERROR:
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		set_error(r, CP_HTTP_EREDIRECT, "too many redirects", NULL);
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		set_error(r, CP_HTTP_EURL, "bad or refused URL", d);
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		set_error(r, CP_HTTP_ETLS, "tls failed", d);
		return;
	default:
		set_error(r, CP_HTTP_EOTHER, "transfer failed", d);
		return;
	}
	if (s->toobig) {
		char lim[64];
		snprintf(lim, sizeof lim, "response larger than %zu bytes",
		    s->max);
		set_error(r, CP_HTTP_ETOOBIG, lim, NULL);
	} else {
		set_error(r, CP_HTTP_EOTHER, "transfer failed", d);
	}
}

/* Backoff before attempt n+1 (full jitter), or the server's ask. */
static double backoff(cp_http *h, const cp_http_req *r)
{
	double cap = h->o.backoff_base * pow(2, r->attempts - 1);

	if (r->retry_after >= 0)
		return r->retry_after;
	if (cap > h->o.backoff_max)
		cap = h->o.backoff_max;
	return uniform(h) * cap;
}

static void finish(cp_http *h, CURL *c, CURLcode rc)
{
	struct cp_http_slot *s;
	cp_http_req *r;
	char *eff = NULL, *red;
	long status = 0;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&s);
	r = s->r;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
	free(r->effective_url);
	r->effective_url = xstrdup(eff ? eff : r->url);
	map_result(r, s, rc);
	if (rc == CURLE_OK) {
		/* file:// has no status line: a read that worked is a 200 */
		r->status = status ? status :
		    (!strncmp(r->effective_url, "file:", 5) ? 200 : 0);
	}
	r->bytes = r->resp.len;
	red = cp_url_redact(r->url);
	cp_debug("%s %s: %s%ld, %zu bytes, attempt %d", r->method, red,
	    r->error[0] ? r->error : "", r->status, r->bytes, r->attempts);
	free(red);
	curl_multi_remove_handle(h->multi, c);
	curl_easy_cleanup(c);
	curl_slist_free_all(s->hdrs);
	s->host->active--;
	h->active--;
	free(s->date);
	free(s);
	r->slot_ = NULL;

	if (h->o.classify(r, h->o.classify_arg) == CP_HTTP_RETRY &&
	    r->attempts <= h->o.retries) {
		double w = backoff(h, r);
		if (w <= h->o.retry_after_max) {
			red = cp_url_redact(r->url);
			cp_debug("retrying %s in %.2fs", red, w);
			free(red);
			r->not_before_ = mono() + w;
			cp_http_add(h, r);
			return;
		}
		if (!r->error[0])
			snprintf(r->error, sizeof r->error, "HTTP %ld, server "
			    "asks to retry after %.0fs", r->status,
			    r->retry_after);
	}
	r->elapsed = mono() - r->t0_;
	if (r->done)
		r->done(h, r, r->arg);
	if (!r->keep)
		cp_http_req_free(r);
}

/* Start every queued request that may start now; returns the seconds
 * until the earliest waiting one could (or -1 when none waits). */
static double start_ready(cp_http *h)
{
	cp_http_req **pp = &h->head, *r, *prev = NULL;
	double now = mono(), next = -1, w;

	while ((r = *pp)) {
		struct host *e;
		if (h->active >= h->o.concurrency)
			return next < 0 ? 0.05 : next;
		if (r->not_before_ > now) {
			w = r->not_before_ - now;
			if (next < 0 || w < next)
				next = w;
			prev = r;
			pp = &r->next_;
			continue;
		}
		e = host_get(h, r->host_);
		if (e->active >= h->o.host_concurrency) {
			prev = r;
			pp = &r->next_;
			continue;
		}
		if ((w = bucket_take(h, e)) > 0) {
			if (next < 0 || w < next)
				next = w;
			prev = r;
			pp = &r->next_;
			continue;
		}
		*pp = r->next_;
		if (h->tail == r)
			h->tail = prev;
		start(h, r, e);
	}
	return next;
}

int cp_http_step(cp_http *h, double max_wait)
{
	CURLMsg *m;
	int running, left;
	/* start what may start (after every batch of completions, so a freed
	 * slot never waits for the next socket event) */
	double next = start_ready(h);
	long ms, cap = max_wait <= 0 ? 0 : (long)(max_wait * 1000);

	if (!h->head && !h->active)
		return 0;
	ms = next < 0 ? 1000 : (long)(next * 1000) + 1;
	if (ms > cap)
		ms = cap;
	if (h->active) {
		long cms = -1;
		curl_multi_timeout(h->multi, &cms);
		if (cms >= 0 && cms < ms)
			ms = cms;
	}
	if (curl_multi_poll(h->multi, NULL, 0, (int)ms, NULL) != CURLM_OK) {
		cp_err("http: curl_multi_poll failed");
		return CP_EX_SOFTWARE;
	}
	if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
		cp_err("http: curl_multi_perform failed");
		return CP_EX_SOFTWARE;
	}
	while ((m = curl_multi_info_read(h->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish(h, m->easy_handle, m->data.result);
	return 0;
}

int cp_http_pending(const cp_http *h)
{
	const cp_http_req *r;
	int n = h->active;

	for (r = h->head; r; r = r->next_)
		n++;
	return n;
}

int cp_http_run(cp_http *h)
{
	int rc;

	for (;;) {
		if ((rc = cp_http_step(h, 1.0)))
			return rc;
		if (!h->head && !h->active)
			return 0;
	}
}

int cp_http_do(cp_http *h, cp_http_req *r)
{
	bool keep = r->keep;

	r->keep = true;
	cp_http_add(h, r);
	if (cp_http_run(h))
		return -1;
	r->keep = keep;
	return r->error_kind == CP_HTTP_OK ? 0 : -1;
}

int cp_http_classify_default(const cp_http_req *r, void *arg)
{
	(void)arg;
	return cp_http_temporary(r) ? CP_HTTP_RETRY : CP_HTTP_DONE;
}

bool cp_http_temporary(const cp_http_req *r)
{
	if (r->error_kind == CP_HTTP_ECONNECT ||
	    r->error_kind == CP_HTTP_ETIMEOUT)
		return true;
	if (r->error_kind != CP_HTTP_OK)
		return false;
	switch (r->status) {
	case 408: case 425: case 429:
	case 500: case 502: case 503: case 504:
		return true;
	}
	return false;
}

char *cp_http_resp_header(const cp_http_req *r, const char *name)
{
	const char *p = sb_str(&r->resp_headers), *e;
	char *v, *found = NULL;

	for (; *p; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if ((v = header_value(p, (size_t)(e - p), name))) {
			free(found);
			found = v;
		}
	}
	return found;
}

double cp_http_parse_retry_after(const char *v, double now)
{
	const char *p = v;
	time_t t;

	while (*p == ' ')
		p++;
	if (isdigit((unsigned char)*p)) {
		char *end;
		double s = strtod(p, &end);
		while (*end == ' ')
			end++;
		return *end ? -1 : s;
	}
	t = curl_getdate(p, NULL);
	if (t < 0)
		return -1;
	return (double)t > now ? (double)t - now : 0;
}

bool cp_http_ua_has_contact(const char *ua)
{
	const char *at;

	if (!ua)
		return false;
	if (strstr(ua, "http://") || strstr(ua, "https://"))
		return true;
	/* something@host.tld */
	for (at = strchr(ua, '@'); at; at = strchr(at + 1, '@')) {
		const char *d = at + 1;
		if (at > ua && !isspace((unsigned char)at[-1]) &&
		    isalnum((unsigned char)*d) && strchr(d, '.') &&
		    (size_t)(strchr(d, '.') - d) < strcspn(d, " \t>)"))
			return true;
	}
	return false;
}
