/*
 * crm.h — pushing outbox rows (outbox.h) into the CRMs, exactly once.
 *
 * Targets (cp-push(1) has their setup):
 *   hubspot     CRM v3 objects API: notes, tasks and deals created with
 *               an association to the account's company; the idempotency
 *               key in a custom property (hubspot.key_property), searched
 *               for before any resend that might duplicate
 *   salesforce  REST API: Task and Opportunity upserted by an external id
 *               field (salesforce.key_field), a Note created with the key
 *               in its title and found by SOQL before any resend
 *   webhook     POST of the card with Idempotency-Key and an HMAC-SHA256
 *               signature; the receiver deduplicates by key
 *   file        push records appended to a file (or standard output)
 *
 * The run (cp_crm_push): take the push lock, put rows left 'sending' by
 * an interrupted run back as uncertain, enqueue approved cards that lack
 * rows for an active target, then claim due rows in batches and drive
 * each through at most three steps, many at once over one curl multi
 * handle (http.h, push.concurrency transfers):
 *
 *   parent   the account's company / Account id, when not stored: found
 *            by domain and stored on the account (account.link)
 *   lookup   only for a row whose earlier request may have been applied
 *            (uncertain) and whose object cannot simply be sent again:
 *            found → done, absent → send
 *   send     create or upsert
 *
 * Failures: connection errors, timeouts, 408, 429 and 5xx are retried in
 * the run with exponential backoff and full jitter (push.backoff_base,
 * push.backoff_max; Retry-After and the CRMs' own signals win), at most
 * push.retries times, then the row waits in retry_wait; a wait longer
 * than push.max_wait parks it at once.  HubSpot's ten-secondly 429
 * pauses the whole target for the window; its DAILY 429 and Salesforce's
 * REQUEST_LIMIT_EXCEEDED hold the target (outbox.h) until the limit
 * resets; 401/403 stop the target for the run with one message (never
 * the token); other 4xx fail the row with the CRM's message.
 *
 * Outcomes are recorded in batches (a transaction every 64 outcomes or
 * 50 ms), each before its push record is written: a crash loses at most
 * the record of an outcome, never the outcome's effect, because the row
 * is still 'sending' and the next run looks its object up.
 *
 * Secrets: tokens come from the credentials file (cp_secret), are
 * registered for redaction, and are sent only in Authorization headers,
 * which http.h never logs.
 */
#ifndef CP_CRM_H
#define CP_CRM_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "outbox.h"
#include "rbac.h"

typedef struct cp_crm cp_crm;

/* One push record per outcome (borrowed; valid during the call). */
typedef void (*cp_crm_emit_fn)(const json_t *rec, void *arg);

typedef struct cp_crm_opts {
	const cp_user *me;        /* the caller (tenant) */
	const char *actor;        /* audit actor (cp_user_actor) */
	unsigned targets;         /* mask; 0: cp_outbox_active_targets() */
	int limit;                /* at most this many rows a run; 0: all */
	bool only;                /* only cards in temp.push_only(card_id) */
	bool wait_lock;           /* wait for another cp-push (else 75) */
	cp_crm_emit_fn emit;      /* may be NULL */
	void *emit_arg;
} cp_crm_opts;

typedef struct cp_crm_stats {
	int claimed, done, failed, waiting, released;
	int recovered, enqueued, looked_up, found, requests;
	unsigned stopped;         /* targets stopped or held in this run */
	double seconds;
} cp_crm_stats;

/*
 * A push session for the caller's tenant: reads the settings and
 * credentials of each target in o->targets.  A target whose settings or
 * credentials are missing is reported once and left out (the session is
 * still usable for the others; cp_crm_push's status says 78).  0 or an
 * exit code.
 */
int cp_crm_open(sqlite3 *db, const cp_crm_opts *o, cp_crm **out);
void cp_crm_close(cp_crm *c);
/* The targets the session can use (mask). */
unsigned cp_crm_targets(const cp_crm *c);

