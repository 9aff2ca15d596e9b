#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exitcode.h"
#include "http.h"
#include "json.h"
#include "llm.h"
#include "log.h"
#include "mem.h"

struct cp_llm {
	char *url, *model;
	const char *key;
	bool json_mode;
	cp_http *http;
};

int cp_llm_open(cp_llm **out)
{
	const char *url = cp_conf("llm.url", NULL, NULL);
	const char *model = cp_conf("llm.model", NULL, NULL);
	cp_http_opts o;
	cp_llm *l;
	int err = 0;
	size_t n;

	*out = NULL;
	if (!url || !*url || !model || !*model) {
		cp_err("llm narratives need llm.url and llm.model in the "
		    "configuration (or CLIENTPULSE_LLM_URL, CLIENTPULSE_LLM_MODEL)");
		return CP_EX_CONFIG;
	}
	l = xcalloc(1, sizeof *l);
	l->key = cp_secret("llm.api_key", "CLIENTPULSE_LLM_API_KEY", &err);
	if (err) {
		free(l);
		return err;
	}
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	/* a base URL gets the endpoint's path */
	if (n >= 17 && !strncmp(url + n - 17, "/chat/completions", 17))
		l->url = xstrndup(url, n);
	else
		l->url = xasprintf("%.*s/chat/completions", (int)n, url);
	l->model = xstrdup(model);
	l->json_mode = cp_conf_bool("llm.json_mode", NULL, true);
	cp_http_opts_default(&o);
	o.user_agent = "ClientPulse/" CP_VERSION;
	o.timeout = cp_conf_double("llm.timeout", NULL, 30);
	o.connect_timeout = o.timeout < 10 ? o.timeout : 10;
	o.stall_timeout = o.timeout;
	o.retries = (int)cp_conf_long("llm.retries", NULL, 2);
	o.backoff_base = 0.2;
	o.backoff_max = 5;
	o.concurrency = 1;
	o.max_body = 4u << 20;
	l->http = cp_http_new(&o);
	*out = l;
	return 0;
}

void cp_llm_close(cp_llm *l)
{
	if (!l)
		return;
	cp_http_free(l->http);
	free(l->url);
	free(l->model);
	free(l);
}

const char *cp_llm_model(const cp_llm *l)
{
	return l->model;
}

static char *request_body(const cp_llm *l, const char *system,
    const char *user)
{
	json_t *b = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:f}",
	    "model", l->model, "messages", "role", "system", "content", system,
	    "role", "user", "content", user, "temperature", 0.0);
	char *s;

	if (l->json_mode)
		json_object_set_new(b, "response_format",
		    json_pack("{s:s}", "type", "json_object"));
	s = cp_json_dumps(b, 0);
	json_decref(b);
	return s;
}

char *cp_llm_chat(cp_llm *l, const char *system, const char *user,
    char *err, size_t errlen)
{
	char *body = request_body(l, system, user), *auth = NULL, *out = NULL;
	cp_http_req *r = cp_http_req_new("POST", l->url);
	json_t *resp = NULL;
	const char *content;
	char perr[200];

	cp_http_req_header(r, "Content-Type: application/json");
	cp_http_req_header(r, "Accept: application/json");
	if (l->key) {
		auth = xasprintf("Authorization: Bearer %s", l->key);
		cp_http_req_header(r, auth);
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	cp_http_req_body(r, body, strlen(body));
	free(body);
	r->keep = true;
	if (cp_http_do(l->http, r) != 0) {
		snprintf(err, errlen, "llm: %s after %d attempt%s", r->error,
		    r->attempts, r->attempts == 1 ? "" : "s");
		goto done;
	}
	if (r->status != 200) {
		snprintf(err, errlen, "llm: HTTP %ld after %d attempt%s", r->status,
		    r->attempts, r->attempts == 1 ? "" : "s");
		goto done;
	}
	resp = cp_json_parse(r->resp.buf, r->resp.len, perr, sizeof perr);
	content = cp_json_str(json_object_get(json_array_get(json_object_get(
	    resp, "choices"), 0), "message"), "content");
	if (!content) {
		snprintf(err, errlen, "llm: the reply is not a chat completion");
		goto done;
	}
	out = xstrdup(content);
done:
	/* the server's text may echo what we sent: keep secrets out */
	cp_log_redact(err);
	json_decref(resp);
	cp_http_req_free(r);
	return out;
}
