/*
 * score.h — the scoring configuration and the scoring function.
 *
 * An opportunity's score is a pure function of its inputs (cp_score_in:
 * what the signal, the account, the playbook and the feedback priors
 * said) and the scoring configuration (scoring.conf, versioned by the
 * hash of its text):
 *
 *     score = round(100 * sum(w_f * v_f) / sum(w_f), 2)
 *
 * over the six factors impact, urgency, fit, access, feasibility and
 * confidence, each v_f in [0,1] (rounded to 4 decimals) with a one-line
 * reason that names the inputs it came from.  The inputs travel with the
 * opportunity and the card as JSON (cp_score_in_json), so
 * `cp-score --explain CARD_ID` parses them back (cp_score_in_parse) and
 * runs the same function with the configuration version the card was
 * scored with: the same numbers, bit for bit.  How each factor is made is
 * documented in scoring.conf and cp-score(1).
 *
 * Strings in cp_score_in are borrowed from whatever the caller built it
 * from (a signal, an account, a parsed card record) and must outlive it.
 */
#ifndef CP_SCORE_H
#define CP_SCORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dataconf.h"

enum {
	CP_F_IMPACT, CP_F_URGENCY, CP_F_FIT, CP_F_ACCESS, CP_F_FEASIBILITY,
	CP_F_CONFIDENCE, CP_NFACTORS
};
extern const char *const cp_factor_names[CP_NFACTORS];

/* Decision reasons in the order of cp_scorecfg.w_reject. */
enum {
	CP_R_NOT_RELEVANT, CP_R_ALREADY_KNOWN, CP_R_BAD_TIMING,
	CP_R_WRONG_ACCOUNT, CP_R_OTHER, CP_NREASONS
};
extern const char *const cp_reason_names[CP_NREASONS];

struct cp_named {
	char *name;
	double v;
};

struct cp_theme {
	char *id;
	double value, urgency;
};

typedef struct cp_scorecfg {
	cp_dconf dc;                 /* the text, its origin and version */
	double weight[CP_NFACTORS];
	double min_score;
	/* impact */
	double imp_account, imp_magnitude, imp_theme;
	double tier[6];              /* [0] unknown, [1..5] */
	struct cp_named *segment;
	size_t nsegment;
	double segment_unknown;
	double money_floor, money_ceiling, head_floor, head_ceiling;
	double postings_full, magnitude_default;
	/* the known themes, with their value and urgency */
	struct cp_theme *theme;
	size_t ntheme;
	/* urgency */
	double urg_half_life, urg_recency, urg_theme, deadline_horizon;
	/* fit */
	double fit_theme, fit_industry, fit_segment;
	double theme_primary, theme_secondary, listed, open;
	/* priors */
	double prior_half_life, prior_step, prior_bound, prior_horizon;
	double w_approve, w_refine, w_reject[CP_NREASONS];
	/* access */
	double acc_owner, acc_contact, acc_engagement;
	double contact_senior, contact_role, contact_person;
	char **senior_roles;
	size_t nsenior;
	char **engagement_fields;
	size_t nengagement;
	double engagement_window;
	/* feasibility */
	double feas_prereq, feas_assets, assets_full;
	/* confidence */
	double corr_gain, max_corr, negation_factor, conf_floor;
	/* reliability */
	struct cp_named *rel_source, *rel_name;
	size_t nrel_source, nrel_name;
	double rel_default;
	/* hiring surges */
	double surge_min, surge_window;
} cp_scorecfg;

/* Load scoring.conf (the override in the configuration directory, else
 * the built-in one).  0, or CP_EX_CONFIG after reporting every problem. */
int cp_scorecfg_load(cp_scorecfg *c);
/* The same from text (a stored version, a test). */
int cp_scorecfg_parse(cp_scorecfg *c, const char *text, size_t len,
    const char *origin);
void cp_scorecfg_free(cp_scorecfg *c);
/* The theme entry for id, or NULL when the theme is not known. */
const struct cp_theme *cp_scorecfg_theme(const cp_scorecfg *c,
    const char *id);
/* Whether role is one of access.senior_roles (case-insensitive; "VP of
 * Sales" counts as VP, "Chief Financial Officer" as a chief). */
bool cp_scorecfg_senior(const cp_scorecfg *c, const char *role);

/*
 * The scoring configuration versions kept in the state file
 * (scoring_configs): remember c's text (once), and load a version back.
 */
int cp_scorecfg_remember(sqlite3 *db, const cp_scorecfg *c);
int cp_scorecfg_load_version(sqlite3 *db, const char *version,
    cp_scorecfg *c);

#define CP_SCORE_MAXP 8

struct cp_person {
	const char *name, *role;
};
struct cp_prereq {
	const char *name;
	bool met;
};

typedef struct cp_score_in {
	const char *theme;
	double theme_confidence;
	bool negated;
	const char *source, *source_name;
	bool has_reliability;        /* the signal's own reliability */
	double reliability;
	long corroborations;
	time_t published_at, scored_at;
	bool has_money;
	double money;
	const char *currency;
	bool has_headcount;
	double headcount;
	bool has_deadline;           /* nearest date after scored_at */
	time_t deadline;
	struct cp_person person[CP_SCORE_MAXP];
	size_t npersons;
	/* account */
	int tier;                    /* 0 unknown */
	const char *segment, *industry, *owner;   /* NULL unknown */
	bool has_engaged;
	time_t engaged_at;
	const char *engaged_field;
	/* playbook */
	const char *playbook_id;
	bool primary_theme, industry_listed, segment_listed;
	struct cp_prereq prereq[CP_SCORE_MAXP];
	size_t nprereq;
	long assets;
	/* feedback prior: the decayed sum of decision weights and how many
	 * decisions went into it */
	double prior_sum;
	long prior_n;
	/* hiring surge: the number of postings and their job function */
	long postings;
	const char *function;
} cp_score_in;

typedef struct cp_factor {
	double value, weight;
	char *reason;                /* owned */
} cp_factor;

typedef struct cp_score_out {
	cp_factor f[CP_NFACTORS];
	double score;
	double prior;                /* the fit adjustment the prior made */
	double reliability;          /* the reliability confidence used */
} cp_score_out;

/* Score in with c into out (cp_score_out_free after). */
void cp_score_compute(const cp_scorecfg *c, const cp_score_in *in,
    cp_score_out *out);
void cp_score_out_free(cp_score_out *out);
/* {"impact":{"value","weight","reason"},…} in factor order; new ref. */
json_t *cp_score_factors_json(const cp_score_out *out);
/* The prior's fit adjustment for a decayed sum: clamp(sum*step, ±bound). */
double cp_score_prior_adj(const cp_scorecfg *c, double sum);
/* Round to n decimals (half away from zero), as the formula does. */
double cp_score_round(double v, int decimals);

/* The inputs as JSON (new reference), and back.  parse borrows strings
 * from j; false with a reason in err when j is not an inputs object. */
json_t *cp_score_in_json(const cp_score_in *in);
bool cp_score_in_parse(const json_t *j, cp_score_in *in, char *err,
    size_t errlen);

#endif
