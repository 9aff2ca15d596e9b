/*
 * cp-inbox — the account manager's inbox (clientpulse inbox).
 *
 *   cp-inbox [list] [FILTERS] [--json]     the caller's cards, best first
 *   cp-inbox show ID [--json]              one card, whole
 *   cp-inbox approve ID...|- [--note T]
 *   cp-inbox reject ID...|- --reason R [--note T]
 *   cp-inbox refine ID [--title T] [--narrative T] [--next-step T]
 *                      [--outreach CHANNEL=FILE]... [--note T]
 *                      (no field flags on a terminal: $EDITOR)
 *   cp-inbox stats [FILTERS] [--json]
 *   cp-inbox export --csv|--json [FILTERS]
 *   cp-inbox sla [HOURS]                   show or (admin) set the review SLA
 *   cp-inbox -i [FILTERS]                  interactive triage (lib/triage.c)
 *
 * Reading is scoped by lib/inbox.c, deciding goes through lib/review.c
 * (version-checked, audited).  Each subcommand is a row of commands[]
 * with the options it accepts; a new mode (interactive triage, -i) is a
 * new row and a new option bit, nothing else changes shape.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "csv.h"
#include "db.h"
#include "exitcode.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "pager.h"
#include "rbac.h"
#include "review.h"
#include "strbuf.h"
#include "table.h"
#include "timefmt.h"
#include "triage.h"
#include "unicode.h"
#include "utf8.h"

static const char usage[] =
	"usage: cp-inbox [list] [--all] [--status STATUS] [--min-score N]\n"
	"                [--account ID] [--theme THEME] [--source SOURCE]\n"
	"                [--since TIME|AGE] [--limit N] [--json] [--no-pager]\n"
	"       cp-inbox show ID [--json] [--no-pager]\n"
	"       cp-inbox approve ID...|- [--note TEXT]\n"
	"       cp-inbox reject ID...|- --reason not_relevant|already_known|\n"
	"                bad_timing|wrong_account|other [--note TEXT]\n"
	"       cp-inbox refine ID [--title TEXT] [--narrative TEXT]\n"
	"                [--next-step TEXT] [--outreach CHANNEL=FILE]... [--note TEXT]\n"
	"       cp-inbox stats [--account ID] [--theme THEME] [--source SOURCE]\n"
	"                [--since TIME|AGE] [--min-score N] [--json]\n"
	"       cp-inbox export --csv|--json [--all] [--status STATUS] [filters]\n"
	"       cp-inbox sla [HOURS] [--json]\n"
	"       cp-inbox -i|--interactive [--all] [--status STATUS] [filters]\n"
	"common options: --db FILE --as USER --tenant NAME -q -v --help --version\n";

enum {
	OPT_ALL = CP_OPT_LOCAL, OPT_STATUS, OPT_MINSCORE, OPT_ACCOUNT,
	OPT_THEME, OPT_SOURCE, OPT_SINCE, OPT_LIMIT, OPT_JSON, OPT_CSV,
	OPT_NOTE, OPT_REASON, OPT_TITLE, OPT_NARRATIVE, OPT_NEXTSTEP,
	OPT_OUTREACH, OPT_NOPAGER, OPT_INTERACTIVE
};

static const struct option longopts[] = {
	{ "all", no_argument, NULL, OPT_ALL },
	{ "status", required_argument, NULL, OPT_STATUS },
	{ "min-score", required_argument, NULL, OPT_MINSCORE },
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "narrative", required_argument, NULL, OPT_NARRATIVE },
	{ "next-step", required_argument, NULL, OPT_NEXTSTEP },
	{ "outreach", required_argument, NULL, OPT_OUTREACH },
	{ "no-pager", no_argument, NULL, OPT_NOPAGER },
	{ "interactive", no_argument, NULL, OPT_INTERACTIVE },
	CP_CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* One bit per local option, to check which subcommand takes which. */
#define BIT(opt) (1u << ((opt) - CP_OPT_LOCAL))
#define F_FILTERS (BIT(OPT_MINSCORE) | BIT(OPT_ACCOUNT) | BIT(OPT_THEME) | \
	BIT(OPT_SOURCE) | BIT(OPT_SINCE))
#define F_SELECT (F_FILTERS | BIT(OPT_ALL) | BIT(OPT_STATUS) | BIT(OPT_LIMIT))
#define F_REFINE (BIT(OPT_TITLE) | BIT(OPT_NARRATIVE) | BIT(OPT_NEXTSTEP) | \
	BIT(OPT_OUTREACH))

static struct {
	unsigned given;             /* BIT() of each local option seen */
	cp_inbox_filter f;
	int json, csv, no_pager;
	const char *note, *reason;
	cp_refinement refine;
	json_t *outreach;           /* drafts from --outreach */
} o;

static sqlite3 *db;
static cp_user me;
static char actor[300];

/* ---- output helpers ---------------------------------------------------- */

static bool color_on(void)
{
	return cp_term_color(STDOUT_FILENO);
}

static bool ascii_only(void)
{
	return !cp_u_locale_utf8();
}

/* Start buffered output (paged at the end when it is long). */
static FILE *page_open(char **buf, size_t *len)
{
	FILE *fp = open_memstream(buf, len);

	if (!fp)
		cp_die(CP_EX_OSERR, "out of memory");
	return fp;
}

static int page_close(FILE *fp, char **buf, size_t *len)
{
	int rc;

	fclose(fp);
	rc = cp_page(*buf, *len, !o.no_pager);
	free(*buf);
	*buf = NULL;
	return rc;
}

static time_t parse_ts(const char *s)
{
	time_t t = 0;

	cp_time_parse(s, &t);
	return t;
}

/* ---- list -------------------------------------------------------------- */

static long list_limit(void)
{
	if (o.given & BIT(OPT_LIMIT))
		return o.f.limit;
	return cp_conf_long("inbox.limit", NULL, 100);
}

static void add_list_row(cp_table *t, sqlite3_stmt *st, time_t now,
    bool with_status)
{
	const char *cells[7];
	char sid[CP_INBOX_SHORT_ID + 1], score[16], age[CP_INBOX_AGE_MAX];
	strbuf acct = CP_STRBUF_INIT, title = CP_STRBUF_INIT;
	const char *id = cp_db_col_text(st, CP_IQ_ID);
	int n = 0;

	snprintf(sid, sizeof sid, "%s", strncmp(id, "card_", 5) ? id : id + 5);
	snprintf(score, sizeof score, "%.0f",
	    sqlite3_column_double(st, CP_IQ_SCORE));
	cp_inbox_age(now, parse_ts(cp_db_col_text(st, CP_IQ_CREATED)), age);
	cp_inbox_clean(&acct, cp_db_col_text(st, CP_IQ_ACCOUNT_NAME), false);
	cp_inbox_clean(&title, cp_db_col_text(st, CP_IQ_TITLE), false);
	cells[n++] = sid;
	cells[n++] = score;
	cells[n++] = age;
	cells[n++] = sb_str(&acct);
	cells[n++] = cp_db_col_text(st, CP_IQ_THEME);
	if (with_status)
		cells[n++] = cp_db_col_text(st, CP_IQ_STATUS);
	cells[n++] = sb_str(&title);
	cp_table_add(t, cells);
	sb_free(&acct);
	sb_free(&title);
}

