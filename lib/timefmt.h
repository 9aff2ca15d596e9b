/*
 * timefmt.h — RFC 3339 timestamps and the clock.
 *
 * All stored and emitted times are RFC 3339 UTC with a "Z":
 * "2026-11-25T10:56:05Z".  The clock can be frozen for tests and replays
 * with CLIENTPULSE_NOW=<RFC 3339 time> (documented in clientpulse(7)).
 */
#ifndef CP_TIMEFMT_H
#define CP_TIMEFMT_H

#include <stdbool.h>
#include <time.h>

#define CP_TIME_MAX 32

/* Seconds since the epoch: CLIENTPULSE_NOW when set, else the real time. */
time_t cp_now(void);
/* Same, with sub-second precision (for durations and latencies). */
double cp_now_precise(void);
/* Monotonic seconds, for measuring durations. */
double cp_monotonic(void);
/* "YYYY-MM-DDTHH:MM:SSZ" into out[CP_TIME_MAX]; returns out. */
char *cp_time_format(time_t t, char out[CP_TIME_MAX]);
/* Parse RFC 3339 ("2026-11-25T10:56:05Z", fractional seconds, "+02:00"
 * offsets, a space instead of the "T", a bare date "2026-11-25" as
 * midnight UTC).  false when s is not such a time. */
bool cp_time_parse(const char *s, time_t *out);
/* Parse a duration: "90s", "15m", "48h", "7d", "2w", or plain seconds. */
bool cp_duration_parse(const char *s, long *seconds);
/* A --since argument: an RFC 3339 time, or an age ("7d": that long
 * before cp_now()). */
bool cp_time_or_age(const char *s, time_t *out);
/* timegm(3) without relying on the non-standard function. */
time_t cp_timegm(const struct tm *tm);

#endif
