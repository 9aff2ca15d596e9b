/*
 * reconcile_push.c — the cp-reconcile checks of the push outbox
 * (reconcile.h; the outbox is lib/outbox.h, the CRM side lib/crm.h,
 * cp-push(1)).  The only part of cp-reconcile that talks to a CRM, and
 * only through cp-push's own client: lookups by idempotency key and reads
 * of pushed objects, never a write but for a row's state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "crm.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "outbox.h"
#include "reconcile.h"
#include "timefmt.h"

struct prow {
	int64_t id, version;
	char *card, *target, *action, *key, *sent_at, *remote_id, *done_at;
	long attempts;
	bool fixed;
	char note[200];
};

static void prow_free(struct prow *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].card);
		free(p[i].target);
		free(p[i].action);
		free(p[i].key);
		free(p[i].sent_at);
		free(p[i].remote_id);
		free(p[i].done_at);
	}
	free(p);
}

static char *col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

/* Rows of the tenant from a query whose ?1 is the tenant, ?2 a time. */
static int collect(cp_reconcile *r, const char *sql, const char *t,
    struct prow **out, size_t *n)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, sql);
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, t);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int(st, 3, r->deep ? -1 : r->sample);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct prow *p;
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		p = &(*out)[(*n)++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->card = col(st, 1);
		p->target = col(st, 2);
		p->action = col(st, 3);
		p->key = col(st, 4);
		p->sent_at = col(st, 5);
		p->attempts = (long)sqlite3_column_int64(st, 6);
		p->remote_id = col(st, 7);
		p->done_at = col(st, 8);
		p->version = sqlite3_column_int64(st, 9);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "push outbox");
}

#define ROW_COLS "id, card_id, target, action, idem_key, sent_at, attempts," \
	" remote_id, done_at, version"

static json_t *row_extra(const struct prow *p)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:s?}", "outbox_id",
	    (json_int_t)p->id, "card_id", p->card, "target", p->target,
	    "action", p->action, "attempts", (json_int_t)p->attempts,
	    "remote_id", p->remote_id);
}

static int open_crm(cp_reconcile *r, cp_crm **c)
{
	cp_crm_opts o;

	memset(&o, 0, sizeof o);
	o.me = r->me;
	o.actor = r->actor;
	return cp_crm_open(r->db, &o, c);
}

/* No CRM session (no targets configured): hand every stuck row back to
 * the queue as uncertain, for cp-push to look up before it resends. */
static int requeue_uncertain(cp_reconcile *r, struct prow *p, size_t n)
{
	int lock, rc, rec = 0;
	size_t i;

	if ((lock = cp_outbox_lock(r->db, false)) < 0)
		return lock == -1 ? 0 : CP_EX_CANTCREAT;
	if (!(rc = cp_db_begin(r->db)) &&
	    !(rc = cp_outbox_recover(r->db, r->me->tenant_id, r->actor, &rec)))
		rc = cp_db_commit(r->db);
	else if (rc)
		cp_db_rollback(r->db);
	close(lock);
	for (i = 0; !rc && i < n; i++) {
		p[i].fixed = true;
		snprintf(p[i].note, sizeof p[i].note, "; requeued as uncertain: "
		    "cp-push looks it up by its key before sending again");
	}
	return rc;
}

/* Resolve each stuck row by a lookup in its CRM: found, done; absent,
 * queued to be sent; cannot tell, queued uncertain. */
static int resolve(cp_reconcile *r, struct prow *p, size_t n)
{
	cp_crm *c = NULL;
	size_t i;
	int rc;

	if ((rc = open_crm(r, &c)) || !cp_crm_targets(c)) {
		cp_crm_close(c);
		return requeue_uncertain(r, p, n);
	}
	for (i = 0; i < n; i++) {
		char state[16] = "";
		int k = cp_crm_resolve(c, p[i].id, state);

		if (!k) {
			p[i].fixed = true;
			snprintf(p[i].note, sizeof p[i].note, "%s",
			    !strcmp(state, "done") ? "; found in the CRM by its key: "
			    "done" : "; looked up in the CRM: requeued to be sent");
		} else if (k == CP_EX_TEMPFAIL) {
			snprintf(p[i].note, sizeof p[i].note, "; not resolved now "
			    "(a cp-push is running or the CRM did not answer)");
		} else {
			snprintf(p[i].note, sizeof p[i].note, "; not resolved: the "
			    "%s target cannot be used (exit %d)", p[i].target, k);
		}
	}
	cp_crm_close(c);
	return 0;
}