static int cmd_list(int argc, char **argv)
{
	static const char *const head[] = { "ID", "SCORE", "AGE", "ACCOUNT",
	    "THEME", "TITLE" };
	static const char *const head_st[] = { "ID", "SCORE", "AGE", "ACCOUNT",
	    "THEME", "STATUS", "TITLE" };
	long limit = list_limit(), n = 0;
	bool with_status = strcmp(cp_inbox_status(o.f.status),
	    "pending_review") != 0;
	int ncols = with_status ? 7 : 6, rc;
	time_t now = cp_now();
	sqlite3_stmt *st;
	cp_table *t = NULL;
	bool more = false;

	(void)argc;
	(void)argv;
	if ((rc = cp_rbac_load_scope(db, &me)))
		return rc;
	/* one row past the limit says whether there is more */
	st = cp_inbox_query(db, &me, &o.f, limit > 0 ? limit + 1 : 0);
	if (!o.json)
		t = cp_table_new(ncols, with_status ? head_st : head);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit > 0 && n == limit) {
			more = true;
			break;
		}
		n++;
		if (o.json) {
			json_t *rec = cp_inbox_row_card(st);
			cp_emit(rec);
			json_decref(rec);
		} else {
			add_list_row(t, st, now, with_status);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		cp_table_free(t);
		return cp_db_error(db, "list cards");
	}
	rc = 0;
	if (t && cp_table_rows(t)) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = page_open(&buf, &len);

		cp_table_right(t, 1);
		cp_table_right(t, 2);
		cp_table_flex(t, ncols - 1);
		cp_table_print(t, fp, cp_term_width(STDOUT_FILENO), color_on(),
		    ascii_only());
		rc = page_close(fp, &buf, &len);
	} else if (t && isatty(STDOUT_FILENO)) {
		cp_log(CP_LOG_WARN, "no cards%s", o.f.all ? "" :
		    " for you (--all shows your whole scope)");
	}
	cp_table_free(t);
	/* people are told; programs reading --json set their own --limit */
	if (more && !o.json)
		cp_log(CP_LOG_WARN, "showing the first %ld cards; more match "
		    "(--limit 0 shows all)", limit);
	return rc;
}

/* ---- show -------------------------------------------------------------- */

static void heading(FILE *fp, const char *s)
{
	if (color_on())
		fprintf(fp, "\n\033[1m%s\033[0m\n", s);
	else
		fprintf(fp, "\n%s\n", s);
}

/* Word-wrap text to width (0: no wrapping), each line indented; blank
 * lines between paragraphs are kept. */
static void wrap(FILE *fp, const char *text, int width, const char *indent)
{
	strbuf clean = CP_STRBUF_INIT, line = CP_STRBUF_INIT;
	char *para, *next, *p, *wsave = NULL;
	int iw = cp_u_width(indent);

	cp_inbox_clean(&clean, text, true);
	for (para = clean.buf; para; para = next) {
		int used = 0;

		if ((next = strchr(para, '\n')))
			*next++ = '\0';
		sb_reset(&line);
		for (p = strtok_r(para, " ", &wsave); p;
		    p = strtok_r(NULL, " ", &wsave)) {
			int w = cp_u_width(p);
			if (used && width > 0 && iw + used + 1 + w > width) {
				fprintf(fp, "%s%s\n", indent, sb_str(&line));
				sb_reset(&line);
				used = 0;
			}
			if (used) {
				sb_addc(&line, ' ');
				used++;
			}
			sb_adds(&line, p);
			used += w;
		}
		fprintf(fp, "%s%s\n", line.len ? indent : "", sb_str(&line));
	}
	sb_free(&line);
	sb_free(&clean);
}

/* One cleaned line of text after an indent. */
static void indented(FILE *fp, const char *indent, const char *text)
{
	strbuf v = CP_STRBUF_INIT;

	cp_inbox_clean(&v, text, false);
	fprintf(fp, "%s%s\n", indent, sb_str(&v));
	sb_free(&v);
}

static void field_line(FILE *fp, const char *label, const char *value)
{
	strbuf v = CP_STRBUF_INIT;

	cp_inbox_clean(&v, value, false);
	fprintf(fp, "%-10s %s\n", label, sb_str(&v));
	sb_free(&v);
}

static void show_evidence(FILE *fp, const char *id, const json_t *card,
    int width)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT url, quote, published_at"
	    " FROM card_evidence WHERE card_id = ? ORDER BY published_at, url");
	int n = 0;

	heading(fp, "Evidence");
	cp_db_bind_text(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strbuf q = CP_STRBUF_INIT;
		sb_addf(&q, "\"%s\"", cp_db_col_text(st, 1));
		fprintf(fp, "%3d. ", ++n);
		wrap(fp, sb_str(&q), width > 5 ? width - 5 : 0, "");
		indented(fp, "     ", cp_db_col_text(st, 0));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			indented(fp, "     published ", cp_db_col_text(st, 2));
		sb_free(&q);
	}
	sqlite3_finalize(st);
	if (n == 0) {
		/* a card without evidence rows: what its record says */
		json_t *e;
		size_t i;
		json_array_foreach(json_object_get(card, "evidence"), i, e) {
			strbuf q = CP_STRBUF_INIT;
			sb_addf(&q, "\"%s\"", cp_json_strd(e, "quote", ""));
			fprintf(fp, "%3d. ", ++n);
			wrap(fp, sb_str(&q), width > 5 ? width - 5 : 0, "");
			indented(fp, "     ", cp_json_strd(e, "url", ""));
			sb_free(&q);
		}
	}
	if (n == 0)
		fprintf(fp, "  (none)\n");
}

static void show_factors(FILE *fp, const json_t *card, int width)
{
	static const char *const order[] = { "impact", "urgency", "fit",
	    "access", "feasibility", "confidence", NULL };
	static const char *const head[] = { "FACTOR", "VALUE", "WEIGHT",
	    "REASON" };
	json_t *factors = json_object_get(card, "factors"), *f;
	cp_table *t = cp_table_new(4, head);
	const char *key;
	double score = 0;
	char total[32];
	int i;

	heading(fp, "Score breakdown");
	for (i = 0; order[i]; i++) {
		if (!(f = json_object_get(factors, order[i])))
			continue;
		char v[32], w[32];
		strbuf r = CP_STRBUF_INIT;
		const char *cells[4];
		double x = 0, y = 0;
		cp_json_num(f, "value", &x);
		cp_json_num(f, "weight", &y);
		snprintf(v, sizeof v, "%.2f", x);
		snprintf(w, sizeof w, "%.2f", y);
		cp_inbox_clean(&r, cp_json_strd(f, "reason", ""), false);
		cells[0] = order[i];
		cells[1] = v;
		cells[2] = w;
		cells[3] = sb_str(&r);
		cp_table_add(t, cells);
		sb_free(&r);
	}
	/* factors a later scorer adds, after the six */
	json_object_foreach(factors, key, f) {
		const char *cells[4];
		char v[32], w[32];
		double x = 0, y = 0;
		for (i = 0; order[i] && strcmp(order[i], key); i++)
			;
		if (order[i])
			continue;
		cp_json_num(f, "value", &x);
		cp_json_num(f, "weight", &y);
		snprintf(v, sizeof v, "%.2f", x);
		snprintf(w, sizeof w, "%.2f", y);
		cells[0] = key;
		cells[1] = v;
		cells[2] = w;
		cells[3] = cp_json_strd(f, "reason", "");
		cp_table_add(t, cells);
	}
	cp_json_num(card, "score", &score);
	snprintf(total, sizeof total, "%.1f", score);
	{
		const char *cells[4] = { "total", "", "", total };
		cp_table_add(t, cells);
	}
	cp_table_right(t, 1);
	cp_table_right(t, 2);
	cp_table_flex(t, 3);
	{
		char *buf = NULL, *line, *nl;
		size_t len = 0;
		FILE *tf = open_memstream(&buf, &len);
		if (!tf)
			cp_die(CP_EX_OSERR, "out of memory");
		cp_table_print(t, tf, width > 2 ? width - 2 : 0, false,
		    ascii_only());
		fclose(tf);
		for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			fprintf(fp, "  %.*s\n", nl ? (int)(nl - line) :
			    (int)strlen(line), line);
		}
		free(buf);
	}
	cp_table_free(t);
}

