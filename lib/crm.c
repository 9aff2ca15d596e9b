/*
 * crm.c — the push engine (crm.h): sessions, the run, the synchronous
 * look-ups for cp-reconcile, and what the adapters share.
 *
 * The run keeps its own schedule on top of http.h: items wait in a ready
 * queue (FIFO) or a timer heap (backoff, Retry-After, a paused target,
 * the HubSpot search delay) and at most push.concurrency of them are in
 * flight; cp_http_step() turns the wheel and calls on_done(), which asks
 * the target's adapter for a verdict and moves the item on.  Finished
 * items collect in a list that flush() records in one transaction.
 */
#define CP_CRM_ADAPTER
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "crm.h"
#include "db.h"
#include "exitcode.h"
#include "fetchurl.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

static const cp_crm_adapter *const adapters[CP_TGT_N] = {
	&cp_crm_hubspot, &cp_crm_salesforce, &cp_crm_webhook, &cp_crm_file
};

/* The account's CRM id per target, found once per run. */
enum { P_UNKNOWN, P_PENDING, P_OK, P_FAIL, P_WAIT };

struct parent {
	int state;
	char *id;
	char *err;              /* P_FAIL, P_WAIT */
	time_t next;            /* P_WAIT */
	bool store;             /* found by domain: store on the account */
	bool stored;
	cp_crm_item *waiters;
};

typedef struct cp_crm_acct {
	char *id;
	int64_t version;
	struct parent p[CP_TGT_N];
	struct cp_crm_acct *next;    /* hash chain */
	struct cp_crm_acct *link;    /* accounts with an id to store */
	bool linked;                 /* on that list */
} cp_crm_acct;

struct hold {
	cp_target target;
	time_t until;
	char *reason;
	struct hold *next;
};

struct cp_crm {
	sqlite3 *db;
	cp_crm_opts o;
	cp_http *http;
	cp_crm_target t[CP_TGT_N];
	unsigned mask;             /* usable targets */
	int config_rc;             /* 78 when a target could not be set up */
	/* settings */
	int concurrency, retries, max_attempts, batch;
	double backoff_base, backoff_max, max_wait, retry_max, close_days;
	/* the run */
	cp_crm_stats *st;
	cp_crm_item *ready, *ready_tail;
	cp_crm_item *all;              /* every claimed item (all_next) */
	cp_crm_item **heap;
	int nheap, capheap;
	cp_crm_item *finished, *finished_tail;
	int nfinished, inflight, live;
	cp_crm_acct *acct_tab[256];
	cp_crm_acct *links;
	struct hold *holds;
	int rc_config, rc_failed, rc_wait;
	uint64_t rng;
	double last_flush;
};

/* ---- small helpers ------------------------------------------------------- */

static double mono(void)
{
	return cp_monotonic();
}

static double uniform(cp_crm *c)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (double)((c->rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(n-1))]. */
static double backoff(cp_crm *c, int n, double base, double cap)
{
	double d = base * pow(2, n > 0 ? n - 1 : 0);

	return uniform(c) * (d < cap ? d : cap);
}

void cp_crm_vset(cp_crm_verdict *v, cp_crm_vkind kind, const char *fmt, ...)
{
	va_list ap;

	v->kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof v->msg, fmt, ap);
	va_end(ap);
	cp_log_redact(v->msg);
}

const char *cp_crm_conf(const cp_crm_target *t, const char *key,
    const char *dflt)
{
	char full[160];

	snprintf(full, sizeof full, "%s.%s", cp_target_name(t->ad->id), key);
	return cp_conf(full, NULL, dflt);
}

const char *cp_crm_conf2(const cp_crm_target *t, const char *key,
    const char *sub, const char *dflt)
{
	char full[256];

	snprintf(full, sizeof full, "%s.%s.%s", cp_target_name(t->ad->id),
	    key, sub ? sub : "");
	return sub && *sub ? cp_conf(full, NULL, dflt) : dflt;
}

void cp_crm_rate(cp_crm_target *t, double rate, double burst)
{
	char *host = cp_url_host(t->base);

	if (host)
		cp_http_set_rate(t->crm->http, host, rate, burst);
	free(host);
}

double cp_crm_close_days(const cp_crm_target *t)
{
	return t->crm->close_days;
}

