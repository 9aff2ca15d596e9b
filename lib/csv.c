#include <string.h>

#include "csv.h"

bool cp_csv_needs_quotes(const char *s)
{
	size_t n;

	if (!s || !*s)
		return false;
	n = strlen(s);
	return strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[n - 1] == ' ';
}

void cp_csv_field(strbuf *sb, const char *s)
{
	const char *q;

	if (!cp_csv_needs_quotes(s)) {
		if (s)
			sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '"');
	while ((q = strchr(s, '"'))) {
		sb_add(sb, s, (size_t)(q - s) + 1);
		sb_addc(sb, '"');
		s = q + 1;
	}
	sb_adds(sb, s);
	sb_addc(sb, '"');
}

void cp_csv_row(strbuf *sb, const char *const *fields, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(sb, ',');
		cp_csv_field(sb, fields[i]);
	}
	sb_add(sb, "\r\n", 2);
}
