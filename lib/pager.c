#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "pager.h"

int cp_term_height(int fd)
{
	const char *l = getenv("LINES");
	struct winsize ws;

	if (!isatty(fd))
		return 0;
	if (l && atoi(l) > 0)
		return atoi(l);
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return 24;
}

static const char *pager_command(void)
{
	const char *p = getenv("CLIENTPULSE_PAGER");

	if (!p)
		p = getenv("PAGER");
	if (!p)
		p = "less";
	return p;
}

static size_t count_lines(const char *text, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

/* Write all of it; a reader that went away (EPIPE) is not an error. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EPIPE ? 0 : -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int to_stdout(const char *text, size_t len)
{
	if (fwrite(text, 1, len, stdout) != len && errno != EPIPE) {
		cp_err("write error: %s", strerror(errno));
		return CP_EX_IOERR;
	}
	return 0;
}

/* Run the pager with the text on its stdin; -1 when it could not run. */
static int run_pager(const char *cmd, const char *text, size_t len)
{
	int fds[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		setenv("LESS", getenv("LESS") ? getenv("LESS") : "FRX", 1);
		if (!getenv("LV"))
			setenv("LV", "-c", 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (write_all(fds[1], text, len) != 0)
		cp_warn("pager: %s", strerror(errno));
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	/* 127: the shell found no such command; nothing was shown */
	return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -1 : 0;
}

int cp_page(const char *text, size_t len, bool enable)
{
	const char *cmd = pager_command();
	int rows;

	if (!enable || !*cmd || !strcmp(cmd, "cat") ||
	    !(rows = cp_term_height(STDOUT_FILENO)) ||
	    count_lines(text, len) < (size_t)rows)
		return to_stdout(text, len);
	if (run_pager(cmd, text, len) == 0)
		return 0;
	cp_warn("cannot run pager '%s'; printing instead", cmd);
	return to_stdout(text, len);
}
