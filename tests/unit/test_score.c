/*
 * Unit tests for the pure parts of scoring and cards: the scoring
 * configuration, the six factors and the formula, the inputs' JSON round
 * trip (what --explain CARD_ID relies on), the prior's bound, templates,
 * and the fact check of model-written narratives.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factcheck.h"
#include "json.h"
#include "log.h"
#include "score.h"
#include "strbuf.h"
#include "tap.h"
#include "template.h"
#include "timefmt.h"

static void base_inputs(cp_score_in *in)
{
	memset(in, 0, sizeof *in);
	in->theme = "leadership_change";
	in->theme_confidence = 0.9;
	in->source = "news";
	in->source_name = "Reuters";
	in->has_reliability = true;
	in->reliability = 0.6;
	in->corroborations = 2;
	cp_time_parse("2026-03-01T09:00:00Z", &in->published_at);
	cp_time_parse("2026-03-02T12:00:00Z", &in->scored_at);
	in->has_deadline = true;
	cp_time_parse("2026-03-15", &in->deadline);
	in->person[0].name = "Jane Doe";
	in->person[0].role = "CFO";
	in->npersons = 1;
	in->tier = 1;
	in->segment = "enterprise";
	in->industry = "software";
	in->owner = "alice";
	in->playbook_id = "cfo";
	in->primary_theme = true;
	in->segment_listed = true;
	in->prereq[0].name = "owner";
	in->prereq[0].met = true;
	in->prereq[1].name = "senior_contact";
	in->prereq[1].met = true;
	in->nprereq = 2;
	in->assets = 3;
}

static void test_formula(const cp_scorecfg *c)
{
	cp_score_in in;
	cp_score_out out;
	double sum = 0, w = 0;
	int i;

	base_inputs(&in);
	cp_score_compute(c, &in, &out);
	for (i = 0; i < CP_NFACTORS; i++) {
		ok(out.f[i].value >= 0 && out.f[i].value <= 1, "%s in [0,1]",
		    cp_factor_names[i]);
		ok(out.f[i].value == round(out.f[i].value * 1e4) / 1e4,
		    "%s rounded to 4 decimals", cp_factor_names[i]);
		sum += out.f[i].weight * out.f[i].value;
		w += out.f[i].weight;
	}
	ok(out.score == round(100 * sum / w * 100) / 100,
	    "score is the documented formula (%.2f)", out.score);
	is_str(out.f[CP_F_IMPACT].reason, "tier 1 (1.00), segment enterprise "
	    "(1.00); no amount or headcount (0.30); theme leadership_change (0.80)",
	    "impact reason names tier, segment, magnitude, theme");
	ok(strstr(out.f[CP_F_CONFIDENCE].reason, "reliability 0.85 (Reuters, "
	    "scoring.conf)") != NULL, "a listed source name wins over the "
	    "signal's own reliability");
	/* impact: 0.4 * (1 + 1) / 2 + 0.3 * 0.3 + 0.3 * 0.8 */
	ok(fabs(out.f[CP_F_IMPACT].value - 0.73) < 1e-12, "impact value");
	cp_score_out_free(&out);

	/* negation multiplies confidence by negation_factor */
	in.negated = true;
	cp_score_compute(c, &in, &out);
	ok(out.f[CP_F_CONFIDENCE].value < c->conf_floor,
	    "a negated theme falls below the confidence floor");
	cp_score_out_free(&out);
}

static void test_prior(const cp_scorecfg *c)
{
	cp_score_in in;
	cp_score_out a, b;

	ok(fabs(cp_score_prior_adj(c, -1) + 0.04) < 1e-12, "one reject: -step");
	ok(fabs(cp_score_prior_adj(c, -10) + 0.4) < 1e-12, "ten rejects: -0.4");
	ok(fabs(cp_score_prior_adj(c, -1000) + c->prior_bound) < 1e-12,
	    "bounded");
	ok(fabs(cp_score_prior_adj(c, 1000) - c->prior_bound) < 1e-12,
	    "bounded above");
	base_inputs(&in);
	cp_score_compute(c, &in, &a);
	in.prior_sum = -10;
	in.prior_n = 10;
	cp_score_compute(c, &in, &b);
	ok(fabs((a.score - b.score) - 8) < 1e-9, "ten rejects: 8 points "
	    "(%.2f -> %.2f)", a.score, b.score);
	cp_score_out_free(&a);
	cp_score_out_free(&b);
}

