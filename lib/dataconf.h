/*
 * dataconf.h — "key = value" data files with [section] headers
 * (scoring.conf, card-templates.conf): the configuration file syntax of
 * config.h, for data that ships compiled in (data.h) and may be replaced
 * from the configuration directory.
 *
 * "[impact]" then "tier.1 = 1.0" is the key "impact.tier.1".  Blank
 * lines and lines starting with '#' or ';' are comments; a value may be
 * double-quoted; a repeated key keeps its last value.  Keys keep their
 * spaces inside ("sec edgar"), lower-cased in [*.names] sections is the
 * caller's convention, not the parser's.
 *
 * The version of a file is the first 16 hex digits of the SHA-256 of its
 * exact bytes, so two installations with the same file agree on it.
 */
#ifndef CP_DATACONF_H
#define CP_DATACONF_H

#include <stdbool.h>
#include <stddef.h>

struct cp_dkv {
	char *key;
	char *val;
	unsigned line;
};

typedef struct cp_dconf {
	struct cp_dkv *v;
	size_t n;
	char *text;            /* the file's text, NUL-terminated */
	size_t len;
	char *origin;          /* "builtin:NAME" or the override's path */
	char version[17];      /* 16 hex digits */
} cp_dconf;

/* Load name (a file of lib/data, or its override) and parse it.  0, or
 * CP_EX_CONFIG after reporting "origin:line: reason". */
int cp_dconf_load(const char *name, cp_dconf *out);
/* Parse text (copied); origin names it in messages.  0 or CP_EX_CONFIG. */
int cp_dconf_parse(const char *text, size_t len, const char *origin,
    cp_dconf *out);
void cp_dconf_free(cp_dconf *c);

/* The value of key, or NULL. */
const char *cp_dconf_get(const cp_dconf *c, const char *key);
/* The line key was set on (0 when missing), for messages. */
unsigned cp_dconf_line(const cp_dconf *c, const char *key);
/*
 * Number at key into *out, which must lie in [lo, hi].  A missing key
 * leaves *out alone and returns true when dflt_ok, else reports it; a bad
 * value is reported with its line.  false after a report.
 */
bool cp_dconf_num(const cp_dconf *c, const char *key, double lo, double hi,
    bool dflt_ok, double *out);
/* Iterate the keys under a section prefix ("theme_value."): returns the
 * index of the next entry at or after *i whose key starts with prefix,
 * advancing *i past it; -1 at the end.  Later duplicates are skipped. */
long cp_dconf_next(const cp_dconf *c, const char *prefix, size_t *i);

#endif
