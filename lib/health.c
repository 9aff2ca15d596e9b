#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "health.h"
#include "inbox.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "unicode.h"

#define WEEK (7 * 86400)

static const char *const flag_ids[CP_FLAG_COUNT] = { "layoffs",
	"leadership_churn", "security_incident", "regulatory",
	"negative_earnings" };
static const char *const flag_names[CP_FLAG_COUNT] = { "layoffs",
	"leadership churn", "security incident", "regulatory",
	"negative earnings" };

const char *cp_health_flag_id(int flag)
{
	return flag >= 0 && flag < CP_FLAG_COUNT ? flag_ids[flag] : "?";
}

const char *cp_health_flag_name(int flag)
{
	return flag >= 0 && flag < CP_FLAG_COUNT ? flag_names[flag] : "?";
}

/* ---- negative earnings ------------------------------------------------- */

/*
 * Words that say results went badly, matched at the start of a word and
 * ignoring case.  A few phrases need their context ("cut its" guidance,
 * "below" expectations); the themes file already decided the sentence is
 * about earnings.
 */
static const char *const bad_news[] = {
	"loss", "losses", "missed", "misses", "fell", "falls", "declin",
	"drop", "lowered", "lowers", "cut its", "cuts its", "cut full-year",
	"below expectations", "below estimates", "below forecast", "weak",
	"slump", "plung", "profit warning", "warned", "warns", "impairment",
	"shortfall", "write-down", "writedown", "downgrad", "sank", "tumbl",
	"verlust", "gewinn sank", "pérdida", "perte", NULL
};

static bool word_start(const char *text, const char *p)
{
	return p == text || !isalnum((unsigned char)p[-1]);
}

bool cp_health_negative_earnings(const char *text)
{
	char *low;
	const char *p;
	bool bad = false;
	int i;

	if (!text || !*text)
		return false;
	/* ASCII lower case is enough: the cues are ASCII or start so */
	low = xstrdup(text);
	for (p = low; *p; p++)
		*(char *)p = (char)tolower((unsigned char)*p);
	for (i = 0; bad_news[i] && !bad; i++)
		for (p = strstr(low, bad_news[i]); p && !bad;
		    p = strstr(p + 1, bad_news[i]))
			bad = word_start(low, p);
	free(low);
	return bad;
}

/* ---- loading ----------------------------------------------------------- */

static time_t monday(time_t t)
{
	struct tm tm;
	time_t day;

	gmtime_r(&t, &tm);
	day = t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	return day - (time_t)((tm.tm_wday + 6) % 7) * 86400;
}

/* A small set of story ids per flag. */
struct stories {
	char **v;
	size_t n, cap;
};

static bool stories_add(struct stories *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], id))
			return false;
	if (s->n == s->cap)
		s->v = xrealloc(s->v, (s->cap = s->cap ? s->cap * 2 : 8) *
		    sizeof *s->v);
	s->v[s->n++] = xstrdup(id);
	return true;
}

