#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "review.h"
#include "timefmt.h"

const char *const cp_reject_reasons[] = { "not_relevant", "already_known",
	"bad_timing", "wrong_account", "other", NULL };

bool cp_reject_reason_valid(const char *s)
{
	int i;

	for (i = 0; s && cp_reject_reasons[i]; i++)
		if (!strcmp(s, cp_reject_reasons[i]))
			return true;
	return false;
}

const char *cp_decision_name(cp_decision d)
{
	static const char *const names[] = { "approve", "reject", "refine" };
	return (unsigned)d < 3 ? names[d] : "?";
}

int cp_review_on_approve(sqlite3 *db, const cp_user *u, const char *actor,
    const json_t *card)
{
	/* cp-push's outbox (outbox.h) enqueues the playbook's CRM actions
	 * here, in the approval's transaction, so an approved card always
	 * has its outbox rows and a rolled-back approval never has any */
	int cp_outbox_on_approve(sqlite3 *, const cp_user *, const char *,
	    const json_t *);

	return cp_outbox_on_approve(db, u, actor, card);
}

/* The card as it stood when it was read inside the transaction. */
struct loaded {
	char status[32];
	int64_t version;
	json_t *record;
	char *theme, *playbook, *segment;
};

static void loaded_free(struct loaded *l)
{
	json_decref(l->record);
	free(l->theme);
	free(l->playbook);
	free(l->segment);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL :
	    xstrdup(cp_db_col_text(st, i));
}

/* 0, or 1 when the card is not in the caller's scope, or an exit code. */
static int load(sqlite3 *db, const cp_user *u, const char *id,
    struct loaded *l)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT c.status, c.version, c.record, c.theme, c.playbook_id,"
	    " a.segment FROM cards c"
	    " JOIN accounts a ON a.tenant_id = c.tenant_id AND a.id = c.account_id"
	    " WHERE c.id = ?1 AND c.tenant_id = ?2"
	    " AND c.account_id IN (SELECT account_id FROM temp.scope)");
	int rc;

	memset(l, 0, sizeof *l);
	cp_db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, u->tenant_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(l->status, sizeof l->status, "%s", cp_db_col_text(st, 0));
		l->version = sqlite3_column_int64(st, 1);
		l->record = json_loads(cp_db_col_text(st, 2), 0, NULL);
		if (!json_is_object(l->record)) {
			json_decref(l->record);
			l->record = json_object();
		}
		l->theme = col_dup(st, 3);
		l->playbook = col_dup(st, 4);
		l->segment = col_dup(st, 5);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return cp_db_error(db, "read card");
}

/* What the audit entry compares: the reviewable fields of a card. */
static json_t *audit_view(const json_t *rec)
{
	static const char *const keys[] = { "status", "version", "title",
	    "narrative", "next_step", "outreach", NULL };
	json_t *v = json_object();
	int i;

	for (i = 0; keys[i]; i++) {
		json_t *x = json_object_get(rec, keys[i]);
		if (x)
			json_object_set(v, keys[i], x);
	}
	return v;
}

/* Replace or add each outreach draft by channel. */
static void merge_outreach(json_t *rec, const json_t *drafts)
{
	json_t *cur = json_object_get(rec, "outreach"), *d;
	size_t i, j;

	if (!json_is_array(cur)) {
		cur = json_array();
		json_object_set_new(rec, "outreach", cur);
	}
	json_array_foreach(drafts, i, d) {
		const char *ch = cp_json_str(d, "channel");
		json_t *e;
		bool done = false;

		json_array_foreach(cur, j, e) {
			if (ch && !strcmp(cp_json_strd(e, "channel", ""), ch)) {
				json_array_set(cur, j, (json_t *)d);
				done = true;
				break;
			}
		}
		if (!done)
			json_array_append(cur, (json_t *)d);
	}
}