void cp_crm_date(const char *rfc3339, long days, char out[16])
{
	time_t t;
	struct tm tm;

	if (!rfc3339 || !cp_time_parse(rfc3339, &t))
		t = cp_now();
	t += days * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

void cp_crm_emit(cp_crm_target *t, const json_t *rec)
{
	cp_crm *c = t->crm;

	if (c->o.emit)
		c->o.emit(rec, c->o.emit_arg);
}

cp_http_req *cp_crm_req(cp_crm_target *t, const char *method,
    const char *url, json_t *body)
{
	cp_http_req *r = cp_http_req_new(method, url);

	cp_http_req_header(r, "Accept: application/json");
	if (t->token) {
		/* the one place a token goes: a header, never logged */
		char *h = xasprintf("Authorization: Bearer %s", t->token);
		cp_http_req_header(r, h);
		memset(h, 0, strlen(h));
		free(h);
	}
	if (body) {
		char *text = cp_json_dumps(body, 0);
		cp_http_req_header(r, "Content-Type: application/json");
		cp_http_req_body(r, text, strlen(text));
		free(text);
		json_decref(body);
	}
	return r;
}

json_t *cp_crm_resp_json(const cp_http_req *r)
{
	char err[128];

	if (!r->resp.len)
		return NULL;
	return cp_json_parse(r->resp.buf, r->resp.len, err, sizeof err);
}

bool cp_crm_common(cp_crm_target *t, const cp_crm_item *it,
    const cp_http_req *r, cp_crm_verdict *v, const char *detail)
{
	const char *name = cp_target_name(t->ad->id);
	bool writes = it->step == CP_STEP_SEND;

	if (r->error_kind != CP_HTTP_OK) {
		bool temp = r->error_kind == CP_HTTP_ECONNECT ||
		    r->error_kind == CP_HTTP_ETIMEOUT;
		cp_crm_vset(v, temp ? CP_V_RETRY : CP_V_FAIL, "%s: %s", name,
		    r->error);
		v->wait = -1;
		/* the request may have reached the CRM before the line went
		 * quiet: only a lookup can tell */
		v->ambiguous = writes;
		if (!temp && r->error_kind != CP_HTTP_ETOOBIG)
			v->kind = CP_V_STOP;
		return true;
	}
	switch (r->status) {
	case 401:
		cp_crm_vset(v, CP_V_STOP, "%s: the credentials were refused "
		    "(HTTP 401%s%s); check %s in the credentials file", name,
		    detail ? ": " : "", detail ? detail : "",
		    t->ad->id == CP_TGT_SALESFORCE ? "salesforce.access_token" :
		    t->ad->id == CP_TGT_WEBHOOK ? "webhook.secret" :
		    "hubspot.token");
		return true;
	case 403:
		cp_crm_vset(v, CP_V_STOP, "%s: permission denied (HTTP 403%s%s);"
		    " the token needs the permissions listed in cp-push(1)",
		    name, detail ? ": " : "", detail ? detail : "");
		return true;
	case 408: case 425: case 429:
		cp_crm_vset(v, CP_V_RETRY, "%s: HTTP %ld%s%s", name, r->status,
		    detail ? ": " : "", detail ? detail : "");
		v->wait = r->retry_after;
		/* a 408 may come after the request was read */
		v->ambiguous = writes && r->status == 408;
		v->pause = r->status == 429;
		return true;
	}
	if (r->status >= 500) {
		cp_crm_vset(v, CP_V_RETRY, "%s: HTTP %ld%s%s", name, r->status,
		    detail ? ": " : "", detail ? detail : "");
		v->wait = r->retry_after;
		v->ambiguous = writes;
		return true;
	}
	return false;
}

/* ---- sessions ------------------------------------------------------------ */

static void read_settings(cp_crm *c)
{
	long s;

	c->concurrency = (int)cp_conf_long("push.concurrency", NULL, 8);
	if (c->concurrency < 1)
		c->concurrency = 1;
	c->retries = (int)cp_conf_long("push.retries", NULL, 3);
	if (c->retries < 0)
		c->retries = 0;
	c->max_attempts = (int)cp_conf_long("push.max_attempts", NULL, 20);
	/* small claims: every claimed row is 'sending', and after a crash
	 * each of those costs a lookup */
	c->batch = (int)cp_conf_long("push.batch", NULL, 64);
	if (c->batch < 1)
		c->batch = 1;
	c->backoff_base = cp_conf_double("push.backoff_base", NULL, 1);
	c->backoff_max = cp_conf_double("push.backoff_max", NULL, 30);
	c->max_wait = cp_conf_double("push.max_wait", NULL, 30);
	c->retry_max = 6 * 3600;
	if (cp_duration_parse(cp_conf("push.retry_max", NULL, "6h"), &s))
		c->retry_max = (double)s;
	c->close_days = cp_conf_double("push.close_days", NULL, 90);
}

static cp_http *make_http(cp_crm *c)
{
	cp_http_opts o;

	cp_http_opts_default(&o);
	o.user_agent = cp_conf("http.user_agent", NULL,
	    "ClientPulse/" CP_VERSION);
	o.concurrency = c->concurrency;
	o.host_concurrency = c->concurrency;
	o.connect_timeout = cp_conf_double("push.connect_timeout", NULL, 10);
	o.timeout = cp_conf_double("push.timeout", NULL, 30);
	o.stall_timeout = o.timeout;
	o.max_body = (size_t)4 << 20;
	/* the engine retries, knowing which requests may have applied */
	o.retries = 0;
	return cp_http_new(&o);
}

int cp_crm_open(sqlite3 *db, const cp_crm_opts *o, cp_crm **out)
{
	cp_crm *c = xcalloc(1, sizeof *c);
	unsigned want = o->targets ? o->targets : cp_outbox_active_targets(db);
	int i;

	c->db = db;
	c->o = *o;
	read_settings(c);
	c->http = make_http(c);
	c->rng = (uint64_t)cp_now_precise() * 1000003u ^
	    (uint64_t)getpid() << 17 ^ 0x9E3779B97F4A7C15ULL;
	for (i = 0; i < CP_TGT_N; i++) {
		cp_crm_target *t = &c->t[i];
		t->ad = adapters[i];
		t->crm = c;
		if (!(want & (1u << i)))
			continue;
		if (t->ad->setup(t)) {
			c->config_rc = CP_EX_CONFIG;
			continue;
		}
		t->enabled = true;
		c->mask |= 1u << i;
	}
	*out = c;
	return 0;
}

void cp_crm_close(cp_crm *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < CP_TGT_N; i++) {
		if (c->t[i].ad && c->t[i].ad->teardown)
			c->t[i].ad->teardown(&c->t[i]);
		free(c->t[i].base);
	}
	cp_http_free(c->http);
	free(c->heap);
	free(c);
}

