/*
 * cp-extract — documents in, signals out: the main text of each document,
 * cleaned, its language, entities, accounts, themes, PII redacted, chunks
 * and fingerprint.
 *
 * A filter: it writes nothing.  With a state file (--db, $CLIENTPULSE_DB,
 * or the default one when it exists) it reads the accounts of every tenant
 * to resolve the organisations the text names; without one it still runs,
 * keeping only the accounts a document already carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "db.h"
#include "entities.h"
#include "exitcode.h"
#include "extract.h"
#include "json.h"
#include "lang.h"
#include "log.h"
#include "ndjson.h"
#include "pii.h"
#include "record.h"

static const char usage[] =
	"usage: cp-extract [--themes FILE] [--keep-pii] [--chunk-size CHARS]\n"
	"                  [--shingle N] [--no-accounts] [--db FILE]\n"
	"                  [--reject FILE] [--max-line BYTES] [--unbuffered]\n"
	"                  [-q] [-v] [FILE...]\n"
	"Turn document records into signal records.  See cp-extract(1).\n";

enum { OPT_THEMES = CP_OPT_LOCAL, OPT_KEEP_PII, OPT_CHUNK, OPT_SHINGLE,
       OPT_NO_ACCOUNTS };

static const struct option longopts[] = {
	{ "themes", required_argument, NULL, OPT_THEMES },
	{ "keep-pii", no_argument, NULL, OPT_KEEP_PII },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK },
	{ "shingle", required_argument, NULL, OPT_SHINGLE },
	{ "no-accounts", no_argument, NULL, OPT_NO_ACCOUNTS },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int one(json_t *rec, const cp_line *ln, void *arg)
{
	cp_extractor *x = arg;
	char err[256];
	json_t *sig;

	if (!cp_record_check(rec, CP_REC_DOCUMENT, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	if (!(sig = cp_extract(x, rec, err, sizeof err))) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	cp_emit(sig);
	json_decref(sig);
	return 0;
}

/* The accounts, when there is a state file to read them from. */
static int load_accounts(int wanted, cp_accounts *acc)
{
	const char *path = cp_cli.db;
	sqlite3 *db;
	int rc;

	if (!wanted)
		return 0;
	/* --db names a state file that must exist; the environment and the
	 * default only say where one would be */
	if (!path) {
		path = getenv("CLIENTPULSE_DB");
		if (!path || !*path)
			path = cp_db_default_path();
		if (access(path, F_OK)) {
			cp_info("no state file at %s: organisations are not "
			    "resolved to accounts", path);
			return 0;
		}
	}
	if ((rc = cp_db_open(path, CP_DB_READONLY, &db)))
		return rc;
	rc = cp_accounts_load(db, 0, acc);
	cp_db_close(db);
	return rc;
}

static long number(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v < lo || v > hi)
		cp_usage_error(usage, "%s: expected a number from %ld to %ld",
		    opt, lo, hi);
	return v;
}

int main(int argc, char **argv)
{
	cp_extract_opts o;
	cp_accounts acc = { NULL, 0 };
	cp_extractor *x = NULL;
	int c, rc, accounts = 1;

	memset(&o, 0, sizeof o);
	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_THEMES: o.themes_path = optarg; break;
		case OPT_KEEP_PII: o.keep_pii = 1; break;
		case OPT_CHUNK:
			o.chunk_max = (size_t)number("--chunk-size", optarg, 100,
			    1000000);
			break;
		case OPT_SHINGLE:
			o.shingle = (int)number("--shingle", optarg, 1, 16);
			break;
		case OPT_NO_ACCOUNTS: accounts = 0; break;
		}
	}
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = load_accounts(accounts, &acc)))
		return rc;
	o.accounts = &acc;
	if ((rc = cp_extractor_new(&o, &x)))
		goto out;
	rc = cp_ndjson_inputs(argc - optind, argv + optind, one, x);
out:
	cp_extractor_free(x);
	cp_accounts_free(&acc);
	cp_entities_cleanup();
	cp_pii_cleanup();
	cp_lang_free();
	return cp_ndjson_status(rc);
}
