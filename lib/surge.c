#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "mem.h"
#include "surge.h"
#include "timefmt.h"

int cp_surge_record(sqlite3 *db, int64_t tenant_id, const char *account_id,
    const cp_sigview *sv)
{
	sqlite3_stmt *st;
	char *fn, *p, ts[CP_TIME_MAX];
	const char *title = sv->job_title && *sv->job_title ? sv->job_title :
	    sv->title;
	int rc;

	st = cp_db_prepare(db, "INSERT OR IGNORE INTO score_postings"
	    " (tenant_id, signal_id, account_id, function, title, url,"
	    " quote, source_name, reliability, published_at, fetched_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	fn = xstrdup(sv->job_function);
	for (p = fn; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, sv->id);
	cp_db_bind_text(st, 3, account_id);
	cp_db_bind_text(st, 4, fn);
	cp_db_bind_text(st, 5, title ? title : "");
	cp_db_bind_text(st, 6, sv->url ? sv->url : "");
	cp_db_bind_text(st, 7, title ? title : "");
	cp_db_bind_text(st, 8, sv->source_name ? sv->source_name : "");
	sqlite3_bind_double(st, 9, sv->has_reliability ? sv->reliability : -1);
	/* stored in one format so the window compares as text */
	cp_db_bind_text(st, 10, cp_time_format(sv->published_at, ts));
	{
		char fs[CP_TIME_MAX];
		cp_db_bind_text(st, 11, cp_time_format(sv->fetched_at, fs));
		rc = cp_db_step_done(db, st);
	}
	sqlite3_finalize(st);
	free(fn);
	return rc;
}

int cp_surge_window(sqlite3 *db, int64_t tenant_id, const char *account_id,
    const char *function, const cp_scorecfg *c, cp_surge *out)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT max(published_at)"
	    " FROM score_postings WHERE tenant_id = ? AND account_id = ?"
	    " AND function = ?");
	char from[CP_TIME_MAX];
	time_t newest = 0;
	size_t cap = 0;
	int rc;

	out->p = NULL;
	out->n = 0;
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, account_id);
	cp_db_bind_text(st, 3, function);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_type(st, 0) == SQLITE_NULL ||
	    !cp_time_parse(cp_db_col_text(st, 0), &newest)) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	cp_time_format(newest - (time_t)(c->surge_window * 86400), from);
	st = cp_db_prepare(db, "SELECT signal_id, url, title, quote,"
	    " source_name, reliability, published_at, fetched_at"
	    " FROM score_postings WHERE tenant_id = ? AND account_id = ?"
	    " AND function = ? AND published_at >= ?"
	    " ORDER BY published_at, signal_id");
	sqlite3_bind_int64(st, 1, tenant_id);
	cp_db_bind_text(st, 2, account_id);
	cp_db_bind_text(st, 3, function);
	cp_db_bind_text(st, 4, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cp_posting *p;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->p = xrealloc(out->p, cap * sizeof *out->p);
		}
		p = &out->p[out->n++];
		p->signal_id = xstrdup(cp_db_col_text(st, 0));
		p->url = xstrdup(cp_db_col_text(st, 1));
		p->title = xstrdup(cp_db_col_text(st, 2));
		p->quote = xstrdup(cp_db_col_text(st, 3));
		p->source_name = xstrdup(cp_db_col_text(st, 4));
		p->reliability = sqlite3_column_double(st, 5);
		p->published_at = xstrdup(cp_db_col_text(st, 6));
		p->fetched_at = xstrdup(cp_db_col_text(st, 7));
		cp_time_parse(p->published_at, &p->published);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cp_surge_free(out);
		return cp_db_error(db, "read job postings");
	}
	return 0;
}

void cp_surge_free(cp_surge *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->p[i].signal_id);
		free(s->p[i].url);
		free(s->p[i].title);
		free(s->p[i].quote);
		free(s->p[i].source_name);
		free(s->p[i].published_at);
		free(s->p[i].fetched_at);
	}
	free(s->p);
	s->p = NULL;
	s->n = 0;
}
