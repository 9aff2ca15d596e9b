/*
 * record.h — the record types and their required fields, defined once.
 *
 * Every record is one JSON object per line with "type" and "v" (schema
 * version, CP_RECORD_V).  Stages pass through fields they do not know.
 * The fields below are what every consumer may rely on; the full format
 * is clientpulse-records(5).
 *
 *   document     id tenant account_ids source source_name reliability url
 *                title published_at fetched_at content_type body meta
 *   signal       id document_id tenant account_ids source source_name
 *                reliability url title published_at fetched_at text lang
 *                entities themes pii fingerprint
 *   opportunity  id tenant account_id signal_ids cluster_id theme
 *                playbook_id score factors evidence
 *   card         the opportunity's fields and title narrative outreach
 *                asset_refs status version created_at
 *   push         card_id target action state remote_id attempts error
 *   finding      check severity entity detail fixed
 */
#ifndef CP_RECORD_H
#define CP_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CP_RECORD_V 1

typedef enum {
	CP_REC_UNKNOWN = 0,
	CP_REC_DOCUMENT,
	CP_REC_SIGNAL,
	CP_REC_OPPORTUNITY,
	CP_REC_CARD,
	CP_REC_PUSH,
	CP_REC_FINDING
} cp_rectype;

cp_rectype cp_record_type(const json_t *rec);
const char *cp_rectype_name(cp_rectype t);
/* NULL-terminated list of the required fields of a type. */
const char *const *cp_record_required(cp_rectype t);
/*
 * Check a record: a known "type" (or, when want is not CP_REC_UNKNOWN,
 * exactly that type), "v" not newer than CP_RECORD_V, every required
 * field present with the right JSON type, ids with the right prefix.
 * false with a one-line reason in err.
 */
bool cp_record_check(const json_t *rec, cp_rectype want, char *err,
    size_t errlen);

#endif