static void stories_free(struct stories *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static int theme_flag(const char *theme)
{
	if (!strcmp(theme, "layoffs"))
		return CP_FLAG_LAYOFFS;
	if (!strcmp(theme, "leadership_change"))
		return CP_FLAG_CHURN;
	if (!strcmp(theme, "security_incident"))
		return CP_FLAG_SECURITY;
	if (!strcmp(theme, "regulatory"))
		return CP_FLAG_REGULATORY;
	if (!strcmp(theme, "earnings"))
		return CP_FLAG_EARNINGS;
	return -1;
}

/* One signal's part in the flags: the flags its themes raise. */
static void flag_signal(cp_health *h, struct stories *st, const char *ts,
    const char *cluster, const char *title, const char *themes)
{
	json_t *a = json_loads(themes, 0, NULL), *t;
	bool seen[CP_FLAG_COUNT] = { false };
	size_t i;

	json_array_foreach(a, i, t) {
		const char *name = cp_json_str(t, "theme");
		int f = name ? theme_flag(name) : -1;
		cp_health_flag *fl;

		if (f < 0 || seen[f] || cp_json_bool(t, "negated", false))
			continue;
		if (f == CP_FLAG_EARNINGS &&
		    !cp_health_negative_earnings(cp_json_str(t, "evidence")) &&
		    !cp_health_negative_earnings(title))
			continue;
		seen[f] = true;
		fl = &h->flags[f];
		fl->signals++;
		if (stories_add(&st[f], *cluster ? cluster : ts))
			fl->stories++;
		/* rows come oldest first: the last one seen is the newest */
		snprintf(fl->latest, sizeof fl->latest, "%s", ts);
		free(fl->title);
		fl->title = xstrdup(title);
	}
	json_decref(a);
}

/*
 * The account's signals published in the window: through search's keys
 * up to the indexed mark, and from signals itself above it.
 */
static const char signals_sql[] =
	"WITH hits(seq) AS ("
	" SELECT seq FROM search_signal_keys WHERE tenant_id = :tenant"
	"  AND account_id = :account AND published_at >= :from"
	"  AND published_at < :to AND seq <= :mark"
	" UNION"
	" SELECT seq FROM signals WHERE tenant_id = :tenant"
	"  AND published_at >= :from AND published_at < :to AND seq > :mark"
	"  AND json_valid(account_ids) AND EXISTS (SELECT 1 FROM"
	"  json_each(account_ids) j WHERE j.value = :account))"
	" SELECT s.published_at, coalesce(s.cluster_id, ''),"
	"  coalesce(s.title, ''), s.themes"
	" FROM hits JOIN signals s ON s.seq = hits.seq"
	" ORDER BY s.published_at, s.seq";

static void bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		cp_db_bind_text(st, i, v);
}

static int load_signals(sqlite3 *db, const cp_user *u, const char *account,
    cp_health *h)
{
	char from[CP_TIME_MAX], to[CP_TIME_MAX], *mark;
	struct stories st[CP_FLAG_COUNT];
	sqlite3_stmt *s = cp_db_prepare(db, signals_sql);
	int rc, f;

	memset(st, 0, sizeof st);
	cp_time_format(h->week0, from);
	cp_time_format(h->week0 + (time_t)CP_HEALTH_WEEKS * WEEK, to);
	mark = cp_db_setting(db, "search.signals_indexed");
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":tenant"),
	    u->tenant_id);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":mark"),
	    mark ? strtoll(mark, NULL, 10) : 0);
	free(mark);
	bind_text(s, ":account", account);
	bind_text(s, ":from", from);
	bind_text(s, ":to", to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ts = cp_db_col_text(s, 0);
		time_t t;
		long w;

		if (!cp_time_parse(ts, &t) || t < h->week0)
			continue;
		w = (long)((t - h->week0) / WEEK);
		if (w >= CP_HEALTH_WEEKS)
			continue;
		h->weeks[w]++;
		h->total++;
		flag_signal(h, st, ts, cp_db_col_text(s, 1), cp_db_col_text(s, 2),
		    cp_db_col_text(s, 3));
	}
	sqlite3_finalize(s);
	for (f = 0; f < CP_FLAG_COUNT; f++) {
		stories_free(&st[f]);
		/* one new leader is news; two or more is churn */
		h->flags[f].raised = h->flags[f].stories >=
		    (f == CP_FLAG_CHURN ? 2 : 1);
	}
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "read signals");
}

