#include <string.h>

#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

static const char zero_hash[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

json_t *cp_json_diff(const json_t *old_v, const json_t *new_v)
{
	json_t *o = json_object(), *n = json_object(), *d = json_object();
	const char *key;
	json_t *v;

	if (json_is_object(old_v) && json_is_object(new_v)) {
		json_object_foreach((json_t *)old_v, key, v) {
			json_t *nv = json_object_get(new_v, key);
			if (!nv || !json_equal(v, nv))
				json_object_set(o, key, v);
		}
		json_object_foreach((json_t *)new_v, key, v) {
			json_t *ov = json_object_get(old_v, key);
			if (!ov || !json_equal(v, ov))
				json_object_set(n, key, v);
		}
		json_object_set_new(d, "old", o);
		json_object_set_new(d, "new", n);
		return d;
	}
	json_decref(o);
	json_decref(n);
	json_object_set_new(d, "old", old_v ? json_deep_copy(old_v) : json_null());
	json_object_set_new(d, "new", new_v ? json_deep_copy(new_v) : json_null());
	return d;
}

/* SHA-256 over prev + "\n" + canonical JSON of the entry's fields. */
static void entry_hash(int64_t seq, const char *ts, int64_t tenant_id,
    const char *actor, const char *action, const char *etype,
    const char *eid, const char *diff, const char *reason, const char *prev,
    char out[CP_SHA256_HEX])
{
	json_t *e = json_object();
	strbuf sb = CP_STRBUF_INIT;

	json_object_set_new(e, "seq", json_integer(seq));
	json_object_set_new(e, "ts", json_string(ts));
	json_object_set_new(e, "tenant_id",
	    tenant_id ? json_integer(tenant_id) : json_null());
	json_object_set_new(e, "actor", json_string(actor));
	json_object_set_new(e, "action", json_string(action));
	json_object_set_new(e, "entity_type", json_string(etype));
	json_object_set_new(e, "entity_id", json_string(eid));
	json_object_set_new(e, "diff", json_string(diff));
	json_object_set_new(e, "reason", reason ? json_string(reason) :
	    json_null());
	sb_adds(&sb, prev);
	sb_addc(&sb, '\n');
	cp_json_dump(&sb, e, CP_JSON_SORT);
	cp_sha256_hex(sb.buf, sb.len, out);
	sb_free(&sb);
	json_decref(e);
}

int cp_audit_head(sqlite3 *db, char out[CP_SHA256_HEX])
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1");
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		snprintf(out, CP_SHA256_HEX, "%s", cp_db_col_text(st, 0));
	else
		memcpy(out, zero_hash, CP_SHA256_HEX);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    cp_db_error(db, "read audit head");
}

int cp_audit(sqlite3 *db, int64_t tenant_id, const char *actor,
    const char *action, const char *entity_type, const char *entity_id,
    const json_t *old_v, const json_t *new_v, const char *reason)
{
	char prev[CP_SHA256_HEX], hash[CP_SHA256_HEX], ts[CP_TIME_MAX];
	sqlite3_stmt *st;
	json_t *d;
	char *diff;
	int64_t seq = 1;
	int rc;

	if (sqlite3_get_autocommit(db)) {
		cp_err("internal error: audit entry outside a transaction");
		return CP_EX_SOFTWARE;
	}
	/* prepared once per connection: stages audit thousands of cards */
	st = cp_db_prepare_cached(db,
	    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	if (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0) + 1;
		snprintf(prev, sizeof prev, "%s", cp_db_col_text(st, 1));
	} else {
		memcpy(prev, zero_hash, sizeof prev);
	}
	sqlite3_reset(st);

	d = cp_json_diff(old_v, new_v);
	diff = cp_json_dumps(d, CP_JSON_SORT);
	json_decref(d);
	/* a secret must never reach the audit log, whatever a caller put in
	 * the entity: apply the logger's redactions to the stored text */
	cp_log_redact(diff);
	cp_time_format(cp_now(), ts);
	entry_hash(seq, ts, tenant_id, actor, action, entity_type, entity_id,
	    diff, reason, prev, hash);

	st = cp_db_prepare_cached(db,
	    "INSERT INTO audit(seq, ts, tenant_id, actor, action, entity_type,"
	    " entity_id, diff, reason, prev_hash, hash)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	sqlite3_bind_int64(st, 1, seq);
	cp_db_bind_text(st, 2, ts);
	if (tenant_id)
		sqlite3_bind_int64(st, 3, tenant_id);
	else
		sqlite3_bind_null(st, 3);
	cp_db_bind_text(st, 4, actor);
	cp_db_bind_text(st, 5, action);
	cp_db_bind_text(st, 6, entity_type);
	cp_db_bind_text(st, 7, entity_id);
	cp_db_bind_text(st, 8, diff);
	cp_db_bind_text(st, 9, reason);
	cp_db_bind_text(st, 10, prev);
	cp_db_bind_text(st, 11, hash);
	rc = cp_db_step_done(db, st);
	sqlite3_clear_bindings(st);
	free(diff);
	return rc;
}

int cp_audit_verify(sqlite3 *db, int64_t *count, int64_t *bad_seq,
    const char **why)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT seq, ts, coalesce(tenant_id, 0), actor, action, entity_type,"
	    " entity_id, diff, reason, prev_hash, hash FROM audit ORDER BY seq");
	char prev[CP_SHA256_HEX], h[CP_SHA256_HEX];
	int64_t n = 0, expect_seq = 0;
	int rc, result = 0;

	memcpy(prev, zero_hash, sizeof prev);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *reason = (const char *)sqlite3_column_text(st, 8);

		n++;
		if (expect_seq && seq != expect_seq) {
			*bad_seq = expect_seq;
			*why = "entry missing (sequence gap)";
			result = 1;
			break;
		}
		expect_seq = seq + 1;
		if (strcmp(cp_db_col_text(st, 9), prev) != 0) {
			*bad_seq = seq;
			*why = "previous-hash link does not match the entry before";
			result = 1;
			break;
		}
		entry_hash(seq, cp_db_col_text(st, 1), sqlite3_column_int64(st, 2),
		    cp_db_col_text(st, 3), cp_db_col_text(st, 4),
		    cp_db_col_text(st, 5), cp_db_col_text(st, 6),
		    cp_db_col_text(st, 7), reason, prev, h);
		if (strcmp(h, cp_db_col_text(st, 10)) != 0) {
			*bad_seq = seq;
			*why = "entry content does not match its hash";
			result = 1;
			break;
		}
		memcpy(prev, h, sizeof prev);
	}
	if (result == 0 && rc != SQLITE_DONE)
		result = cp_db_error(db, "read audit log");
	sqlite3_finalize(st);
	if (count)
		*count = n;
	return result;
}
