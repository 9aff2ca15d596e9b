/*
 * outbox.c — the push outbox in the state file (outbox.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "outbox.h"
#include "strbuf.h"
#include "timefmt.h"

static const char *const target_names[CP_TGT_N] = {
	"hubspot", "salesforce", "webhook", "file"
};
static const char *const action_names[CP_PUSH_N] = {
	"note", "task", "opportunity", "card"
};

/* The target's bit in a mask, as SQL: the same numbering as cp_target. */
#define TARGET_BIT_SQL \
	"(CASE o.target WHEN 'hubspot' THEN 1 WHEN 'salesforce' THEN 2" \
	" WHEN 'webhook' THEN 4 WHEN 'file' THEN 8 ELSE 0 END)"

const char *cp_target_name(cp_target t)
{
	return (unsigned)t < CP_TGT_N ? target_names[t] : "?";
}

bool cp_target_parse(const char *s, cp_target *out)
{
	int i;

	for (i = 0; s && i < CP_TGT_N; i++)
		if (!strcmp(s, target_names[i])) {
			*out = (cp_target)i;
			return true;
		}
	return false;
}

const char *cp_push_action_name(cp_push_action a)
{
	return (unsigned)a < CP_PUSH_N ? action_names[a] : "?";
}

bool cp_push_action_parse(const char *s, cp_push_action *out)
{
	int i;

	for (i = 0; s && i < CP_PUSH_N; i++)
		if (!strcmp(s, action_names[i])) {
			*out = (cp_push_action)i;
			return true;
		}
	return false;
}

void cp_outbox_key(char out[CP_ID_MAX], const char *card_id,
    cp_target target, cp_push_action action)
{
	cp_make_id4(out, "cpk_", card_id, cp_target_name(target),
	    cp_push_action_name(action), NULL);
}

bool cp_outbox_parse_targets(const char *list, unsigned *mask, char *err,
    size_t errlen)
{
	char *copy = xstrdup(list ? list : ""), *tok, *save = NULL;
	bool ok = true;

	*mask = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		cp_target t;
		if (!cp_target_parse(tok, &t)) {
			snprintf(err, errlen, "unknown push target '%s' (hubspot, "
			    "salesforce, webhook, file)", tok);
			ok = false;
			break;
		}
		*mask |= 1u << t;
	}
	free(copy);
	return ok;
}

unsigned cp_outbox_active_targets(sqlite3 *db)
{
	const char *conf = cp_conf("push.targets", NULL, NULL);
	char *stored = NULL, *copy, *tok, *save = NULL;
	unsigned mask = 0;

	if (!conf)
		conf = stored = cp_db_setting(db, "push.targets");
	copy = xstrdup(conf ? conf : "");
	for (tok = strtok_r(copy, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		cp_target t;
		if (cp_target_parse(tok, &t))
			mask |= 1u << t;
		else
			cp_warn("push.targets: unknown target '%s' skipped", tok);
	}
	free(copy);
	free(stored);
	return mask;
}

/* ---- enqueueing ---------------------------------------------------------- */

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *x = json_object_get(obj, a);

	return b ? cp_json_str(x, b) : cp_json_str(obj, a);
}

