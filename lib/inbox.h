/*
 * inbox.h — reading cards for people: the scoped queries behind cp-inbox
 * (list, show, stats, export) and the helpers that turn rows into lines.
 *
 * Every query here binds the caller's tenant_id and keeps to the caller's
 * accounts with "c.account_id IN (SELECT account_id FROM temp.scope)", so
 * the scope is part of the SQL (rbac.h); call cp_rbac_load_scope() first.
 * Missing and out-of-scope cards look the same to the caller.
 *
 * "Mine" (the default list): the pending cards assigned to the caller, or
 * unassigned ones on accounts the caller owns.  --all widens that to the
 * whole scope: an AM's granted accounts, a manager's team, an admin's
 * tenant.  A viewer is never assigned anything, so a viewer's list is
 * always the whole (read-only) scope.
 *
 * Card ids are "card_" and 32 hex digits; people may type any unique
 * prefix of at least CP_INBOX_MIN_PREFIX hex digits, with or without the
 * "card_", and "ID@N" to say "I looked at version N" (review.h).
 */
#ifndef CP_INBOX_H
#define CP_INBOX_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "id.h"
#include "rbac.h"
#include "strbuf.h"
#include "timefmt.h"

#define CP_INBOX_MIN_PREFIX 4
#define CP_INBOX_SHORT_ID   10   /* hex digits shown in the list */
#define CP_INBOX_AGE_MAX    24   /* "45m", "3h", …: room for any time_t */

typedef struct cp_inbox_filter {
	bool all;                 /* the whole scope, not just mine */
	const char *status;       /* pending_review (NULL), approved, rejected,
	                             pushed, or "any" */
	bool has_min_score;
	double min_score;
	const char *account;      /* account id */
	const char *theme;
	const char *source;       /* sec, news, jobs, web, file */
	char since[CP_TIME_MAX];  /* created at or after; "" for no limit */
	long limit;               /* rows; 0 for all */
} cp_inbox_filter;

/* The statuses a card can have, NULL-terminated. */
extern const char *const cp_card_statuses[];
/* Normalise a --status value ("pending" is pending_review); NULL when it
 * is not one of cp_card_statuses or "any". */
const char *cp_inbox_status(const char *s);

/* Columns of the rows cp_inbox_query() returns. */
enum {
	CP_IQ_ID, CP_IQ_SCORE, CP_IQ_CREATED, CP_IQ_ACCOUNT, CP_IQ_ACCOUNT_NAME,
	CP_IQ_THEME, CP_IQ_TITLE, CP_IQ_STATUS, CP_IQ_VERSION, CP_IQ_ASSIGNEE,
	CP_IQ_DECIDED, CP_IQ_SOURCE, CP_IQ_PLAYBOOK, CP_IQ_RECORD
};

/*
 * The caller's cards matching f, best first (score, then newest, then id),
 * at most limit rows (0: all).  The SQL text holds only the conditions f
 * uses, so each shape has a plan that walks an index in score order and
 * stops at the limit (tests/cp-inbox.bats checks the plans).  The caller
 * steps and finalizes the statement.
 */
sqlite3_stmt *cp_inbox_query(sqlite3 *db, const cp_user *u,
    const cp_inbox_filter *f, long limit);
/* The SQL cp_inbox_query() would prepare (for EXPLAIN); caller frees. */
char *cp_inbox_sql(const cp_user *u, const cp_inbox_filter *f, long limit);

/*
 * Resolve what a person typed ("3f2a9c", "card_3f2a9c…", "3f2a@2") to a
 * card in scope.  out gets the full id, *version the version the caller
 * says they saw (from "@N") or else the current one, *said whether "@N"
 * was given.  Returns 0; CP_EX_NOPERM (77) after cp_rbac_deny() when no
 * card in scope matches; CP_EX_USAGE (64) for a malformed id or a prefix
 * too short; CP_EX_DATAERR (65) when the prefix is ambiguous in scope
 * (the candidates are listed).
 */
int cp_inbox_resolve(sqlite3 *db, const cp_user *u, const char *typed,
    char out[CP_ID_MAX], int64_t *version, bool *said);

/*
 * The card as a record (new reference): the stored record with the
 * current columns laid over it (status, version, score, decided_at) and
 * "account_name" and "assignee" added.  NULL when not in scope.
 */
json_t *cp_inbox_card(sqlite3 *db, const cp_user *u, const char *id);
/* The same from a cp_inbox_query() row (no extra query). */
json_t *cp_inbox_row_card(sqlite3_stmt *row);

/*
 * The card's narrative, whichever shape the record holds: cp-card writes an
 * object {what_happened, why_it_matters, why_now, next_step, source}; a
 * plain string is accepted too.
 */
/* As text: the string, or the object's three parts as paragraphs
 * (caller frees; "" when there is none). */
char *cp_inbox_narrative_text(const json_t *card);
/* narrative.next_step, else a top-level "next_step"; borrowed or NULL. */
const char *cp_inbox_next_step(const json_t *card);
/* Replace the narrative by a person's text: an object becomes
 * {what_happened: text, next_step (kept), source: "edited"}. */
void cp_inbox_set_narrative(json_t *card, const char *text);
/* Set the next step where the record keeps it. */
void cp_inbox_set_next_step(json_t *card, const char *text);

/* The tenant's review SLA in hours (tenants.review_sla_hours). */
long cp_inbox_sla_hours(sqlite3 *db, int64_t tenant_id);

/* "45m", "3h", "2d", "5w", "1y": how long ago t was (never negative). */
void cp_inbox_age(time_t now, time_t t, char out[CP_INBOX_AGE_MAX]);
/* Seconds as a short duration ("90s", "4.5h", "2.1d") into out. */
void cp_inbox_duration(double secs, char out[32]);
/*
 * Make text safe and tidy for one terminal line: control characters (C0,
 * DEL, C1 — an ESC from a hostile headline must never reach the terminal)
 * and runs of white space become one space.  With keep_newlines, line
 * breaks survive (for paragraphs).  Appends to sb.
 */
void cp_inbox_clean(strbuf *sb, const char *s, bool keep_newlines);

#endif
