/*
 * cp-dedupe — signals in, new signals out: repeats of one story (the same
 * text, a near copy, or the same event told in other words) are folded
 * into a cluster in the state file and, unless --emit-updates, not passed
 * on.
 *
 * Crash safety: records are decided and stored in batches, one
 * transaction each, and a batch's output is written only after its
 * transaction commits, so a signal is never passed downstream without its
 * state; after a crash the uncommitted batch is simply decided again.
 *
 * Two threads: this one reads, checks and prepares each record (the
 * JSON, the MinHash signature, the event keys), the other owns the state
 * file (decisions, writes, commits, output), with a short queue between.
 * Only the reading thread rejects lines; only the other writes stdout.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "dedupe.h"
#include "entities.h"
#include "exitcode.h"
#include "json.h"
#include "jscan.h"
#include "lang.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "rbac.h"
#include "record.h"
#include "strbuf.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-dedupe [--threshold J] [--window DURATION] [--shingle N]\n"
	"                 [--emit-updates] [--explain] [--batch N]\n"
	"                 [--surge-min N] [--surge-window DURATION] [--db FILE]\n"
	"                 [--reject FILE] [--max-line BYTES] [--unbuffered]\n"
	"                 [-q] [-v] [FILE...]\n"
	"Fold repeated stories into clusters; pass new signals on.\n"
	"See cp-dedupe(1).\n";

enum { OPT_THRESHOLD = CP_OPT_LOCAL, OPT_WINDOW, OPT_SHINGLE, OPT_UPDATES,
       OPT_EXPLAIN, OPT_BATCH, OPT_SURGE_MIN, OPT_SURGE_WINDOW };

static const struct option longopts[] = {
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "shingle", required_argument, NULL, OPT_SHINGLE },
	{ "emit-updates", no_argument, NULL, OPT_UPDATES },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "surge-min", required_argument, NULL, OPT_SURGE_MIN },
	{ "surge-window", required_argument, NULL, OPT_SURGE_WINDOW },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* One record on its way from the reading thread to the state thread. */
typedef struct item {
	cp_dedupe_prep *prep;       /* NULL: the end of the input */
	int64_t tenant_id;
	char *line;                 /* the line as it came, for the output */
	size_t len;
	int spliceable;             /* no cluster fields in it already */
	int pause;                  /* with no prep: the input paused */
} item;

/* The queue between the threads: long enough to keep the reading thread
 * busy while the state thread commits a batch (a few tens of ms: some
 * hundreds of records), bounded by the bytes of its lines too, since a
 * record in the queue takes about three times its line in memory. */
#define QUEUE 1024
#define QUEUE_BYTES (1u << 20)
#define DEAD 64

typedef struct state {
	sqlite3 *db;
	cp_dedupe *dd;
	cp_dedupe_opts o;
	int updates;
	long batch, inbatch;
	strbuf out;                 /* the batch's output, held until commit */
	struct { char *name; int64_t id; } *tenants;
	size_t ntenants;
	unsigned long nnew, nupd, nseen;
	/* the queue between the threads */
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	item q[QUEUE];
	size_t head, count, bytes;
	/* items decided, handed back to be freed by the reading thread that
	 * allocated them (a free in the state thread is time taken from
	 * the busier thread, and glibc frees another thread's memory under
	 * that thread's arena lock) */
	item dead[DEAD];
	size_t ndead;
	int failed;                 /* the state thread stopped: its status */
	double waited_state, waited_read;  /* seconds each waited on the other */
} state;

static int64_t tenant_id(const state *s, const char *name)
{
	size_t i;
	for (i = 0; name && i < s->ntenants; i++)
		if (!strcmp(s->tenants[i].name, name))
			return s->tenants[i].id;
	return 0;
}

static int load_tenants(state *s)
{
	sqlite3_stmt *st = cp_db_prepare(s->db, "SELECT id, name FROM tenants");
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s->tenants = xrealloc(s->tenants, (s->ntenants + 1) *
		    sizeof *s->tenants);
		s->tenants[s->ntenants].id = sqlite3_column_int64(st, 0);
		s->tenants[s->ntenants].name = xstrdup(cp_db_col_text(st, 1));
		s->ntenants++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(s->db, "read tenants");
}

