/*
 * fuzz_jobs — the job-board mappers (lib/jobs.c) on any bytes:
 * Greenhouse boards and Lever sites, their error objects, members of
 * the wrong type, missing or huge ids and timestamps.  The first byte
 * picks the board.
 *
 * Property: every posting returned has an id and a title.
 */
#include "fuzz.h"
#include "jobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	cp_jobs j;
	size_t i;
	int rc;

	fuzz_quiet();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		rc = cp_jobs_lever((const char *)data + 1, size - 1, &j, err,
		    sizeof err);
	else
		rc = cp_jobs_greenhouse((const char *)data + 1, size - 1, &j,
		    err, sizeof err);
	for (i = 0; rc == 0 && i < j.n; i++)
		if (!j.v[i].id || !j.v[i].title)
			abort();
	cp_jobs_free(&j);
	return 0;
}
