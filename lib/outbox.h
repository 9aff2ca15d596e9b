/*
 * outbox.h — the push outbox in the state file: enqueueing approved
 * cards' CRM actions, claiming them, recording what became of them.
 * No network here (that is crm.h), so cp-inbox, whose approvals enqueue,
 * never links libcurl.
 *
 * One row per (card, target, action), table push_outbox
 * (lib/data/schema/60-push.sql, cp-push(1)).  States:
 *
 *   queued ──claim──▶ sending ──▶ done                (remote_id kept)
 *     ▲                  │  ├──▶ retry_wait ──(due)──▶ claimed again
 *     │                  │  └──▶ failed               (the CRM's error)
 *     └──── release ─────┘        │
 *     └──── cp-push --retry ──────┘
 *
 * The idempotency key ("cpk_" + SHA-256 of card id, target and action)
 * is what makes a retry safe: it travels with the object (HubSpot custom
 * property, Salesforce external id field, webhook Idempotency-Key), so a
 * row whose request may have been applied is looked up by key before it
 * is sent again.  Such a row is marked uncertain; so is every row found
 * 'sending' while no cp-push holds the push lock (cp_outbox_recover).
 *
 * Functions returning int return 0 or an exit code (exitcode.h) after
 * reporting; those documented "inside a write transaction" need the
 * caller's cp_db_begin().  Every state change that matters is audited
 * (push.enqueue, push.done, push.retry_wait, push.failed, push.requeue,
 * push.recover, push.hold, card.pushed, account.link) in the same
 * transaction.
 */
#ifndef CP_OUTBOX_H
#define CP_OUTBOX_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "id.h"
#include "rbac.h"

typedef enum {
	CP_TGT_HUBSPOT, CP_TGT_SALESFORCE, CP_TGT_WEBHOOK, CP_TGT_FILE,
	CP_TGT_N
} cp_target;

typedef enum {
	CP_PUSH_NOTE, CP_PUSH_TASK, CP_PUSH_OPPORTUNITY, CP_PUSH_CARD,
	CP_PUSH_N
} cp_push_action;

/* "hubspot", "salesforce", "webhook", "file" */
const char *cp_target_name(cp_target t);
bool cp_target_parse(const char *s, cp_target *out);
/* "note", "task", "opportunity", "card" */
const char *cp_push_action_name(cp_push_action a);
bool cp_push_action_parse(const char *s, cp_push_action *out);

/* The idempotency key of one action: "cpk_" + 32 hex digits. */
void cp_outbox_key(char out[CP_ID_MAX], const char *card_id,
    cp_target target, cp_push_action action);

/*
 * A target list ("hubspot,salesforce,file"; spaces allowed) as a bit
 * mask (1 << cp_target).  false with the reason in err for an unknown
 * name.
 */
bool cp_outbox_parse_targets(const char *list, unsigned *mask, char *err,
    size_t errlen);
/*
 * The active targets: push.targets from the configuration (or
 * $CLIENTPULSE_PUSH_TARGETS), else the list the last cp-push run recorded
 * in the state file (setting "push.targets"), so an approval made from
 * an account manager's own configuration enqueues what the push service
 * will send.  Unknown names are warned about and skipped.
 */
unsigned cp_outbox_active_targets(sqlite3 *db);

/*
 * Enqueue the actions of an approved card (borrowed record: its "crm"
 * list, and a "card" action for the webhook) for each target in mask.
 * Inside a write transaction.  Rows that exist already are left alone,
 * so enqueueing twice adds nothing.  *added (may be NULL) gets the
 * number of new rows.
 */
int cp_outbox_enqueue(sqlite3 *db, int64_t tenant_id, const char *actor,
    const json_t *card, unsigned mask, int *added);
/* The approval hook's body (review.h): enqueue for the active targets. */
int cp_outbox_on_approve(sqlite3 *db, const cp_user *u, const char *actor,
    const json_t *card);
/*
 * Enqueue every approved card of the tenant that lacks rows for a
 * target in mask (cards approved before a target was configured).
 * Inside a write transaction.
 */
int cp_outbox_backfill(sqlite3 *db, int64_t tenant_id, const char *actor,
    unsigned mask, int *cards, int *rows);

/* One outbox row, with what pushing it needs to know of its account. */
typedef struct cp_outbox_row {
	int64_t id, tenant_id, version;
	char key[CP_ID_MAX];
	cp_target target;
	cp_push_action action;
	char *card_id, *account_id;
	json_t *payload;              /* owned */
	char state[16];
	bool uncertain;
	int attempts;
	time_t next_attempt_at;       /* 0 when none */
	time_t sent_at;               /* 0 when never claimed */
	char *remote_id, *error;      /* NULL when none */
	char *created_at, *updated_at;
	/* the account, as it was when the row was read */
	int64_t acct_version;
	char *acct_name, *acct_domain, *acct_hubspot_id, *acct_salesforce_id;
	char *owner;                  /* the account owner's login, or NULL */
} cp_outbox_row;

void cp_outbox_row_free(cp_outbox_row *r);
/* The row as a push record (clientpulse-records(5)) plus id, key,
 * next_attempt_at and updated_at; new reference. */
