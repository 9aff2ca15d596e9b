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

static int cpwidth(int32_t cp)
{
	int w;

	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
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

void cp_u_fit(strbuf *out, const char *s, int width, bool right, bool ascii)
{
	const char *ell = ascii ? "..." : "\xE2\x80\xA6";
	int ellw = ascii ? 3 : 1, w = cp_u_width(s), used = 0;
	size_t n = strlen(s), i = 0;

	if (width <= 0)
		return;
	if (w <= width) {
		if (right)
			for (; w < width; w++)
				sb_addc(out, ' ');
		for (; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			/* control characters would move the cursor */
			sb_addc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
		}
		if (!right)
			for (; w < width; w++)
				sb_addc(out, ' ');
		return;
	}
	if (ellw > width)
		ellw = 0, ell = "";
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		int cw = cpwidth(cp);

		if (!k)
			k = 1;
		if (used + cw > width - ellw)
			break;
		if (cp < 0x20 || cp == 0x7f)
			sb_addc(out, ' ');
		else
			sb_add(out, s + i, k);
		used += cw;
		i += k;
	}
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
