/*
 * data.h — default data compiled into every binary (all of lib/data).
 *
 * Binaries work with nothing installed: themes, lexicons, weights and the
 * schema are compiled in by tools/embed.  cp_data_load() prefers a file of
 * the same name in the configuration directory (config.h), so an operator
 * can override any of them without rebuilding.
 */
#ifndef CP_DATA_H
#define CP_DATA_H

#include <stddef.h>

struct cp_datafile {
	const char *name;   /* path relative to lib/data, e.g. "themes.json" */
	const char *data;   /* NUL-terminated */
	size_t len;
};
extern const struct cp_datafile cp_datafiles[];   /* ends with name NULL */

/* The compiled-in copy, or NULL. */
const struct cp_datafile *cp_data_builtin(const char *name);
/*
 * The override from the config directory when one exists, else the
 * compiled-in copy.  Returns a new NUL-terminated buffer (caller frees)
 * and its length in *len; *origin (may be NULL) gets "builtin" or the
 * file's path (caller frees).  NULL when neither exists or the override
 * cannot be read (reported).
 */
char *cp_data_load(const char *name, size_t *len, char **origin);

#endif
