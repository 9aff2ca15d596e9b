/*
 * Unit tests for lib/config.c: file format, precedence, credentials,
 * data-file overrides.  With arguments "secret KEY" it is also a tiny
 * driver for tests/clientpulse.bats (prints "found" or fails as cp_secret
 * would make a binary fail), so the credentials checks run end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "data.h"
#include "log.h"
#include "tap.h"

static void write_file(const char *path, const char *text, int mode)
{
	FILE *fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	chmod(path, (mode_t)mode);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/cp-test-config.XXXXXX", path[256];
	const char *all[4];
	int err;

	cp_log_init("test_config");
	if (argc == 3 && !strcmp(argv[1], "secret")) {
		const char *v = cp_secret(argv[2], NULL, &err);
		if (err)
			return err;
		puts(v ? "found" : "absent");
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	setenv("XDG_CONFIG_HOME", dir, 1);
	snprintf(path, sizeof path, "%s/clientpulse", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/clientpulse/config", dir);
	write_file(path, "# comment\n; another\ntop = 1\n[http]\n"
	    "user_agent = \"CP/1 (ops@example.com)\"\n  timeout=30  \n"
	    "[news]\nfeed = a\nfeed = b\n", 0600);
	unsetenv("CLIENTPULSE_CONFIG");
	unsetenv("CLIENTPULSE_HTTP_TIMEOUT");
	is(cp_config_load(NULL), 0, "config: parses");
	is_str(cp_config_get("top"), "1", "config: key before any section");
	is_str(cp_config_get("http.user_agent"), "CP/1 (ops@example.com)",
	    "config: section.key, quotes stripped");
	is(cp_conf_long("http.timeout", NULL, 5), 30, "config: file beats default");
	setenv("CLIENTPULSE_HTTP_TIMEOUT", "45", 1);
	is(cp_conf_long("http.timeout", NULL, 5), 45, "config: env beats file");
	is(cp_conf_long("http.timeout", "60", 5), 60, "config: flag beats env");
	is(cp_conf_long("http.missing", NULL, 5), 5, "config: default");
	is(cp_config_getall("news.feed", all, 4), 2, "config: repeated key");
	is_str(all[1], "b", "config: repeated key keeps order");
	ok(cp_conf_bool("x.flag", "yes", false), "config: booleans");
	cp_config_free();

	snprintf(path, sizeof path, "%s/bad.conf", dir);
	write_file(path, "[http\nnot a pair\n", 0600);
	is(cp_config_load(path), 78, "config: bad lines are a config error");
	cp_config_free();

	snprintf(path, sizeof path, "%s/clientpulse/credentials", dir);
	write_file(path, "[hubspot]\ntoken = pat-secret-value\n", 0600);
	ok(cp_secret("hubspot.token", NULL, &err) != NULL && err == 0,
	    "credentials: read from a 0600 file");
	cp_config_free();
	chmod(path, 0640);
	ok(cp_secret("hubspot.token", NULL, &err) == NULL && err == 78,
	    "credentials: group-readable file refused");
	cp_config_free();
	unlink(path);
	setenv("CP_TEST_TOKEN", "env-secret-value", 1);
	is_str(cp_secret("hubspot.token", "CP_TEST_TOKEN", &err),
	    "env-secret-value", "credentials: environment fallback");
	{
		char msg[] = "token env-secret-value leaked";
		is_str(cp_log_redact(msg), "token [REDACTED] leaked",
		    "credentials: a secret read is redacted from messages");
	}
	cp_config_free();

	{
		size_t len;
		char *origin = NULL, *d;
		d = cp_data_load("schema/10-core.sql", &len, &origin);
		ok(d && strstr(d, "CREATE TABLE tenants"), "data: builtin file");
		is_str(origin, "builtin", "data: origin builtin");
		free(d);
		free(origin);
		snprintf(path, sizeof path, "%s/clientpulse/reliability.conf", dir);
		write_file(path, "sec = 0.5\n", 0600);
		d = cp_data_load("reliability.conf", &len, &origin);
		is_str(d, "sec = 0.5\n", "data: config dir overrides");
		ok(origin && strstr(origin, "/clientpulse/reliability.conf"),
		    "data: origin is the override's path");
		free(d);
		free(origin);
		unlink(path);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return done_testing();
}
