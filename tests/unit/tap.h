/*
 * tap.h — the smallest TAP producer, for the C unit tests of lib/.
 *
 *   ok(cond, "what");          is(a, b, "what");   is_str(a, b, "what");
 *   return done_testing();
 */
#ifndef CP_TAP_H
#define CP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(a, b, ...) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!tap_ok(a_ == b_, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got: %lld\n#   expected: %lld\n", a_, b_); } while (0)
#define is_str(a, b, ...) do { const char *a_ = (a), *b_ = (b); \
	if (!tap_ok(a_ && b_ && !strcmp(a_, b_), __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got: '%s'\n#   expected: '%s'\n", a_ ? a_ : "(null)", \
		    b_ ? b_ : "(null)"); } while (0)

__attribute__((format(printf, 4, 5)))
static int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	return cond;
}

static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
