/*
 * cp-search — find cards, signals and assets (clientpulse search).
 *
 *   cp-search [FILTERS] [--json] [--semantic|--hybrid] QUERY...
 *   cp-search [FILTERS] [--json] -          one query per line of stdin
 *   cp-search --index [--semantic]          bring the indexes up to date
 *   cp-search --reindex [--semantic]        rebuild them (admin)
 *
 * Full-text search (lib/search.c: FTS5, BM25, snippets) scoped by the
 * caller's access; with --semantic the items are ranked by the cosine
 * similarity of their embeddings to the query's (lib/embed.c, an
 * OpenAI-compatible endpoint), with --hybrid by reciprocal rank fusion of
 * both rankings.  Exit 1 when nothing is found, like grep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "embed.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "rbac.h"
#include "search.h"
#include "strbuf.h"
#include "table.h"
#include "timefmt.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-search [--type card|signal|asset[,...]] [--account ID]\n"
	"                 [--since TIME|AGE] [--limit N] [--json]\n"
	"                 [--semantic | --hybrid] QUERY...\n"
	"       cp-search [options] [--reject FILE] [--max-line BYTES]\n"
	"                 [--unbuffered] -          queries from stdin, one a line\n"
	"       cp-search --index [--semantic]     bring the indexes up to date\n"
	"       cp-search --reindex [--semantic]   rebuild the indexes (admin)\n"
	"query: words, \"a phrase\", prefix*, -excluded, a OR b\n"
	"common options: --db FILE --as USER --tenant NAME -q -v --help --version\n";

enum {
	OPT_TYPE = CP_OPT_LOCAL, OPT_ACCOUNT, OPT_SINCE, OPT_LIMIT, OPT_JSON,
	OPT_SEMANTIC, OPT_HYBRID, OPT_INDEX, OPT_REINDEX
};

static const struct option longopts[] = {
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "semantic", no_argument, NULL, OPT_SEMANTIC },
	{ "hybrid", no_argument, NULL, OPT_HYBRID },
	{ "index", no_argument, NULL, OPT_INDEX },
	{ "reindex", no_argument, NULL, OPT_REINDEX },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

enum mode { FTS, SEMANTIC, HYBRID };

static struct {
	cp_search_opts s;
	enum mode mode;
	int json, index, reindex;
} o;

static sqlite3 *db;
static cp_user me;
static cp_embed *emb;
static long found;            /* results printed, over every query */

/* How deep each ranking goes before fusion: RRF needs more than the
 * results shown to find the items both rankings like. */
#define FUSE_DEPTH 100
#define RRF_K 60.0

/* ---- output ------------------------------------------------------------ */

static void short_date(char out[16], const char *ts)
{
	snprintf(out, 16, "%.10s", ts ? ts : "");
}

/* The column after the kind: a card's short id, a signal's date, an
 * asset's kind. */
static void tag_of(const json_t *r, int kind, char out[24])
{
	const char *id = cp_json_strd(r, "id", "");

	if (kind == CP_SK_CARD)
		snprintf(out, 24, "%.10s", strncmp(id, "card_", 5) ? id : id + 5);
	else if (kind == CP_SK_SIGNAL)
		short_date(out, cp_json_str(r, "published_at"));
	else
		snprintf(out, 24, "%s", cp_json_strd(r, "kind", ""));
}

static void detail_of(const json_t *r, int kind, strbuf *sb)
{
	if (kind == CP_SK_CARD) {
		double score = 0;
		cp_json_num(r, "score", &score);
		sb_addf(sb, "%s, %.0f, %s", cp_json_strd(r, "account_name",
		    cp_json_strd(r, "account_id", "")), score,
		    cp_json_strd(r, "status", ""));
	} else if (kind == CP_SK_SIGNAL) {
		json_t *a = json_object_get(r, "account_ids"), *x;
		size_t i;
		sb_adds(sb, cp_json_strd(r, "source", "signal"));
		json_array_foreach(a, i, x)
			if (json_is_string(x))
				sb_addf(sb, ", %s", json_string_value(x));
	} else {
		sb_adds(sb, cp_json_strd(r, "id", ""));
	}
}

