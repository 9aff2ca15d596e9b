#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "json.h"
#include "mem.h"
#include "sigview.h"
#include "timefmt.h"

unsigned cp_entity_kind(const char *name)
{
	static const struct { const char *name; unsigned bit; } k[] = {
		{ "org", CP_EK_ORG }, { "person", CP_EK_PERSON },
		{ "money", CP_EK_MONEY }, { "percent", CP_EK_PERCENT },
		{ "date", CP_EK_DATE }, { "headcount", CP_EK_HEADCOUNT }
	};
	size_t i;

	for (i = 0; name && i < sizeof k / sizeof *k; i++)
		if (!strcmp(k[i].name, name))
			return k[i].bit;
	return 0;
}

static bool themes(cp_sigview *sv, const json_t *a, char *err, size_t errlen)
{
	size_t i;
	json_t *t;

	json_array_foreach(a, i, t) {
		struct cp_sigtheme *st;
		double conf = 1;
		const char *id = cp_json_str(t, "theme");

		if (!id) {
			snprintf(err, errlen, "themes[%zu]: missing \"theme\"", i);
			return false;
		}
		if (json_object_get(t, "confidence") &&
		    (!cp_json_num(t, "confidence", &conf) || conf < 0 ||
		    conf > 1)) {
			snprintf(err, errlen, "themes[%zu]: confidence must be a "
			    "number from 0 to 1", i);
			return false;
		}
		if (sv->nthemes == CP_SIG_MAXTHEMES)
			continue;
		st = &sv->themes[sv->nthemes++];
		st->theme = id;
		st->confidence = conf;
		st->negated = cp_json_bool(t, "negated", false);
		st->evidence = cp_json_str(t, "evidence");
	}
	return true;
}

static void person(cp_sigview *sv, const json_t *e)
{
	size_t i;
	const char *name = cp_json_str(e, "text");

	/* the same person named twice counts once */
	for (i = 0; i < sv->npersons; i++)
		if (name && sv->persons[i].name &&
		    !strcmp(name, sv->persons[i].name)) {
			if (!sv->persons[i].role)
				sv->persons[i].role = cp_json_str(e, "role");
			return;
		}
	if (sv->npersons == CP_SCORE_MAXP)
		return;
	sv->persons[sv->npersons].name = name;
	sv->persons[sv->npersons].role = cp_json_str(e, "role");
	sv->npersons++;
}

static void entities(cp_sigview *sv, const json_t *a)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e) {
		unsigned k = cp_entity_kind(cp_json_str(e, "kind"));
		double v;
		time_t t;

		sv->kinds |= k;
		switch (k) {
		case CP_EK_MONEY:
			/* the largest amount speaks for the event */
			if (cp_json_num(e, "value", &v) && v > 0 &&
			    (!sv->has_money || v > sv->money)) {
				sv->has_money = true;
				sv->money = v;
				sv->currency = cp_json_str(e, "currency");
				sv->money_text = cp_json_str(e, "text");
			}
			break;
		case CP_EK_HEADCOUNT:
			if (cp_json_num(e, "value", &v) && v > 0 &&
			    (!sv->has_headcount || v > sv->headcount)) {
				sv->has_headcount = true;
				sv->headcount = v;
			}
			break;
		case CP_EK_PERSON:
			person(sv, e);
			break;
		case CP_EK_DATE:
			if (sv->ndates < CP_SIG_MAXDATES &&
			    cp_json_str(e, "value") &&
			    cp_time_parse(cp_json_str(e, "value"), &t))
				sv->dates[sv->ndates++] = t;
			break;
		}
	}
}

bool cp_sigview_init(cp_sigview *sv, const json_t *rec, char *err,
    size_t errlen)
{
	json_t *job = json_object_get(rec, "job"), *c;
	double v;

	memset(sv, 0, sizeof *sv);
	sv->rec = rec;
	sv->id = cp_json_str(rec, "id");
	sv->tenant = cp_json_str(rec, "tenant");
	sv->document_id = cp_json_str(rec, "document_id");
	sv->source = cp_json_str(rec, "source");
	sv->source_name = cp_json_str(rec, "source_name");
	sv->url = cp_json_str(rec, "url");
	sv->title = cp_json_str(rec, "title");
	sv->text = cp_json_str(rec, "text");
	sv->published_str = cp_json_str(rec, "published_at");
	sv->fetched_str = cp_json_str(rec, "fetched_at");
	if (!cp_time_parse(sv->published_str, &sv->published_at)) {
		snprintf(err, errlen, "published_at: not an RFC 3339 time");
		return false;
	}
	if (!cp_time_parse(sv->fetched_str, &sv->fetched_at)) {
		snprintf(err, errlen, "fetched_at: not an RFC 3339 time");
		return false;
	}
	if (cp_json_num(rec, "reliability", &v) && v >= 0 && v <= 1) {
		sv->has_reliability = true;
		sv->reliability = v;
	}
	/* before cp-dedupe: the signal is its own cluster */
	sv->cluster_id = cp_json_str(rec, "cluster_id");
	if (!sv->cluster_id || !*sv->cluster_id)
		sv->cluster_id = sv->id;
	c = json_object_get(rec, "corroborations");
	if (c && (!json_is_integer(c) || json_integer_value(c) < 0)) {
		snprintf(err, errlen, "corroborations: expected a count");
		return false;
	}
	sv->corroborations = c ? (long)json_integer_value(c) : 0;
	if (!themes(sv, json_object_get(rec, "themes"), err, errlen))
		return false;
	entities(sv, json_object_get(rec, "entities"));
	if (job && !json_is_object(job)) {
		snprintf(err, errlen, "job: expected an object");
		return false;
	}
	sv->job_function = cp_json_str(job, "function");
	sv->job_title = cp_json_str(job, "title");
	return true;
}

