/*
 * recfile.h — reading hand-edited record files for import: NDJSON, one
 * JSON array of objects, or JSON objects one after another (pretty
 * printed), whichever the file holds.
 *
 * Each object is handed to the callback with a cp_line whose lineno is
 * the line the object starts on and whose text is the object's bytes, so
 * cp_reject() reports "prog: playbooks.json:42: reason" and copies the
 * object to the --reject file.  A syntax error is reported with its line;
 * the reader then goes on at the next line that starts with '{' (the next
 * record of an NDJSON or pretty-printed file), or stops within a JSON
 * array.  Files are read whole (at most 64 MiB): they are written by
 * people, not streamed.
 */
#ifndef CP_RECFILE_H
#define CP_RECFILE_H

#include "ndjson.h"

/* Each named file ("-" is stdin), or stdin when there are none.  An
 * unreadable file is reported and makes the result 66; the callback's
 * non-zero return stops everything and is returned. */
int cp_recfile_inputs(int nfiles, char **files, cp_record_fn fn, void *arg);

#endif
