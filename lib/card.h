/*
 * card.h — opportunities turned into cards, and cards into the state file.
 *
 * A card is the opportunity (its score, factors, evidence, inputs) plus
 * what a person needs to act: a title, a four-part narrative (what
 * happened, why it matters to this account, why now, the next step),
 * outreach per channel (email, call, LinkedIn) rendered from the
 * playbook's templates, the CRM actions to run on approval, and the
 * assets to use.  The format is clientpulse-records(5) and cp-card(1).
 *
 * Building is separate from storing, so a slow narrative (a language
 * model, llm.h) never runs inside a write transaction:
 *
 *     draft = cp_card_draft(g, opp, err)       checks, renders; no writes
 *     cp_card_store(g, draft, actor, …)        inside cp_db_begin(): insert,
 *                                              update or leave alone
 *
 * The card id is "card_" + SHA-256 over tenant, account, playbook and
 * cluster.  A card already pending review is updated (evidence merged,
 * the new score, version + 1, a card_versions row) only when the
 * opportunity brings evidence the card does not have, so feeding the
 * same input twice changes nothing.  A card already decided (approved,
 * rejected, pushed) is never changed here.
 */
#ifndef CP_CARD_H
#define CP_CARD_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "dataconf.h"
#include "playbook.h"
#include "rbac.h"

typedef struct cp_cardgen cp_cardgen;

/* Load what building cards for the caller's tenant needs (accounts,
 * every playbook, card-templates.conf).  0 or an exit code. */
int cp_cardgen_new(sqlite3 *db, const cp_user *me, cp_cardgen **out);
void cp_cardgen_free(cp_cardgen *g);

/*
 * An opportunity from its raw line, its "inputs" left undecoded (raw):
 * they go into the card as they came.  NULL with a reason in err when
 * the line is not a JSON object.
 */
typedef struct cp_cardraw {
	const char *inputs;          /* NULL when absent */
	size_t inputs_len;
} cp_cardraw;
json_t *cp_card_parse(const char *line, size_t len, cp_cardraw *raw,
    char *err, size_t errlen);

/*
 * Check an opportunity record (type, tenant = the caller's, a live
 * account of that tenant, a known playbook, six factors, evidence with a
 * URL and a quote) and build the card draft: a new reference, or NULL
 * with the reason in err.  raw (may be NULL) is what cp_card_parse kept
 * of the same record; it must stay valid until the draft is stored.
 */
json_t *cp_card_draft(cp_cardgen *g, const json_t *opp,
    const cp_cardraw *raw, char *err, size_t errlen);

/* The facts a narrative may use, as one text: names, numbers, quotes,
 * dates of the draft (for cp_factcheck). Caller frees. */
char *cp_card_corpus(const json_t *draft);

/* Replace the draft's narrative (an object with what_happened,
 * why_it_matters, why_now, next_step), noting where it came from. */
void cp_card_set_narrative(json_t *draft, json_t *narrative);

enum cp_card_outcome {
	CP_CARD_CREATED, CP_CARD_UPDATED, CP_CARD_UNCHANGED, CP_CARD_DECIDED
};

/*
 * Store a draft inside the caller's write transaction (or, with dry,
 * only work out what would be stored); the draft may be changed.
 * *outcome says what happened; *text gets the card as stored, serialised
 * (caller frees; NULL for CP_CARD_DECIDED, whose status goes to
 * *status).  Every change writes its evidence rows, a card_versions row
 * and an audit entry as actor.  0 or an exit code: CP_EX_DATAERR when
 * the state file refused the card before any of it was written (the
 * transaction is still good); any other code means the transaction must
 * be rolled back.
 */
int cp_card_store(cp_cardgen *g, json_t *draft, const char *actor, bool dry,
    int *outcome, char **text, char status[32]);

#endif
