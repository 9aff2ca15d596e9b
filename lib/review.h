/*
 * review.h — the review workflow: approve, reject, refine, version-checked.
 *
 *   pending_review ──approve──▶ approved ──(cp-push)──▶ pushed
 *         │ ▲
 *         │ └─refine (version + 1, still pending)
 *         └───reject──▶ rejected
 *
 * Each decision on each card is one transaction (BEGIN IMMEDIATE) that
 *   1. finds the card in the caller's scope (else cp_rbac_deny, 77),
 *   2. compares its version with the one the caller loaded: a different
 *      one is a conflict, "card changed since you loaded it (version N →
 *      M)", exit 75, and nothing is written,
 *   3. refuses a card that is no longer pending review (65),
 *   4. updates it with UPDATE … WHERE id = ? AND version = ? (version + 1),
 *      keeps the new record in card_versions, writes the decision to the
 *      decisions table (which feeds cp-score's priors) and the audit entry,
 *   5. on approval calls cp_review_on_approve() — the push outbox hook —
 *      in the same transaction,
 * and commits, so the card, its history, the priors' input, the outbox
 * and the audit log never disagree.
 */
#ifndef CP_REVIEW_H
#define CP_REVIEW_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "rbac.h"

typedef enum {
	CP_DECIDE_APPROVE,
	CP_DECIDE_REJECT,
	CP_DECIDE_REFINE
} cp_decision;

/* What a refine changes; NULL (or outreach NULL) leaves a field as is. */
typedef struct cp_refinement {
	const char *title;
	const char *narrative;
	const char *next_step;
	/* borrowed array of {"channel", "subject"?, "body"}: each replaces
	 * the card's draft for that channel, or is added */
	const json_t *outreach;
} cp_refinement;

typedef struct cp_review {
	cp_decision decision;
	const char *reason;           /* reject: one of cp_reject_reasons */
	const char *note;             /* free text, may be NULL */
	const cp_refinement *refine;  /* refine only */
} cp_review;

/* not_relevant, already_known, bad_timing, wrong_account, other; NULL-ended */
extern const char *const cp_reject_reasons[];
bool cp_reject_reason_valid(const char *s);
/* "approve", "reject", "refine" */
const char *cp_decision_name(cp_decision d);

/*
 * Apply r to card_id (a full id, see cp_inbox_resolve) as u, who loaded
 * version loaded.  actor is the audit actor (cp_user_actor).  The scope
 * (temp.scope) must be loaded.  On success *new_version (may be NULL)
 * gets the card's new version.  Returns 0, or 75 (conflict), 77 (not in
 * scope), 65 (not pending review, or a refine that changes nothing), or a
 * database error's code — each after one message naming the card.
 */
int cp_review_apply(sqlite3 *db, const cp_user *u, const char *actor,
    const char *card_id, int64_t loaded, const cp_review *r,
    int64_t *new_version);

/*
 * The push hook (issue: cp-push).  Called inside the approval
 * transaction, after the card row says "approved", with the approved
 * card record (borrowed).  The push engineer fills it in to enqueue the
 * CRM actions of the card's playbook in the outbox; until then it does
 * nothing.  A non-zero return rolls the approval back.
 */
int cp_review_on_approve(sqlite3 *db, const cp_user *u, const char *actor,
    const json_t *card);

#endif
