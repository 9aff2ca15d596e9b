/*
 * triage.h — cp-inbox -i: the inbox as a full-screen list and card view
 * driven by the keyboard, for deciding twenty cards without typing an id.
 *
 *   list     j/k or arrows move, g/G first/last, PgUp/PgDn a page,
 *            Enter opens the card, / filters (words in title, account,
 *            theme), Esc clears the filter, q quits
 *   card     j/k scroll, n/p next/previous card, q or Esc back
 *   both     a approve, r reject (a reason picker: 1-5 or j/k, Enter),
 *            e refine in $EDITOR, Ctrl-L redraws, Ctrl-C interrupts
 *            (exit by SIGINT, as in a cooked terminal)
 *
 * Raw termios and ANSI sequences, no library.  The terminal is restored
 * (cooked mode, the normal screen, the cursor) when the program quits,
 * exits for any reason (atexit), is interrupted (Ctrl-C, SIGINT), told to
 * stop (SIGTERM, SIGHUP, SIGQUIT) or suspended (Ctrl-Z, SIGTSTP; raw mode
 * again on SIGCONT); the screen is drawn again when the window changes
 * size (SIGWINCH).
 *
 * Decisions go through review.h with the version the list showed: when
 * another reviewer changed the card meanwhile, the conflict is shown and
 * nothing is written; the list is then read again.  Refining runs
 * "cp-inbox refine ID@VERSION" with the terminal given back, so $EDITOR,
 * the file format and a lost race (the edit kept in a file) are exactly
 * those of cp-inbox refine.
 */
#ifndef CP_TRIAGE_H
#define CP_TRIAGE_H

#include <sqlite3.h>

#include "inbox.h"
#include "rbac.h"

/*
 * Run the triage screen for u (actor: the audit actor) on the cards
 * matching f (the list's filters; the scope must be loaded).  Standard
 * input and output must be a terminal.  Returns 0 when the person quits,
 * else an exit code after a message.
 */
int cp_triage_run(sqlite3 *db, const cp_user *u, const char *actor,
    const cp_inbox_filter *f);

#endif
