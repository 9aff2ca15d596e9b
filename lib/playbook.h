/*
 * playbook.h — playbooks: what situation they answer, what to offer and
 * say, what to do in the CRM on approval.  The format is cp-playbook(1):
 *
 *   {"id":"exec-intro", "name":"New executive introduction",
 *    "themes":["leadership_change"],
 *    "when":{"industries":[…], "segments":[…], "tiers":[1,2],
 *            "sources":[…], "keywords":[…], "entities":["person"],
 *            "roles":["CFO"], "functions":[…], "min_amount":0,
 *            "min_headcount":0},
 *    "requires":["owner","contact"],
 *    "offer":"…", "next_step":"…",
 *    "crm":{"note":{"body":"…"}, "task":{"subject":"…","due_in_days":3},
 *           "opportunity":{"name":"…","stage":"qualification",
 *                          "amount":{"rule":"fixed","value":25000}}},
 *    "outreach":{"email":{"subject":"…","body":"…"},
 *                "call":{"opener":"…"}, "linkedin":{"note":"…"}},
 *    "assets":["asset-id"], "asset_terms":["…"], "active":true}
 *
 * Templates use the placeholders of template.h.  Playbooks belong to a
 * tenant; ids are unique per tenant.
 */
#ifndef CP_PLAYBOOK_H
#define CP_PLAYBOOK_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "score.h"
#include "sigview.h"

/* The prerequisites a playbook may require (NULL-terminated). */
extern const char *const cp_playbook_prereqs[];
/* The CRM amount rules (NULL-terminated). */
extern const char *const cp_amount_rules[];

struct cp_strs {
	char **v;
	size_t n;
};

typedef struct cp_playbook {
	char *id, *name;
	struct cp_strs themes;
	struct cp_strs industries, segments, sources, keywords, entities;
	struct cp_strs roles, functions, requires, assets, asset_terms;
	int tiers[5];
	size_t ntiers;
	double min_amount, min_headcount;
	bool active;
	long version;
	json_t *rec;                 /* the normalised record, owned */
} cp_playbook;

typedef struct cp_playbooks {
	cp_playbook *v;
	size_t n;
} cp_playbooks;

/*
 * Validate and normalise a playbook record in place: required fields,
 * known themes (those of cfg), known condition names, placeholders in
 * every template, CRM actions.  Lists are lower-cased where matching is
 * case-insensitive.  false with a reason in err.
 */
bool cp_playbook_normalise(json_t *rec, const cp_scorecfg *cfg, char *err,
    size_t errlen);
/*
 * Insert or update one playbook of tenant_id inside the caller's
 * transaction, audited as actor.  *outcome: 0 unchanged, 1 created,
 * 2 updated.  0 or an exit code.
 */
int cp_playbook_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome);
/* The stored playbook record (new reference) or NULL. */
json_t *cp_playbook_get_json(sqlite3 *db, int64_t tenant_id, const char *id);

/* Load the tenant's playbooks (active only unless all), by id.  0 or rc. */
int cp_playbooks_load(sqlite3 *db, int64_t tenant_id, bool all,
    cp_playbooks *out);
void cp_playbooks_free(cp_playbooks *p);
const cp_playbook *cp_playbooks_find(const cp_playbooks *p, const char *id);
/* Fill pb from a normalised record (takes a reference). */
void cp_playbook_from_json(cp_playbook *pb, json_t *rec);
void cp_playbook_free(cp_playbook *pb);

/* What matching a signal decided. */
struct cp_match {
	const char *theme;           /* the signal theme it answers */
	double confidence;
	bool negated;
	const char *evidence;
	bool primary;                /* theme is the playbook's first */
	bool industry_listed, segment_listed;
};

/*
 * Does pb answer this signal for account a?  For a hiring surge (surge
 * set, sv the newest posting) the theme is hiring_surge.  A single job
 * posting never matches hiring_surge on its own: surges are counted
 * (cp-score(1)).
 */
bool cp_playbook_match(const cp_playbook *pb, cp_sigview *sv,
    const cp_account *a, bool surge, struct cp_match *m);
/* Whether prerequisite name holds for this account and signal. */
bool cp_playbook_prereq(const char *name, const cp_sigview *sv,
    const cp_account *a, const cp_scorecfg *cfg);

#endif
