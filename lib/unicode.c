#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "mem.h"
#include "unicode.h"
#include "utf8.h"

static char *map(const char *s, utf8proc_option_t opt)
{
	utf8proc_uint8_t *out = NULL;
	char *fixed = NULL;
	utf8proc_ssize_t n;

	if (!cp_utf8_valid(s, strlen(s)))
		s = fixed = cp_utf8_repair(s, strlen(s), NULL);
	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
	    opt | UTF8PROC_NULLTERM | UTF8PROC_STABLE);
	if (n < 0) {
		/* cannot happen on valid input; keep the text as it was */
		free(out);
		out = (utf8proc_uint8_t *)xstrdup(s);
	}
	free(fixed);
	return (char *)out;
}

char *cp_u_nfc(const char *s)
{
	return map(s, UTF8PROC_COMPOSE);
}

char *cp_u_casefold(const char *s)
{
	return map(s, UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
}

/* Control characters (C0, DEL, C1) are shown as a space, so they count
 * one column: a headline carrying ESC or CSI must never reach the
 * terminal as a control sequence, and width and fit must agree. */
static bool is_control(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

static int cpwidth(int32_t cp)
{
	int w;

	if (is_control(cp))
		return 1;
	w = utf8proc_charwidth(cp);
	return w < 0 ? 0 : w;
}

int cp_u_width(const char *s)
{
	size_t n = strlen(s), i = 0;
	int w = 0;

	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		w += cpwidth(cp);
		i += k ? k : 1;
	}
	return w;
}

/* Append the characters of s that fit in width columns; returns the
 * columns used.  Controls become spaces, invalid bytes U+FFFD. */
static int put_fitting(strbuf *out, const char *s, int width)
{
	size_t n = strlen(s), i = 0;
	int used = 0;

	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		int cw = cpwidth(cp);

		if (used + cw > width)
			break;
		if (is_control(cp))
			sb_addc(out, ' ');
		else if (!k)
			sb_adds(out, "\xEF\xBF\xBD");
		else
			sb_add(out, s + i, k);
		used += cw;
		i += k ? k : 1;
	}
	return used;
}

void cp_u_fit(strbuf *out, const char *s, int width, bool right, bool ascii)
{
	const char *ell = ascii ? "..." : "\xE2\x80\xA6";
	int ellw = ascii ? 3 : 1, w = cp_u_width(s), used;

	if (width <= 0)
		return;
	if (w <= width) {
		if (right)
			for (; w < width; w++)
				sb_addc(out, ' ');
		used = put_fitting(out, s, width);
		if (!right)
			for (; used < width; used++)
				sb_addc(out, ' ');
		return;
	}
	if (ellw > width)
		ellw = 0, ell = "";
	used = put_fitting(out, s, width - ellw);
	sb_adds(out, ell);
	used += ellw;
	/* a wide character that did not fit leaves one column over */
	for (; used < width; used++)
		sb_addc(out, ' ');
}

bool cp_u_locale_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}
