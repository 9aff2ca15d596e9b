/*
 * crm_salesforce.c — the Salesforce target (crm.h): REST API.
 *
 *   parent  GET   …/query?q=SELECT Id, Website FROM Account
 *                  WHERE Website LIKE '%domain%'     (exact host match kept)
 *   send    PATCH …/sobjects/Task/ClientPulse_Key__c/KEY      upsert
 *           PATCH …/sobjects/Opportunity/ClientPulse_Key__c/KEY
 *           POST  …/sobjects/Note/       (no custom fields on Note: the
 *                                         key goes at the end of its Title)
 *   lookup  GET   …/sobjects/TYPE/FIELD/KEY         (upserted objects)
 *           GET   …/query?q=SELECT Id FROM Note WHERE Title LIKE '%KEY%'
 *   fetch   GET   …/sobjects/TYPE/ID
 *
 * "…" is INSTANCE/services/data/vNN.N.  An upsert by external id is
 * idempotent, so those rows are simply sent again after any failure;
 * only created objects (Note, and whatever salesforce.upsert leaves out)
 * are looked up first.  Errors are Salesforce's JSON array
 * ([{"message","errorCode","fields"}]); 403 REQUEST_LIMIT_EXCEEDED holds
 * the target, and every response's Sforce-Limit-Info ("api-usage=N/M")
 * is watched for the last 10% of the daily allowance.
 */
#define CP_CRM_ADAPTER
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crm.h"
#include "exitcode.h"
#include "fetchurl.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

struct sf {
	char *data;            /* INSTANCE/services/data/vNN.N */
	const char *key_field;
	const char *upsert;    /* "Task,Opportunity" */
	bool multicurrency;
	double limit_hold;
};

static const char *sobject(cp_push_action a)
{
	switch (a) {
	case CP_PUSH_NOTE: return "Note";
	case CP_PUSH_TASK: return "Task";
	default: return "Opportunity";
	}
}

static bool upserts(const struct sf *s, cp_push_action a)
{
	const char *o = sobject(a), *p = s->upsert;
	size_t n = strlen(o);

	if (a == CP_PUSH_NOTE)
		return false;
	for (; (p = strstr(p, o)); p += n)
		if ((p == s->upsert || strchr(", ", p[-1])) &&
		    (!p[n] || strchr(", ", p[n])))
			return true;
	return false;
}

static int setup(cp_crm_target *t)
{
	struct sf *s = xcalloc(1, sizeof *s);
	const char *inst, *ver;
	int err = 0;
	long hold;

	t->priv = s;
	t->token = cp_secret("salesforce.access_token",
	    "CLIENTPULSE_SALESFORCE_ACCESS_TOKEN", &err);
	if (err)
		return CP_EX_CONFIG;
	/* the OAuth answer gives both: the credentials file first */
	inst = cp_secret("salesforce.instance_url", NULL, NULL);
	if (!inst)
		inst = cp_crm_conf(t, "instance_url", NULL);
	if (!inst || !*inst) {
		cp_err("salesforce: no instance URL: put salesforce.instance_url "
		    "in the credentials file or the configuration");
		return CP_EX_CONFIG;
	}
	if (!t->token || !*t->token) {
		cp_err("salesforce: no access token: put "
		    "salesforce.access_token in the credentials file, see "
		    "cp-push(1)");
		return CP_EX_CONFIG;
	}
	t->base = xstrdup(inst);
	while (*t->base && t->base[strlen(t->base) - 1] == '/')
		t->base[strlen(t->base) - 1] = '\0';
	ver = cp_crm_conf(t, "api_version", "v60.0");
	s->data = xasprintf("%s/services/data/%s%s%s", t->base,
	    *ver == 'v' ? "" : "v", ver, strchr(ver, '.') ? "" : ".0");
	s->key_field = cp_crm_conf(t, "key_field", "ClientPulse_Key__c");
	s->upsert = cp_crm_conf(t, "upsert", "Task,Opportunity");
	s->multicurrency = cp_conf_bool("salesforce.multicurrency", NULL, false);
	s->limit_hold = 3600;
	if (cp_duration_parse(cp_crm_conf(t, "limit_hold", "1h"), &hold))
		s->limit_hold = (double)hold;
	t->lookup_delay = 0;
	return 0;
}

static void teardown(cp_crm_target *t)
{
	struct sf *s = t->priv;

	if (s)
		free(s->data);
	free(s);
	t->priv = NULL;
}

static bool must_look(const cp_crm_target *t, const cp_outbox_row *row)
{
	return !upserts(t->priv, row->action);
}

