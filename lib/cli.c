#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "ndjson.h"

struct cp_cli cp_cli;

void cp_cli_init(int argc, char **argv)
{
	const char *s;

	cp_log_init(argc > 0 ? argv[0] : NULL);
	/* a closed pipe must surface as EPIPE from write, not kill us
	 * between a write and the state update that follows it */
	signal(SIGPIPE, SIG_IGN);
	setlocale(LC_CTYPE, "");
	if ((s = getenv("CLIENTPULSE_AS")) && *s)
		cp_cli.as = s;
	if ((s = getenv("CLIENTPULSE_TENANT")) && *s)
		cp_cli.tenant = s;
	if ((s = getenv("CLIENTPULSE_LOG_FORMAT")) && !strcmp(s, "json"))
		cp_log_set_json(1);
}

void cp_usage_error(const char *usage, const char *fmt, ...)
{
	if (fmt) {
		char msg[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		cp_err("%s", msg);
	}
	fputs(usage, stderr);
	exit(CP_EX_USAGE);
}

bool cp_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return false;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0)
		return false;
	*out = (size_t)v;
	return true;
}

bool cp_cli_option(int opt, const char *arg, const char *usage)
{
	switch (opt) {
	case CP_OPT_DB:
		cp_cli.db = arg;
		return true;
	case CP_OPT_AS:
		cp_cli.as = arg;
		return true;
	case CP_OPT_TENANT:
		cp_cli.tenant = arg;
		return true;
	case CP_OPT_CONFIG:
		cp_cli.config = arg;
		return true;
	case CP_OPT_LOGFMT:
		if (!strcmp(arg, "json"))
			cp_log_set_json(1);
		else if (!strcmp(arg, "text"))
			cp_log_set_json(0);
		else
			cp_usage_error(usage, "--log-format: expected text or "
			    "json, not '%s'", arg);
		return true;
	case 'q':
		cp_log_set_level(CP_LOG_ERROR);
		return true;
	case 'v':
		if (cp_log_level() < CP_LOG_INFO)
			cp_log_set_level(CP_LOG_INFO);
		else
			cp_log_set_level(CP_LOG_DEBUG);
		return true;
	case 'h':
		fputs(usage, stdout);
		exit(CP_EX_OK);
	case CP_OPT_VERSION:
		printf("%s %s\n", cp_prog(), CP_VERSION);
		exit(CP_EX_OK);
	case CP_OPT_REJECT:
		cp_ndjson.reject_path = arg;
		return true;
	case CP_OPT_MAXLINE:
		if (!cp_parse_size(arg, &cp_ndjson.max_line))
			cp_usage_error(usage, "--max-line: not a size: '%s'", arg);
		return true;
	case CP_OPT_UNBUFFERED:
		cp_ndjson.unbuffered = true;
		return true;
	case '?':
	case ':':
		/* getopt has already said what was wrong */
		cp_usage_error(usage, NULL);
	}
	return false;
}

int cp_cli_ready(void)
{
	return cp_config_load(cp_cli.config);
}
