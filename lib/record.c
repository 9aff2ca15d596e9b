#include <stdio.h>
#include <string.h>

#include "record.h"

/* field name and JSON type: s string, n number, a array, o object,
 * A array-or-null, b boolean, * anything */
struct field {
	const char *name;
	char type;
};

static const struct field doc_fields[] = {
	{ "id", 's' }, { "tenant", 's' }, { "account_ids", 'a' },
	{ "source", 's' }, { "source_name", 's' }, { "reliability", 'n' },
	{ "url", 's' }, { "title", 's' }, { "published_at", 's' },
	{ "fetched_at", 's' }, { "content_type", 's' }, { "body", 's' },
	{ "meta", 'o' }, { NULL, 0 }
};
static const struct field sig_fields[] = {
	{ "id", 's' }, { "document_id", 's' }, { "tenant", 's' },
	{ "account_ids", 'a' }, { "source", 's' }, { "source_name", 's' },
	{ "reliability", 'n' }, { "url", 's' }, { "title", 's' },
	{ "published_at", 's' }, { "fetched_at", 's' }, { "text", 's' },
	{ "lang", 's' }, { "entities", 'a' }, { "themes", 'a' },
	{ "pii", 'o' }, { "fingerprint", 's' }, { NULL, 0 }
};
static const struct field opp_fields[] = {
	{ "id", 's' }, { "tenant", 's' }, { "account_id", 's' },
	{ "signal_ids", 'a' }, { "cluster_id", 's' }, { "theme", 's' },
	{ "playbook_id", 's' }, { "score", 'n' }, { "factors", 'o' },
	{ "evidence", 'a' }, { NULL, 0 }
};
static const struct field card_fields[] = {
	{ "id", 's' }, { "tenant", 's' }, { "account_id", 's' },
	{ "signal_ids", 'a' }, { "cluster_id", 's' }, { "theme", 's' },
	{ "playbook_id", 's' }, { "score", 'n' }, { "factors", 'o' },
	{ "evidence", 'a' }, { "title", 's' }, { "narrative", '*' },
	{ "outreach", 'a' }, { "asset_refs", 'a' }, { "status", 's' },
	{ "version", 'n' }, { "created_at", 's' }, { NULL, 0 }
};
static const struct field push_fields[] = {
	{ "card_id", 's' }, { "target", 's' }, { "action", 's' },
	{ "state", 's' }, { "remote_id", '*' }, { "attempts", 'n' },
	{ "error", '*' }, { NULL, 0 }
};
static const struct field finding_fields[] = {
	{ "check", 's' }, { "severity", 's' }, { "entity", '*' },
	{ "detail", 's' }, { "fixed", 'b' }, { NULL, 0 }
};

static const struct {
	const char *name;
	const char *prefix;       /* of "id", or NULL */
	const struct field *fields;
} types[] = {
	[CP_REC_UNKNOWN] = { "unknown", NULL, NULL },
	[CP_REC_DOCUMENT] = { "document", "doc_", doc_fields },
	[CP_REC_SIGNAL] = { "signal", "sig_", sig_fields },
	[CP_REC_OPPORTUNITY] = { "opportunity", "opp_", opp_fields },
	[CP_REC_CARD] = { "card", "card_", card_fields },
	[CP_REC_PUSH] = { "push", NULL, push_fields },
	[CP_REC_FINDING] = { "finding", NULL, finding_fields },
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))

cp_rectype cp_record_type(const json_t *rec)
{
	const char *t = json_string_value(json_object_get(rec, "type"));
	int i;

	for (i = 1; t && i < NTYPES; i++)
		if (strcmp(t, types[i].name) == 0)
			return (cp_rectype)i;
	return CP_REC_UNKNOWN;
}

const char *cp_rectype_name(cp_rectype t)
{
	return (int)t < NTYPES ? types[t].name : "unknown";
}

const char *const *cp_record_required(cp_rectype t)
{
	/* built once from the field tables, so the two cannot disagree */
	static const char *lists[NTYPES][24];
	int i;

	if ((int)t <= 0 || (int)t >= NTYPES)
		return NULL;
	if (!lists[t][0])
		for (i = 0; types[t].fields[i].name && i < 23; i++)
			lists[t][i] = types[t].fields[i].name;
	return lists[t];
}

static bool type_ok(const json_t *v, char type)
{
	switch (type) {
	case 's': return json_is_string(v);
	case 'n': return json_is_number(v);
	case 'a': return json_is_array(v);
	case 'o': return json_is_object(v);
	case 'b': return json_is_boolean(v);
	default: return v != NULL;
	}
}

static const char *type_word(char type)
{
	switch (type) {
	case 's': return "a string";
	case 'n': return "a number";
	case 'a': return "an array";
	case 'o': return "an object";
	case 'b': return "a boolean";
	default: return "present";
	}
}

bool cp_record_check(const json_t *rec, cp_rectype want, char *err,
    size_t errlen)
{
	json_t *tv = json_object_get(rec, "type"), *vv;
	cp_rectype t;
	const struct field *f;
	const char *id;

	if (!tv) {
		snprintf(err, errlen, "missing field \"type\"");
		return false;
	}
	if (!json_is_string(tv)) {
		snprintf(err, errlen, "field \"type\" is not a string");
		return false;
	}
	t = cp_record_type(rec);
	if (t == CP_REC_UNKNOWN) {
		snprintf(err, errlen, "unknown record type \"%.40s\"",
		    json_string_value(tv));
		return false;
	}
	if (want != CP_REC_UNKNOWN && t != want) {
		snprintf(err, errlen, "expected a %s record, not a %s",
		    types[want].name, types[t].name);
		return false;
	}
	vv = json_object_get(rec, "v");
	if (vv && (!json_is_integer(vv) || json_integer_value(vv) < 1)) {
		snprintf(err, errlen, "field \"v\" is not a positive integer");
		return false;
	}
	if (vv && json_integer_value(vv) > CP_RECORD_V) {
		snprintf(err, errlen, "record version %lld is newer than this "
		    "binary understands (%d)", (long long)json_integer_value(vv),
		    CP_RECORD_V);
		return false;
	}
	for (f = types[t].fields; f->name; f++) {
		json_t *v = json_object_get(rec, f->name);
		if (!v) {
			snprintf(err, errlen, "missing field \"%s\"", f->name);
			return false;
		}
		if (!type_ok(v, f->type)) {
			snprintf(err, errlen, "field \"%s\" is not %s", f->name,
			    type_word(f->type));
			return false;
		}
	}
	id = json_string_value(json_object_get(rec, "id"));
	if (types[t].prefix && id &&
	    strncmp(id, types[t].prefix, strlen(types[t].prefix)) != 0) {
		snprintf(err, errlen, "field \"id\" does not start with \"%s\"",
		    types[t].prefix);
		return false;
	}
	return true;
}
