#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "review.h"
#include "strbuf.h"
#include "table.h"
#include "triage.h"
#include "unicode.h"
#include "utf8.h"

/* ---- the terminal ------------------------------------------------------ */

static struct termios saved_tio;
static volatile sig_atomic_t raw_on, resized, resumed;

/* write(2) all of it; safe in a signal handler */
static void tty_write(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* the alternate screen, cursor hidden; and back */
static const char enter_seq[] = "\033[?1049h\033[?25l\033[H\033[2J";
static const char leave_seq[] = "\033[0m\033[?25h\033[?1049l";

/* Give the terminal back as it was.  Async-signal-safe (write,
 * tcsetattr) and idempotent: the signal handlers, atexit and the normal
 * end all call it. */
static void tty_restore(void)
{
	if (!raw_on)
		return;
	raw_on = 0;
	tty_write(leave_seq, sizeof leave_seq - 1);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
}

static int tty_raw(void)
{
	struct termios raw = saved_tio;

	/* bytes as typed: no echo, no line editing, no signals from keys
	 * (Ctrl-C and Ctrl-Z are read and handled), no CR to NL, no flow
	 * control; output processing stays (NL is CR NL) */
	raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
	raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return -1;
	raw_on = 1;
	tty_write(enter_seq, sizeof enter_seq - 1);
	return 0;
}

/* SIGTERM, SIGINT, SIGHUP, SIGQUIT: the terminal back, then die of the
 * same signal, so the parent sees what happened. */
static void on_fatal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* Suspended (Ctrl-Z, SIGTSTP): the terminal back, stop; when continued,
 * the main loop makes it raw again. */
static void on_tstp(int sig)
{
	sigset_t set;
	int e = errno;

	tty_restore();
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* here again after SIGCONT */
	signal(sig, on_tstp);
	resumed = 1;
	errno = e;
}

static const int fatal_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
#define NFATAL (sizeof fatal_sigs / sizeof *fatal_sigs)

struct sigs {
	struct sigaction fatal[NFATAL], winch, tstp;
};

static void install(int sig, void (*fn)(int), struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a resize interrupts the wait for a key */
	sigaction(sig, &sa, old);
}

static void signals_on(struct sigs *s)
{
	size_t i;

	for (i = 0; i < NFATAL; i++)
		install(fatal_sigs[i], on_fatal, &s->fatal[i]);
	install(SIGWINCH, on_winch, &s->winch);
	install(SIGTSTP, on_tstp, &s->tstp);
}

static void signals_off(const struct sigs *s)
{
	size_t i;

	for (i = 0; i < NFATAL; i++)
		sigaction(fatal_sigs[i], &s->fatal[i], NULL);
	sigaction(SIGWINCH, &s->winch, NULL);
	sigaction(SIGTSTP, &s->tstp, NULL);
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* ---- keys -------------------------------------------------------------- */

enum {
	K_NONE = -1, K_EOF = -2,
	K_ENTER = 0x100, K_ESC, K_BS, K_UP, K_DOWN, K_LEFT, K_RIGHT, K_PGUP,
	K_PGDN, K_HOME, K_END
};
#define KEY_CTRL(c) ((c) & 0x1f)

static bool byte_ready(int ms)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

static int read_byte(void)
{
	unsigned char c;
	ssize_t n = read(STDIN_FILENO, &c, 1);

	if (n == 1)
		return c;
	if (n == 0)
		return K_EOF;
	return errno == EINTR ? K_NONE : K_EOF;
}

/* An escape sequence (CSI or SS3) after ESC, or ESC alone when nothing
 * follows within 50 ms. */
static int read_escape(void)
{
	int c, d, num = 0;

	if (!byte_ready(50))
		return K_ESC;
	if ((c = read_byte()) < 0)
		return K_ESC;
	if (c != '[' && c != 'O')
		return K_ESC;
	if ((d = read_byte()) < 0)
		return K_ESC;
	while (d >= '0' && d <= '9') {
		num = num * 10 + (d - '0');
		if ((d = read_byte()) < 0)
			return K_ESC;
	}
	switch (d) {
	case 'A': return K_UP;
	case 'B': return K_DOWN;
	case 'C': return K_RIGHT;
	case 'D': return K_LEFT;
	case 'H': return K_HOME;
	case 'F': return K_END;
	case '~':
		return num == 5 ? K_PGUP : num == 6 ? K_PGDN :
		    num == 1 || num == 7 ? K_HOME : num == 4 || num == 8 ?
		    K_END : K_NONE;
	}
	return K_NONE;
}

static int read_key(void)
{
	int c = read_byte();

	if (c == 27)
		return read_escape();
	if (c == '\r' || c == '\n')
		return K_ENTER;
	if (c == 127 || c == KEY_CTRL('h'))
		return K_BS;
	return c;
}

/* ---- the cards --------------------------------------------------------- */

struct row {
	char id[CP_ID_MAX];
	int64_t version;
	double score;
	time_t created;
	char *account, *theme, *title, *status;
	char *folded;        /* title, account, theme case-folded: the filter */
};

enum mode { LIST, CARD, REASONS, FILTER };

struct tui {
	sqlite3 *db;
	const cp_user *u;
	const char *actor;
	cp_inbox_filter f;
	bool ascii, color;
	int rows, cols;
	struct row *v;              /* the cards loaded */
	size_t n;
	size_t *vis, nvis;          /* those the filter lets through */
	size_t sel, top;            /* selected, first shown (in vis) */
	enum mode mode, back;       /* back: the mode the picker returns to */
	strbuf filter, input;       /* the filter, and the one being typed */
	char msg[512];
	int msg_kind;               /* 0 info, 1 done, 2 trouble */
	char **lines;               /* the card view, wrapped */
	size_t nlines, ltop;
	int reason;                 /* the picker's choice */
	bool more;                  /* more cards than loaded */
};

static void rows_free(struct tui *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].account);
		free(t->v[i].theme);
		free(t->v[i].title);
		free(t->v[i].status);
		free(t->v[i].folded);
	}
	free(t->v);
	free(t->vis);
	t->v = NULL;
	t->vis = NULL;
	t->n = t->nvis = 0;
}