static void show_assets(FILE *fp, const json_t *card)
{
	json_t *refs = json_object_get(card, "asset_refs"), *a;
	size_t i;

	if (!json_array_size(refs))
		return;
	heading(fp, "Assets");
	json_array_foreach(refs, i, a) {
		strbuf s = CP_STRBUF_INIT;
		if (json_is_string(a)) {
			sb_adds(&s, json_string_value(a));
		} else {
			const char *title = cp_json_str(a, "title"),
			    *url = cp_json_str(a, "url"), *id = cp_json_str(a, "id");
			sb_adds(&s, title ? title : id ? id : "?");
			if (url)
				sb_addf(&s, " <%s>", url);
		}
		indented(fp, "  - ", sb_str(&s));
		sb_free(&s);
	}
}

static void show_outreach(FILE *fp, const json_t *card, int width)
{
	json_t *drafts = json_object_get(card, "outreach"), *d;
	size_t i;

	if (!json_array_size(drafts))
		return;
	heading(fp, "Outreach drafts");
	json_array_foreach(drafts, i, d) {
		strbuf h = CP_STRBUF_INIT;
		sb_addf(&h, "[%s]", cp_json_strd(d, "channel", "?"));
		if (cp_json_str(d, "subject"))
			sb_addf(&h, " %s", cp_json_str(d, "subject"));
		indented(fp, "  ", sb_str(&h));
		wrap(fp, cp_json_strd(d, "body", ""), width, "    ");
		sb_free(&h);
	}
}

struct hist {
	char ts[CP_TIME_MAX];
	int64_t version, seq;
	char *text;
};

static int hist_cmp(const void *a, const void *b)
{
	const struct hist *x = a, *y = b;
	int c = strcmp(x->ts, y->ts);

	if (c)
		return c;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *clean_dup(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;

	cp_inbox_clean(&sb, s, false);
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

static struct hist *hist_add(struct hist **h, size_t *n, size_t *cap)
{
	if (*n == *cap)
		*h = xrealloc(*h, (*cap = *cap ? *cap * 2 : 8) * sizeof **h);
	memset(&(*h)[*n], 0, sizeof **h);
	return &(*h)[(*n)++];
}

/* The card's versions and its audit entries, one line per event: a
 * version made by an audited change is shown once, with the action. */
static void show_history(FILE *fp, const char *id)
{
	struct hist *h = NULL, *e;
	size_t n = 0, cap = 0, i, nver;
	sqlite3_stmt *st;

	st = cp_db_prepare(db, "SELECT version, created_at, actor"
	    " FROM card_versions WHERE card_id = ? ORDER BY version");
	cp_db_bind_text(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *who = clean_dup(cp_db_col_text(st, 2));
		e = hist_add(&h, &n, &cap);
		e->version = sqlite3_column_int64(st, 0);
		snprintf(e->ts, sizeof e->ts, "%s", cp_db_col_text(st, 1));
		e->text = xasprintf("v%-3lld %-14s %s", (long long)e->version,
		    e->version == 1 ? "created" : "updated", who);
		free(who);
	}
	sqlite3_finalize(st);
	nver = n;
	st = cp_db_prepare(db, "SELECT seq, ts, actor, action, diff, reason"
	    " FROM audit WHERE entity_id = ?1 AND tenant_id = ?2 ORDER BY seq");
	cp_db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, me.tenant_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *d = json_loads(cp_db_col_text(st, 4), 0, NULL);
		int64_t v = cp_json_int(json_object_get(d, "new"), "version", 0);
		char *who = clean_dup(cp_db_col_text(st, 2));
		char *act = clean_dup(cp_db_col_text(st, 3));
		strbuf s = CP_STRBUF_INIT;

		json_decref(d);
		if (v)
			sb_addf(&s, "v%-3lld ", (long long)v);
		else
			sb_adds(&s, "     ");
		sb_addf(&s, "%-14s %s", act, who);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			char *why = clean_dup(cp_db_col_text(st, 5));
			sb_addf(&s, ": %s", why);
			free(why);
		}
		free(who);
		free(act);
		/* the version row this entry explains is not shown twice */
		for (i = 0; v && i < nver; i++)
			if (h[i].version == v && h[i].text) {
				free(h[i].text);
				h[i].text = NULL;
			}
		e = hist_add(&h, &n, &cap);
		snprintf(e->ts, sizeof e->ts, "%s", cp_db_col_text(st, 1));
		e->version = v;
		e->seq = sqlite3_column_int64(st, 0);
		e->text = sb_detach(&s);
	}
	sqlite3_finalize(st);
	heading(fp, "History");
	if (n)
		qsort(h, n, sizeof *h, hist_cmp);
	for (i = 0; i < n; i++) {
		if (h[i].text)
			fprintf(fp, "  %s  %s\n", h[i].ts, h[i].text);
		free(h[i].text);
	}
	free(h);
}

static void show_narrative(FILE *fp, const json_t *c, int width)
{
	json_t *n = json_object_get(c, "narrative");
	char *text = cp_inbox_narrative_text(c);
	const char *next = cp_inbox_next_step(c), *src = cp_json_str(n, "source");
	char head[64];

	/* where the words came from: template, llm, edited */
	snprintf(head, sizeof head, src ? "Narrative (%s)" : "Narrative", src);
	heading(fp, head);
	wrap(fp, *text ? text : "(none)", width, "  ");
	if (cp_json_str(n, "llm_rejected")) {
		strbuf s = CP_STRBUF_INIT;
		sb_addf(&s, "(the model's narrative was not used: %s)",
		    cp_json_str(n, "llm_rejected"));
		wrap(fp, sb_str(&s), width, "  ");
		sb_free(&s);
	}
	if (next) {
		heading(fp, "Next step");
		wrap(fp, next, width, "  ");
	}
	free(text);
}

