/*
 * crm_file.c — the file target (crm.h): push records, one per line.
 *
 * file.path names a file the records are appended to (mode 0600), or
 * "-" (the default) for standard output, where the record is also the
 * run's output line for that action.  Each record is the push record
 * with "payload": what a CRM would have been sent.  A file can be looked
 * up (the key is searched for), so a file gets each action once even
 * across a crash; standard output cannot, so after a crash an action may
 * be written twice — with the same key, for the reader to drop.
 */
#define CP_CRM_ADAPTER
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crm.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

struct fa {
	char *path;       /* NULL: standard output */
	int fd;
};

static int setup(cp_crm_target *t)
{
	struct fa *f = xcalloc(1, sizeof *f);
	const char *path = cp_conf("file.path", NULL, "-");

	t->priv = f;
	f->fd = -1;
	if (strcmp(path, "-")) {
		f->path = xstrdup(path);
		f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (f->fd < 0) {
			cp_err("file: %s: %s", path, strerror(errno));
			return CP_EX_CONFIG;
		}
	}
	t->base = xstrdup(path);
	return 0;
}

static void teardown(cp_crm_target *t)
{
	struct fa *f = t->priv;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
	t->priv = NULL;
}

static bool must_look(const cp_crm_target *t, const cp_outbox_row *row)
{
	const struct fa *f = t->priv;

	(void)row;
	return f->path != NULL;
}

static json_t *record(const cp_crm_item *it)
{
	json_t *o = json_object();
	char ts[CP_TIME_MAX];

	cp_json_set_str(o, "type", "push");
	json_object_set_new(o, "v", json_integer(1));
	cp_json_set_str(o, "card_id", it->row.card_id);
	cp_json_set_str(o, "target", "file");
	cp_json_set_str(o, "action", cp_push_action_name(it->row.action));
	cp_json_set_str(o, "state", "done");
	cp_json_set_str(o, "remote_id", it->row.key);
	json_object_set_new(o, "attempts",
	    json_integer(it->row.attempts + it->tries));
	json_object_set_new(o, "error", json_null());
	cp_json_set_str(o, "key", it->row.key);
	cp_json_set_str(o, "account_id", it->row.account_id);
	cp_json_set_str(o, "at", cp_time_format(cp_now(), ts));
	json_object_set(o, "payload", it->row.payload);
	return o;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void send_one(cp_crm_target *t, cp_crm_item *it, cp_crm_verdict *v)
{
	struct fa *f = t->priv;
	json_t *rec = record(it);
	strbuf sb = CP_STRBUF_INIT;

	if (!f->path) {
		cp_crm_emit(t, rec);
		it->emitted = true;
	} else {
		cp_json_dump(&sb, rec, 0);
		sb_addc(&sb, '\n');
		/* one write: O_APPEND keeps concurrent lines whole */
		if (!write_all(f->fd, sb.buf, sb.len)) {
			cp_crm_vset(v, CP_V_STOP, "file: %s: %s", f->path,
			    strerror(errno));
			sb_free(&sb);
			json_decref(rec);
			return;
		}
	}
	v->kind = CP_V_DONE;
	v->id = xstrdup(it->row.key);
	sb_free(&sb);
	json_decref(rec);
}

/* The line of the file holding the key, or NULL. */
static char *find_line(const struct fa *f, const char *key)
{
	FILE *fp = fopen(f->path, "r");
	char *line = NULL, *found = NULL, needle[80];
	size_t cap = 0;

	if (!fp)
		return NULL;
	snprintf(needle, sizeof needle, "\"key\":\"%s\"", key);
	while (getline(&line, &cap, fp) != -1)
		if (strstr(line, needle)) {
			found = xstrdup(line);
			break;
		}
	free(line);
	fclose(fp);
	return found;
}

static cp_http_req *request(cp_crm_target *t, cp_crm_item *it,
    cp_crm_verdict *v)
{
	struct fa *f = t->priv;
	char *line, err[128];

	switch (it->step) {
	case CP_STEP_SEND:
		send_one(t, it, v);
		break;
	case CP_STEP_LOOKUP:
		if (!f->path) {
			v->kind = CP_V_UNKNOWN;
			break;
		}
		line = find_line(f, it->row.key);
		v->kind = line ? CP_V_FOUND : CP_V_ABSENT;
		if (line)
			v->id = xstrdup(it->row.key);
		free(line);
		break;
	case CP_STEP_FETCH:
		if (!f->path) {
			v->kind = CP_V_UNKNOWN;
			break;
		}
		line = find_line(f, it->row.key);
		if (line) {
			v->kind = CP_V_OBJECT;
			v->object = cp_json_parse(line, strlen(line), err,
			    sizeof err);
			if (!v->object)
				v->object = json_object();
		} else {
			v->kind = CP_V_GONE;
		}
		free(line);
		break;
	default:
		/* no parent: the file target needs no account id */
		v->kind = CP_V_FAIL;
		break;
	}
	return NULL;
}

static void verdict(cp_crm_target *t, cp_crm_item *it, const cp_http_req *r,
    cp_crm_verdict *v)
{
	(void)t;
	(void)it;
	(void)r;
	v->kind = CP_V_FAIL;
}

const cp_crm_adapter cp_crm_file = {
	CP_TGT_FILE, false, setup, teardown, must_look, request, verdict
};