static char *clean_dup(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;

	cp_inbox_clean(&sb, s, false);
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

static void set_msg(struct tui *t, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(struct tui *t, int kind, const char *fmt, ...)
{
	va_list ap;
	char raw[512];
	strbuf sb = CP_STRBUF_INIT;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	cp_inbox_clean(&sb, raw, false);
	snprintf(t->msg, sizeof t->msg, "%s", sb_str(&sb));
	sb_free(&sb);
	t->msg_kind = kind;
}

/* Whether every word of the filter is in the row. */
static bool passes(const struct tui *t, const struct row *r)
{
	char *needle, *w, *save = NULL;
	bool ok = true;

	if (!t->filter.len)
		return true;
	needle = cp_u_casefold(sb_str(&t->filter));
	for (w = strtok_r(needle, " ", &save); w && ok;
	    w = strtok_r(NULL, " ", &save))
		ok = strstr(r->folded, w) != NULL;
	free(needle);
	return ok;
}

static void apply_filter(struct tui *t)
{
	size_t i;

	free(t->vis);
	t->vis = xcalloc(t->n + 1, sizeof *t->vis);
	t->nvis = 0;
	for (i = 0; i < t->n; i++)
		if (passes(t, &t->v[i]))
			t->vis[t->nvis++] = i;
	if (t->sel >= t->nvis)
		t->sel = t->nvis ? t->nvis - 1 : 0;
}

static const struct row *selected(const struct tui *t)
{
	return t->nvis ? &t->v[t->vis[t->sel]] : NULL;
}

/* (Re)read the list; the selection stays on the same card when it is
 * still there, else at the same place. */
static int load(struct tui *t)
{
	long limit = t->f.limit > 0 ? t->f.limit : 1000;
	char keep[CP_ID_MAX] = "";
	sqlite3_stmt *st;
	size_t cap = 0, i;
	int rc;

	if (selected(t))
		snprintf(keep, sizeof keep, "%s", selected(t)->id);
	rows_free(t);
	st = cp_inbox_query(t->db, t->u, &t->f, limit + 1);
	t->more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row *r;
		strbuf fold = CP_STRBUF_INIT;

		if ((long)t->n == limit) {
			t->more = true;
			break;
		}
		if (t->n == cap)
			t->v = xrealloc(t->v, (cap = cap ? cap * 2 : 64) *
			    sizeof *t->v);
		r = &t->v[t->n++];
		memset(r, 0, sizeof *r);
		snprintf(r->id, sizeof r->id, "%s", cp_db_col_text(st, CP_IQ_ID));
		r->version = sqlite3_column_int64(st, CP_IQ_VERSION);
		r->score = sqlite3_column_double(st, CP_IQ_SCORE);
		cp_time_parse(cp_db_col_text(st, CP_IQ_CREATED), &r->created);
		r->account = clean_dup(cp_db_col_text(st, CP_IQ_ACCOUNT_NAME));
		r->theme = clean_dup(cp_db_col_text(st, CP_IQ_THEME));
		r->title = clean_dup(cp_db_col_text(st, CP_IQ_TITLE));
		r->status = clean_dup(cp_db_col_text(st, CP_IQ_STATUS));
		sb_addf(&fold, "%s %s %s", r->title, r->account, r->theme);
		r->folded = cp_u_casefold(sb_str(&fold));
		sb_free(&fold);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return cp_db_error(t->db, "list cards");
	apply_filter(t);
	for (i = 0; *keep && i < t->nvis; i++)
		if (!strcmp(t->v[t->vis[i]].id, keep))
			t->sel = i;
	return 0;
}

/* ---- drawing ----------------------------------------------------------- */

static const char *sel_on = "\033[7m", *sel_off = "\033[0m";

/* A screen line: row y (1-based), text fitted to the width exactly. */
static void put_line(strbuf *fr, int y, const char *text, int cols,
    bool ascii, const char *on, const char *off)
{
	sb_addf(fr, "\033[%d;1H", y);
	if (on)
		sb_adds(fr, on);
	cp_u_fit(fr, text, cols, false, ascii);
	if (off)
		sb_adds(fr, off);
	sb_adds(fr, "\033[K");
}

static void header(struct tui *t, strbuf *fr)
{
	strbuf h = CP_STRBUF_INIT;

	sb_addf(&h, " ClientPulse inbox - %s - %zu card%s%s", t->u->login,
	    t->nvis, t->nvis == 1 ? "" : "s", t->more ? " (more: narrow the "
	    "list with filters)" : "");
	if (t->filter.len)
		sb_addf(&h, " - filter: %s", sb_str(&t->filter));
	put_line(fr, 1, sb_str(&h), t->cols, t->ascii, "\033[1;7m", "\033[0m");
	sb_free(&h);
}

/* Screen lines the message takes: two when it does not fit in one. */
static int msg_lines(const struct tui *t)
{
	return t->mode != FILTER && cp_u_width(t->msg) > t->cols ? 2 : 1;
}

/* The message, cut in two at a space where it fits. */
static void put_msg(struct tui *t, strbuf *fr, const char *on,
    const char *off)
{
	size_t n = strlen(t->msg), cut = 0, i;
	strbuf a = CP_STRBUF_INIT;

	if (msg_lines(t) == 1) {
		put_line(fr, t->rows - 1, t->msg, t->cols, t->ascii, on, off);
		return;
	}
	for (i = 0; i < n; i++) {
		if (t->msg[i] != ' ')
			continue;
		sb_reset(&a);
		sb_add(&a, t->msg, i);
		if (cp_u_width(sb_str(&a)) > t->cols)
			break;
		cut = i;
	}
	if (!cut)
		cut = n / 2;
	sb_reset(&a);
	sb_add(&a, t->msg, cut);
	put_line(fr, t->rows - 2, sb_str(&a), t->cols, t->ascii, on, off);
	put_line(fr, t->rows - 1, t->msg + cut + (t->msg[cut] == ' '), t->cols,
	    t->ascii, on, off);
	sb_free(&a);
}

static void footer(struct tui *t, strbuf *fr, const char *help)
{
	const char *on = NULL, *off = NULL;

	if (t->mode == FILTER) {
		strbuf p = CP_STRBUF_INIT;
		sb_addf(&p, "/%s", sb_str(&t->input));
		put_line(fr, t->rows - 1, sb_str(&p), t->cols, t->ascii, NULL,
		    NULL);
		sb_free(&p);
	} else {
		if (t->msg_kind == 2)
			on = t->color ? "\033[1;31m" : "\033[1m", off = "\033[0m";
		else if (t->msg_kind == 1)
			on = t->color ? "\033[32m" : NULL, off = t->color ?
			    "\033[0m" : NULL;
		put_msg(t, fr, on, off);
	}
	put_line(fr, t->rows, help, t->cols, t->ascii, "\033[7m", "\033[0m");
}

/* Column widths for the list: score, age, account, theme, title. */
static void list_widths(int cols, int *acct, int *theme, int *title)
{
	int rest = cols - 2 - 4 - 5 - 4;   /* marks, score, age, gaps */

	*acct = rest / 4 > 20 ? 20 : rest / 4;
	*theme = rest / 5 > 18 ? 18 : rest / 5;
	if (*acct < 6)
		*acct = 6;
	if (*theme < 6)
		*theme = 6;
	*title = rest - *acct - *theme;
	if (*title < 8)
		*title = 8;
}

static void list_row(struct tui *t, strbuf *line, const struct row *r)
{
	char score[16], age[CP_INBOX_AGE_MAX];
	int wa, wt, wti;

	list_widths(t->cols, &wa, &wt, &wti);
	snprintf(score, sizeof score, "%.0f", r->score);
	cp_inbox_age(cp_now(), r->created, age);
	sb_adds(line, "  ");
	cp_u_fit(line, score, 3, true, t->ascii);
	sb_adds(line, " ");
	cp_u_fit(line, age, 4, true, t->ascii);
	sb_adds(line, "  ");
	cp_u_fit(line, r->account, wa, false, t->ascii);
	sb_adds(line, " ");
	cp_u_fit(line, r->theme, wt, false, t->ascii);
	sb_adds(line, " ");
	cp_u_fit(line, r->title, wti, false, t->ascii);
}

static void draw_list(struct tui *t, strbuf *fr)
{
	int body = t->rows - 3 - msg_lines(t), y;
	int wa, wt, wti;
	strbuf h = CP_STRBUF_INIT;

	if (body < 1)
		body = 1;
	/* keep the selection on the screen */
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + (size_t)body)
		t->top = t->sel - (size_t)body + 1;
	list_widths(t->cols, &wa, &wt, &wti);
	sb_adds(&h, "  SCO  AGE  ");
	cp_u_fit(&h, "ACCOUNT", wa, false, t->ascii);
	sb_adds(&h, " ");
	cp_u_fit(&h, "THEME", wt, false, t->ascii);
	sb_adds(&h, " TITLE");
	put_line(fr, 2, sb_str(&h), t->cols, t->ascii, "\033[1m", "\033[0m");
	sb_free(&h);
	for (y = 0; y < body; y++) {
		size_t i = t->top + (size_t)y;
		strbuf line = CP_STRBUF_INIT;

		if (i < t->nvis) {
			list_row(t, &line, &t->v[t->vis[i]]);
			if (i == t->sel)
				line.buf[0] = '>';
			put_line(fr, 3 + y, sb_str(&line), t->cols, t->ascii,
			    i == t->sel ? sel_on : NULL, i == t->sel ? sel_off :
			    NULL);
		} else if (i == 0) {
			put_line(fr, 3 + y, t->filter.len ? "  No card matches "
			    "the filter (Esc clears it)." : "  No cards to "
			    "review.", t->cols, t->ascii, NULL, NULL);
		} else {
			put_line(fr, 3 + y, "", t->cols, t->ascii, NULL, NULL);
		}
		sb_free(&line);
	}
}

/* ---- the card view ----------------------------------------------------- */

static void lines_free(struct tui *t)
{
	size_t i;

	for (i = 0; i < t->nlines; i++)
		free(t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->nlines = 0;
}

static void add_line(struct tui *t, const char *s)
{
	t->lines = xrealloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
	t->lines[t->nlines++] = xstrdup(s);
}

/* Word-wrapped paragraphs of text at width, each line after indent. */
static void add_wrapped(struct tui *t, const char *text, const char *indent)
{
	strbuf clean = CP_STRBUF_INIT, line = CP_STRBUF_INIT;
	int width = t->cols - cp_u_width(indent) - 1;
	char *para, *next, *w, *save;

	if (width < 10)
		width = 10;
	cp_inbox_clean(&clean, text, true);
	for (para = clean.buf; para; para = next) {
		int used = 0;

		if ((next = strchr(para, '\n')))
			*next++ = '\0';
		save = NULL;
		for (w = strtok_r(para, " ", &save); w;
		    w = strtok_r(NULL, " ", &save)) {
			int ww = cp_u_width(w);
			if (used && used + 1 + ww > width) {
				strbuf l = CP_STRBUF_INIT;
				sb_addf(&l, "%s%s", indent, sb_str(&line));
				add_line(t, sb_str(&l));
				sb_free(&l);
				sb_reset(&line);
				used = 0;
			}
			if (used) {
				sb_addc(&line, ' ');
				used++;
			}
			sb_adds(&line, w);
			used += ww;
		}
		if (line.len || !*para) {
			strbuf l = CP_STRBUF_INIT;
			sb_addf(&l, "%s%s", line.len ? indent : "", sb_str(&line));
			add_line(t, sb_str(&l));
			sb_free(&l);
		}
		sb_reset(&line);
	}
	sb_free(&line);
	sb_free(&clean);
}

/* One line: a label in a column of 10, then the value (cleaned: no
 * escape sequence from the state file reaches the terminal). */
static void add_field(struct tui *t, const char *label, const char *value)
{
	strbuf l = CP_STRBUF_INIT;

	sb_addf(&l, "%-9s ", label);
	cp_inbox_clean(&l, value, false);
	add_line(t, sb_str(&l));
	sb_free(&l);
}

static void card_lines(struct tui *t, const json_t *c)
{
	json_t *e, *f;
	const char *key;
	char *narr = cp_inbox_narrative_text(c);
	const char *next = cp_inbox_next_step(c);
	strbuf s = CP_STRBUF_INIT;
	double score = 0;
	size_t i;

	lines_free(t);
	cp_json_num(c, "score", &score);
	sb_addf(&s, "%s (%s)", cp_json_strd(c, "account_name", ""),
	    cp_json_strd(c, "account_id", ""));
	add_field(t, "account", sb_str(&s));
	sb_reset(&s);
	sb_addf(&s, "%.0f, theme %s, playbook %s", score,
	    cp_json_strd(c, "theme", "?"), cp_json_strd(c, "playbook_id", "-"));
	add_field(t, "score", sb_str(&s));
	sb_reset(&s);
	sb_addf(&s, "%s, version %lld", cp_json_strd(c, "status", ""),
	    (long long)cp_json_int(c, "version", 0));
	add_field(t, "status", sb_str(&s));
	add_field(t, "created", cp_json_strd(c, "created_at", ""));
	add_line(t, "");
	add_line(t, "Narrative");
	add_wrapped(t, *narr ? narr : "(none)", "  ");
	free(narr);
	if (next) {
		add_line(t, "");
		add_line(t, "Next step");
		add_wrapped(t, next, "  ");
	}
	add_line(t, "");
	add_line(t, "Evidence");
	json_array_foreach(json_object_get(c, "evidence"), i, e) {
		sb_reset(&s);
		sb_addf(&s, "\"%s\"", cp_json_strd(e, "quote", ""));
		add_wrapped(t, sb_str(&s), "  ");
		add_wrapped(t, cp_json_strd(e, "url", ""), "    ");
	}
	add_line(t, "");
	add_line(t, "Score breakdown");
	json_object_foreach(json_object_get(c, "factors"), key, f) {
		double v = 0, w = 0;
		cp_json_num(f, "value", &v);
		cp_json_num(f, "weight", &w);
		char label[64];
		snprintf(label, sizeof label, "  %-11.11s %.2f x %.2f", key, v, w);
		add_field(t, label, cp_json_strd(f, "reason", ""));
	}
	json_array_foreach(json_object_get(c, "outreach"), i, e) {
		if (i == 0) {
			add_line(t, "");
			add_line(t, "Outreach drafts");
		}
		sb_reset(&s);
		sb_addf(&s, "[%s] %s", cp_json_strd(e, "channel", "?"),
		    cp_json_strd(e, "subject", ""));
		add_wrapped(t, sb_str(&s), "  ");
	}
	sb_free(&s);
}

static int open_card(struct tui *t)
{
	const struct row *r = selected(t);
	json_t *c;

	if (!r)
		return 0;
	if (!(c = cp_inbox_card(t->db, t->u, r->id))) {
		set_msg(t, 2, "%s: not found or not permitted", r->id);
		return 0;
	}
	card_lines(t, c);
	json_decref(c);
	t->ltop = 0;
	t->mode = CARD;
	return 0;
}

static void draw_card(struct tui *t, strbuf *fr)
{
	const struct row *r = selected(t);
	int body = t->rows - 2 - msg_lines(t), y;

	put_line(fr, 2, r ? r->title : "", t->cols, t->ascii, "\033[1m",
	    "\033[0m");
	if (t->ltop + (size_t)body > t->nlines)
		t->ltop = t->nlines > (size_t)body ? t->nlines - (size_t)body : 0;
	for (y = 0; y < body - 1; y++) {
		size_t i = t->ltop + (size_t)y;
		put_line(fr, 3 + y, i < t->nlines ? t->lines[i] : "", t->cols,
		    t->ascii, NULL, NULL);
	}
}

static const char *const reason_help[] = { "not relevant to this account",
	"we knew already", "not now", "not this account", "something else" };

static void draw_reasons(struct tui *t, strbuf *fr)
{
	const struct row *r = selected(t);
	int w = t->cols < 50 ? t->cols - 2 : 48, x = (t->cols - w) / 2 + 1,
	    y0 = (t->rows - 10) / 2 + 1, i;
	strbuf s = CP_STRBUF_INIT;

	if (y0 < 2)
		y0 = 2;
	sb_addf(&s, " Reject %.10s... - why?", r ? r->id + 5 : "");
	sb_addf(fr, "\033[%d;%dH\033[1;7m", y0, x);
	cp_u_fit(fr, sb_str(&s), w, false, t->ascii);
	sb_adds(fr, "\033[0m");
	for (i = 0; cp_reject_reasons[i]; i++) {
		sb_reset(&s);
		sb_addf(&s, " %c %d %-14s %s", i == t->reason ? '>' : ' ', i + 1,
		    cp_reject_reasons[i], reason_help[i]);
		sb_addf(fr, "\033[%d;%dH%s", y0 + 1 + i, x, i == t->reason ?
		    sel_on : "\033[7m");
		cp_u_fit(fr, sb_str(&s), w, false, t->ascii);
		sb_adds(fr, "\033[0m");
	}
	sb_addf(fr, "\033[%d;%dH\033[7m", y0 + 1 + i, x);
	cp_u_fit(fr, " 1-5 or j/k and Enter: reject   Esc: cancel", w, false,
	    t->ascii);
	sb_adds(fr, "\033[0m");
	sb_free(&s);
}

static void draw(struct tui *t)
{
	strbuf fr = CP_STRBUF_INIT;
	enum mode under = t->mode == REASONS || t->mode == FILTER ? t->back :
	    t->mode;

	sb_adds(&fr, "\033[?25l");
	header(t, &fr);
	if (under == CARD)
		draw_card(t, &fr);
	else
		draw_list(t, &fr);
	if (t->mode == REASONS)
		draw_reasons(t, &fr);
	footer(t, &fr, under == CARD ?
	    " j/k scroll  n/p next/prev  a approve  r reject  e refine  q back" :
	    " j/k move  Enter open  a approve  r reject  e refine  / filter  q quit");
	if (t->mode == FILTER) {
		/* the cursor after what is typed */
		sb_addf(&fr, "\033[%d;%dH\033[?25h", t->rows - 1,
		    2 + cp_u_width(sb_str(&t->input)));
	}
	tty_write(fr.buf, fr.len);
	sb_free(&fr);
}

/* ---- deciding ---------------------------------------------------------- */

/* What review.h says on stderr goes into the status line instead: the
 * screen is ours.  Captured through a temporary file. */
struct capture {
	int saved;
	FILE *tmp;
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->saved = -1;
	if (!(c->tmp = tmpfile()))
		return;
	c->saved = dup(STDERR_FILENO);
	dup2(fileno(c->tmp), STDERR_FILENO);
}

/* "card_" and 32 hex digits become the 10 the list shows: the status
 * line is one line. */
static void shorten_ids(char *s)
{
	char *p;

	while ((p = strstr(s, "card_")) && strspn(p + 5,
	    "0123456789abcdef") >= 32)
		memmove(p, p + 5, strlen(p + 5) + 1),
		memmove(p + 10, p + 32, strlen(p + 32) + 1);
}

/* The lines written meanwhile, "prog: " dropped, joined by "; ". */
static void capture_end(struct capture *c, char *out, size_t n)
{
	char line[1024];
	strbuf sb = CP_STRBUF_INIT;
	size_t pl = strlen(cp_prog());

	*out = '\0';
	fflush(stderr);
	if (c->saved >= 0) {
		dup2(c->saved, STDERR_FILENO);
		close(c->saved);
	}
	if (!c->tmp)
		return;
	rewind(c->tmp);
	while (fgets(line, sizeof line, c->tmp)) {
		char *p = line;
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(p, cp_prog(), pl) && !strncmp(p + pl, ": ", 2))
			p += pl + 2;
		if (*p)
			sb_addf(&sb, "%s%s", sb.len ? "; " : "", p);
	}
	fclose(c->tmp);
	snprintf(out, n, "%s", sb_str(&sb));
	sb_free(&sb);
	shorten_ids(out);
}

static char *short_id(const char *id, char out[16])
{
	snprintf(out, 16, "%.10s", strncmp(id, "card_", 5) ? id : id + 5);
	return out;
}

static void decide(struct tui *t, cp_decision d, const char *reason)
{
	const struct row *r = selected(t);
	cp_review rv = { d, reason, NULL, NULL };
	struct capture cap;
	char why[512], sid[16];
	int64_t nv = 0;
	int rc;

	if (!r)
		return;
	capture_begin(&cap);
	rc = cp_rbac_require(t->u, CP_ACT_DECIDE);
	if (!rc)
		rc = cp_review_apply(t->db, t->u, t->actor, r->id, r->version, &rv,
		    &nv);
	capture_end(&cap, why, sizeof why);
	short_id(r->id, sid);
	if (rc == 0)
		set_msg(t, 1, "%s %s%s%s (version %lld)", sid,
		    d == CP_DECIDE_APPROVE ? "approved" : "rejected",
		    reason ? ": " : "", reason ? reason : "", (long long)nv);
	else if (rc == CP_EX_TEMPFAIL)
		set_msg(t, 2, "%s; nothing written", why);
	else
		set_msg(t, 2, "%s", *why ? why : "could not decide");
	/* the list as it is now: the decided card leaves the queue, a
	 * changed one shows its new state */
	load(t);
	if (t->mode == CARD && (rc || !selected(t)))
		t->mode = LIST;
	else if (t->mode == CARD)
		open_card(t);
}

/* ---- refining (cp-inbox refine, with the terminal) -------------------- */

static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

	if (n <= 0)
		return xstrdup("cp-inbox");
	buf[n] = '\0';
	return xstrdup(buf);
}