static void show_text(FILE *fp, const char *id, const json_t *c)
{
	int width = cp_term_width(STDOUT_FILENO);
	strbuf s = CP_STRBUF_INIT, title = CP_STRBUF_INIT;
	char age[CP_INBOX_AGE_MAX];
	double score = 0;
	const char *assignee = cp_json_str(c, "assignee");

	cp_inbox_clean(&title, cp_json_strd(c, "title", ""), false);
	if (color_on())
		fprintf(fp, "\033[1m%s\033[0m\n", sb_str(&title));
	else
		fprintf(fp, "%s\n", sb_str(&title));
	fprintf(fp, "%-10s %s\n", "id", id);
	sb_addf(&s, "%s (%s)", cp_json_strd(c, "account_name", ""),
	    cp_json_strd(c, "account_id", ""));
	field_line(fp, "account", sb_str(&s));
	sb_reset(&s);
	sb_addf(&s, "%s, version %lld", cp_json_strd(c, "status", ""),
	    (long long)cp_json_int(c, "version", 0));
	if (assignee)
		sb_addf(&s, ", assigned to %s", assignee);
	field_line(fp, "status", sb_str(&s));
	sb_reset(&s);
	cp_json_num(c, "score", &score);
	sb_addf(&s, "%.0f (theme %s", score, cp_json_strd(c, "theme", "?"));
	if (cp_json_str(c, "playbook_id"))
		sb_addf(&s, ", playbook %s", cp_json_str(c, "playbook_id"));
	sb_addc(&s, ')');
	field_line(fp, "score", sb_str(&s));
	sb_reset(&s);
	cp_inbox_age(cp_now(), parse_ts(cp_json_strd(c, "created_at", "")), age);
	sb_addf(&s, "%s (%s ago)", cp_json_strd(c, "created_at", "?"), age);
	field_line(fp, "created", sb_str(&s));
	if (cp_json_str(c, "decided_at"))
		field_line(fp, "decided", cp_json_str(c, "decided_at"));
	sb_free(&s);
	sb_free(&title);

	show_narrative(fp, c, width);
	show_evidence(fp, id, c, width);
	show_factors(fp, c, width);
	show_assets(fp, c);
	show_outreach(fp, c, width);
	show_history(fp, id);
}

static int cmd_show(int argc, char **argv)
{
	char id[CP_ID_MAX], *buf = NULL;
	int64_t v;
	bool said;
	json_t *card;
	size_t len = 0;
	FILE *fp;
	int rc;

	if (argc != 1)
		cp_usage_error(usage, "show takes one card ID");
	if ((rc = cp_rbac_load_scope(db, &me)) ||
	    (rc = cp_inbox_resolve(db, &me, argv[0], id, &v, &said)))
		return rc;
	if (!(card = cp_inbox_card(db, &me, id)))
		return cp_rbac_deny(argv[0]);
	if (o.json) {
		cp_emit(card);
		json_decref(card);
		return 0;
	}
	fp = page_open(&buf, &len);
	show_text(fp, id, card);
	json_decref(card);
	return page_close(fp, &buf, &len);
}

/* ---- decisions --------------------------------------------------------- */

struct idlist {
	char **v;
	size_t n, cap;
};