json_t *cp_sigview_parse(const char *line, size_t len, cp_sigraw *raw,
    char *err, size_t errlen)
{
	/* the text stands as "" until it is needed (cp_sigview_text) */
	cp_jkeep keep[] = { { "text", '"', 1, NULL, 0 },
	    { "chunks", '[', 0, NULL, 0 } };
	json_t *rec = cp_jscan_decode(line, len, keep, 2, err, errlen);

	raw->text = keep[0].val;
	raw->textlen = keep[0].vlen;
	raw->chunks = keep[1].val;
	raw->chunkslen = keep[1].vlen;
	return rec;
}

bool cp_sigview_init_raw(cp_sigview *sv, const json_t *rec,
    const cp_sigraw *raw, char *err, size_t errlen)
{
	if (!cp_sigview_init(sv, rec, err, errlen))
		return false;
	sv->text_raw = raw->text;
	sv->text_rawlen = raw->textlen;
	sv->chunks_raw = raw->chunks;
	sv->chunks_rawlen = raw->chunkslen;
	if (sv->text_raw)
		sv->text = NULL;	/* not decoded yet */
	return true;
}

/* The text, decoded on first use. */
static const char *text(cp_sigview *sv)
{
	if (!sv->text && sv->text_raw) {
		cp_jmember m = { "text", 4, sv->text_raw, sv->text_rawlen };
		sv->text_json = cp_jvalue(&m);
		sv->text = json_string_value(sv->text_json);
	}
	return sv->text;
}

/* The chunks array, decoded on first use. */
static const json_t *chunks(const cp_sigview *sv)
{
	cp_sigview *w = (cp_sigview *)sv;

	if (!sv->chunks_raw)
		return json_object_get(sv->rec, "chunks");
	if (!sv->chunks_json) {
		cp_jmember m = { "chunks", 6, sv->chunks_raw, sv->chunks_rawlen };
		w->chunks_json = cp_jvalue(&m);
	}
	return sv->chunks_json;
}

void cp_sigview_free(cp_sigview *sv)
{
	free(sv->lower);
	sv->lower = NULL;
	json_decref(sv->text_json);
	json_decref(sv->chunks_json);
	sv->text_json = sv->chunks_json = NULL;
}

const char *cp_sigview_lower(cp_sigview *sv)
{
	size_t tl, xl, i;

	if (sv->lower)
		return sv->lower;
	text(sv);
	tl = sv->title ? strlen(sv->title) : 0;
	xl = sv->text ? strlen(sv->text) : 0;
	sv->lower = xmalloc(tl + xl + 2);
	if (tl)
		memcpy(sv->lower, sv->title, tl);
	sv->lower[tl] = '\n';
	if (xl)
		memcpy(sv->lower + tl + 1, sv->text, xl);
	sv->lower[tl + xl + 1] = '\0';
	for (i = 0; i < tl + xl + 1; i++)
		sv->lower[i] = (char)tolower((unsigned char)sv->lower[i]);
	return sv->lower;
}

bool cp_sigview_deadline(const cp_sigview *sv, time_t t, time_t *out)
{
	size_t i;
	bool have = false;

	for (i = 0; i < sv->ndates; i++)
		if (sv->dates[i] > t && (!have || sv->dates[i] < *out)) {
			*out = sv->dates[i];
			have = true;
		}
	return have;
}

const char *cp_sigview_quote(const cp_sigview *sv, const char *theme)
{
	size_t i;
	const json_t *ch = chunks(sv);

	for (i = 0; i < sv->nthemes; i++)
		if (!strcmp(sv->themes[i].theme, theme) &&
		    sv->themes[i].evidence && *sv->themes[i].evidence)
			return sv->themes[i].evidence;
	if (json_is_array(ch) && json_array_size(ch)) {
		const char *t = cp_json_str(json_array_get(ch, 0), "text");
		if (t && *t)
			return t;
	}
	if (sv->job_title && *sv->job_title)
		return sv->job_title;
	return sv->title && *sv->title ? sv->title : NULL;
}
