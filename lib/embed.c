#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "embed.h"
#include "exitcode.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mem.h"

struct cp_embed {
	char *url, *model;
	const char *key;
	long batch;
	size_t max_chars;
	cp_http *http;
};

int cp_embed_open(cp_embed **out)
{
	const char *url = cp_conf("embed.url", NULL, NULL);
	const char *model = cp_conf("embed.model", NULL, NULL);
	cp_http_opts o;
	cp_embed *e;
	int err = 0;
	size_t n;

	*out = NULL;
	if (!url || !*url || !model || !*model) {
		cp_err("semantic search needs embed.url and embed.model in the "
		    "configuration (or CLIENTPULSE_EMBED_URL, "
		    "CLIENTPULSE_EMBED_MODEL)");
		return CP_EX_CONFIG;
	}
	e = xcalloc(1, sizeof *e);
	e->key = cp_secret("embed.api_key", "CLIENTPULSE_EMBED_API_KEY", &err);
	if (err) {
		free(e);
		return err;
	}
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	/* a base URL gets the endpoint's path */
	if (n >= 11 && !strncmp(url + n - 11, "/embeddings", 11))
		e->url = xstrndup(url, n);
	else
		e->url = xasprintf("%.*s/embeddings", (int)n, url);
	e->model = xstrdup(model);
	e->batch = cp_conf_long("embed.batch", NULL, 64);
	if (e->batch < 1)
		e->batch = 1;
	e->max_chars = (size_t)cp_conf_long("embed.max_chars", NULL, 4000);
	if (e->max_chars < 16)
		e->max_chars = 16;
	cp_http_opts_default(&o);
	o.user_agent = "ClientPulse/" CP_VERSION;
	o.timeout = cp_conf_double("embed.timeout", NULL, 30);
	o.connect_timeout = o.timeout < 10 ? o.timeout : 10;
	o.stall_timeout = o.timeout;
	o.retries = (int)cp_conf_long("embed.retries", NULL, 2);
	o.backoff_base = 0.2;
	o.backoff_max = 5;
	o.concurrency = 1;
	o.max_body = (size_t)64 << 20;
	e->http = cp_http_new(&o);
	*out = e;
	return 0;
}

void cp_embed_close(cp_embed *e)
{
	if (!e)
		return;
	cp_http_free(e->http);
	free(e->url);
	free(e->model);
	free(e);
}

const char *cp_embed_model(const cp_embed *e)
{
	return e->model;
}

/* ---- vectors ----------------------------------------------------------- */

