/*
 * json.h — jansson helpers: exact serialisation and field access.
 *
 * Serialisation: jansson prints reals with 17 significant digits, so
 * 849624.42 would come back as 849624.42000000004 and a field a stage does
 * not own would change on its way through.  cp_json_dump() prints each real
 * in the shortest form that reads back to the same double (849624.42),
 * keeps key order, and never escapes non-ASCII, so a record passes through
 * any stage with its values unchanged.  Integers are printed as integers,
 * reals always carry a '.' or an exponent so they stay reals.
 *
 * Ownership follows jansson: *_get returns borrowed references (valid while
 * the container lives), *_new and cp_json_parse return new references.
 */
#ifndef CP_JSON_H
#define CP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"

enum {
	CP_JSON_SORT = 1     /* sort object keys (canonical form for hashing) */
};

/* Append the compact serialisation of v to sb. */
void cp_json_dump(strbuf *sb, const json_t *v, int flags);
/* A new string with the compact serialisation; caller frees. */
char *cp_json_dumps(const json_t *v, int flags);
/* Parse text (with its length); NULL and a message in err on failure. */
json_t *cp_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Borrowed string field, or NULL when missing or not a string. */
const char *cp_json_str(const json_t *obj, const char *key);
/* String field or dflt. */
const char *cp_json_strd(const json_t *obj, const char *key, const char *dflt);
/* Number field (integer or real) into *out; false when missing. */
bool cp_json_num(const json_t *obj, const char *key, double *out);
/* Integer field, or dflt. */
int64_t cp_json_int(const json_t *obj, const char *key, int64_t dflt);
/* Boolean field, or dflt. */
bool cp_json_bool(const json_t *obj, const char *key, bool dflt);
/* Set key to a new string (no-op for NULL s). */
void cp_json_set_str(json_t *obj, const char *key, const char *s);

#endif
