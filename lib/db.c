#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "data.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"

/*
 * Migration 1 is every .sql file of lib/data/schema in name order.  Until the
 * first release each concern edits its own schema file; after it, changes
 * go into numbered files under lib/data/migrations/ and this table grows.
 */
static const char *const migrations[] = {
	NULL,                  /* 1: the schema/ directory */
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int cp_db_schema_version(void)
{
	return NMIGRATIONS;
}

const char *cp_db_default_path(void)
{
	static char path[4096];
	const char *env = getenv("CLIENTPULSE_DB");
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (env && *env)
		return env;
	if (!*path) {
		if (x && *x == '/')
			snprintf(path, sizeof path, "%s/clientpulse/state.db", x);
		else
			snprintf(path, sizeof path,
			    "%s/.local/share/clientpulse/state.db",
			    home && *home ? home : "/");
	}
	return path;
}

int cp_db_error(sqlite3 *db, const char *what)
{
	int code = sqlite3_errcode(db) & 0xff;

	cp_err("state file %s: %s: %s", cp_db_filename(db), what,
	    sqlite3_errmsg(db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return CP_EX_TEMPFAIL;
	if (code == SQLITE_IOERR || code == SQLITE_FULL ||
	    code == SQLITE_CANTOPEN || code == SQLITE_READONLY)
		return CP_EX_IOERR;
	if (code == SQLITE_CONSTRAINT)
		return CP_EX_DATAERR;
	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		return CP_EX_DATAERR;
	return CP_EX_SOFTWARE;
}

const char *cp_db_filename(sqlite3 *db)
{
	const char *f = db ? sqlite3_db_filename(db, "main") : NULL;
	return f && *f ? f : "(memory)";
}

int cp_db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc;
		sqlite3_free(msg);
		rc = cp_db_error(db, "exec");
		return rc;
	}
	return 0;
}

sqlite3_stmt *cp_db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		int code = sqlite3_errcode(db) & 0xff;
		/* busy while preparing happens when the schema is being
		 * changed by another process: temporary, not our bug */
		if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
			cp_die(CP_EX_TEMPFAIL, "state file busy: %s",
			    sqlite3_errmsg(db));
		cp_die(CP_EX_SOFTWARE, "bad SQL (%s): %.200s", sqlite3_errmsg(db),
		    sql);
	}
	return st;
}

int cp_db_step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	rc = cp_db_error(db, "write");
	sqlite3_reset(st);
	return rc;
}

void cp_db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

const char *cp_db_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? (const char *)s : "";
}

int cp_db_begin(sqlite3 *db)
{
	/* busy_timeout covers BEGIN IMMEDIATE; the loop covers the rare
	 * SQLITE_BUSY that WAL recovery returns without calling it */
	int tries;

	for (tries = 0; tries < 50; tries++) {
		int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
		usleep(20000);
	}
	return cp_db_error(db, "begin transaction");
}

int cp_db_commit(sqlite3 *db)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
		usleep(20000);
	}
	{
		int rc = cp_db_error(db, "commit");
		cp_db_rollback(db);
		return rc;
	}
}

void cp_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Create the file (and its directory) with the right mode before SQLite
 * opens it: SQLite would create it with the umask, and it creates the
 * -wal and -shm files with the main file's mode, so this sets all three. */
