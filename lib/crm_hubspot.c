/*
 * crm_hubspot.c — the HubSpot target (crm.h): CRM v3 objects API.
 *
 *   parent  POST /crm/v3/objects/companies/search   domain EQ the account's
 *   lookup  POST /crm/v3/objects/TYPE/search        KEYPROP EQ the key
 *   send    POST /crm/v3/objects/TYPE               properties and an
 *                                                   association to the company
 *   fetch   GET  /crm/v3/objects/TYPE/ID
 *
 * TYPE is notes, tasks or deals; the association types are HubSpot's
 * defined ones (note→company 190, task→company 192, deal→company 5).
 * Creating is not idempotent, so every resend after an ambiguous failure
 * is preceded by a search on the key property — after hubspot.lookup_delay,
 * because HubSpot's search index trails its writes by a few seconds.
 * Errors are HubSpot's JSON ({"status":"error","message","category",
 * "correlationId"}); a 429's "policyName" tells the ten-secondly window
 * (wait for it) from the daily limit (hold the target until the next
 * day).
 */
#define CP_CRM_ADAPTER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "crm.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timefmt.h"

struct hs {
	const char *key_prop;
	const char *pipeline;
	double burst_wait;
	bool multicurrency;
};

static const char *obj_type(cp_push_action a)
{
	switch (a) {
	case CP_PUSH_NOTE: return "notes";
	case CP_PUSH_TASK: return "tasks";
	default: return "deals";
	}
}

static int assoc_type(cp_push_action a)
{
	switch (a) {
	case CP_PUSH_NOTE: return 190;
	case CP_PUSH_TASK: return 192;
	default: return 5;
	}
}

static int setup(cp_crm_target *t)
{
	struct hs *h = xcalloc(1, sizeof *h);
	const char *base = cp_crm_conf(t, "base_url", "https://api.hubapi.com");
	long burst;
	int err = 0;

	t->priv = h;
	t->base = xstrdup(base);
	while (*t->base && t->base[strlen(t->base) - 1] == '/')
		t->base[strlen(t->base) - 1] = '\0';
	t->token = cp_secret("hubspot.token", "CLIENTPULSE_HUBSPOT_TOKEN", &err);
	if (err)
		return CP_EX_CONFIG;
	if (!t->token || !*t->token) {
		cp_err("hubspot: no token: put hubspot.token (a private app "
		    "token) in the credentials file, see cp-push(1)");
		return CP_EX_CONFIG;
	}
	h->key_prop = cp_crm_conf(t, "key_property", "clientpulse_key");
	h->pipeline = cp_crm_conf(t, "pipeline", "default");
	h->burst_wait = cp_conf_double("hubspot.burst_wait", NULL, 10);
	h->multicurrency = cp_conf_bool("hubspot.multicurrency", NULL, false);
	t->lookup_delay = cp_conf_double("hubspot.lookup_delay", NULL, 10);
	/* the burst limit is per 10 seconds: spread it, keep the burst */
	burst = cp_conf_long("hubspot.burst_limit", NULL, 100);
	if (burst > 0)
		cp_crm_rate(t, (double)burst / 10, (double)burst);
	return 0;
}

static void teardown(cp_crm_target *t)
{
	free(t->priv);
	t->priv = NULL;
}

static bool must_look(const cp_crm_target *t, const cp_outbox_row *row)
{
	(void)t;
	(void)row;
	return true;
}

static json_t *filter_eq(const char *prop, const char *value,
    const char *want)
{
	return json_pack("{s:[{s:[{s:s,s:s,s:s}]}],s:[s],s:i}",
	    "filterGroups", "filters", "propertyName", prop, "operator", "EQ",
	    "value", value, "properties", want, "limit", 2);
}

static const char *stage_of(cp_crm_target *t, const char *stage)
{
	const char *dflt = !stage ? "appointmentscheduled" :
	    !strcmp(stage, "discovery") ? "appointmentscheduled" :
	    !strcmp(stage, "qualification") ? "qualifiedtobuy" : stage;

	return cp_crm_conf2(t, "stage", stage, dflt);
}

/* Task and deal descriptions: what the card says, where it comes from. */
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

static void set_num_text(json_t *props, const char *k, const json_t *v)
{
	char *text;

	if (!json_is_number(v))
		return;
	/* HubSpot property values are strings; exact digits, no 1e+05 */
	text = json_is_integer(v) ? xasprintf("%lld",
	    (long long)json_integer_value(v)) : xasprintf("%.2f",
	    json_real_value(v));
	cp_json_set_str(props, k, text);
	free(text);
}

