/*
 * ckpt.h — WAL checkpoints in a thread of their own, for a writer that
 * commits big batches (cp-dedupe).
 *
 * In WAL mode every committed page is written twice: appended to the
 * WAL by the commit, and later copied into the database file by a
 * checkpoint.  SQLite runs the checkpoint in the thread that commits, so
 * the writer stops for the copy and its two fsyncs.  cp_ckpt_start hands
 * the copy to a second connection in a thread of its own, woken whenever
 * a commit leaves the WAL at `pages` pages or more; its checkpoints are
 * PASSIVE, so the writer goes on appending meanwhile.
 *
 * The WAL starts over (rewinds instead of growing) only when a write
 * transaction begins with every frame copied, which a copy running beside
 * the writer never quite achieves.  So when the WAL reaches twice the
 * mark and the thread is idle, the commit copies what is left itself
 * (about the last batch; the rest was copied beside it) and the next
 * transaction rewinds the WAL; at four times the mark (commits coming
 * faster than copies) the commit first waits for the thread.  On disk
 * the WAL stays under four times the mark and a batch.
 *
 * Not for a connection another thread uses; the writer calls nothing
 * between start and stop.
 */
#ifndef CP_CKPT_H
#define CP_CKPT_H

#include <sqlite3.h>

typedef struct cp_ckpt cp_ckpt;

/* Take over db's checkpoints at the mark (pages of the WAL).  NULL when
 * the second connection or the thread cannot be had: db then keeps
 * SQLite's automatic checkpoints at the same mark. */
cp_ckpt *cp_ckpt_start(sqlite3 *db, int pages);
/* After the writer's last commit: wait for a copy under way, stop the
 * thread, close its connection (db closing checkpoints the rest). */
void cp_ckpt_stop(cp_ckpt *c);

#endif