static void ids_add(struct idlist *l, const char *s)
{
	if (l->n == l->cap)
		l->v = xrealloc(l->v, (l->cap = l->cap ? l->cap * 2 : 16) *
		    sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

static void ids_free(struct idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Ids from the arguments; "-" reads more from stdin, one per line (the
 * first word; blank lines and # comments skipped). */
static int collect_ids(int argc, char **argv, struct idlist *l)
{
	int i;

	for (i = 0; i < argc; i++) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		if (strcmp(argv[i], "-")) {
			ids_add(l, argv[i]);
			continue;
		}
		while ((len = getline(&line, &cap, stdin)) >= 0) {
			char *p = line, *e;
			while (*p == ' ' || *p == '\t')
				p++;
			for (e = p; *e && !strchr(" \t\r\n", *e); e++)
				;
			*e = '\0';
			if (*p && *p != '#')
				ids_add(l, p);
		}
		free(line);
		if (ferror(stdin)) {
			cp_err("<stdin>: %s", strerror(errno));
			return CP_EX_IOERR;
		}
	}
	return 0;
}

static const char *done_word(cp_decision d)
{
	return d == CP_DECIDE_APPROVE ? "approved" :
	    d == CP_DECIDE_REJECT ? "rejected" : "refined";
}

/* Decide each id in its own transaction: a bad id is reported and the
 * others still go through; the status is the first failure's. */
static int decide_all(int argc, char **argv, const cp_review *r)
{
	struct idlist ids = { NULL, 0, 0 }, seen = { NULL, 0, 0 };
	size_t i, j;
	int rc, worst = 0;

	if ((rc = cp_rbac_require(&me, CP_ACT_DECIDE)))
		return rc;
	if (argc < 1)
		cp_usage_error(usage, "%s takes at least one card ID (or - for "
		    "stdin)", cp_decision_name(r->decision));
	if ((rc = collect_ids(argc, argv, &ids)) ||
	    (rc = cp_rbac_load_scope(db, &me))) {
		ids_free(&ids);
		return rc;
	}
	for (i = 0; i < ids.n; i++) {
		char id[CP_ID_MAX];
		int64_t v, nv = 0;
		bool said, dup = false;

		if ((rc = cp_inbox_resolve(db, &me, ids.v[i], id, &v, &said))) {
			worst = cp_exit_worst(worst, rc);
			continue;
		}
		for (j = 0; j < seen.n && !dup; j++)
			dup = !strcmp(seen.v[j], id);
		if (dup)
			continue;
		ids_add(&seen, id);
		rc = cp_review_apply(db, &me, actor, id, v, r, &nv);
		if (rc) {
			worst = cp_exit_worst(worst, rc);
			/* a database failure is not about this one card */
			if (rc != CP_EX_TEMPFAIL && rc != CP_EX_NOPERM &&
			    rc != CP_EX_DATAERR)
				break;
			continue;
		}
		if (nv != v && cp_log_level() >= CP_LOG_WARN)
			printf("%s %s (version %lld)\n", id, done_word(r->decision),
			    (long long)nv);
	}
	ids_free(&ids);
	ids_free(&seen);
	return worst;
}

static int cmd_approve(int argc, char **argv)
{
	cp_review r = { CP_DECIDE_APPROVE, NULL, o.note, NULL };

	return decide_all(argc, argv, &r);
}

static int cmd_reject(int argc, char **argv)
{
	cp_review r = { CP_DECIDE_REJECT, o.reason, o.note, NULL };

	if (!o.reason)
		cp_usage_error(usage, "reject: --reason is required");
	return decide_all(argc, argv, &r);
}

/* ---- refine ------------------------------------------------------------ */

/* A whole text file, valid UTF-8, at most 1 MiB; NULL after a message. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	strbuf sb = CP_STRBUF_INIT;
	char chunk[8192];
	size_t n;

	if (!fp) {
		cp_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 && sb.len < 1 << 20)
		sb_add(&sb, chunk, n);
	if (ferror(fp) || sb.len >= 1 << 20 || !cp_utf8_valid(sb_str(&sb), sb.len) ||
	    memchr(sb_str(&sb), '\0', sb.len)) {
		cp_err("%s: %s", path, ferror(fp) ? strerror(errno) :
		    sb.len >= 1 << 20 ? "larger than 1 MiB" : "not UTF-8 text");
		fclose(fp);
		sb_free(&sb);
		return NULL;
	}
	fclose(fp);
	return sb_detach(&sb);
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
}

/* An outreach draft from text: an optional "Subject: …" first line (and
 * the blank line after it), then the body. */
static json_t *draft_from_text(const char *channel, const char *text)
{
	json_t *d = json_object();
	const char *body = text;

	cp_json_set_str(d, "channel", channel);
	if (!strncmp(text, "Subject:", 8)) {
		const char *nl = strchr(text, '\n');
		char *subj = xstrndup(text + 8, nl ? (size_t)(nl - text - 8) :
		    strlen(text + 8));
		char *p = subj;
		trim_end(subj);
		while (*p == ' ')
			p++;
		cp_json_set_str(d, "subject", p);
		free(subj);
		body = nl ? nl + 1 : "";
		while (*body == '\n' || *body == '\r')
			body++;
	}
	{
		char *b = xstrdup(body);
		trim_end(b);
		cp_json_set_str(d, "body", b);
		free(b);
	}
	return d;
}

static bool valid_channel(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_'))
			return false;
	return true;
}

static void add_outreach(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *channel, *text;

	if (!eq || !valid_channel(arg, (size_t)(eq - arg)) || !eq[1])
		cp_usage_error(usage, "--outreach: expected CHANNEL=FILE "
		    "(channel: lowercase letters, digits, _), not '%s'", arg);
	channel = xstrndup(arg, (size_t)(eq - arg));
	if (!(text = slurp(eq + 1)))
		exit(CP_EX_NOINPUT);
	if (!o.outreach)
		o.outreach = json_array();
	json_array_append_new(o.outreach, draft_from_text(channel, text));
	free(channel);
	free(text);
}

/*
 * The editor's file, mail-style: header lines, a blank line, the
 * narrative, then one "--- outreach CHANNEL" section per draft (an
 * optional Subject: line first).  Lines starting with '#' are comments.
 */
static void editor_write(FILE *fp, const char *id, const json_t *c)
{
	char *narr = cp_inbox_narrative_text(c);
	const char *next = cp_inbox_next_step(c);
	json_t *d;
	size_t i;

	fprintf(fp, "# Refine %s (version %lld).  Lines starting with '#' are "
	    "ignored.\n# Headers, a blank line, the narrative, then outreach "
	    "sections.\n# Save and quit to apply; delete everything to "
	    "cancel.\n", id, (long long)cp_json_int(c, "version", 0));
	fprintf(fp, "Title: %s\n", cp_json_strd(c, "title", ""));
	fprintf(fp, "Next-Step: %s\n\n", next ? next : "");
	fprintf(fp, "%s\n", narr);
	free(narr);
	json_array_foreach(json_object_get(c, "outreach"), i, d) {
		fprintf(fp, "\n--- outreach %s\n", cp_json_strd(d, "channel", "?"));
		if (cp_json_str(d, "subject"))
			fprintf(fp, "Subject: %s\n\n", cp_json_str(d, "subject"));
		fprintf(fp, "%s\n", cp_json_strd(d, "body", ""));
	}
}

/* Parse the edited file into o.refine (fields that differ from c only).
 * false when the file was emptied (cancel) or is malformed. */
static bool editor_read(const char *text, const json_t *c, char **title,
    char **next, char **narr)
{
	strbuf body = CP_STRBUF_INIT, sect = CP_STRBUF_INIT;
	char *copy = xstrdup(text), *line, *channel = NULL;
	bool in_head = true, any = false;

	*title = *next = *narr = NULL;
	line = copy;
	while (line && *line != '\0') {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line == '#') {
			line = nl ? nl + 1 : NULL;
			continue;
		}
		any = any || *line;
		if (in_head) {
			if (!*line)
				in_head = false;
			else if (!strncmp(line, "Title:", 6))
				*title = xstrdup(line + 6 + strspn(line + 6, " "));
			else if (!strncmp(line, "Next-Step:", 10))
				*next = xstrdup(line + 10 + strspn(line + 10, " "));
			else
				in_head = false;   /* no header: all narrative */
		}
		if (!in_head && *line && !strncmp(line, "--- outreach ", 13)) {
			if (channel) {
				if (!o.outreach)
					o.outreach = json_array();
				json_array_append_new(o.outreach,
				    draft_from_text(channel, sb_str(&sect)));
				free(channel);
			}
			channel = xstrdup(line + 13);
			trim_end(channel);
			sb_reset(&sect);
		} else if (!in_head && channel) {
			sb_adds(&sect, line);
			sb_addc(&sect, '\n');
		} else if (!in_head && (*line || body.len)) {
			sb_adds(&body, line);
			sb_addc(&body, '\n');
		}
		line = nl ? nl + 1 : NULL;
	}
	if (channel) {
		if (!o.outreach)
			o.outreach = json_array();
		json_array_append_new(o.outreach,
		    draft_from_text(channel, sb_str(&sect)));
		free(channel);
	}
	free(copy);
	*narr = sb_detach(&body);
	trim_end(*narr);
	sb_free(&sect);
	(void)c;
	return any;
}

static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	char *cmd;
	int status;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	/* the command may carry arguments ("code -w"): through the shell,
	 * with the file as a positional parameter, never spliced in */
	cmd = xasprintf("%s \"$1\"", ed);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		cp_err("cannot run the editor: %s", strerror(errno));
		return CP_EX_OSERR;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cp_err("editor '%s' failed; nothing changed", ed);
		return CP_EX_UNAVAILABLE;
	}
	return 0;
}

static int refine_in_editor(const char *id, int64_t v, char **title,
    char **next, char **narr, char *path, size_t pathsz)
{
	json_t *c = cp_inbox_card(db, &me, id);
	const char *tmp = getenv("TMPDIR");
	char *text;
	FILE *fp;
	int fd, rc;

	if (!c)
		return cp_rbac_deny(id);
	snprintf(path, pathsz, "%s/cp-inbox-refine.XXXXXX.txt",
	    tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemps(path, 4)) < 0 || !(fp = fdopen(fd, "w"))) {
		cp_err("%s: %s", path, strerror(errno));
		json_decref(c);
		return CP_EX_CANTCREAT;
	}
	editor_write(fp, id, c);
	if (fclose(fp) != 0) {
		cp_err("%s: %s", path, strerror(errno));
		json_decref(c);
		return CP_EX_IOERR;
	}
	(void)v;
	if ((rc = run_editor(path))) {
		json_decref(c);
		return rc;
	}
	if (!(text = slurp(path))) {
		json_decref(c);
		return CP_EX_DATAERR;
	}
	if (!editor_read(text, c, title, next, narr)) {
		free(*title), *title = NULL;
		free(*next), *next = NULL;
		free(*narr), *narr = NULL;
		free(text);
		json_decref(c);
		return -1;             /* emptied: cancelled */
	}
	/* unchanged fields stay NULL so refine touches only what changed */
	if (*title && !strcmp(*title, cp_json_strd(c, "title", "")))
		free(*title), *title = NULL;
	if (*next && !strcmp(*next, cp_inbox_next_step(c) ?
	    cp_inbox_next_step(c) : ""))
		free(*next), *next = NULL;
	{
		char *cur = cp_inbox_narrative_text(c);
		if (*narr && !strcmp(*narr, cur))
			free(*narr), *narr = NULL;
		free(cur);
	}
	free(text);
	json_decref(c);
	return 0;
}

