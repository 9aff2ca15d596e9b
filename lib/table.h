/*
 * table.h — aligned text tables for terminals and pipes.
 *
 * Columns are sized to their widest cell in display columns (unicode.h),
 * so Cyrillic, CJK and emoji line up.  When the table is wider than the
 * terminal, the flexible column (cp_table_flex) is truncated with an
 * ellipsis first, then the others from the right.  Colour (bold header)
 * only when asked, which callers do only on a terminal without NO_COLOR.
 */
#ifndef CP_TABLE_H
#define CP_TABLE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct cp_table cp_table;

cp_table *cp_table_new(int ncols, const char *const *headers);
void cp_table_right(cp_table *t, int col);   /* right-align (numbers) */
void cp_table_flex(cp_table *t, int col);    /* shrink this one first */
/* Add a row of ncols cells (copied; NULL is ""). */
void cp_table_add(cp_table *t, const char *const *cells);
size_t cp_table_rows(const cp_table *t);
/* Print; width 0 means unlimited.  ascii: "..." instead of "…". */
void cp_table_print(cp_table *t, FILE *fp, int width, bool color, bool ascii);
/* Print to fp as stdout's terminal says: its width and colour, and
 * ASCII ellipses without a UTF-8 locale.  Most listings want this. */
void cp_table_print_term(cp_table *t, FILE *fp);
void cp_table_free(cp_table *t);

/* Terminal width of fd: $COLUMNS, else ioctl, else 80 when it is a
 * terminal; 0 (unlimited) when it is not. */
int cp_term_width(int fd);
/* Colour wanted on fd: a terminal, NO_COLOR unset, TERM not "dumb". */
bool cp_term_color(int fd);

#endif