static void refine(struct tui *t)
{
	const struct row *r = selected(t);
	char target[CP_ID_MAX + 32], why[512], sid[16], id[CP_ID_MAX], *exe;
	const char *argv[16];
	struct sigaction ign, oldint, oldquit;
	struct capture cap;
	int64_t before;
	int n = 0, status = 0;
	pid_t pid;

	if (!r)
		return;
	if (cp_rbac_require(t->u, CP_ACT_DECIDE)) {
		set_msg(t, 2, "you may not refine cards (role %s)",
		    cp_role_name(t->u->role));
		return;
	}
	before = r->version;
	snprintf(id, sizeof id, "%s", r->id);
	snprintf(target, sizeof target, "%s@%lld", id, (long long)before);
	short_id(r->id, sid);
	exe = self_path();
	argv[n++] = exe;
	argv[n++] = "refine";
	argv[n++] = target;
	argv[n++] = "-q";
	argv[n++] = "--db";
	argv[n++] = cp_db_filename(t->db);
	argv[n++] = "--tenant";
	argv[n++] = t->u->tenant;
	if (cp_cli.as) {
		argv[n++] = "--as";
		argv[n++] = t->u->login;
	}
	if (cp_cli.config) {
		argv[n++] = "--config";
		argv[n++] = cp_cli.config;
	}
	argv[n] = NULL;
	/* the editor gets the terminal as it was; a Ctrl-C in it is the
	 * editor's (as system(3) does) */
	tty_restore();
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGQUIT, &ign, &oldquit);
	capture_begin(&cap);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execv(exe, (char *const *)argv);
		fprintf(stderr, "%s: cannot run: %s\n", exe, strerror(errno));
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	capture_end(&cap, why, sizeof why);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGQUIT, &oldquit, NULL);
	free(exe);
	tty_raw();
	resized = 1;
	if (pid < 0) {
		set_msg(t, 2, "cannot run cp-inbox refine: %s", strerror(errno));
		return;
	}
	load(t);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		json_t *c = cp_inbox_card(t->db, t->u, id);
		int64_t now = c ? cp_json_int(c, "version", 0) : before;
		json_decref(c);
		/* the same version: the file was left as it was, or emptied */
		if (now != before)
			set_msg(t, 1, "%s refined (version %lld)", sid,
			    (long long)now);
		else
			set_msg(t, 0, "%s: nothing changed", sid);
	} else {
		set_msg(t, 2, "%s", *why ? why : "refine failed");
	}
	if (t->mode == CARD && selected(t))
		open_card(t);
	else
		t->mode = LIST;
}