/* Copy at most max bytes of s without cutting a UTF-8 sequence. */
static void add_cut(strbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	sb_add(sb, s, n);
}

static char *cut(const char *s, size_t max)
{
	strbuf sb = CP_STRBUF_INIT;

	add_cut(&sb, s ? s : "", max);
	return sb_detach(&sb);
}

static char *describe(const json_t *p)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *s;

	sb_addf(&sb, "ClientPulse: %s", cp_json_strd(p, "title", ""));
	if ((s = cp_json_str(p, "next_step")))
		sb_addf(&sb, "\nNext step: %s", s);
	if ((s = cp_json_str(p, "evidence_url")))
		sb_addf(&sb, "\nEvidence: %s", s);
	sb_addf(&sb, "\nCard: %s", cp_json_strd(p, "card_id", ""));
	return sb_detach(&sb);
}

static void set_cut(json_t *o, const char *k, const char *s, size_t max)
{
	char *v = cut(s, max);

	cp_json_set_str(o, k, v);
	free(v);
}

static const char *stage_of(cp_crm_target *t, const char *stage)
{
	const char *dflt = !stage ? "Prospecting" :
	    !strcmp(stage, "discovery") ? "Prospecting" :
	    !strcmp(stage, "qualification") ? "Qualification" : stage;

	return cp_crm_conf2(t, "stage", stage, dflt);
}

static json_t *fields(cp_crm_target *t, const cp_crm_item *it,
    cp_crm_verdict *v)
{
	struct sf *s = t->priv;
	const json_t *p = it->row.payload;
	json_t *f = json_object(), *amount;
	const char *owner = cp_crm_conf2(t, "owner",
	    cp_json_str(p, "assignee") ? cp_json_str(p, "assignee") :
	    it->row.owner, NULL);
	char date[16], *desc;
	strbuf title = CP_STRBUF_INIT;

	if (it->row.action != CP_PUSH_NOTE && owner)
		cp_json_set_str(f, "OwnerId", owner);
	switch (it->row.action) {
	case CP_PUSH_NOTE:
		/* Title is 80 characters at most and must carry the key */
		sb_adds(&title, "ClientPulse: ");
		add_cut(&title, cp_json_strd(p, "title", ""),
		    80 - 13 - 3 - strlen(it->row.key));
		sb_addf(&title, " [%s]", it->row.key);
		cp_json_set_str(f, "ParentId", it->parent);
		cp_json_set_str(f, "Title", sb_str(&title));
		set_cut(f, "Body", cp_json_strd(p, "body",
		    cp_json_strd(p, "title", "")), 32000);
		sb_free(&title);
		break;
	case CP_PUSH_TASK:
		set_cut(f, "Subject", cp_json_strd(p, "subject",
		    cp_json_strd(p, "title", "")), 255);
		cp_json_set_str(f, "ActivityDate", cp_json_str(p, "due_date"));
		cp_json_set_str(f, "Status", "Not Started");
		cp_json_set_str(f, "Priority",
		    cp_json_int(p, "due_in_days", 7) <= 1 ? "High" : "Normal");
		cp_json_set_str(f, "WhatId", it->parent);
		desc = describe(p);
		set_cut(f, "Description", desc, 32000);
		free(desc);
		break;
	default:
		if (!cp_json_str(p, "name")) {
			cp_crm_vset(v, CP_V_FAIL, "salesforce: opportunity without "
			    "a name in card %s", it->row.card_id);
			json_decref(f);
			return NULL;
		}
		set_cut(f, "Name", cp_json_str(p, "name"), 120);
		cp_json_set_str(f, "StageName",
		    stage_of(t, cp_json_str(p, "stage")));
		cp_crm_date(cp_json_str(p, "approved_at"),
		    (long)cp_crm_close_days(t), date);
		cp_json_set_str(f, "CloseDate", date);
		if (json_is_number(amount = json_object_get(p, "amount")))
			json_object_set(f, "Amount", amount);
		cp_json_set_str(f, "AccountId", it->parent);
		if (s->multicurrency && cp_json_str(p, "currency"))
			cp_json_set_str(f, "CurrencyIsoCode",
			    cp_json_str(p, "currency"));
		desc = describe(p);
		set_cut(f, "Description", desc, 32000);
		free(desc);
		break;
	}
	/* created (not upserted) objects carry the key as a plain field */
	if (it->row.action != CP_PUSH_NOTE && !upserts(s, it->row.action))
		cp_json_set_str(f, s->key_field, it->row.key);
	return f;
}

static bool domain_ok(const char *d)
{
	if (!d || !*d)
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '.' && *d != '-')
			return false;
	return true;
}