/* The record after the review. */
static json_t *apply_to_record(const struct loaded *l, const cp_user *u,
    const cp_review *r, const char *ts)
{
	json_t *rec = json_deep_copy(l->record);

	if (r->decision == CP_DECIDE_REFINE) {
		const cp_refinement *f = r->refine;
		if (f && f->title)
			cp_json_set_str(rec, "title", f->title);
		if (f && f->narrative) {
			/* the same text is no change, whatever shape holds it */
			char *cur = cp_inbox_narrative_text(rec);
			if (strcmp(cur, f->narrative))
				cp_inbox_set_narrative(rec, f->narrative);
			free(cur);
		}
		if (f && f->next_step) {
			const char *cur = cp_inbox_next_step(rec);
			if (!cur || strcmp(cur, f->next_step))
				cp_inbox_set_next_step(rec, f->next_step);
		}
		if (f && f->outreach)
			merge_outreach(rec, f->outreach);
	} else {
		json_t *d = json_object();
		cp_json_set_str(rec, "status", r->decision == CP_DECIDE_APPROVE ?
		    "approved" : "rejected");
		cp_json_set_str(rec, "decided_at", ts);
		cp_json_set_str(d, "decision", cp_decision_name(r->decision));
		cp_json_set_str(d, "by", u->login);
		cp_json_set_str(d, "at", ts);
		if (r->reason)
			cp_json_set_str(d, "reason", r->reason);
		if (r->note)
			cp_json_set_str(d, "note", r->note);
		json_object_set_new(rec, "decision", d);
	}
	return rec;
}

static int write_card(sqlite3 *db, const cp_user *u, const char *id,
    const struct loaded *l, json_t *rec, const cp_review *r, const char *ts,
    bool *lost)
{
	char *text = cp_json_dumps(rec, 0);
	sqlite3_stmt *st = cp_db_prepare(db,
	    "UPDATE cards SET status = ?1, version = version + 1, title = ?2,"
	    " record = ?3, updated_at = ?4,"
	    " decided_at = CASE WHEN ?1 = 'pending_review' THEN decided_at"
	    "              ELSE ?4 END"
	    " WHERE id = ?5 AND tenant_id = ?6 AND version = ?7");
	int rc;

	cp_db_bind_text(st, 1, cp_json_str(rec, "status"));
	cp_db_bind_text(st, 2, cp_json_strd(rec, "title", ""));
	cp_db_bind_text(st, 3, text);
	cp_db_bind_text(st, 4, ts);
	cp_db_bind_text(st, 5, id);
	sqlite3_bind_int64(st, 6, u->tenant_id);
	sqlite3_bind_int64(st, 7, l->version);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	*lost = !rc && sqlite3_changes(db) != 1;
	free(text);
	(void)r;
	return rc;
}

