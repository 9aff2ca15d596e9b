/*
 * clientpulse — the umbrella command, git-style.
 *
 * "clientpulse inbox -i" runs "cp-inbox -i": the binary beside this one
 * first (so a build tree or a relocated install works without PATH), then
 * PATH.  "clientpulse help [COMMAND]" opens the man page.  The command is
 * not named cp: that would shadow cp(1) for every user of the machine.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "mem.h"

static const char usage[] =
	"usage: clientpulse [--version] [--help] COMMAND [ARGS...]\n"
	"       clientpulse help [COMMAND]\n"
	"\n"
	"set-up:\n"
	"  init        create or upgrade the state file\n"
	"  account     add, import, list, show, assign, remove accounts\n"
	"  user        add users, roles, grants\n"
	"  playbook    import, list, show playbooks\n"
	"  asset       import, list, show, search assets\n"
	"pipeline (each reads and writes NDJSON):\n"
	"  fetch       documents from SEC EDGAR, news feeds, job boards\n"
	"  extract     documents to signals (text, entities, themes, PII)\n"
	"  dedupe      fold repeats of a story into one cluster\n"
	"  score       signals to scored, explained opportunities\n"
	"  card        opportunities to cards in the inbox\n"
	"  run         the whole pipeline, for cron\n"
	"people:\n"
	"  inbox       list, show, approve, reject, refine cards\n"
	"  search      full-text search over cards, signals, assets\n"
	"  push        approved cards into the CRM\n"
	"operations:\n"
	"  reconcile   find and fix stuck states, drift, SLA breaches\n"
	"  audit       list and verify the audit log\n"
	"  doctor      is this installation healthy?\n"
	"  metrics     Prometheus metrics\n"
	"  report      product KPIs\n"
	"\n"
	"Every COMMAND is also the binary cp-COMMAND; see clientpulse(7).\n";

/* Directory of this executable (for finding cp-* beside it). */
static char *self_dir(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	char *slash;

	if (n > 0) {
		buf[n] = '\0';
	} else if (argv0 && strchr(argv0, '/') && realpath(argv0, buf)) {
		/* no /proc: fall back to argv[0] when it is a path */
	} else {
		return NULL;
	}
	if (!(slash = strrchr(buf, '/')))
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

static int valid_name(const char *s)
{
	if (!*s || *s == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return 0;
	return 1;
}

static int help(const char *dir, const char *cmd)
{
	char page[128], *local = NULL;
	const char *name = "clientpulse";

	if (cmd) {
		if (!valid_name(cmd))
			cp_usage_error(usage, "not a command: '%s'", cmd);
		snprintf(page, sizeof page, "cp-%s", cmd);
		name = page;
	}
	/* the source tree's page, when this binary runs from the build
	 * tree (bin/ or build/asan/bin/); an installed one is found by man */
	if (dir) {
		static const char *const up[] = { "..", "../../.." };
		size_t i;
		for (i = 0; i < 2 && !local; i++) {
			local = xasprintf("%s/%s/man/%s.%s", dir, up[i], name,
			    cmd ? "1" : "7");
			if (access(local, R_OK) != 0) {
				free(local);
				local = NULL;
			}
		}
	}
	if (local) {
		execlp("man", "man", "-l", local, (char *)NULL);
	} else if (cmd) {
		execlp("man", "man", "1", name, (char *)NULL);
	} else {
		execlp("man", "man", "7", name, (char *)NULL);
	}
	cp_err("cannot run man: %s", strerror(errno));
	if (!cmd)
		fputs(usage, stderr);
	free(local);
	return CP_EX_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	char *dir, *bin, *path;
	const char *cmd;

	cp_cli_init(argc, argv);
	if (argc < 2) {
		fputs(usage, stderr);
		return CP_EX_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return CP_EX_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("clientpulse %s\n", CP_VERSION);
		return CP_EX_OK;
	}
	dir = self_dir(argv[0]);
	if (!strcmp(cmd, "help")) {
		int rc = help(dir, argc > 2 ? argv[2] : NULL);
		free(dir);
		return rc;
	}
	if (!valid_name(cmd)) {
		free(dir);
		cp_usage_error(usage, "not a command: '%s'", cmd);
	}

	bin = xasprintf("cp-%s", cmd);
	argv[1] = bin;
	if (dir) {
		path = xasprintf("%s/%s", dir, bin);
		if (access(path, X_OK) == 0)
			execv(path, argv + 1);
		free(path);
	}
	free(dir);
	execvp(bin, argv + 1);
	if (errno == ENOENT) {
		cp_err("'%s' is not a clientpulse command (no %s); see "
		    "'clientpulse --help'", cmd, bin);
		free(bin);
		return CP_EX_USAGE;
	}
	cp_err("%s: %s", bin, strerror(errno));
	free(bin);
	return CP_EX_UNAVAILABLE;
}
