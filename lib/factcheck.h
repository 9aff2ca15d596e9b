/*
 * factcheck.h — is a generated text faithful to its evidence?
 *
 * A narrative written by a language model is accepted only when every
 * number and every proper name in it appears in the evidence it was
 * given.  Numbers are runs of digits (thousands separators ignored, "1.2"
 * one number); a proper name is a capitalised word that is not the
 * ordinary first word of a sentence.  The check is deliberately strict:
 * a false alarm costs only the model's wording (the template narrative
 * is used instead), a missed invention would put a wrong fact in front of
 * a customer.
 */
#ifndef CP_FACTCHECK_H
#define CP_FACTCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* true when every number and name of text occurs in corpus; else false
 * with the first offender named in why ("number 37 is not in the
 * evidence", "name \"Globex\" is not in the evidence"). */
bool cp_factcheck(const char *text, const char *corpus, char *why,
    size_t whylen);

#endif
