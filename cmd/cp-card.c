/*
 * cp-card — opportunities in, cards out, and into the inbox.
 *
 *   cp-card [--no-store] [--narrative template|llm] [--batch N] [FILE…]
 *
 * Each opportunity (from cp-score) is checked and turned into a card
 * (card.h): title, narrative, outreach, CRM actions, assets, evidence and
 * the full score breakdown.  Unless --no-store, the card is stored as
 * pending_review for the account's owner, with its evidence rows, a
 * version row and an audit entry, in the same transaction; a later
 * opportunity for the same story updates the pending card instead.
 * Cards are written to stdout once their transaction has committed, so
 * anything downstream only ever sees stored cards.
 *
 * Transactions group cards (--batch, default 500) and commit as soon as
 * the input pauses or 100 ms have passed, so a card fed alone is
 * committed at once and a bulk load costs one commit per batch.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "card.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "factcheck.h"
#include "json.h"
#include "llm.h"
#include "log.h"
#include "mem.h"
#include "ndjson.h"
#include "rbac.h"
#include "timefmt.h"

static const char usage[] =
	"usage: cp-card [--no-store] [--narrative template|llm] [--batch N]\n"
	"               [--reject FILE] [--max-line BYTES] [--unbuffered] [FILE...]\n"
	"common options: --db FILE --as USER --tenant NAME --config FILE\n"
	"                --log-format text|json -q -v --help --version\n"
	"Turn opportunities into cards in the inbox.  See cp-card(1).\n";

enum { OPT_NOSTORE = CP_OPT_LOCAL, OPT_NARRATIVE, OPT_BATCH };

static const struct option longopts[] = {
	{ "no-store", no_argument, NULL, OPT_NOSTORE },
	{ "narrative", required_argument, NULL, OPT_NARRATIVE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

#define BATCH_SECONDS 0.1

static struct {
	sqlite3 *db;
	cp_user me;
	char actor[300];
	cp_cardgen *gen;
	cp_llm *llm;
	bool dry;
	long batch_max;
	/* the open transaction and the cards waiting for its commit */
	bool in_txn;
	double started;
	char **pending;
	size_t npending, cappending;
	unsigned long created, updated, unchanged, decided, llm_ok, llm_no;
} S;

/* ---- the LLM narrative ------------------------------------------------- */

static const char system_prompt[] =
	"You write short briefs for account managers. Rewrite the draft brief "
	"in plain, friendly business English. Use only names, numbers and "
	"dates that appear in the facts; never add any. Answer with a JSON "
	"object with exactly these string keys: what_happened, why_it_matters, "
	"why_now, next_step. One or two sentences each.";

static char *user_prompt(const json_t *draft)
{
	json_t *u = json_object(), *ev = json_array(), *e;
	char *s;
	size_t i;

	json_object_set(u, "account", json_object_get(draft, "account_name"));
	json_object_set(u, "facts", json_object_get(draft, "facts"));
	json_array_foreach(json_object_get(draft, "evidence"), i, e)
		json_array_append_new(ev, json_pack("{s:O,s:O,s:O}", "quote",
		    json_object_get(e, "quote"), "url", json_object_get(e, "url"),
		    "published_at", json_object_get(e, "published_at")));
	json_object_set_new(u, "evidence", ev);
	json_object_set(u, "playbook", json_object_get(draft, "playbook_name"));
	json_object_set(u, "draft", json_object_get(draft, "narrative"));
	s = cp_json_dumps(u, 0);
	json_decref(u);
	return s;
}

/* The model's answer as a narrative, or NULL with the reason. */
static json_t *parse_answer(const char *text, const char *corpus, char *why,
    size_t size)
{
	static const char *const keys[] = { "what_happened", "why_it_matters",
	    "why_now", "next_step", NULL };
	const char *p = text, *end;
	char err[200];
	json_t *a, *n;
	int i;

	/* a fenced ```json block is common; take what is inside */
	if ((p = strchr(text, '{')) == NULL || !(end = strrchr(text, '}'))) {
		snprintf(why, size, "the answer is not a JSON object");
		return NULL;
	}
	a = cp_json_parse(p, (size_t)(end - p) + 1, err, sizeof err);
	if (!json_is_object(a)) {
		snprintf(why, size, "the answer is not a JSON object");
		json_decref(a);
		return NULL;
	}
	n = json_object();
	for (i = 0; keys[i]; i++) {
		const char *v = cp_json_str(a, keys[i]);
		char fc[200];
		if (!v || !*v || strlen(v) > 2000) {
			snprintf(why, size, "the answer has no usable \"%s\"",
			    keys[i]);
			break;
		}
		if (!cp_factcheck(v, corpus, fc, sizeof fc)) {
			snprintf(why, size, "%s: %s", keys[i], fc);
			break;
		}
		json_object_set_new(n, keys[i], json_string(v));
	}
	json_decref(a);
	if (keys[i]) {
		json_decref(n);
		return NULL;
	}
	return n;
}