static int load_cards(sqlite3 *db, const cp_user *u, const char *account,
    cp_health *h)
{
	sqlite3_stmt *st = cp_db_prepare(db, "SELECT c.id, c.score, c.theme,"
	    " c.title, c.created_at, count(*) OVER () FROM cards c"
	    " WHERE c.tenant_id = ?1 AND c.account_id = ?2"
	    " AND c.status = 'pending_review'"
	    " ORDER BY c.score DESC, c.created_at DESC, c.id LIMIT ?3");
	int rc;

	sqlite3_bind_int64(st, 1, u->tenant_id);
	cp_db_bind_text(st, 2, account);
	sqlite3_bind_int(st, 3, CP_HEALTH_CARDS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cp_health_card *c = &h->cards[h->ncards++];
		snprintf(c->id, sizeof c->id, "%s", cp_db_col_text(st, 0));
		c->score = sqlite3_column_double(st, 1);
		c->theme = xstrdup(cp_db_col_text(st, 2));
		c->title = xstrdup(cp_db_col_text(st, 3));
		snprintf(c->created, sizeof c->created, "%s",
		    cp_db_col_text(st, 4));
		h->open = (long)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : cp_db_error(db, "read cards");
}

int cp_health_load(sqlite3 *db, const cp_user *u, const char *account_id,
    time_t now, cp_health *h)
{
	int rc;

	memset(h, 0, sizeof *h);
	h->now = now;
	h->week0 = monday(now) - (time_t)(CP_HEALTH_WEEKS - 1) * WEEK;
	if ((rc = load_signals(db, u, account_id, h)))
		return rc;
	return load_cards(db, u, account_id, h);
}

void cp_health_free(cp_health *h)
{
	size_t i;
	int f;

	for (f = 0; f < CP_FLAG_COUNT; f++)
		free(h->flags[f].title);
	for (i = 0; i < h->ncards; i++) {
		free(h->cards[i].theme);
		free(h->cards[i].title);
	}
	memset(h, 0, sizeof *h);
}

/* ---- showing ----------------------------------------------------------- */

void cp_sparkline(strbuf *sb, const long *v, int n, bool ascii)
{
	static const char *const blocks[] = { "\xE2\x96\x81", "\xE2\x96\x82",
	    "\xE2\x96\x83", "\xE2\x96\x84", "\xE2\x96\x85", "\xE2\x96\x86",
	    "\xE2\x96\x87", "\xE2\x96\x88" };
	static const char ramp[] = "_.:-=+*#";
	long max = 0;
	int i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++) {
		/* none is the floor; any signal at all shows above it, the
		 * busiest week at the top: ceil(7 v / max) */
		int level = v[i] <= 0 ? 0 : (int)((v[i] * 7 + max - 1) / max);
		if (ascii)
			sb_addc(sb, ramp[level]);
		else
			sb_adds(sb, blocks[level]);
	}
}

#define LABEL 13            /* "open cards   " */

static void date_of(char out[16], const char *ts)
{
	snprintf(out, 16, "%.10s", ts);
}

/* Text fitted to the columns after the label, without trailing blanks
 * (a control character left in it is shown as a space). */
static void fitted(strbuf *out, const char *text, int width, bool ascii)
{
	cp_u_fit(out, text, width - LABEL, false, ascii);
	while (out->len && out->buf[out->len - 1] == ' ')
		out->len--;
	if (out->buf)
		out->buf[out->len] = '\0';
}

/* Text from the state file (a headline, a theme) made safe for one line:
 * no escape sequence from a hostile headline reaches the terminal. */
static void add_clean(strbuf *sb, const char *text)
{
	cp_inbox_clean(sb, text, false);
}

static void line(FILE *fp, const char *label, const char *text, int width,
    bool ascii)
{
	strbuf fit = CP_STRBUF_INIT;

	fitted(&fit, text, width, ascii);
	fprintf(fp, "%-*s %s\n", LABEL - 1, label, sb_str(&fit));
	sb_free(&fit);
}

static void print_flags(FILE *fp, const cp_health *h, int width, bool ascii,
    bool color)
{
	const char *label = "risks";
	int f, shown = 0;

	for (f = 0; f < CP_FLAG_COUNT; f++) {
		const cp_health_flag *fl = &h->flags[f];
		strbuf s = CP_STRBUF_INIT, fit = CP_STRBUF_INIT;
		char d[16];

		if (!fl->raised)
			continue;
		date_of(d, fl->latest);
		sb_addf(&s, "%s: %ld stor%s, latest %s: ", flag_names[f],
		    fl->stories, fl->stories == 1 ? "y" : "ies", d);
		add_clean(&s, fl->title);
		fitted(&fit, sb_str(&s), width, ascii);
		/* the flag's name in bold red on a colour terminal */
		if (color) {
			size_t n = strlen(flag_names[f]);
			fprintf(fp, "%-*s \033[1;31m%.*s\033[0m%s\n", LABEL - 1,
			    label, (int)(n < fit.len ? n : fit.len), fit.buf,
			    fit.len > n ? fit.buf + n : "");
		} else {
			fprintf(fp, "%-*s %s\n", LABEL - 1, label, sb_str(&fit));
		}
		label = "";
		shown++;
		sb_free(&s);
		sb_free(&fit);
	}
	if (!shown)
		line(fp, "risks", "none seen", width, ascii);
}

