#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "utf8.h"

const char *const cp_card_statuses[] = { "pending_review", "approved",
	"rejected", "pushed", NULL };

const char *cp_inbox_status(const char *s)
{
	int i;

	if (!s || !strcmp(s, "pending"))
		return "pending_review";
	if (!strcmp(s, "any"))
		return "any";
	for (i = 0; cp_card_statuses[i]; i++)
		if (!strcmp(s, cp_card_statuses[i]))
			return cp_card_statuses[i];
	return NULL;
}

static const char select_cols[] =
	"SELECT c.id, c.score, c.created_at, c.account_id, a.name, c.theme,"
	" c.title, c.status, c.version, u.login, c.decided_at, c.source,"
	" c.playbook_id, c.record FROM cards c";

/* After "FROM cards c" (and its INDEXED BY): cards are always the outer
 * loop (SQLite keeps the order of a CROSS JOIN). */
static const char joins[] =
	" CROSS JOIN accounts a ON a.tenant_id = c.tenant_id"
	"  AND a.id = c.account_id"
	" LEFT JOIN users u ON u.id = c.assignee_id";

char *cp_inbox_sql(const cp_user *u, const cp_inbox_filter *f, long limit)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *status = cp_inbox_status(f->status);
	bool mine = !f->all && u->role != CP_ROLE_VIEWER;

	sb_adds(&sb, select_cols);
	/*
	 * The index that walks this queue in score order (50-inbox.sql).
	 * Named, not left to the planner: with statistics it would rather
	 * drive the loop by the scope's accounts and sort the whole queue, or
	 * pick cards_queue, which lacks account_id and so reads every card
	 * of the tenant to test the scope of a small team (120 ms instead of
	 * 10 over 100,000 cards; tests/bench/bench-inbox.sh).
	 */
	sb_addf(&sb, " INDEXED BY %s", f->account ? "cards_account_queue" :
	    mine ? "cards_inbox" : "cards_scope_queue");
	sb_adds(&sb, joins);
	/* the scope is a membership test per card ("+" keeps the planner
	 * from driving the loop by the scope's accounts, which means
	 * sorting the whole queue): the score-ordered index drives it, and
	 * the query stops at the limit */
	sb_adds(&sb, " WHERE c.tenant_id = :tenant"
	    " AND +c.account_id IN (SELECT account_id FROM temp.scope)");
	if (status && strcmp(status, "any"))
		sb_adds(&sb, " AND c.status = :status");
	if (mine)
		sb_adds(&sb, " AND c.assignee_id = :me");
	if (f->has_min_score)
		sb_adds(&sb, " AND c.score >= :min_score");
	if (f->account)
		sb_adds(&sb, " AND c.account_id = :account");
	if (f->theme)
		sb_adds(&sb, " AND c.theme = :theme");
	if (f->source)
		sb_adds(&sb, " AND c.source = :source");
	if (*f->since)
		sb_adds(&sb, " AND c.created_at >= :since");
	sb_adds(&sb, " ORDER BY c.score DESC, c.created_at DESC, c.id");
	if (limit > 0)
		sb_addf(&sb, " LIMIT %ld", limit);
	return sb_detach(&sb);
}

static void bind_name(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		cp_db_bind_text(st, i, v);
}

sqlite3_stmt *cp_inbox_query(sqlite3 *db, const cp_user *u,
    const cp_inbox_filter *f, long limit)
{
	char *sql = cp_inbox_sql(u, f, limit);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	int i;

	/* -vv: the statement, for EXPLAIN QUERY PLAN in the tests */
	cp_debug("sql: %s", sql);
	free(sql);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":tenant"),
	    u->tenant_id);
	if ((i = sqlite3_bind_parameter_index(st, ":me")))
		sqlite3_bind_int64(st, i, u->id);
	if ((i = sqlite3_bind_parameter_index(st, ":min_score")))
		sqlite3_bind_double(st, i, f->min_score);
	bind_name(st, ":status", cp_inbox_status(f->status));
	bind_name(st, ":account", f->account);
	bind_name(st, ":theme", f->theme);
	bind_name(st, ":source", f->source);
	bind_name(st, ":since", f->since);
	return st;
}

/* "card_3f2a", "3F2A", "3f2a@2" → hex prefix and version; false when
 * malformed. */
static bool parse_typed(const char *typed, char hex[33], int64_t *version,
    bool *said)
{
	const char *p = typed, *at = strchr(typed, '@');
	size_t n = at ? (size_t)(at - typed) : strlen(typed), i;

	*said = false;
	if (n > 5 && !strncmp(p, "card_", 5)) {
		p += 5;
		n -= 5;
	}
	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return false;
		hex[i] = (char)tolower((unsigned char)p[i]);
	}
	hex[n] = '\0';
	if (at) {
		char *end;
		long long v = strtoll(at + 1, &end, 10);
		if (!at[1] || *end || v < 1)
			return false;
		*version = v;
		*said = true;
	}
	return true;
}