/* Ask the model; keep the template narrative (and say why) unless the
 * answer passes the fact check. */
static void llm_narrative(json_t *draft)
{
	char *user = user_prompt(draft), *answer, *corpus, why[300];
	json_t *n = NULL, *tpl = json_object_get(draft, "narrative");

	answer = cp_llm_chat(S.llm, system_prompt, user, why, sizeof why);
	free(user);
	if (answer) {
		corpus = cp_card_corpus(draft);
		n = parse_answer(answer, corpus, why, sizeof why);
		free(corpus);
		free(answer);
	}
	if (n) {
		json_object_set_new(n, "source", json_string("llm"));
		json_object_set_new(n, "model",
		    json_string(cp_llm_model(S.llm)));
		cp_card_set_narrative(draft, n);
		S.llm_ok++;
		return;
	}
	json_object_set_new(tpl, "llm_rejected", json_string(why));
	S.llm_no++;
	cp_info("%s: llm narrative not used: %s", cp_json_str(draft, "id"), why);
}

/* ---- transactions ------------------------------------------------------ */

static void drop_pending(bool emit)
{
	size_t i;

	for (i = 0; i < S.npending; i++) {
		if (emit)
			cp_emit_raw(S.pending[i], strlen(S.pending[i]));
		free(S.pending[i]);
	}
	S.npending = 0;
}

static int commit(void)
{
	int rc = 0;

	if (S.in_txn) {
		S.in_txn = false;
		if ((rc = cp_db_commit(S.db))) {
			drop_pending(false);
			return rc;
		}
	}
	/* only now is it safe to tell anyone downstream */
	drop_pending(true);
	if (cp_ndjson.unbuffered)
		fflush(stdout);
	return 0;
}

/* The reader is about to wait on an empty pipe: commit first, so the
 * stage upstream is never kept waiting for our lock while we wait for
 * its next line, and pass on what is done. */
static int idle(void)
{
	int rc = commit();

	fflush(stdout);
	return rc;
}

static bool input_idle(const cp_line *ln)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	return !strcmp(ln->input, "<stdin>") && poll(&p, 1, 0) == 0;
}

/* ---- one opportunity --------------------------------------------------- */

static void note_outcome(int outcome, const json_t *draft, const char *status)
{
	switch (outcome) {
	case CP_CARD_CREATED: S.created++; break;
	case CP_CARD_UPDATED: S.updated++; break;
	case CP_CARD_UNCHANGED: S.unchanged++; break;
	case CP_CARD_DECIDED:
		S.decided++;
		/* never reopened silently: say so every time */
		cp_warn("%s (%s, %s): already %s; new evidence not applied",
		    cp_json_str(draft, "id"), cp_json_str(draft, "account_id"),
		    cp_json_str(draft, "playbook_id"), status);
		break;
	}
}

static int store(json_t *draft, const cp_line *ln)
{
	char *stored = NULL, status[32];
	int outcome, rc;

	if (S.dry)
		rc = cp_card_store(S.gen, draft, S.actor, true, &outcome, &stored,
		    status);
	else {
		if (!S.in_txn) {
			if ((rc = cp_db_begin(S.db)))
				return rc;
			S.in_txn = true;
			S.started = cp_monotonic();
		}
		/* a card refused by the state file is refused before any of
		 * its rows is written (card.h); anything else ends the batch */
		rc = cp_card_store(S.gen, draft, S.actor, false, &outcome,
		    &stored, status);
		if (rc == CP_EX_DATAERR) {
			cp_reject(ln, "rejected by the state file");
			free(stored);
			return 0;
		}
	}
	if (rc) {
		free(stored);
		return rc;
	}
	note_outcome(outcome, draft, status);
	if (stored) {
		if (S.npending == S.cappending) {
			S.cappending = S.cappending ? 2 * S.cappending : 64;
			S.pending = xrealloc(S.pending,
			    S.cappending * sizeof *S.pending);
		}
		S.pending[S.npending++] = stored;
	}
	return 0;
}