/* "YYYY-MM-DD" days after the time t. */
static void date_after(time_t t, long days, char out[16])
{
	struct tm tm;
	time_t d = t + days * 86400;

	gmtime_r(&d, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/*
 * What a CRM action needs, fixed at approval so that a retry days later
 * sends the same thing: the card's identity and context, the action's
 * own fields, and for a task its due date.
 */
static json_t *action_payload(const json_t *card, const json_t *act,
    time_t approved)
{
	json_t *p = json_object(), *ev = json_array_get(
	    json_object_get(card, "evidence"), 0);
	const char *k;
	json_t *v;
	char ts[CP_TIME_MAX];

	cp_json_set_str(p, "card_id", cp_json_str(card, "id"));
	cp_json_set_str(p, "account_id", cp_json_str(card, "account_id"));
	cp_json_set_str(p, "account_name", cp_json_str(card, "account_name"));
	cp_json_set_str(p, "title", cp_json_str(card, "title"));
	cp_json_set_str(p, "theme", cp_json_str(card, "theme"));
	cp_json_set_str(p, "assignee", cp_json_str(card, "assignee"));
	cp_json_set_str(p, "approved_at", cp_time_format(approved, ts));
	cp_json_set_str(p, "approved_by", str_at(card, "decision", "by"));
	cp_json_set_str(p, "next_step", str_at(card, "narrative", "next_step"));
	cp_json_set_str(p, "evidence_url", cp_json_str(ev, "url"));
	json_object_foreach((json_t *)act, k, v)
		json_object_set(p, k, v);
	if (!strcmp(cp_json_strd(act, "action", ""), "task")) {
		char d[16];
		long days = (long)cp_json_int(act, "due_in_days", 0);
		date_after(approved, days < 0 ? 0 : days, d);
		cp_json_set_str(p, "due_date", d);
	}
	return p;
}

static int insert_row(sqlite3 *db, int64_t tenant_id, const char *card_id,
    const char *account_id, cp_target t, cp_push_action a,
    const json_t *payload, const char *ts, int *added)
{
	sqlite3_stmt *st = cp_db_prepare_cached(db,
	    "INSERT INTO push_outbox (tenant_id, card_id, account_id, target,"
	    " action, idem_key, payload, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?8)"
	    " ON CONFLICT DO NOTHING");
	char key[CP_ID_MAX], *text = cp_json_dumps(payload, 0);
	int rc;

	cp_outbox_key(key, card_id, t, a);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, card_id);
	cp_db_bind_text(st, 3, account_id);
	cp_db_bind_text(st, 4, cp_target_name(t));
	cp_db_bind_text(st, 5, cp_push_action_name(a));
	cp_db_bind_text(st, 6, key);
	cp_db_bind_text(st, 7, text);
	cp_db_bind_text(st, 8, ts);
	rc = cp_db_step_done(db, st);
	if (!rc && sqlite3_changes(db) == 1)
		(*added)++;
	free(text);
	return rc;
}

int cp_outbox_enqueue(sqlite3 *db, int64_t tenant_id, const char *actor,
    const json_t *card, unsigned mask, int *added)
{
	const char *id = cp_json_str(card, "id");
	const char *acct = cp_json_str(card, "account_id");
	const json_t *crm = json_object_get(card, "crm"), *act;
	json_t *list = json_array();
	char ts[CP_TIME_MAX];
	time_t approved;
	int n = 0, rc = 0, t;
	size_t i;

	if (!id || !acct) {
		cp_err("push: card without id or account_id cannot be enqueued");
		json_decref(list);
		return CP_EX_DATAERR;
	}
	if (!cp_time_parse(cp_json_strd(card, "decided_at", ""), &approved))
		approved = cp_now();
	cp_time_format(cp_now(), ts);
	for (t = 0; t < CP_TGT_N && !rc; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (t == CP_TGT_WEBHOOK) {
			/* the receiver gets the whole card, once */
			int before = n;
			rc = insert_row(db, tenant_id, id, acct, CP_TGT_WEBHOOK,
			    CP_PUSH_CARD, card, ts, &n);
			if (n > before)
				json_array_append_new(list, json_string(
				    "webhook:card"));
			continue;
		}
		json_array_foreach(crm, i, act) {
			cp_push_action a;
			json_t *p;
			int before = n;

			if (!cp_push_action_parse(cp_json_str(act, "action"), &a) ||
			    a == CP_PUSH_CARD)
				continue;
			p = action_payload(card, act, approved);
			rc = insert_row(db, tenant_id, id, acct, (cp_target)t, a,
			    p, ts, &n);
			json_decref(p);
			if (rc)
				break;
			if (n > before)
				json_array_append_new(list, json_sprintf("%s:%s",
				    cp_target_name((cp_target)t),
				    cp_push_action_name(a)));
		}
	}
	if (!rc && n) {
		json_t *nv = json_pack("{s:o}", "push", list);
		list = NULL;
		rc = cp_audit(db, tenant_id, actor, "push.enqueue", "card", id,
		    NULL, nv, NULL);
		json_decref(nv);
	}
	json_decref(list);
	if (added)
		*added = n;
	return rc;
}

int cp_outbox_on_approve(sqlite3 *db, const cp_user *u, const char *actor,
    const json_t *card)
{
	unsigned mask = cp_outbox_active_targets(db);

	return mask ? cp_outbox_enqueue(db, u->tenant_id, actor, card, mask,
	    NULL) : 0;
}

int cp_outbox_backfill(sqlite3 *db, int64_t tenant_id, const char *actor,
    unsigned mask, int *cards, int *rows)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT c.id, c.record FROM cards c"
	    " WHERE c.tenant_id = ?1 AND c.status = 'approved'"
	    " AND (SELECT count(DISTINCT o.target) FROM push_outbox o"
	    "      WHERE o.card_id = c.id AND (" TARGET_BIT_SQL " & ?2) <> 0)"
	    "     < ?3");
	int rc = 0, nt = 0, t, added;

	*cards = *rows = 0;
	for (t = 0; t < CP_TGT_N; t++)
		nt += (mask >> t) & 1;
	sqlite3_bind_int64(st, 1, tenant_id);
	sqlite3_bind_int(st, 2, (int)mask);
	sqlite3_bind_int(st, 3, nt);
	while (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *card = json_loads(cp_db_col_text(st, 1), 0, NULL);
		rc = 0;
		if (!json_is_object(card)) {
			cp_warn("push: card %s: stored record is not JSON; "
			    "skipped", cp_db_col_text(st, 0));
			json_decref(card);
			continue;
		}
		rc = cp_outbox_enqueue(db, tenant_id, actor, card, mask, &added);
		json_decref(card);
		if (added) {
			(*cards)++;
			*rows += added;
		}
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc && rc < 64)
		rc = cp_db_error(db, "find approved cards");
	sqlite3_finalize(st);
	return rc;
}

