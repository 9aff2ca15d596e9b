/*
 * orgs.h — organisations in text resolved to the tenant's accounts.
 *
 * Every account contributes its name, aliases, domain and ticker.  A name
 * matches only on word boundaries, case-insensitively but with the
 * capitals it is written with ("summit" the noun is not "Summit"), and
 * the longest name at a position wins ("Northwind Labs" is not
 * "Northwind Logistics").  Three rules keep homonyms apart:
 *
 *   shadowing   a name that is a word-prefix of another account's name
 *               ("Northwind" of "Northwind Logistics", "Acme" of "Acme
 *               Foods") does not count in a text where that longer name
 *               occurs;
 *   cue         a one-word name that is a common word (the lexicon's
 *               common_words, or meta.requires_company_cue on the account)
 *               counts only beside a company cue: a legal suffix
 *               ("Summit Inc."), a possessive before a business noun
 *               ("Summit's shares"), a reporting verb ("Summit said"), an
 *               exchange ticker "(NASDAQ: SMHT)" anywhere in the text;
 *   compound    a one-word name right after another capitalised word is
 *               part of a longer proper name ("Vantage Summit 2026").
 *
 * Tickers count only with an exchange cue ("NYSE: ACME", "Nasdaq:
 * NWLB"); domains match as written ("northwindlabs.com").
 */
#ifndef CP_ORGS_H
#define CP_ORGS_H

#include <stdint.h>

#include "account.h"
#include "entities.h"

typedef struct cp_orgs cp_orgs;

/* Index the accounts (borrowed: they must outlive the index). */
cp_orgs *cp_orgs_new(const cp_accounts *a);
void cp_orgs_free(cp_orgs *o);

/* Append one CP_ENT_ORG entity per account found (its first mention) in
 * text for the tenant named tenant. */
void cp_orgs_find(const cp_orgs *o, const char *tenant, const char *text,
    size_t n, cp_entities *out);

#endif
