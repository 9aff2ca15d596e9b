#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "importer.h"
#include "json.h"
#include "log.h"
#include "ndjson.h"
#include "recfile.h"

/* One record in its own savepoint. */
static int import_one(json_t *rec, const cp_line *ln, void *arg)
{
	cp_importer *im = arg;
	const char *t = cp_json_str(rec, "tenant");
	char err[300];
	json_t *copy;
	int outcome = 0, rc;

	if (t && strcmp(t, im->me->tenant)) {
		cp_reject(ln, "tenant \"%s\" is not yours (%s)", t,
		    im->me->tenant);
		return 0;
	}
	copy = json_deep_copy(rec);
	if (!im->normalise(copy, im->arg, err, sizeof err)) {
		cp_reject(ln, "%s", err);
		json_decref(copy);
		return 0;
	}
	if ((rc = cp_db_exec(im->db, "SAVEPOINT rec"))) {
		json_decref(copy);
		return rc;
	}
	*err = '\0';
	rc = im->upsert(im, copy, &outcome, err, sizeof err);
	json_decref(copy);
	if (rc == CP_EX_DATAERR) {
		cp_db_exec(im->db, "ROLLBACK TO rec; RELEASE rec");
		cp_reject(ln, "%s", *err ? err : "rejected by the state file");
		return 0;
	}
	if (rc)
		return rc;
	cp_db_exec(im->db, "RELEASE rec");
	if (outcome == 1)
		im->created++;
	else if (outcome == 2)
		im->updated++;
	else
		im->same++;
	return 0;
}

int cp_import_files(cp_importer *im, int nfiles, char **files)
{
	int rc, crc;

	if ((rc = cp_db_begin(im->db)))
		return rc;
	rc = im->recfile ? cp_recfile_inputs(nfiles, files, import_one, im) :
	    cp_ndjson_inputs(nfiles, files, import_one, im);
	if (rc && rc != CP_EX_NOINPUT) {
		cp_db_rollback(im->db);
		return rc;
	}
	if ((crc = cp_db_commit(im->db)))
		return crc;
	cp_info("%lu created, %lu updated, %lu unchanged, %lu rejected",
	    im->created, im->updated, im->same, cp_ndjson_rejected());
	return rc;
}