/* ---- rows ---------------------------------------------------------------- */

#define ROW_COLUMNS \
	"o.id, o.tenant_id, o.version, o.idem_key, o.target, o.action," \
	" o.card_id, o.account_id, o.payload, o.state, o.uncertain," \
	" o.attempts, o.next_attempt_at, o.sent_at, o.remote_id, o.error," \
	" o.created_at, o.updated_at, a.version, a.name, a.domain," \
	" a.hubspot_id, a.salesforce_id, u.login" \
	" FROM push_outbox o" \
	" JOIN accounts a ON a.tenant_id = o.tenant_id AND a.id = o.account_id" \
	" LEFT JOIN users u ON u.id = a.owner_id"

static char *col_or_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL :
	    xstrdup(cp_db_col_text(st, i));
}

static time_t col_time(sqlite3_stmt *st, int i)
{
	time_t t;

	return sqlite3_column_type(st, i) != SQLITE_NULL &&
	    cp_time_parse(cp_db_col_text(st, i), &t) ? t : 0;
}

static void row_read(sqlite3_stmt *st, cp_outbox_row *r)
{
	const char *payload = cp_db_col_text(st, 8);

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->tenant_id = sqlite3_column_int64(st, 1);
	r->version = sqlite3_column_int64(st, 2);
	snprintf(r->key, sizeof r->key, "%s", cp_db_col_text(st, 3));
	cp_target_parse(cp_db_col_text(st, 4), &r->target);
	cp_push_action_parse(cp_db_col_text(st, 5), &r->action);
	r->card_id = xstrdup(cp_db_col_text(st, 6));
	r->account_id = xstrdup(cp_db_col_text(st, 7));
	r->payload = json_loads(payload, 0, NULL);
	if (!json_is_object(r->payload)) {
		json_decref(r->payload);
		r->payload = json_object();
	}
	snprintf(r->state, sizeof r->state, "%s", cp_db_col_text(st, 9));
	r->uncertain = sqlite3_column_int(st, 10) != 0;
	r->attempts = sqlite3_column_int(st, 11);
	r->next_attempt_at = col_time(st, 12);
	r->sent_at = col_time(st, 13);
	r->remote_id = col_or_null(st, 14);
	r->error = col_or_null(st, 15);
	r->created_at = xstrdup(cp_db_col_text(st, 16));
	r->updated_at = xstrdup(cp_db_col_text(st, 17));
	r->acct_version = sqlite3_column_int64(st, 18);
	r->acct_name = col_or_null(st, 19);
	r->acct_domain = col_or_null(st, 20);
	r->acct_hubspot_id = col_or_null(st, 21);
	r->acct_salesforce_id = col_or_null(st, 22);
	r->owner = col_or_null(st, 23);
	/* an empty stored id is no id */
	if (r->acct_hubspot_id && !*r->acct_hubspot_id) {
		free(r->acct_hubspot_id);
		r->acct_hubspot_id = NULL;
	}
	if (r->acct_salesforce_id && !*r->acct_salesforce_id) {
		free(r->acct_salesforce_id);
		r->acct_salesforce_id = NULL;
	}
}

