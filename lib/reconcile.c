/*
 * reconcile.c — the checks of cp-reconcile (reconcile.h), but the push
 * ones (reconcile_push.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "reconcile.h"
#include "search.h"
#include "strbuf.h"
#include "timefmt.h"

/* ---- helpers ------------------------------------------------------------ */

void cp_reconcile_defaults(cp_reconcile *r)
{
	memset(r, 0, sizeof *r);
	r->stuck_after = 3600;
	r->lookback = 7 * 86400;
	r->quiet_after = 30 * 86400;
	r->cursor_runs = 3;
	r->sample = 20;
	r->run.keep_fd = -1;
	r->run.unbuffered = true;
}

void cp_human_age(long secs, char *out, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, n, "%lds", secs);
	else if (secs < 7200)
		snprintf(out, n, "%ldm", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(out, n, "%ldh %ldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(out, n, "%ldd %ldh", secs / 86400, secs % 86400 / 3600);
}

bool cp_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT 1 FROM sqlite_master"
	    " WHERE type = 'table' AND name = ?");
	bool has;

	cp_db_bind_text(st, 1, name);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

static json_t *finding(cp_reconcile *r, const char *severity,
    const char *entity, bool fixed, json_t *extra, const char *fmt,
    va_list ap)
{
	json_t *f = json_object();
	strbuf sb = CP_STRBUF_INIT;
	const char *k;
	json_t *v;

	sb_vaddf(&sb, fmt, ap);
	cp_log_redact(sb.buf);
	json_object_set_new(f, "type", json_string("finding"));
	json_object_set_new(f, "v", json_integer(1));
	json_object_set_new(f, "check", json_string(r->check));
	json_object_set_new(f, "severity", json_string(severity));
	json_object_set_new(f, "entity", json_string(entity));
	json_object_set_new(f, "detail", json_string(sb.buf));
	json_object_set_new(f, "fixed", json_boolean(fixed));
	json_object_set_new(f, "tenant", json_string(r->me->tenant));
	json_object_set_new(f, "at", json_string(r->now_s));
	if (extra)
		json_object_foreach(extra, k, v)
			if (!json_object_get(f, k))
				json_object_set(f, k, v);
	json_decref(extra);
	sb_free(&sb);
	r->found++;
	if (fixed)
		r->fixed++;
	else if (strcmp(severity, "info"))
		r->serious++;
	return f;
}

void cp_reconcile_finding(cp_reconcile *r, const char *severity,
    const char *entity, bool fixed, json_t *extra, const char *fmt, ...)
{
	va_list ap;
	json_t *f;

	va_start(ap, fmt);
	f = finding(r, severity, entity, fixed, extra, fmt, ap);
	va_end(ap);
	r->emit(r, f);
	json_decref(f);
}

void cp_reconcile_skip(cp_reconcile *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->skip_reason, sizeof r->skip_reason, fmt, ap);
	va_end(ap);
	r->skipped = true;
}

static const char *dup_col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

static long age_of(const cp_reconcile *r, const char *when)
{
	time_t t;
	return when && cp_time_parse(when, &t) ? (long)(r->now - t) : -1;
}

/* ---- documents stuck ---------------------------------------------------- */

struct stuck {
	char *doc, *status, *fetched_at, *source, *url;
	bool fixed;
};

static int stuck_collect(cp_reconcile *r, struct stuck **out, size_t *n)
{
	char since[CP_TIME_MAX], cutoff[CP_TIME_MAX];
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT l.doc_id, l.status,"
	    " l.fetched_at, l.source, l.url FROM fetch_log l"
	    " WHERE l.tenant_id = ?1 AND l.fetched_at >= ?2"
	    " AND l.fetched_at < ?3 AND NOT EXISTS (SELECT 1 FROM signals s"
	    "   WHERE s.tenant_id = l.tenant_id AND s.document_id = l.doc_id)"
	    " ORDER BY l.fetched_at, l.doc_id");
	size_t cap = 0;
	int rc;

	cp_time_format(r->now - r->lookback, since);
	cp_time_format(r->now - r->stuck_after, cutoff);
	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, since);
	cp_db_bind_text(st, 3, cutoff);
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stuck *s;
		if (*n == cap)
			*out = xrealloc(*out, (cap = cap ? 2 * cap : 16) *
			    sizeof **out);
		s = &(*out)[(*n)++];
		s->doc = (char *)dup_col(st, 0);
		s->status = (char *)dup_col(st, 1);
		s->fetched_at = (char *)dup_col(st, 2);
		s->source = (char *)dup_col(st, 3);
		s->url = (char *)dup_col(st, 4);
		s->fixed = false;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "stuck documents");
}

