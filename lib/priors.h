/*
 * priors.h — feedback priors, derived from the stored decisions.
 *
 * Nothing is kept as a running number: every run of cp-score reads the
 * tenant's decisions and sums, per (theme, playbook, segment),
 *
 *     S = sum of weight(decision, reason) * 2^(-age_days / half_life)
 *
 * (weights, half-life and horizon in scoring.conf [priors]).  The fit
 * factor then moves by clamp(S * step, -bound, bound) (score.h).  The
 * same decisions in the same state at the same clock give the same
 * priors, and `cp-score --priors` lists the decisions behind each one.
 */
#ifndef CP_PRIORS_H
#define CP_PRIORS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "score.h"

typedef struct cp_prior {
	char *theme, *playbook_id, *segment;   /* "" for none */
	double sum;
	long n;
} cp_prior;

typedef struct cp_priors {
	cp_prior *v;                /* sorted by (theme, playbook, segment) */
	size_t n;
} cp_priors;

/* The weight of one decision ("reject" with a reason, "approve",
 * "refine"); a reject without a known reason counts as "other". */
double cp_prior_weight(const cp_scorecfg *c, const char *decision,
    const char *reason);
/* Load the tenant's priors as of now.  0 or an exit code. */
int cp_priors_load(sqlite3 *db, int64_t tenant_id, const cp_scorecfg *c,
    time_t now, cp_priors *out);
void cp_priors_free(cp_priors *p);
/* The prior for a key (NULL members are ""), or NULL when none. */
const cp_prior *cp_priors_find(const cp_priors *p, const char *theme,
    const char *playbook_id, const char *segment);
/*
 * Print every prior of the tenant and the decisions that moved it, as a
 * readable listing or (json) one record per prior:
 * {"theme","playbook_id","segment","sum","fit_adjustment","decisions":
 *  [{"id","card_id","user","decision","reason","decided_at","age_days",
 *    "weight","decay","contribution"}]}.  0 or an exit code.
 */
int cp_priors_report(sqlite3 *db, int64_t tenant_id, const cp_scorecfg *c,
    time_t now, FILE *out, bool json);

#endif