/* Two lines a result: kind, tag, title and what it belongs to; then the
 * snippet, the matches highlighted on a colour terminal. */
static void print_text(const json_t *r, const cp_hit *h, int width,
    bool color, bool ascii)
{
	const int indent = 19;
	char tag[24];
	strbuf line = CP_STRBUF_INIT, rest = CP_STRBUF_INIT,
	    title = CP_STRBUF_INIT, det = CP_STRBUF_INIT;

	tag_of(r, h->kind, tag);
	cp_u_fit(&line, cp_search_kind_name(h->kind), 7, false, ascii);
	cp_u_fit(&line, tag, 10, false, ascii);
	sb_adds(&line, "  ");
	cp_inbox_clean(&title, cp_json_strd(r, "title", ""), false);
	detail_of(r, h->kind, &det);
	sb_addf(&rest, "%s  (%s)", sb_str(&title), sb_str(&det));
	{
		strbuf clean = CP_STRBUF_INIT;
		cp_inbox_clean(&clean, sb_str(&rest), false);
		if (width > indent) {
			strbuf fit = CP_STRBUF_INIT;
			cp_u_fit(&fit, sb_str(&clean), width - indent, false, ascii);
			/* no padding at the end of a line */
			while (fit.len && fit.buf[fit.len - 1] == ' ')
				fit.len--;
			sb_add(&line, fit.buf, fit.len);
			sb_free(&fit);
		} else {
			sb_add(&line, clean.buf, clean.len);
		}
		sb_free(&clean);
	}
	if (color)
		printf("\033[1m%s\033[0m\n", sb_str(&line));
	else
		printf("%s\n", sb_str(&line));
	if (h->snippet && *h->snippet) {
		strbuf s = CP_STRBUF_INIT;
		cp_search_fit_snippet(&s, h->snippet, width > indent ?
		    width - indent : 1 << 20, ascii,
		    color ? "\033[1;33m" : NULL, color ? "\033[22;39m" : NULL);
		printf("%*s%s\n", indent, "", sb_str(&s));
		sb_free(&s);
	}
	sb_free(&line);
	sb_free(&rest);
	sb_free(&title);
	sb_free(&det);
}

static void print_hits(const cp_hits *hits, const char *query)
{
	int width = cp_term_width(STDOUT_FILENO);
	bool color = cp_term_color(STDOUT_FILENO), ascii = !cp_u_locale_utf8();
	size_t i;
	long rank = 0;

	for (i = 0; i < hits->n; i++) {
		json_t *r;

		/* ranks count within a kind, as the kinds are ranked apart */
		rank = i && hits->v[i - 1].kind == hits->v[i].kind ? rank + 1 : 1;
		r = cp_search_record(db, &me, &hits->v[i], rank);

		if (!r)
			continue;     /* gone since it was found */
		found++;
		if (o.json) {
			if (query)
				json_object_set_new(json_object_get(r, "search"),
				    "query", json_string(query));
			cp_emit(r);
		} else {
			print_text(r, &hits->v[i], width, color, ascii);
		}
		json_decref(r);
	}
	if (!o.json)
		fflush(stdout);
}

/* ---- searching --------------------------------------------------------- */

