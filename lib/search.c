#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "asset.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "search.h"
#include "unicode.h"
#include "utf8.h"

/* ---- kinds ------------------------------------------------------------- */

const char *cp_search_kind_name(int kind)
{
	return kind == CP_SK_CARD ? "card" : kind == CP_SK_SIGNAL ? "signal" :
	    kind == CP_SK_ASSET ? "asset" : "?";
}

int cp_search_kinds_parse(const char *s)
{
	static const struct { const char *name; int kind; } names[] = {
		{ "card", CP_SK_CARD }, { "cards", CP_SK_CARD },
		{ "signal", CP_SK_SIGNAL }, { "signals", CP_SK_SIGNAL },
		{ "asset", CP_SK_ASSET }, { "assets", CP_SK_ASSET },
		{ "all", CP_SK_ALL }
	};
	int kinds = 0;

	while (s && *s) {
		size_t n = strcspn(s, ","), i;
		bool known = false;

		for (i = 0; i < sizeof names / sizeof *names; i++)
			if (strlen(names[i].name) == n &&
			    !strncmp(s, names[i].name, n)) {
				kinds |= names[i].kind;
				known = true;
			}
		if (!known)
			return 0;
		s += n;
		if (*s == ',')
			s++;
	}
	return kinds;
}

/* ---- the query language -------------------------------------------------- */

/* Whether cp is part of a word for the index's tokenizer (unicode61 with
 * tokenchars '_'): letters, numbers, private use; marks too, so that a
 * decomposed accent does not split a word here (FTS5 folds it away). */
static bool word_char(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9') || cp == '_';
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
		return true;
	default:
		return false;
	}
}

/* One term as typed: a chunk between spaces, or a quoted phrase. */
struct term {
	char *words;     /* the chunk's words, space-separated */
	int nwords;
	int lastlen;     /* characters in the last word (for prefixes) */
	bool neg, prefix;
};

/* The words of text[0..n) joined by one space; NULL when there is none. */
static char *chunk_words(const char *text, size_t n, int *nwords,
    int *lastlen)
{
	strbuf sb = CP_STRBUF_INIT;
	size_t i = 0;
	bool in = false;

	*nwords = 0;
	*lastlen = 0;
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(text + i, n - i, &cp);

		if (!k)
			k = 1;
		if (word_char(cp)) {
			if (!in) {
				if (sb.len)
					sb_addc(&sb, ' ');
				(*nwords)++;
				*lastlen = 0;
			}
			sb_add(&sb, text + i, k);
			(*lastlen)++;
			in = true;
		} else {
			in = false;
		}
		i += k;
	}
	return sb.len ? sb_detach(&sb) : (sb_free(&sb), NULL);
}

static bool space_at(const char *s)
{
	return *s == ' ' || (*s > 0 && *s < 0x20) || *s == 0x7f;
}

struct parse {
	struct term t[CP_QUERY_MAX_TERMS];
	int n;
	int group[CP_QUERY_MAX_TERMS];   /* OR group of each positive term */
	int ngroups;
	bool pending_or;
};

static bool add_term(struct parse *p, const char *text, size_t len, bool neg,
    bool prefix, char *err, size_t errlen)
{
	struct term *t;
	int nw, last;
	char *w = chunk_words(text, len, &nw, &last);

	if (!w)
		return true;          /* punctuation only: nothing to find */
	if (p->n == CP_QUERY_MAX_TERMS) {
		free(w);
		snprintf(err, errlen, "more than %d terms", CP_QUERY_MAX_TERMS);
		return false;
	}
	t = &p->t[p->n];
	t->words = w;
	t->nwords = nw;
	t->lastlen = last;
	t->neg = neg;
	/* "a*" would expand to every word starting with a */
	t->prefix = prefix && last >= 3;
	if (!neg) {
		if (p->pending_or && p->ngroups > 0)
			p->ngroups++;
		else if (p->ngroups == 0)
			p->ngroups = 1;
		p->pending_or = false;
		p->group[p->n] = p->ngroups - 1;
	}
	p->n++;
	return true;
}

/* Append an FTS5 string: every '"' doubled (there are none: quotes end a
 * phrase in our grammar, but the rule is the rule). */
static void fts_string(strbuf *sb, const struct term *t)
{
	const char *c;

	sb_addc(sb, '"');
	for (c = t->words; *c; c++) {
		if (*c == '"')
			sb_addc(sb, '"');
		sb_addc(sb, *c);
	}
	sb_addc(sb, '"');
	if (t->prefix)
		sb_adds(sb, " *");
}

