/*
 * jscan.h — check a JSON object and find its members without building it.
 *
 * For stages that need a few fields of large records: one pass validates
 * the whole text against the JSON grammar (RFC 8259; strings without
 * control characters, \u escapes with paired surrogates and no \u0000,
 * nesting up to 512 levels) and records where each top-level member's
 * key and value are; the caller decodes only what it uses.  The text must
 * already be valid UTF-8 (ndjson.h checks every line).  Duplicate
 * top-level keys are refused, as cp_json_parse() refuses them.
 */
#ifndef CP_JSCAN_H
#define CP_JSCAN_H

#include <jansson.h>
#include <stddef.h>

#include "strbuf.h"

typedef struct cp_jmember {
	const char *key;        /* the key's raw bytes, without quotes */
	size_t klen;
	const char *val;        /* the value's raw text */
	size_t vlen;
} cp_jmember;

/* Members found (at most max are recorded; more is an error), or -1 with
 * a reason in err. */
int cp_jscan_object(const char *s, size_t n, cp_jmember *m, size_t max,
    char *err, size_t errlen);

/* The value of a member (found by cp_jscan_object, so already checked)
 * as a jansson value: a new reference, or NULL for what json_loadb would
 * refuse too (an integer beyond int64, a real beyond a double, a
 * duplicate key).  Built from the text directly, without lexing it again. */
json_t *cp_jvalue(const cp_jmember *m);

/* Is the raw key equal to k? */
int cp_jkey_is(const cp_jmember *m, const char *k);

/* A member to keep undecoded: key, and the first character its value
 * must start with ('"', '[' or '{'; otherwise it is decoded as usual;
 * 0: any value). */
typedef struct cp_jkeep {
	const char *key;
	char open;
	int placeholder;        /* put "" in its place in the object */
	const char *val;        /* out: its raw text, or NULL when absent */
	size_t vlen;
} cp_jkeep;

/*
 * The object on line (at most 128 members) as a jansson object (new
 * reference), every member decoded except those in keep[] (found there
 * raw), or NULL with a reason in err ("not a JSON object", a syntax
 * error, or the member that does not load).  For records whose bulk (a
 * signal's text, a card's inputs) a stage never looks into.
 */
json_t *cp_jscan_decode(const char *line, size_t len, cp_jkeep *keep,
    size_t nkeep, char *err, size_t errlen);

#endif
