/* tap.h: the smallest TAP producer for lib/ unit tests, run by prove. */
#ifndef NUDGE_TAP_H
#define NUDGE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)

static inline int
tap_ok(int cond, const char *file, int line, const char *desc, ...)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++tap_n, desc);
	if (!cond) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	return cond;
}

static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *desc)
{
	int cond = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (!tap_ok(cond, file, line, desc))
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
		    got ? got : "(null)", want ? want : "(null)");
	return cond;
}

static inline int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *desc)
{
	int cond = got == want;

	if (!tap_ok(cond, file, line, desc))
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	return cond;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
