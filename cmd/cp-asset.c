/*
 * cp-asset — the tenant's sales assets (case studies, whitepapers,
 * decks…), full-text indexed for cards and for people.
 *
 *   cp-asset import [FILE…]          NDJSON, a JSON array or JSON
 *                                    objects; upsert by id (admin)
 *   cp-asset list [--json] [--theme THEME]
 *   cp-asset show ID [--json]
 *   cp-asset search WORDS… [--json] [--limit N]
 *
 * The format is cp-asset(1) and asset.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asset.h"
#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "importer.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "rbac.h"
#include "recfile.h"
#include "score.h"
#include "strbuf.h"
#include "table.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-asset import [--reject FILE] [FILE...]\n"
	"       cp-asset list [--json] [--theme THEME]\n"
	"       cp-asset show ID [--json]\n"
	"       cp-asset search WORDS... [--json] [--limit N]\n"
	"common options: --db FILE --as USER --tenant NAME --config FILE\n"
	"                --log-format text|json -q -v --help --version\n";

enum { OPT_JSON = CP_OPT_LOCAL, OPT_THEME, OPT_LIMIT };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static sqlite3 *db;
static cp_user me;
static char actor[300];
static cp_scorecfg cfg;
static int json_out;
static const char *theme_filter;
static long limit = 10;

static bool normalise(json_t *rec, void *arg, char *err, size_t errlen)
{
	return cp_asset_normalise(rec, arg, err, errlen);
}

static int upsert(cp_importer *im, json_t *rec, int *outcome, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	return cp_asset_upsert(im->db, im->me->tenant_id, im->actor, rec,
	    outcome);
}

static int import(int n, char **files)
{
	cp_importer im = { db, &me, actor, true, normalise, upsert, &cfg,
	    0, 0, 0 };
	int rc;

	if ((rc = cp_rbac_require(&me, CP_ACT_ACCOUNT_ADMIN)))
		return rc;
	return cp_import_files(&im, n, files);
}

static void join(strbuf *sb, const json_t *a, const char *sep)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e) {
		if (i)
			sb_adds(sb, sep);
		sb_adds(sb, json_string_value(e));
	}
}

/* A table of asset records (with "rank" when searching). */
static void print(json_t *recs, bool ranked)
{
	static const char *const head[] = { "ID", "KIND", "TITLE", "THEMES",
	    "RANK" };
	cp_table *t;
	size_t i;
	json_t *r;

	if (json_out) {
		json_array_foreach(recs, i, r)
			cp_emit(r);
		return;
	}
	t = cp_table_new(ranked ? 5 : 4, head);
	json_array_foreach(recs, i, r) {
		strbuf th = CP_STRBUF_INIT;
		char rank[32] = "";
		const char *cells[5];
		double d;

		join(&th, json_object_get(r, "themes"), ",");
		if (cp_json_num(r, "rank", &d))
			snprintf(rank, sizeof rank, "%.2f", d);
		cells[0] = cp_json_str(r, "id");
		cells[1] = cp_json_str(r, "kind");
		cells[2] = cp_json_str(r, "title");
		cells[3] = th.buf;
		cells[4] = rank;
		cp_table_add(t, cells);
		sb_free(&th);
	}
	cp_table_flex(t, 2);
	if (ranked)
		cp_table_right(t, 4);
	cp_table_print_term(t, stdout);
	cp_table_free(t);
}

static int list(void)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT a.record FROM assets a"
	    " WHERE a.tenant_id = ?1 AND (?2 IS NULL OR EXISTS (SELECT 1"
	    " FROM json_each(a.themes) WHERE value = ?2)) ORDER BY a.id");
	json_t *recs = json_array();
	int rc;

	sqlite3_bind_int64(st, 1, me.tenant_id);
	cp_db_bind_text(st, 2, theme_filter);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *r = json_loads(cp_db_col_text(st, 0), 0, NULL);
		if (r)
			json_array_append_new(recs, r);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		print(recs, false);
	json_decref(recs);
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "list assets");
}

static int show(const char *id)
{
	json_t *r = cp_asset_get_json(db, me.tenant_id, id);
	strbuf sb = CP_STRBUF_INIT;

	if (!r)
		return cp_rbac_deny(id);
	if (json_out) {
		cp_emit(r);
		json_decref(r);
		return 0;
	}
	printf("%-11s %s\n", "id", cp_json_str(r, "id"));
	printf("%-11s %s\n", "kind", cp_json_str(r, "kind"));
	printf("%-11s %s\n", "title", cp_json_str(r, "title"));
	printf("%-11s %s\n", "url", cp_json_str(r, "url"));
	if (*cp_json_strd(r, "summary", ""))
		printf("%-11s %s\n", "summary", cp_json_str(r, "summary"));
	join(&sb, json_object_get(r, "themes"), ", ");
	printf("%-11s %s\n", "themes", sb.buf);
	sb_reset(&sb);
	join(&sb, json_object_get(r, "industries"), ", ");
	if (sb.len)
		printf("%-11s %s\n", "industries", sb.buf);
	sb_reset(&sb);
	join(&sb, json_object_get(r, "tags"), ", ");
	if (sb.len)
		printf("%-11s %s\n", "tags", sb.buf);
	sb_free(&sb);
	json_decref(r);
	return 0;
}

static int search(int n, char **words)
{
	strbuf q = CP_STRBUF_INIT;
	json_t *found;
	int i, rc = 0;

	/* the words a person typed, all of them required (FTS5 AND) */
	for (i = 0; i < n; i++) {
		if (q.len)
			sb_addc(&q, ' ');
		cp_fts_terms(&q, words[i], " ");
	}
	if (!q.len) {
		sb_free(&q);
		cp_err("search: no words to search for");
		return CP_EX_USAGE;
	}
	found = cp_asset_search(db, me.tenant_id, q.buf, limit, &rc);
	sb_free(&q);
	if (!found)
		return rc;
	print(found, true);
	json_decref(found);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sub;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_JSON: json_out = 1; break;
		case OPT_THEME: theme_filter = optarg; break;
		case OPT_LIMIT: {
			char *end;
			limit = strtol(optarg, &end, 10);
			if (*end || limit < 1 || limit > 1000)
				cp_usage_error(usage, "--limit: expected 1 to 1000");
			break;
		}
		}
	}
	if (optind >= argc)
		cp_usage_error(usage, "no subcommand given");
	sub = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (!strcmp(sub, "show")) {
		if (nargs != 1)
			cp_usage_error(usage, "show takes one ID");
	} else if (!strcmp(sub, "list")) {
		if (nargs)
			cp_usage_error(usage, "list takes no arguments");
	} else if (!strcmp(sub, "search")) {
		if (!nargs)
			cp_usage_error(usage, "search takes words to look for");
	} else if (strcmp(sub, "import")) {
		cp_usage_error(usage, "unknown subcommand '%s'", sub);
	}
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_scorecfg_load(&cfg)))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		goto done;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		goto out;
	cp_user_actor(&me, actor, sizeof actor);
	if (!strcmp(sub, "import"))
		rc = import(nargs, args);
	else if (!strcmp(sub, "list"))
		rc = list();
	else if (!strcmp(sub, "show"))
		rc = show(args[0]);
	else
		rc = search(nargs, args);
out:
	cp_db_close(db);
done:
	cp_scorecfg_free(&cfg);
	return cp_ndjson_status(rc);
}
