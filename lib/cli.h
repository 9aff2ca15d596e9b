/*
 * cli.h — what every binary's main() shares.
 *
 * The shape of every main():
 *
 *     cp_cli_init(argc, argv);
 *     while ((c = getopt_long(argc, argv, "hqv…", longopts, NULL)) != -1)
 *             if (!cp_cli_option(c, optarg, usage)) switch (c) { … }
 *     if ((rc = cp_cli_ready())) return rc;
 *     … open inputs, one record loop …
 *     return cp_ndjson_status(rc);
 *
 * Options every binary accepts (put CP_CLI_LONGOPTS in the table and
 * "hqv" in the short string): --db FILE, --as USER, --tenant NAME,
 * --config FILE, -q/--quiet, -v/--verbose (twice for debug),
 * --log-format=text|json, --help, --version.  Stages reading NDJSON also
 * take CP_CLI_NDJSON_LONGOPTS: --reject FILE, --max-line BYTES,
 * --unbuffered.
 */
#ifndef CP_CLI_H
#define CP_CLI_H

#include <getopt.h>
#include <stdbool.h>

enum {
	CP_OPT_DB = 0x1000, CP_OPT_AS, CP_OPT_TENANT, CP_OPT_CONFIG,
	CP_OPT_LOGFMT, CP_OPT_VERSION, CP_OPT_REJECT, CP_OPT_MAXLINE,
	CP_OPT_UNBUFFERED,
	CP_OPT_LOCAL = 0x2000      /* first free value for a binary's own */
};

#define CP_CLI_LONGOPTS \
	{ "db", required_argument, NULL, CP_OPT_DB }, \
	{ "as", required_argument, NULL, CP_OPT_AS }, \
	{ "tenant", required_argument, NULL, CP_OPT_TENANT }, \
	{ "config", required_argument, NULL, CP_OPT_CONFIG }, \
	{ "log-format", required_argument, NULL, CP_OPT_LOGFMT }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, CP_OPT_VERSION }

#define CP_CLI_NDJSON_LONGOPTS \
	{ "reject", required_argument, NULL, CP_OPT_REJECT }, \
	{ "max-line", required_argument, NULL, CP_OPT_MAXLINE }, \
	{ "unbuffered", no_argument, NULL, CP_OPT_UNBUFFERED }

struct cp_cli {
	const char *db;        /* --db, else NULL (db.h picks the default) */
	const char *as;        /* --as, else $CLIENTPULSE_AS, else NULL */
	const char *tenant;    /* --tenant, else $CLIENTPULSE_TENANT */
	const char *config;    /* --config */
};
extern struct cp_cli cp_cli;

/* Program name, SIGPIPE ignored (writes get EPIPE), locale for utf8. */
void cp_cli_init(int argc, char **argv);
/* Handle a common option; true when it was one.  --help prints usage to
 * stdout and exits 0, --version prints "prog VERSION" and exits 0, '?'
 * (getopt's unknown option) prints usage to stderr and exits 64. */
bool cp_cli_option(int opt, const char *arg, const char *usage);
/* After option parsing: load the config file.  0 or an exit code. */
int cp_cli_ready(void);
/* Print usage to stderr and exit 64 (a usage error). */
void cp_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Parse a size like "16M", "512K", "1G", "1048576"; false if bad. */
bool cp_parse_size(const char *s, size_t *out);

#endif
