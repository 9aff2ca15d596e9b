/*
 * pii.h — personal data found in text and replaced by typed placeholders.
 *
 *   [EMAIL]  addresses (local@domain.tld)
 *   [PHONE]  E.164 (+44 20 7946 0958) and national formats: North
 *            American ((615) 555-0100, 1-800-555-0175, 415-555-0110) and
 *            European trunk-prefixed numbers (030 12345678)
 *   [CARD]   13–19 digit payment card numbers that pass the Luhn check,
 *            start with a card network prefix (2–6) and are written whole
 *            or in groups of four (Amex 4-6-5); an accession number that
 *            happens to pass Luhn is not a card
 *   [IBAN]   IBANs whose ISO 13616 mod-97 checksum holds
 *   [SSN]    US social security numbers NNN-NN-NNNN outside the ranges
 *            never issued (000, 666, 9xx; group 00; serial 0000)
 *
 * Names are not redacted: the people in business news (executives,
 * spokespeople) are the point of the signal.
 */
#ifndef CP_PII_H
#define CP_PII_H

#include <stddef.h>

typedef struct cp_pii_counts {
	int email, phone, card, iban, ssn;
} cp_pii_counts;

/* Compile the patterns; 0 or an exit code. */
int cp_pii_init(void);
void cp_pii_cleanup(void);

/* A new string: text with PII replaced (redact) or unchanged but counted
 * (!redact).  Caller frees. */
char *cp_pii_redact(const char *text, size_t n, int redact,
    cp_pii_counts *counts);

/* Checks, exposed for tests. */
int cp_luhn_ok(const char *digits, size_t n);
int cp_iban_ok(const char *s, size_t n);

#endif