/* The record with cluster fields added: usually the line as it came with
 * the fields spliced in before its closing brace, so every byte of the
 * signal passes through unchanged; re-serialised when a field must be
 * replaced or a theme added. */
static void render(state *s, const item *it, const cp_dedupe_result *r)
{
	size_t n = it->len;
	json_t *copy;

	if (!r->surge && it->spliceable) {
		while (n && it->line[n - 1] != '}')
			n--;
		if (n) {
			sb_add(&s->out, it->line, n - 1);
			sb_addf(&s->out, ",\"cluster_id\":\"%s\",\"corroborations\":%ld",
			    r->cluster_id, r->corroborations);
			if (!r->is_new)
				sb_addf(&s->out, ",\"duplicate_of\":\"%s\"",
				    r->duplicate_of);
			sb_adds(&s->out, "}\n");
			return;
		}
	}
	/* the full record, chunks and all, for a rewrite */
	if (!(copy = cp_json_parse(it->line, it->len, NULL, 0)))
		return;
	if (r->surge) {
		json_t *th = json_object_get(copy, "themes");
		if (!json_is_array(th)) {
			th = json_array();
			json_object_set_new(copy, "themes", th);
		}
		json_array_append(th, r->surge);
	}
	json_object_set_new(copy, "cluster_id", json_string(r->cluster_id));
	json_object_set_new(copy, "corroborations",
	    json_integer(r->corroborations));
	if (!r->is_new)
		json_object_set_new(copy, "duplicate_of",
		    json_string(r->duplicate_of));
	else
		json_object_del(copy, "duplicate_of");
	cp_json_dump(&s->out, copy, 0);
	sb_addc(&s->out, '\n');
	json_decref(copy);
}

/* Commit the batch, then let its records go. */
static int flush(state *s)
{
	int rc;

	if (!s->inbatch)
		return 0;
	if ((rc = cp_db_commit(s->db)))
		return rc;
	s->inbatch = 0;
	if (s->out.len) {
		/* cp_emit_raw adds the newline: one call per line */
		char *p = s->out.buf, *e;
		while ((e = strchr(p, '\n')) != NULL) {
			cp_emit_raw(p, (size_t)(e - p));
			p = e + 1;
		}
		sb_reset(&s->out);
	}
	return 0;
}

static int decide(state *s, item *it)
{
	cp_dedupe_result r;
	int rc;

	if (!s->inbatch && (rc = cp_db_begin(s->db)))
		return rc;
	s->inbatch++;
	/* any error here ends the run and the batch is rolled back whole;
	 * records to refuse were refused before they were queued */
	if ((rc = cp_dedupe_apply(s->dd, it->tenant_id, it->prep, &r))) {
		json_decref(r.surge);
		return rc;
	}
	if (r.seen)
		s->nseen++;
	else if (r.is_new)
		s->nnew++;
	else
		s->nupd++;
	if (!r.seen && (r.is_new || s->updates))
		render(s, it, &r);
	json_decref(r.surge);
	/* a batch ends at its count or when its held output reaches 8 MiB,
	 * so memory stays bounded whatever the size of the records */
	if (s->inbatch >= s->batch || s->out.len >= (8u << 20))
		return flush(s);
	return 0;
}

/* The state thread: decide, store, commit, emit. */
static void *worker(void *arg)
{
	state *s = arg;
	int rc = 0;

#ifdef __linux__
	/* a name for top(1) and perf: this thread is the state file's */
	prctl(PR_SET_NAME, "cp-dedupe-db", 0, 0, 0);
#endif

	item done;

	memset(&done, 0, sizeof done);
	for (;;) {
		item it;
		pthread_mutex_lock(&s->mu);
		if (done.prep && s->ndead < DEAD) {
			s->dead[s->ndead++] = done;
			done.prep = NULL;
		}
		if (!s->count) {
			double t0 = cp_monotonic();
			while (!s->count)
				pthread_cond_wait(&s->nonempty, &s->mu);
			s->waited_state += cp_monotonic() - t0;
		}
		it = s->q[s->head];
		s->head = (s->head + 1) % QUEUE;
		s->count--;
		s->bytes -= it.len;
		pthread_cond_signal(&s->nonfull);
		pthread_mutex_unlock(&s->mu);
		if (done.prep) {
			cp_dedupe_prep_free(done.prep);
			free(done.line);
			done.prep = NULL;
		}
		if (!it.prep && it.pause) {
			/* the reader waits for more input: never hold the
			 * write lock (and the batch's records) meanwhile, or
			 * a stage downstream waits on us while we wait on
			 * the stage upstream */
			if (!rc && (rc = flush(s))) {
				pthread_mutex_lock(&s->mu);
				s->failed = rc;
				pthread_mutex_unlock(&s->mu);
			}
			fflush(stdout);
			continue;
		}
		if (!it.prep)
			break;
		if (!rc && (rc = decide(s, &it))) {
			pthread_mutex_lock(&s->mu);
			s->failed = rc;
			pthread_mutex_unlock(&s->mu);
		}
		done = it;
	}
	if (!rc)
		rc = flush(s);
	else if (s->inbatch)
		cp_db_rollback(s->db);
	{
		struct timespec ts;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		cp_debug("state thread: %.3f s CPU, %.3f s waiting for records",
		    ts.tv_sec + ts.tv_nsec / 1e9, s->waited_state);
	}
	return (void *)(intptr_t)rc;
}

