/*
 * strbuf.h — a growable byte buffer, always NUL-terminated.
 *
 * Initialise with CP_STRBUF_INIT or sb_init(); the buffer owns its memory
 * until sb_detach() hands it to the caller (who then free()s it).
 */
#ifndef CP_STRBUF_H
#define CP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
	char *buf;     /* always valid and NUL-terminated after init */
	size_t len;
	size_t cap;
} strbuf;

#define CP_STRBUF_INIT { NULL, 0, 0 }

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_reset(strbuf *sb);                 /* len = 0, keeps capacity */
void sb_grow(strbuf *sb, size_t extra);    /* room for extra more bytes */
void sb_add(strbuf *sb, const void *p, size_t n);
void sb_adds(strbuf *sb, const char *s);
void sb_addc(strbuf *sb, char c);
void sb_addf(strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap);
void sb_truncate(strbuf *sb, size_t len);
char *sb_detach(strbuf *sb);               /* caller frees; sb is reset */
/* the current contents, "" if nothing was added yet */
const char *sb_str(const strbuf *sb);

#endif