double cp_cosine(const float *a, const float *b, int dim)
{
	double dot = 0, na = 0, nb = 0;
	int i;

	for (i = 0; i < dim; i++) {
		dot += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	return na > 0 && nb > 0 ? dot / (sqrt(na) * sqrt(nb)) : 0;
}

void cp_vec_pack(const float *v, int dim, unsigned char *out)
{
	int i;

	for (i = 0; i < dim; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		out[4 * i] = (unsigned char)u;
		out[4 * i + 1] = (unsigned char)(u >> 8);
		out[4 * i + 2] = (unsigned char)(u >> 16);
		out[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

void cp_vec_unpack(const unsigned char *in, int dim, float *v)
{
	int i;

	for (i = 0; i < dim; i++) {
		uint32_t u = (uint32_t)in[4 * i] | (uint32_t)in[4 * i + 1] << 8 |
		    (uint32_t)in[4 * i + 2] << 16 | (uint32_t)in[4 * i + 3] << 24;
		memcpy(&v[i], &u, 4);
	}
}

static void normalise(float *v, int dim)
{
	double n = 0;
	int i;

	for (i = 0; i < dim; i++)
		n += (double)v[i] * v[i];
	if (n <= 0)
		return;
	n = sqrt(n);
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] / n);
}

/* ---- the endpoint ------------------------------------------------------ */

#define MAX_DIM 16384

/* The vectors of a reply into out (n * dim, allocated on the first one);
 * false with a reason in err. */
static bool parse_reply(json_t *resp, size_t n, float **out, int *dim,
    char *err, size_t errlen)
{
	json_t *data = json_object_get(resp, "data"), *d;
	size_t i, got = 0;
	bool *seen;

	if (!json_is_array(data) || json_array_size(data) != n) {
		snprintf(err, errlen, "the reply is not %zu embeddings", n);
		return false;
	}
	seen = xcalloc(n, sizeof *seen);
	*out = NULL;
	json_array_foreach(data, i, d) {
		json_t *emb = json_object_get(d, "embedding"), *x;
		json_int_t idx = json_is_integer(json_object_get(d, "index")) ?
		    json_integer_value(json_object_get(d, "index")) :
		    (json_int_t)i;
		size_t j, m = json_array_size(emb);

		if (!json_is_array(emb) || m == 0 || m > MAX_DIM || idx < 0 ||
		    (size_t)idx >= n || seen[idx] ||
		    (*out && (int)m != *dim)) {
			snprintf(err, errlen, "embedding %zu is malformed", i);
			goto bad;
		}
		if (!*out) {
			*dim = (int)m;
			*out = xcalloc(n * m, sizeof **out);
		}
		json_array_foreach(emb, j, x) {
			double v = json_number_value(x);
			if (!json_is_number(x) || !isfinite(v)) {
				snprintf(err, errlen, "embedding %zu holds a value "
				    "that is not a number", i);
				goto bad;
			}
			(*out)[(size_t)idx * m + j] = (float)v;
		}
		seen[idx] = true;
		normalise(*out + (size_t)idx * m, (int)m);
		got++;
	}
	free(seen);
	return got == n;
bad:
	free(seen);
	free(*out);
	*out = NULL;
	return false;
}

int cp_embed_texts(cp_embed *e, const char *const *texts, size_t n,
    float **out, int *dim)
{
	json_t *body = json_pack("{s:s, s:[]}", "model", e->model, "input");
	json_t *in = json_object_get(body, "input"), *resp = NULL;
	cp_http_req *r = cp_http_req_new("POST", e->url);
	char *text, perr[200], err[400] = "";
	size_t i;
	int rc = 0;

	*out = NULL;
	*dim = 0;
	for (i = 0; i < n; i++)
		json_array_append_new(in, json_string(texts[i]));
	text = cp_json_dumps(body, 0);
	json_decref(body);
	cp_http_req_header(r, "Content-Type: application/json");
	cp_http_req_header(r, "Accept: application/json");
	if (e->key) {
		char *auth = xasprintf("Authorization: Bearer %s", e->key);
		cp_http_req_header(r, auth);
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	cp_http_req_body(r, text, strlen(text));
	free(text);
	r->keep = true;
	if (cp_http_do(e->http, r) != 0) {
		snprintf(err, sizeof err, "%s after %d attempt%s", r->error,
		    r->attempts, r->attempts == 1 ? "" : "s");
		rc = CP_EX_UNAVAILABLE;
	} else if (r->status != 200) {
		snprintf(err, sizeof err, "HTTP %ld after %d attempt%s",
		    r->status, r->attempts, r->attempts == 1 ? "" : "s");
		rc = CP_EX_UNAVAILABLE;
	} else if (!(resp = cp_json_parse(r->resp.buf, r->resp.len, perr,
	    sizeof perr))) {
		snprintf(err, sizeof err, "the reply is not JSON: %s", perr);
		rc = CP_EX_PROTOCOL;
	} else if (!parse_reply(resp, n, out, dim, err, sizeof err)) {
		rc = CP_EX_PROTOCOL;
	}
	if (rc) {
		/* the server's words may echo what we sent: no secrets */
		cp_log_redact(err);
		cp_err("embeddings (%s): %s", e->model, err);
	}
	json_decref(resp);
	cp_http_req_free(r);
	return rc;
}

/* ---- the items in scope ------------------------------------------------- */

/*
 * Each kind's rows in u's scope, as (rid, version), joined to their
 * vector of :model (NULL columns when there is none).  The same scope as
 * search.c's full-text queries.
 */
static char *scope_sql(int kind, const cp_search_opts *o, bool vectors_only)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *join = vectors_only ? "JOIN" : "LEFT JOIN";

	switch (kind) {
	case CP_SK_CARD:
		sb_addf(&sb, "SELECT c.rowid, c.version, v.version, v.dim, v.vec"
		    " FROM cards c %s search_vectors v ON v.kind = 'card'"
		    " AND v.model = :model AND v.rid = c.rowid"
		    " WHERE c.tenant_id = :tenant"
		    " AND c.account_id IN (SELECT account_id FROM temp.scope)",
		    join);
		if (o->account)
			sb_adds(&sb, " AND c.account_id = :account");
		if (*o->since)
			sb_adds(&sb, " AND c.created_at >= :since");
		break;
	case CP_SK_SIGNAL:
		sb_addf(&sb, "SELECT s.seq, 1, v.version, v.dim, v.vec"
		    " FROM signals s %s search_vectors v ON v.kind = 'signal'"
		    " AND v.model = :model AND v.rid = s.seq"
		    " WHERE s.tenant_id = :tenant AND json_valid(s.account_ids)"
		    " AND (EXISTS (SELECT 1 FROM json_each(s.account_ids) j"
		    "  WHERE j.value IN (SELECT account_id FROM temp.scope))"
		    "  OR (:admin AND json_array_length(s.account_ids) = 0))",
		    join);
		if (o->account)
			sb_adds(&sb, " AND EXISTS (SELECT 1 FROM"
			    " json_each(s.account_ids) j WHERE j.value = :account)");
		if (*o->since)
			sb_adds(&sb, " AND s.published_at >= :since");
		break;
	default:
		sb_addf(&sb, "SELECT a.seq, a.version, v.version, v.dim, v.vec"
		    " FROM assets a %s search_vectors v ON v.kind = 'asset'"
		    " AND v.model = :model AND v.rid = a.seq"
		    " WHERE a.tenant_id = :tenant", join);
		if (*o->since)
			sb_adds(&sb, " AND a.updated_at >= :since");
		break;
	}
	return sb_detach(&sb);
}

static sqlite3_stmt *scope_stmt(sqlite3 *db, const cp_user *u,
    const char *model, int kind, const cp_search_opts *o, bool vectors_only)
{
	char *sql = scope_sql(kind, o, vectors_only);
	sqlite3_stmt *st = cp_db_prepare(db, sql);
	int i;

	free(sql);
	if ((i = sqlite3_bind_parameter_index(st, ":model")))
		cp_db_bind_text(st, i, model);
	if ((i = sqlite3_bind_parameter_index(st, ":tenant")))
		sqlite3_bind_int64(st, i, u->tenant_id);
	if ((i = sqlite3_bind_parameter_index(st, ":admin")))
		sqlite3_bind_int(st, i, u->role == CP_ROLE_ADMIN);
	if ((i = sqlite3_bind_parameter_index(st, ":account")))
		cp_db_bind_text(st, i, o->account);
	if ((i = sqlite3_bind_parameter_index(st, ":since")))
		cp_db_bind_text(st, i, o->since);
	return st;
}

static bool kind_wanted(const cp_search_opts *o, int kind)
{
	if (!((o->kinds ? o->kinds : CP_SK_ALL) & kind))
		return false;
	return !(kind == CP_SK_ASSET && o->account);
}

struct todo {
	int kind;
	int64_t rid, version;
};

static int stored_dim(sqlite3 *db, const char *model)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT dim FROM search_vectors"
	    " WHERE model = ? LIMIT 1");
	int dim = 0;

	cp_db_bind_text(st, 1, model);
	if (sqlite3_step(st) == SQLITE_ROW)
		dim = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return dim;
}