static int one_opp(json_t *rec, const cp_line *ln, const cp_cardraw *raw)
{
	char err[300];
	json_t *draft;
	int rc;

	if (!(draft = cp_card_draft(S.gen, rec, raw, err, sizeof err))) {
		cp_reject(ln, "%s", err);
		return 0;
	}
	if (S.llm) {
		/* never hold the write lock while a model thinks */
		if ((rc = commit())) {
			json_decref(draft);
			return rc;
		}
		llm_narrative(draft);
	}
	rc = store(draft, ln);
	json_decref(draft);
	if (rc)
		return rc;
	if (S.dry || (long)S.npending >= S.batch_max ||
	    cp_monotonic() - S.started >= BATCH_SECONDS || input_idle(ln))
		rc = commit();
	return rc;
}

/* Opportunities are scanned once (jscan.h); their "inputs" are copied
 * into the card as text, never decoded. */
static int one_line(const cp_line *ln, void *arg)
{
	char err[256];
	cp_cardraw raw;
	json_t *rec;
	int rc;

	(void)arg;
	if (!(rec = cp_card_parse(ln->text, ln->len, &raw, err, sizeof err))) {
		cp_reject(ln, "invalid JSON: %s", err);
		return 0;
	}
	rc = one_opp(rec, ln, &raw);
	json_decref(rec);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int run(int nargs, char **args, const char *narr)
{
	int rc;

	if (S.me.role != CP_ROLE_ADMIN && !S.dry) {
		cp_err("permission denied: role %s may not store cards (admin, "
		    "usually the pipeline's service account)",
		    cp_role_name(S.me.role));
		return CP_EX_NOPERM;
	}
	if (!strcmp(narr, "llm") && (rc = cp_llm_open(&S.llm)))
		return rc;
	if ((rc = cp_cardgen_new(S.db, &S.me, &S.gen)))
		return rc;

	cp_ndjson.idle = idle;
	rc = cp_ndjson_inputs_raw(nargs, args, one_line, NULL);
	if (!rc || rc == CP_EX_NOINPUT)
		rc = cp_exit_worst(rc, commit());
	else if (S.in_txn) {
		/* nothing of the batch is stored, so nothing of it is told */
		cp_db_rollback(S.db);
		S.in_txn = false;
		drop_pending(false);
	}
	cp_info("%lu created, %lu updated, %lu unchanged, %lu already decided"
	    "%s", S.created, S.updated, S.unchanged, S.decided,
	    S.dry ? " (dry run: nothing stored)" : "");
	if (S.llm)
		cp_info("llm narratives: %lu used, %lu replaced by the template",
		    S.llm_ok, S.llm_no);
	return rc;
}

int main(int argc, char **argv)
{
	const char *narr = NULL;
	int c, rc;

	cp_cli_init(argc, argv);
	S.batch_max = 500;
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		switch (c) {
		case OPT_NOSTORE: S.dry = true; break;
		case OPT_NARRATIVE:
			if (strcmp(optarg, "template") && strcmp(optarg, "llm"))
				cp_usage_error(usage, "--narrative: expected template "
				    "or llm, not '%s'", optarg);
			narr = optarg;
			break;
		case OPT_BATCH: {
			char *end;
			S.batch_max = strtol(optarg, &end, 10);
			if (*end || S.batch_max < 1 || S.batch_max > 100000)
				cp_usage_error(usage, "--batch: expected 1 to 100000");
			break;
		}
		}
	}
	if ((rc = cp_cli_ready()))
		return rc;
	if (!narr)
		narr = cp_conf("card.narrative", NULL, "template");
	if (strcmp(narr, "template") && strcmp(narr, "llm")) {
		cp_err("card.narrative: expected template or llm, not '%s'", narr);
		return CP_EX_CONFIG;
	}
	if ((rc = cp_db_open(cp_cli.db, 0, &S.db)))
		goto done;
	if (!(rc = cp_whoami(S.db, cp_cli.as, cp_cli.tenant, &S.me))) {
		cp_user_actor(&S.me, S.actor, sizeof S.actor);
		rc = run(argc - optind, argv + optind, narr);
	}
	cp_cardgen_free(S.gen);
	cp_db_close(S.db);
done:
	cp_llm_close(S.llm);
	drop_pending(false);
	free(S.pending);
	return cp_ndjson_status(rc);
}
