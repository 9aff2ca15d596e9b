#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "strbuf.h"
#include "utf8.h"

struct cp_ndjson_opts cp_ndjson = { 16u << 20, NULL, false, NULL };

static unsigned long nrejected, naccepted;
static cp_rawline_fn raw_fn;	/* cp_ndjson_inputs_raw: no JSON parse */
static int rejectfd = -1;
static int out_tty = -1;

static void reject_write(const cp_line *ln)
{
	if (!cp_ndjson.reject_path)
		return;
	if (rejectfd < 0) {
		rejectfd = open(cp_ndjson.reject_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (rejectfd < 0) {
			cp_err("%s: %s", cp_ndjson.reject_path, strerror(errno));
			cp_ndjson.reject_path = NULL;
			return;
		}
	}
	/* one write per line so concurrent stages never interleave lines */
	{
		char *buf = xmalloc(ln->len + 1);
		memcpy(buf, ln->text, ln->len);
		buf[ln->len] = '\n';
		if (write(rejectfd, buf, ln->len + 1) < 0)
			cp_err("%s: %s", cp_ndjson.reject_path, strerror(errno));
		free(buf);
	}
}

void cp_reject(const cp_line *ln, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cp_err("%s:%lu: %s", ln->input, ln->lineno, msg);
	/* an over-long line was never held whole: nothing to copy */
	if (ln->text && ln->len)
		reject_write(ln);
	nrejected++;
}

unsigned long cp_ndjson_rejected(void) { return nrejected; }
unsigned long cp_ndjson_accepted(void) { return naccepted; }

bool cp_require_fields(const json_t *rec, const cp_line *ln, ...)
{
	va_list ap;
	const char *key;
	bool ok = true;

	va_start(ap, ln);
	while ((key = va_arg(ap, const char *)) != NULL) {
		json_t *v = json_object_get(rec, key);
		if (!v) {
			cp_reject(ln, "missing field \"%s\"", key);
			ok = false;
			break;
		}
	}
	va_end(ap);
	return ok;
}

static bool blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static const char *typename(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	default: return "an object";
	}
}

/* Check one complete line and hand it to the callback. */
static int one_line(cp_line *ln, cp_record_fn fn, void *arg)
{
	char err[256];
	const char *nul;
	size_t ok;
	json_t *rec;
	int rc;

	if (ln->len > cp_ndjson.max_line) {
		cp_reject(ln, "line longer than %zu bytes", cp_ndjson.max_line);
		return 0;
	}
	if (ln->len && ln->text[ln->len - 1] == '\r')
		ln->len--;
	if (blank(ln->text, ln->len))
		return 0;
	if ((nul = memchr(ln->text, '\0', ln->len)) != NULL) {
		cp_reject(ln, "NUL byte at byte %zu", (size_t)(nul - ln->text) + 1);
		return 0;
	}
	if ((ok = cp_utf8_valid_prefix(ln->text, ln->len)) != ln->len) {
		cp_reject(ln, "invalid UTF-8 at byte %zu", ok + 1);
		return 0;
	}
	if (raw_fn) {
		naccepted++;
		return raw_fn(ln, arg);
	}
	rec = cp_json_parse(ln->text, ln->len, err, sizeof err);
	if (!rec) {
		cp_reject(ln, "invalid JSON: %s", err);
		return 0;
	}
	if (!json_is_object(rec)) {
		cp_reject(ln, "not a JSON object but %s", typename(rec));
		json_decref(rec);
		return 0;
	}
	naccepted++;
	rc = fn(rec, ln, arg);
	json_decref(rec);
	return rc;
}

/*
 * Whatever input is there now, up to n bytes (0 at the end).  fread()
 * would wait until all n bytes came, holding a record that has arrived
 * through a pipe back until 64 KiB more follow: a stage in a live
 * pipeline must pass each record on as it comes.  The stream must not
 * have been read through stdio before (cp_ndjson_inputs opens its own).
 */
static size_t read_some(FILE *fp, char *p, size_t n, bool *failed)
{
	int fd = fileno(fp);
	ssize_t r;

	if (fd < 0)
		return fread(p, 1, n, fp);
	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		*failed = true;
		return 0;
	}
	return (size_t)r;
}

/* Before a read that would block, let the stage let go of its locks. */
static int wait_idle(FILE *fp)
{
	struct pollfd p = { fileno(fp), POLLIN, 0 };

	if (!cp_ndjson.idle || p.fd < 0)
		return 0;
	if (poll(&p, 1, 0) != 0)
		return 0;	/* input ready (or an error read() will report) */
	return cp_ndjson.idle();
}

/*
 * The buffer holds [start, end) of unread bytes.  A line longer than
 * max_line is never held whole: once the limit is passed, the rest of the
 * line is read and dropped chunk by chunk, so memory stays bounded
 * whatever the input.
 */
