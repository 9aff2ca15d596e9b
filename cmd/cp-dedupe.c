/*
 * cp-dedupe — signals in, new signals out: repeats of one story (the same
 * text, a near copy, or the same event told in other words) are folded
 * into a cluster in the state file and, unless --emit-updates, not passed
 * on.
 *
 * Crash safety: records are decided and stored in batches, one
 * transaction each, and a batch's output is written only after its
 * transaction commits, so a signal is never passed downstream without its
 * state; after a crash the uncommitted batch is simply decided again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "dedupe.h"
#include "entities.h"
#include "exitcode.h"
#include "json.h"
#include "jscan.h"
#include "lang.h"
#include "log.h"
#include "ndjson.h"
#include "rbac.h"
#include "record.h"
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-dedupe [--threshold J] [--window DURATION] [--shingle N]\n"
	"                 [--emit-updates] [--explain] [--batch N]\n"
	"                 [--surge-min N] [--surge-window DURATION] [--db FILE]\n"
	"                 [--reject FILE] [--max-line BYTES] [--unbuffered]\n"
	"                 [-q] [-v] [FILE...]\n"
	"Fold repeated stories into clusters; pass new signals on.\n"
	"See cp-dedupe(1).\n";

enum { OPT_THRESHOLD = CP_OPT_LOCAL, OPT_WINDOW, OPT_SHINGLE, OPT_UPDATES,
       OPT_EXPLAIN, OPT_BATCH, OPT_SURGE_MIN, OPT_SURGE_WINDOW };

static const struct option longopts[] = {
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "shingle", required_argument, NULL, OPT_SHINGLE },
	{ "emit-updates", no_argument, NULL, OPT_UPDATES },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "surge-min", required_argument, NULL, OPT_SURGE_MIN },
	{ "surge-window", required_argument, NULL, OPT_SURGE_WINDOW },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

typedef struct state {
	sqlite3 *db;
	cp_dedupe *dd;
	int updates;
	long batch, inbatch;
	strbuf out;                 /* the batch's output, held until commit */
	char tenant[128];           /* the last tenant looked up */
	int64_t tenant_id;
	unsigned long nnew, nupd, nseen;
} state;

static int64_t tenant_id(state *s, const char *name)
{
	if (strcmp(s->tenant, name)) {
		snprintf(s->tenant, sizeof s->tenant, "%s", name);
		s->tenant_id = cp_tenant_id(s->db, name);
	}
	return s->tenant_id;
}

/* The record with cluster fields added.  Usually the line as it came with
 * the fields spliced in before its closing brace, so every byte of the
 * signal passes through unchanged; re-serialised when a field must be
 * replaced or a theme added. */
static void render(state *s, json_t *rec, const cp_line *ln,
    const cp_dedupe_result *r)
{
	size_t n = ln->len;

	if (!r->surge && !json_object_get(rec, "cluster_id") &&
	    !json_object_get(rec, "corroborations") &&
	    !json_object_get(rec, "duplicate_of")) {
		while (n && ln->text[n - 1] != '}')
			n--;
		if (n) {
			sb_add(&s->out, ln->text, n - 1);
			sb_addf(&s->out, ",\"cluster_id\":\"%s\",\"corroborations\":%ld",
			    r->cluster_id, r->corroborations);
			if (!r->is_new)
				sb_addf(&s->out, ",\"duplicate_of\":\"%s\"",
				    r->duplicate_of);
			sb_adds(&s->out, "}\n");
			return;
		}
	}
	{
		/* the full record, chunks and all, for a rewrite */
		json_t *copy = cp_json_parse(ln->text, ln->len, NULL, 0);
		(void)rec;
		if (!copy)
			return;
		if (r->surge) {
			json_t *th = json_object_get(copy, "themes");
			if (!json_is_array(th)) {
				th = json_array();
				json_object_set_new(copy, "themes", th);
			}
			json_array_append(th, r->surge);
		}
		json_object_set_new(copy, "cluster_id", json_string(r->cluster_id));
		json_object_set_new(copy, "corroborations",
		    json_integer(r->corroborations));
		if (!r->is_new)
			json_object_set_new(copy, "duplicate_of",
			    json_string(r->duplicate_of));
		else
			json_object_del(copy, "duplicate_of");
		cp_json_dump(&s->out, copy, 0);
		sb_addc(&s->out, '\n');
		json_decref(copy);
	}
}

/* Commit the batch, then let its records go. */
static int flush(state *s)
{
	int rc;

	if (!s->inbatch)
		return 0;
	if ((rc = cp_db_commit(s->db)))
		return rc;
	s->inbatch = 0;
	if (s->out.len) {
		/* cp_emit_raw adds the newline: one call per line */
		char *p = s->out.buf, *e;
		while ((e = strchr(p, '\n')) != NULL) {
			cp_emit_raw(p, (size_t)(e - p));
			p = e + 1;
		}
		sb_reset(&s->out);
	}
	return 0;
}

