/*
 * importer.h — the import loop cp-account, cp-asset and cp-playbook
 * share: records from files into the state file, one transaction for the
 * whole import and a savepoint per record, so a bad record is rejected
 * alone (cp_reject: file, line, reason) and the good ones before and
 * after it stand.
 *
 * Each record is checked against the caller's tenant ("tenant", when
 * present, must be theirs), copied, normalised and upserted by the
 * caller's functions, and counted.  The caller checks permissions first.
 */
#ifndef CP_IMPORTER_H
#define CP_IMPORTER_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "rbac.h"

typedef struct cp_importer {
	sqlite3 *db;
	const cp_user *me;
	const char *actor;            /* for the audit log */
	bool recfile;                 /* recfile.h formats, not only NDJSON */
	/* Validate and normalise rec in place; false with a reason in err. */
	bool (*normalise)(json_t *rec, void *arg, char *err, size_t errlen);
	/*
	 * Store rec inside the open transaction.  *outcome: 0 unchanged,
	 * 1 created, 2 updated.  0, CP_EX_DATAERR for a record the state
	 * file refuses (err may say why; the record is rejected), or
	 * another exit code, which stops the import and rolls it back.
	 */
	int (*upsert)(struct cp_importer *im, json_t *rec, int *outcome,
	    char *err, size_t errlen);
	void *arg;                    /* for normalise */
	unsigned long created, updated, same;
} cp_importer;

/*
 * Import the named files ("-" is stdin), or stdin when there are none,
 * and say what became of them (cp_info).  0, 65 when records were
 * rejected (after committing the good ones; see cp_ndjson_status), 66 for
 * an unreadable file, or the first fatal exit code (nothing committed).
 */
int cp_import_files(cp_importer *im, int nfiles, char **files);

#endif
