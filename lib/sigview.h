/*
 * sigview.h — what scoring reads from a signal record, read once.
 *
 * A signal (clientpulse-records(5)) is checked and summarised into a
 * cp_sigview: its themes, the kinds of entities it names, the largest
 * amount and headcount, the people and their roles, the dates, the job
 * posting fields, and (on demand) a lower-cased copy of its title and
 * text for keyword conditions.  Strings are borrowed from the record,
 * which must outlive the view.
 */
#ifndef CP_SIGVIEW_H
#define CP_SIGVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "score.h"

#define CP_SIG_MAXTHEMES 16
#define CP_SIG_MAXDATES 8

/* entity kinds as bits of cp_sigview.kinds */
enum {
	CP_EK_ORG = 1, CP_EK_PERSON = 2, CP_EK_MONEY = 4, CP_EK_PERCENT = 8,
	CP_EK_DATE = 16, CP_EK_HEADCOUNT = 32
};
/* The bit of an entity kind name, 0 when unknown. */
unsigned cp_entity_kind(const char *name);

struct cp_sigtheme {
	const char *theme;
	double confidence;
	bool negated;
	const char *evidence;        /* the sentence, or NULL */
};

typedef struct cp_sigview {
	const json_t *rec;
	const char *id, *tenant, *source, *source_name, *url, *title, *text;
	const char *published_str, *fetched_str, *cluster_id, *document_id;
	time_t published_at, fetched_at;
	bool has_reliability;
	double reliability;
	long corroborations;
	struct cp_sigtheme themes[CP_SIG_MAXTHEMES];
	size_t nthemes;
	unsigned kinds;
	bool has_money;
	double money;
	const char *currency, *money_text;
	bool has_headcount;
	double headcount;
	struct cp_person persons[CP_SCORE_MAXP];
	size_t npersons;
	time_t dates[CP_SIG_MAXDATES];
	size_t ndates;
	/* job postings */
	const char *job_function, *job_title;
	char *lower;                 /* owned, lazily made */
	/* text and chunks still in their raw JSON (cp_sigview_raw): decoded
	 * only when a keyword condition or a quote needs them */
	const char *text_raw, *chunks_raw;
	size_t text_rawlen, chunks_rawlen;
	json_t *text_json, *chunks_json;   /* owned, lazily decoded */
} cp_sigview;

/* Summarise a signal already checked with cp_record_check.  false with
 * a reason in err when a field scoring needs has the wrong shape. */
bool cp_sigview_init(cp_sigview *sv, const json_t *rec, char *err,
    size_t errlen);
/*
 * A signal read from its raw line without decoding "text" and "chunks"
 * (most of its bytes, rarely needed): the other members in a new object
 * (*rec, with "text" as an empty string when it is one, so record checks
 * hold), the two raw values kept for cp_sigview_init_raw.  NULL-safe
 * err: false with a reason when the line is not a JSON object.
 */
typedef struct cp_sigraw {
	const char *text, *chunks;
	size_t textlen, chunkslen;
} cp_sigraw;
json_t *cp_sigview_parse(const char *line, size_t len, cp_sigraw *raw,
    char *err, size_t errlen);
/* cp_sigview_init for a record from cp_sigview_parse. */
bool cp_sigview_init_raw(cp_sigview *sv, const json_t *rec,
    const cp_sigraw *raw, char *err, size_t errlen);
void cp_sigview_free(cp_sigview *sv);
/* Title and text, lower-cased (ASCII letters; other bytes as they are),
 * separated by a newline. */
const char *cp_sigview_lower(cp_sigview *sv);
/* The nearest date strictly after t, into *out; false when none. */
bool cp_sigview_deadline(const cp_sigview *sv, time_t t, time_t *out);
/* The sentence to quote for a theme: its evidence, else the first chunk,
 * else the title.  Borrowed. */
const char *cp_sigview_quote(const cp_sigview *sv, const char *theme);

#endif