void cp_outbox_row_free(cp_outbox_row *r)
{
	if (!r)
		return;
	free(r->card_id);
	free(r->account_id);
	json_decref(r->payload);
	free(r->remote_id);
	free(r->error);
	free(r->created_at);
	free(r->updated_at);
	free(r->acct_name);
	free(r->acct_domain);
	free(r->acct_hubspot_id);
	free(r->acct_salesforce_id);
	free(r->owner);
	memset(r, 0, sizeof *r);
}

static void set_time(json_t *o, const char *k, time_t t)
{
	char ts[CP_TIME_MAX];

	json_object_set_new(o, k, t ? json_string(cp_time_format(t, ts)) :
	    json_null());
}

static void set_str_or_null(json_t *o, const char *k, const char *s)
{
	json_object_set_new(o, k, s ? json_string(s) : json_null());
}

json_t *cp_outbox_row_json(const cp_outbox_row *r)
{
	json_t *o = json_object();

	cp_json_set_str(o, "type", "push");
	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "id", json_integer(r->id));
	cp_json_set_str(o, "key", r->key);
	cp_json_set_str(o, "card_id", r->card_id);
	cp_json_set_str(o, "account_id", r->account_id);
	cp_json_set_str(o, "target", cp_target_name(r->target));
	cp_json_set_str(o, "action", cp_push_action_name(r->action));
	cp_json_set_str(o, "state", r->state);
	set_str_or_null(o, "remote_id", r->remote_id);
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	set_str_or_null(o, "error", r->error);
	json_object_set_new(o, "uncertain", json_boolean(r->uncertain));
	set_time(o, "next_attempt_at", r->next_attempt_at);
	cp_json_set_str(o, "updated_at", r->updated_at);
	return o;
}

static int get_where(sqlite3 *db, const char *where, int64_t tenant_id,
    const char *text, int64_t num, cp_outbox_row *out)
{
	char *sql = xasprintf("SELECT " ROW_COLUMNS " WHERE %s", where);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	int rc;

	free(sql);
	sqlite3_bind_int64(st, 1, tenant_id);
	if (text)
		cp_db_bind_text(st, 2, text);
	else
		sqlite3_bind_int64(st, 2, num);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_read(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : cp_db_error(db, "read push outbox");
}

int cp_outbox_get(sqlite3 *db, int64_t tenant_id, const char *id_or_key,
    cp_outbox_row *out)
{
	char *end;
	long long n;

	if (!strncmp(id_or_key, "cpk_", 4))
		return get_where(db, "o.tenant_id = ?1 AND o.idem_key = ?2",
		    tenant_id, id_or_key, 0, out);
	errno = 0;
	n = strtoll(id_or_key, &end, 10);
	if (errno || end == id_or_key || *end || n <= 0)
		return 1;
	return get_where(db, "o.tenant_id = ?1 AND o.id = ?2", tenant_id, NULL,
	    n, out);
}

int cp_outbox_get_id(sqlite3 *db, int64_t row_id, cp_outbox_row *out)
{
	return get_where(db, "?1 = ?1 AND o.id = ?2", 0, NULL, row_id, out);
}

int cp_outbox_list(sqlite3 *db, int64_t tenant_id, const char *state,
    bool scoped, cp_outbox_row_fn fn, void *arg)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT " ROW_COLUMNS
	    " WHERE o.tenant_id = ?1 AND (?2 IS NULL OR o.state = ?2)"
	    " AND (?3 = 0 OR o.account_id IN (SELECT account_id FROM temp.scope))"
	    " ORDER BY o.id");
	int rc = 0, s;

	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, state);
	sqlite3_bind_int(st, 3, scoped);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		cp_outbox_row r;
		row_read(st, &r);
		rc = fn(&r, arg);
		cp_outbox_row_free(&r);
	}
	if (!rc && s != SQLITE_DONE)
		rc = cp_db_error(db, "list push outbox");
	sqlite3_finalize(st);
	return rc;
}