/*
 * A row is 'sending' from the commit that claims it until its outcome is
 * committed; one found so while nobody holds the push lock was left by a
 * cp-push that died, and its request may or may not have reached the
 * CRM.  The fix looks the object up by the row's idempotency key, as
 * cp-push itself would before resending (cp_crm_resolve).
 */
int cp_check_stuck_pushes(cp_reconcile *r)
{
	char cutoff[CP_TIME_MAX];
	struct prow *p = NULL;
	size_t n = 0, i;
	int lock, rc;

	if (!cp_has_table(r->db, "push_outbox")) {
		cp_reconcile_skip(r, "no push outbox in this state file");
		return 0;
	}
	if ((lock = cp_outbox_lock(r->db, false)) == -1) {
		cp_reconcile_skip(r, "cp-push is running; its rows in flight are "
		    "not stuck");
		return 0;
	}
	if (lock < 0)
		return CP_EX_CANTCREAT;
	cp_time_format(r->now - r->stuck_after, cutoff);
	rc = collect(r, "SELECT " ROW_COLS " FROM push_outbox WHERE"
	    " tenant_id = ?1 AND state = 'sending'"
	    " AND coalesce(sent_at, updated_at) < ?2 ORDER BY id", cutoff, &p,
	    &n);
	close(lock);
	if (!rc && n && r->fix)
		rc = resolve(r, p, n);
	for (i = 0; !rc && i < n; i++) {
		char age[32];
		time_t t = 0;

		cp_time_parse(p[i].sent_at, &t);
		cp_human_age(t ? (long)(r->now - t) : -1, age, sizeof age);
		cp_reconcile_finding(r, "warning", p[i].key, p[i].fixed,
		    row_extra(&p[i]), "%s %s of %s left sending %s ago by an "
		    "interrupted cp-push%s", p[i].target, p[i].action, p[i].card,
		    age, p[i].note);
	}
	prow_free(p, n);
	return rc;
}

/* A pushed object deleted in the CRM: its row back to the queue, certain
 * (the object is known to be absent), for cp-push to create it again
 * with the same key.  Version-checked; audited push.recreate. */
static int recreate(cp_reconcile *r, struct prow *p)
{
	sqlite3_stmt *st;
	json_t *o, *nw;
	int rc;

	if ((rc = cp_db_begin(r->db)))
		return rc;
	st = cp_db_prepare(r->db, "UPDATE push_outbox SET state = 'queued',"
	    " uncertain = 0, remote_id = NULL, done_at = NULL,"
	    " next_attempt_at = NULL, error = ?1, updated_at = ?2,"
	    " version = version + 1 WHERE id = ?3 AND version = ?4"
	    " AND state = 'done'");
	cp_db_bind_text(st, 1, "deleted in the CRM; recreated by cp-reconcile");
	cp_db_bind_text(st, 2, r->now_s);
	sqlite3_bind_int64(st, 3, p->id);
	sqlite3_bind_int64(st, 4, p->version);
	rc = cp_db_step_done(r->db, st);
	sqlite3_finalize(st);
	if (!rc && sqlite3_changes(r->db) != 1) {
		cp_db_rollback(r->db);
		snprintf(p->note, sizeof p->note, "; the row changed meanwhile");
		return 0;
	}
	if (!rc) {
		o = json_pack("{s:s, s:s?}", "state", "done", "remote_id",
		    p->remote_id);
		nw = json_pack("{s:s, s:n}", "state", "queued", "remote_id");
		rc = cp_audit(r->db, r->me->tenant_id, r->actor, "push.recreate",
		    "push", p->key, o, nw, "cp-reconcile: deleted in the CRM");
		json_decref(o);
		json_decref(nw);
	}
	if (rc || (rc = cp_db_commit(r->db))) {
		cp_db_rollback(r->db);
		return rc;
	}
	p->fixed = true;
	snprintf(p->note, sizeof p->note, "; requeued: the next cp-push "
	    "creates it again");
	return 0;
}