static int cmd_refine(int argc, char **argv)
{
	char id[CP_ID_MAX], path[4096] = "";
	char *title = NULL, *next = NULL, *narr = NULL;
	cp_review r = { CP_DECIDE_REFINE, NULL, o.note, &o.refine };
	int64_t v, nv = 0;
	bool said, edited = false;
	int rc;

	if (argc != 1)
		cp_usage_error(usage, "refine takes one card ID");
	if (!(o.given & F_REFINE) &&
	    !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)))
		cp_usage_error(usage, "refine: nothing to change; give --title, "
		    "--narrative, --next-step or --outreach (or run it on a "
		    "terminal to edit the card in $EDITOR)");
	if ((rc = cp_rbac_require(&me, CP_ACT_DECIDE)) ||
	    (rc = cp_rbac_load_scope(db, &me)) ||
	    (rc = cp_inbox_resolve(db, &me, argv[0], id, &v, &said)))
		return rc;
	if (!(o.given & F_REFINE)) {
		rc = refine_in_editor(id, v, &title, &next, &narr, path,
		    sizeof path);
		if (rc == -1) {
			cp_log(CP_LOG_WARN, "empty file: refine cancelled");
			unlink(path);
			return 0;
		}
		if (rc) {
			if (*path)
				unlink(path);
			return rc;
		}
		o.refine.title = title;
		o.refine.next_step = next;
		o.refine.narrative = narr;
		edited = true;
	}
	o.refine.outreach = o.outreach;
	rc = cp_review_apply(db, &me, actor, id, v, &r, &nv);
	if (edited) {
		/* a lost race must not lose the person's writing */
		if (rc == CP_EX_TEMPFAIL)
			cp_err("your edit is kept in %s", path);
		else
			unlink(path);
	}
	if (!rc && nv != v && cp_log_level() >= CP_LOG_WARN)
		printf("%s refined (version %lld)\n", id, (long long)nv);
	else if (!rc && nv == v)
		cp_log(CP_LOG_WARN, "%s: nothing changed", id);
	free(title);
	free(next);
	free(narr);
	return rc;
}

/* ---- stats ------------------------------------------------------------- */

struct counts {
	long pending, approved, rejected, pushed;
};

static long counts_total(const struct counts *c)
{
	return c->pending + c->approved + c->rejected + c->pushed;
}

static void count_status(struct counts *c, const char *status, long n)
{
	if (!strcmp(status, "pending_review"))
		c->pending += n;
	else if (!strcmp(status, "approved"))
		c->approved += n;
	else if (!strcmp(status, "rejected"))
		c->rejected += n;
	else if (!strcmp(status, "pushed"))
		c->pushed += n;
}

/* The scoped WHERE every stats query shares (no status, no assignee). */
static char *stats_where(void)
{
	strbuf sb = CP_STRBUF_INIT;

	sb_adds(&sb, " WHERE c.tenant_id = :tenant"
	    " AND c.account_id IN (SELECT account_id FROM temp.scope)");
	if (o.f.has_min_score)
		sb_adds(&sb, " AND c.score >= :min_score");
	if (o.f.account)
		sb_adds(&sb, " AND c.account_id = :account");
	if (o.f.theme)
		sb_adds(&sb, " AND c.theme = :theme");
	if (o.f.source)
		sb_adds(&sb, " AND c.source = :source");
	if (*o.f.since)
		sb_adds(&sb, " AND c.created_at >= :since");
	return sb_detach(&sb);
}

static sqlite3_stmt *stats_prepare(const char *fmt)
{
	char *where = stats_where(), *sql;
	sqlite3_stmt *st;
	int i;

	sql = xasprintf(fmt, where);
	st = cp_db_prepare(db, sql);
	free(sql);
	free(where);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":tenant"),
	    me.tenant_id);
	if ((i = sqlite3_bind_parameter_index(st, ":min_score")))
		sqlite3_bind_double(st, i, o.f.min_score);
	if ((i = sqlite3_bind_parameter_index(st, ":account")))
		cp_db_bind_text(st, i, o.f.account);
	if ((i = sqlite3_bind_parameter_index(st, ":theme")))
		cp_db_bind_text(st, i, o.f.theme);
	if ((i = sqlite3_bind_parameter_index(st, ":source")))
		cp_db_bind_text(st, i, o.f.source);
	if ((i = sqlite3_bind_parameter_index(st, ":since")))
		cp_db_bind_text(st, i, o.f.since);
	if ((i = sqlite3_bind_parameter_index(st, ":now"))) {
		char now[CP_TIME_MAX];
		cp_time_format(cp_now(), now);
		cp_db_bind_text(st, i, now);
	}
	return st;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)ceil(p * (double)n);
	if (k < 1)
		k = 1;
	return v[k - 1];
}

static json_t *counts_json(const struct counts *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "pending_review", (json_int_t)c->pending,
	    "approved", (json_int_t)c->approved,
	    "rejected", (json_int_t)c->rejected,
	    "pushed", (json_int_t)c->pushed,
	    "total", (json_int_t)counts_total(c));
}