/* ---- claiming ------------------------------------------------------------ */

int cp_outbox_claim(sqlite3 *db, int64_t tenant_id, unsigned mask,
    bool only, int64_t *cursor, int max, cp_outbox_row **rows, int *n)
{
	sqlite3_stmt *sel, *upd;
	char now[CP_TIME_MAX], *sql;
	cp_outbox_row *v = NULL;
	int cap = 0, rc;

	*rows = NULL;
	*n = 0;
	if ((rc = cp_db_begin(db)))
		return rc;
	cp_time_format(cp_now(), now);
	sql = xasprintf("SELECT " ROW_COLUMNS
	    " WHERE o.tenant_id = ?1 AND o.id > ?2"
	    " AND (o.state = 'queued' OR (o.state = 'retry_wait'"
	    "      AND o.next_attempt_at <= ?3))"
	    " AND (" TARGET_BIT_SQL " & ?4) <> 0 %s"
	    " ORDER BY o.id LIMIT ?6", only ? "AND ?5 = 1 AND o.card_id IN"
	    " (SELECT card_id FROM temp.push_only)" : "AND ?5 = 0");
	sel = cp_db_prepare(db, sql);
	free(sql);
	sqlite3_bind_int64(sel, 1, tenant_id);
	sqlite3_bind_int64(sel, 2, *cursor);
	cp_db_bind_text(sel, 3, now);
	sqlite3_bind_int(sel, 4, (int)mask);
	sqlite3_bind_int(sel, 5, only);
	sqlite3_bind_int(sel, 6, max);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, (size_t)cap * sizeof *v);
		}
		row_read(sel, &v[*n]);
		(*n)++;
	}
	sqlite3_finalize(sel);
	if (rc != SQLITE_DONE) {
		rc = cp_db_error(db, "claim push outbox rows");
		goto fail;
	}
	rc = 0;
	upd = cp_db_prepare(db, "UPDATE push_outbox SET state = 'sending',"
	    " sent_at = ?1, updated_at = ?1, version = version + 1"
	    " WHERE id = ?2 AND version = ?3");
	for (int i = 0; i < *n && !rc; i++) {
		cp_db_bind_text(upd, 1, now);
		sqlite3_bind_int64(upd, 2, v[i].id);
		sqlite3_bind_int64(upd, 3, v[i].version);
		rc = cp_db_step_done(db, upd);
		v[i].version++;
		snprintf(v[i].state, sizeof v[i].state, "sending");
		cp_time_parse(now, &v[i].sent_at);
		if (*cursor < v[i].id)
			*cursor = v[i].id;
	}
	sqlite3_finalize(upd);
	if (rc || (rc = cp_db_commit(db)))
		goto fail;
	*rows = v;
	return 0;
fail:
	cp_db_rollback(db);
	for (int i = 0; i < *n; i++)
		cp_outbox_row_free(&v[i]);
	free(v);
	*n = 0;
	return rc;
}

/* ---- recording ----------------------------------------------------------- */

static const char *outcome_state(cp_outcome o)
{
	switch (o) {
	case CP_OUTCOME_DONE: return "done";
	case CP_OUTCOME_RETRY: return "retry_wait";
	case CP_OUTCOME_FAILED: return "failed";
	default: return "queued";
	}
}

