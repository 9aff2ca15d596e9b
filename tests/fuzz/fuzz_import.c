/*
 * fuzz_import — what cp-account, cp-playbook and cp-asset import read:
 * hand-edited record files (lib/recfile.c: NDJSON, one JSON array, or
 * pretty-printed objects, with resynchronisation after a syntax error),
 * each object through the account, playbook and asset normalisers, and
 * every string of the record through the FTS5 phrase builder that
 * search queries use (cp_fts_terms), run against a real FTS5 table.
 * recfile reads files only, so the input goes through a private 0600
 * temporary file.
 *
 * Properties: every object handed on parses (its bytes are JSON); a
 * query built by cp_fts_terms is never an FTS5 syntax error, whatever
 * the words (quotes, operators, NEAR, column filters, NUL).
 */
#include <sqlite3.h>

#include "account.h"
#include "asset.h"
#include "fuzz.h"
#include "json.h"
#include "playbook.h"
#include "recfile.h"
#include "score.h"

static cp_scorecfg cfg;
static sqlite3 *db;
static sqlite3_stmt *match;

static void setup(void)
{
	if (db)
		return;
	if (cp_scorecfg_load(&cfg))
		abort();
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(a, b,"
	    " tokenize = 'porter unicode61');"
	    "INSERT INTO t VALUES ('acme cloud migration', 'x y z')",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?",
	    -1, &match, NULL) != SQLITE_OK)
		abort();
}

/* The query made of s must run. */
static void fts(const char *s)
{
	strbuf q = CP_STRBUF_INIT;
	int rc;

	if (cp_fts_terms(&q, s, " OR ")) {
		sqlite3_bind_text(match, 1, q.buf, (int)q.len, SQLITE_STATIC);
		while ((rc = sqlite3_step(match)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "fts: %s: %s\n", q.buf,
			    sqlite3_errmsg(db));
			abort();
		}
		sqlite3_reset(match);
		sqlite3_clear_bindings(match);
	}
	sb_free(&q);
}

static void strings(const json_t *v, int depth)
{
	size_t i;
	const char *k;
	json_t *m;

	if (depth > 8)
		return;
	if (json_is_string(v))
		fts(json_string_value(v));
	else if (json_is_array(v))
		for (i = 0; i < json_array_size(v); i++)
			strings(json_array_get(v, i), depth + 1);
	else if (json_is_object(v))
		json_object_foreach((json_t *)v, k, m) {
			fts(k);
			strings(m, depth + 1);
		}
}

static int one(json_t *rec, const cp_line *ln, void *arg)
{
	char err[256];
	json_t *a = json_deep_copy(rec), *p = json_deep_copy(rec),
	    *s = json_deep_copy(rec), *back;

	(void)arg;
	back = json_loadb(ln->text, ln->len, JSON_DECODE_ANY, NULL);
	if (!back)
		abort();
	json_decref(back);
	(void)cp_account_normalise(a, err, sizeof err);
	if (cp_playbook_normalise(p, &cfg, err, sizeof err)) {
		cp_playbook pb;
		memset(&pb, 0, sizeof pb);
		cp_playbook_from_json(&pb, json_incref(p));
		cp_playbook_free(&pb);
	}
	(void)cp_asset_normalise(s, &cfg, err, sizeof err);
	strings(rec, 0);
	json_decref(a);
	json_decref(p);
	json_decref(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *files[1];

	fuzz_quiet();
	setup();
	files[0] = (char *)fuzz_tmpfile(data, size);
	cp_recfile_inputs(1, files, one, NULL);
	return 0;
}