static void build(struct parse *p, cp_query *q)
{
	strbuf sb = CP_STRBUF_INIT, w = CP_STRBUF_INIT;
	int g, i, nneg = 0;
	bool first;

	for (i = 0; i < p->n; i++)
		if (p->t[i].neg)
			nneg++;
	if (nneg)
		sb_addc(&sb, '(');
	for (g = 0; g < p->ngroups; g++) {
		if (g)
			sb_adds(&sb, " OR ");
		if (p->ngroups > 1)
			sb_addc(&sb, '(');
		first = true;
		for (i = 0; i < p->n; i++) {
			if (p->t[i].neg || p->group[i] != g)
				continue;
			if (!first)
				sb_adds(&sb, " AND ");
			fts_string(&sb, &p->t[i]);
			first = false;
			if (w.len)
				sb_addc(&w, ' ');
			sb_adds(&w, p->t[i].words);
		}
		if (p->ngroups > 1)
			sb_addc(&sb, ')');
	}
	if (nneg) {
		sb_adds(&sb, ") NOT (");
		first = true;
		for (i = 0; i < p->n; i++) {
			if (!p->t[i].neg)
				continue;
			if (!first)
				sb_adds(&sb, " OR ");
			fts_string(&sb, &p->t[i]);
			first = false;
		}
		sb_addc(&sb, ')');
	}
	q->fts = sb_detach(&sb);
	q->words = sb_detach(&w);
	q->nterms = p->n;
}

bool cp_query_parse(const char *s, cp_query *q, char *err, size_t errlen)
{
	struct parse p;
	size_t len = strlen(s);
	const char *c = s;
	bool ok = true, anypos = false, not_next = false;
	int i;

	memset(q, 0, sizeof *q);
	memset(&p, 0, sizeof p);
	if (len > CP_QUERY_MAX_BYTES) {
		snprintf(err, errlen, "query longer than %d bytes",
		    CP_QUERY_MAX_BYTES);
		return false;
	}
	if (!cp_utf8_valid(s, len)) {
		snprintf(err, errlen, "query is not valid UTF-8");
		return false;
	}
	while (ok && *c) {
		bool neg = not_next, prefix = false;
		const char *start;
		size_t n;

		if (space_at(c)) {
			c++;
			continue;
		}
		not_next = false;
		if (*c == '-' && c[1] && !space_at(c + 1)) {
			neg = true;
			c++;
		}
		if (*c == '"') {
			/* a phrase runs to the next quote, or to the end */
			start = ++c;
			while (*c && *c != '"')
				c++;
			n = (size_t)(c - start);
			if (*c == '"')
				c++;
			if (*c == '*') {
				prefix = true;
				while (*c == '*')
					c++;
			}
		} else {
			start = c;
			while (*c && !space_at(c) && *c != '"')
				c++;
			n = (size_t)(c - start);
			if (!neg && n == 2 && !strncmp(start, "OR", 2) &&
			    p.ngroups > 0) {
				p.pending_or = true;
				continue;
			}
			/* AND is what terms are anyway; NOT x is -x */
			if (!neg && n == 3 && !strncmp(start, "AND", 3))
				continue;
			if (!neg && n == 3 && !strncmp(start, "NOT", 3) && *c) {
				not_next = true;
				continue;
			}
			while (n && start[n - 1] == '*') {
				prefix = true;
				n--;
			}
		}
		ok = add_term(&p, start, n, neg, prefix, err, errlen);
	}
	/* an OR with nothing after it is the word "or" */
	if (ok && p.pending_or) {
		p.pending_or = false;
		ok = add_term(&p, "OR", 2, false, false, err, errlen);
	}
	for (i = 0; i < p.n; i++)
		anypos = anypos || !p.t[i].neg;
	if (ok && !anypos) {
		snprintf(err, errlen, p.n ? "a query of exclusions only finds "
		    "nothing: add a word to look for" : "no words to search for");
		ok = false;
	}
	if (ok)
		build(&p, q);
	for (i = 0; i < p.n; i++)
		free(p.t[i].words);
	return ok;
}

void cp_query_free(cp_query *q)
{
	free(q->fts);
	free(q->words);
	memset(q, 0, sizeof *q);
}

/* ---- hits -------------------------------------------------------------- */

void cp_search_opts_default(cp_search_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kinds = CP_SK_ALL;
	o->limit = 10;
	o->candidates = cp_conf_long("search.max_candidates", NULL, 10000);
	if (o->candidates < 100)
		o->candidates = 100;
}