int cp_outbox_record(sqlite3 *db, const cp_outbox_row *row,
    const cp_outbox_result *res, const char *actor, bool *lost,
    bool *pushed)
{
	sqlite3_stmt *st = cp_db_prepare_cached(db,
	    "UPDATE push_outbox SET state = ?1, uncertain = ?2,"
	    " attempts = attempts + ?3, next_attempt_at = ?4,"
	    " remote_id = coalesce(?5, remote_id), error = ?6,"
	    " updated_at = ?7, done_at = ?8, version = version + 1"
	    " WHERE id = ?9 AND version = ?10");
	const char *state = outcome_state(res->outcome);
	char now[CP_TIME_MAX], next[CP_TIME_MAX];
	char *err = res->error ? xstrdup(res->error) : NULL;
	bool done = res->outcome == CP_OUTCOME_DONE;
	json_t *ov, *nv;
	char action[32];
	int rc;

	*lost = false;
	if (pushed)
		*pushed = false;
	if (err)
		cp_log_redact(err);
	cp_time_format(cp_now(), now);
	cp_db_bind_text(st, 1, state);
	sqlite3_bind_int(st, 2, !done && res->uncertain);
	sqlite3_bind_int(st, 3, res->tries);
	cp_db_bind_text(st, 4, res->outcome == CP_OUTCOME_RETRY ?
	    cp_time_format(res->next_attempt, next) : NULL);
	cp_db_bind_text(st, 5, done ? res->remote_id : NULL);
	cp_db_bind_text(st, 6, done ? NULL : err ? err : row->error);
	cp_db_bind_text(st, 7, now);
	cp_db_bind_text(st, 8, done ? now : NULL);
	sqlite3_bind_int64(st, 9, row->id);
	sqlite3_bind_int64(st, 10, row->version);
	rc = cp_db_step_done(db, st);
	if (!rc && sqlite3_changes(db) != 1) {
		cp_warn("push %s: changed by someone else; outcome (%s) not "
		    "recorded", row->key, state);
		*lost = true;
		free(err);
		return 0;
	}
	if (rc || res->outcome == CP_OUTCOME_RELEASE) {
		free(err);
		return rc;
	}
	ov = json_pack("{s:s,s:i}", "state", row->state, "attempts",
	    row->attempts);
	nv = json_pack("{s:s,s:i}", "state", state, "attempts",
	    row->attempts + res->tries);
	if (done)
		cp_json_set_str(nv, "remote_id", res->remote_id);
	if (err)
		cp_json_set_str(nv, "error", err);
	if (res->outcome == CP_OUTCOME_RETRY)
		cp_json_set_str(nv, "next_attempt_at", next);
	snprintf(action, sizeof action, "push.%s", state);
	rc = cp_audit(db, row->tenant_id, actor, action, "push", row->key,
	    ov, nv, NULL);
	json_decref(ov);
	json_decref(nv);
	free(err);
	if (!rc && done)
		rc = cp_outbox_card_check(db, row->tenant_id, row->card_id,
		    actor, pushed);
	return rc;
}

