/*
 * cp-validate — check NDJSON records against the record formats.
 *
 * Reads records (files or stdin), writes every valid one unchanged to
 * stdout and rejects the rest with "cp-validate: input:line: reason".
 * Useful at the seams of a pipeline (a hand-written fixture, a message
 * bus consumer) and as the plainest user of the NDJSON layer.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "ndjson.h"
#include "record.h"

static const char usage[] =
	"usage: cp-validate [--type TYPE] [--reject FILE] [--max-line BYTES]\n"
	"                   [--unbuffered] [-q] [-v] [FILE...]\n"
	"Check records (document, signal, opportunity, card, push, finding);\n"
	"valid ones go to stdout unchanged.  See cp-validate(1).\n";

enum { OPT_TYPE = CP_OPT_LOCAL };

static const struct option longopts[] = {
	{ "type", required_argument, NULL, OPT_TYPE },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int check(json_t *rec, const cp_line *ln, void *arg)
{
	cp_rectype *want = arg;
	char err[256];

	if (!cp_record_check(rec, *want, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	/* the line as it came: valid records pass through byte for byte */
	cp_emit_raw(ln->text, ln->len);
	return 0;
}

int main(int argc, char **argv)
{
	cp_rectype want = CP_REC_UNKNOWN;
	int c, rc;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		if (c == OPT_TYPE) {
			json_t *t = json_pack("{s:s}", "type", optarg);
			want = cp_record_type(t);
			json_decref(t);
			if (want == CP_REC_UNKNOWN)
				cp_usage_error(usage, "--type: unknown record "
				    "type '%s'", optarg);
		}
	}
	if ((rc = cp_cli_ready()))
		return rc;
	rc = cp_ndjson_inputs(argc - optind, argv + optind, check, &want);
	return cp_ndjson_status(rc);
}