static int write_history(sqlite3 *db, const cp_user *u, const char *actor,
    const char *id, const struct loaded *l, const json_t *rec,
    const cp_review *r, const char *ts)
{
	char *text = cp_json_dumps(rec, 0);
	sqlite3_stmt *st = cp_db_prepare(db,
	    "INSERT INTO card_versions(card_id, version, record, actor,"
	    " created_at) VALUES (?, ?, ?, ?, ?)");
	int rc;

	cp_db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, l->version + 1);
	cp_db_bind_text(st, 3, text);
	cp_db_bind_text(st, 4, actor);
	cp_db_bind_text(st, 5, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	free(text);
	if (rc)
		return rc;
	/* the decisions table is the input of cp-score's priors */
	st = cp_db_prepare(db,
	    "INSERT INTO decisions(tenant_id, card_id, user_id, decision,"
	    " reason, note, theme, playbook_id, segment, decided_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, u->tenant_id);
	cp_db_bind_text(st, 2, id);
	sqlite3_bind_int64(st, 3, u->id);
	cp_db_bind_text(st, 4, cp_decision_name(r->decision));
	cp_db_bind_text(st, 5, r->reason);
	cp_db_bind_text(st, 6, r->note);
	cp_db_bind_text(st, 7, l->theme ? l->theme : "");
	cp_db_bind_text(st, 8, l->playbook);
	cp_db_bind_text(st, 9, l->segment);
	cp_db_bind_text(st, 10, ts);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}

static int conflict(const char *id, int64_t loaded, int64_t now)
{
	cp_err("%s: card changed since you loaded it (version %lld \xE2\x86\x92 "
	    "%lld)", id, (long long)loaded, (long long)now);
	return CP_EX_TEMPFAIL;
}

/* The audit reason: the reject reason and the note, as people wrote them. */
static char *audit_reason(const cp_review *r)
{
	if (r->reason && r->note)
		return xasprintf("%s: %s", r->reason, r->note);
	if (r->reason)
		return xstrdup(r->reason);
	return r->note ? xstrdup(r->note) : NULL;
}

int cp_review_apply(sqlite3 *db, const cp_user *u, const char *actor,
    const char *card_id, int64_t loaded_version, const cp_review *r,
    int64_t *new_version)
{
	char ts[CP_TIME_MAX], action[32];
	struct loaded l;
	json_t *rec = NULL, *ov = NULL, *nv = NULL;
	char *why = NULL;
	bool lost = false;
	int rc;

	if ((rc = cp_db_begin(db)))
		return rc;
	if ((rc = load(db, u, card_id, &l))) {
		cp_db_rollback(db);
		return rc == 1 ? cp_rbac_deny(card_id) : rc;
	}
	if (l.version != loaded_version) {
		cp_db_rollback(db);
		loaded_free(&l);
		return conflict(card_id, loaded_version, l.version);
	}
	if (strcmp(l.status, "pending_review")) {
		cp_db_rollback(db);
		cp_err("%s: card is %s, not pending review; nothing changed",
		    card_id, l.status);
		loaded_free(&l);
		return CP_EX_DATAERR;
	}
	cp_time_format(cp_now(), ts);
	rec = apply_to_record(&l, u, r, ts);
	if (r->decision == CP_DECIDE_REFINE && json_equal(rec, l.record)) {
		cp_db_rollback(db);
		cp_info("%s: unchanged", card_id);
		json_decref(rec);
		loaded_free(&l);
		if (new_version)
			*new_version = loaded_version;
		return 0;
	}
	json_object_set_new(rec, "version", json_integer(l.version + 1));
	cp_json_set_str(rec, "status", r->decision == CP_DECIDE_APPROVE ?
	    "approved" : r->decision == CP_DECIDE_REJECT ? "rejected" :
	    "pending_review");
	cp_json_set_str(rec, "updated_at", ts);

	rc = write_card(db, u, card_id, &l, rec, r, ts, &lost);
	if (!rc && lost) {
		/* cannot happen under BEGIN IMMEDIATE, but the WHERE version
		 * clause is the rule, not the lock */
		cp_db_rollback(db);
		rc = conflict(card_id, loaded_version, loaded_version + 1);
		goto out;
	}
	if (!rc)
		rc = write_history(db, u, actor, card_id, &l, rec, r, ts);
	if (!rc) {
		ov = audit_view(l.record);
		json_object_set_new(ov, "status", json_string(l.status));
		json_object_set_new(ov, "version", json_integer(l.version));
		nv = audit_view(rec);
		why = audit_reason(r);
		snprintf(action, sizeof action, "card.%s",
		    cp_decision_name(r->decision));
		rc = cp_audit(db, u->tenant_id, actor, action, "card", card_id,
		    ov, nv, why);
	}
	if (!rc && r->decision == CP_DECIDE_APPROVE)
		rc = cp_review_on_approve(db, u, actor, rec);
	if (rc) {
		cp_db_rollback(db);
		goto out;
	}
	if ((rc = cp_db_commit(db)))
		goto out;
	if (new_version)
		*new_version = l.version + 1;
out:
	json_decref(rec);
	json_decref(ov);
	json_decref(nv);
	free(why);
	loaded_free(&l);
	return rc;
}