unsigned cp_crm_targets(const cp_crm *c)
{
	return c->mask;
}

/* ---- items and accounts -------------------------------------------------- */

static void item_link(cp_crm *c, cp_crm_item *it)
{
	it->all_prev = NULL;
	it->all_next = c->all;
	if (c->all)
		c->all->all_prev = it;
	c->all = it;
}

static void item_free(cp_crm_item *it)
{
	if (it->all_prev)
		it->all_prev->all_next = it->all_next;
	else if (it->crm && it->crm->all == it)
		it->crm->all = it->all_next;
	if (it->all_next)
		it->all_next->all_prev = it->all_prev;
	cp_outbox_row_free(&it->row);
	free(it->remote_id);
	free(it->error);
	free(it);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static cp_crm_acct *acct_get(cp_crm *c, const cp_outbox_row *r)
{
	unsigned b = hash(r->account_id) & 255;
	cp_crm_acct *a;

	for (a = c->acct_tab[b]; a; a = a->next)
		if (!strcmp(a->id, r->account_id))
			return a;
	a = xcalloc(1, sizeof *a);
	a->id = xstrdup(r->account_id);
	a->version = r->acct_version;
	if (r->acct_hubspot_id) {
		a->p[CP_TGT_HUBSPOT].state = P_OK;
		a->p[CP_TGT_HUBSPOT].id = xstrdup(r->acct_hubspot_id);
	}
	if (r->acct_salesforce_id) {
		a->p[CP_TGT_SALESFORCE].state = P_OK;
		a->p[CP_TGT_SALESFORCE].id = xstrdup(r->acct_salesforce_id);
	}
	a->next = c->acct_tab[b];
	c->acct_tab[b] = a;
	return a;
}

static void accts_free(cp_crm *c)
{
	int b, i;

	for (b = 0; b < 256; b++) {
		cp_crm_acct *a = c->acct_tab[b], *n;
		for (; a; a = n) {
			n = a->next;
			for (i = 0; i < CP_TGT_N; i++) {
				free(a->p[i].id);
				free(a->p[i].err);
			}
			free(a->id);
			free(a);
		}
		c->acct_tab[b] = NULL;
	}
	c->links = NULL;
}

/* ---- the schedule -------------------------------------------------------- */

static void heap_swap(cp_crm *c, int i, int j)
{
	cp_crm_item *x = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = x;
	c->heap[i]->heap_ix = i;
	c->heap[j]->heap_ix = j;
}

static void heap_push(cp_crm *c, cp_crm_item *it)
{
	int i;

	if (c->nheap == c->capheap) {
		c->capheap = c->capheap ? c->capheap * 2 : 64;
		c->heap = xrealloc(c->heap, (size_t)c->capheap * sizeof *c->heap);
	}
	i = c->nheap++;
	c->heap[i] = it;
	it->heap_ix = i;
	while (i > 0 && c->heap[(i - 1) / 2]->not_before > c->heap[i]->not_before) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static cp_crm_item *heap_pop(cp_crm *c)
{
	cp_crm_item *top = c->heap[0];
	int i = 0;

	c->heap[0] = c->heap[--c->nheap];
	c->heap[0]->heap_ix = 0;
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->nheap && c->heap[l]->not_before < c->heap[m]->not_before)
			m = l;
		if (r < c->nheap && c->heap[r]->not_before < c->heap[m]->not_before)
			m = r;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
	return top;
}

static void ready_push(cp_crm *c, cp_crm_item *it)
{
	it->next = NULL;
	if (c->ready_tail)
		c->ready_tail->next = it;
	else
		c->ready = it;
	c->ready_tail = it;
}

static cp_crm_item *ready_pop(cp_crm *c)
{
	cp_crm_item *it = c->ready;

	if (it) {
		c->ready = it->next;
		if (!c->ready)
			c->ready_tail = NULL;
		it->next = NULL;
	}
	return it;
}

static void schedule(cp_crm *c, cp_crm_item *it, double delay)
{
	if (delay <= 0) {
		ready_push(c, it);
		return;
	}
	it->not_before = mono() + delay;
	heap_push(c, it);
}

/* ---- outcomes ------------------------------------------------------------ */

static void finish(cp_crm *c, cp_crm_item *it, cp_outcome o,
    const char *remote_id, const char *error, time_t next)
{
	it->outcome = o;
	free(it->remote_id);
	free(it->error);
	it->remote_id = remote_id ? xstrdup(remote_id) : NULL;
	it->error = error ? xstrdup(error) : NULL;
	if (it->error)
		cp_log_redact(it->error);
	it->next_attempt = next;
	it->next = NULL;
	if (c->finished_tail)
		c->finished_tail->next = it;
	else
		c->finished = it;
	c->finished_tail = it;
	c->nfinished++;
	c->live--;
	switch (o) {
	case CP_OUTCOME_DONE: c->st->done++; break;
	case CP_OUTCOME_FAILED:
		c->st->failed++;
		c->rc_failed = CP_EX_DATAERR;
		cp_warn("%s: %s %s of %s failed: %s", it->row.key,
		    cp_target_name(it->row.target),
		    cp_push_action_name(it->row.action), it->row.card_id,
		    it->error ? it->error : "?");
		break;
	case CP_OUTCOME_RETRY:
		c->st->waiting++;
		c->rc_wait = CP_EX_TEMPFAIL;
		cp_info("%s: %s %s of %s waits: %s", it->row.key,
		    cp_target_name(it->row.target),
		    cp_push_action_name(it->row.action), it->row.card_id,
		    it->error ? it->error : "?");
		break;
	case CP_OUTCOME_RELEASE: c->st->released++; break;
	}
}

/* The time a parked row is due again: the server's ask or the backoff
 * for its total attempts, whichever is later. */
static time_t park_time(cp_crm *c, const cp_crm_item *it, double wait)
{
	int n = it->row.attempts + it->tries;
	double b = backoff(c, n + 1, c->backoff_base * 8, c->retry_max);

	if (wait > b)
		b = wait;
	if (b < 1)
		b = 1;
	return cp_now() + (time_t)ceil(b);
}

static void advance(cp_crm *c, cp_crm_item *it);

static void wake_waiters(cp_crm *c, struct parent *p)
{
	cp_crm_item *w = p->waiters, *n;

	p->waiters = NULL;
	for (; w; w = n) {
		n = w->next;
		w->next = NULL;
		advance(c, w);
	}
}

static void stop_target(cp_crm *c, cp_crm_target *t, const cp_crm_verdict *v)
{
	if (t->stopped)
		return;
	t->stopped = true;
	c->st->stopped |= 1u << t->ad->id;
	if (v->kind == CP_V_HOLD) {
		struct hold *h = xcalloc(1, sizeof *h);
		h->target = t->ad->id;
		h->until = cp_now() + (time_t)ceil(v->hold);
		h->reason = xstrdup(v->msg);
		h->next = c->holds;
		c->holds = h;
		cp_err("%s; %s held until the limit resets", v->msg,
		    cp_target_name(t->ad->id));
		c->rc_wait = CP_EX_TEMPFAIL;
	} else {
		cp_err("%s; %s stopped for this run", v->msg,
		    cp_target_name(t->ad->id));
		c->rc_config = CP_EX_CONFIG;
	}
}

/* Whether an uncertain row of t must be looked up before it is sent. */
static bool needs_lookup(const cp_crm_target *t, const cp_crm_item *it)
{
	return it->row.uncertain && t->ad->must_look(t, &it->row);
}

/* Delay before a lookup: a CRM whose search index lags (HubSpot) must
 * have had time to index what the last request may have created. */
static double lookup_wait(const cp_crm_target *t, const cp_crm_item *it)
{
	double since = cp_now_precise() - (double)it->row.sent_at;

	return it->row.sent_at && since < t->lookup_delay ?
	    t->lookup_delay - since : 0;
}

static void retry(cp_crm *c, cp_crm_item *it, cp_crm_verdict *v)
{
	cp_crm_target *t = &c->t[it->row.target];
	struct parent *p = it->acct ? &it->acct->p[it->row.target] : NULL;
	double delay;

	it->fails++;
	if (v->ambiguous)
		it->row.uncertain = true;
	delay = v->wait >= 0 ? v->wait :
	    backoff(c, it->fails, c->backoff_base, c->backoff_max);
	if (v->pause && mono() + delay > t->paused_until)
		t->paused_until = mono() + delay;
	if (it->row.attempts + it->tries >= c->max_attempts) {
		char *msg = xasprintf("gave up after %d attempts: %s",
		    it->row.attempts + it->tries, v->msg);
		if (it->step == CP_STEP_PARENT && p) {
			p->state = P_FAIL;
			p->err = xstrdup(msg);
		}
		finish(c, it, CP_OUTCOME_FAILED, NULL, msg, 0);
		free(msg);
		if (p && p->state == P_FAIL)
			wake_waiters(c, p);
		return;
	}
	if (it->fails > c->retries || delay > c->max_wait) {
		time_t next = park_time(c, it, delay);
		if (it->step == CP_STEP_PARENT && p) {
			p->state = P_WAIT;
			p->err = xstrdup(v->msg);
			p->next = next;
		}
		finish(c, it, CP_OUTCOME_RETRY, NULL, v->msg, next);
		if (p && p->state == P_WAIT)
			wake_waiters(c, p);
		return;
	}
	if (it->step != CP_STEP_PARENT) {
		it->step = needs_lookup(t, it) ? CP_STEP_LOOKUP : CP_STEP_SEND;
		if (it->step == CP_STEP_LOOKUP && delay < t->lookup_delay)
			delay = t->lookup_delay;
	}
	cp_info("%s: %s; %s in %.2fs", it->row.key, v->msg,
	    it->step == CP_STEP_LOOKUP ? "looking it up" : "trying again", delay);
	schedule(c, it, delay);
}

static void verdict(cp_crm *c, cp_crm_item *it, cp_crm_verdict *v)
{
	cp_crm_target *t = &c->t[it->row.target];
	struct parent *p = it->acct ? &it->acct->p[it->row.target] : NULL;

	switch (v->kind) {
	case CP_V_PARENT:
		p->state = P_OK;
		free(p->id);
		p->id = v->id;
		v->id = NULL;
		p->store = true;
		if (!it->acct->linked) {
			it->acct->linked = true;
			it->acct->link = c->links;
			c->links = it->acct;
		}
		advance(c, it);
		wake_waiters(c, p);
		break;
	case CP_V_FOUND:
		c->st->found++;
		/* fall through */
	case CP_V_DONE:
		finish(c, it, CP_OUTCOME_DONE, v->id, NULL, 0);
		break;
	case CP_V_ABSENT:
		it->row.uncertain = false;
		it->step = CP_STEP_SEND;
		schedule(c, it, 0);
		break;
	case CP_V_FAIL:
		if (it->step == CP_STEP_PARENT && p) {
			p->state = P_FAIL;
			p->err = xstrdup(v->msg);
		}
		finish(c, it, CP_OUTCOME_FAILED, NULL, v->msg, 0);
		if (p && p->state == P_FAIL)
			wake_waiters(c, p);
		break;
	case CP_V_RETRY:
		retry(c, it, v);
		break;
	case CP_V_STOP:
	case CP_V_HOLD:
		stop_target(c, t, v);
		if (it->step == CP_STEP_PARENT && p)
			p->state = P_UNKNOWN;
		finish(c, it, CP_OUTCOME_RELEASE, NULL, NULL, 0);
		if (p)
			wake_waiters(c, p);
		break;
	default:
		finish(c, it, CP_OUTCOME_FAILED, NULL, "unexpected verdict", 0);
		break;
	}
	free(v->id);
	v->id = NULL;
	json_decref(v->object);
	v->object = NULL;
}

/* Decide the item's next step from what is known. */
static void advance(cp_crm *c, cp_crm_item *it)
{
	cp_crm_target *t = &c->t[it->row.target];

	if (t->stopped) {
		finish(c, it, CP_OUTCOME_RELEASE, NULL, NULL, 0);
		return;
	}
	if (t->ad->needs_parent) {
		struct parent *p = &it->acct->p[it->row.target];
		switch (p->state) {
		case P_OK:
			it->parent = p->id;
			break;
		case P_FAIL:
			finish(c, it, CP_OUTCOME_FAILED, NULL, p->err, 0);
			return;
		case P_WAIT:
			finish(c, it, CP_OUTCOME_RETRY, NULL, p->err, p->next);
			return;
		case P_PENDING:
			it->next = p->waiters;
			p->waiters = it;
			return;
		default:
			p->state = P_PENDING;
			it->step = CP_STEP_PARENT;
			schedule(c, it, 0);
			return;
		}
	}
	if (needs_lookup(t, it)) {
		it->step = CP_STEP_LOOKUP;
		schedule(c, it, lookup_wait(t, it));
	} else {
		it->step = CP_STEP_SEND;
		schedule(c, it, 0);
	}
}

/* ---- the run ------------------------------------------------------------- */

static void on_done(cp_http *h, cp_http_req *r, void *arg)
{
	cp_crm_item *it = arg;
	cp_crm *c = it->crm;
	cp_crm_target *t = &c->t[it->row.target];
	cp_crm_verdict v;

	(void)h;
	c->inflight--;
	memset(&v, 0, sizeof v);
	v.wait = -1;
	t->ad->verdict(t, it, r, &v);
	if (v.kind == CP_V_UNKNOWN) {
		/* nothing to look at: the key travels with the resend */
		v.kind = CP_V_ABSENT;
		it->row.uncertain = true;
	}
	verdict(c, it, &v);
}

static void dispatch(cp_crm *c, cp_crm_item *it)
{
	cp_crm_target *t = &c->t[it->row.target];
	cp_crm_verdict v;
	cp_http_req *r;
	double now = mono();

	if (t->stopped) {
		finish(c, it, CP_OUTCOME_RELEASE, NULL, NULL, 0);
		return;
	}
	if (now < t->paused_until) {
		if (t->paused_until - now > c->max_wait) {
			finish(c, it, CP_OUTCOME_RETRY, NULL, "rate limit window",
			    cp_now() + (time_t)ceil(t->paused_until - now));
			return;
		}
		it->not_before = t->paused_until;
		heap_push(c, it);
		return;
	}
	memset(&v, 0, sizeof v);
	v.wait = -1;
	it->tries++;
	if (it->step == CP_STEP_LOOKUP)
		c->st->looked_up++;
	if (!(r = t->ad->request(t, it, &v))) {
		if (v.kind == CP_V_UNKNOWN) {
			v.kind = CP_V_ABSENT;
			it->row.uncertain = true;
		}
		verdict(c, it, &v);
		return;
	}
	r->done = on_done;
	r->arg = it;
	c->st->requests++;
	c->inflight++;
	cp_http_add(c->http, r);
}

static json_t *result_record(const cp_crm_item *it)
{
	static const char *const states[] = { "done", "retry_wait", "failed",
	    "queued" };
	json_t *o = json_object();
	char ts[CP_TIME_MAX];

	cp_json_set_str(o, "type", "push");
	json_object_set_new(o, "v", json_integer(1));
	cp_json_set_str(o, "card_id", it->row.card_id);
	cp_json_set_str(o, "target", cp_target_name(it->row.target));
	cp_json_set_str(o, "action", cp_push_action_name(it->row.action));
	cp_json_set_str(o, "state", states[it->outcome]);
	json_object_set_new(o, "remote_id", it->remote_id ?
	    json_string(it->remote_id) : json_null());
	json_object_set_new(o, "attempts",
	    json_integer(it->row.attempts + it->tries));
	json_object_set_new(o, "error", it->error ? json_string(it->error) :
	    json_null());
	cp_json_set_str(o, "key", it->row.key);
	cp_json_set_str(o, "account_id", it->row.account_id);
	if (it->outcome == CP_OUTCOME_RETRY)
		cp_json_set_str(o, "next_attempt_at",
		    cp_time_format(it->next_attempt, ts));
	cp_json_set_str(o, "at", cp_time_format(cp_now(), ts));
	return o;
}

/* Record the finished items, the accounts' new CRM ids and the holds in
 * one transaction, then write their records. */
static int flush(cp_crm *c)
{
	cp_crm_item *it, *n;
	cp_crm_acct *a;
	struct hold *h, *hn;
	int rc, i;

	c->last_flush = mono();
	if (!c->finished && !c->links && !c->holds)
		return 0;
	if ((rc = cp_db_begin(c->db)))
		return rc;
	for (it = c->finished; it && !rc; it = it->next) {
		cp_outbox_result res = { it->outcome, it->remote_id, it->error,
		    it->row.uncertain, it->tries, it->next_attempt };
		bool lost, pushed;
		rc = cp_outbox_record(c->db, &it->row, &res, c->o.actor, &lost,
		    &pushed);
		if (lost)
			it->emitted = true;
	}
	for (a = c->links; a && !rc; a = a->link) {
		a->linked = false;
		for (i = 0; i < CP_TGT_N && !rc; i++)
			if (a->p[i].store && !a->p[i].stored && a->p[i].id) {
				rc = cp_outbox_link_account(c->db,
				    c->o.me->tenant_id, a->id, &a->version,
				    (cp_target)i, a->p[i].id, c->o.actor);
				a->p[i].stored = true;
			}
	}
	for (h = c->holds; h && !rc; h = h->next)
		rc = cp_outbox_hold(c->db, c->o.me->tenant_id, h->target,
		    h->until, h->reason, c->o.actor);
	if (!rc)
		rc = cp_db_commit(c->db);
	else
		cp_db_rollback(c->db);
	for (it = c->finished; it; it = n) {
		n = it->next;
		if (!rc && !it->emitted && it->outcome != CP_OUTCOME_RELEASE &&
		    c->o.emit) {
			json_t *rec = result_record(it);
			c->o.emit(rec, c->o.emit_arg);
			json_decref(rec);
		}
		item_free(it);
	}
	c->finished = c->finished_tail = NULL;
	c->nfinished = 0;
	c->links = NULL;
	for (h = c->holds; h; h = hn) {
		hn = h->next;
		free(h->reason);
		free(h);
	}
	c->holds = NULL;
	return rc;
}

static unsigned live_mask(const cp_crm *c)
{
	unsigned m = 0;
	int i;

	for (i = 0; i < CP_TGT_N; i++)
		if (c->t[i].enabled && !c->t[i].stopped)
			m |= 1u << i;
	return m;
}

static int claim(cp_crm *c, int64_t *cursor, bool *more)
{
	cp_outbox_row *rows;
	int max = c->batch, n, rc, i;

	if (c->o.limit > 0 && c->o.limit - c->st->claimed < max)
		max = c->o.limit - c->st->claimed;
	if (max <= 0 || !live_mask(c)) {
		*more = false;
		return 0;
	}
	rc = cp_outbox_claim(c->db, c->o.me->tenant_id, live_mask(c), c->o.only,
	    cursor, max, &rows, &n);
	if (rc)
		return rc;
	*more = n == max && (c->o.limit <= 0 || c->st->claimed + n < c->o.limit);
	for (i = 0; i < n; i++) {
		cp_crm_item *it = xcalloc(1, sizeof *it);
		it->row = rows[i];
		it->crm = c;
		item_link(c, it);
		it->acct = acct_get(c, &it->row);
		c->live++;
		c->st->claimed++;
		advance(c, it);
	}
	free(rows);
	return 0;
}

static void nap(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int turn_wheel(cp_crm *c)
{
	int64_t cursor = 0;
	bool more = true;
	int rc = 0;

	for (;;) {
		double now = mono(), w;
		cp_crm_item *it;

		while (c->nheap && c->heap[0]->not_before <= now)
			ready_push(c, heap_pop(c));
		while (c->inflight < c->concurrency && (it = ready_pop(c)))
			dispatch(c, it);
		if (c->nfinished >= 64 ||
		    (c->nfinished && now - c->last_flush > 0.05))
			if ((rc = flush(c)))
				break;
		if (more && c->live < c->concurrency * 2) {
			if ((rc = flush(c)) || (rc = claim(c, &cursor, &more)))
				break;
			continue;
		}
		if (!c->inflight && !c->ready) {
			if (!c->nheap)
				break;
			if ((w = c->heap[0]->not_before - now) > 0) {
				if ((rc = flush(c)))
					break;
				nap(w < 0.5 ? w : 0.5);
			}
			continue;
		}
		w = c->nheap ? c->heap[0]->not_before - now : 0.05;
		if ((rc = cp_http_step(c->http, w < 0 ? 0 : w > 0.05 ? 0.05 : w)))
			break;
	}
	if (!rc)
		rc = flush(c);
	return rc;
}

/* Rows a killed run left 'sending', and approved cards without rows for
 * a target (approved before it was configured): one transaction. */
static int prepare(cp_crm *c)
{
	int rc, cards, rows;

	if ((rc = cp_db_begin(c->db)))
		return rc;
	rc = cp_outbox_recover(c->db, c->o.me->tenant_id, c->o.actor,
	    &c->st->recovered);
	if (!rc && c->mask)
		rc = cp_outbox_backfill(c->db, c->o.me->tenant_id, c->o.actor,
		    c->mask, &cards, &rows);
	if (rc) {
		cp_db_rollback(c->db);
		return rc;
	}
	if ((rc = cp_db_commit(c->db)))
		return rc;
	if (c->st->recovered)
		cp_warn("%d action%s left sending by an interrupted run: looked "
		    "up before sending again", c->st->recovered,
		    c->st->recovered == 1 ? "" : "s");
	if (c->mask && rows)
		cp_info("enqueued %d action%s of %d approved card%s", rows,
		    rows == 1 ? "" : "s", cards, cards == 1 ? "" : "s");
	c->st->enqueued = c->mask ? rows : 0;
	return 0;
}

/* The targets this run sends to are the ones approvals should enqueue
 * for, whoever approves: keep them in the state file. */
static void remember_targets(cp_crm *c)
{
	const char *conf = cp_conf("push.targets", NULL, NULL);
	char *stored;

	if (c->o.targets || !conf)
		return;
	stored = cp_db_setting(c->db, "push.targets");
	if (!stored || strcmp(stored, conf))
		cp_db_set_setting(c->db, "push.targets", conf);
	free(stored);
}

static void check_holds(cp_crm *c)
{
	int i;

	for (i = 0; i < CP_TGT_N; i++) {
		time_t until;
		char *reason = NULL, ts[CP_TIME_MAX];

		if (!c->t[i].enabled ||
		    !cp_outbox_held(c->db, c->o.me->tenant_id, (cp_target)i,
		    &until, &reason))
			continue;
		c->t[i].stopped = true;
		cp_warn("%s held until %s: %s", cp_target_name((cp_target)i),
		    cp_time_format(until, ts), reason);
		free(reason);
	}
}

int cp_crm_push(cp_crm *c, cp_crm_stats *st)
{
	double t0 = mono();
	int lock, rc;

	memset(st, 0, sizeof *st);
	c->st = st;
	c->rc_config = c->config_rc;
	lock = cp_outbox_lock(c->db, c->o.wait_lock);
	if (lock == -1) {
		cp_err("another cp-push is running on this state file");
		return CP_EX_TEMPFAIL;
	}
	if (lock < 0)
		return CP_EX_IOERR;
	remember_targets(c);
	check_holds(c);
	rc = prepare(c);
	if (!rc)
		rc = turn_wheel(c);
	/* a run stopped by an error leaves items queued, waiting or in
	 * flight: their rows stay claimed in the state file (cp-reconcile
	 * and the next run resolve them), their memory goes now */
	while (c->all)
		item_free(c->all);
	c->ready = c->ready_tail = c->finished = c->finished_tail = NULL;
	c->nheap = c->nfinished = c->inflight = c->live = 0;
	close(lock);
	accts_free(c);
	st->seconds = mono() - t0;
	if (rc)
		return rc;
	if (c->rc_config)
		return c->rc_config;
	if (c->rc_failed)
		return c->rc_failed;
	return c->rc_wait;
}

/* ---- one row at a time (cp-reconcile) ------------------------------------ */

static int sync_step(cp_crm *c, cp_crm_item *it, cp_crm_verdict *v)
{
	cp_crm_target *t = &c->t[it->row.target];
	int fails = 0;

	for (;;) {
		cp_http_req *r;
		double d;

		json_decref(v->object);
		free(v->id);
		memset(v, 0, sizeof *v);
		v->wait = -1;
		if (!(r = t->ad->request(t, it, v)))
			return 0;
		cp_http_do(c->http, r);
		t->ad->verdict(t, it, r, v);
		cp_http_req_free(r);
		if (v->kind != CP_V_RETRY || ++fails > c->retries)
			return 0;
		d = v->wait >= 0 ? v->wait :
		    backoff(c, fails, c->backoff_base, c->backoff_max);
		if (d > c->max_wait)
			return 0;
		nap(d);
	}
}

static int sync_status(const cp_crm_verdict *v)
{
	switch (v->kind) {
	case CP_V_RETRY: cp_err("%s", v->msg); return CP_EX_TEMPFAIL;
	case CP_V_HOLD: cp_err("%s", v->msg); return CP_EX_TEMPFAIL;
	case CP_V_STOP: cp_err("%s", v->msg); return CP_EX_CONFIG;
	case CP_V_FAIL: cp_err("%s", v->msg); return CP_EX_DATAERR;
	default: return 0;
	}
}

static int sync_target(cp_crm *c, const cp_outbox_row *row)
{
	if ((unsigned)row->target >= CP_TGT_N || !c->t[row->target].enabled) {
		cp_err("%s: target %s is not configured", row->key,
		    cp_target_name(row->target));
		return CP_EX_CONFIG;
	}
	return 0;
}

int cp_crm_lookup(cp_crm *c, const cp_outbox_row *row,
    cp_crm_presence *presence, char **remote_id)
{
	cp_crm_item it;
	cp_crm_verdict v;
	int rc;

	*remote_id = NULL;
	*presence = CP_CRM_UNKNOWN;
	if ((rc = sync_target(c, row)))
		return rc;
	memset(&it, 0, sizeof it);
	memset(&v, 0, sizeof v);
	it.row = *row;          /* borrowed: never freed here */
	it.crm = c;
	it.step = CP_STEP_LOOKUP;
	rc = sync_step(c, &it, &v);
	if (!rc)
		rc = sync_status(&v);
	if (!rc) {
		if (v.kind == CP_V_FOUND || v.kind == CP_V_DONE) {
			*presence = CP_CRM_FOUND;
			*remote_id = v.id;
			v.id = NULL;
		} else if (v.kind == CP_V_ABSENT) {
			*presence = CP_CRM_ABSENT;
		}
	}
	free(v.id);
	json_decref(v.object);
	return rc;
}

int cp_crm_fetch(cp_crm *c, const cp_outbox_row *row, json_t **object,
    bool *gone)
{
	cp_crm_item it;
	cp_crm_verdict v;
	int rc;

	*object = NULL;
	*gone = false;
	if ((rc = sync_target(c, row)))
		return rc;
	memset(&it, 0, sizeof it);
	memset(&v, 0, sizeof v);
	it.row = *row;
	it.crm = c;
	it.step = CP_STEP_FETCH;
	rc = sync_step(c, &it, &v);
	if (!rc)
		rc = sync_status(&v);
	if (!rc) {
		if (v.kind == CP_V_OBJECT) {
			*object = v.object;
			v.object = NULL;
		} else if (v.kind == CP_V_GONE) {
			*gone = true;
		} else {
			cp_err("%s: %s objects cannot be read back", row->key,
			    cp_target_name(row->target));
			rc = CP_EX_UNAVAILABLE;
		}
	}
	free(v.id);
	json_decref(v.object);
	return rc;
}

int cp_crm_resolve(cp_crm *c, int64_t row_id, char state[16])
{
	cp_outbox_row row;
	cp_crm_presence pr;
	char *remote = NULL;
	int lock, rc;
	bool lost, pushed;

	lock = cp_outbox_lock(c->db, false);
	if (lock == -1) {
		cp_err("a cp-push is running: its sending actions are in "
		    "flight, not stuck");
		return CP_EX_TEMPFAIL;
	}
	if (lock < 0)
		return CP_EX_IOERR;
	rc = cp_outbox_get_id(c->db, row_id, &row);
	if (rc == 1 || (!rc && row.tenant_id != c->o.me->tenant_id)) {
		char what[32];
		if (!rc)
			cp_outbox_row_free(&row);
		close(lock);
		snprintf(what, sizeof what, "push %lld", (long long)row_id);
		return cp_rbac_deny(what);
	}
	if (rc) {
		close(lock);
		return rc;
	}
	if (strcmp(row.state, "sending") && !row.uncertain) {
		if (state)
			snprintf(state, 16, "%s", row.state);
		goto out;
	}
	if ((rc = cp_crm_lookup(c, &row, &pr, &remote)))
		goto out;
	if ((rc = cp_db_begin(c->db)))
		goto out;
	{
		cp_outbox_result res = { pr == CP_CRM_FOUND ? CP_OUTCOME_DONE :
		    CP_OUTCOME_RELEASE, remote, NULL, pr == CP_CRM_UNKNOWN, 1, 0 };
		rc = cp_outbox_record(c->db, &row, &res, c->o.actor, &lost,
		    &pushed);
		if (!rc && !lost && pr != CP_CRM_FOUND) {
			json_t *ov = json_pack("{s:s,s:b}", "state", row.state,
			    "uncertain", row.uncertain);
			json_t *nv = json_pack("{s:s,s:b}", "state", "queued",
			    "uncertain", pr == CP_CRM_UNKNOWN);
			rc = cp_audit(c->db, row.tenant_id, c->o.actor,
			    "push.resolve", "push", row.key, ov, nv,
			    pr == CP_CRM_ABSENT ? "not in the CRM: sent by the "
			    "next run" : "cannot be looked up: resent with its "
			    "key by the next run");
			json_decref(ov);
			json_decref(nv);
		}
		if (state)
			snprintf(state, 16, "%s", lost ? row.state :
			    pr == CP_CRM_FOUND ? "done" : "queued");
	}
	if (rc)
		cp_db_rollback(c->db);
	else
		rc = cp_db_commit(c->db);
out:
	free(remote);
	cp_outbox_row_free(&row);
	close(lock);
	return rc;
}
