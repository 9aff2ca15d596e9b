/*
 * fuzz_search — what people type into cp-search (lib/search.c): the
 * query language parsed into an FTS5 expression, which is then run
 * against a real FTS5 table made like the card index.
 *
 * Properties: a query the parser accepts is never an FTS5 syntax error,
 * a column filter or anything else SQLite refuses (search.h promises
 * that no input can be); a refused query says why.
 */
#include <sqlite3.h>

#include "fuzz.h"
#include "search.h"

static sqlite3 *db;
static sqlite3_stmt *match;

static void setup(void)
{
	if (db)
		return;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(title, body,"
	    " account, theme, tokenize = \"porter unicode61 remove_diacritics 2"
	    " tokenchars '_'\");"
	    "INSERT INTO t VALUES ('Northwind raises $50 million',"
	    " 'cloud-native migration NEAR the AND OR NOT', 'northwind',"
	    " 'funding')", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT rowid, bm25(t), snippet(t, 1, '[',"
	    " ']', '…', 8) FROM t WHERE t MATCH ?", -1, &match, NULL) !=
	    SQLITE_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	cp_query q;
	int rc;

	if (!s)
		abort();
	fuzz_quiet();
	setup();
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (!cp_query_parse(s, &q, err, sizeof err)) {
		if (!err[0])
			abort();
	} else {
		sqlite3_bind_text(match, 1, q.fts, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(match)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "query %s: fts %s: %s\n", s, q.fts,
			    sqlite3_errmsg(db));
			abort();
		}
		sqlite3_reset(match);
		sqlite3_clear_bindings(match);
	}
	cp_query_free(&q);
	free(s);
	return 0;
}
