/*
 * jobs.h — job-board APIs as pure functions from bytes to postings.
 *
 *   Greenhouse  GET /v1/boards/{token}/jobs?content=true
 *               {"jobs":[{"id","title","updated_at","first_published",
 *                "location":{"name"},"absolute_url","content" (HTML,
 *                entity-escaped),"departments":[{"name"}]}],"meta":{…}}
 *   Lever       GET /v0/postings/{site}?mode=json
 *               [{"id","text","categories":{"team","department",
 *                "location","commitment"},"createdAt" (ms),"hostedUrl",
 *                "description" (HTML),"descriptionPlain","lists":[{"text",
 *                "content"}],"additional"}]
 *
 * Both return an error object on failure ({"status":404,"error":…} and
 * {"ok":false,"error":…}); that, and anything that is not the shape
 * above, is an error with a one-line reason.
 */
#ifndef CP_JOBS_H
#define CP_JOBS_H

#include <stddef.h>

typedef struct cp_job {
	char *id;
	char *title;
	char *department;       /* or NULL */
	char *location;         /* or NULL */
	char *url;              /* the posting's page, or NULL */
	char *posted_at;        /* RFC 3339 UTC, or NULL */
	char *body;             /* HTML description */
} cp_job;

typedef struct cp_jobs {
	cp_job *v;
	size_t n;
} cp_jobs;

/* 0, or -1 with err.  out is initialised either way; free it. */
int cp_jobs_greenhouse(const char *buf, size_t len, cp_jobs *out, char *err,
    size_t errlen);
int cp_jobs_lever(const char *buf, size_t len, cp_jobs *out, char *err,
    size_t errlen);
void cp_jobs_free(cp_jobs *j);

#endif