int cp_outbox_card_check(sqlite3 *db, int64_t tenant_id,
    const char *card_id, const char *actor, bool *pushed)
{
	sqlite3_stmt *st = cp_db_prepare_cached(db,
	    "SELECT c.version, c.status,"
	    " (SELECT count(*) FROM push_outbox o WHERE o.card_id = c.id"
	    "  AND o.state <> 'done'),"
	    " (SELECT count(*) FROM push_outbox o WHERE o.card_id = c.id)"
	    " FROM cards c WHERE c.id = ?1 AND c.tenant_id = ?2");
	char now[CP_TIME_MAX];
	int64_t version = 0;
	bool ready = false;
	json_t *ov, *nv;
	int rc;

	if (pushed)
		*pushed = false;
	cp_db_bind_text(st, 1, card_id);
	sqlite3_bind_int64(st, 2, tenant_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		version = sqlite3_column_int64(st, 0);
		ready = !strcmp(cp_db_col_text(st, 1), "approved") &&
		    sqlite3_column_int(st, 2) == 0 &&
		    sqlite3_column_int(st, 3) > 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cp_db_error(db, "read card");
	if (!ready)
		return 0;
	cp_time_format(cp_now(), now);
	/* like every card change: WHERE version = the one read */
	st = cp_db_prepare_cached(db,
	    "UPDATE cards SET status = 'pushed', version = version + 1,"
	    " updated_at = ?1, record = json_set(record, '$.status', 'pushed',"
	    " '$.version', version + 1, '$.updated_at', ?1, '$.pushed_at', ?1)"
	    " WHERE id = ?2 AND tenant_id = ?3 AND version = ?4"
	    " AND status = 'approved'");
	cp_db_bind_text(st, 1, now);
	cp_db_bind_text(st, 2, card_id);
	sqlite3_bind_int64(st, 3, tenant_id);
	sqlite3_bind_int64(st, 4, version);
	if ((rc = cp_db_step_done(db, st)))
		return rc;
	if (sqlite3_changes(db) != 1)
		return 0;
	st = cp_db_prepare_cached(db,
	    "INSERT INTO card_versions (card_id, version, record, actor,"
	    " created_at) SELECT id, version, record, ?1, ?2 FROM cards"
	    " WHERE id = ?3");
	cp_db_bind_text(st, 1, actor);
	cp_db_bind_text(st, 2, now);
	cp_db_bind_text(st, 3, card_id);
	if ((rc = cp_db_step_done(db, st)))
		return rc;
	ov = json_pack("{s:s,s:I}", "status", "approved", "version",
	    (json_int_t)version);
	nv = json_pack("{s:s,s:I}", "status", "pushed", "version",
	    (json_int_t)version + 1);
	rc = cp_audit(db, tenant_id, actor, "card.pushed", "card", card_id, ov,
	    nv, NULL);
	json_decref(ov);
	json_decref(nv);
	if (!rc && pushed)
		*pushed = true;
	return rc;
}

int cp_outbox_recover(sqlite3 *db, int64_t tenant_id, const char *actor,
    int *n)
{
	sqlite3_stmt *sel = cp_db_prepare(db,
	    "SELECT id, version, idem_key FROM push_outbox"
	    " WHERE tenant_id = ? AND state = 'sending'");
	sqlite3_stmt *upd = cp_db_prepare(db,
	    "UPDATE push_outbox SET state = 'queued', uncertain = 1,"
	    " updated_at = ?1, version = version + 1"
	    " WHERE id = ?2 AND version = ?3");
	char now[CP_TIME_MAX];
	int rc = 0, s;

	*n = 0;
	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(sel, 1, tenant_id);
	while (!rc && (s = sqlite3_step(sel)) == SQLITE_ROW) {
		char key[CP_ID_MAX];
		json_t *ov, *nv;

		snprintf(key, sizeof key, "%s", cp_db_col_text(sel, 2));
		cp_db_bind_text(upd, 1, now);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
		sqlite3_bind_int64(upd, 3, sqlite3_column_int64(sel, 1));
		if ((rc = cp_db_step_done(db, upd)))
			break;
		ov = json_pack("{s:s}", "state", "sending");
		nv = json_pack("{s:s,s:b}", "state", "queued", "uncertain", 1);
		rc = cp_audit(db, tenant_id, actor, "push.recover", "push", key,
		    ov, nv, "left sending by an interrupted run: looked up "
		    "by its key before it is sent again");
		json_decref(ov);
		json_decref(nv);
		(*n)++;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc;
}

int cp_outbox_requeue(sqlite3 *db, const cp_outbox_row *row,
    const char *actor)
{
	sqlite3_stmt *st;
	char now[CP_TIME_MAX];
	json_t *ov, *nv;
	int rc;

	if (strcmp(row->state, "failed") && strcmp(row->state, "retry_wait")) {
		cp_err("push %s (%s %s of %s) is %s; only failed or waiting "
		    "actions are requeued", row->key, cp_target_name(row->target),
		    cp_push_action_name(row->action), row->card_id, row->state);
		return CP_EX_DATAERR;
	}
	cp_time_format(cp_now(), now);
	/* attempts start again: push.max_attempts counts from the fix */
	st = cp_db_prepare(db, "UPDATE push_outbox SET state = 'queued',"
	    " next_attempt_at = NULL, attempts = 0, updated_at = ?1,"
	    " version = version + 1 WHERE id = ?2 AND version = ?3");
	cp_db_bind_text(st, 1, now);
	sqlite3_bind_int64(st, 2, row->id);
	sqlite3_bind_int64(st, 3, row->version);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_changes(db) != 1) {
		cp_err("push %s: changed while being requeued; try again",
		    row->key);
		return CP_EX_TEMPFAIL;
	}
	ov = json_pack("{s:s,s:i}", "state", row->state, "attempts",
	    row->attempts);
	if (row->error)
		cp_json_set_str(ov, "error", row->error);
	nv = json_pack("{s:s,s:i}", "state", "queued", "attempts", 0);
	rc = cp_audit(db, row->tenant_id, actor, "push.requeue", "push",
	    row->key, ov, nv, NULL);
	json_decref(ov);
	json_decref(nv);
	return rc;
}

int cp_outbox_link_account(sqlite3 *db, int64_t tenant_id,
    const char *account_id, int64_t *acct_version, cp_target target,
    const char *crm_id, const char *actor)
{
	const char *col = target == CP_TGT_HUBSPOT ? "hubspot_id" :
	    "salesforce_id";
	char *sql = xasprintf("UPDATE accounts SET %s = ?1, updated_at = ?2,"
	    " version = version + 1 WHERE tenant_id = ?3 AND id = ?4"
	    " AND version = ?5 AND coalesce(%s, '') = ''", col, col);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	char now[CP_TIME_MAX];
	json_t *ov, *nv;
	int rc;

	free(sql);
	cp_time_format(cp_now(), now);
	cp_db_bind_text(st, 1, crm_id);
	cp_db_bind_text(st, 2, now);
	sqlite3_bind_int64(st, 3, tenant_id);
	cp_db_bind_text(st, 4, account_id);
	sqlite3_bind_int64(st, 5, *acct_version);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc || sqlite3_changes(db) != 1)
		return rc;
	ov = json_pack("{s:n,s:I}", col, "version", (json_int_t)*acct_version);
	nv = json_pack("{s:s,s:I}", col, crm_id, "version",
	    (json_int_t)*acct_version + 1);
	++*acct_version;
	rc = cp_audit(db, tenant_id, actor, "account.link", "account",
	    account_id, ov, nv, "found by domain in the CRM");
	json_decref(ov);
	json_decref(nv);
	return rc;
}