static int one(json_t *rec, const cp_line *ln, void *arg)
{
	state *s = arg;
	char err[256];
	cp_dedupe_result r;
	int64_t tid;
	int rc;

	if (!cp_record_check(rec, CP_REC_SIGNAL, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	if (!(tid = tenant_id(s, cp_json_str(rec, "tenant")))) {
		cp_reject(ln, "unknown tenant \"%s\"", cp_json_str(rec, "tenant"));
		return 0;
	}
	if (!s->inbatch && (rc = cp_db_begin(s->db)))
		return rc;
	s->inbatch++;
	/* a record is refused (65) before anything of it is written, so no
	 * savepoint is needed; any other error ends the run and the batch
	 * is rolled back whole */
	rc = cp_dedupe_add(s->dd, tid, rec, &r, err, sizeof err);
	if (rc == CP_EX_DATAERR) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	if (rc) {
		json_decref(r.surge);
		return rc;
	}
	if (r.seen)
		s->nseen++;
	else if (r.is_new)
		s->nnew++;
	else
		s->nupd++;
	if (!r.seen && (r.is_new || s->updates))
		render(s, rec, ln, &r);
	json_decref(r.surge);
	if (s->inbatch >= s->batch)
		return flush(s);
	return 0;
}

/*
 * Records here are mostly text and chunks: decoding every line whole
 * costs more than everything else cp-dedupe does.  The line is checked
 * against the JSON grammar in one pass and only its other members are
 * decoded; the output splices the cluster fields into the line as it came.
 */
static int one_raw(const cp_line *ln, void *arg)
{
	cp_jmember m[128];
	char err[256];
	json_t *rec;
	int k, i, rc;

	if ((k = cp_jscan_object(ln->text, ln->len, m, 128, err,
	    sizeof err)) < 0) {
		if (!strcmp(err, "not a JSON object"))
			cp_reject(ln, "%s", err);
		else
			cp_reject(ln, "invalid JSON: %s", err);
		return 0;
	}
	rec = json_object();
	for (i = 0; i < k; i++) {
		json_t *v;
		if (cp_jkey_is(&m[i], "chunks"))
			continue;
		if (!(v = cp_jvalue(&m[i])) || json_object_setn_new(rec, m[i].key,
		    m[i].klen, v)) {
			cp_reject(ln, "invalid JSON: member \"%.*s\"",
			    (int)(m[i].klen > 64 ? 64 : m[i].klen), m[i].key);
			json_decref(rec);
			return 0;
		}
	}
	rc = one(rec, ln, arg);
	json_decref(rec);
	return rc;
}

static double fraction(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (*end || end == arg || v <= 0 || v > 1)
		cp_usage_error(usage, "%s: expected a number above 0, at most 1",
		    opt);
	return v;
}

static long count(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || v < lo || v > hi)
		cp_usage_error(usage, "%s: expected a number from %ld to %ld", opt,
		    lo, hi);
	return v;
}

static long duration(const char *opt, const char *arg)
{
	long v;
	if (!cp_duration_parse(arg, &v) || v <= 0)
		cp_usage_error(usage, "%s: expected a duration like 7d, 48h", opt);
	return v;
}

int main(int argc, char **argv)
{
	cp_dedupe_opts o;
	state s;
	int c, rc, frc;

	cp_dedupe_defaults(&o);
	memset(&s, 0, sizeof s);
	s.batch = 500;
	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_THRESHOLD: o.threshold = fraction("--threshold", optarg); break;
		case OPT_WINDOW: o.window = duration("--window", optarg); break;
		case OPT_SHINGLE: o.shingle = (int)count("--shingle", optarg, 1, 16); break;
		case OPT_UPDATES: s.updates = 1; break;
		case OPT_EXPLAIN: o.explain = 1; break;
		case OPT_BATCH: s.batch = count("--batch", optarg, 1, 1000000); break;
		case OPT_SURGE_MIN: o.surge_min = (int)count("--surge-min", optarg, 0, 100000); break;
		case OPT_SURGE_WINDOW: o.surge_window = duration("--surge-window", optarg); break;
		}
	}
	if ((rc = cp_cli_ready()))
		return rc;
	/* a live stream: every record is committed and passed on at once */
	if (cp_ndjson.unbuffered)
		s.batch = 1;
	if ((rc = cp_db_open(cp_cli.db, 0, &s.db)))
		return cp_ndjson_status(rc);
	/* a bigger page cache and memory-mapped reads: the index pages a batch
	 * touches stay in memory instead of being read back through the
	 * kernel (bounded: 16 MiB of cache, the map is shared page cache) */
	cp_db_exec(s.db, getenv("CP_DEDUPE_PRAGMAS") ? getenv("CP_DEDUPE_PRAGMAS") : "PRAGMA cache_size = -16384; PRAGMA mmap_size = 1073741824;");
	cp_dedupe_open(s.db, &o, &s.dd);
	rc = cp_ndjson_inputs_raw(argc - optind, argv + optind, one_raw, &s);
	if (rc && rc != CP_EX_NOINPUT) {
		if (s.inbatch)
			cp_db_rollback(s.db);
	} else if ((frc = flush(&s))) {
		rc = frc;
	}
	cp_info("%lu new, %lu corroborating, %lu already seen", s.nnew, s.nupd,
	    s.nseen);
	sb_free(&s.out);
	cp_dedupe_close(s.dd);
	cp_db_close(s.db);
	cp_entities_cleanup();
	return cp_ndjson_status(rc);
}
