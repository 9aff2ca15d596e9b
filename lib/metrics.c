/*
 * metrics.c — Prometheus text format and atomic file replacement
 * (metrics.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

void cp_prom_number(strbuf *sb, double v)
{
	if (isnan(v))
		sb_adds(sb, "NaN");
	else if (isinf(v))
		sb_adds(sb, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		sb_addf(sb, "%.0f", v);
	else {
		/* the shortest form that reads back to the same double */
		char buf[32];
		int p;
		for (p = 1; p <= 17; p++) {
			snprintf(buf, sizeof buf, "%.*g", p, v);
			if (strtod(buf, NULL) == v)
				break;
		}
		sb_adds(sb, buf);
	}
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void escaped(strbuf *sb, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_adds(sb, "\\\\");
		else if (*s == '\n')
			sb_adds(sb, "\\n");
		else if (quote && *s == '"')
			sb_adds(sb, "\\\"");
		else
			sb_addc(sb, *s);
	}
}

void cp_prom_family(strbuf *sb, const char *name, const char *type,
    const char *help)
{
	sb_addf(sb, "# HELP %s ", name);
	escaped(sb, help, false);
	sb_addf(sb, "\n# TYPE %s %s\n", name, type);
}

static void labels_out(strbuf *sb, const char *const *labels,
    const char *le)
{
	int n = 0;

	if ((!labels || !labels[0]) && !le)
		return;
	sb_addc(sb, '{');
	for (; labels && labels[0] && labels[1]; labels += 2) {
		sb_addf(sb, "%s%s=\"", n++ ? "," : "", labels[0]);
		escaped(sb, labels[1], true);
		sb_addc(sb, '"');
	}
	if (le)
		sb_addf(sb, "%sle=\"%s\"", n ? "," : "", le);
	sb_addc(sb, '}');
}

void cp_prom_sample(strbuf *sb, const char *name, const char *const *labels,
    double value)
{
	sb_adds(sb, name);
	labels_out(sb, labels, NULL);
	sb_addc(sb, ' ');
	cp_prom_number(sb, value);
	sb_addc(sb, '\n');
}

void cp_prom_histogram(strbuf *sb, const char *name,
    const char *const *labels, const double *bounds, size_t nbounds,
    const double *values, size_t nvalues)
{
	double sum = 0;
	size_t i, k;

	for (k = 0; k < nvalues; k++)
		sum += values[k];
	for (i = 0; i <= nbounds; i++) {
		strbuf le = CP_STRBUF_INIT;
		size_t cum = 0;

		for (k = 0; k < nvalues; k++)
			if (i == nbounds || values[k] <= bounds[i])
				cum++;
		if (i == nbounds)
			sb_adds(&le, "+Inf");
		else
			cp_prom_number(&le, bounds[i]);
		sb_addf(sb, "%s_bucket", name);
		labels_out(sb, labels, le.buf);
		sb_addf(sb, " %zu\n", cum);
		sb_free(&le);
	}
	sb_addf(sb, "%s_sum", name);
	labels_out(sb, labels, NULL);
	sb_addc(sb, ' ');
	cp_prom_number(sb, sum);
	sb_addf(sb, "\n%s_count", name);
	labels_out(sb, labels, NULL);
	sb_addf(sb, " %zu\n", nvalues);
}

int cp_write_atomic(const char *dir, const char *name, const char *text,
    size_t len)
{
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	size_t off = 0;
	int fd = mkstemp(tmp), rc = 0;

	if (fd < 0) {
		cp_err("%s: %s", dir, strerror(errno));
		free(tmp);
		free(dst);
		return CP_EX_CANTCREAT;
	}
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	{
		/* readable by node_exporter's user, whatever our umask */
		bool ok = off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
		int err = errno;
		if (close(fd) < 0 && ok) {
			ok = false;
			err = errno;
		}
		if (!ok) {
			cp_err("%s: %s", tmp, strerror(err ? err : EIO));
			rc = CP_EX_IOERR;
		} else if (rename(tmp, dst) < 0) {
			cp_err("%s: %s", dst, strerror(errno));
			rc = CP_EX_CANTCREAT;
		}
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}
