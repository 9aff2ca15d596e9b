/*
 * metrics.h — the Prometheus text exposition format (version 0.0.4), as
 * node_exporter's textfile collector reads it.
 *
 *   # HELP clientpulse_cards Cards by review status.
 *   # TYPE clientpulse_cards gauge
 *   clientpulse_cards{tenant="acme",status="pending_review"} 12
 *
 * A family is its HELP and TYPE lines followed by all of its samples, so
 * a caller writes one family at a time: cp_prom_family(), then samples.
 * Label values are escaped (\\, \", \n); numbers are printed so they
 * read back exactly (integers as integers, NaN and ±Inf by name).
 * Labels are given as a NULL-terminated list of name, value pairs.
 */
#ifndef CP_METRICS_H
#define CP_METRICS_H

#include <stddef.h>

#include "strbuf.h"

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void cp_prom_family(strbuf *sb, const char *name, const char *type,
    const char *help);
/* One sample: name{labels} value. */
void cp_prom_sample(strbuf *sb, const char *name, const char *const *labels,
    double value);
/*
 * A histogram's samples for one label set: name_bucket{…,le="b"} for each
 * upper bound (ascending) and le="+Inf", name_sum, name_count.  values
 * are the observations (any order).
 */
void cp_prom_histogram(strbuf *sb, const char *name,
    const char *const *labels, const double *bounds, size_t nbounds,
    const double *values, size_t nvalues);
/* A number as the format wants it. */
void cp_prom_number(strbuf *sb, double v);

/*
 * Write text to dir/name atomically: a temporary file in dir (a dot name,
 * which the textfile collector ignores), fsync, mode 0644, rename over
 * name.  0, or an exit code after a message.
 */
int cp_write_atomic(const char *dir, const char *name, const char *text,
    size_t len);

#endif