static bool has_signal(cp_reconcile *r, const char *doc)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT 1 FROM signals"
	    " WHERE tenant_id = ? AND document_id = ?");
	bool yes;

	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, doc);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

static int write_docs(cp_reconcile *r, struct stuck *s, size_t n, int fd,
    long *written)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT record FROM"
	    " fetch_records WHERE tenant_id = ? AND doc_id = ?");
	size_t i;
	int rc = 0;

	*written = 0;
	for (i = 0; i < n && !rc; i++) {
		sqlite3_bind_int64(st, 1, r->me->tenant_id);
		cp_db_bind_text(st, 2, s[i].doc);
		if (sqlite3_step(st) == SQLITE_ROW) {
			if (!cp_write_line(fd, (const char *)sqlite3_column_text(st,
			    0), (size_t)sqlite3_column_bytes(st, 0))) {
				cp_err("stuck documents: temporary file: %s",
				    strerror(errno));
				rc = CP_EX_IOERR;
			}
			(*written)++;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* What the replay's stages said when they failed, for the findings. */
static char *replay_trouble(const cp_replay *rep)
{
	strbuf sb = CP_STRBUF_INIT;
	int i;

	for (i = 0; i < rep->nst; i++)
		if (rep->st[i].status) {
			char *t = cp_stage_errtail(&rep->st[i], 1);
			if (sb.len)
				sb_adds(&sb, "; ");
			sb_addf(&sb, "cp-%s exit %d%s%s", rep->st[i].name,
			    rep->st[i].status, *t ? ": " : "", t);
			free(t);
		}
	return sb_detach(&sb);
}

/* Replay the stuck documents through the pipeline, under the run lock;
 * mark those that now have a signal, audit each. */
static int stuck_fix(cp_reconcile *r, struct stuck *s, size_t n,
    char **trouble)
{
	cp_replay rep;
	long written;
	size_t i;
	int fd, lock, rc;

	*trouble = NULL;
	if ((lock = cp_runlock(r->db_path, NULL, true)) < 0)
		return CP_EX_CANTCREAT;
	if ((fd = cp_tempfd()) < 0) {
		close(lock);
		return CP_EX_CANTCREAT;
	}
	rc = write_docs(r, s, n, fd, &written);
	if (!rc) {
		r->run.keep_fd = lock;
		rc = cp_replay_docs(r->db, r->me->tenant_id, fd, written, &r->run,
		    &rep);
		r->run.keep_fd = -1;
		*trouble = replay_trouble(&rep);
		if (!**trouble) {
			free(*trouble);
			*trouble = NULL;
		}
		cp_replay_free(&rep);
	}
	close(fd);
	close(lock);
	if (rc || (rc = cp_db_begin(r->db)))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if (!(s[i].fixed = has_signal(r, s[i].doc)))
			continue;
		json_t *o = json_pack("{s:s}", "carried", "no");
		json_t *nw = json_pack("{s:s}", "carried", "signal");
		rc = cp_audit(r->db, r->me->tenant_id, r->actor, "document.replay",
		    "document", s[i].doc, o, nw, "cp-reconcile: stuck since it "
		    "was fetched, replayed through the pipeline");
		json_decref(o);
		json_decref(nw);
	}
	if (rc) {
		cp_db_rollback(r->db);
		return rc;
	}
	return cp_db_commit(r->db);
}

static int stuck_documents(cp_reconcile *r)
{
	struct stuck *s;
	char *trouble = NULL;
	size_t n, i;
	int rc;

	if ((rc = stuck_collect(r, &s, &n)))
		return rc;
	if (r->fix && n)
		rc = stuck_fix(r, s, n, &trouble);
	for (i = 0; i < n; i++) {
		char age[32];
		cp_human_age(age_of(r, s[i].fetched_at), age, sizeof age);
		if (!rc)
			cp_reconcile_finding(r, "warning", s[i].doc, s[i].fixed,
			    json_pack("{s:s?, s:s?, s:s?, s:s?}", "source",
			    s[i].source, "url", s[i].url, "fetched_at",
			    s[i].fetched_at, "log_status", s[i].status),
			    "fetched %s ago (%s) and never carried to a signal%s%s%s",
			    age, s[i].status, s[i].fixed ? "; replayed through the "
			    "pipeline" : r->fix ? "; replayed, still no signal" : "",
			    !s[i].fixed && trouble ? ": " : "",
			    !s[i].fixed && trouble ? trouble : "");
		free(s[i].doc);
		free(s[i].status);
		free(s[i].fetched_at);
		free(s[i].source);
		free(s[i].url);
	}
	free(s);
	free(trouble);
	return rc;
}

/* ---- review SLA --------------------------------------------------------- */

static void set_env(const char *k, const char *v)
{
	if (v)
		setenv(k, v, 1);
	else
		unsetenv(k);
}

/* Pipe one escalation to --notify's command; its exit status. */
static int notify(cp_reconcile *r, const json_t *f)
{
	char *text = cp_json_dumps(f, 0);
	int p[2], st = 0;
	pid_t pid;

	fflush(NULL);
	if (pipe(p) < 0 || (pid = fork()) < 0) {
		cp_err("--notify: %s", strerror(errno));
		free(text);
		return CP_EX_OSERR;
	}
	if (pid == 0) {
		close(p[1]);
		dup2(p[0], 0);
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		set_env("CLIENTPULSE_CHECK", cp_json_str(f, "check"));
		set_env("CLIENTPULSE_ENTITY", cp_json_str(f, "entity"));
		set_env("CLIENTPULSE_DETAIL", cp_json_str(f, "detail"));
		set_env("CLIENTPULSE_TENANT", cp_json_str(f, "tenant"));
		set_env("CLIENTPULSE_ACCOUNT", cp_json_str(f, "account"));
		set_env("CLIENTPULSE_AM", cp_json_str(f, "am"));
		set_env("CLIENTPULSE_AM_EMAIL", cp_json_str(f, "am_email"));
		set_env("CLIENTPULSE_MANAGER", cp_json_str(f, "manager"));
		set_env("CLIENTPULSE_MANAGER_EMAIL", cp_json_str(f,
		    "manager_email"));
		execl("/bin/sh", "sh", "-c", r->notify, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	{
		size_t len = strlen(text), off = 0;
		while (off < len) {
			ssize_t k = write(p[1], text + off, len - off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		if (off == len)
			(void)!write(p[1], "\n", 1);
	}
	close(p[1]);
	free(text);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return CP_EX_OSERR;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* An escalation: reported, then piped to --notify's command. */
__attribute__((format(printf, 4, 5)))
static void escalate(cp_reconcile *r, const char *entity, json_t *extra,
    const char *fmt, ...)
{
	va_list ap;
	json_t *f;
	int st;

	va_start(ap, fmt);
	f = finding(r, "warning", entity, false, extra, fmt, ap);
	va_end(ap);
	if (r->notify) {
		json_object_set_new(f, "notified", json_true());
		if ((st = notify(r, f)) != 0) {
			cp_warn("--notify: the command exited %d for %s", st,
			    entity);
			json_object_set_new(f, "notified", json_false());
			r->notify_failed++;
		}
	}
	r->emit(r, f);
	json_decref(f);
}

static int review_sla(cp_reconcile *r)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT c.id, c.account_id,"
	    " a.name, c.title, c.created_at, t.review_sla_hours,"
	    " u.login, u.email, m.login, m.email"
	    " FROM cards c JOIN tenants t ON t.id = c.tenant_id"
	    " LEFT JOIN accounts a ON a.tenant_id = c.tenant_id"
	    "   AND a.id = c.account_id"
	    " LEFT JOIN users u ON u.id = coalesce(c.assignee_id, a.owner_id)"
	    " LEFT JOIN users m ON m.id = u.manager_id"
	    " WHERE c.tenant_id = ?1 AND c.status = 'pending_review'"
	    " AND (julianday(?2) - julianday(c.created_at)) * 24.0"
	    "   > t.review_sla_hours"
	    " ORDER BY c.created_at, c.id");
	int rc;

	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, r->now_s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *am = (const char *)sqlite3_column_text(st, 6);
		const char *mgr = (const char *)sqlite3_column_text(st, 8);
		long sla = (long)sqlite3_column_int64(st, 5);
		char age[32], who[300];

		cp_human_age(age_of(r, cp_db_col_text(st, 4)), age, sizeof age);
		if (am && mgr)
			snprintf(who, sizeof who, "escalate to %s, manager of %s",
			    mgr, am);
		else if (am)
			snprintf(who, sizeof who, "assigned to %s, who has no "
			    "manager on record", am);
		else
			snprintf(who, sizeof who, "nobody is assigned and the "
			    "account has no owner");
		escalate(r, cp_db_col_text(st, 0), json_pack("{s:s, s:s?, s:s,"
		    " s:s, s:s?, s:s?, s:s?, s:s?, s:I}",
		    "account", cp_db_col_text(st, 1), "account_name",
		    (const char *)sqlite3_column_text(st, 2), "title",
		    cp_db_col_text(st, 3), "created_at", cp_db_col_text(st, 4),
		    "am", am, "am_email", (const char *)sqlite3_column_text(st, 7),
		    "manager", mgr, "manager_email",
		    (const char *)sqlite3_column_text(st, 9), "sla_hours",
		    (json_int_t)sla), "pending review for %s, over the %ldh "
		    "SLA: %s", age, sla, who);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "review SLA");
}

/* ---- permission drift --------------------------------------------------- */

struct drift {
	char *card, *account, *record, *who, *why, *owner;
	int64_t version, owner_id;
	bool fixed;
	const char *outcome;
};

static bool may_hold(cp_reconcile *r, int64_t uid, const char *account,
    const char **why)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT tenant_id, role,"
	    " active, login, coalesce(manager_id, 0) FROM users WHERE id = ?");
	cp_user u;
	bool ok = false;

	memset(&u, 0, sizeof u);
	sqlite3_bind_int64(st, 1, uid);
	if (sqlite3_step(st) != SQLITE_ROW)
		*why = "is no longer a user";
	else if (sqlite3_column_int64(st, 0) != r->me->tenant_id)
		*why = "belongs to another tenant";
	else if (!sqlite3_column_int(st, 2))
		*why = "was deactivated";
	else if (!cp_role_parse(cp_db_col_text(st, 1), &u.role) ||
	    u.role < CP_ROLE_AM)
		*why = "may not decide cards (viewer)";
	else {
		u.id = uid;
		u.tenant_id = r->me->tenant_id;
		u.manager_id = sqlite3_column_int64(st, 4);
		snprintf(u.login, sizeof u.login, "%s", cp_db_col_text(st, 3));
		if (!(ok = cp_rbac_in_scope(r->db, &u, account)))
			*why = "lost access to the account";
	}
	sqlite3_finalize(st);
	return ok;
}

static int drift_collect(cp_reconcile *r, struct drift **out, size_t *n)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT c.id, c.account_id,"
	    " c.version, c.record, c.assignee_id, u.login,"
	    " coalesce(a.owner_id, 0), o.login"
	    " FROM cards c LEFT JOIN users u ON u.id = c.assignee_id"
	    " LEFT JOIN accounts a ON a.tenant_id = c.tenant_id"
	    "   AND a.id = c.account_id"
	    " LEFT JOIN users o ON o.id = a.owner_id"
	    " WHERE c.tenant_id = ? AND c.status = 'pending_review'"
	    " AND c.assignee_id IS NOT NULL ORDER BY c.id");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *why = NULL;
		struct drift *d;

		if (may_hold(r, sqlite3_column_int64(st, 4),
		    cp_db_col_text(st, 1), &why))
			continue;
		if (*n == cap)
			*out = xrealloc(*out, (cap = cap ? 2 * cap : 16) *
			    sizeof **out);
		d = &(*out)[(*n)++];
		memset(d, 0, sizeof *d);
		d->card = (char *)dup_col(st, 0);
		d->account = (char *)dup_col(st, 1);
		d->version = sqlite3_column_int64(st, 2);
		d->record = (char *)dup_col(st, 3);
		d->who = xstrdup(sqlite3_column_text(st, 5) ?
		    (const char *)sqlite3_column_text(st, 5) : "(removed user)");
		d->why = xstrdup(why);
		d->owner_id = sqlite3_column_int64(st, 6);
		d->owner = (char *)dup_col(st, 7);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "permission drift");
}