/* Free what the state thread handed back. */
static void bury(item *dead, size_t n)
{
	while (n--) {
		cp_dedupe_prep_free(dead[n].prep);
		free(dead[n].line);
	}
}

/* No room for it in the queue (one record always fits). */
static int full(const state *s, const item *it)
{
	return s->count == QUEUE || (s->count &&
	    s->bytes + it->len > QUEUE_BYTES);
}

static int push(state *s, item *it)
{
	item dead[DEAD];
	size_t ndead;
	int failed;

	pthread_mutex_lock(&s->mu);
	if (full(s, it)) {
		double t0 = cp_monotonic();
		while (full(s, it))
			pthread_cond_wait(&s->nonfull, &s->mu);
		s->waited_read += cp_monotonic() - t0;
	}
	s->q[(s->head + s->count) % QUEUE] = *it;
	s->count++;
	s->bytes += it->len;
	failed = s->failed;
	ndead = s->ndead;
	memcpy(dead, s->dead, ndead * sizeof *dead);
	s->ndead = 0;
	pthread_cond_signal(&s->nonempty);
	pthread_mutex_unlock(&s->mu);
	bury(dead, ndead);
	return failed;
}

/* The reading thread is about to wait on an empty pipe: tell the state
 * thread to commit and pass on what it holds (ndjson.h, idle). */
static state *idle_state;

static int input_paused(void)
{
	item mark;

	memset(&mark, 0, sizeof mark);
	mark.pause = 1;
	return push(idle_state, &mark);
}

/*
 * The reading thread.  Records here are mostly text and chunks: decoding
 * every line whole would cost more than everything else cp-dedupe does.
 * The line is checked against the JSON grammar in one pass and only its
 * other members are decoded; then everything that needs no state file
 * (signature, keys) is computed here while the other thread works.
 */
static int one_raw(const cp_line *ln, void *arg)
{
	state *s = arg;
	/* the chunks are never decoded: only the line goes on */
	cp_jkeep keep[] = { { "chunks", 0, 0, NULL, 0 } };
	char err[256];
	json_t *rec;
	int rc = 0;
	item it;

	if (!(rec = cp_jscan_decode(ln->text, ln->len, keep, 1, err,
	    sizeof err))) {
		if (!strcmp(err, "not a JSON object"))
			cp_reject(ln, "%s", err);
		else
			cp_reject(ln, "invalid JSON: %s", err);
		return 0;
	}
	memset(&it, 0, sizeof it);
	if (!cp_record_check(rec, CP_REC_SIGNAL, err, sizeof err))
		cp_reject(ln, "%s", err);
	else if (!(it.tenant_id = tenant_id(s, cp_json_str(rec, "tenant"))))
		cp_reject(ln, "unknown tenant \"%s\"", cp_json_str(rec, "tenant"));
	else if (!(it.prep = cp_dedupe_prepare(&s->o, rec, err, sizeof err)))
		cp_reject(ln, "%s", err);
	if (it.prep) {
		it.line = xstrndup(ln->text, ln->len);
		it.len = ln->len;
		it.spliceable = !json_object_get(rec, "cluster_id") &&
		    !json_object_get(rec, "corroborations") &&
		    !json_object_get(rec, "duplicate_of");
		rc = push(s, &it);
	}
	json_decref(rec);
	return rc;
}

