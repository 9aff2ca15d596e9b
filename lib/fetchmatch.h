/*
 * fetchmatch.h — attribute an item of a global feed (or an ad hoc page)
 * to accounts by name, alias, ticker or domain.
 *
 * Names, aliases and domains match case-folded (utf8proc) on word
 * boundaries (the characters either side are not letters or digits), so
 * "Acme" matches "ACME's results" but not "Acmeville".  A name with a
 * legal suffix ("Northwind Labs Inc.") also matches without it.  Tickers
 * match only as written, upper case ("NWLB"), because a case-folded
 * ticker such as "NOW" or "ALL" would match ordinary words.  A domain
 * also matches the host of the item's link (or any subdomain of it).
 */
#ifndef CP_FETCHMATCH_H
#define CP_FETCHMATCH_H

#include <stddef.h>
#include <stdint.h>

#include "account.h"

typedef struct cp_matcher cp_matcher;

/* Matcher over the accounts of tenant_id (0: every tenant); a borrows. */
cp_matcher *cp_matcher_new(const cp_accounts *a, int64_t tenant_id);
void cp_matcher_free(cp_matcher *m);
/* The accounts text (and link, may be NULL) mention, at most max, in
 * account order, each once.  Returns how many. */
size_t cp_matcher_match(const cp_matcher *m, const char *text,
    const char *link, const cp_account **out, size_t max);

#endif