/* Give the card to the account's owner: version + 1, its history row,
 * the audit entry, in one transaction. */
static int reassign(cp_reconcile *r, struct drift *d)
{
	json_t *rec = json_loads(d->record, 0, NULL), *o, *nw;
	char *text;
	sqlite3_stmt *st;
	int rc;

	if (!json_is_object(rec)) {
		json_decref(rec);
		rec = json_object();
	}
	json_object_set_new(rec, "assignee", json_string(d->owner));
	json_object_set_new(rec, "version", json_integer(d->version + 1));
	json_object_set_new(rec, "updated_at", json_string(r->now_s));
	text = cp_json_dumps(rec, 0);
	json_decref(rec);
	if ((rc = cp_db_begin(r->db))) {
		free(text);
		return rc;
	}
	st = cp_db_prepare(r->db, "UPDATE cards SET assignee_id = ?1,"
	    " version = version + 1, record = ?2, updated_at = ?3"
	    " WHERE id = ?4 AND tenant_id = ?5 AND version = ?6"
	    " AND status = 'pending_review'");
	sqlite3_bind_int64(st, 1, d->owner_id);
	cp_db_bind_text(st, 2, text);
	cp_db_bind_text(st, 3, r->now_s);
	cp_db_bind_text(st, 4, d->card);
	sqlite3_bind_int64(st, 5, r->me->tenant_id);
	sqlite3_bind_int64(st, 6, d->version);
	rc = cp_db_step_done(r->db, st);
	sqlite3_finalize(st);
	if (!rc && sqlite3_changes(r->db) != 1) {
		cp_db_rollback(r->db);
		free(text);
		d->outcome = "the card changed meanwhile; the next run looks again";
		return 0;
	}
	if (!rc) {
		st = cp_db_prepare(r->db, "INSERT INTO card_versions(card_id,"
		    " version, record, actor, created_at) VALUES (?, ?, ?, ?, ?)");
		cp_db_bind_text(st, 1, d->card);
		sqlite3_bind_int64(st, 2, d->version + 1);
		cp_db_bind_text(st, 3, text);
		cp_db_bind_text(st, 4, r->actor);
		cp_db_bind_text(st, 5, r->now_s);
		rc = cp_db_step_done(r->db, st);
		sqlite3_finalize(st);
	}
	free(text);
	if (!rc) {
		char *why = xasprintf("permission drift: %s %s", d->who, d->why);
		o = json_pack("{s:s}", "assignee", d->who);
		nw = json_pack("{s:s}", "assignee", d->owner);
		rc = cp_audit(r->db, r->me->tenant_id, r->actor, "card.reassign",
		    "card", d->card, o, nw, why);
		json_decref(o);
		json_decref(nw);
		free(why);
	}
	if (rc) {
		cp_db_rollback(r->db);
		return rc;
	}
	if ((rc = cp_db_commit(r->db)))
		return rc;
	d->fixed = true;
	return 0;
}