static int semantic(const cp_query *q, cp_hits *out)
{
	cp_search_opts so = o.s;
	cp_hits vec = { NULL, 0, 0 }, lex = { NULL, 0, 0 };
	const char *text = q->words;
	float *qv = NULL;
	int dim = 0, rc;

	if ((rc = cp_embed_texts(emb, &text, 1, &qv, &dim)))
		return rc;
	if (o.mode == HYBRID && so.limit < FUSE_DEPTH)
		so.limit = FUSE_DEPTH;
	rc = cp_semantic_rank(db, &me, cp_embed_model(emb), qv, dim, &so,
	    o.mode == HYBRID ? &vec : out);
	free(qv);
	if (!rc && o.mode == HYBRID) {
		rc = cp_search_fts(db, &me, q, &so, &lex);
		if (!rc)
			cp_search_fuse(&lex, &vec, RRF_K, o.s.limit, out);
	}
	cp_hits_free(&vec);
	cp_hits_free(&lex);
	return rc;
}

/* One query: 0 (found or not), 65 for a query that cannot be searched
 * (after a message), or another exit code. */
static int run_query(const char *text, const cp_line *ln)
{
	char err[200];
	cp_query q;
	cp_hits hits = { NULL, 0, 0 };
	int rc;

	if (!cp_query_parse(text, &q, err, sizeof err)) {
		cp_query_free(&q);
		if (ln) {
			cp_reject(ln, "%s", err);
			return 0;
		}
		cp_err("query: %s", err);
		return CP_EX_DATAERR;
	}
	cp_debug("fts: %s", q.fts);
	rc = o.mode == FTS ? cp_search_fts(db, &me, &q, &o.s, &hits) :
	    semantic(&q, &hits);
	if (!rc)
		print_hits(&hits, ln ? text : NULL);
	cp_hits_free(&hits);
	cp_query_free(&q);
	return rc;
}

static int query_line(const cp_line *ln, void *arg)
{
	char *text = xstrndup(ln->text, ln->len);
	int rc;

	(void)arg;
	rc = run_query(text, ln);
	free(text);
	return rc == CP_EX_DATAERR ? 0 : rc;
}

static char *join_args(int n, char **v)
{
	strbuf sb = CP_STRBUF_INIT;
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, ' ');
		sb_adds(&sb, v[i]);
	}
	return sb_detach(&sb);
}

/* A second connection for searching signals alongside cards (search.h);
 * without one, they are searched one after the other. */
static sqlite3 *db2;

static void second_connection(void)
{
	int kinds = o.s.kinds ? o.s.kinds : CP_SK_ALL;

	if (!(kinds & CP_SK_CARD) || !(kinds & CP_SK_SIGNAL) ||
	    !cp_conf_bool("search.parallel", NULL, true))
		return;
	if (cp_db_open(cp_db_filename(db), 0, &db2))
		return;
	cp_db_exec(db2, "PRAGMA mmap_size = 1073741824");
	if (cp_rbac_load_scope(db2, &me)) {
		cp_db_close(db2);
		db2 = NULL;
		return;
	}
	o.s.db2 = db2;
}

/* --index and --reindex */
static int maintain(void)
{
	int rc;

	if (o.reindex) {
		if ((rc = cp_rbac_require(&me, CP_ACT_TENANT_ADMIN)) ||
		    (rc = cp_search_reindex(db)))
			return rc;
		if (emb) {
			sqlite3_stmt *st = cp_db_prepare(db, "DELETE FROM"
			    " search_vectors WHERE tenant_id = ?");
			sqlite3_bind_int64(st, 1, me.tenant_id);
			rc = cp_db_step_done(db, st);
			sqlite3_finalize(st);
			if (rc)
				return rc;
		}
	} else if ((rc = cp_search_sync(db, (int)cp_conf_long(
	    "db.busy_timeout", NULL, 60000)))) {
		return rc;
	}
	return emb ? cp_embed_sync(db, &me, emb, &o.s) : 0;
}

/* ---- main -------------------------------------------------------------- */