static cp_hit *hit_add(cp_hits *h)
{
	if (h->n == h->cap)
		h->v = xrealloc(h->v, (h->cap = h->cap ? h->cap * 2 : 32) *
		    sizeof *h->v);
	memset(&h->v[h->n], 0, sizeof *h->v);
	return &h->v[h->n++];
}

void cp_hits_free(cp_hits *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i].snippet);
	free(h->v);
	memset(h, 0, sizeof *h);
}

static int hit_cmp(const void *a, const void *b)
{
	const cp_hit *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->rid > y->rid ? -1 : x->rid < y->rid;
}

void cp_hits_sort(cp_hits *h)
{
	if (h->n > 1)
		qsort(h->v, h->n, sizeof *h->v, hit_cmp);
}

/* ---- keeping the indexes up to date ------------------------------------ */

#define SYNC_KEY "search.signals_indexed"
#define CARD_BATCH 1000
#define SIGNAL_BATCH 2000

static int64_t sync_mark(sqlite3 *db)
{
	char *v = cp_db_setting(db, SYNC_KEY);
	int64_t m = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return m;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	int64_t m = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		m = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return m;
}

static int64_t max_seq(sqlite3 *db)
{
	return one_int(db, "SELECT max(seq) FROM signals");
}

#define CARDS_KEY "search.cards_indexed"

static int64_t setting_int(sqlite3 *db, const char *key)
{
	char *v = cp_db_setting(db, key);
	int64_t m = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return m;
}

static int set_setting_int(sqlite3 *db, const char *key, int64_t v)
{
	char s[32];

	snprintf(s, sizeof s, "%lld", (long long)v);
	return cp_db_set_setting(db, key, s);
}

/* Index the cards of temp.search_batch again: out of the index (a
 * regular FTS5 table removes by rowid), back in with their text and
 * keys when they still exist. */
static int reindex_batch(sqlite3 *db)
{
	return cp_db_exec(db,
	    "DELETE FROM cards_fts WHERE rowid IN"
	    " (SELECT rid FROM temp.search_batch);"
	    "DELETE FROM search_card_keys WHERE rid IN"
	    " (SELECT rid FROM temp.search_batch);"
	    "INSERT INTO cards_fts(rowid, title, body, account, theme)"
	    " SELECT rid, title, body, account, theme FROM search_card_text"
	    " WHERE rid IN (SELECT rid FROM temp.search_batch);"
	    "INSERT INTO search_card_keys(rid, tenant_id, account_id, created_at)"
	    " SELECT rowid, tenant_id, account_id, created_at FROM cards"
	    " WHERE rowid IN (SELECT rid FROM temp.search_batch);");
}

static int batch_from(sqlite3 *db, const char *select, int64_t arg,
    int *n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = cp_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS"
	    " search_batch(rid INTEGER PRIMARY KEY);"
	    " DELETE FROM temp.search_batch;")))
		return rc;
	st = cp_db_prepare(db, select);
	sqlite3_bind_int64(st, 1, arg);
	sqlite3_bind_int(st, 2, CARD_BATCH);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	*n = rc ? 0 : sqlite3_changes(db);
	return rc;
}

/*
 * The next batch of cards: those noted as changed or deleted first, then
 * those inserted above the mark.  A deleted card's rowid can be given to
 * a new card; its note covers that, and the mark is never left above the
 * highest rowid, so the next new card is always above it.  *done when
 * nothing is left.
 */
static int sync_cards(sqlite3 *db, bool *done)
{
	int64_t mark = setting_int(db, CARDS_KEY), top;
	int n, rc;

	if ((rc = batch_from(db, "INSERT INTO temp.search_batch SELECT rid"
	    " FROM search_card_dirty WHERE rid >= ?1 ORDER BY rid LIMIT ?2",
	    INT64_MIN, &n)))
		return rc;
	if (n) {
		if ((rc = reindex_batch(db)) || (rc = cp_db_exec(db,
		    "DELETE FROM search_card_dirty WHERE rid IN"
		    " (SELECT rid FROM temp.search_batch)")))
			return rc;
		top = one_int(db, "SELECT max(rowid) FROM cards");
		return mark > top ? set_setting_int(db, CARDS_KEY, top) : 0;
	}
	if ((rc = batch_from(db, "INSERT INTO temp.search_batch SELECT rowid"
	    " FROM cards WHERE rowid > ?1 ORDER BY rowid LIMIT ?2", mark, &n)))
		return rc;
	if (!n) {
		*done = true;
		return 0;
	}
	if ((rc = reindex_batch(db)))
		return rc;
	return set_setting_int(db, CARDS_KEY,
	    one_int(db, "SELECT max(rid) FROM temp.search_batch"));
}