/* ---- the loop ---------------------------------------------------------- */

static void move(struct tui *t, long by)
{
	long s = (long)t->sel + by;

	if (s < 0)
		s = 0;
	if (t->nvis && s >= (long)t->nvis)
		s = (long)t->nvis - 1;
	t->sel = t->nvis ? (size_t)s : 0;
}

static void filter_key(struct tui *t, int k)
{
	if (k == K_ENTER) {
		sb_reset(&t->filter);
		sb_adds(&t->filter, sb_str(&t->input));
		t->sel = t->top = 0;
		apply_filter(t);
		t->mode = t->back;
		set_msg(t, 0, "%zu of %zu cards match", t->nvis, t->n);
	} else if (k == K_ESC || k == KEY_CTRL('c') || k == KEY_CTRL('g')) {
		t->mode = t->back;
	} else if (k == K_BS) {
		/* one character, not one byte */
		while (t->input.len && ((unsigned char)t->input.buf[
		    t->input.len - 1] & 0xC0) == 0x80)
			t->input.len--;
		if (t->input.len)
			t->input.len--;
		sb_truncate(&t->input, t->input.len);
	} else if (k == KEY_CTRL('u')) {
		sb_reset(&t->input);
	} else if (k >= 0x20 && k < 0x100 && k != 0x7f && t->input.len < 200) {
		sb_addc(&t->input, (char)k);
	}
}

