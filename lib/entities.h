/*
 * entities.h — money, percentages, dates, headcounts and people with
 * business roles, found in clean text (text.h).
 *
 * The grammar is fixed here; the words are data
 * (lib/data/lexicons/entities.json, overridable, see data.h): scale words
 * ("billion", "Mio.", "млрд", "mil millones"), currency symbols, codes and
 * words ("гривень", "euros"), percent words, month names in twelve
 * languages, headcount nouns ("jobs", "Stellen", "робочих місць"), role
 * phrases mapped to one English role ("consejera delegada" → CEO,
 * "finance chief" → CFO), and the cues org resolution uses (orgs.h).
 * Patterns are PCRE2 with JIT, built from the lexicon once.
 *
 * Numbers: "1,200" and "1.200" are thousands when three digits follow a
 * single separator (except "1.250 billion" in English), "1,5" and "1.5"
 * are decimals; spaces and U+00A0/U+202F group thousands.
 */
#ifndef CP_ENTITIES_H
#define CP_ENTITIES_H

#include <jansson.h>
#include <stddef.h>

enum cp_entkind { CP_ENT_ORG, CP_ENT_PERSON, CP_ENT_MONEY, CP_ENT_PERCENT,
	CP_ENT_DATE, CP_ENT_HEADCOUNT };

typedef struct cp_entity {
	int kind;
	size_t start, end;        /* bytes in the text */
	double value;             /* money, percent, headcount */
	char currency[8];         /* money: ISO 4217 */
	char date[11];            /* date: YYYY-MM-DD */
	const char *role;         /* person: static storage (lexicon) */
	char *name;               /* person: the name as written (owned) */
	const char *account_id;   /* org: borrowed from the accounts */
} cp_entity;

typedef struct cp_entities {
	cp_entity *v;
	size_t n, cap;
} cp_entities;

/* Load the lexicon and compile the patterns; 0, or an exit code after a
 * message (a broken lexicon override).  Called by the finders on first
 * use; call it early to report errors before reading input. */
int cp_entities_init(void);
void cp_entities_cleanup(void);

/* The year for dates written without one ("on October 27"), usually the
 * document's publication year; 0 (the default) ignores such dates. */
void cp_entities_set_year(int year);

/* Find money, percent, date, headcount and person entities in text
 * (lang: ISO 639-1 or "und", for number separators). */
void cp_entities_find(const char *text, size_t n, const char *lang,
    cp_entities *out);
cp_entity *cp_entities_add(cp_entities *e, int kind, size_t start,
    size_t end);
void cp_entities_free(cp_entities *e);
/* Sort by start offset. */
void cp_entities_sort(cp_entities *e);

/* The record form: {"kind":…, "text":…, kind-specific fields}. */
json_t *cp_entity_json(const cp_entity *e, const char *text);
const char *cp_entkind_name(int kind);

/* Parse a number as written ("1,5", "1.200", "12 500"); lang as above. */
double cp_parse_number(const char *s, size_t n, const char *lang,
    int scale_follows);

/* Quantities written in text ("1.3 million", "2,400", "40 млн") with
 * their scale applied, years and numbers under 1,000 left out: the
 * figures two reports of one event share.  Fills at most max values;
 * returns how many. */
size_t cp_quantities(const char *text, size_t n, const char *lang,
    double *out, size_t max);

/* The lexicon (borrowed, valid until cleanup): orgs.c and themes.c read
 * their cue lists from it. */
const json_t *cp_entities_lexicon(void);

#endif
