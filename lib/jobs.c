/*
 * jobs.c — Greenhouse and Lever postings (jobs.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "jobs.h"
#include "json.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static char *norm_time(const char *s)
{
	char buf[CP_TIME_MAX];
	time_t t;

	if (!s || !cp_feed_date(s, &t))
		return NULL;
	return xstrdup(cp_time_format(t, buf));
}

static cp_job *add(cp_jobs *j)
{
	cp_job *p;

	j->v = xrealloc(j->v, (j->n + 1) * sizeof *j->v);
	p = &j->v[j->n++];
	memset(p, 0, sizeof *p);
	return p;
}

/* An id may be a number (Greenhouse) or a string (Lever). */
static char *id_of(json_t *v)
{
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_string(v) && *json_string_value(v))
		return xstrdup(json_string_value(v));
	return NULL;
}

static json_t *load(const char *who, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char jerr[160];
	json_t *root = cp_json_parse(buf, len, jerr, sizeof jerr);
	const char *e;

	if (!root) {
		snprintf(err, errlen, "%s: not JSON: %s", who, jerr);
		return NULL;
	}
	if (json_is_object(root) && ((e = cp_json_str(root, "error")) ||
	    ((e = cp_json_str(root, "message")) && !json_object_get(root,
	    "jobs")))) {
		snprintf(err, errlen, "%s: error object: %.160s", who, e);
		json_decref(root);
		return NULL;
	}
	return root;
}

int cp_jobs_greenhouse(const char *buf, size_t len, cp_jobs *out, char *err,
    size_t errlen)
{
	json_t *root, *jobs, *j;
	size_t i;

	memset(out, 0, sizeof *out);
	if (!(root = load("greenhouse", buf, len, err, errlen)))
		return -1;
	jobs = json_object_get(root, "jobs");
	if (!json_is_array(jobs)) {
		snprintf(err, errlen, "greenhouse: no \"jobs\" array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(jobs, i, j) {
		cp_job *p;
		char *id = id_of(json_object_get(j, "id"));
		const char *content = cp_json_str(j, "content");
		json_t *deps = json_object_get(j, "departments");
		if (!id || !cp_json_str(j, "title")) {
			free(id);
			continue;
		}
		p = add(out);
		p->id = id;
		p->title = xstrdup(cp_json_str(j, "title"));
		p->location = dup_or_null(cp_json_str(json_object_get(j,
		    "location"), "name"));
		p->department = dup_or_null(cp_json_str(json_array_get(deps, 0),
		    "name"));
		p->url = dup_or_null(cp_json_str(j, "absolute_url"));
		p->posted_at = norm_time(cp_json_str(j, "first_published"));
		if (!p->posted_at)
			p->posted_at = norm_time(cp_json_str(j, "updated_at"));
		/* content=true gives HTML escaped once more as entities */
		p->body = content ? cp_html_unescape(content) : xstrdup("");
	}
	json_decref(root);
	return 0;
}

int cp_jobs_lever(const char *buf, size_t len, cp_jobs *out, char *err,
    size_t errlen)
{
	json_t *root, *j;
	size_t i;

	memset(out, 0, sizeof *out);
	if (!(root = load("lever", buf, len, err, errlen)))
		return -1;
	if (!json_is_array(root)) {
		snprintf(err, errlen, "lever: not an array of postings");
		json_decref(root);
		return -1;
	}
	json_array_foreach(root, i, j) {
		cp_job *p;
		json_t *cat = json_object_get(j, "categories"), *l, *created;
		char *id = id_of(json_object_get(j, "id"));
		strbuf body = CP_STRBUF_INIT;
		size_t k;
		if (!id || !cp_json_str(j, "text")) {
			free(id);
			continue;
		}
		p = add(out);
		p->id = id;
		p->title = xstrdup(cp_json_str(j, "text"));
		p->department = dup_or_null(cp_json_str(cat, "team"));
		if (!p->department)
			p->department = dup_or_null(cp_json_str(cat,
			    "department"));
		p->location = dup_or_null(cp_json_str(cat, "location"));
		p->url = dup_or_null(cp_json_str(j, "hostedUrl"));
		created = json_object_get(j, "createdAt");
		if (json_is_integer(created)) {
			char t[CP_TIME_MAX];
			p->posted_at = xstrdup(cp_time_format((time_t)
			    (json_integer_value(created) / 1000), t));
		}
		sb_adds(&body, cp_json_strd(j, "description", ""));
		json_array_foreach(json_object_get(j, "lists"), k, l) {
			sb_addf(&body, "<h3>%s</h3><ul>%s</ul>",
			    cp_json_strd(l, "text", ""),
			    cp_json_strd(l, "content", ""));
		}
		sb_adds(&body, cp_json_strd(j, "additional", ""));
		p->body = sb_detach(&body);
		if (!p->body)
			p->body = xstrdup("");
	}
	json_decref(root);
	return 0;
}

void cp_jobs_free(cp_jobs *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		free(j->v[i].id);
		free(j->v[i].title);
		free(j->v[i].department);
		free(j->v[i].location);
		free(j->v[i].url);
		free(j->v[i].posted_at);
		free(j->v[i].body);
	}
	free(j->v);
	memset(j, 0, sizeof *j);
}