json_t *cp_outbox_row_json(const cp_outbox_row *r);

/*
 * One row of the tenant by id (decimal) or key.  Returns 0, 1 when there
 * is none (nothing reported), or an exit code.
 */
int cp_outbox_get(sqlite3 *db, int64_t tenant_id, const char *id_or_key,
    cp_outbox_row *out);
int cp_outbox_get_id(sqlite3 *db, int64_t row_id, cp_outbox_row *out);

/*
 * Call fn for each row of the tenant, oldest first: in state (NULL: any),
 * and with scoped, only those of accounts in temp.scope (rbac.h).  fn's
 * non-zero return stops the walk and is returned.
 */
typedef int (*cp_outbox_row_fn)(const cp_outbox_row *r, void *arg);
int cp_outbox_list(sqlite3 *db, int64_t tenant_id, const char *state,
    bool scoped, cp_outbox_row_fn fn, void *arg);

/*
 * Claim due rows: 'queued' ones and 'retry_wait' ones whose time has
 * come, of the targets in mask, with id > *cursor, at most max, oldest
 * first; each is set to 'sending' (version + 1, sent_at now) and the
 * transaction committed before this returns, so no request for a row can
 * leave before its claim is durable.  With only, just the cards listed
 * in temp.push_only(card_id).  *cursor advances past the rows read;
 * *rows gets a new array of *n rows (caller frees each and the array).
 */
int cp_outbox_claim(sqlite3 *db, int64_t tenant_id, unsigned mask,
    bool only, int64_t *cursor, int max, cp_outbox_row **rows, int *n);

/* What became of one claimed row. */
typedef enum {
	CP_OUTCOME_DONE,        /* in the CRM: remote_id */
	CP_OUTCOME_RETRY,       /* retry_wait until next_attempt */
	CP_OUTCOME_FAILED,      /* permanent: error */
	CP_OUTCOME_RELEASE      /* not attempted (target stopped): queued */
} cp_outcome;

typedef struct cp_outbox_result {
	cp_outcome outcome;
	const char *remote_id;  /* DONE */
	const char *error;      /* RETRY, FAILED (redacted before storing) */
	bool uncertain;         /* RETRY/RELEASE: a request may have applied */
	int tries;              /* requests made for it in this run */
	time_t next_attempt;    /* RETRY */
} cp_outbox_result;

/*
 * Record the outcome of a claimed row (as claimed: id and version),
 * inside a write transaction: the row (version-checked: *lost is set
 * and nothing written when someone else changed it), its audit entry,
 * and — when it is done and every row of its card is done — the card
 * goes to 'pushed' (card_versions row, card.pushed audit; *pushed set).
 */
int cp_outbox_record(sqlite3 *db, const cp_outbox_row *row,
    const cp_outbox_result *res, const char *actor, bool *lost,
    bool *pushed);

/*
 * Rows left 'sending' by an interrupted run (call only while holding
 * the push lock): back to 'queued' and uncertain, audited push.recover.
 * Inside a write transaction; *n gets the count.
 */
int cp_outbox_recover(sqlite3 *db, int64_t tenant_id, const char *actor,
    int *n);

/*
 * cp-push --retry: a 'failed' (or 'retry_wait') row back to 'queued',
 * attempts and error kept, audited push.requeue.  Inside a write
 * transaction.  CP_EX_DATAERR with a message for a row in another state.
 */
int cp_outbox_requeue(sqlite3 *db, const cp_outbox_row *row,
    const char *actor);

/* A card all of whose rows are done goes to 'pushed' (version-checked,
 * card_versions, audit).  Inside a write transaction. */
int cp_outbox_card_check(sqlite3 *db, int64_t tenant_id,
    const char *card_id, const char *actor, bool *pushed);

/*
 * Store the CRM id found for an account (accounts.hubspot_id or
 * salesforce_id), version-checked against *acct_version (a changed
 * account is left alone: the id is found again next time; a stored one
 * moves *acct_version on), audited account.link.  Inside a write transaction.
 */
int cp_outbox_link_account(sqlite3 *db, int64_t tenant_id,
    const char *account_id, int64_t *acct_version, cp_target target,
    const char *crm_id, const char *actor);

/* Holds: a target stopped until a time (daily limits).  get returns
 * true and fills until/reason (caller frees reason; may be NULL) when
 * the target is held now. */
int cp_outbox_hold(sqlite3 *db, int64_t tenant_id, cp_target target,
    time_t until, const char *reason, const char *actor);
bool cp_outbox_held(sqlite3 *db, int64_t tenant_id, cp_target target,
    time_t *until, char **reason);

/*
 * The push lock: an exclusive flock(2) on "<state file>.push.lock", held
 * by whoever sends or resolves rows, so a row in 'sending' is either in
 * flight in the holder or left over from a process that died (the lock
 * dies with it, kill -9 included).  Returns the descriptor to keep (close
 * it to unlock), -1 when another process holds it and wait is false, or
 * -2 after reporting an error.
 */
int cp_outbox_lock(sqlite3 *db, bool wait);

#endif