static void reason_key(struct tui *t, int k)
{
	if (k >= '1' && k <= '5') {
		t->reason = k - '1';
		k = K_ENTER;
	}
	if (k == 'j' || k == K_DOWN)
		t->reason = t->reason < 4 ? t->reason + 1 : 4;
	else if (k == 'k' || k == K_UP)
		t->reason = t->reason > 0 ? t->reason - 1 : 0;
	else if (k == K_ESC || k == 'q' || k == KEY_CTRL('c')) {
		t->mode = t->back;
		set_msg(t, 0, "not rejected");
	} else if (k == K_ENTER) {
		t->mode = t->back;
		decide(t, CP_DECIDE_REJECT, cp_reject_reasons[t->reason]);
	}
}

/* A key in the list or card view; false to quit. */
static bool view_key(struct tui *t, int k)
{
	int page = t->rows - 4 > 1 ? t->rows - 4 : 1;

	switch (k) {
	case 'q':
		if (t->mode == CARD) {
			t->mode = LIST;
			return true;
		}
		return false;
	case KEY_CTRL('c'):
		/* what Ctrl-C does in a cooked terminal: die of SIGINT,
		 * the terminal given back first */
		on_fatal(SIGINT);
		return false;
	case K_EOF:
		return false;
	case K_ESC: case 'h': case K_LEFT: case K_BS:
		if (t->mode == CARD)
			t->mode = LIST;
		else if (k == K_ESC && t->filter.len) {
			sb_reset(&t->filter);
			apply_filter(t);
			set_msg(t, 0, "filter cleared");
		}
		return true;
	case 'j': case K_DOWN:
		if (t->mode == CARD)
			t->ltop++;
		else
			move(t, 1);
		return true;
	case 'k': case K_UP:
		if (t->mode == CARD)
			t->ltop = t->ltop ? t->ltop - 1 : 0;
		else
			move(t, -1);
		return true;
	case K_PGDN: case ' ':
		if (t->mode == CARD)
			t->ltop += (size_t)page;
		else
			move(t, page);
		return true;
	case K_PGUP:
		if (t->mode == CARD)
			t->ltop = t->ltop > (size_t)page ? t->ltop - (size_t)page : 0;
		else
			move(t, -page);
		return true;
	case 'g': case K_HOME:
		if (t->mode == CARD)
			t->ltop = 0;
		else
			t->sel = 0;
		return true;
	case 'G': case K_END:
		if (t->mode == CARD)
			t->ltop = t->nlines;
		else
			move(t, (long)t->nvis);
		return true;
	case 'n': case 'p':
		if (t->mode == CARD) {
			move(t, k == 'n' ? 1 : -1);
			open_card(t);
		}
		return true;
	case K_ENTER: case 'l': case K_RIGHT:
		if (t->mode == LIST)
			open_card(t);
		return true;
	case 'a':
		decide(t, CP_DECIDE_APPROVE, NULL);
		return true;
	case 'r':
		if (selected(t)) {
			t->back = t->mode;
			t->mode = REASONS;
			t->reason = 0;
		}
		return true;
	case 'e':
		refine(t);
		return true;
	case '/':
		if (t->mode == LIST) {
			t->back = LIST;
			t->mode = FILTER;
			sb_reset(&t->input);
			sb_adds(&t->input, sb_str(&t->filter));
		}
		return true;
	case KEY_CTRL('l'):
		resized = 1;
		return true;
	case KEY_CTRL('z'):
		raise(SIGTSTP);
		return true;
	}
	return true;
}

