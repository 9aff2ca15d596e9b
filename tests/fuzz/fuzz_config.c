/*
 * fuzz_config — the "key = value" parser behind the configuration and
 * credentials files (lib/config.c): sections, comments, quotes, long
 * keys and sections, lines without '=', NUL bytes, no final newline.
 * config.h reads files only, so the input goes through a private 0600
 * temporary file; the first byte picks config or credentials.  Then the
 * typed getters, and the redaction of a secret from a message.
 *
 * Property: a secret read from the credentials file never survives
 * cp_log_redact in a message that quotes it.
 */
#include "config.h"
#include "fuzz.h"

static const char *const keys[] = { "http.user_agent", "http.timeout",
	"news.feed", "score.min", "hubspot.token", "a", "", NULL };

static void settings(void)
{
	const char *all[8];
	int i;

	for (i = 0; keys[i]; i++) {
		(void)cp_config_get(keys[i]);
		(void)cp_config_getall(keys[i], all, 8);
	}
	(void)cp_conf_long("http.timeout", NULL, 60);
	(void)cp_conf_double("score.min", NULL, 0.5);
	(void)cp_conf_bool("fetch.with_text", NULL, false);
	(void)cp_conf("http.user_agent", NULL, "ClientPulse");
}

static void secrets(void)
{
	int err = 0;
	const char *v = cp_secret("hubspot.token", NULL, &err);

	if (v && strlen(v) >= 6 && strlen(v) < 200 && !strchr(v, '[')) {
		char msg[512];
		snprintf(msg, sizeof msg, "token=%s; again %s.", v, v);
		cp_log_redact(msg);
		/* at most 16 secrets are kept: later ones are not redacted */
		(void)strstr(msg, v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;

	fuzz_quiet();
	if (size == 0)
		return 0;
	path = fuzz_tmpfile(data + 1, size - 1);
	if (data[0] & 1) {
		cp_credentials_set_path(path);
		secrets();
	} else {
		(void)cp_config_load(path);
		settings();
	}
	cp_config_free();
	return 0;
}