static int precreate(const char *path, int flags)
{
	mode_t mode = (flags & CP_DB_GROUP) ? 0660 : 0600;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	mode_t old;
	int fd;

	if (slash && slash != dir) {
		char *p;
		*slash = '\0';
		for (p = dir + 1; *p; p++)
			if (*p == '/') {
				*p = '\0';
				mkdir(dir, 0700);
				*p = '/';
			}
		if (mkdir(dir, (flags & CP_DB_GROUP) ? 0770 : 0700) < 0 &&
		    errno != EEXIST) {
			cp_err("state file %s: cannot create directory: %s", path,
			    strerror(errno));
			free(dir);
			return CP_EX_CANTCREAT;
		}
	}
	free(dir);
	old = umask(0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	umask(old);
	if (fd < 0 && errno != EEXIST) {
		cp_err("state file %s: %s", path, strerror(errno));
		return CP_EX_CANTCREAT;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return cp_db_error(db, "read schema version");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cp_db_error(db, "read schema version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* The text of migration n (caller frees). */
static char *migration_sql(int n)
{
	const struct cp_datafile *d;
	strbuf sb = CP_STRBUF_INIT;

	if (n > 1)
		return xstrdup(migrations[n - 1]);
	/* cp_datafiles is generated in name order */
	for (d = cp_datafiles; d->name; d++)
		if (strncmp(d->name, "schema/", 7) == 0) {
			sb_add(&sb, d->data, d->len);
			sb_addc(&sb, '\n');
		}
	return sb_detach(&sb);
}

static int migrate(sqlite3 *db, int readonly)
{
	int v, rc, n;
	char pragma[64];

	if ((rc = user_version(db, &v)))
		return rc;
	if (v > NMIGRATIONS) {
		cp_err("state file %s has schema version %d, newer than this "
		    "binary understands (%d); upgrade clientpulse",
		    cp_db_filename(db), v, NMIGRATIONS);
		return CP_EX_CONFIG;
	}
	if (v == NMIGRATIONS)
		return 0;
	if (readonly) {
		cp_err("state file %s has schema version %d; run "
		    "'clientpulse init' to upgrade it", cp_db_filename(db), v);
		return CP_EX_CONFIG;
	}
	if ((rc = cp_db_begin(db)))
		return rc;
	/* another process may have migrated while we waited for the lock */
	if ((rc = user_version(db, &v))) {
		cp_db_rollback(db);
		return rc;
	}
	for (n = v + 1; n <= NMIGRATIONS; n++) {
		char *sql = migration_sql(n);
		rc = cp_db_exec(db, sql);
		free(sql);
		if (rc) {
			cp_err("state file %s: migration %d failed",
			    cp_db_filename(db), n);
			cp_db_rollback(db);
			return rc;
		}
		cp_info("state file migrated to schema version %d", n);
	}
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", NMIGRATIONS);
	if ((rc = cp_db_exec(db, pragma))) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

static int set_wal(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, tries;

	/* Switching to WAL needs a moment of exclusive access; a file that is
	 * already WAL (every file after its first open) costs one read. */
	for (tries = 0; tries < 100; tries++) {
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st,
		    NULL) != SQLITE_OK)
			return cp_db_error(db, "set journal mode");
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		usleep(20000);
	}
	return cp_db_error(db, "set journal mode");
}

int cp_db_open(const char *path, int flags, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc, oflags;
	struct stat st;
	char pragma[96];

	*out = NULL;
	if (!path)
		path = cp_db_default_path();
	if (stat(path, &st) < 0) {
		if (!(flags & CP_DB_CREATE)) {
			cp_err("state file %s does not exist; run 'clientpulse "
			    "init' (or give --db)", path);
			return CP_EX_NOINPUT;
		}
		if ((rc = precreate(path, flags)))
			return rc;
	} else if (!S_ISREG(st.st_mode)) {
		cp_err("state file %s: not a regular file", path);
		return CP_EX_NOINPUT;
	}
	oflags = (flags & CP_DB_READONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		cp_err("state file %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return CP_EX_NOINPUT;
	}
	sqlite3_extended_result_codes(db, 0);
	sqlite3_busy_timeout(db, (int)cp_conf_long("db.busy_timeout", NULL,
	    60000));
	snprintf(pragma, sizeof pragma,
	    "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
	if ((rc = cp_db_exec(db, pragma)) ||
	    (!(flags & CP_DB_READONLY) && (rc = set_wal(db))) ||
	    (rc = migrate(db, flags & CP_DB_READONLY))) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

/* A few statements per connection (see cp_db_prepare_cached). */
static struct {
	sqlite3 *db;
	const char *sql;
	sqlite3_stmt *st;
} cached[32];

sqlite3_stmt *cp_db_prepare_cached(sqlite3 *db, const char *sql)
{
	size_t i, free_slot = sizeof cached / sizeof *cached;

	for (i = 0; i < sizeof cached / sizeof *cached; i++) {
		if (cached[i].db == db && cached[i].sql == sql)
			return cached[i].st;
		if (!cached[i].db && free_slot == sizeof cached / sizeof *cached)
			free_slot = i;
	}
	if (free_slot == sizeof cached / sizeof *cached)
		return cp_db_prepare(db, sql);	/* full: a leak-free fallback */
	cached[free_slot].db = db;
	cached[free_slot].sql = sql;
	cached[free_slot].st = cp_db_prepare(db, sql);
	return cached[free_slot].st;
}

void cp_db_close(sqlite3 *db)
{
	size_t i;

	if (!db)
		return;
	cp_db_rollback(db);
	for (i = 0; i < sizeof cached / sizeof *cached; i++)
		if (cached[i].db == db) {
			sqlite3_finalize(cached[i].st);
			cached[i].db = NULL;
		}
	/* statements prepared with cp_db_prepare are finalized by the
	 * callers; anything left over is finalized here so close succeeds.
	 * Close first: it disconnects virtual tables (FTS5), which finalize
	 * their own statements; finalizing those here too would free them
	 * twice. */
	if (sqlite3_close(db) == SQLITE_BUSY) {
		sqlite3_stmt *st;
		while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
			sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

char *cp_db_setting(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "SELECT value FROM settings WHERE key = ?");
	char *v = NULL;

	cp_db_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup(cp_db_col_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

int cp_db_set_setting(sqlite3 *db, const char *key, const char *val)
{
	sqlite3_stmt *st = cp_db_prepare(db,
	    "INSERT INTO settings(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	int rc;

	cp_db_bind_text(st, 1, key);
	cp_db_bind_text(st, 2, val);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	return rc;
}