/* The keys of signals (lo, hi]: one row per account named, or one with
 * account '' for a signal naming none (or holding no valid list). */
static int index_keys(sqlite3 *db, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st = cp_db_prepare(db, "INSERT OR IGNORE INTO"
	    " search_signal_keys(seq, account_id, tenant_id, published_at)"
	    " SELECT s.seq, coalesce(j.value, ''), s.tenant_id, s.published_at"
	    " FROM signals s LEFT JOIN json_each(CASE WHEN"
	    "  json_valid(s.account_ids) AND json_type(s.account_ids) = 'array'"
	    "  THEN s.account_ids ELSE '[]' END) j"
	    " WHERE s.seq > ? AND s.seq <= ? AND (j.type IS NULL OR j.type = 'text')");
	int rc;

	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

/* Index the next batch of signals above the mark; *done when none is
 * left. */
static int sync_signals(sqlite3 *db, bool *done)
{
	int64_t mark = sync_mark(db), end = 0;
	sqlite3_stmt *st;
	char v[32];
	int rc;

	st = cp_db_prepare(db, "SELECT seq FROM signals WHERE seq > ?"
	    " ORDER BY seq LIMIT 1 OFFSET ?");
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_int(st, 2, SIGNAL_BATCH - 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		end = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!end) {
		end = max_seq(db);
		*done = true;
	}
	if (end <= mark) {
		*done = true;
		return 0;
	}
	st = cp_db_prepare(db, "INSERT INTO signals_fts(rowid, title, text)"
	    " SELECT seq, title, text FROM signals WHERE seq > ? AND seq <= ?");
	sqlite3_bind_int64(st, 1, mark);
	sqlite3_bind_int64(st, 2, end);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (!rc)
		rc = index_keys(db, mark, end);
	snprintf(v, sizeof v, "%lld", (long long)end);
	if (!rc)
		rc = cp_db_set_setting(db, SYNC_KEY, v);
	return rc;
}

int cp_search_sync(sqlite3 *db, int wait_ms)
{
	int64_t mark = sync_mark(db), top = max_seq(db), cards;
	bool cdone = false, sdone = false;
	int rc = 0;

	{
		sqlite3_stmt *st = cp_db_prepare(db, "SELECT"
		    " (SELECT count(*) FROM search_card_dirty) +"
		    " (SELECT count(*) FROM cards WHERE rowid > ?)");
		sqlite3_bind_int64(st, 1, setting_int(db, CARDS_KEY));
		cards = sqlite3_step(st) == SQLITE_ROW ?
		    sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
	}
	if (top <= mark && cards == 0)
		return 0;
	cp_info("indexing %lld cards and %lld signals", (long long)cards,
	    (long long)(top > mark ? top - mark : 0));
	/* the pipeline may hold the write lock for a while: do not wait
	 * for it, search what is indexed */
	sqlite3_busy_timeout(db, wait_ms);
	while (!(cdone && sdone) && !rc) {
		int s = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (s != SQLITE_OK) {
			cp_info("search index left behind (%s): the newest "
			    "changes may be missing from the results",
			    sqlite3_errmsg(db));
			break;
		}
		/* one batch a transaction: a writer waiting for the lock
		 * waits for one batch, not for all of them */
		if (!cdone)
			rc = sync_cards(db, &cdone);
		else
			rc = sync_signals(db, &sdone);
		if (rc) {
			cp_db_rollback(db);
			break;
		}
		rc = cp_db_commit(db);
	}
	sqlite3_busy_timeout(db, (int)cp_conf_long("db.busy_timeout", NULL,
	    60000));
	return rc;
}

int cp_search_reindex(sqlite3 *db)
{
	int rc;

	/* everything noted and unmarked, then caught up as usual */
	if ((rc = cp_db_begin(db)))
		return rc;
	if ((rc = cp_db_exec(db,
	    "DELETE FROM cards_fts;"
	    "DELETE FROM search_card_keys;"
	    "DELETE FROM search_card_dirty;"
	    "DELETE FROM settings WHERE key = '" CARDS_KEY "';"
	    "INSERT INTO signals_fts(signals_fts) VALUES ('delete-all');"
	    "DELETE FROM search_signal_keys;"
	    "DELETE FROM settings WHERE key = '" SYNC_KEY "';"
	    "DELETE FROM search_vectors WHERE"
	    " (kind = 'card' AND rid NOT IN (SELECT rowid FROM cards)) OR"
	    " (kind = 'signal' AND rid NOT IN (SELECT seq FROM signals)) OR"
	    " (kind = 'asset' AND rid NOT IN (SELECT seq FROM assets))"))) {
		cp_db_rollback(db);
		return rc;
	}
	if ((rc = cp_db_commit(db)))
		return rc;
	return cp_search_sync(db, (int)cp_conf_long("db.busy_timeout", NULL,
	    60000));
}

/* ---- full-text queries ------------------------------------------------ */

/*
 * Per kind: the index, its BM25 weights, the table and the scope.  The
 * inner query walks the matches newest first (FTS5 gives rowid order
 * without sorting) through the scope and keeps at most the candidate
 * cap; the outer one ranks them.  The index drives the loop (CROSS JOIN
 * keeps that order): the table row is a rowid lookup.
 */
static char *kind_sql(int kind, const cp_search_opts *o)
{
	strbuf sb = CP_STRBUF_INIT;

	sb_adds(&sb, "SELECT rid, r, ver FROM (SELECT f.rowid AS rid, ");
	switch (kind) {
	case CP_SK_CARD:
		/* the keys, not the cards: a page per hundred matches */
		sb_adds(&sb, "bm25(cards_fts, 4.0, 1.0, 3.0, 2.0) AS r,"
		    " 0 AS ver FROM cards_fts f"
		    " CROSS JOIN search_card_keys c ON c.rid = f.rowid"
		    " WHERE cards_fts MATCH :q AND c.tenant_id = :tenant"
		    " AND c.account_id IN (SELECT account_id FROM temp.scope)");
		if (o->account)
			sb_adds(&sb, " AND c.account_id = :account");
		if (*o->since)
			sb_adds(&sb, " AND c.created_at >= :since");
		break;
	case CP_SK_SIGNAL:
		/* a signal is in scope through any account it names; one
		 * naming none is the tenant's, which only admins see */
		/* the '+' keep the planner on the primary key (seq): the
		 * account index would read the tenant's keys per match */
		sb_adds(&sb, "bm25(signals_fts, 4.0, 1.0) AS r, 1 AS ver"
		    " FROM signals_fts f WHERE signals_fts MATCH :q"
		    " AND EXISTS (SELECT 1 FROM search_signal_keys s"
		    "  WHERE s.seq = f.rowid AND +s.tenant_id = :tenant"
		    "  AND (+s.account_id IN (SELECT account_id FROM temp.scope)"
		    "   OR (:admin AND +s.account_id = ''))");
		if (o->account)
			sb_adds(&sb, " AND +s.account_id = :account");
		if (*o->since)
			sb_adds(&sb, " AND +s.published_at >= :since");
		sb_addc(&sb, ')');
		break;
	default:
		sb_adds(&sb, "bm25(assets_fts, 4.0, 1.0, 6.0, 2.0, 3.0) AS r,"
		    " a.version AS ver FROM assets_fts f"
		    " CROSS JOIN assets a ON a.seq = f.rowid"
		    " WHERE assets_fts MATCH :q AND a.tenant_id = :tenant");
		if (*o->since)
			sb_adds(&sb, " AND a.updated_at >= :since");
		break;
	}
	sb_adds(&sb, " ORDER BY f.rowid DESC LIMIT :cap)"
	    " ORDER BY r, rid DESC LIMIT :limit");
	return sb_detach(&sb);
}

static void bind_named(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		cp_db_bind_text(st, i, v);
}

static void bind_int_named(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_int64(st, i, v);
}

static const char *const snippet_sql[] = {
	"SELECT snippet(cards_fts, 1, char(2), char(3), :ell, 16)"
	" FROM cards_fts WHERE cards_fts MATCH :q AND rowid = :rid",
	"SELECT snippet(signals_fts, 1, char(2), char(3), :ell, 16)"
	" FROM signals_fts WHERE signals_fts MATCH :q AND rowid = :rid",
	"SELECT snippet(assets_fts, 1, char(2), char(3), :ell, 16)"
	" FROM assets_fts WHERE assets_fts MATCH :q AND rowid = :rid"
};

static int kind_index(int kind)
{
	return kind == CP_SK_CARD ? 0 : kind == CP_SK_SIGNAL ? 1 : 2;
}

/* The snippet of one hit: a second, one-row query, so that snippets are
 * made for the results shown, not for every candidate. */
static char *snippet_of(sqlite3 *db, const cp_query *q, int kind,
    int64_t rid, bool ascii)
{
	sqlite3_stmt *st = cp_db_prepare(db, snippet_sql[kind_index(kind)]);
	char *s = NULL;

	bind_named(st, ":q", q->fts);
	bind_named(st, ":ell", ascii ? "..." : "\xE2\x80\xA6");
	bind_int_named(st, ":rid", rid);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		s = xstrdup(cp_db_col_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

/* A query FTS5 refuses (there should be none: the parser writes only
 * quoted strings) is reported as the user's, not as a crash. */
static int fts_error(sqlite3 *db, const char *what)
{
	const char *m = sqlite3_errmsg(db);

	if (strstr(m, "fts5") || strstr(m, "syntax")) {
		cp_err("%s: cannot search for this: %s", what, m);
		return CP_EX_DATAERR;
	}
	return cp_db_error(db, what);
}

static int search_kind(sqlite3 *db, const cp_user *u, const cp_query *q,
    const cp_search_opts *o, int kind, cp_hits *out)
{
	char *sql = kind_sql(kind, o);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	size_t first = out->n, i;
	int rc;

	cp_debug("sql: %s", sql);
	free(sql);
	bind_named(st, ":q", q->fts);
	bind_int_named(st, ":tenant", u->tenant_id);
	bind_int_named(st, ":admin", u->role == CP_ROLE_ADMIN);
	bind_named(st, ":account", o->account);
	bind_named(st, ":since", o->since);
	bind_int_named(st, ":cap", o->candidates);
	bind_int_named(st, ":limit", o->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cp_hit *h = hit_add(out);
		h->kind = kind;
		h->rid = sqlite3_column_int64(st, 0);
		/* bm25 is negative, smaller is better */
		h->score = -sqlite3_column_double(st, 1);
		h->version = sqlite3_column_int64(st, 2);
	}
	if (rc != SQLITE_DONE) {
		rc = fts_error(db, "search");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	for (i = first; i < out->n; i++)
		out->v[i].snippet = snippet_of(db, q, kind, out->v[i].rid,
		    o->ascii);
	return 0;
}

/* The signals' search on the second connection, in its own thread. */
struct side {
	const cp_user *u;
	const cp_query *q;
	const cp_search_opts *o;
	cp_hits hits;
	int rc;
};

static void *side_search(void *arg)
{
	struct side *s = arg;

	s->rc = search_kind(s->o->db2, s->u, s->q, s->o, CP_SK_SIGNAL, &s->hits);
	return NULL;
}

static void append_hits(cp_hits *out, cp_hits *more)
{
	size_t i;

	for (i = 0; i < more->n; i++) {
		*hit_add(out) = more->v[i];
		more->v[i].snippet = NULL;
	}
	cp_hits_free(more);
}

int cp_search_fts(sqlite3 *db, const cp_user *u, const cp_query *q,
    const cp_search_opts *o, cp_hits *out)
{
	int kinds = o->kinds ? o->kinds : CP_SK_ALL, rc = 0;
	struct side side = { u, q, o, { NULL, 0, 0 }, 0 };
	pthread_t th;
	bool threaded = false;

	/* cards and signals are two big indexes: on two cores, the
	 * signals' search runs while the cards' does */
	if (o->db2 && (kinds & CP_SK_CARD) && (kinds & CP_SK_SIGNAL))
		threaded = pthread_create(&th, NULL, side_search, &side) == 0;
	if (kinds & CP_SK_CARD)
		rc = search_kind(db, u, q, o, CP_SK_CARD, out);
	if (threaded) {
		pthread_join(th, NULL);
		rc = cp_exit_worst(rc, side.rc);
		append_hits(out, &side.hits);
	} else if (!rc && (kinds & CP_SK_SIGNAL)) {
		rc = search_kind(db, u, q, o, CP_SK_SIGNAL, out);
	}
	/* assets belong to the tenant, not to an account */
	if (!rc && (kinds & CP_SK_ASSET) && !o->account)
		rc = search_kind(db, u, q, o, CP_SK_ASSET, out);
	return rc;
}

/* ---- fusion ------------------------------------------------------------ */

static cp_hit *find_hit(cp_hits *h, int kind, int64_t rid)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].kind == kind && h->v[i].rid == rid)
			return &h->v[i];
	return NULL;
}

void cp_search_fuse(const cp_hits *a, const cp_hits *b, double k, long limit,
    cp_hits *out)
{
	const cp_hits *lists[2] = { a, b };
	cp_hits u = { NULL, 0, 0 };
	size_t i;
	int l;

	for (l = 0; l < 2; l++) {
		long rank = 0;
		for (i = 0; i < lists[l]->n; i++) {
			const cp_hit *src = &lists[l]->v[i];
			cp_hit *h = find_hit(&u, src->kind, src->rid);
			/* ranks count within a kind: the lists are by kind */
			rank = i > 0 && lists[l]->v[i - 1].kind == src->kind ?
			    rank + 1 : 1;
			if (!h) {
				h = hit_add(&u);
				h->kind = src->kind;
				h->rid = src->rid;
				h->version = src->version;
			}
			h->score += 1.0 / (k + (double)rank);
			if (!h->snippet && src->snippet)
				h->snippet = xstrdup(src->snippet);
		}
	}
	cp_hits_sort(&u);
	for (i = 0; i < u.n; i++) {
		long same = 0;
		size_t j;
		/* at most limit of each kind, as the rankings fused */
		for (j = 0; j < out->n; j++)
			same += out->v[j].kind == u.v[i].kind;
		if (same < limit) {
			*hit_add(out) = u.v[i];
			u.v[i].snippet = NULL;
		}
	}
	cp_hits_free(&u);
}

/* ---- records ----------------------------------------------------------- */

static json_t *json_col(sqlite3_stmt *st, int i, json_t *dflt)
{
	json_t *v = NULL;
	const char *s = (const char *)sqlite3_column_text(st, i);

	if (s)
		v = json_loads(s, JSON_DECODE_ANY, NULL);
	if (!v)
		return dflt;
	json_decref(dflt);
	return v;
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() :
	    json_string(cp_db_col_text(st, i));
}

/* A signal as stored (30-signals.sql), as a signal record. */
static json_t *signal_record(sqlite3 *db, const cp_user *u, int64_t seq)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT id, account_ids,"
	    " document_id, cluster_id, source, url, title, text, lang, themes,"
	    " entities, published_at, fetched_at FROM signals"
	    " WHERE seq = ? AND tenant_id = ?");
	json_t *r = NULL;

	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, u->tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r = json_pack("{s:s, s:i}", "type", "signal", "v", 1);
		json_object_set_new(r, "id", text_or_null(st, 0));
		json_object_set_new(r, "tenant", json_string(u->tenant));
		json_object_set_new(r, "account_ids", json_col(st, 1,
		    json_array()));
		json_object_set_new(r, "document_id", text_or_null(st, 2));
		json_object_set_new(r, "cluster_id", text_or_null(st, 3));
		json_object_set_new(r, "source", text_or_null(st, 4));
		json_object_set_new(r, "url", text_or_null(st, 5));
		json_object_set_new(r, "title", text_or_null(st, 6));
		json_object_set_new(r, "text", text_or_null(st, 7));
		json_object_set_new(r, "lang", text_or_null(st, 8));
		json_object_set_new(r, "themes", json_col(st, 9, json_array()));
		json_object_set_new(r, "entities", json_col(st, 10,
		    json_array()));
		json_object_set_new(r, "published_at", text_or_null(st, 11));
		json_object_set_new(r, "fetched_at", text_or_null(st, 12));
	}
	sqlite3_finalize(st);
	return r;
}