static void test_roundtrip(const cp_scorecfg *c)
{
	cp_score_in in, back;
	cp_score_out a, b;
	json_t *j, *k;
	char err[200], *s1, *s2;
	int i, same = 1;

	base_inputs(&in);
	in.has_money = true;
	in.money = 1234567.89;
	in.currency = "EUR";
	in.prior_sum = -3.3333333333333335;
	in.prior_n = 4;
	in.has_engaged = true;
	cp_time_parse("2026-02-01T00:00:00Z", &in.engaged_at);
	in.engaged_field = "last_engaged_at";
	j = cp_score_in_json(&in);
	/* through text, as a stored card is */
	s1 = cp_json_dumps(j, 0);
	k = cp_json_parse(s1, strlen(s1), err, sizeof err);
	ok(cp_score_in_parse(k, &back, err, sizeof err), "inputs parse back");
	{
		json_t *again = cp_score_in_json(&back);
		s2 = cp_json_dumps(again, 0);
		json_decref(again);
	}
	ok(!strcmp(s1, s2), "the JSON of the parsed inputs is the same text");
	cp_score_compute(c, &in, &a);
	cp_score_compute(c, &back, &b);
	for (i = 0; i < CP_NFACTORS; i++)
		same &= a.f[i].value == b.f[i].value &&
		    !strcmp(a.f[i].reason, b.f[i].reason);
	ok(same && a.score == b.score, "recomputed from JSON: the same bits "
	    "(%.2f)", b.score);
	cp_score_out_free(&a);
	cp_score_out_free(&b);
	json_decref(j);
	json_decref(k);
	free(s1);
	free(s2);
	j = json_pack("{s:s}", "theme", "x");
	ok(!cp_score_in_parse(j, &back, err, sizeof err) &&
	    strstr(err, "theme_confidence"), "a broken inputs object: %s", err);
	json_decref(j);
}

static const char *lookup(void *arg, const char *name, bool *have)
{
	(void)arg;
	*have = !strcmp(name, "account");
	if (*have)
		return "Northwind";
	return !strcmp(name, "person") ? "the team" : NULL;
}

static void test_templates(void)
{
	strbuf sb = CP_STRBUF_INIT;
	char err[120];

	cp_tpl_render(&sb, "Hi {person|there}, {account} {{x}} {person}.",
	    lookup, NULL);
	is_str(sb.buf, "Hi there, Northwind {x} the team.", "render");
	ok(cp_tpl_check("{account} {amount|n/a}", err, sizeof err), "check ok");
	ok(!cp_tpl_check("{acount}", err, sizeof err) &&
	    !strcmp(err, "unknown placeholder {acount}"), "unknown: %s", err);
	ok(!cp_tpl_check("{account", err, sizeof err), "unclosed: %s", err);
	ok(!cp_tpl_check("a } b", err, sizeof err), "unbalanced: %s", err);
	sb_free(&sb);
}

static void test_factcheck(void)
{
	const char *corpus = "Northwind Labs named Jane Doe as CFO, effective "
	    "March 15. The deal is worth $1,200,000 and 2.5 percent.";
	char why[120];

	ok(cp_factcheck("Jane Doe joins Northwind Labs. Reach out this week.",
	    corpus, why, sizeof why), "names from the evidence pass");
	ok(cp_factcheck("The deal is worth 1200000 dollars, 2.5 percent.",
	    corpus, why, sizeof why), "numbers pass, separators ignored");
	ok(!cp_factcheck("Jane Doe joins Globex.", corpus, why, sizeof why) &&
	    !strcmp(why, "name \"Globex\" is not in the evidence"), "%s", why);
	ok(!cp_factcheck("There are 37 new roles.", corpus, why, sizeof why) &&
	    !strcmp(why, "number 37 is not in the evidence"), "%s", why);
	ok(!cp_factcheck("Microsoft will follow.", corpus, why, sizeof why),
	    "a name first in a sentence is still a name");
	ok(!cp_factcheck("It is worth 2.6 percent.", corpus, why, sizeof why),
	    "a changed decimal is caught");
}

int main(void)
{
	cp_scorecfg c;
	const char bad[] = "[weights]\nimpact = heavy\n";

	cp_log_init("test_score");
	ok(cp_scorecfg_load(&c) == 0, "built-in scoring.conf loads");
	is(c.ntheme, 13, "13 themes");
	ok(strlen(c.dc.version) == 16, "version is 16 hex digits");
	ok(cp_scorecfg_senior(&c, "Chief Revenue Officer") &&
	    cp_scorecfg_senior(&c, "VP of Sales") &&
	    !cp_scorecfg_senior(&c, "Engineer"), "senior roles");
	test_formula(&c);
	test_prior(&c);
	test_roundtrip(&c);
	cp_scorecfg_free(&c);
	cp_log_set_level(-1);
	ok(cp_scorecfg_parse(&c, bad, sizeof bad - 1, "bad.conf") != 0,
	    "a bad value is refused");
	cp_scorecfg_free(&c);
	test_templates();
	test_factcheck();
	return done_testing();
}