static int store_batch(sqlite3 *db, const cp_user *u, const char *model,
    const struct todo *t, size_t n, const float *vecs, int dim)
{
	sqlite3_stmt *st;
	unsigned char *blob = xmalloc((size_t)dim * 4);
	size_t i;
	int rc;

	if ((rc = cp_db_begin(db))) {
		free(blob);
		return rc;
	}
	st = cp_db_prepare(db, "INSERT OR REPLACE INTO search_vectors(kind,"
	    " rid, model, tenant_id, version, dim, vec)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	for (i = 0; i < n && !rc; i++) {
		cp_vec_pack(vecs + i * (size_t)dim, dim, blob);
		cp_db_bind_text(st, 1, cp_search_kind_name(t[i].kind));
		sqlite3_bind_int64(st, 2, t[i].rid);
		cp_db_bind_text(st, 3, model);
		sqlite3_bind_int64(st, 4, u->tenant_id);
		sqlite3_bind_int64(st, 5, t[i].version);
		sqlite3_bind_int(st, 6, dim);
		sqlite3_bind_blob(st, 7, blob, dim * 4, SQLITE_TRANSIENT);
		rc = cp_db_step_done(db, st);
	}
	sqlite3_finalize(st);
	free(blob);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

static int embed_batch(sqlite3 *db, const cp_user *u, cp_embed *e,
    const struct todo *t, size_t n, int *dim_seen)
{
	char **texts = xcalloc(n, sizeof *texts);
	float *vecs = NULL;
	size_t i;
	int dim = 0, rc;

	for (i = 0; i < n; i++) {
		texts[i] = cp_search_item_text(db, t[i].kind, t[i].rid,
		    e->max_chars);
		if (!texts[i])
			texts[i] = xstrdup("");
	}
	rc = cp_embed_texts(e, (const char *const *)texts, n, &vecs, &dim);
	if (!rc && *dim_seen && dim != *dim_seen) {
		cp_err("embeddings (%s): %d dimensions, the stored vectors have "
		    "%d (cp-search --reindex --semantic embeds everything again)",
		    e->model, dim, *dim_seen);
		rc = CP_EX_PROTOCOL;
	}
	if (!rc) {
		*dim_seen = dim;
		rc = store_batch(db, u, e->model, t, n, vecs, dim);
	}
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(vecs);
	return rc;
}

int cp_embed_sync(sqlite3 *db, const cp_user *u, cp_embed *e,
    const cp_search_opts *o)
{
	static const int kinds[] = { CP_SK_CARD, CP_SK_SIGNAL, CP_SK_ASSET };
	struct todo *t = NULL;
	size_t n = 0, cap = 0, i;
	int k, rc = 0, dim = stored_dim(db, e->model);

	for (k = 0; k < 3; k++) {
		sqlite3_stmt *st;

		if (!kind_wanted(o, kinds[k]))
			continue;
		st = scope_stmt(db, u, e->model, kinds[k], o, false);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
			    sqlite3_column_int64(st, 2) ==
			    sqlite3_column_int64(st, 1))
				continue;     /* up to date */
			if (n == cap)
				t = xrealloc(t, (cap = cap ? cap * 2 : 256) *
				    sizeof *t);
			t[n].kind = kinds[k];
			t[n].rid = sqlite3_column_int64(st, 0);
			t[n].version = sqlite3_column_int64(st, 1);
			n++;
		}
		sqlite3_finalize(st);
	}
	if (n)
		cp_info("embedding %zu items with %s", n, e->model);
	for (i = 0; i < n && !rc; i += (size_t)e->batch) {
		size_t m = n - i < (size_t)e->batch ? n - i : (size_t)e->batch;
		rc = embed_batch(db, u, e, t + i, m, &dim);
	}
	free(t);
	return rc;
}

