#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mem.h"
#include "strbuf.h"
#include "table.h"
#include "unicode.h"

struct cp_table {
	int ncols;
	char **head;
	char ***rows;
	size_t nrows, cap;
	bool *right;
	int flex;
};

cp_table *cp_table_new(int ncols, const char *const *headers)
{
	cp_table *t = xcalloc(1, sizeof *t);
	int i;

	t->ncols = ncols;
	t->head = xcalloc((size_t)ncols, sizeof *t->head);
	t->right = xcalloc((size_t)ncols, sizeof *t->right);
	for (i = 0; i < ncols; i++)
		t->head[i] = xstrdup(headers && headers[i] ? headers[i] : "");
	t->flex = -1;
	return t;
}

void cp_table_right(cp_table *t, int col) { t->right[col] = true; }
void cp_table_flex(cp_table *t, int col) { t->flex = col; }
size_t cp_table_rows(const cp_table *t) { return t->nrows; }

void cp_table_add(cp_table *t, const char *const *cells)
{
	char **row = xcalloc((size_t)t->ncols, sizeof *row);
	int i;

	for (i = 0; i < t->ncols; i++)
		row[i] = xstrdup(cells[i] ? cells[i] : "");
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->rows = xrealloc(t->rows, t->cap * sizeof *t->rows);
	}
	t->rows[t->nrows++] = row;
}

static void print_row(cp_table *t, FILE *fp, char **cells, const int *w,
    bool ascii, const char *pre, const char *post)
{
	strbuf sb = CP_STRBUF_INIT;
	int i, last = t->ncols - 1;

	while (last > 0 && w[last] == 0)
		last--;
	sb_adds(&sb, pre);
	for (i = 0; i <= last; i++) {
		if (w[i] == 0)
			continue;
		if (i)
			sb_add(&sb, "  ", 2);
		/* the last column is not padded: no trailing blanks */
		if (i == last && !t->right[i]) {
			strbuf cell = CP_STRBUF_INIT;
			cp_u_fit(&cell, cells[i], w[i], false, ascii);
			while (cell.len && cell.buf[cell.len - 1] == ' ')
				cell.len--;
			sb_add(&sb, cell.buf ? cell.buf : "", cell.len);
			sb_free(&cell);
		} else {
			cp_u_fit(&sb, cells[i], w[i], t->right[i], ascii);
		}
	}
	/* no trailing blanks, whatever the empty cells at the end */
	while (sb.len && sb.buf[sb.len - 1] == ' ')
		sb_truncate(&sb, sb.len - 1);
	sb_adds(&sb, post);
	sb_addc(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, fp);
	sb_free(&sb);
}

void cp_table_print(cp_table *t, FILE *fp, int width, bool color, bool ascii)
{
	int *w = xcalloc((size_t)t->ncols, sizeof *w);
	int i, total;
	size_t r;

	for (i = 0; i < t->ncols; i++) {
		w[i] = cp_u_width(t->head[i]);
		for (r = 0; r < t->nrows; r++) {
			int cw = cp_u_width(t->rows[r][i]);
			if (cw > w[i])
				w[i] = cw;
		}
	}
	if (width > 0) {
		total = 0;
		for (i = 0; i < t->ncols; i++)
			total += w[i] + (i ? 2 : 0);
		/* shrink the flexible column down to 8, then the others from
		 * the right down to 4, then drop columns from the right */
		if (total > width && t->flex >= 0) {
			int cut = total - width, room = w[t->flex] - 8;
			if (room > 0) {
				int c = cut < room ? cut : room;
				w[t->flex] -= c;
				total -= c;
			}
		}
		for (i = t->ncols - 1; i >= 0 && total > width; i--) {
			int room = w[i] - 4;
			if (room > 0) {
				int c = total - width < room ? total - width : room;
				w[i] -= c;
				total -= c;
			}
		}
		for (i = t->ncols - 1; i > 0 && total > width; i--) {
			total -= w[i] + 2;
			w[i] = 0;
		}
	}
	print_row(t, fp, t->head, w, ascii, color ? "\033[1m" : "",
	    color ? "\033[0m" : "");
	for (r = 0; r < t->nrows; r++)
		print_row(t, fp, t->rows[r], w, ascii, "", "");
	free(w);
}

void cp_table_free(cp_table *t)
{
	size_t r;
	int i;

	if (!t)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	for (i = 0; i < t->ncols; i++)
		free(t->head[i]);
	free(t->rows);
	free(t->head);
	free(t->right);
	free(t);
}

int cp_term_width(int fd)
{
	const char *c = getenv("COLUMNS");
	struct winsize ws;

	if (!isatty(fd))
		return c && atoi(c) > 0 ? atoi(c) : 0;
	if (c && atoi(c) > 0)
		return atoi(c);
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

bool cp_term_color(int fd)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc && *nc)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fd);
}

void cp_table_print_term(cp_table *t, FILE *fp)
{
	cp_table_print(t, fp, cp_term_width(STDOUT_FILENO),
	    cp_term_color(STDOUT_FILENO), !cp_u_locale_utf8());
}
