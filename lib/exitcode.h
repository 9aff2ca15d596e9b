/*
 * exitcode.h — the exit statuses of every ClientPulse binary.
 *
 * Values are sysexits(3) so that cron wrappers and monitoring can tell a
 * data problem (65) from a temporary failure worth retrying (75) from a
 * permission problem (77).  Every man page lists the subset it uses.
 */
#ifndef CP_EXITCODE_H
#define CP_EXITCODE_H

enum cp_exit {
	CP_EX_OK          = 0,  /* success */
	CP_EX_FINDINGS    = 1,  /* reconcile/verify: problems found */
	CP_EX_BROKEN      = 2,  /* doctor: installation broken */
	CP_EX_USAGE       = 64, /* bad command line */
	CP_EX_DATAERR     = 65, /* some input lines were rejected */
	CP_EX_NOINPUT     = 66, /* input file or state file missing */
	CP_EX_NOUSER      = 67, /* unused: unknown users get CP_EX_NOPERM */
	CP_EX_UNAVAILABLE = 69, /* a required service is unavailable */
	CP_EX_SOFTWARE    = 70, /* internal error (a bug) */
	CP_EX_OSERR       = 71, /* out of memory, fork failed */
	CP_EX_CANTCREAT   = 73, /* cannot create an output file */
	CP_EX_IOERR       = 74, /* read or write error */
	CP_EX_TEMPFAIL    = 75, /* try again: conflict, source down, busy */
	CP_EX_PROTOCOL    = 76, /* remote end spoke nonsense */
	CP_EX_NOPERM      = 77, /* not allowed (or not found in your scope) */
	CP_EX_CONFIG      = 78  /* bad configuration or credentials */
};

/* The worse of two statuses, for stages that carry on after an error:
 * any non-zero beats zero, otherwise the first one seen is kept. */
static inline int cp_exit_worst(int a, int b) { return a ? a : b; }

#endif
