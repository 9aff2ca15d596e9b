/*
 * config.h — configuration, credentials and their precedence.
 *
 * Files, both "key = value" with optional [section] headers ("[http]"
 * then "user_agent = …" is the key "http.user_agent"), '#' and ';'
 * comments, values may be double-quoted:
 *
 *   config       $XDG_CONFIG_HOME/clientpulse/config (else ~/.config/…),
 *                or --config FILE / $CLIENTPULSE_CONFIG
 *   credentials  $XDG_CONFIG_HOME/clientpulse/credentials, or
 *                $CLIENTPULSE_CREDENTIALS; must be mode 0600 (or stricter)
 *                and owned by the caller, else refused
 *
 * Precedence for settings: command-line flag > environment
 * (CLIENTPULSE_ + the key upper-cased with '.' and '-' as '_', so
 * http.user_agent is CLIENTPULSE_HTTP_USER_AGENT) > config file > default.
 *
 * Secrets never come from flags.  cp_secret() reads the credentials file,
 * falling back to the environment variable named by the caller, and
 * registers the value with the logger so it is redacted from every message.
 */
#ifndef CP_CONFIG_H
#define CP_CONFIG_H

#include <stdbool.h>

/* Load the config file (path NULL: the default location, where a missing
 * file is fine).  Returns 0, or CP_EX_CONFIG after reporting a bad line or
 * an unreadable explicit file.  Called by cp_cli_init(); idempotent. */
int cp_config_load(const char *path);
void cp_config_free(void);

/* The configuration directory ("…/clientpulse"); static storage. */
const char *cp_config_dir(void);
/* A new string: the path of name inside the configuration directory. */
char *cp_config_path(const char *name);

/* Value from the config file only, or NULL. */
const char *cp_config_get(const char *key);
/* Every value of a repeated key, in file order; returns the count and
 * fills at most max entries of out (borrowed strings). */
int cp_config_getall(const char *key, const char **out, int max);

/* Resolved setting: flag (may be NULL) > environment > file > dflt. */
const char *cp_conf(const char *key, const char *flag, const char *dflt);
long cp_conf_long(const char *key, const char *flag, long dflt);
double cp_conf_double(const char *key, const char *flag, double dflt);
bool cp_conf_bool(const char *key, const char *flag, bool dflt);

/* Use this credentials file instead of the default (--token-file). */
void cp_credentials_set_path(const char *path);
/* A secret by key ("hubspot.token") from the credentials file, else from
 * the environment variable envname (may be NULL), else NULL.  When the
 * credentials file exists but is unsafe (group/other permissions, another
 * owner), *err is set to CP_EX_CONFIG and NULL returned; err may be NULL. */
const char *cp_secret(const char *key, const char *envname, int *err);

#endif
