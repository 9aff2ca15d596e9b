#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "recfile.h"
#include "strbuf.h"

#define MAX_FILE (64u << 20)

static int slurp(FILE *fp, const char *name, strbuf *sb)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		sb_add(sb, chunk, n);
		if (sb->len > MAX_FILE) {
			cp_err("%s: larger than %u MiB", name, MAX_FILE >> 20);
			return CP_EX_DATAERR;
		}
	}
	if (ferror(fp)) {
		cp_err("%s: read error: %s", name, strerror(errno));
		return CP_EX_IOERR;
	}
	return 0;
}

static unsigned long lines_upto(const char *s, size_t from, size_t to,
    unsigned long line)
{
	for (; from < to; from++)
		if (s[from] == '\n')
			line++;
	return line;
}

/* The next line at or after pos that starts with '{'. */
static size_t resync(const char *s, size_t len, size_t pos)
{
	for (; pos < len; pos++)
		if (s[pos] == '\n' && pos + 1 < len && s[pos + 1] == '{')
			return pos + 1;
	return len;
}

/* JSON white space; strchr(" \t\r\n", c) would also match a NUL byte. */
static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reject the text at pos (to the end of its line) with reason. */
static void reject_at(const char *s, size_t len, size_t pos, unsigned long line,
    const char *name, const char *reason)
{
	cp_line ln;
	size_t eol = pos;

	while (eol < len && s[eol] != '\n')
		eol++;
	ln.input = name;
	ln.lineno = line;
	ln.text = s + pos;
	ln.len = eol - pos;
	cp_reject(&ln, "%s", reason);
}

static int parse(const char *s, size_t len, const char *name, cp_record_fn fn,
    void *arg)
{
	size_t pos = 0, at = 0, nelem = 0;
	unsigned long line = 1;
	bool array = false, closed = false, gave_up = false;
	int rc = 0;

	while (pos < len && ws(s[pos]))
		pos++;
	if (pos < len && s[pos] == '[') {
		array = true;
		pos++;
	}
	for (;;) {
		json_error_t e;
		json_t *rec;
		cp_line ln;

		while (pos < len && ws(s[pos]))
			pos++;
		/* an array is JSON too: elements separated by one comma each */
		if (array && pos < len && s[pos] == ']') {
			closed = true;
			pos++;
			break;
		}
		if (array && nelem > 0 && pos < len) {
			if (s[pos] != ',') {
				line = lines_upto(s, at, pos, line);
				at = pos;
				reject_at(s, len, pos, line, name,
				    "invalid JSON: expected ',' or ']' in the array");
				cp_err("%s: giving up on the rest of the array", name);
				gave_up = true;
				break;
			}
			pos++;
			while (pos < len && ws(s[pos]))
				pos++;
		}
		if (pos >= len)
			break;
		line = lines_upto(s, at, pos, line);
		at = pos;
		ln.input = name;
		ln.lineno = line;
		ln.text = s + pos;
		rec = json_loadb(s + pos, len - pos, JSON_DISABLE_EOF_CHECK |
		    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
		if (!rec) {
			size_t eol = pos;
			while (eol < len && s[eol] != '\n')
				eol++;
			ln.len = eol - pos;
			if (e.line > 1)
				cp_reject(&ln, "invalid JSON (at line %lu): %s",
				    line + (unsigned long)e.line - 1, e.text);
			else
				cp_reject(&ln, "invalid JSON: %s", e.text);
			if (array) {
				cp_err("%s: giving up on the rest of the array", name);
				gave_up = true;
				break;
			}
			pos = resync(s, len, pos);
			continue;
		}
		ln.len = (size_t)e.position;
		/* jansson skips a NUL byte after a number ("[1\0]" is [1]):
		 * a record with one is no text anybody wrote */
		if (memchr(ln.text, '\0', ln.len)) {
			cp_reject(&ln, "NUL byte at byte %zu",
			    (size_t)((const char *)memchr(ln.text, '\0', ln.len) -
			    ln.text) + 1);
			json_decref(rec);
			if (array) {
				cp_err("%s: giving up on the rest of the array", name);
				gave_up = true;
				break;
			}
			pos = resync(s, len, pos);
			continue;
		}
		pos += (size_t)e.position;
		nelem++;
		if (!json_is_object(rec)) {
			cp_reject(&ln, "not a JSON object");
			json_decref(rec);
			continue;
		}
		rc = fn(rec, &ln, arg);
		json_decref(rec);
		if (rc)
			break;
	}
	if (!rc && array && !gave_up) {
		/* "[" without its "]", or more after it: not a JSON array */
		while (closed && pos < len && ws(s[pos]))
			pos++;
		if (!closed || pos < len) {
			line = lines_upto(s, at, pos < len ? pos : len, line);
			reject_at(s, len, pos < len ? pos : len, line, name, !closed ?
			    "invalid JSON: the array is not closed with ']'" :
			    "invalid JSON: text after the array");
		}
	}
	return rc;
}

int cp_recfile_inputs(int nfiles, char **files, cp_record_fn fn, void *arg)
{
	int i, status = 0;
	char *stdin_name = "-";

	if (nfiles == 0) {
		nfiles = 1;
		files = &stdin_name;
	}
	for (i = 0; i < nfiles; i++) {
		strbuf sb = CP_STRBUF_INIT;
		bool in = !strcmp(files[i], "-");
		const char *name = in ? "<stdin>" : files[i];
		FILE *fp = in ? stdin : fopen(files[i], "r");
		int rc;

		if (!fp) {
			cp_err("%s: %s", files[i], strerror(errno));
			status = cp_exit_worst(status, CP_EX_NOINPUT);
			continue;
		}
		rc = slurp(fp, name, &sb);
		if (!in)
			fclose(fp);
		if (!rc)
			rc = parse(sb_str(&sb), sb.len, name, fn, arg);
		sb_free(&sb);
		if (rc)
			return rc;
	}
	return status;
}