/*
 * The run described above.  Returns 0 when everything due is done, else
 * the exit status cp-push(1) documents: 78 a target's credentials were
 * missing or refused, 65 some action failed permanently, 75 some action
 * waits for another attempt or a held target (or another cp-push holds
 * the lock and wait_lock is false), or a database error's code.
 */
int cp_crm_push(cp_crm *c, cp_crm_stats *st);

/* ---- for cp-reconcile: one row or object at a time, synchronously ---- */

typedef enum {
	CP_CRM_FOUND,      /* the object is there: *remote_id */
	CP_CRM_ABSENT,     /* it is certainly not there */
	CP_CRM_UNKNOWN     /* cannot tell (webhook, standard output) */
} cp_crm_presence;

/*
 * Is the object of row in its CRM?  Looks it up by its idempotency key:
 * HubSpot search on the key property, Salesforce by external id (GET
 * sobjects/Type/Field/key) or SOQL for a Note, the file target by
 * reading the file.  *remote_id (when found) is new.  Transient failures
 * are retried like a run's (push.retries); then 75.  0 or an exit code
 * (78 credentials, 75 temporary, 65 a CRM error, kept in the message).
 */
int cp_crm_lookup(cp_crm *c, const cp_outbox_row *row,
    cp_crm_presence *presence, char **remote_id);

/*
 * Resolve one row stuck in 'sending' (or any uncertain one) by lookup,
 * as a run would before resending: found → done (remote id kept, card
 * pushed when it was the last; audited push.done), absent → queued and
 * certain (the next run sends it), unknown → queued and uncertain (the
 * next run resends with the same key).  Takes the push lock without
 * waiting: 75 and nothing changed when a cp-push holds it (a 'sending'
 * row is then in flight, not stuck).  *state (may be NULL) gets the
 * row's new state.  0 or an exit code.
 */
int cp_crm_resolve(cp_crm *c, int64_t row_id, char state[16]);

/*
 * The current state of a pushed object, for drift checks: *object gets
 * a new JSON object with the CRM's own field names and values (HubSpot:
 * the "properties" of GET crm/v3/objects/TYPE/ID; Salesforce: the record
 * of GET sobjects/Type/ID, or by external id when no id was returned)
 * plus "_id" and "_url"; or NULL with *gone = true when the CRM says it
 * no longer exists (deleted or merged).  Webhook and file objects cannot
 * be read back: CP_EX_UNAVAILABLE with a message.  0 or an exit code.
 */
int cp_crm_fetch(cp_crm *c, const cp_outbox_row *row, json_t **object,
    bool *gone);

/* ---- the adapter interface (lib/crm_*.c; not for callers) ------------ */
#ifdef CP_CRM_ADAPTER
#include "http.h"

/* What an item is doing. */
typedef enum {
	CP_STEP_PARENT,    /* find the account's company / Account id */
	CP_STEP_LOOKUP,    /* find the object by its key */
	CP_STEP_SEND,      /* create or upsert it */
	CP_STEP_FETCH      /* read it back (cp_crm_fetch) */
} cp_crm_step;

/* What an adapter makes of a response (or of a step it did locally). */
typedef enum {
	CP_V_DONE,         /* sent: id */
	CP_V_FOUND,        /* lookup: there, id */
	CP_V_ABSENT,       /* lookup: certainly not there */
	CP_V_UNKNOWN,      /* lookup: this target cannot tell */
	CP_V_PARENT,       /* parent: id */
	CP_V_OBJECT,       /* fetch: object */
	CP_V_GONE,         /* fetch: deleted */
	CP_V_RETRY,        /* temporary: try again (wait, ambiguous, pause) */
	CP_V_FAIL,         /* permanent for this row: msg */
	CP_V_STOP,         /* the target is unusable in this run: msg */
	CP_V_HOLD          /* the target is held for hold seconds: msg */
} cp_crm_vkind;

