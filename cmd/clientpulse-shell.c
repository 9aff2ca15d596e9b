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
#include <stdbool.h>
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

/*
 * What a client may not ask for, because getopt_long(3) takes any
 * unambiguous abbreviation ("--conf" is --config, "--d" may be --db) and
 * "--opt=value": who one is, which state file and configuration, and a
 * file written on the server (--reject appends lines the client chose to
 * any file the service account may write: its authorized_keys).
 */
static const char *const refused[] = {
	"--as", "--db", "--config", "--reject", NULL
};

static bool abbreviates(const char *w, const char *opt)
{
	size_t n = strcspn(w, "=");

	return n >= 3 && n <= strlen(opt) && !strncmp(w, opt, n);
}

static bool is_refused(const char *w)
{
	int i;

	/* the old test: any word starting with a refused name */
	if (!strncmp(w, "--as", 4) || !strncmp(w, "--db", 4) ||
	    !strncmp(w, "--config", 8))
		return true;
	for (i = 0; refused[i]; i++)
		if (abbreviates(w, refused[i]))
			return true;
	return false;
}

/* --outreach CHANNEL=FILE reads FILE on the server (the credentials file,
 * the state file…) into a card the client can then read: over ssh the
 * text comes from the client, on standard input, and nowhere else. */
static bool outreach_ok(const char *val)
{
	const char *eq = val ? strchr(val, '=') : NULL;

	return eq && !strcmp(eq + 1, "/dev/stdin");
}

/*
 * A pager or an editor on the client's terminal (ssh -t) is a shell for
 * whoever types "!sh" in less or ":!sh" in vi: less runs in its secure
 * mode, and there is no editor over ssh (refine takes --title,
 * --narrative, --next-step and --outreach CHANNEL=/dev/stdin instead).
 */
static void safe_environment(void)
{
	static const char noeditor[] = "echo 'clientpulse-shell: no editor "
	    "over ssh: refine with --title, --narrative, --next-step or "
	    "--outreach CHANNEL=/dev/stdin' >&2; false";

	setenv("LESSSECURE", "1", 1);
	setenv("CLIENTPULSE_PAGER", "less", 1);
	unsetenv("PAGER");
	unsetenv("LESSOPEN");
	unsetenv("LESSCLOSE");
	setenv("VISUAL", noeditor, 1);
	setenv("EDITOR", noeditor, 1);
}

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
	bool importing = false;
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
		if (is_refused(words[i]))
			cp_die(CP_EX_NOPERM, "option not allowed over ssh: %s",
			    words[i]);
		if (abbreviates(words[i], "--outreach") &&
		    !outreach_ok(strchr(words[i], '=') ? strchr(words[i], '=') + 1 :
		    i + 1 < n ? words[i + 1] : NULL))
			cp_die(CP_EX_NOPERM, "over ssh, --outreach takes its text "
			    "on standard input: --outreach CHANNEL=/dev/stdin");
		/* import reads the named files on the server: only stdin */
		if (importing && words[i][0] != '-' &&
		    strcmp(args[k - 1], "--tenant") &&
		    strcmp(args[k - 1], "--log-format"))
			cp_die(CP_EX_NOPERM, "over ssh, import reads standard "
			    "input only, not %s", words[i]);
		if (!strcmp(bin, "cp-account") && !strcmp(words[i], "import"))
			importing = true;
		args[k++] = words[i];
	}
	args[k] = NULL;
	safe_environment();
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