int cp_ndjson_read(FILE *fp, const char *name, cp_record_fn fn, void *arg)
{
	size_t cap = 1 << 16, start = 0, end = 0;
	char *buf = xmalloc(cap);
	unsigned long lineno = 0;
	bool skipping = false, eof = false;
	int rc = 0;
	cp_line ln = { name, 0, NULL, 0 };

	for (;;) {
		char *nl = memchr(buf + start, '\n', end - start);

		if (nl) {
			size_t len = (size_t)(nl - (buf + start));
			lineno++;
			if (!skipping) {
				ln.lineno = lineno;
				ln.text = buf + start;
				ln.len = len;
				if ((rc = one_line(&ln, fn, arg)) != 0)
					break;
			}
			skipping = false;
			start += len + 1;
			continue;
		}
		if (eof) {
			if (end > start && !skipping) {
				ln.lineno = ++lineno;
				ln.text = buf + start;
				ln.len = end - start;
				rc = one_line(&ln, fn, arg);
			}
			break;
		}
		if (!skipping && end - start > cp_ndjson.max_line) {
			cp_line big = { name, lineno + 1, NULL, 0 };
			cp_reject(&big, "line longer than %zu bytes",
			    cp_ndjson.max_line);
			skipping = true;
		}
		if (skipping)
			start = end;
		/* keep the partial line at the front, then read more */
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (end == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		if ((rc = wait_idle(fp)) != 0)
			break;
		{
			bool failed = false;
			size_t n = read_some(fp, buf + end, cap - end, &failed);
			end += n;
			if (n == 0) {
				if (failed || ferror(fp)) {
					cp_err("%s: read error: %s", name,
					    strerror(errno));
					rc = CP_EX_IOERR;
					break;
				}
				eof = true;
			}
		}
	}
	free(buf);
	return rc;
}

int cp_ndjson_inputs(int nfiles, char **files, cp_record_fn fn, void *arg)
{
	int i, status = 0;

	if (nfiles == 0)
		return cp_ndjson_read(stdin, "<stdin>", fn, arg);
	for (i = 0; i < nfiles; i++) {
		FILE *fp;
		int rc;

		if (strcmp(files[i], "-") == 0) {
			rc = cp_ndjson_read(stdin, "<stdin>", fn, arg);
		} else if (!(fp = fopen(files[i], "r"))) {
			cp_err("%s: %s", files[i], strerror(errno));
			status = cp_exit_worst(status, CP_EX_NOINPUT);
			continue;
		} else {
			rc = cp_ndjson_read(fp, files[i], fn, arg);
			fclose(fp);
		}
		if (rc)
			return rc;
	}
	return status;
}

int cp_ndjson_inputs_raw(int nfiles, char **files, cp_rawline_fn fn,
    void *arg)
{
	int rc;

	raw_fn = fn;
	rc = cp_ndjson_inputs(nfiles, files, NULL, arg);
	raw_fn = NULL;
	return rc;
}

static void write_failed(void)
{
	/* The reader went away: not our error.  _exit, not exit: the
	 * write may come from a worker thread (cp-dedupe's), and exit()
	 * would run the exit handlers, LeakSanitizer's among them, while
	 * the other thread is still at work. */
	if (errno == EPIPE)
		_exit(CP_EX_OK);
	cp_err("write error: %s", strerror(errno));
	exit(CP_EX_IOERR);
}

void cp_emit_raw(const char *text, size_t len)
{
	if (out_tty < 0)
		out_tty = isatty(STDOUT_FILENO);
	if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF)
		write_failed();
	if ((cp_ndjson.unbuffered || out_tty) && fflush(stdout) == EOF)
		write_failed();
}

void cp_emit(const json_t *rec)
{
	static strbuf sb = CP_STRBUF_INIT;

	sb_reset(&sb);
	cp_json_dump(&sb, rec, 0);
	cp_emit_raw(sb.buf, sb.len);
	/* keep the buffer between records, but not a huge one for ever */
	if (sb.cap > (1u << 22))
		sb_free(&sb);
}

int cp_output_close(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return CP_EX_OK;
		cp_err("write error: %s", strerror(errno));
		return CP_EX_IOERR;
	}
	return CP_EX_OK;
}

int cp_ndjson_status(int status)
{
	int out = cp_output_close();

	if (rejectfd >= 0) {
		close(rejectfd);
		rejectfd = -1;
	}
	if (status)
		return status;
	if (out)
		return out;
	if (nrejected) {
		cp_info("%lu line%s rejected", nrejected, nrejected == 1 ? "" : "s");
		return CP_EX_DATAERR;
	}
	return CP_EX_OK;
}