/* A time the CRM keeps on the object (its own clock), or 0. */
static time_t crm_time(const json_t *obj, const char *const *keys)
{
	time_t t;
	int i;

	for (i = 0; keys[i]; i++)
		if (cp_json_str(obj, keys[i]) &&
		    cp_time_parse(cp_json_str(obj, keys[i]), &t))
			return t;
	return 0;
}

/* When the object was changed after it was created, by the CRM's clock
 * alone (ours may differ): HubSpot and Salesforce both keep both. */
static time_t changed_at(const json_t *obj)
{
	static const char *const mod[] = { "hs_lastmodifieddate",
	    "LastModifiedDate", "updatedAt", NULL };
	static const char *const made[] = { "hs_createdate", "createdate",
	    "CreatedDate", "createdAt", NULL };
	time_t m = crm_time(obj, mod), c = crm_time(obj, made);

	return m && c && m > c + 60 ? m : 0;
}

static int drift_one(cp_reconcile *r, cp_crm *c, struct prow *p)
{
	cp_outbox_row row;
	json_t *obj = NULL;
	bool gone = false;
	time_t mod;
	int rc;

	if ((rc = cp_outbox_get_id(r->db, p->id, &row)))
		return rc == 1 ? 0 : rc;
	rc = cp_crm_fetch(c, &row, &obj, &gone);
	cp_outbox_row_free(&row);
	if (rc == CP_EX_TEMPFAIL || rc == CP_EX_UNAVAILABLE ||
	    rc == CP_EX_CONFIG || rc == CP_EX_DATAERR) {
		/* this object cannot be read now: the others can */
		cp_reconcile_finding(r, "info", p->key, false, row_extra(p),
		    "%s %s of %s could not be read back (exit %d)", p->target,
		    p->action, p->card, rc);
		return 0;
	}
	if (rc)
		return rc;
	if (gone) {
		if (r->fix && (rc = recreate(r, p)))
			return rc;
		cp_reconcile_finding(r, "warning", p->key, p->fixed, row_extra(p),
		    "%s %s %s of %s was deleted in the CRM%s", p->target,
		    p->action, p->remote_id ? p->remote_id : "", p->card, p->note);
	} else if ((mod = changed_at(obj)) != 0) {
		char when[CP_TIME_MAX];
		cp_reconcile_finding(r, "info", p->key, false, row_extra(p),
		    "%s %s %s of %s was changed in the CRM at %s, after it was "
		    "pushed", p->target, p->action, p->remote_id ? p->remote_id :
		    "", p->card, cp_time_format(mod, when));
	}
	json_decref(obj);
	return 0;
}

/*
 * Objects pushed and done, read back from HubSpot or Salesforce (the
 * webhook and file targets cannot be read): a sample of --sample rows,
 * or all with --deep.
 */
int cp_check_crm_drift(cp_reconcile *r)
{
	struct prow *p = NULL;
	cp_crm *c = NULL;
	size_t n = 0, i;
	int rc;

	if (!cp_has_table(r->db, "push_outbox")) {
		cp_reconcile_skip(r, "no push outbox in this state file");
		return 0;
	}
	if ((rc = collect(r, "SELECT " ROW_COLS " FROM push_outbox WHERE"
	    " tenant_id = ?1 AND state = 'done' AND remote_id IS NOT NULL"
	    " AND target IN ('hubspot', 'salesforce') AND ?2 IS NOT NULL"
	    " ORDER BY random() LIMIT ?3", r->now_s, &p, &n)))
		return rc;
	if (!n) {
		prow_free(p, n);
		return 0;
	}
	if ((rc = open_crm(r, &c)) || !cp_crm_targets(c)) {
		cp_crm_close(c);
		prow_free(p, n);
		cp_reconcile_skip(r, "no CRM target can be used (push.targets, "
		    "credentials)");
		return 0;
	}
	for (i = 0; !rc && i < n; i++)
		rc = drift_one(r, c, &p[i]);
	cp_crm_close(c);
	prow_free(p, n);
	return rc;
}
