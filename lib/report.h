/*
 * report.h — the product's KPIs over a period, per tenant, team and
 * account manager (cp-report), and their renderings: text with weekly
 * sparklines, JSON lines, CSV, and a self-contained HTML page with inline
 * SVG charts.
 *
 * Who sees what follows the roles (rbac.h): an AM their own row, a
 * manager their team's row and each of its members', an admin the
 * tenant's, every team's and every AM's.  A card counts for the AM it is
 * assigned to (else the account's owner), for every team that AM belongs
 * to (their manager's, transitively), and for the tenant.
 *
 * Definitions, for the period [since, until):
 *   cards           created in the period
 *   coverage        cards / (accounts owned × weeks); target 2–3
 *   relevance       approved (or pushed) / decided, of the cards decided
 *                   in the period; target ≥ 70%
 *   time to card    created_at − first_fetched_at (the fetch of its first
 *                   evidence to the card committed), P50 and P95 of the
 *                   cards created in the period (nearest rank)
 *   time to review  decided_at − created_at, of the cards decided
 *   stuck           now: cards pending past the review SLA, pushes left
 *                   sending over an hour, and (tenant only) documents
 *                   fetched but never carried to a signal; target 0
 *   explainability  share of the period's cards with evidence, a
 *                   playbook and the six-factor breakdown; target 100%
 *   pushes          outbox rows done, and failed, in the period
 *   weekly          cards created per week, the last week last
 */
#ifndef CP_REPORT_H
#define CP_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "rbac.h"
#include "strbuf.h"
#include "timefmt.h"

#define CP_REPORT_COVERAGE_MIN 2.0
#define CP_REPORT_COVERAGE_MAX 3.0
#define CP_REPORT_RELEVANCE_MIN 0.70

typedef struct cp_kpi {
	char level[8];            /* "tenant", "team", "am" */
	char name[128];           /* tenant name or login */
	char display[256];        /* the person's name, else the login */
	long accounts;
	long cards;
	double coverage;          /* -1 when there are no accounts */
	long decided, approved;
	double relevance;         /* -1 when nothing was decided */
	long ttc_n, ttr_n;
	double ttc_p50, ttc_p95, ttr_p50, ttr_p95;   /* seconds; -1: none */
	long stuck_reviews, stuck_pushes, stuck_documents;
	long explained;
	double explainability;    /* -1 when there are no cards */
	long pushes_done, pushes_failed;
	long *weekly;             /* nweeks counts */
} cp_kpi;

typedef struct cp_report {
	char tenant[128];
	char since[CP_TIME_MAX], until[CP_TIME_MAX];
	double days;
	int nweeks;
	cp_kpi *rows;
	size_t nrows;
} cp_report;

/* Build the report the caller may see; 0 or an exit code. */
int cp_report_build(sqlite3 *db, const cp_user *me, time_t since,
    time_t until, cp_report *out);
void cp_report_free(cp_report *r);

/* Renderings.  text: aligned table, sparklines; color marks the values
 * off target; ascii replaces the block characters. */
void cp_report_text(const cp_report *r, strbuf *out, bool color, bool ascii);
void cp_report_json(const cp_report *r, strbuf *out);   /* one line a row */
void cp_report_csv(const cp_report *r, strbuf *out);
void cp_report_html(const cp_report *r, strbuf *out);

/* "45s", "12m", "3.5h", "2.1d"; "-" for a negative value. */
void cp_report_duration(double secs, char *out, size_t n);

#endif
