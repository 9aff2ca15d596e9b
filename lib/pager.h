/*
 * pager.h — long output through $PAGER when it goes to a terminal.
 *
 * Callers render the whole text first (tables need every row to size
 * their columns anyway), then hand it to cp_page(), which decides: when
 * standard output is a terminal, paging is allowed and the text has more
 * lines than the screen, it runs the pager ($CLIENTPULSE_PAGER, else
 * $PAGER, else "less") through /bin/sh with the text on its standard
 * input, like git does; otherwise it writes the text to stdout.
 * LESS defaults to "FRX" (quit if one screen, pass colours, keep the
 * screen) when unset.  A pager of "" or "cat" means no pager.  A pager
 * that cannot be started (the shell exits 127) falls back to stdout.
 */
#ifndef CP_PAGER_H
#define CP_PAGER_H

#include <stdbool.h>
#include <stddef.h>

/* The screen height of fd: $LINES, else ioctl, else 24; 0 when fd is
 * not a terminal. */
int cp_term_height(int fd);
/* Write text to stdout or through the pager (enable false: never page).
 * 0 or an exit code (74 after a write error, reported). */
int cp_page(const char *text, size_t len, bool enable);

#endif
