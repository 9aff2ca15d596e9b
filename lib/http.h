/*
 * http.h — a general HTTP client over libcurl: one request/response
 * struct, a batch runner with bounded concurrency (curl multi), retries,
 * per-host rate limits and hard limits.  libcurl is used only in http.c,
 * so a binary that never calls these functions never links libcurl.
 *
 * Use:
 *
 *     cp_http_opts o;
 *     cp_http_opts_default(&o);          then override fields
 *     o.user_agent = "Acme ClientPulse ops@acme.example";
 *     cp_http *h = cp_http_new(&o);
 *     cp_http_set_rate(h, "data.sec.gov", 5, 5);    optional
 *     cp_http_set_rate_db(h, db);                    share buckets
 *
 *     cp_http_req *r = cp_http_req_new("GET", url);
 *     cp_http_req_header(r, "Accept: application/json");
 *     r->done = on_done; r->arg = ctx;
 *     cp_http_add(h, r);                 queue (also from inside a done
 *     cp_http_run(h);                     callback); run until idle
 *
 * or synchronously: cp_http_do(h, r) runs one request to its end.
 *
 * Ownership: a queued request belongs to the client until its done
 * callback has returned; the callback may keep it (then it frees it with
 * cp_http_req_free) or leave it (set r->keep = false, the default: the
 * client frees it after the callback).  Strings passed in are copied.
 *
 * Behaviour every request gets:
 *  - User-Agent from the options (callers that must identify themselves,
 *    like SEC EDGAR, check cp_http_ua_has_contact first);
 *  - connect and total timeouts, a stall timeout (fewer than 1 byte/s
 *    for stall_timeout seconds), at most max_redirects redirects (and only
 *    to http/https), compressed transfer (Accept-Encoding: every encoding
 *    libcurl supports), TLS peer and host verification always on, proxies
 *    from http_proxy / https_proxy / no_proxy as libcurl reads them;
 *  - a maximum body size (decoded bytes, so a gzip bomb stops too):
 *    exceeding it fails the request with CP_HTTP_ETOOBIG, never retried;
 *  - conditional GET when r->etag / r->last_modified are set
 *    (If-None-Match / If-Modified-Since); a 304 is a normal response;
 *  - retries on connection errors, timeouts, 408, 429 and 5xx (or what
 *    the classify hook says), with exponential backoff and full jitter
 *    (sleep a uniform random time in [0, min(cap, base * 2^attempt)]),
 *    honouring Retry-After in seconds or as an HTTP-date (measured from
 *    the server's Date header when there is one) up to retry_after_max;
 *  - a per-host token bucket (host:port), in memory or, with
 *    cp_http_set_rate_db, in the state file so concurrent processes share
 *    one budget (table http_buckets, lib/data/schema/20-fetch.sql).
 *
 * Secrets: request headers are never logged; URLs are logged with any
 * user:password part removed (cp_http_redact_url).  Debug logging (-vv)
 * shows method, URL, status, bytes and time per attempt.
 */
#ifndef CP_HTTP_H
#define CP_HTTP_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* What became of a request (r->error_kind). */
enum cp_http_error {
	CP_HTTP_OK = 0,        /* a response arrived (any status) */
	CP_HTTP_ECONNECT,      /* DNS, refused, reset: temporary */
	CP_HTTP_ETIMEOUT,      /* connect/total/stall timeout: temporary */
	CP_HTTP_ETOOBIG,       /* body larger than max_body: permanent */
	CP_HTTP_EREDIRECT,     /* too many redirects or a bad target */
	CP_HTTP_ETLS,          /* certificate or handshake: permanent */
	CP_HTTP_EURL,          /* malformed URL / unsupported protocol */
	CP_HTTP_EOTHER         /* anything else libcurl reports */
};

/* The classify hook's verdicts. */
enum cp_http_verdict {
	CP_HTTP_DONE = 0,      /* hand the response to the caller */
	CP_HTTP_RETRY = 1      /* try again after backoff (if attempts left) */
};

typedef struct cp_http_req cp_http_req;
typedef struct cp_http cp_http;

typedef void (*cp_http_done_fn)(cp_http *h, cp_http_req *r, void *arg);
typedef int (*cp_http_classify_fn)(const cp_http_req *r, void *arg);

struct cp_http_req {
	/* --- request (set by the caller) --- */
	char *method;                /* "GET", "POST", "PUT", "PATCH", … */
	char *url;
	struct curl_slist *headers;  /* via cp_http_req_header() */
	char *body;                  /* request body or NULL */
	size_t body_len;
	char *etag, *last_modified;  /* validators for a conditional GET */
	bool allow_file;             /* file:// permitted (operator's URLs) */
	size_t max_body;             /* 0: the client's max_body */
	bool keep_headers;           /* keep every response header line
	                                (resp_headers, cp_http_resp_header) */
	bool fresh_connect;          /* a new connection, never a reused one:
	                                libcurl resends a request silently when
	                                a reused connection dies before an
	                                answer, which a non-idempotent POST
	                                must not risk (it may have applied) */
	cp_http_done_fn done;        /* called once, when finished */
	void *arg;                   /* for done */
	bool keep;                   /* the caller frees r after done */