static json_t *properties(cp_crm_target *t, const cp_crm_item *it,
    cp_crm_verdict *v)
{
	struct hs *h = t->priv;
	const json_t *p = it->row.payload;
	json_t *props = json_object();
	const char *owner = cp_crm_conf2(t, "owner",
	    cp_json_str(p, "assignee") ? cp_json_str(p, "assignee") :
	    it->row.owner, NULL);
	char date[16], ts[40], *desc;

	cp_json_set_str(props, h->key_prop, it->row.key);
	if (owner)
		cp_json_set_str(props, "hubspot_owner_id", owner);
	switch (it->row.action) {
	case CP_PUSH_NOTE:
		cp_json_set_str(props, "hs_timestamp",
		    cp_json_strd(p, "approved_at", it->row.created_at));
		cp_json_set_str(props, "hs_note_body", cp_json_strd(p, "body",
		    cp_json_strd(p, "title", "")));
		break;
	case CP_PUSH_TASK:
		/* due at noon UTC: the same calendar day in most zones */
		snprintf(ts, sizeof ts, "%sT12:00:00Z",
		    cp_json_strd(p, "due_date", ""));
		cp_json_set_str(props, "hs_timestamp", ts);
		cp_json_set_str(props, "hs_task_subject",
		    cp_json_strd(p, "subject", cp_json_strd(p, "title", "")));
		desc = describe(p);
		cp_json_set_str(props, "hs_task_body", desc);
		free(desc);
		cp_json_set_str(props, "hs_task_status", "NOT_STARTED");
		cp_json_set_str(props, "hs_task_priority",
		    cp_json_int(p, "due_in_days", 7) <= 1 ? "HIGH" : "MEDIUM");
		cp_json_set_str(props, "hs_task_type", "TODO");
		break;
	default:
		if (!cp_json_str(p, "name")) {
			cp_crm_vset(v, CP_V_FAIL, "hubspot: opportunity without a "
			    "name in card %s", it->row.card_id);
			json_decref(props);
			return NULL;
		}
		cp_json_set_str(props, "dealname", cp_json_str(p, "name"));
		cp_json_set_str(props, "dealstage",
		    stage_of(t, cp_json_str(p, "stage")));
		cp_json_set_str(props, "pipeline", h->pipeline);
		set_num_text(props, "amount", json_object_get(p, "amount"));
		cp_crm_date(cp_json_str(p, "approved_at"),
		    (long)cp_crm_close_days(t), date);
		snprintf(ts, sizeof ts, "%sT00:00:00Z", date);
		cp_json_set_str(props, "closedate", ts);
		if (h->multicurrency && cp_json_str(p, "currency"))
			cp_json_set_str(props, "deal_currency_code",
			    cp_json_str(p, "currency"));
		desc = describe(p);
		cp_json_set_str(props, "description", desc);
		free(desc);
		break;
	}
	return props;
}

static cp_http_req *request(cp_crm_target *t, cp_crm_item *it,
    cp_crm_verdict *v)
{
	struct hs *h = t->priv;
	const char *type = obj_type(it->row.action);
	char *url;
	json_t *body, *props;
	cp_http_req *r;

	switch (it->step) {
	case CP_STEP_PARENT:
		if (!it->row.acct_domain || !*it->row.acct_domain) {
			cp_crm_vset(v, CP_V_FAIL, "hubspot: account %s has neither "
			    "a hubspot_id nor a domain to find its company by",
			    it->row.account_id);
			return NULL;
		}
		url = xasprintf("%s/crm/v3/objects/companies/search", t->base);
		r = cp_crm_req(t, "POST", url, filter_eq("domain",
		    it->row.acct_domain, "domain"));
		break;
	case CP_STEP_LOOKUP:
		url = xasprintf("%s/crm/v3/objects/%s/search", t->base, type);
		r = cp_crm_req(t, "POST", url, filter_eq(h->key_prop, it->row.key,
		    h->key_prop));
		break;
	case CP_STEP_SEND:
		if (!(props = properties(t, it, v)))
			return NULL;
		body = json_pack("{s:o,s:[{s:{s:s},s:[{s:s,s:i}]}]}",
		    "properties", props, "associations", "to", "id", it->parent,
		    "types", "associationCategory", "HUBSPOT_DEFINED",
		    "associationTypeId", assoc_type(it->row.action));
		url = xasprintf("%s/crm/v3/objects/%s", t->base, type);
		r = cp_crm_req(t, "POST", url, body);
		/* a create must never be resent behind our back */
		r->fresh_connect = true;
		break;
	default:
		if (!it->row.remote_id) {
			cp_crm_vset(v, CP_V_FAIL, "hubspot: %s has no remote id",
			    it->row.key);
			return NULL;
		}
		url = xasprintf("%s/crm/v3/objects/%s/%s?properties=%s", t->base,
		    type, it->row.remote_id, it->row.action == CP_PUSH_NOTE ?
		    "hs_note_body,hs_timestamp" : it->row.action == CP_PUSH_TASK ?
		    "hs_task_subject,hs_task_status,hs_timestamp" :
		    "dealname,dealstage,amount,closedate,pipeline");
		r = cp_crm_req(t, "GET", url, NULL);
		break;
	}
	free(url);
	return r;
}

