/*
 * mem.h — allocation that cannot fail silently.
 *
 * A stage that runs out of memory cannot do anything sensible with a
 * half-built record, so these print "prog: out of memory" and exit 71
 * (EX_OSERR).  Everything they return is freed with free().
 */
#ifndef CP_MEM_H
#define CP_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
