/*
 * csv.h — RFC 4180 CSV output.
 *
 * Records end with CRLF; a field is quoted when it holds a comma, a double
 * quote, CR or LF (or starts or ends with a space, which some readers
 * trim), and a double quote inside a quoted field is doubled.  Everything
 * else is written as is, so a strict reader (python3's csv module with
 * strict=True) gets back exactly the strings that went in.  Text is
 * passed through byte for byte: callers give UTF-8.
 *
 * No spreadsheet-formula defusing is done (a leading '=' stays '='): the
 * output is data, exact; see cp-inbox(1) for the caveat.
 */
#ifndef CP_CSV_H
#define CP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Whether s must be quoted. */
bool cp_csv_needs_quotes(const char *s);
/* Append one field (NULL is the empty field), quoted when needed. */
void cp_csv_field(strbuf *sb, const char *s);
/* Append a whole record: n fields separated by commas, then CRLF. */
void cp_csv_row(strbuf *sb, const char *const *fields, size_t n);

#endif
