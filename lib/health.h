/*
 * health.h — an account at a glance (cp-account show): signals per week
 * over the last CP_HEALTH_WEEKS weeks as a sparkline, risk flags, and
 * the best open cards.
 *
 * Weeks run Monday to Sunday (UTC); the last one is the week of now, so
 * far.  A signal counts in the week of its publication (published_at;
 * one without is not counted) when it names the account; every signal
 * counts, the first report of a story and the ones that corroborate it.
 *
 * Risk flags, over the same weeks, from the themes of those signals (a
 * negated theme — "rules out job cuts" — is no theme), counted in stories
 * (clusters), so ten outlets reporting one layoff are one:
 *
 *   layoffs             any layoffs story
 *   leadership churn    two or more leadership_change stories (one new
 *                       leader is an opportunity; several is churn)
 *   security incident   any security_incident story
 *   regulatory          any regulatory story
 *   negative earnings   an earnings story whose evidence or title says it
 *                       went badly: loss, missed, fell, declined, lowered
 *                       or cut its guidance, profit warning, …
 *
 * Signals are read from the state file's contract (30-signals.sql: by
 * tenant and publication time) through search's account keys
 * (55-search.sql) for the signals search has indexed, and from signals
 * itself for the rest, so the view is right whether or not cp-search has
 * run, and fast when it has.
 */
#ifndef CP_HEALTH_H
#define CP_HEALTH_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "id.h"
#include "rbac.h"
#include "strbuf.h"
#include "timefmt.h"

#define CP_HEALTH_WEEKS 12
#define CP_HEALTH_CARDS 3        /* open cards shown */

enum {
	CP_FLAG_LAYOFFS, CP_FLAG_CHURN, CP_FLAG_SECURITY, CP_FLAG_REGULATORY,
	CP_FLAG_EARNINGS, CP_FLAG_COUNT
};

typedef struct cp_health_flag {
	long stories;              /* distinct clusters in the window */
	long signals;
	char latest[CP_TIME_MAX];  /* newest publication, "" when none */
	char *title;               /* the newest one's title (owned) */
	bool raised;               /* the rule above holds */
} cp_health_flag;

typedef struct cp_health_card {
	char id[CP_ID_MAX];
	double score;
	char *theme, *title;       /* owned */
	char created[CP_TIME_MAX];
} cp_health_card;

typedef struct cp_health {
	time_t week0;                      /* Monday 00:00 UTC, first week */
	time_t now;
	long weeks[CP_HEALTH_WEEKS];       /* signals per week, oldest first */
	long total;
	cp_health_flag flags[CP_FLAG_COUNT];
	long open;                         /* cards pending review */
	cp_health_card cards[CP_HEALTH_CARDS];
	size_t ncards;
} cp_health;

/* "layoffs", "leadership_churn", … (ids) and "leadership churn", …
 * (for people). */
const char *cp_health_flag_id(int flag);
const char *cp_health_flag_name(int flag);

/*
 * The health of account_id (in u's tenant; the caller has checked the
 * scope) as of now.  0 or an exit code (after a message).
 */
int cp_health_load(sqlite3 *db, const cp_user *u, const char *account_id,
    time_t now, cp_health *h);
void cp_health_free(cp_health *h);

/* Whether an earnings sentence says the results went badly. */
bool cp_health_negative_earnings(const char *text);

/*
 * The sparkline of n counts: one character a count, "▁" for none and
 * "▂" to "█" for more, scaled to the largest; ascii: "_" for none and
 * ".:-=+*#".
 */
void cp_sparkline(strbuf *sb, const long *v, int n, bool ascii);

/* The view as text lines of at most width columns (0: 80), labels in a
 * column of 12 like cp-account show's fields.  ascii: no character
 * outside ASCII; color: flags in bold red. */
void cp_health_print(FILE *fp, const cp_health *h, int width, bool ascii,
    bool color);
/* The view as an object (new reference). */
json_t *cp_health_json(const cp_health *h, const char *account_id);

#endif