static int permission_drift(cp_reconcile *r)
{
	struct drift *d;
	size_t n, i;
	int rc;

	if ((rc = drift_collect(r, &d, &n)))
		return rc;
	for (i = 0; i < n; i++) {
		const char *why = NULL;
		bool owner_ok = d[i].owner_id && d[i].owner &&
		    may_hold(r, d[i].owner_id, d[i].account, &why);

		if (r->fix && !rc && owner_ok)
			rc = reassign(r, &d[i]);
		if (!rc)
			cp_reconcile_finding(r, "warning", d[i].card, d[i].fixed,
			    json_pack("{s:s, s:s, s:s?}", "account", d[i].account,
			    "assignee", d[i].who, "owner", d[i].owner),
			    "assigned to %s, who %s%s%s%s", d[i].who, d[i].why,
			    d[i].fixed ? "; reassigned to the account owner " : "",
			    d[i].fixed ? d[i].owner : !owner_ok ?
			    "; the account has no owner who may take it" :
			    d[i].outcome ? "; " : "", !d[i].fixed && owner_ok &&
			    d[i].outcome ? d[i].outcome : "");
		free(d[i].card);
		free(d[i].account);
		free(d[i].record);
		free(d[i].who);
		free(d[i].why);
		free(d[i].owner);
	}
	free(d);
	return rc;
}