/* "CATEGORY: message" of a HubSpot error body, or NULL. */
static char *error_detail(const json_t *j)
{
	const char *cat = cp_json_str(j, "category");
	const char *msg = cp_json_str(j, "message");

	if (!msg)
		return NULL;
	return cat ? xasprintf("%s: %.300s", cat, msg) :
	    xasprintf("%.300s", msg);
}

/* Seconds until the next midnight UTC: HubSpot's daily limit resets at
 * the portal's midnight, which is at the latest the next UTC one plus
 * the zone's offset; hubspot.daily_reset_hours adds that margin. */
static double until_tomorrow(void)
{
	time_t now = cp_now();
	double extra = cp_conf_double("hubspot.daily_reset_hours", NULL, 0);

	return (double)(86400 - now % 86400) + extra * 3600;
}

static void verdict(cp_crm_target *t, cp_crm_item *it, const cp_http_req *r,
    cp_crm_verdict *v)
{
	struct hs *h = t->priv;
	json_t *j = r->error_kind == CP_HTTP_OK ? cp_crm_resp_json(r) : NULL;
	char *detail = error_detail(j);
	json_t *res;
	size_t n;

	if (r->error_kind == CP_HTTP_OK && r->status == 429) {
		const char *policy = cp_json_strd(j, "policyName", "");
		if (!strcmp(policy, "DAILY")) {
			cp_crm_vset(v, CP_V_HOLD, "hubspot: daily API limit "
			    "reached (HTTP 429 DAILY)");
			v->hold = until_tomorrow();
		} else {
			/* TEN_SECONDLY_ROLLING or another window: everyone waits */
			cp_crm_vset(v, CP_V_RETRY, "hubspot: rate limited (HTTP "
			    "429 %s)", *policy ? policy : "RATE_LIMIT");
			v->wait = r->retry_after >= 0 ? r->retry_after :
			    h->burst_wait;
			v->pause = true;
		}
		goto out;
	}
	if (cp_crm_common(t, it, r, v, detail))
		goto out;
	if (r->status < 200 || r->status > 299) {
		if (it->step == CP_STEP_FETCH && r->status == 404)
			v->kind = CP_V_GONE;
		else
			cp_crm_vset(v, CP_V_FAIL, "hubspot: HTTP %ld%s%s",
			    r->status, detail ? ": " : "", detail ? detail : "");
		goto out;
	}
	switch (it->step) {
	case CP_STEP_PARENT:
		res = json_object_get(j, "results");
		n = json_array_size(res);
		if (n == 1 && cp_json_str(json_array_get(res, 0), "id")) {
			v->kind = CP_V_PARENT;
			v->id = xstrdup(cp_json_str(json_array_get(res, 0), "id"));
		} else {
			cp_crm_vset(v, CP_V_FAIL, n ? "hubspot: several companies "
			    "have domain %s; set hubspot_id on account %s" :
			    "hubspot: no company has domain %s; set hubspot_id on "
			    "account %s", it->row.acct_domain, it->row.account_id);
		}
		break;
	case CP_STEP_LOOKUP:
		res = json_array_get(json_object_get(j, "results"), 0);
		if (cp_json_str(res, "id")) {
			v->kind = CP_V_FOUND;
			v->id = xstrdup(cp_json_str(res, "id"));
		} else if (json_is_array(json_object_get(j, "results"))) {
			v->kind = CP_V_ABSENT;
		} else {
			cp_crm_vset(v, CP_V_RETRY, "hubspot: search answer without "
			    "results");
		}
		break;
	case CP_STEP_SEND:
		if (cp_json_str(j, "id")) {
			v->kind = CP_V_DONE;
			v->id = xstrdup(cp_json_str(j, "id"));
		} else {
			/* created, probably, but which: the search will say */
			cp_crm_vset(v, CP_V_RETRY, "hubspot: HTTP %ld without an "
			    "object id", r->status);
			v->ambiguous = true;
		}
		break;
	default:
		v->kind = CP_V_OBJECT;
		v->object = json_deep_copy(json_object_get(j, "properties"));
		if (!json_is_object(v->object)) {
			json_decref(v->object);
			v->object = json_object();
		}
		cp_json_set_str(v->object, "_id", cp_json_str(j, "id"));
		json_object_set_new(v->object, "_archived", json_boolean(
		    cp_json_bool(j, "archived", false)));
		break;
	}
out:
	free(detail);
	json_decref(j);
}

const cp_crm_adapter cp_crm_hubspot = {
	CP_TGT_HUBSPOT, true, setup, teardown, must_look, request, verdict
};