static char *id_of(sqlite3 *db, const char *sql, int64_t rid,
    int64_t tenant_id)
{
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	char *id = NULL;

	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = xstrdup(cp_db_col_text(st, 0));
	sqlite3_finalize(st);
	return id;
}

/* The snippet without its markers. */
static char *plain_snippet(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;

	for (; s && *s; s++)
		if (*s != CP_HL_ON && *s != CP_HL_OFF)
			sb_addc(&sb, *s);
	return sb.len ? sb_detach(&sb) : (sb_free(&sb), xstrdup(""));
}

json_t *cp_search_record(sqlite3 *db, const cp_user *u, const cp_hit *h,
    long rank)
{
	json_t *r = NULL, *s;
	char *id;

	switch (h->kind) {
	case CP_SK_CARD:
		if ((id = id_of(db, "SELECT id FROM cards WHERE rowid = ?1"
		    " AND tenant_id = ?2", h->rid, u->tenant_id))) {
			/* inbox.h checks the scope once more */
			r = cp_inbox_card(db, u, id);
			free(id);
		}
		break;
	case CP_SK_SIGNAL:
		r = signal_record(db, u, h->rid);
		break;
	case CP_SK_ASSET:
		if ((id = id_of(db, "SELECT id FROM assets WHERE seq = ?1"
		    " AND tenant_id = ?2", h->rid, u->tenant_id))) {
			r = cp_asset_get_json(db, u->tenant_id, id);
			free(id);
			if (r)
				cp_json_set_str(r, "type", "asset");
		}
		break;
	}
	if (!r)
		return NULL;
	s = json_object();
	cp_json_set_str(s, "kind", cp_search_kind_name(h->kind));
	json_object_set_new(s, "rank", json_integer(rank));
	json_object_set_new(s, "score", json_real(h->score));
	if (h->snippet) {
		char *p = plain_snippet(h->snippet);
		strbuf c = CP_STRBUF_INIT;
		cp_inbox_clean(&c, p, false);
		json_object_set_new(s, "snippet", json_string(sb_str(&c)));
		sb_free(&c);
		free(p);
	}
	json_object_set_new(r, "search", s);
	return r;
}

