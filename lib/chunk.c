#include <string.h>

#include "chunk.h"
#include "mem.h"

/* Characters in s[a..b). */
static size_t chars(const char *s, size_t a, size_t b)
{
	size_t c = 0;
	for (; a < b; a++)
		if (((unsigned char)s[a] & 0xC0) != 0x80)
			c++;
	return c;
}

static void add(json_t *out, const char *t, size_t a, size_t b, size_t off)
{
	json_t *o = json_object();
	json_object_set_new(o, "text", json_stringn(t + a, b - a));
	json_object_set_new(o, "offset", json_integer((json_int_t)off));
	json_array_append_new(out, o);
}

/* Byte position of at most max characters from a, not beyond b, backed
 * off to the last space when there is one. */
static size_t cut(const char *t, size_t a, size_t b, size_t max)
{
	size_t i = a, c = 0, sp = 0;

	while (i < b && c < max) {
		if (t[i] == ' ')
			sp = i;
		i++;
		while (i < b && ((unsigned char)t[i] & 0xC0) == 0x80)
			i++;
		c++;
	}
	if (i < b && sp > a)
		return sp;
	return i;
}

json_t *cp_chunks(const char *t, const cp_spans *s, size_t max)
{
	json_t *out = json_array();
	size_t i = 0, pos = 0, cpos = 0;

	if (max < 16)
		max = 16;
	while (i < s->n) {
		size_t a = s->v[i].start, j = i, off;
		/* characters up to the chunk start, counted incrementally */
		cpos += chars(t, pos, a);
		pos = a;
		off = cpos;
		/* bytes never undercount characters: only count near the limit */
		while (j + 1 < s->n && (s->v[j + 1].end - a <= max ||
		    chars(t, a, s->v[j + 1].end) <= max))
			j++;
		if (j == i && chars(t, a, s->v[i].end) > max) {
			/* one long sentence: cut it into pieces */
			size_t p = a;
			while (p < s->v[i].end) {
				size_t e = cut(t, p, s->v[i].end, max);
				add(out, t, p, e, cpos + chars(t, a, p));
				p = e;
				while (p < s->v[i].end && t[p] == ' ')
					p++;
			}
			i++;
			continue;
		}
		add(out, t, a, s->v[j].end, off);
		if (j + 1 >= s->n)
			break;
		/* the next chunk starts with this one's last sentence */
		i = j > i ? j : j + 1;
	}
	return out;
}
