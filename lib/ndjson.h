/*
 * ndjson.h — the record loop every stage shares, and the record writer.
 *
 * Reading streams: one line in memory at a time, never the whole input.
 * Each line is checked in order — length (cp_ndjson.max_line), NUL bytes,
 * UTF-8, JSON syntax (duplicate keys rejected), top-level object — and a
 * line failing any check is rejected:
 *
 *     cp-extract: <stdin>:17: invalid UTF-8 at byte 42
 *
 * appended verbatim to the --reject file when one is set, counted, and
 * skipped; the stage goes on and cp_ndjson_status() turns the count into
 * exit status 65 at the end.  Empty and all-blank lines are skipped
 * silently, as the NDJSON convention allows.  "\r\n" endings are accepted.
 *
 * Writing: compact JSON (json.h, exact numbers), one record per line,
 * flushed per line when stdout is a terminal or cp_ndjson.unbuffered is
 * set.  A closed pipe (EPIPE) ends the process quietly with status 0:
 * `cp-extract | head` is not an error.
 */
#ifndef CP_NDJSON_H
#define CP_NDJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cp_ndjson_opts {
	size_t max_line;          /* bytes; default 16 MiB */
	const char *reject_path;  /* --reject FILE, or NULL */
	bool unbuffered;          /* --unbuffered */
	/*
	 * Called when the reader is about to wait for more input (nothing
	 * complete is buffered and nothing is ready to read).  A stage that
	 * holds a write transaction commits here: waiting on a pipe while
	 * holding the lock deadlocks when the stage upstream waits for that
	 * lock before it finishes the line we wait for.  Non-zero stops the
	 * reading and is passed back, as from a cp_record_fn.
	 */
	int (*idle)(void);
};
extern struct cp_ndjson_opts cp_ndjson;

/* Where a record came from, for messages. */
typedef struct cp_line {
	const char *input;        /* "<stdin>" or the file name */
	unsigned long lineno;     /* 1-based */
	const char *text;         /* the raw line, without its newline */
	size_t len;
} cp_line;

/*
 * Called once per good record.  rec is borrowed (json_incref to keep it).
 * Return 0 to go on, or non-zero to stop reading (a fatal error the
 * callback has already reported); the value is passed back to the caller.
 */
typedef int (*cp_record_fn)(json_t *rec, const cp_line *ln, void *arg);

/* Read one stream to its end. */
int cp_ndjson_read(FILE *fp, const char *name, cp_record_fn fn, void *arg);
/* Read each named file in turn ("-" is stdin), or stdin when there are
 * none.  An unreadable file is reported and makes the result 66. */
int cp_ndjson_inputs(int nfiles, char **files, cp_record_fn fn, void *arg);

/*
 * The same loop without the JSON parse, for a stage that reads only part
 * of each record itself (cp-dedupe, whose records are mostly text it does
 * not need decoded twice): fn gets every line that passed the length,
 * NUL and UTF-8 checks (blank lines skipped), and rejects or accepts it.
 */
typedef int (*cp_rawline_fn)(const cp_line *ln, void *arg);
int cp_ndjson_inputs_raw(int nfiles, char **files, cp_rawline_fn fn,
    void *arg);

/* Reject a line that parsed but is not acceptable (a missing field…):
 * reported as "prog: input:line: reason", written to the reject file,
 * counted. */
void cp_reject(const cp_line *ln, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
unsigned long cp_ndjson_rejected(void);
unsigned long cp_ndjson_accepted(void);

/* Require string fields: rejects the line naming the first one missing
 * and returns false.  The list ends with NULL. */
bool cp_require_fields(const json_t *rec, const cp_line *ln, ...);

/* Write a record to stdout. */
void cp_emit(const json_t *rec);
/* Write a raw, already serialised line (without newline) to stdout. */
void cp_emit_raw(const char *text, size_t len);
/* Flush and check stdout; returns 0 or CP_EX_IOERR after reporting. */
int cp_output_close(void);
/* The exit status for the stage: status if non-zero, else 65 when any
 * line was rejected, else 0.  Also closes stdout (cp_output_close). */
int cp_ndjson_status(int status);

#endif