static bool handle(struct tui *t, int k)
{
	if (k == K_NONE)
		return true;
	if (t->mode == FILTER) {
		if (k == K_EOF)
			return false;
		filter_key(t, k);
		return true;
	}
	if (t->mode == REASONS) {
		if (k == K_EOF)
			return false;
		reason_key(t, k);
		return true;
	}
	/* a new key hides the last message, unless it is a decision */
	if (k != 'a' && k != 'r' && k != 'e')
		t->msg[0] = '\0';
	return view_key(t, k);
}

static void relayout(struct tui *t)
{
	term_size(&t->rows, &t->cols);
	if (t->mode == CARD || t->back == CARD) {
		json_t *c = selected(t) ? cp_inbox_card(t->db, t->u,
		    selected(t)->id) : NULL;
		if (c) {
			card_lines(t, c);
			json_decref(c);
		}
	}
	tty_write("\033[2J", 4);
}

int cp_triage_run(sqlite3 *db, const cp_user *u, const char *actor,
    const cp_inbox_filter *f)
{
	static bool registered;
	struct tui t;
	struct sigs old;
	int rc;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cp_err("-i needs a terminal (standard input and output)");
		return CP_EX_USAGE;
	}
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0) {
		cp_err("terminal: %s", strerror(errno));
		return CP_EX_OSERR;
	}
	memset(&t, 0, sizeof t);
	t.db = db;
	t.u = u;
	t.actor = actor;
	t.f = *f;
	t.ascii = !cp_u_locale_utf8();
	t.color = cp_term_color(STDOUT_FILENO);
	if ((rc = load(&t)))
		return rc;
	if (!registered) {
		atexit(tty_restore);
		registered = true;
	}
	signals_on(&old);
	if (tty_raw() < 0) {
		signals_off(&old);
		rows_free(&t);
		cp_err("terminal: %s", strerror(errno));
		return CP_EX_OSERR;
	}
	term_size(&t.rows, &t.cols);
	for (;;) {
		int k;

		if (resumed) {
			resumed = 0;
			tty_raw();
			resized = 1;
		}
		if (resized) {
			resized = 0;
			relayout(&t);
		}
		draw(&t);
		k = read_key();
		if (!handle(&t, k))
			break;
	}
	tty_restore();
	signals_off(&old);
	lines_free(&t);
	rows_free(&t);
	sb_free(&t.filter);
	sb_free(&t.input);
	return 0;
}
