#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

time_t cp_now(void)
{
	const char *s = getenv("CLIENTPULSE_NOW");
	time_t t;

	if (s && *s && cp_time_parse(s, &t))
		return t;
	return time(NULL);
}

double cp_now_precise(void)
{
	struct timespec ts;
	const char *s = getenv("CLIENTPULSE_NOW");

	if (s && *s)
		return (double)cp_now();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double cp_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

char *cp_time_format(time_t t, char out[CP_TIME_MAX])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof tm);
	/* not strftime's %Y: it writes the year 26 as "26", which RFC 3339
	 * (and cp_time_parse) reads as no year at all (found by fuzz_url) */
	snprintf(out, CP_TIME_MAX, "%04d-%02u-%02uT%02u:%02u:%02uZ",
	    tm.tm_year + 1900, (unsigned)(tm.tm_mon + 1) % 100u,
	    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
	return out;
}

/* days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

time_t cp_timegm(const struct tm *tm)
{
	long days = days_from_civil(tm->tm_year + 1900L, tm->tm_mon + 1,
	    tm->tm_mday);
	return (time_t)(days * 86400L + tm->tm_hour * 3600L + tm->tm_min * 60L +
	    tm->tm_sec);
}

static int digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

bool cp_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	const char *p;

	if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
		return false;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (strlen(p) < 9 || p[3] != ':' || p[6] != ':')
			return false;
		h = digits(p + 1, 2);
		mi = digits(p + 4, 2);
		se = digits(p + 7, 2);
		/* 60 is a leap second: fold it into the next minute */
		if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
			return false;
		p += 9;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;
			int oh = digits(p + 1, 2), om;

			if (oh < 0 || oh > 23)
				return false;
			if (p[3] == ':')
				om = digits(p + 4, 2), p += 6;
			else if (isdigit((unsigned char)p[3]))
				om = digits(p + 3, 2), p += 5;
			else
				om = 0, p += 3;
			if (om < 0 || om > 59)
				return false;
			off = sign * (oh * 60 + om) * 60;
		} else if (*p != '\0') {
			return false;
		}
		if (*p != '\0')
			return false;
	} else if (*p != '\0') {
		return false;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = cp_timegm(&tm) - off;
	return true;
}

bool cp_duration_parse(const char *s, long *seconds)
{
	char *end;
	long v, mult = 1;

	if (!s || !*s)
		return false;
	v = strtol(s, &end, 10);
	if (end == s || v < 0)
		return false;
	switch (*end) {
	case '\0': case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return false;
	}
	if (*end && end[1])
		return false;
	/* "99999999999h" is no duration (v * mult would overflow) */
	if (v > LONG_MAX / mult)
		return false;
	*seconds = v * mult;
	return true;
}

bool cp_time_or_age(const char *s, time_t *out)
{
	long secs;

	if (cp_time_parse(s, out))
		return true;
	if (!cp_duration_parse(s, &secs))
		return false;
	*out = cp_now() - secs;
	return true;
}