/* ---- index drift -------------------------------------------------------- */

/*
 * Full-text indexes kept by triggers over a table of their own; the
 * rebuild re-inserts every row as the insert trigger does.  Indexes of
 * external content (content='table') are rebuilt with FTS5's own
 * 'rebuild' command, whoever adds them (cp-search).
 */
static const struct {
	const char *fts, *table, *key, *same, *rebuild;
} known_fts[] = {
	{ "assets_fts", "assets", "seq", "f.title IS NOT t.title OR"
	  " f.summary IS NOT t.summary",
	  "DELETE FROM assets_fts;"
	  "INSERT INTO assets_fts(rowid, title, summary, themes, industries,"
	  " tags) SELECT seq, title, summary,"
	  " (SELECT group_concat(value, ' ') FROM json_each(themes)),"
	  " (SELECT group_concat(value, ' ') FROM json_each(industries)),"
	  " (SELECT group_concat(value, ' ') FROM json_each(tags)) FROM assets;" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static long count_sql(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The content table and key of an FTS5 declaration, from its options
 * content='x' and content_rowid='y'; false when it keeps its own. */
static bool external_content(const char *sql, char *table, size_t tn,
    char *key, size_t kn)
{
	const char *p = strstr(sql, "content");

	snprintf(key, kn, "rowid");
	*table = '\0';
	for (; p; p = strstr(p + 1, "content")) {
		const char *q = p + 7;
		bool rowid = !strncmp(q, "_rowid", 6);
		char *dst = rowid ? key : table;
		size_t dn = rowid ? kn : tn, i = 0;

		if (rowid)
			q += 6;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\'' || *q == '"')
			q++;
		while (*q && *q != '\'' && *q != '"' && *q != ',' && *q != ')' &&
		    *q != ' ' && i + 1 < dn)
			dst[i++] = *q++;
		dst[i] = '\0';
	}
	return *table != '\0';
}

static int fts_rebuild(cp_reconcile *r, const char *fts, const char *sql)
{
	json_t *nw;
	int rc;

	if ((rc = cp_db_begin(r->db)))
		return rc;
	if (!(rc = cp_db_exec(r->db, sql))) {
		nw = json_pack("{s:s}", "index", "rebuilt");
		rc = cp_audit(r->db, r->me->tenant_id, r->actor, "index.rebuild",
		    "index", fts, NULL, nw, "cp-reconcile: index drift");
		json_decref(nw);
	}
	if (rc) {
		cp_db_rollback(r->db);
		return rc;
	}
	return cp_db_commit(r->db);
}

/* A count with ?1 bound to a mark. */
static long count_mark(sqlite3 *db, const char *sql, long long mark)
{
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, mark);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * The indexes of cp-search (55-search.sql) catch up instead of being
 * written with their rows: rows above a mark (the settings
 * search.cards_indexed, search.signals_indexed) and cards noted in
 * search_card_dirty are waiting, not missing.  Anything else out of
 * step is drift, and the fix is cp-search's own rebuild.
 */
static int search_index(cp_reconcile *r, const char *fts)
{
	bool cards = !strcmp(fts, "cards_fts");
	char *m = cp_db_setting(r->db, cards ? "search.cards_indexed" :
	    "search.signals_indexed");
	long long mark = m ? atoll(m) : 0;
	long missing, orphan, stale = 0;
	bool fixed = false;
	int rc = 0;

	free(m);
	if (cards) {
		missing = count_mark(r->db, "SELECT count(*) FROM cards c"
		    " WHERE c.rowid <= ?1 AND NOT EXISTS (SELECT 1 FROM cards_fts f"
		    " WHERE f.rowid = c.rowid) AND c.rowid NOT IN"
		    " (SELECT rid FROM search_card_dirty)", mark);
		orphan = count_mark(r->db, "SELECT count(*) FROM cards_fts f"
		    " WHERE f.rowid NOT IN (SELECT rowid FROM cards)"
		    " AND f.rowid NOT IN (SELECT rid FROM search_card_dirty)", 0);
		stale = count_mark(r->db, "SELECT count(*) FROM cards c"
		    " JOIN cards_fts f ON f.rowid = c.rowid WHERE f.title IS NOT"
		    " c.title AND c.rowid NOT IN (SELECT rid FROM"
		    " search_card_dirty)", 0);
	} else {
		missing = count_mark(r->db, "SELECT count(*) FROM signals s"
		    " WHERE s.seq <= ?1 AND s.seq NOT IN (SELECT id FROM"
		    " signals_fts_docsize)", mark);
		orphan = count_mark(r->db, "SELECT count(*) FROM"
		    " signals_fts_docsize d WHERE d.id NOT IN (SELECT seq FROM"
		    " signals)", 0);
	}
	if (missing < 0 || orphan < 0 || stale < 0) {
		cp_err("index drift: cannot compare %s with its table", fts);
		return CP_EX_SOFTWARE;
	}
	if (missing + orphan + stale == 0)
		return 0;
	if (r->fix && !(rc = cp_search_reindex(r->db))) {
		json_t *nw = json_pack("{s:s}", "index", "rebuilt");
		if (!(rc = cp_db_begin(r->db))) {
			rc = cp_audit(r->db, r->me->tenant_id, r->actor,
			    "index.rebuild", "index", fts, NULL, nw,
			    "cp-reconcile: index drift (cp-search --reindex)");
			rc = rc ? (cp_db_rollback(r->db), rc) : cp_db_commit(r->db);
		}
		json_decref(nw);
		fixed = !rc;
	}
	if (!rc)
		cp_reconcile_finding(r, "warning", fts, fixed, json_pack("{s:I, "
		    "s:I, s:I}", "missing", (json_int_t)missing, "orphans",
		    (json_int_t)orphan, "stale", (json_int_t)stale), "full-text "
		    "index out of step: %ld rows missing, %ld orphans, %ld stale "
		    "(below its catch-up mark)%s", missing, orphan, stale, fixed ?
		    "; rebuilt (cp-search --reindex)" : "");
	return rc;
}

static int one_index(cp_reconcile *r, const char *fts, const char *decl)
{
	char table[128], key[64], *sql, *rebuild = NULL;
	long missing, orphan, stale = 0;
	bool fixed = false;
	int i, rc = 0;

	if (!strcmp(fts, "cards_fts") || !strcmp(fts, "signals_fts"))
		return search_index(r, fts);
	for (i = 0; known_fts[i].fts && strcmp(known_fts[i].fts, fts); i++)
		;
	if (known_fts[i].fts) {
		sql = xasprintf("SELECT count(*) FROM %s t WHERE t.%s NOT IN"
		    " (SELECT rowid FROM %s)", known_fts[i].table,
		    known_fts[i].key, fts);
		missing = count_sql(r->db, sql);
		free(sql);
		sql = xasprintf("SELECT count(*) FROM %s f WHERE f.rowid NOT IN"
		    " (SELECT %s FROM %s)", fts, known_fts[i].key,
		    known_fts[i].table);
		orphan = count_sql(r->db, sql);
		free(sql);
		sql = xasprintf("SELECT count(*) FROM %s t JOIN %s f ON"
		    " f.rowid = t.%s WHERE %s", known_fts[i].table, fts,
		    known_fts[i].key, known_fts[i].same);
		stale = count_sql(r->db, sql);
		free(sql);
		rebuild = xstrdup(known_fts[i].rebuild);
	} else if (external_content(decl, table, sizeof table, key,
	    sizeof key)) {
		/* the index's own document list against the content table */
		sql = xasprintf("SELECT count(*) FROM \"%s\" WHERE \"%s\" NOT IN"
		    " (SELECT id FROM \"%s_docsize\")", table, key, fts);
		missing = count_sql(r->db, sql);
		free(sql);
		sql = xasprintf("SELECT count(*) FROM \"%s_docsize\" WHERE id NOT"
		    " IN (SELECT \"%s\" FROM \"%s\")", fts, key, table);
		orphan = count_sql(r->db, sql);
		free(sql);
		rebuild = xasprintf("INSERT INTO \"%s\"(\"%s\") VALUES"
		    " ('rebuild')", fts, fts);
	} else {
		/* an index we do not know how to compare */
		return 0;
	}
	if (missing < 0 || orphan < 0 || stale < 0) {
		free(rebuild);
		cp_err("index drift: cannot compare %s with its table", fts);
		return CP_EX_SOFTWARE;
	}
	if (missing + orphan + stale > 0) {
		if (r->fix && !(rc = fts_rebuild(r, fts, rebuild)))
			fixed = true;
		if (!rc)
			cp_reconcile_finding(r, "warning", fts, fixed, json_pack(
			    "{s:I, s:I, s:I}", "missing", (json_int_t)missing,
			    "orphans", (json_int_t)orphan, "stale",
			    (json_int_t)stale), "full-text index out of step: %ld "
			    "rows missing, %ld orphans, %ld stale%s", missing,
			    orphan, stale, fixed ? "; rebuilt" : "");
	}
	free(rebuild);
	return rc;
}

static int index_drift(cp_reconcile *r)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT name, sql FROM"
	    " sqlite_master WHERE type = 'table' AND sql LIKE"
	    " 'CREATE VIRTUAL TABLE%USING fts5%' ORDER BY name");
	char **names = NULL, **decls = NULL;
	size_t n = 0, i;
	int rc = 0;

	while (sqlite3_step(st) == SQLITE_ROW) {
		names = xrealloc(names, (n + 1) * sizeof *names);
		decls = xrealloc(decls, (n + 1) * sizeof *decls);
		names[n] = xstrdup(cp_db_col_text(st, 0));
		decls[n++] = xstrdup(cp_db_col_text(st, 1));
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = one_index(r, names[i], decls[i]);
		free(names[i]);
		free(decls[i]);
	}
	free(names);
	free(decls);
	return rc;
}