int cp_inbox_resolve(sqlite3 *db, const cp_user *u, const char *typed,
    char out[CP_ID_MAX], int64_t *version, bool *said)
{
	char hex[33], lo[CP_ID_MAX], hi[CP_ID_MAX];
	sqlite3_stmt *st;
	strbuf cand = CP_STRBUF_INIT;
	int n = 0, rc;
	int64_t v = 0, said_v = 0;

	if (!parse_typed(typed, hex, &said_v, said)) {
		cp_err("%s: not a card id (card_ and hex digits, optionally "
		    "@VERSION)", typed);
		return CP_EX_USAGE;
	}
	if (strlen(hex) < CP_INBOX_MIN_PREFIX) {
		cp_err("%s: card id prefix too short (at least %d hex digits)",
		    typed, CP_INBOX_MIN_PREFIX);
		return CP_EX_USAGE;
	}
	/* a range on the primary key: every id starting with the prefix */
	snprintf(lo, sizeof lo, "card_%s", hex);
	snprintf(hi, sizeof hi, "card_%s~", hex);
	st = cp_db_prepare(db, "SELECT c.id, c.version FROM cards c"
	    " WHERE c.id >= ?2 AND c.id < ?3 AND c.tenant_id = ?1"
	    " AND c.account_id IN (SELECT account_id FROM temp.scope)"
	    " ORDER BY c.id LIMIT 6");
	sqlite3_bind_int64(st, 1, u->tenant_id);
	cp_db_bind_text(st, 2, lo);
	cp_db_bind_text(st, 3, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			snprintf(out, CP_ID_MAX, "%s", cp_db_col_text(st, 0));
			v = sqlite3_column_int64(st, 1);
		}
		sb_addf(&cand, "%s%s", n > 1 ? ", " : "",
		    n > 5 ? "…" : cp_db_col_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sb_free(&cand);
		return cp_db_error(db, "look up card");
	}
	if (n == 0) {
		sb_free(&cand);
		return cp_rbac_deny(typed);
	}
	if (n > 1) {
		cp_err("%s: ambiguous card id prefix: %s", typed, sb_str(&cand));
		sb_free(&cand);
		return CP_EX_DATAERR;
	}
	sb_free(&cand);
	*version = *said ? said_v : v;
	return 0;
}

json_t *cp_inbox_row_card(sqlite3_stmt *st)
{
	json_t *rec = json_loads(cp_db_col_text(st, CP_IQ_RECORD), 0, NULL);

	if (!json_is_object(rec)) {
		/* never lose a card over a bad stored record: rebuild the
		 * fields the columns hold */
		json_decref(rec);
		rec = json_pack("{s:s, s:i}", "type", "card", "v", 1);
		cp_json_set_str(rec, "id", cp_db_col_text(st, CP_IQ_ID));
		cp_json_set_str(rec, "account_id",
		    cp_db_col_text(st, CP_IQ_ACCOUNT));
		cp_json_set_str(rec, "theme", cp_db_col_text(st, CP_IQ_THEME));
		cp_json_set_str(rec, "title", cp_db_col_text(st, CP_IQ_TITLE));
		cp_json_set_str(rec, "created_at",
		    cp_db_col_text(st, CP_IQ_CREATED));
	}
	cp_json_set_str(rec, "id", cp_db_col_text(st, CP_IQ_ID));
	cp_json_set_str(rec, "status", cp_db_col_text(st, CP_IQ_STATUS));
	json_object_set_new(rec, "version",
	    json_integer(sqlite3_column_int64(st, CP_IQ_VERSION)));
	if (!json_object_get(rec, "score"))
		json_object_set_new(rec, "score",
		    json_real(sqlite3_column_double(st, CP_IQ_SCORE)));
	cp_json_set_str(rec, "account_name",
	    cp_db_col_text(st, CP_IQ_ACCOUNT_NAME));
	json_object_set_new(rec, "assignee",
	    sqlite3_column_type(st, CP_IQ_ASSIGNEE) == SQLITE_NULL ? json_null() :
	    json_string(cp_db_col_text(st, CP_IQ_ASSIGNEE)));
	json_object_set_new(rec, "decided_at",
	    sqlite3_column_type(st, CP_IQ_DECIDED) == SQLITE_NULL ? json_null() :
	    json_string(cp_db_col_text(st, CP_IQ_DECIDED)));
	return rec;
}