static double acceptance(const struct counts *c, long *decided)
{
	*decided = c->approved + c->pushed + c->rejected;
	return *decided ? (double)(c->approved + c->pushed) / (double)*decided : 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const char *const thead[] = { "THEME", "PENDING", "APPROVED",
	    "REJECTED", "PUSHED", "TOTAL", "ACCEPTED" };
	struct counts all = { 0, 0, 0, 0 };
	struct theme { char *name; struct counts c; } *themes = NULL;
	size_t nthemes = 0, i, ntimes = 0, cap = 0;
	double *times = NULL;
	long sla = cp_inbox_sla_hours(db, me.tenant_id), breach_pending = 0,
	    late = 0, decided;
	char oldest[CP_TIME_MAX] = "";
	sqlite3_stmt *st;
	int rc;

	(void)argv;
	if (argc)
		cp_usage_error(usage, "stats takes no arguments");
	if ((rc = cp_rbac_load_scope(db, &me)))
		return rc;
	st = stats_prepare("SELECT c.theme, c.status, count(*) FROM cards c%s"
	    " GROUP BY c.theme, c.status ORDER BY c.theme");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *th = cp_db_col_text(st, 0), *s = cp_db_col_text(st, 1);
		long n = (long)sqlite3_column_int64(st, 2);
		if (!nthemes || strcmp(themes[nthemes - 1].name, th)) {
			themes = xrealloc(themes, (nthemes + 1) * sizeof *themes);
			themes[nthemes].name = xstrdup(th);
			memset(&themes[nthemes].c, 0, sizeof themes[nthemes].c);
			nthemes++;
		}
		count_status(&themes[nthemes - 1].c, s, n);
		count_status(&all, s, n);
	}
	sqlite3_finalize(st);
	/* time to review: creation to decision, for the decided cards */
	st = stats_prepare("SELECT (julianday(c.decided_at) -"
	    " julianday(c.created_at)) * 86400.0 AS secs FROM cards c%s"
	    " AND c.decided_at IS NOT NULL AND c.status <> 'pending_review'"
	    " ORDER BY secs");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (ntimes == cap)
			times = xrealloc(times, (cap = cap ? cap * 2 : 64) *
			    sizeof *times);
		times[ntimes++] = sqlite3_column_double(st, 0);
		if (times[ntimes - 1] > (double)sla * 3600)
			late++;
	}
	sqlite3_finalize(st);
	/* the SLA: pending longer than the tenant's review_sla_hours */
	st = stats_prepare("SELECT count(*), min(c.created_at) FROM cards c%s"
	    " AND c.status = 'pending_review'"
	    " AND (julianday(:now) - julianday(c.created_at)) * 24.0 > :sla");
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":sla"), sla);
	if (sqlite3_step(st) == SQLITE_ROW) {
		breach_pending = (long)sqlite3_column_int64(st, 0);
		snprintf(oldest, sizeof oldest, "%s", cp_db_col_text(st, 1));
	}
	sqlite3_finalize(st);

	double rate = acceptance(&all, &decided);
	double med = percentile(times, ntimes, 0.5),
	    p95 = percentile(times, ntimes, 0.95);
	if (o.json) {
		json_t *r = json_object(), *th = json_object();
		json_object_set_new(r, "tenant", json_string(me.tenant));
		json_object_set_new(r, "status", counts_json(&all));
		for (i = 0; i < nthemes; i++)
			json_object_set_new(th, themes[i].name,
			    counts_json(&themes[i].c));
		json_object_set_new(r, "themes", th);
		json_object_set_new(r, "decided", json_integer(decided));
		json_object_set_new(r, "acceptance_rate", decided ?
		    json_real(rate) : json_null());
		json_object_set_new(r, "time_to_review_median_s", ntimes ?
		    json_real(med) : json_null());
		json_object_set_new(r, "time_to_review_p95_s", ntimes ?
		    json_real(p95) : json_null());
		json_object_set_new(r, "review_sla_hours", json_integer(sla));
		json_object_set_new(r, "sla_breaches_pending",
		    json_integer(breach_pending));
		json_object_set_new(r, "sla_decided_late", json_integer(late));
		cp_emit(r);
		json_decref(r);
	} else {
		char *buf = NULL, a[32], b[32];
		size_t len = 0;
		FILE *fp = page_open(&buf, &len);
		cp_table *t = cp_table_new(7, thead);

		for (i = 0; i <= nthemes; i++) {
			const struct counts *c = i < nthemes ? &themes[i].c : &all;
			char n[5][24], acc[16] = "-";
			const char *cells[7];
			long d;
			double ar = acceptance(c, &d);
			snprintf(n[0], 24, "%ld", c->pending);
			snprintf(n[1], 24, "%ld", c->approved);
			snprintf(n[2], 24, "%ld", c->rejected);
			snprintf(n[3], 24, "%ld", c->pushed);
			snprintf(n[4], 24, "%ld", counts_total(c));
			if (d)
				snprintf(acc, sizeof acc, "%.0f%%", ar * 100);
			cells[0] = i < nthemes ? themes[i].name : "all";
			cells[1] = n[0];
			cells[2] = n[1];
			cells[3] = n[2];
			cells[4] = n[3];
			cells[5] = n[4];
			cells[6] = acc;
			cp_table_add(t, cells);
		}
		for (i = 1; i < 7; i++)
			cp_table_right(t, (int)i);
		cp_table_print(t, fp, cp_term_width(STDOUT_FILENO), color_on(),
		    ascii_only());
		cp_table_free(t);
		fprintf(fp, "\n");
		if (decided)
			fprintf(fp, "acceptance rate   %.0f%% (%ld approved of %ld "
			    "decided)\n", rate * 100, all.approved + all.pushed,
			    decided);
		else
			fprintf(fp, "acceptance rate   - (nothing decided)\n");
		cp_inbox_duration(med, a);
		cp_inbox_duration(p95, b);
		if (ntimes)
			fprintf(fp, "time to review    median %s, P95 %s (%zu "
			    "decided)\n", a, b, ntimes);
		else
			fprintf(fp, "time to review    -\n");
		fprintf(fp, "review SLA        %ldh: %ld pending past it%s%s%s, "
		    "%ld decided late\n", sla, breach_pending,
		    *oldest ? " (oldest since " : "", oldest, *oldest ? ")" : "",
		    late);
		rc = page_close(fp, &buf, &len);
	}
	for (i = 0; i < nthemes; i++)
		free(themes[i].name);
	free(themes);
	free(times);
	return rc;
}

/* ---- export ------------------------------------------------------------ */

static const char *const csv_head[] = { "id", "status", "version", "score",
	"theme", "playbook_id", "account_id", "account_name", "assignee",
	"title", "narrative", "next_step", "source", "evidence_urls",
	"created_at", "decided_at" };
#define NCSV (sizeof csv_head / sizeof *csv_head)

static void csv_card(strbuf *sb, const json_t *c)
{
	char version[24], score[32];
	strbuf urls = CP_STRBUF_INIT;
	const char *f[NCSV];
	char *narrative;
	json_t *e;
	size_t i;
	double s = 0;

	snprintf(version, sizeof version, "%lld",
	    (long long)cp_json_int(c, "version", 0));
	cp_json_num(c, "score", &s);
	snprintf(score, sizeof score, "%.17g", s);
	json_array_foreach(json_object_get(c, "evidence"), i, e) {
		if (cp_json_str(e, "url"))
			sb_addf(&urls, "%s%s", urls.len ? " " : "",
			    cp_json_str(e, "url"));
	}
	f[0] = cp_json_str(c, "id");
	f[1] = cp_json_str(c, "status");
	f[2] = version;
	f[3] = score;
	f[4] = cp_json_str(c, "theme");
	f[5] = cp_json_str(c, "playbook_id");
	f[6] = cp_json_str(c, "account_id");
	f[7] = cp_json_str(c, "account_name");
	f[8] = cp_json_str(c, "assignee");
	f[9] = cp_json_str(c, "title");
	f[10] = narrative = cp_inbox_narrative_text(c);
	f[11] = cp_inbox_next_step(c);
	f[12] = cp_json_str(c, "source");
	f[13] = sb_str(&urls);
	f[14] = cp_json_str(c, "created_at");
	f[15] = cp_json_str(c, "decided_at");
	cp_csv_row(sb, f, NCSV);
	sb_free(&urls);
	free(narrative);
}

static int cmd_export(int argc, char **argv)
{
	sqlite3_stmt *st;
	strbuf sb = CP_STRBUF_INIT;
	int rc;

	(void)argv;
	if (argc)
		cp_usage_error(usage, "export takes no arguments");
	if (o.json == o.csv)
		cp_usage_error(usage, "export: give one of --csv or --json");
	if ((rc = cp_rbac_require(&me, CP_ACT_EXPORT)) ||
	    (rc = cp_rbac_load_scope(db, &me)))
		return rc;
	st = cp_inbox_query(db, &me, &o.f,
	    (o.given & BIT(OPT_LIMIT)) ? o.f.limit : 0);
	if (o.csv) {
		cp_csv_row(&sb, csv_head, NCSV);
		fwrite(sb.buf, 1, sb.len, stdout);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *c = cp_inbox_row_card(st);
		if (o.json) {
			cp_emit(c);
		} else {
			sb_reset(&sb);
			csv_card(&sb, c);
			fwrite(sb.buf, 1, sb.len, stdout);
		}
		json_decref(c);
	}
	sqlite3_finalize(st);
	sb_free(&sb);
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "export cards");
}

/* ---- sla --------------------------------------------------------------- */

