/*
 * db.h — the state file: one SQLite database per installation (or tenant).
 *
 * Location: --db, else $CLIENTPULSE_DB, else
 * $XDG_DATA_HOME/clientpulse/state.db (~/.local/share/… without XDG).
 *
 * Every connection: WAL journal (readers never block the writer),
 * busy_timeout (db.busy_timeout ms, default 60000), foreign keys on,
 * STRICT tables, prepared statements only.  Writers take the write lock at
 * the start of their transaction (cp_db_begin is BEGIN IMMEDIATE), so two
 * processes never deadlock upgrading read locks and never see "database is
 * locked": the second waits for the first.
 *
 * Schema: the .sql files in lib/data/schema, applied in name order as
 * migration 1;
 * later migrations are lib/data/migrations/NNN.sql.  PRAGMA user_version
 * holds the version; a file newer than the binary is refused.
 *
 * Functions returning int return 0 or an exit code (exitcode.h) after
 * reporting the error, so a caller can `return rc;` straight to main.
 */
#ifndef CP_DB_H
#define CP_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	CP_DB_CREATE   = 1,   /* create the file if missing (clientpulse init) */
	CP_DB_GROUP    = 2,   /* create it 0660 instead of 0600 */
	CP_DB_READONLY = 4    /* open read-only (no migration) */
};

/* The path that would be used with no --db flag given (static storage). */
const char *cp_db_default_path(void);
/* The schema version this binary writes. */
int cp_db_schema_version(void);

/* Open (and migrate) the state file; path NULL means the default. */
int cp_db_open(const char *path, int flags, sqlite3 **out);
void cp_db_close(sqlite3 *db);
/* The path of an open database (static storage of sqlite). */
const char *cp_db_filename(sqlite3 *db);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int cp_db_begin(sqlite3 *db);
int cp_db_commit(sqlite3 *db);
void cp_db_rollback(sqlite3 *db);

/* Run SQL without results; 0 or CP_EX_SOFTWARE/CP_EX_TEMPFAIL. */
int cp_db_exec(sqlite3 *db, const char *sql);
/* Prepare a statement; a failure here is a bug in our SQL, so it is
 * reported with the statement and the process exits 70. */
sqlite3_stmt *cp_db_prepare(sqlite3 *db, const char *sql);
/* The same, prepared once per connection and kept until cp_db_close, for
 * statements run thousands of times a second (the audit log).  sql must
 * be a string literal (the cache is keyed by its address); the caller
 * resets the statement after use and never finalizes it. */
sqlite3_stmt *cp_db_prepare_cached(sqlite3 *db, const char *sql);
/* Step a statement that returns no rows and reset it; 0 or an exit code
 * (constraint violations report and return CP_EX_DATAERR). */
int cp_db_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Report the current sqlite error with context; returns the exit code
 * that fits it (75 for busy/locked, 74 for I/O, 70 otherwise). */
int cp_db_error(sqlite3 *db, const char *what);

/* Bind helpers: NULL strings bind SQL NULL. */
void cp_db_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Column text or "" (never NULL). */
const char *cp_db_col_text(sqlite3_stmt *st, int col);

/* Small key/value settings stored in the file (table settings). */
char *cp_db_setting(sqlite3 *db, const char *key);     /* caller frees */
int cp_db_set_setting(sqlite3 *db, const char *key, const char *val);

#endif