static cp_http_req *query(cp_crm_target *t, const char *soql)
{
	struct sf *s = t->priv;
	char *q = cp_url_escape(soql), *url = xasprintf("%s/query?q=%s",
	    s->data, q);
	cp_http_req *r = cp_crm_req(t, "GET", url, NULL);

	free(q);
	free(url);
	return r;
}

static cp_http_req *request(cp_crm_target *t, cp_crm_item *it,
    cp_crm_verdict *v)
{
	struct sf *s = t->priv;
	const char *obj = sobject(it->row.action);
	cp_http_req *r;
	char *url, *soql;
	json_t *f;

	switch (it->step) {
	case CP_STEP_PARENT:
		if (!domain_ok(it->row.acct_domain)) {
			cp_crm_vset(v, CP_V_FAIL, "salesforce: account %s has neither "
			    "a salesforce_id nor a plain domain to find its Account "
			    "by", it->row.account_id);
			return NULL;
		}
		soql = xasprintf("SELECT Id, Website FROM Account WHERE Website "
		    "LIKE '%%%s%%' LIMIT 20", it->row.acct_domain);
		r = query(t, soql);
		free(soql);
		break;
	case CP_STEP_LOOKUP:
		if (upserts(s, it->row.action)) {
			url = xasprintf("%s/sobjects/%s/%s/%s", s->data, obj,
			    s->key_field, it->row.key);
			r = cp_crm_req(t, "GET", url, NULL);
			free(url);
		} else {
			soql = it->row.action == CP_PUSH_NOTE ?
			    xasprintf("SELECT Id FROM Note WHERE Title LIKE '%%%s%%'"
			    " LIMIT 2", it->row.key) :
			    xasprintf("SELECT Id FROM %s WHERE %s = '%s' LIMIT 2",
			    obj, s->key_field, it->row.key);
			r = query(t, soql);
			free(soql);
		}
		break;
	case CP_STEP_SEND:
		if (!(f = fields(t, it, v)))
			return NULL;
		if (upserts(s, it->row.action)) {
			url = xasprintf("%s/sobjects/%s/%s/%s", s->data, obj,
			    s->key_field, it->row.key);
			r = cp_crm_req(t, "PATCH", url, f);
		} else {
			url = xasprintf("%s/sobjects/%s/", s->data, obj);
			r = cp_crm_req(t, "POST", url, f);
			/* a create must never be resent behind our back */
			r->fresh_connect = true;
		}
		free(url);
		break;
	default:
		if (it->row.remote_id)
			url = xasprintf("%s/sobjects/%s/%s", s->data, obj,
			    it->row.remote_id);
		else if (upserts(s, it->row.action))
			url = xasprintf("%s/sobjects/%s/%s/%s", s->data, obj,
			    s->key_field, it->row.key);
		else {
			cp_crm_vset(v, CP_V_FAIL, "salesforce: %s has no remote id",
			    it->row.key);
			return NULL;
		}
		r = cp_crm_req(t, "GET", url, NULL);
		free(url);
		break;
	}
	r->keep_headers = true;
	return r;
}

/* Salesforce's errors: a JSON array of {message, errorCode, fields}. */
static char *error_detail(const json_t *j, const char **code)
{
	const json_t *e = json_is_array(j) ? json_array_get(j, 0) : j;
	const char *msg = cp_json_str(e, "message");

	*code = cp_json_strd(e, "errorCode", "");
	if (!msg)
		return NULL;
	return **code ? xasprintf("%s: %.300s", *code, msg) :
	    xasprintf("%.300s", msg);
}

/* "api-usage=N/M": warn once a run when less than a tenth is left. */
static void watch_limit(cp_crm_target *t, const cp_http_req *r)
{
	char *h = cp_http_resp_header(r, "Sforce-Limit-Info"), *p;
	long used, max;

	if (h && (p = strstr(h, "api-usage=")) &&
	    sscanf(p + 10, "%ld/%ld", &used, &max) == 2 && max > 0 &&
	    (max - used) * 10 < max && !t->limit_warned) {
		t->limit_warned = true;
		cp_warn("salesforce: %ld of %ld API requests of the last 24 "
		    "hours used (%.1f%% left)", used, max,
		    100.0 * (double)(max - used) / (double)max);
	}
	free(h);
}

/* The host of a Website value ("https://www.x.com/about" → "x.com"). */
static char *site_host(const char *w)
{
	const char *p = strstr(w, "://");
	char *h, *e;

	p = p ? p + 3 : w;
	if (!strncasecmp(p, "www.", 4))
		p += 4;
	h = xstrdup(p);
	if ((e = strpbrk(h, "/:?# ")))
		*e = '\0';
	for (e = h; *e; e++)
		*e = (char)tolower((unsigned char)*e);
	return h;
}

