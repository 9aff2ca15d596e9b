#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *prog = "clientpulse";
static int level = CP_LOG_WARN;
static int json;
static int use_syslog;
/* Secrets are few (a token or two per process); a small fixed table keeps
 * the logger free of allocation, so it works even when malloc fails. */
static char *secrets[16];
static int nsecrets;

void cp_log_init(const char *argv0)
{
	const char *s;

	if (argv0 && *argv0) {
		s = strrchr(argv0, '/');
		prog = s ? s + 1 : argv0;
	}
}

const char *cp_prog(void) { return prog; }
void cp_log_set_level(int l) { level = l; }
int cp_log_level(void) { return level; }
void cp_log_set_json(int on) { json = on; }

void cp_log_set_syslog(int on)
{
	use_syslog = on;
	if (on)
		openlog(prog, LOG_PID, LOG_USER);
}

void cp_log_secret(const char *secret)
{
	int i;

	/* Short strings would redact ordinary words; nobody's token is this
	 * short, so refusing them costs nothing. */
	if (!secret || strlen(secret) < 6 || nsecrets >= 16)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	secrets[nsecrets] = strdup(secret);
	if (secrets[nsecrets])
		nsecrets++;
}

char *cp_log_redact(char *s)
{
	static const char mask[] = "[REDACTED]";
	int i;

	for (i = 0; i < nsecrets; i++) {
		size_t sl = strlen(secrets[i]);
		char *p;

		/* The mask is never longer than a secret (>= 6 bytes is not
		 * guaranteed, so pad with the mask's prefix only) — the string
		 * only ever shrinks, so editing in place is safe. */
		while ((p = strstr(s, secrets[i])) != NULL) {
			size_t ml = sl < sizeof mask - 1 ? sl : sizeof mask - 1;
			memcpy(p, mask, ml);
			memmove(p + ml, p + sl, strlen(p + sl) + 1);
		}
	}
	return s;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void vlog(int l, const char *fmt, va_list ap)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[4096];

	if (l > level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	cp_log_redact(msg);
	if (use_syslog)
		syslog(prio[l], "%s", msg);
	if (json) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "{\"ts\":\"%s\",\"prog\":", ts);
		json_str(stderr, prog);
		fprintf(stderr, ",\"level\":\"%s\",\"msg\":", names[l]);
		json_str(stderr, msg);
		fputs("}\n", stderr);
	} else if (l >= CP_LOG_INFO) {
		fprintf(stderr, "%s: %s: %s\n", prog, names[l], msg);
	} else {
		fprintf(stderr, "%s: %s\n", prog, msg);
	}
}

void cp_log(int l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

void cp_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CP_LOG_ERROR, fmt, ap);
	va_end(ap);
}

void cp_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CP_LOG_WARN, fmt, ap);
	va_end(ap);
}

void cp_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CP_LOG_INFO, fmt, ap);
	va_end(ap);
}

void cp_debug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CP_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void cp_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CP_LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(code);
}
