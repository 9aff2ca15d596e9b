/*
 * cp-playbook — the tenant's playbooks: which situations they answer,
 * what to offer and say, what to do in the CRM on approval.
 *
 *   cp-playbook import [FILE…]     NDJSON, a JSON array or JSON objects;
 *                                  upsert by id (admin)
 *   cp-playbook list [--json]
 *   cp-playbook show ID [--json]
 *
 * The format is cp-playbook(1) and playbook.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "importer.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "playbook.h"
#include "rbac.h"
#include "recfile.h"
#include "score.h"
#include "strbuf.h"
#include "table.h"
#include "unicode.h"

static const char usage[] =
	"usage: cp-playbook import [--reject FILE] [FILE...]\n"
	"       cp-playbook list [--json] [--all]\n"
	"       cp-playbook show ID [--json]\n"
	"common options: --db FILE --as USER --tenant NAME --config FILE\n"
	"                --log-format text|json -q -v --help --version\n";

enum { OPT_JSON = CP_OPT_LOCAL, OPT_ALL };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	CP_CLI_LONGOPTS,
	CP_CLI_NDJSON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static sqlite3 *db;
static cp_user me;
static char actor[300];
static cp_scorecfg cfg;
static int json_out, show_all;

static bool normalise(json_t *rec, void *arg, char *err, size_t errlen)
{
	return cp_playbook_normalise(rec, arg, err, errlen);
}

static int upsert(cp_importer *im, json_t *rec, int *outcome, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	return cp_playbook_upsert(im->db, im->me->tenant_id, im->actor, rec,
	    outcome);
}

static int import(int n, char **files)
{
	cp_importer im = { db, &me, actor, true, normalise, upsert, &cfg,
	    0, 0, 0 };
	int rc;

	if ((rc = cp_rbac_require(&me, CP_ACT_ACCOUNT_ADMIN)))
		return rc;
	return cp_import_files(&im, n, files);
}

static void join(strbuf *sb, const json_t *a, const char *sep)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e) {
		if (i)
			sb_adds(sb, sep);
		if (json_is_string(e))
			sb_adds(sb, json_string_value(e));
		else if (json_is_integer(e))
			sb_addf(sb, "%lld", (long long)json_integer_value(e));
	}
}

static int list(void)
{
	static const char *const head[] = { "ID", "NAME", "THEMES", "ACTIVE",
	    "VERSION" };
	cp_playbooks pbs;
	cp_table *t = NULL;
	size_t i;
	int rc;

	if ((rc = cp_playbooks_load(db, me.tenant_id, show_all, &pbs)))
		return rc;
	if (!json_out)
		t = cp_table_new(5, head);
	for (i = 0; i < pbs.n; i++) {
		const cp_playbook *pb = &pbs.v[i];
		strbuf th = CP_STRBUF_INIT;
		char ver[24];
		const char *cells[5];

		if (json_out) {
			cp_emit(pb->rec);
			continue;
		}
		join(&th, json_object_get(pb->rec, "themes"), ",");
		snprintf(ver, sizeof ver, "%ld", pb->version);
		cells[0] = pb->id;
		cells[1] = pb->name;
		cells[2] = th.buf;
		cells[3] = pb->active ? "yes" : "no";
		cells[4] = ver;
		cp_table_add(t, cells);
		sb_free(&th);
	}
	if (t) {
		cp_table_flex(t, 1);
		cp_table_right(t, 4);
		cp_table_print_term(t, stdout);
		cp_table_free(t);
	}
	cp_playbooks_free(&pbs);
	return 0;
}

static void line(const char *label, const char *v)
{
	if (v && *v)
		printf("%-14s %s\n", label, v);
}

static void line_list(const char *label, const json_t *a)
{
	strbuf sb = CP_STRBUF_INIT;

	if (json_array_size(a)) {
		join(&sb, a, ", ");
		line(label, sb.buf);
	}
	sb_free(&sb);
}

static void show_amount(const json_t *a)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *k;
	json_t *v;

	if (!a)
		return;
	json_object_foreach((json_t *)a, k, v) {
		if (sb.len)
			sb_adds(&sb, ", ");
		if (json_is_string(v))
			sb_addf(&sb, "%s %s", k, json_string_value(v));
		else
			sb_addf(&sb, "%s %g", k, json_number_value(v));
	}
	line("  amount", sb.buf);
	sb_free(&sb);
}

static void show_human(const json_t *r)
{
	const json_t *w = json_object_get(r, "when"), *c, *o, *x;
	double d;

	line("id", cp_json_str(r, "id"));
	line("name", cp_json_str(r, "name"));
	line("description", cp_json_str(r, "description"));
	line_list("themes", json_object_get(r, "themes"));
	line("active", cp_json_bool(r, "active", true) ? "yes" : "no");
	line_list("industries", json_object_get(w, "industries"));
	line_list("segments", json_object_get(w, "segments"));
	line_list("tiers", json_object_get(w, "tiers"));
	line_list("sources", json_object_get(w, "sources"));
	line_list("keywords", json_object_get(w, "keywords"));
	line_list("entities", json_object_get(w, "entities"));
	line_list("roles", json_object_get(w, "roles"));
	line_list("functions", json_object_get(w, "functions"));
	if (cp_json_num(w, "min_amount", &d) && d > 0)
		printf("%-14s %g\n", "min amount", d);
	if (cp_json_num(w, "min_headcount", &d) && d > 0)
		printf("%-14s %g\n", "min headcount", d);
	line_list("requires", json_object_get(r, "requires"));
	line("offer", cp_json_str(r, "offer"));
	line("next step", cp_json_str(r, "next_step"));
	c = json_object_get(r, "crm");
	if ((x = json_object_get(c, "note")) != NULL)
		line("crm note", cp_json_str(x, "body"));
	if ((x = json_object_get(c, "task")) != NULL) {
		char due[64];
		snprintf(due, sizeof due, "due in %lld days",
		    (long long)cp_json_int(x, "due_in_days", 0));
		line("crm task", cp_json_str(x, "subject"));
		line("", due);
	}
	if ((x = json_object_get(c, "opportunity")) != NULL) {
		line("crm deal", cp_json_str(x, "name"));
		line("  stage", cp_json_str(x, "stage"));
		show_amount(json_object_get(x, "amount"));
	}
	o = json_object_get(r, "outreach");
	if ((x = json_object_get(o, "email")) != NULL) {
		line("email subject", cp_json_str(x, "subject"));
		line("email body", cp_json_str(x, "body"));
	}
	if ((x = json_object_get(o, "call")) != NULL)
		line("call opener", cp_json_str(x, "opener"));
	if ((x = json_object_get(o, "linkedin")) != NULL)
		line("linkedin note", cp_json_str(x, "note"));
	line_list("assets", json_object_get(r, "assets"));
	line_list("asset terms", json_object_get(r, "asset_terms"));
}

static int show(const char *id)
{
	json_t *r = cp_playbook_get_json(db, me.tenant_id, id);

	if (!r)
		return cp_rbac_deny(id);
	if (json_out)
		cp_emit(r);
	else
		show_human(r);
	json_decref(r);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sub;
	int c, rc, nargs;
	char **args;

	cp_cli_init(argc, argv);
	while ((c = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		if (cp_cli_option(c, optarg, usage))
			continue;
		if (c == OPT_JSON)
			json_out = 1;
		else if (c == OPT_ALL)
			show_all = 1;
	}
	if (optind >= argc)
		cp_usage_error(usage, "no subcommand given");
	sub = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (!strcmp(sub, "show")) {
		if (nargs != 1)
			cp_usage_error(usage, "show takes one ID");
	} else if (!strcmp(sub, "list")) {
		if (nargs)
			cp_usage_error(usage, "list takes no arguments");
	} else if (strcmp(sub, "import")) {
		cp_usage_error(usage, "unknown subcommand '%s'", sub);
	}
	if ((rc = cp_cli_ready()))
		return rc;
	if ((rc = cp_scorecfg_load(&cfg)))
		return rc;
	if ((rc = cp_db_open(cp_cli.db, 0, &db)))
		goto done;
	if ((rc = cp_whoami(db, cp_cli.as, cp_cli.tenant, &me)))
		goto out;
	cp_user_actor(&me, actor, sizeof actor);
	if (!strcmp(sub, "import"))
		rc = import(nargs, args);
	else if (!strcmp(sub, "list"))
		rc = list();
	else
		rc = show(args[0]);
out:
	cp_db_close(db);
done:
	cp_scorecfg_free(&cfg);
	return cp_ndjson_status(rc);
}
