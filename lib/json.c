#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

static void dump_string(strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	sb_grow(sb, n + 2);
	sb_addc(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* flush the run of plain bytes before this one */
		sb_add(sb, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
			u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = '\0';
			esc = u;
		}
		sb_adds(sb, esc);
	}
	sb_add(sb, s + run, n - run);
	sb_addc(sb, '"');
}

/* Shortest "%.*g" that strtod() maps back to the same double. */
static void dump_real(strbuf *sb, double d)
{
	char buf[40];
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	sb_adds(sb, buf);
	/* "1" would read back as an integer: keep the value a real */
	if (!strpbrk(buf, ".eEn"))
		sb_adds(sb, ".0");
}

static int keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void dump_object(strbuf *sb, const json_t *v, int flags)
{
	const char *key;
	json_t *val;
	size_t i = 0, n = json_object_size(v);

	sb_addc(sb, '{');
	if (flags & CP_JSON_SORT) {
		const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
		json_object_foreach((json_t *)v, key, val)
			keys[i++] = key;
		qsort(keys, n, sizeof *keys, keycmp);
		for (i = 0; i < n; i++) {
			if (i)
				sb_addc(sb, ',');
			dump_string(sb, keys[i], strlen(keys[i]));
			sb_addc(sb, ':');
			cp_json_dump(sb, json_object_get(v, keys[i]), flags);
		}
		free(keys);
	} else {
		json_object_foreach((json_t *)v, key, val) {
			if (i++)
				sb_addc(sb, ',');
			dump_string(sb, key, strlen(key));
			sb_addc(sb, ':');
			cp_json_dump(sb, val, flags);
		}
	}
	sb_addc(sb, '}');
}

void cp_json_dump(strbuf *sb, const json_t *v, int flags)
{
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		dump_object(sb, v, flags);
		break;
	case JSON_ARRAY:
		sb_addc(sb, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				sb_addc(sb, ',');
			cp_json_dump(sb, json_array_get(v, i), flags);
		}
		sb_addc(sb, ']');
		break;
	case JSON_STRING:
		dump_string(sb, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sb_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		dump_real(sb, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_adds(sb, "true");
		break;
	case JSON_FALSE:
		sb_adds(sb, "false");
		break;
	case JSON_NULL:
		sb_adds(sb, "null");
		break;
	}
}

char *cp_json_dumps(const json_t *v, int flags)
{
	strbuf sb = CP_STRBUF_INIT;
	cp_json_dump(&sb, v, flags);
	return sb_detach(&sb);
}

json_t *cp_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &je);

	if (!v && err)
		snprintf(err, errlen, "%s (column %d)", je.text, je.column);
	return v;
}

const char *cp_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *cp_json_strd(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = cp_json_str(obj, key);
	return s ? s : dflt;
}

bool cp_json_num(const json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

int64_t cp_json_int(const json_t *obj, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	/* a real only when it fits: converting 5.9e20 to int64_t is
	 * undefined behaviour (found by fuzz_edgar) */
	if (json_is_real(v) && json_real_value(v) >= -9223372036854775808.0 &&
	    json_real_value(v) < 9223372036854775808.0)
		return (int64_t)json_real_value(v);
	return dflt;
}

bool cp_json_bool(const json_t *obj, const char *key, bool dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

void cp_json_set_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}