/* ---- snippets on a terminal ------------------------------------------- */

/* Display columns of one character (controls shown as a space). */
static int char_width(const char *s, size_t k)
{
	char one[8];

	if (k == 0 || k > 4)
		return 1;
	memcpy(one, s, k);
	one[k] = '\0';
	return cp_u_width(one);
}

static int marked_width(const char *s, bool ascii)
{
	int w = 0;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		if (ascii && k && cp == 0x2026)
			w += 3;
		else if (s[i] != CP_HL_ON && s[i] != CP_HL_OFF)
			w += char_width(s + i, k ? k : 1);
		i += k ? k : 1;
	}
	return w;
}

void cp_search_fit_snippet(strbuf *out, const char *s, int width, bool ascii,
    const char *on, const char *off)
{
	const char *ell = ascii ? "..." : "\xE2\x80\xA6";
	int ellw = ascii ? 3 : 1, budget = width, used = 0;
	size_t n = strlen(s), i = 0;
	bool lit = false, space = true;

	if (width <= 0)
		return;
	if (marked_width(s, ascii) > width)
		budget = width > ellw ? width - ellw : width;
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);
		int w;

		if (s[i] == CP_HL_ON || s[i] == CP_HL_OFF) {
			lit = s[i] == CP_HL_ON;
			if (on && off)
				sb_adds(out, lit ? on : off);
			i++;
			continue;
		}
		/* control characters and runs of blanks: one space */
		if (k && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == ' ')) {
			if (!space && used < budget) {
				sb_addc(out, ' ');
				used++;
			}
			space = true;
			i += k;
			continue;
		}
		w = k ? char_width(s + i, k) : 1;
		if (ascii && cp == 0x2026)
			w = 3;            /* an ellipsis in the text itself */
		if (used + w > budget)
			break;
		if (ascii && cp == 0x2026)
			sb_adds(out, "...");
		else if (!k)
			sb_adds(out, "\xEF\xBF\xBD");   /* an invalid byte */
		else
			sb_add(out, s + i, k);
		used += w;
		space = false;
		i += k ? k : 1;
	}
	if (lit && on && off)
		sb_adds(out, off);
	if (i < n && budget < width) {
		sb_adds(out, ell);
	}
}

/* ---- text for embeddings ---------------------------------------------- */

char *cp_search_item_text(sqlite3 *db, int kind, int64_t rid, size_t max)
{
	static const char *const sql[] = {
		"SELECT title, body FROM search_card_text WHERE rid = ?",
		"SELECT title, text FROM signals WHERE seq = ?",
		"SELECT title, summary FROM assets WHERE seq = ?"
	};
	sqlite3_stmt *st = cp_db_prepare(db, sql[kind_index(kind)]);
	strbuf sb = CP_STRBUF_INIT;
	char *out = NULL;

	sqlite3_bind_int64(st, 1, rid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sb_adds(&sb, cp_db_col_text(st, 0));
		sb_addc(&sb, '\n');
		sb_adds(&sb, cp_db_col_text(st, 1));
		if (sb.len > max) {
			size_t n = max;
			/* cut at a character boundary */
			while (n > 0 && ((unsigned char)sb.buf[n] & 0xC0) == 0x80)
				n--;
			sb_truncate(&sb, n);
		}
		out = sb_detach(&sb);
	}
	sqlite3_finalize(st);
	sb_free(&sb);
	return out;
}
