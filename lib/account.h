/*
 * account.h — customer accounts: validation, upsert, loading.
 *
 * The account record (cp-account import/list --json, clientpulse-records(5)):
 *
 *   {"id":"northwind-labs", "name":"Northwind Labs", "aliases":["Northwind"],
 *    "domain":"northwindlabs.com", "ticker":"NWLB", "cik":"0001234567",
 *    "industry":"software", "segment":"enterprise", "tier":1,
 *    "owner":"alice", "feeds":["https://…/rss"], "greenhouse_token":"nw",
 *    "lever_site":"northwind", "hubspot_id":"…", "salesforce_id":"…",
 *    "meta":{…}}
 *
 * Only name is required.  Without an id, the account is matched by domain
 * (upsert), and a new one gets an id made from its domain or name
 * ("northwindlabs-com", "northwind-labs").  Ids are unique per tenant.
 */
#ifndef CP_ACCOUNT_H
#define CP_ACCOUNT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cp_account {
	int64_t tenant_id;
	char *tenant;          /* tenant name */
	char *id;
	char *name;
	char **aliases;        /* naliases strings */
	size_t naliases;
	char *domain, *ticker, *cik, *industry, *segment;
	int tier;              /* 0 when unknown */
	char *owner;           /* owner login or NULL */
	char **feeds;
	size_t nfeeds;
	char *greenhouse_token, *lever_site;
	char *hubspot_id, *salesforce_id;
	json_t *meta;          /* owned reference, never NULL */
} cp_account;

typedef struct cp_accounts {
	cp_account *v;
	size_t n;
} cp_accounts;

/*
 * Validate and normalise an account record in place (trims, lowercases
 * domain, uppercases ticker, zero-pads CIK to 10 digits, checks types).
 * false with a reason in err when it is not acceptable.
 */
bool cp_account_normalise(json_t *rec, char *err, size_t errlen);

/*
 * Insert or update one account of tenant_id from a normalised record,
 * inside the caller's transaction, auditing the change as actor.
 * *outcome: 0 unchanged, 1 created, 2 updated.  0 or an exit code (65
 * with a message in err for a record that conflicts: unknown owner…).
 */
int cp_account_upsert(sqlite3 *db, int64_t tenant_id, const char *actor,
    json_t *rec, int *outcome, char *err, size_t errlen);

/* The stored account as a record (new reference), or NULL. */
json_t *cp_account_get_json(sqlite3 *db, int64_t tenant_id, const char *id);

/* Load live accounts: of one tenant (tenant_id > 0) or of all. */
int cp_accounts_load(sqlite3 *db, int64_t tenant_id, cp_accounts *out);
void cp_accounts_free(cp_accounts *a);
/* Find by id within a tenant (tenant_id 0: any). */
const cp_account *cp_accounts_find(const cp_accounts *a, int64_t tenant_id,
    const char *id);

/* The slug used for generated ids: lowercase ASCII letters and digits,
 * runs of anything else as one '-'.  Caller frees. */
char *cp_slug(const char *s);

#endif