static void parent_verdict(const cp_crm_item *it, const json_t *j,
    cp_crm_verdict *v)
{
	const json_t *rec;
	const char *found = NULL;
	size_t i, n = 0;

	json_array_foreach(json_object_get(j, "records"), i, rec) {
		char *h = site_host(cp_json_strd(rec, "Website", ""));
		if (!strcmp(h, it->row.acct_domain) && cp_json_str(rec, "Id")) {
			found = cp_json_str(rec, "Id");
			n++;
		}
		free(h);
	}
	if (n == 1) {
		v->kind = CP_V_PARENT;
		v->id = xstrdup(found);
		return;
	}
	cp_crm_vset(v, CP_V_FAIL, n ? "salesforce: several Accounts have "
	    "website %s; set salesforce_id on account %s" : "salesforce: no "
	    "Account has website %s; set salesforce_id on account %s",
	    it->row.acct_domain, it->row.account_id);
}

static void verdict(cp_crm_target *t, cp_crm_item *it, const cp_http_req *r,
    cp_crm_verdict *v)
{
	struct sf *s = t->priv;
	json_t *j = r->error_kind == CP_HTTP_OK ? cp_crm_resp_json(r) : NULL;
	const char *code = "";
	char *detail = error_detail(j, &code);
	const json_t *rec;

	if (r->error_kind == CP_HTTP_OK)
		watch_limit(t, r);
	if (r->error_kind == CP_HTTP_OK && r->status == 403 &&
	    !strcmp(code, "REQUEST_LIMIT_EXCEEDED")) {
		cp_crm_vset(v, CP_V_HOLD, "salesforce: API request limit "
		    "exceeded (%s)", detail ? detail : "HTTP 403");
		v->hold = s->limit_hold;
		goto out;
	}
	if (cp_crm_common(t, it, r, v, detail))
		goto out;
	if (r->status == 300) {
		cp_crm_vset(v, CP_V_FAIL, "salesforce: several %s records have "
		    "%s = %s", sobject(it->row.action), s->key_field, it->row.key);
		goto out;
	}
	if (r->status == 404 && (it->step == CP_STEP_FETCH ||
	    (it->step == CP_STEP_LOOKUP && upserts(s, it->row.action)))) {
		v->kind = it->step == CP_STEP_FETCH ? CP_V_GONE : CP_V_ABSENT;
		goto out;
	}
	if (r->status < 200 || r->status > 299) {
		cp_crm_vset(v, CP_V_FAIL, "salesforce: HTTP %ld%s%s", r->status,
		    detail ? ": " : "", detail ? detail : "");
		goto out;
	}
	switch (it->step) {
	case CP_STEP_PARENT:
		parent_verdict(it, j, v);
		break;
	case CP_STEP_LOOKUP:
		rec = upserts(s, it->row.action) ? j :
		    json_array_get(json_object_get(j, "records"), 0);
		if (cp_json_str(rec, "Id")) {
			v->kind = CP_V_FOUND;
			v->id = xstrdup(cp_json_str(rec, "Id"));
		} else if (upserts(s, it->row.action) ||
		    json_is_array(json_object_get(j, "records"))) {
			v->kind = CP_V_ABSENT;
		} else {
			cp_crm_vset(v, CP_V_RETRY, "salesforce: query answer "
			    "without records");
		}
		break;
	case CP_STEP_SEND:
		/* 201 created, 200 updated (API 46.0 and later say so in a
		 * body), 204 updated (older versions, no body) */
		v->kind = CP_V_DONE;
		if (cp_json_str(j, "id"))
			v->id = xstrdup(cp_json_str(j, "id"));
		else if (r->status != 204 || !upserts(s, it->row.action)) {
			cp_crm_vset(v, CP_V_RETRY, "salesforce: HTTP %ld without "
			    "a record id", r->status);
			v->ambiguous = true;
		}
		break;
	default:
		v->kind = CP_V_OBJECT;
		v->object = json_is_object(j) ? json_deep_copy(j) : json_object();
		json_object_del(v->object, "attributes");
		cp_json_set_str(v->object, "_id", cp_json_str(j, "Id"));
		break;
	}
out:
	free(detail);
	json_decref(j);
}

const cp_crm_adapter cp_crm_salesforce = {
	CP_TGT_SALESFORCE, true, setup, teardown, must_look, request, verdict
};
