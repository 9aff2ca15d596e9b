/*
 * log.h — diagnostics on stderr, one line each.
 *
 * Text format:  "prog: message"           (errors, warnings)
 *               "prog: info: message"     (-v)
 *               "prog: debug: message"    (-vv)
 * JSON format (--log-format=json): {"ts":…,"prog":…,"level":…,"msg":…}
 *
 * Messages are lowercase, without a trailing full stop, what went wrong
 * first and then where.  Any string registered with cp_log_secret() is
 * replaced by "[REDACTED]" in every message, so a token that leaks into an
 * error text (a URL, a server's echo) never reaches a log.
 */
#ifndef CP_LOG_H
#define CP_LOG_H

enum cp_loglevel {
	CP_LOG_ERROR = 0,
	CP_LOG_WARN  = 1,
	CP_LOG_INFO  = 2,
	CP_LOG_DEBUG = 3
};

void cp_log_init(const char *argv0);      /* program name from argv[0] */
const char *cp_prog(void);                /* "cp-fetch" */
void cp_log_set_level(int level);         /* default CP_LOG_WARN */
int cp_log_level(void);
void cp_log_set_json(int on);
/* Route messages to syslog(3) as well as (json off) or instead of stderr. */
void cp_log_set_syslog(int on);
void cp_log_secret(const char *secret);   /* redact from now on */
/* Apply the redactions to s in place (a string that is about to be shown
 * or stored); returns s. */
char *cp_log_redact(char *s);

void cp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cp_err() then exit(code) */
void cp_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