static double fraction(const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (*end || end == arg || v <= 0 || v > 1)
		cp_usage_error(usage, "%s: expected a number above 0, at most 1",
		    opt);
	return v;
}

static long count(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || v < lo || v > hi)
		cp_usage_error(usage, "%s: expected a number from %ld to %ld", opt,
		    lo, hi);
	return v;
}

static long duration(const char *opt, const char *arg)
{
	long v;
	if (!cp_duration_parse(arg, &v) || v <= 0)
		cp_usage_error(usage, "%s: expected a duration like 7d, 48h", opt);
	return v;
}

int main(int argc, char **argv)
{
	state s;
	int c, rc, wrc;
	pthread_t th;
	void *ret;
	item end;
	cp_ckpt *ck = NULL;

	memset(&s, 0, sizeof s);
	cp_dedupe_defaults(&s.o);
	s.batch = 2000;
	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_THRESHOLD:
			s.o.threshold = fraction("--threshold", optarg);
			break;
		case OPT_WINDOW: s.o.window = duration("--window", optarg); break;
		case OPT_SHINGLE:
			s.o.shingle = (int)count("--shingle", optarg, 1, 16);
			break;
		case OPT_UPDATES: s.updates = 1; break;
		case OPT_EXPLAIN: s.o.explain = 1; break;
		case OPT_BATCH:
			s.batch = count("--batch", optarg, 1, 1000000);
			break;
		case OPT_SURGE_MIN:
			s.o.surge_min = (int)count("--surge-min", optarg, 0, 100000);
			break;
		case OPT_SURGE_WINDOW:
			s.o.surge_window = duration("--surge-window", optarg);
			break;
		}
	}
	if ((rc = cp_cli_ready()))
		return rc;
	/* a live stream: every record is committed and passed on at once */
	if (cp_ndjson.unbuffered)
		s.batch = 1;
	/* one connection, used by one thread at a time: no mutexes */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	/* no global allocation statistics: a mutex taken on every malloc */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((rc = cp_db_open(cp_cli.db, 0, &s.db)))
		return cp_ndjson_status(rc);
	/* a page cache of 4 MiB: measured with 1,000 to 1,000,000
	 * fingerprints stored, 2 to 32 MiB made no difference to the speed
	 * (the pages a batch touches are read back from the kernel's cache
	 * cheaply), while the memory is better spent on the window (37 MiB
	 * for a million signals published within a year) */
	cp_db_exec(s.db, "PRAGMA cache_size = -4096");
	/* checkpoints beside the state thread, not in it (ckpt.h), and
	 * rarely, so a hot index page is copied into the file once per
	 * several batches rather than once per batch: 10,000 pages, a WAL
	 * of some 40 MB */
	ck = cp_ckpt_start(s.db, (int)cp_conf_long("dedupe.checkpoint", NULL,
	    10000));
	if ((rc = load_tenants(&s)))
		goto out;
	cp_dedupe_open(s.db, &s.o, &s.dd);
	cp_entities_init();
	json_object_seed(0);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.nonempty, NULL);
	pthread_cond_init(&s.nonfull, NULL);
	if (pthread_create(&th, NULL, worker, &s)) {
		cp_err("cannot start a thread");
		rc = CP_EX_OSERR;
		goto out;
	}
	idle_state = &s;
	cp_ndjson.idle = input_paused;
	rc = cp_ndjson_inputs_raw(argc - optind, argv + optind, one_raw, &s);
	{
		struct timespec ts;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		cp_debug("reading thread: %.3f s CPU, %.3f s waiting for room",
		    ts.tv_sec + ts.tv_nsec / 1e9, s.waited_read);
	}
	memset(&end, 0, sizeof end);
	push(&s, &end);
	pthread_join(th, &ret);
	bury(s.dead, s.ndead);
	wrc = (int)(intptr_t)ret;
	if (wrc)
		rc = wrc;
	cp_info("%lu new, %lu corroborating, %lu already seen", s.nnew, s.nupd,
	    s.nseen);
out:
	cp_ckpt_stop(ck);
	sb_free(&s.out);
	cp_dedupe_close(s.dd);
	cp_db_close(s.db);
	while (s.ntenants)
		free(s.tenants[--s.ntenants].name);
	free(s.tenants);
	cp_entities_cleanup();
	return cp_ndjson_status(rc);
}