/* ---- audit chain -------------------------------------------------------- */

static int audit_chain(cp_reconcile *r)
{
	int64_t count = 0, bad = 0;
	const char *why = NULL;
	int rc;

	if ((rc = cp_db_exec(r->db, "BEGIN")))
		return rc;
	rc = cp_audit_verify(r->db, &count, &bad, &why);
	cp_db_rollback(r->db);
	if (rc == 1) {
		char entity[40];
		snprintf(entity, sizeof entity, "audit:%lld", (long long)bad);
		cp_reconcile_finding(r, "error", entity, false, json_pack("{s:I}",
		    "entries", (json_int_t)count), "the audit chain is broken at "
		    "entry %lld: %s", (long long)bad, why);
		return 0;
	}
	return rc;
}

/* ---- cursor health ------------------------------------------------------ */

/* Pipeline runs that fetched since a time (all of them when NULL). */
static long fetch_runs_since(cp_reconcile *r, const char *since)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT count(*) FROM runs"
	    " WHERE tenant_id = ? AND kind = 'pipeline'"
	    " AND instr(stages, 'fetch') AND status IN ('ok', 'failed')"
	    " AND started_at > coalesce(?, '')");
	long n = 0;

	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	cp_db_bind_text(st, 2, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int cursor_health(cp_reconcile *r)
{
	sqlite3_stmt *st = cp_db_prepare(r->db, "SELECT kind, url, failures,"
	    " last_error, last_status, last_ok_at, last_fetched_at, cursor_at"
	    " FROM fetch_sources WHERE tenant_id = ? ORDER BY kind, url");
	int rc;

	sqlite3_bind_int64(st, 1, r->me->tenant_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = cp_db_col_text(st, 0), *url = cp_db_col_text(st,
		    1), *err = (const char *)sqlite3_column_text(st, 3);
		const char *ok_at = (const char *)sqlite3_column_text(st, 5);
		const char *cur_at = (const char *)sqlite3_column_text(st, 7);
		long failures = (long)sqlite3_column_int64(st, 2), runs;
		char *entity = xasprintf("source:%s:%s", kind, url), age[32];
		json_t *x = json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:s?}", "kind",
		    kind, "url", url, "failures", (json_int_t)failures,
		    "last_ok_at", ok_at, "last_fetched_at",
		    (const char *)sqlite3_column_text(st, 6), "cursor_at", cur_at);

		cp_human_age(age_of(r, ok_at), age, sizeof age);
		if (failures >= r->cursor_runs)
			cp_reconcile_finding(r, "warning", entity, false, x,
			    "failed %ld runs in a row (%s%s%lld): last success %s%s",
			    failures, err ? err : "", err ? ", HTTP " : "HTTP ",
			    (long long)sqlite3_column_int64(st, 4), ok_at ? age :
			    "never", ok_at ? " ago" : "");
		else if ((runs = fetch_runs_since(r, ok_at)) >= r->cursor_runs)
			cp_reconcile_finding(r, "warning", entity, false, x,
			    "not fetched successfully in the last %ld runs (last "
			    "success %s%s)", runs, ok_at ? age : "never",
			    ok_at ? " ago" : "");
		else if (cur_at && age_of(r, cur_at) > r->quiet_after) {
			cp_human_age(age_of(r, cur_at), age, sizeof age);
			cp_reconcile_finding(r, "info", entity, false, x,
			    "fetched fine but nothing new for %s: a dead feed or "
			    "a moved page?", age);
		} else
			json_decref(x);
		free(entity);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(r->db, "cursor health");
}

