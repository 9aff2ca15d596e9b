#include <pthread.h>
#include <stdlib.h>

#include "ckpt.h"
#include "mem.h"

struct cp_ckpt {
	sqlite3 *db;             /* the writer's */
	sqlite3 *own;            /* this thread's */
	int pages;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	int busy;                /* a copy is asked for or under way */
	int stop;
};

static void *copier(void *arg)
{
	cp_ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->busy && !c->stop)
			pthread_cond_wait(&c->wake, &c->mu);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		/* a failure (another process checkpointing, a reader holding
		 * old frames) only leaves the WAL longer: the writer's own
		 * copy at twice the mark still bounds it */
		sqlite3_wal_checkpoint_v2(c->own, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->busy = 0;
		pthread_cond_signal(&c->done);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/*
 * After every commit of the writer, in its thread; n: pages in the WAL.
 * From the mark on, the thread copies; from twice the mark the writer
 * copies the rest when the thread is idle, and from four times it waits
 * for the thread to finish first (commits come faster than copies: a
 * stream of single records), so the WAL stays bounded either way.
 */
static int committed(void *arg, sqlite3 *db, const char *name, int n)
{
	cp_ckpt *c = arg;
	int self = 0;

	if (n < c->pages)
		return SQLITE_OK;
	pthread_mutex_lock(&c->mu);
	if (n >= 4 * c->pages)
		while (c->busy)
			pthread_cond_wait(&c->done, &c->mu);
	if (!c->busy) {
		if (n < 2 * c->pages) {
			c->busy = 1;
			pthread_cond_signal(&c->wake);
		} else {
			self = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (self)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

cp_ckpt *cp_ckpt_start(sqlite3 *db, int pages)
{
	cp_ckpt *c = xcalloc(1, sizeof *c);
	const char *path = sqlite3_db_filename(db, "main");

	c->db = db;
	c->pages = pages > 0 ? pages : 1;
	if (!path || !*path || sqlite3_open_v2(path, &c->own,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->own, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->done, NULL);
	if (pthread_create(&c->th, NULL, copier, c)) {
		pthread_cond_destroy(&c->wake);
		pthread_cond_destroy(&c->done);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	sqlite3_wal_hook(db, committed, c);
	return c;
fail:
	sqlite3_close(c->own);
	free(c);
	sqlite3_wal_autocheckpoint(db, pages);
	return NULL;
}

void cp_ckpt_stop(cp_ckpt *c)
{
	if (!c)
		return;
	/* the writer's own again, as cp_ckpt_start found it */
	sqlite3_wal_autocheckpoint(c->db, c->pages);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->own);
	free(c);
}
