/*
 * replay.c — stored documents through the pipeline again (replay.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "replay.h"

void cp_run_stage(cp_stage *s, const char *name, const cp_runopts *o)
{
	size_t nl = strlen(name);
	int i;

	cp_stage_init(s, name);
	cp_stage_arg(s, "--db");
	cp_stage_arg(s, o->db_path);
	if (o->tenant) {
		cp_stage_arg(s, "--tenant");
		cp_stage_arg(s, o->tenant);
	}
	if (o->as) {
		cp_stage_arg(s, "--as");
		cp_stage_arg(s, o->as);
	}
	if (o->config) {
		cp_stage_arg(s, "--config");
		cp_stage_arg(s, o->config);
	}
	/* the NDJSON readers flush per record; cp-fetch writes per document
	 * anyway once a response is parsed */
	if (o->unbuffered && strcmp(name, "fetch") && strcmp(name, "push"))
		cp_stage_arg(s, "--unbuffered");
	for (i = 0; i < o->nstage_args; i++) {
		const char *a = o->stage_args[i];
		if (!strncmp(a, name, nl) && a[nl] == '=')
			if (!cp_stage_arg(s, a + nl + 1))
				cp_warn("stage %s: too many arguments; '%s' "
				    "ignored", name, a + nl + 1);
	}
}

bool cp_write_line(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t k = write(fd, text, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		text += k;
		len -= (size_t)k;
	}
	return write(fd, "\n", 1) == 1;
}

bool cp_replay_ok(const cp_replay *r)
{
	int i;

	/* 65: some records rejected, the rest carried: a record no stage
	 * accepts is for cp-reconcile to report, not a reason to replay
	 * everything again */
	for (i = 0; i < r->nst; i++)
		if (r->st[i].status && r->st[i].status != CP_EX_DATAERR)
			return false;
	return true;
}

void cp_replay_free(cp_replay *r)
{
	int i;

	for (i = 0; i < r->nst; i++)
		cp_stage_free(&r->st[i]);
	r->nst = 0;
}

/* The signal as cp-dedupe emitted it when it started its story. */
static char *as_lead(const char *line, size_t len, const char *cluster,
    const char *themes)
{
	json_t *sig = cp_json_parse(line, len, NULL, 0);
	json_t *th = cp_json_parse(themes, strlen(themes), NULL, 0);
	char *out = NULL;

	if (json_is_object(sig)) {
		if (json_is_array(th))
			json_object_set(sig, "themes", th);
		json_object_set_new(sig, "cluster_id", json_string(cluster));
		json_object_set_new(sig, "corroborations", json_integer(0));
		json_object_del(sig, "duplicate_of");
		out = cp_json_dumps(sig, 0);
	}
	json_decref(sig);
	json_decref(th);
	return out;
}

/* Where one extracted signal goes: 0 fresh, 1 lead (*text set), 2 folded,
 * 3 unreadable (left to cp-dedupe, which rejects it with a message). */
static int classify(sqlite3_stmt *st, int64_t tenant_id, const char *line,
    size_t len, char **text)
{
	json_t *sig = cp_json_parse(line, len, NULL, 0);
	const char *id = cp_json_str(sig, "id");
	int kind = 3, rc;

	*text = NULL;
	if (id) {
		sqlite3_bind_int64(st, 1, tenant_id);
		cp_db_bind_text(st, 2, id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			kind = 0;
		else if (rc == SQLITE_ROW && sqlite3_column_int(st, 2)) {
			*text = as_lead(line, len, cp_db_col_text(st, 0),
			    cp_db_col_text(st, 1));
			kind = *text ? 1 : 3;
		} else if (rc == SQLITE_ROW)
			kind = 2;
		sqlite3_reset(st);
	}
	json_decref(sig);
	return kind;
}

/* Split cp-extract's output (in xfd) into fresh signals and leads. */
static int split(sqlite3 *db, int64_t tenant_id, int xfd, int afd, int bfd,
    cp_replay *r)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT s.cluster_id, s.themes,"
	    " c.lead_signal_id IS s.id FROM signals s LEFT JOIN clusters c"
	    " ON c.tenant_id = s.tenant_id AND c.id = s.cluster_id"
	    " WHERE s.tenant_id = ?1 AND s.id = ?2");
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0, dfd = dup(xfd);

	lseek(xfd, 0, SEEK_SET);
	if (dfd < 0 || !(fp = fdopen(dfd, "r"))) {
		cp_err("replay: %s", strerror(errno));
		sqlite3_finalize(st);
		if (dfd >= 0)
			close(dfd);
		return CP_EX_OSERR;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		char *text;
		size_t len = (size_t)n;
		bool ok = true;
		int kind;

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (!len)
			continue;
		kind = classify(st, tenant_id, line, len, &text);
		if (kind == 1) {
			r->leads++;
			ok = cp_write_line(bfd, text, strlen(text));
			free(text);
		} else if (kind == 2) {
			r->folded++;
		} else {
			r->fresh++;
			ok = cp_write_line(afd, line, len);
		}
		if (!ok) {
			cp_err("replay: temporary file: %s", strerror(errno));
			rc = CP_EX_IOERR;
			break;
		}
	}
	free(line);
	fclose(fp);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Run one stage alone, reading in_fd from its start and writing out_fd
 * (-1: counted and dropped).  A replay runs its stages one after the
 * other through files, not as a live pipeline: it is rare, it reads
 * everything at once, and a stage alone can never wait for a lock that
 * the next stage holds while that one waits for its output.
 */