json_t *cp_inbox_card(sqlite3 *db, const cp_user *u, const char *id)
{
	char *sql = xasprintf("%s%s WHERE c.id = ?1 AND c.tenant_id = ?2"
	    " AND c.account_id IN (SELECT account_id FROM temp.scope)",
	    select_cols, joins);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	json_t *rec = NULL;

	free(sql);
	cp_db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, u->tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		rec = cp_inbox_row_card(st);
	sqlite3_finalize(st);
	return rec;
}

char *cp_inbox_narrative_text(const json_t *card)
{
	static const char *const parts[] = { "what_happened", "why_it_matters",
	    "why_now", NULL };
	json_t *n = json_object_get(card, "narrative");
	strbuf sb = CP_STRBUF_INIT;
	int i;

	if (json_is_string(n))
		return xstrdup(json_string_value(n));
	for (i = 0; parts[i]; i++) {
		const char *p = cp_json_str(n, parts[i]);
		if (p && *p)
			sb_addf(&sb, "%s%s", sb.len ? "\n\n" : "", p);
	}
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

const char *cp_inbox_next_step(const json_t *card)
{
	const char *s = cp_json_str(json_object_get(card, "narrative"),
	    "next_step");

	return s ? s : cp_json_str(card, "next_step");
}

void cp_inbox_set_narrative(json_t *card, const char *text)
{
	json_t *old = json_object_get(card, "narrative"), *n;

	if (!json_is_object(old)) {
		cp_json_set_str(card, "narrative", text);
		return;
	}
	n = json_object();
	cp_json_set_str(n, "what_happened", text);
	if (cp_json_str(old, "next_step"))
		cp_json_set_str(n, "next_step", cp_json_str(old, "next_step"));
	cp_json_set_str(n, "source", "edited");
	json_object_set_new(card, "narrative", n);
}

void cp_inbox_set_next_step(json_t *card, const char *text)
{
	json_t *n = json_object_get(card, "narrative");

	if (json_is_object(n))
		cp_json_set_str(n, "next_step", text);
	else
		cp_json_set_str(card, "next_step", text);
}

long cp_inbox_sla_hours(sqlite3 *db, int64_t tenant_id)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT review_sla_hours FROM tenants WHERE id = ?");
	long h = 48;

	sqlite3_bind_int64(st, 1, tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		h = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return h;
}

void cp_inbox_age(time_t now, time_t t, char out[CP_INBOX_AGE_MAX])
{
	long long s = now > t ? (long long)(now - t) : 0;

	if (s < 3600)
		snprintf(out, CP_INBOX_AGE_MAX, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, CP_INBOX_AGE_MAX, "%lldh", s / 3600);
	else if (s < 14 * 86400)
		snprintf(out, CP_INBOX_AGE_MAX, "%lldd", s / 86400);
	else if (s < 365 * 86400)
		snprintf(out, CP_INBOX_AGE_MAX, "%lldw", s / (7 * 86400));
	else
		snprintf(out, CP_INBOX_AGE_MAX, "%lldy", s / (365 * 86400));
}

void cp_inbox_duration(double secs, char out[32])
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, 32, "%.0fs", secs);
	else if (secs < 7200)
		snprintf(out, 32, "%.0fm", secs / 60);
	else if (secs < 3 * 86400)
		snprintf(out, 32, "%.1fh", secs / 3600);
	else
		snprintf(out, 32, "%.1fd", secs / 86400);
}

void cp_inbox_clean(strbuf *sb, const char *s, bool keep_newlines)
{
	size_t n, i = 0, start = sb->len;
	bool space = true;        /* no blank at the start */

	if (!s)
		return;
	n = strlen(s);
	while (i < n) {
		int32_t cp;
		size_t k = cp_utf8_decode(s + i, n - i, &cp);

		if (!k) {
			/* invalid byte: the replacement character */
			sb_adds(sb, "\xEF\xBF\xBD");
			i++;
			space = false;
			continue;
		}
		if (keep_newlines && cp == '\n') {
			while (sb->len && sb->buf[sb->len - 1] == ' ')
				sb->len--;
			sb_addc(sb, '\n');
			space = true;     /* no blank at the start of a line */
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    cp == ' ') {
			if (!space)
				sb_addc(sb, ' ');
			space = true;
		} else {
			sb_add(sb, s + i, k);
			space = false;
		}
		i += k;
	}
	while (sb->len > start && (sb->buf[sb->len - 1] == ' ' ||
	    sb->buf[sb->len - 1] == '\n'))
		sb->len--;
	if (sb->buf)
		sb->buf[sb->len] = '\0';
}
