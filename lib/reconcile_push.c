/*
 * reconcile_push.c — the cp-reconcile checks of the push outbox
 * (reconcile.h; the outbox is lib/outbox.h, cp-push(1)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "outbox.h"
#include "reconcile.h"
#include "timefmt.h"

struct stuckpush {
	int64_t id;
	char *card, *target, *action, *key, *sent_at;
	long attempts;
};

static int collect(cp_reconcile *r, struct stuckpush **out, size_t *n)
{
	char cutoff[CP_TIME_MAX];
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT id, card_id, target,"
	    " action, idem_key, sent_at, attempts FROM push_outbox"
	    " WHERE tenant_id = ? AND state = 'sending'"
	    " AND coalesce(sent_at, updated_at) < ? ORDER BY id");
	int rc;

	cp_time_format(r->now - r->stuck_after, cutoff);
	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, cutoff);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stuckpush *p;
		*out = realloc(*out, (*n + 1) * sizeof **out);
		if (!*out)
			cp_die(CP_EX_OSERR, "out of memory");
		p = &(*out)[(*n)++];
		p->id = sqlite3_column_int64(st, 0);
		p->card = strdup(cp_db_col_text(st, 1));
		p->target = strdup(cp_db_col_text(st, 2));
		p->action = strdup(cp_db_col_text(st, 3));
		p->key = strdup(cp_db_col_text(st, 4));
		p->sent_at = strdup(cp_db_col_text(st, 5));
		p->attempts = (long)sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "stuck pushes");
}

/*
 * A row is 'sending' from the commit that claims it until its outcome is
 * committed; one found so while nobody holds the push lock was left by a
 * cp-push that died, and its request may or may not have reached the
 * CRM.  The fix hands it back to the queue marked uncertain
 * (cp_outbox_recover), and cp-push looks an uncertain row up in the CRM
 * by its idempotency key before sending: found, it is done with the id
 * found; not found, it is sent.  No request leaves from here.
 */
int cp_check_stuck_pushes(cp_reconcile *r)
{
	struct stuckpush *p = NULL;
	size_t n = 0, i;
	int lock, rc, rec = 0;

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
	rc = collect(r, &p, &n);
	if (!rc && n && r->fix) {
		if (!(rc = cp_db_begin(r->db)) &&
		    !(rc = cp_outbox_recover(r->db, r->me->tenant_id, r->actor,
		    &rec)))
			rc = cp_db_commit(r->db);
		else
			cp_db_rollback(r->db);
	}
	close(lock);
	for (i = 0; i < n; i++) {
		char age[32];
		time_t t = 0;

		cp_time_parse(p[i].sent_at, &t);
		cp_human_age(t ? (long)(r->now - t) : -1, age, sizeof age);
		if (!rc)
			cp_reconcile_finding(r, "warning", p[i].key, r->fix,
			    json_pack("{s:I, s:s, s:s, s:s, s:I}", "outbox_id",
			    (json_int_t)p[i].id, "card_id", p[i].card, "target",
			    p[i].target, "action", p[i].action, "attempts",
			    (json_int_t)p[i].attempts), "%s %s of %s left sending "
			    "%s ago by an interrupted cp-push%s", p[i].target,
			    p[i].action, p[i].card, age, r->fix ? "; requeued as "
			    "uncertain: cp-push looks it up in the CRM by its key "
			    "and marks it done, or sends it" : "");
		free(p[i].card);
		free(p[i].target);
		free(p[i].action);
		free(p[i].key);
		free(p[i].sent_at);
	}
	free(p);
	return rc;
}

int cp_check_crm_drift(cp_reconcile *r)
{
	if (!cp_has_table(r->db, "push_outbox")) {
		cp_reconcile_skip(r, "no push outbox in this state file");
		return 0;
	}
	cp_reconcile_skip(r, "CRM reads are not part of this build yet");
	return 0;
}