void cp_health_print(FILE *fp, const cp_health *h, int width, bool ascii,
    bool color)
{
	char from[CP_TIME_MAX], to[CP_TIME_MAX];
	strbuf s = CP_STRBUF_INIT;
	long most = 0;
	int i, at = 0;
	size_t k;

	if (width <= 0)
		width = 80;
	if (width < LABEL + 20)
		width = LABEL + 20;
	cp_time_format(h->week0, from);
	cp_time_format(h->now, to);
	sb_addf(&s, "%d weeks, %.10s to %.10s", CP_HEALTH_WEEKS, from, to);
	line(fp, "health", sb_str(&s), width, ascii);
	sb_reset(&s);
	cp_sparkline(&s, h->weeks, CP_HEALTH_WEEKS, ascii);
	for (i = 0; i < CP_HEALTH_WEEKS; i++)
		if (h->weeks[i] > most) {
			most = h->weeks[i];
			at = i;
		}
	if (most) {
		char wk[CP_TIME_MAX];
		cp_time_format(h->week0 + (time_t)at * WEEK, wk);
		sb_addf(&s, "  %ld, most %ld in the week of %.10s", h->total,
		    most, wk);
	} else {
		sb_adds(&s, "  none");
	}
	line(fp, "signals", sb_str(&s), width, ascii);
	print_flags(fp, h, width, ascii, color);
	sb_reset(&s);
	sb_addf(&s, "%ld pending review", h->open);
	line(fp, "open cards", sb_str(&s), width, ascii);
	for (k = 0; k < h->ncards; k++) {
		const cp_health_card *c = &h->cards[k];
		char age[CP_INBOX_AGE_MAX];
		time_t t = 0;
		strbuf th = CP_STRBUF_INIT;

		cp_time_parse(c->created, &t);
		cp_inbox_age(h->now, t, age);
		add_clean(&th, c->theme);
		sb_reset(&s);
		sb_addf(&s, "%3.0f %4s  ", c->score, age);
		cp_u_fit(&s, sb_str(&th), 18, false, ascii);
		sb_addc(&s, ' ');
		add_clean(&s, c->title);
		line(fp, "", sb_str(&s), width, ascii);
		sb_free(&th);
	}
	sb_free(&s);
}

json_t *cp_health_json(const cp_health *h, const char *account_id)
{
	json_t *r = json_object(), *weeks = json_array(), *risks = json_array(),
	    *cards = json_array();
	char ts[CP_TIME_MAX];
	int i, f;
	size_t k;

	cp_json_set_str(r, "account_id", account_id);
	cp_time_format(h->week0, ts);
	cp_json_set_str(r, "from", ts);
	cp_time_format(h->now, ts);
	cp_json_set_str(r, "to", ts);
	for (i = 0; i < CP_HEALTH_WEEKS; i++) {
		cp_time_format(h->week0 + (time_t)i * WEEK, ts);
		ts[10] = '\0';
		json_array_append_new(weeks, json_pack("{s:s, s:I}", "week", ts,
		    "signals", (json_int_t)h->weeks[i]));
	}
	json_object_set_new(r, "weeks", weeks);
	json_object_set_new(r, "signals", json_integer(h->total));
	{
		strbuf sp = CP_STRBUF_INIT;
		cp_sparkline(&sp, h->weeks, CP_HEALTH_WEEKS, false);
		cp_json_set_str(r, "sparkline", sb_str(&sp));
		sb_free(&sp);
	}
	for (f = 0; f < CP_FLAG_COUNT; f++) {
		const cp_health_flag *fl = &h->flags[f];
		json_t *o;
		if (!fl->raised)
			continue;
		o = json_pack("{s:s, s:I, s:I, s:s}", "flag", flag_ids[f],
		    "stories", (json_int_t)fl->stories, "signals",
		    (json_int_t)fl->signals, "latest", fl->latest);
		cp_json_set_str(o, "title", fl->title);
		json_array_append_new(risks, o);
	}
	json_object_set_new(r, "risks", risks);
	json_object_set_new(r, "open_cards", json_integer(h->open));
	for (k = 0; k < h->ncards; k++) {
		const cp_health_card *c = &h->cards[k];
		json_t *o = json_pack("{s:s, s:f, s:s, s:s, s:s}", "id", c->id,
		    "score", c->score, "theme", c->theme, "title", c->title,
		    "created_at", c->created);
		json_array_append_new(cards, o);
	}
	json_object_set_new(r, "top_cards", cards);
	return r;
}