static void parse_option(int c, const char *arg)
{
	char *end;

	switch (c) {
	case OPT_TYPE: {
		int k = cp_search_kinds_parse(arg);
		if (!k)
			cp_usage_error(usage, "--type: expected card, signal or "
			    "asset (or a list: card,signal), not '%s'", arg);
		o.s.kinds |= k;
		break;
	}
	case OPT_ACCOUNT: o.s.account = arg; break;
	case OPT_SINCE: {
		time_t t;
		if (!cp_time_or_age(arg, &t))
			cp_usage_error(usage, "--since: expected a time "
			    "(2026-11-25T10:00:00Z) or an age (7d), not '%s'",
			    arg);
		cp_time_format(t, o.s.since);
		break;
	}
	case OPT_LIMIT:
		o.s.limit = strtol(arg, &end, 10);
		if (!*arg || *end || o.s.limit < 1 || o.s.limit > 10000)
			cp_usage_error(usage, "--limit: expected 1 to 10000");
		break;
	case OPT_JSON: o.json = 1; break;
	case OPT_SEMANTIC:
	case OPT_HYBRID:
		if (o.mode != FTS && o.mode != (c == OPT_SEMANTIC ? SEMANTIC :
		    HYBRID))
			cp_usage_error(usage, "give one of --semantic or --hybrid");
		o.mode = c == OPT_SEMANTIC ? SEMANTIC : HYBRID;
		break;
	case OPT_INDEX: o.index = 1; break;
	case OPT_REINDEX: o.reindex = 1; break;
	}
}

int main(int argc, char **argv)
{
	char *query = NULL;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	cp_search_opts_default(&o.s);
	o.s.kinds = 0;
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1)
		if (!cp_cli_option(c, optarg, usage))
			parse_option(c, optarg);
	args = argv + optind;
	nargs = argc - optind;
	if (o.index && o.reindex)
		cp_usage_error(usage, "give one of --index or --reindex");
	if ((o.index || o.reindex) && nargs)
		cp_usage_error(usage, "--%s takes no query", o.index ? "index" :
		    "reindex");
	if ((o.index || o.reindex) && o.mode == HYBRID)
		cp_usage_error(usage, "--hybrid is for searching; --%s "
		    "--semantic embeds", o.index ? "index" : "reindex");
	if (!o.index && !o.reindex && nargs == 0)
		cp_usage_error(usage, "no query given (or - to read queries "
		    "from stdin)");
	if ((rc = cp_cli_ready()))
		return rc;
	o.s.ascii = !cp_u_locale_utf8();
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		return rc;
	/* a search reads rows all over the file once: mapped pages cost no
	 * read() each, which is most of a fresh process's time */
	cp_db_exec(db, "PRAGMA mmap_size = 1073741824");
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)) ||
	    (rc = cp_rbac_require(&me, CP_ACT_READ)) ||
	    (rc = cp_rbac_load_scope(db, &me)))
		goto out;
	if (o.mode != FTS && (rc = cp_embed_open(&emb)))
		goto out;
	if (!o.index && !o.reindex && o.mode != SEMANTIC)
		second_connection();
	if (o.index || o.reindex) {
		rc = maintain();
		goto out;
	}
	/* signals stored since the last search: indexed now, unless the
	 * pipeline holds the state file (then the index as it is) */
	if ((rc = cp_search_sync(db, (int)cp_conf_long("search.sync_wait_ms",
	    NULL, 200))))
		goto out;
	if (emb && (rc = cp_embed_sync(db, &me, emb, &o.s)))
		goto out;
	if (nargs == 1 && !strcmp(args[0], "-")) {
		rc = cp_ndjson_inputs_raw(1, args, query_line, NULL);
	} else {
		query = join_args(nargs, args);
		rc = run_query(query, NULL);
	}
	if (!rc && !found && !cp_ndjson_rejected()) {
		if (!o.json && isatty(STDOUT_FILENO))
			cp_log(CP_LOG_WARN, "nothing found");
		rc = CP_EX_FINDINGS;
	}
out:
	free(query);
	cp_embed_close(emb);
	if (db2)
		cp_db_close(db2);
	cp_db_close(db);
	return cp_ndjson_status(rc);
}