static int run_one(cp_replay *r, const char *name, int in_fd, long in,
    int out_fd, const cp_runopts *o)
{
	cp_stage *st = &r->st[r->nst];
	int rc;

	if (r->nst >= CP_REPLAY_MAXSTAGES)
		return CP_EX_SOFTWARE;
	cp_run_stage(st, name, o);
	r->nst++;
	lseek(in_fd, 0, SEEK_SET);
	if (out_fd >= 0 && (ftruncate(out_fd, 0) < 0 ||
	    lseek(out_fd, 0, SEEK_SET) < 0)) {
		cp_err("replay: temporary file: %s", strerror(errno));
		return CP_EX_IOERR;
	}
	rc = cp_pipeline_run(st, 1, in_fd, out_fd, o->keep_fd);
	st->in = in;
	return rc;
}

/* names[] one after the other, from in_fd, through two scratch files. */
static int run_chain(cp_replay *r, const char *const *names, int n,
    int in_fd, long in, int tmp[2], const cp_runopts *o)
{
	int i, rc = 0, src = in_fd;

	for (i = 0; i < n && !rc; i++) {
		int dst = i == n - 1 ? -1 : tmp[i % 2];
		rc = run_one(r, names[i], src, in, dst, o);
		in = r->st[r->nst - 1].out;
		src = dst;
		/* a stage that could not run at all ends the chain */
		if (r->st[r->nst - 1].status == 127)
			break;
	}
	return rc;
}

int cp_replay_docs(sqlite3 *db, int64_t tenant_id, int docs_fd, long ndocs,
    const cp_runopts *o, cp_replay *r)
{
	static const char *const lead[] = { "score", "card" };
	static const char *const fresh[] = { "dedupe", "score", "card" };
	int xfd = -1, afd = -1, bfd = -1, tmp[2] = { -1, -1 }, rc;

	memset(r, 0, sizeof *r);
	r->docs = ndocs;
	if (ndocs <= 0)
		return 0;
	if ((xfd = cp_tempfd()) < 0 || (afd = cp_tempfd()) < 0 ||
	    (bfd = cp_tempfd()) < 0 || (tmp[0] = cp_tempfd()) < 0 ||
	    (tmp[1] = cp_tempfd()) < 0) {
		rc = CP_EX_CANTCREAT;
		goto out;
	}
	if ((rc = run_one(r, "extract", docs_fd, ndocs, xfd, o)))
		goto out;
	/* what cp-extract wrote is good whatever became of the rest */
	if (r->st[0].status == 127)
		goto out;
	if ((rc = split(db, tenant_id, xfd, afd, bfd, r)))
		goto out;
	/* the leads first: they were decided before anything still fresh */
	if (r->leads && (rc = run_chain(r, lead, 2, bfd, r->leads, tmp, o)))
		goto out;
	if (r->fresh)
		rc = run_chain(r, fresh, 3, afd, r->fresh, tmp, o);
out:
	if (xfd >= 0)
		close(xfd);
	if (afd >= 0)
		close(afd);
	if (bfd >= 0)
		close(bfd);
	if (tmp[0] >= 0)
		close(tmp[0]);
	if (tmp[1] >= 0)
		close(tmp[1]);
	return rc;
}
