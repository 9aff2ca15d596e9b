/*
 * crm_webhook.c — the webhook target (crm.h): the card, POSTed.
 *
 *   POST webhook.url
 *   Content-Type: application/json
 *   Idempotency-Key: cpk_…                 the same on every resend
 *   X-ClientPulse-Timestamp: 1764072000     seconds since the epoch
 *   X-ClientPulse-Signature: sha256=HEX     HMAC-SHA256 under webhook.secret
 *                                           of timestamp "." body
 *
 * The body is the card record as it was approved.  Nothing can be looked
 * up, so a resend after an ambiguous failure carries the same key and
 * the receiver drops what it has seen (cp-push(1) shows how to check the
 * signature and the key).
 */
#define CP_CRM_ADAPTER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crm.h"
#include "exitcode.h"
#include "id.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "timefmt.h"

static int setup(cp_crm_target *t)
{
	const char *url = cp_conf("webhook.url", NULL, NULL), *secret;
	int err = 0;

	if (!url || !*url) {
		cp_err("webhook: no URL: set webhook.url in the configuration");
		return CP_EX_CONFIG;
	}
	secret = cp_secret("webhook.secret", "CLIENTPULSE_WEBHOOK_SECRET", &err);
	if (err)
		return CP_EX_CONFIG;
	if (!secret || !*secret) {
		cp_err("webhook: no signing secret: put webhook.secret in the "
		    "credentials file, see cp-push(1)");
		return CP_EX_CONFIG;
	}
	t->base = xstrdup(url);
	t->priv = (void *)secret;   /* borrowed from config.h */
	t->token = NULL;            /* no Authorization: the signature */
	return 0;
}

static bool must_look(const cp_crm_target *t, const cp_outbox_row *row)
{
	(void)t;
	(void)row;
	return false;
}

static cp_http_req *request(cp_crm_target *t, cp_crm_item *it,
    cp_crm_verdict *v)
{
	const char *secret = t->priv;
	char *body, *signed_text, *h, sig[CP_SHA256_HEX];
	long long ts = (long long)cp_now();
	cp_http_req *r;

	if (it->step != CP_STEP_SEND) {
		v->kind = CP_V_UNKNOWN;
		return NULL;
	}
	body = cp_json_dumps(it->row.payload, 0);
	signed_text = xasprintf("%lld.%s", ts, body);
	cp_hmac_sha256_hex(secret, strlen(secret), signed_text,
	    strlen(signed_text), sig);
	r = cp_crm_req(t, "POST", t->base, NULL);
	cp_http_req_header(r, "Content-Type: application/json");
	h = xasprintf("Idempotency-Key: %s", it->row.key);
	cp_http_req_header(r, h);
	free(h);
	h = xasprintf("X-ClientPulse-Timestamp: %lld", ts);
	cp_http_req_header(r, h);
	free(h);
	h = xasprintf("X-ClientPulse-Signature: sha256=%s", sig);
	cp_http_req_header(r, h);
	free(h);
	cp_http_req_header(r, "X-ClientPulse-Event: card.approved");
	cp_http_req_body(r, body, strlen(body));
	free(body);
	free(signed_text);
	return r;
}

static void verdict(cp_crm_target *t, cp_crm_item *it, const cp_http_req *r,
    cp_crm_verdict *v)
{
	json_t *j;
	char detail[220];

	snprintf(detail, sizeof detail, "%.200s", r->resp.len ? r->resp.buf :
	    "");
	detail[strcspn(detail, "\r\n")] = '\0';
	if (cp_crm_common(t, it, r, v, *detail ? detail : NULL))
		return;
	if (r->status < 200 || r->status > 299) {
		cp_crm_vset(v, CP_V_FAIL, "webhook: HTTP %ld%s%s", r->status,
		    *detail ? ": " : "", detail);
		return;
	}
	/* a receiver may name what it made of the card */
	j = cp_crm_resp_json(r);
	v->kind = CP_V_DONE;
	v->id = xstrdup(cp_json_str(j, "id") ? cp_json_str(j, "id") :
	    it->row.key);
	json_decref(j);
}

const cp_crm_adapter cp_crm_webhook = {
	CP_TGT_WEBHOOK, false, setup, NULL, must_look, request, verdict
};