static int cmd_sla(int argc, char **argv)
{
	long hours, secs;
	sqlite3_stmt *st;
	json_t *before, *after;
	int64_t version = 0;
	long old = 0;
	int rc;

	if (argc > 1)
		cp_usage_error(usage, "sla takes at most one value");
	if (argc == 0) {
		hours = cp_inbox_sla_hours(db, me.tenant_id);
		if (o.json) {
			json_t *r = json_pack("{s:s, s:I}", "tenant", me.tenant,
			    "review_sla_hours", (json_int_t)hours);
			cp_emit(r);
			json_decref(r);
		} else {
			printf("%ld\n", hours);
		}
		return 0;
	}
	if (!cp_duration_parse(argv[0], &secs) || secs <= 0)
		cp_usage_error(usage, "sla: expected hours (36) or a duration "
		    "(2d), not '%s'", argv[0]);
	/* a bare number is hours, as the column is */
	hours = strspn(argv[0], "0123456789") == strlen(argv[0]) ? secs :
	    secs / 3600;
	if (hours < 1 || hours > 24 * 365 || (hours != secs && secs % 3600))
		cp_usage_error(usage, "sla: expected whole hours from 1 to 8760");
	if ((rc = cp_rbac_require(&me, CP_ACT_TENANT_ADMIN)) ||
	    (rc = cp_db_begin(db)))
		return rc;
	st = cp_db_prepare(db, "SELECT review_sla_hours, version FROM tenants"
	    " WHERE id = ?");
	sqlite3_bind_int64(st, 1, me.tenant_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		old = (long)sqlite3_column_int64(st, 0);
		version = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (old == hours) {
		cp_db_rollback(db);
		return 0;
	}
	st = cp_db_prepare(db, "UPDATE tenants SET review_sla_hours = ?,"
	    " version = version + 1 WHERE id = ? AND version = ?");
	sqlite3_bind_int64(st, 1, hours);
	sqlite3_bind_int64(st, 2, me.tenant_id);
	sqlite3_bind_int64(st, 3, version);
	rc = cp_db_step_done(db, st);
	sqlite3_finalize(st);
	before = json_pack("{s:I}", "review_sla_hours", (json_int_t)old);
	after = json_pack("{s:I}", "review_sla_hours", (json_int_t)hours);
	if (!rc)
		rc = cp_audit(db, me.tenant_id, actor, "tenant.sla", "tenant",
		    me.tenant, before, after, NULL);
	json_decref(before);
	json_decref(after);
	if (rc) {
		cp_db_rollback(db);
		return rc;
	}
	return cp_db_commit(db);
}

/* ---- interactive triage (-i) ------------------------------------------- */

static int cmd_triage(int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc)
		cp_usage_error(usage, "-i takes no arguments");
	if ((rc = cp_rbac_load_scope(db, &me)))
		return rc;
	return cp_triage_run(db, &me, actor, &o.f);
}

/* ---- main -------------------------------------------------------------- */

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	unsigned opts;              /* BIT() of the local options it takes */
} commands[] = {
	{ "list", cmd_list, F_SELECT | BIT(OPT_JSON) | BIT(OPT_NOPAGER) },
	{ "show", cmd_show, BIT(OPT_JSON) | BIT(OPT_NOPAGER) },
	{ "approve", cmd_approve, BIT(OPT_NOTE) },
	{ "reject", cmd_reject, BIT(OPT_NOTE) | BIT(OPT_REASON) },
	{ "refine", cmd_refine, BIT(OPT_NOTE) | F_REFINE },
	{ "stats", cmd_stats, F_FILTERS | BIT(OPT_JSON) | BIT(OPT_NOPAGER) },
	{ "export", cmd_export, F_SELECT | BIT(OPT_JSON) | BIT(OPT_CSV) },
	{ "sla", cmd_sla, BIT(OPT_JSON) },
	/* -i, not a word: chosen by the option, over the list */
	{ "-i", cmd_triage, F_SELECT | BIT(OPT_INTERACTIVE) },
	{ NULL, NULL, 0 }
};

static void parse_option(int c, const char *arg)
{
	char *end;

	o.given |= BIT(c);
	switch (c) {
	case OPT_ALL: o.f.all = true; break;
	case OPT_STATUS:
		if (!cp_inbox_status(arg))
			cp_usage_error(usage, "--status: expected pending_review, "
			    "approved, rejected, pushed or any, not '%s'", arg);
		o.f.status = arg;
		break;
	case OPT_MINSCORE:
		o.f.min_score = strtod(arg, &end);
		if (!*arg || *end || o.f.min_score < 0 || o.f.min_score > 100)
			cp_usage_error(usage, "--min-score: expected 0 to 100");
		o.f.has_min_score = true;
		break;
	case OPT_ACCOUNT: o.f.account = arg; break;
	case OPT_THEME: o.f.theme = arg; break;
	case OPT_SOURCE: o.f.source = arg; break;
	case OPT_SINCE: {
		time_t t;
		if (!cp_time_or_age(arg, &t))
			cp_usage_error(usage, "--since: expected a time "
			    "(2026-11-25T10:00:00Z) or an age (7d), not '%s'",
			    arg);
		cp_time_format(t, o.f.since);
		break;
	}
	case OPT_LIMIT:
		o.f.limit = strtol(arg, &end, 10);
		if (!*arg || *end || o.f.limit < 0)
			cp_usage_error(usage, "--limit: expected a number (0: all)");
		break;
	case OPT_JSON: o.json = 1; break;
	case OPT_CSV: o.csv = 1; break;
	case OPT_NOTE: o.note = arg; break;
	case OPT_REASON:
		if (!cp_reject_reason_valid(arg))
			cp_usage_error(usage, "--reason: expected not_relevant, "
			    "already_known, bad_timing, wrong_account or other, "
			    "not '%s'", arg);
		o.reason = arg;
		break;
	case OPT_TITLE: o.refine.title = arg; break;
	case OPT_NARRATIVE: o.refine.narrative = arg; break;
	case OPT_NEXTSTEP: o.refine.next_step = arg; break;
	case OPT_OUTREACH: add_outreach(arg); break;
	case OPT_NOPAGER: o.no_pager = 1; break;
	}
}

/* The first option given that cmd does not take, or NULL. */
static const char *stray_option(const struct command *cmd)
{
	const struct option *lo;

	for (lo = longopts; lo->name; lo++)
		if (lo->val >= CP_OPT_LOCAL && (o.given & BIT(lo->val)) &&
		    !(cmd->opts & BIT(lo->val)))
			return lo->name;
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd = &commands[0];
	const char *stray;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqvi", longopts, NULL)) != -1)
		if (!cp_cli_option(c, optarg, usage))
			parse_option(c == 'i' ? OPT_INTERACTIVE : c, optarg);
	args = argv + optind;
	nargs = argc - optind;
	/* no subcommand is the list */
	if (nargs > 0) {
		const struct command *k;
		for (k = commands; k->name && strcmp(k->name, args[0]); k++)
			;
		if (!k->name)
			cp_usage_error(usage, "unknown subcommand '%s'", args[0]);
		cmd = k;
		args++;
		nargs--;
	}
	if (o.given & BIT(OPT_INTERACTIVE)) {
		if (cmd->run != cmd_list)
			cp_usage_error(usage, "-i opens the list, not '%s'",
			    cmd->name);
		for (cmd = commands; cmd->run != cmd_triage; cmd++)
			;
	}
	if (cmd->run == cmd_list && nargs)
		cp_usage_error(usage, "list takes no arguments");
	if ((stray = stray_option(cmd)))
		cp_usage_error(usage, "--%s does not apply to '%s'", stray,
		    cmd->name);
	if ((rc = cp_cli_ready()))
		goto done;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		goto done;
	if (!(rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me))) {
		cp_user_actor(&me, actor, sizeof actor);
		rc = cmd->run(nargs, args);
	}
	cp_db_close(db);
done:
	json_decref(o.outreach);
	return cp_ndjson_status(rc);
}