/* ---- the list ----------------------------------------------------------- */

const cp_check cp_checks[] = {
	{ "stuck_documents", "documents fetched but never carried to a signal "
	  "(--fix: replayed through the pipeline)", stuck_documents },
	{ "stuck_pushes", "pushes left 'sending' by an interrupted cp-push "
	  "(--fix: looked up in the CRM by key, done or requeued)",
	  cp_check_stuck_pushes },
	{ "crm_drift", "pushed objects deleted or changed in the CRM, sampled "
	  "or --deep (--fix: recreated)", cp_check_crm_drift },
	{ "review_sla", "cards pending longer than the tenant's review SLA "
	  "(escalation to the AM's manager; --notify)", review_sla },
	{ "permission_drift", "cards assigned to someone who left or lost the "
	  "account (--fix: reassigned to the account owner)", permission_drift },
	{ "index_drift", "full-text index rows against the stored rows "
	  "(--fix: rebuilt)", index_drift },
	{ "audit_chain", "the hash chain of the audit log", audit_chain },
	{ "cursor_health", "sources failing, not fetched, or bringing nothing "
	  "new for N runs", cursor_health },
	{ NULL, NULL, NULL }
};

const cp_check *cp_check_find(const char *name)
{
	const cp_check *c;

	for (c = cp_checks; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