	/* --- response (filled in by the client) --- */
	long status;                 /* HTTP status; 200 for a file:// read;
	                                0 when no response arrived */
	strbuf resp;                 /* the body (decoded), NUL-terminated */
	char *content_type;          /* response headers of the final hop */
	char *resp_etag, *resp_last_modified;
	char *effective_url;         /* after redirects */
	double retry_after;          /* seconds asked by the server, or -1 */
	int error_kind;              /* enum cp_http_error */
	char error[256];             /* one line, lowercase; "" when OK */
	int attempts;                /* how many were made */
	double elapsed;              /* seconds, all attempts and waits */
	size_t bytes;                /* body bytes of the final attempt */
	strbuf resp_headers;         /* with keep_headers: the header lines
	                                of the final response, as received */

	/* --- private --- */
	struct cp_http_slot *slot_;
	double not_before_;
	double t0_;
	char *host_;
	cp_http_req *next_;
	double server_date_;
	bool giveup_;
};

typedef struct cp_http_opts {
	const char *user_agent;      /* required by polite clients */
	int concurrency;             /* transfers at once; default 8 */
	int host_concurrency;        /* per host; default 6 */
	double connect_timeout;      /* seconds; default 10 */
	double timeout;              /* whole transfer; default 60 */
	double stall_timeout;        /* < 1 byte/s for this long; default 30 */
	int max_redirects;           /* default 5 */
	size_t max_body;             /* bytes; default 20 MiB */
	int retries;                 /* extra attempts after the first; 3 */
	double backoff_base;         /* seconds; default 0.5 */
	double backoff_max;          /* cap of one backoff; default 30 */
	double retry_after_max;      /* longer Retry-After: give up; 120 */
	cp_http_classify_fn classify;/* NULL: cp_http_classify_default */
	void *classify_arg;
} cp_http_opts;

void cp_http_opts_default(cp_http_opts *o);
cp_http *cp_http_new(const cp_http_opts *o);
void cp_http_free(cp_http *h);

/* Limit host ("host" or "host:port", as in the URL) to rate requests per
 * second with bursts of burst.  rate <= 0 removes the limit. */
void cp_http_set_rate(cp_http *h, const char *host, double rate, double burst);
/* Keep the token buckets in this state file (shared by processes). */
void cp_http_set_rate_db(cp_http *h, sqlite3 *db);

cp_http_req *cp_http_req_new(const char *method, const char *url);
/* Add a header line "Name: value" (copied). */
void cp_http_req_header(cp_http_req *r, const char *line);
/* Set the request body (copied). */
void cp_http_req_body(cp_http_req *r, const void *data, size_t len);
void cp_http_req_free(cp_http_req *r);

/* Queue a request; started by cp_http_run. */
void cp_http_add(cp_http *h, cp_http_req *r);
/* Run until every queued request (and those added by callbacks) is
 * done.  Returns 0, or CP_EX_SOFTWARE when libcurl itself fails. */
int cp_http_run(cp_http *h);
/* One turn of the loop cp_http_run repeats, for a caller that keeps its
 * own schedule: start what may start, wait at most max_wait seconds for
 * activity, finish what completed (done callbacks run here).  Returns at
 * once when nothing is queued or running.  0 or CP_EX_SOFTWARE. */
int cp_http_step(cp_http *h, double max_wait);
/* Requests queued or running (0: cp_http_run would return at once). */
int cp_http_pending(const cp_http *h);
/* Run one request to its end (its done callback, if any, is called);
 * the request stays the caller's.  Returns 0 for a response of any
 * status, else -1 with r->error set. */
int cp_http_do(cp_http *h, cp_http_req *r);

/* The default classification: retry transport errors (connect, timeout),
 * 408, 425, 429, 500, 502, 503, 504; everything else is done. */
int cp_http_classify_default(const cp_http_req *r, void *arg);
/* Whether the request failed without a usable response and a retry
 * later might help (connect, timeout, 408/429/5xx). */
bool cp_http_temporary(const cp_http_req *r);

/* A response header of a request made with keep_headers: the value of
 * the last line named name (case-insensitive), trimmed; a new string,
 * or NULL when there is none. */
char *cp_http_resp_header(const cp_http_req *r, const char *name);
/* Retry-After value: delta-seconds or an HTTP-date, relative to now
 * (the server's Date when known, else the clock).  -1 when unparseable. */
double cp_http_parse_retry_after(const char *v, double now);
/* Whether a User-Agent names a way to reach its operator: an e-mail
 * address or an http(s) URL. */
bool cp_http_ua_has_contact(const char *ua);
/* URL helpers (resolution, host, redaction) are in fetchurl.h, which
 * does not need libcurl. */

#endif