/* ---- holds --------------------------------------------------------------- */

int cp_outbox_hold(sqlite3 *db, int64_t tenant_id, cp_target target,
    time_t until, const char *reason, const char *actor)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "INSERT INTO push_holds (tenant_id, target, until, reason,"
	    " created_at) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (tenant_id, target) DO UPDATE SET"
	    " until = excluded.until, reason = excluded.reason,"
	    " created_at = excluded.created_at, version = version + 1");
	char u[CP_TIME_MAX], now[CP_TIME_MAX];
	json_t *nv;
	int rc;

	cp_time_format(until, u);
	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, cp_target_name(target));
	cp_db_bind_text(st, 3, u);
	cp_db_bind_text(st, 4, reason);
	cp_db_bind_text(st, 5, now);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	nv = json_pack("{s:s,s:s}", "until", u, "reason", reason);
	rc = cp_audit(db, tenant_id, actor, "push.hold", "target",
	    cp_target_name(target), NULL, nv, reason);
	json_decref(nv);
	return rc;
}

bool cp_outbox_held(sqlite3 *db, int64_t tenant_id, cp_target target,
    time_t *until, char **reason)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT until, reason FROM push_holds"
	    " WHERE tenant_id = ? AND target = ? AND until > ?");
	char now[CP_TIME_MAX];
	bool held = false;

	cp_time_format(cp_now(), now);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, cp_target_name(target));
	cp_db_bind_text(st, 3, now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		held = true;
		if (until)
			cp_time_parse(cp_db_col_text(st, 0), until);
		if (reason)
			*reason = xstrdup(cp_db_col_text(st, 1));
	}
	sqlite3_finalize(st);
	return held;
}

/* ---- the lock ------------------------------------------------------------ */

int cp_outbox_lock(sqlite3 *db, bool wait)
{
	char *path = xasprintf("%s.push.lock", cp_db_filename(db));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		cp_err("push lock %s: %s", path, strerror(errno));
		free(path);
		return -2;
	}
	while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		if (e != EWOULDBLOCK)
			cp_err("push lock %s: %s", path, strerror(e));
		close(fd);
		free(path);
		return e == EWOULDBLOCK ? -1 : -2;
	}
	free(path);
	return fd;
}