/* ---- ranking ----------------------------------------------------------- */

/* The first words of an item's body (after its title), as a snippet:
 * a semantic match has no matched words to show around. */
static char *lead_of(sqlite3 *db, int kind, int64_t rid)
{
	char *t = cp_search_item_text(db, kind, rid, 400), *nl, *s, *p;
	int words = 0;

	if (!t)
		return NULL;
	nl = strchr(t, '\n');
	s = nl ? nl + 1 : t;
	for (p = s; *p; p++) {
		if ((*p == ' ' || *p == '\n') && ++words == 24) {
			*p = '\0';
			s = xasprintf("%s\xE2\x80\xA6", s);
			free(t);
			return s;
		}
	}
	s = xstrdup(s);
	free(t);
	return s;
}

int cp_semantic_rank(sqlite3 *db, const cp_user *u, const char *model,
    const float *q, int dim, const cp_search_opts *o, cp_hits *out)
{
	static const int kinds[] = { CP_SK_CARD, CP_SK_SIGNAL, CP_SK_ASSET };
	cp_hits all = { NULL, 0, 0 };
	float *v = xcalloc((size_t)dim, sizeof *v);
	double sim, min_sim = cp_conf_double("search.min_similarity", NULL, 0);
	size_t i;
	int k;

	for (k = 0; k < 3; k++) {
		sqlite3_stmt *st;

		if (!kind_wanted(o, kinds[k]))
			continue;
		st = scope_stmt(db, u, model, kinds[k], o, true);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (sqlite3_column_int(st, 3) != dim ||
			    sqlite3_column_bytes(st, 4) != dim * 4)
				continue;     /* another model's shape */
			cp_vec_unpack(sqlite3_column_blob(st, 4), dim, v);
			sim = cp_cosine(q, v, dim);
			/* nothing in common is no result */
			if (sim <= min_sim)
				continue;
			if (all.n == all.cap)
				all.v = xrealloc(all.v, (all.cap = all.cap ?
				    all.cap * 2 : 256) * sizeof *all.v);
			memset(&all.v[all.n], 0, sizeof *all.v);
			all.v[all.n].kind = kinds[k];
			all.v[all.n].rid = sqlite3_column_int64(st, 0);
			all.v[all.n].version = sqlite3_column_int64(st, 1);
			all.v[all.n].score = sim;
			all.n++;
		}
		sqlite3_finalize(st);
	}
	free(v);
	cp_hits_sort(&all);
	for (i = 0; i < all.n; i++) {
		/* the best o->limit of each kind (all is sorted by kind) */
		if (i >= (size_t)o->limit &&
		    all.v[i - (size_t)o->limit].kind == all.v[i].kind)
			continue;
		if (out->n == out->cap)
			out->v = xrealloc(out->v, (out->cap = out->cap ?
			    out->cap * 2 : 32) * sizeof *out->v);
		out->v[out->n] = all.v[i];
		out->v[out->n].snippet = lead_of(db, all.v[i].kind,
		    all.v[i].rid);
		out->n++;
	}
	cp_hits_free(&all);
	return 0;
}