typedef struct cp_crm_verdict {
	cp_crm_vkind kind;
	char *id;          /* DONE, FOUND, PARENT (new string, may be NULL) */
	json_t *object;    /* OBJECT (new reference) */
	char msg[512];     /* RETRY, FAIL, STOP, HOLD: one line, lowercase */
	double wait;       /* RETRY: wait at least this long; < 0: backoff */
	bool ambiguous;    /* RETRY: the request may have been applied */
	bool pause;        /* RETRY: the whole target waits (rate window) */
	double hold;       /* HOLD: seconds */
} cp_crm_verdict;

typedef struct cp_crm_target cp_crm_target;

typedef struct cp_crm_item {
	cp_outbox_row row;
	cp_crm_step step;
	const char *parent;     /* CRM id of the account, for SEND */
	/* --- the engine's --- */
	cp_crm *crm;
	struct cp_crm_acct *acct;
	struct cp_crm_item *next;
	/* every claimed item, wherever it waits, so a run that stops early
	 * (a fatal error) frees them all */
	struct cp_crm_item *all_prev, *all_next;
	double not_before;
	int tries, fails;
	int heap_ix;
	cp_outcome outcome;
	char *remote_id, *error;
	time_t next_attempt;
	bool emitted;           /* its record already written (file on stdout) */
} cp_crm_item;

typedef struct cp_crm_adapter {
	cp_target id;
	bool needs_parent;      /* SEND needs the account's CRM id */
	/* read settings and credentials: 0, or 78 after one message */
	int (*setup)(cp_crm_target *t);
	void (*teardown)(cp_crm_target *t);
	/* an uncertain row must be looked up before it is sent again */
	bool (*must_look)(const cp_crm_target *t, const cp_outbox_row *row);
	/* the request for it->step, or NULL with *v decided (a local step,
	 * or a row that cannot be sent: FAIL) */
	cp_http_req *(*request)(cp_crm_target *t, cp_crm_item *it,
	    cp_crm_verdict *v);
	/* the verdict on the response r to it->step */
	void (*verdict)(cp_crm_target *t, cp_crm_item *it,
	    const cp_http_req *r, cp_crm_verdict *v);
} cp_crm_adapter;

struct cp_crm_target {
	const cp_crm_adapter *ad;
	cp_crm *crm;
	bool enabled, stopped;
	char *base;             /* base URL, without a trailing '/' */
	const char *token;      /* secret (borrowed from config.h) */
	double paused_until;    /* monotonic: a rate window */
	double lookup_delay;    /* seconds between a send and a lookup */
	bool limit_warned;
	void *priv;             /* the adapter's */
};

extern const cp_crm_adapter cp_crm_hubspot, cp_crm_salesforce,
    cp_crm_webhook, cp_crm_file;

/* Helpers for adapters (crm.c). */
cp_http_req *cp_crm_req(cp_crm_target *t, const char *method,
    const char *url, json_t *body);  /* steals body; auth when token */
json_t *cp_crm_resp_json(const cp_http_req *r);   /* NULL when not JSON */
/* The verdict every target shares: transport errors, 408, 429, 5xx,
 * 401, 403 (after the adapter's own 403 checks).  true when decided. */
bool cp_crm_common(cp_crm_target *t, const cp_crm_item *it,
    const cp_http_req *r, cp_crm_verdict *v, const char *detail);
void cp_crm_vset(cp_crm_verdict *v, cp_crm_vkind kind, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Settings of the target: "hubspot.stage.discovery" etc. */
const char *cp_crm_conf(const cp_crm_target *t, const char *key,
    const char *dflt);
const char *cp_crm_conf2(const cp_crm_target *t, const char *key,
    const char *sub, const char *dflt);
/* Limit the target's host to rate requests a second, bursts of burst. */
void cp_crm_rate(cp_crm_target *t, double rate, double burst);
/* The session's values adapters need. */
double cp_crm_close_days(const cp_crm_target *t);
/* A payload date plus days as "YYYY-MM-DD" (approved_at + close days). */
void cp_crm_date(const char *rfc3339, long days, char out[16]);
/* The emit callback, for the file target writing to standard output. */
void cp_crm_emit(cp_crm_target *t, const json_t *rec);
#endif /* CP_CRM_ADAPTER */

#endif
