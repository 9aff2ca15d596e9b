/*
 * clientpulse-shell — the forced command for SSH access (the gitolite
 * pattern).  One service account owns the state file; each AM's public
 * key in its authorized_keys carries
 *
 *   command="clientpulse-shell alice",no-port-forwarding,no-pty ssh-ed25519 …
 *
 * and whatever alice asks for ($SSH_ORIGINAL_COMMAND) runs as
 * "cp-COMMAND --as alice …", without a shell: the words are split on
 * blanks (single and double quotes group), the command must be one of
 * the people-facing ones, and --as/--db/--config from the client are
 * refused so nobody can become someone else or point at another file
 * (--tenant is fine: it only chooses among the login's own tenants).
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
	"usage: clientpulse-shell LOGIN   (as an SSH forced command)\n";

static const char *const allowed[] = {
	"inbox", "search", "account", "report", "audit", NULL
};

/* Split s into words; returns the count, at most max. */
static int split(char *s, char **words, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *out;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		words[n++] = out = s;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'' || *s == '"') {
				char q = *s++;
				while (*s && *s != q)
					*out++ = *s++;
				if (*s)
					s++;
			} else {
				*out++ = *s++;
			}
		}
		if (*s)
			s++;
		*out = '\0';
	}
	return n;
}

int main(int argc, char **argv)
{
	char *cmdline, *words[256], *args[260], *bin, dir[PATH_MAX];
	const char *orig = getenv("SSH_ORIGINAL_COMMAND");
	int n, i, k = 0;
	ssize_t len;

	cp_cli_init(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "--version"))
		cp_cli_option(CP_OPT_VERSION, NULL, usage);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		cp_cli_option('h', NULL, usage);
	if (argc != 2 || argv[1][0] == '-')
		cp_usage_error(usage, NULL);
	if (!orig || !*orig)
		orig = "inbox";
	cmdline = xstrdup(orig);
	n = split(cmdline, words, 256);
	if (n == 0)
		cp_die(CP_EX_USAGE, "empty command");
	/* accept "clientpulse inbox …", "inbox …" and "cp-inbox …" */
	i = 0;
	if (!strcmp(words[0], "clientpulse"))
		i = 1;
	if (i >= n)
		cp_die(CP_EX_USAGE, "no command given");
	if (!strncmp(words[i], "cp-", 3))
		words[i] += 3;
	for (k = 0; allowed[k]; k++)
		if (!strcmp(words[i], allowed[k]))
			break;
	if (!allowed[k])
		cp_die(CP_EX_NOPERM, "command not allowed over ssh: %s", words[i]);
	bin = xasprintf("cp-%s", words[i]);
	k = 0;
	args[k++] = bin;
	args[k++] = "--as";
	args[k++] = argv[1];
	for (i++; i < n; i++) {
		if (!strncmp(words[i], "--as", 4) || !strncmp(words[i], "--db", 4) ||
		    !strncmp(words[i], "--config", 8))
			cp_die(CP_EX_NOPERM, "option not allowed over ssh: %s",
			    words[i]);
		args[k++] = words[i];
	}
	args[k] = NULL;
	/* the cp-* binary installed beside this one, then PATH */
	len = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (len > 0) {
		char *slash, *path;
		dir[len] = '\0';
		if ((slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			path = xasprintf("%s/%s", dir, bin);
			if (access(path, X_OK) == 0)
				execv(path, args);
			free(path);
		}
	}
	execvp(bin, args);
	cp_err("%s: %s", bin, strerror(errno));
	return CP_EX_UNAVAILABLE;
}
