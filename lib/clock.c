/* clock: ISO 8601 times and durations. */
#include "clock.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no time zone or libc state is involved. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
mdays(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return n[m - 1];
}

/* Reads exactly n digits. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

int
nudge_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	if (*p == '@') {
		long long v;
		int n;

		if (sscanf(p + 1, "%lld%n", &v, &n) != 1 || p[1 + n] != '\0' ||
		    p[1] == ' ')
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		/* "2026-11-24 14:03:12 +0200", as Shopify writes it */
		if (*p == ' ' && (p[1] == '+' || p[1] == '-'))
			p++;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
		}
	}
	if (*p != '\0')
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + sec - (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

int
nudge_duration_parse(const char *s, int64_t *out)
{
	int64_t v = 0, unit;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (p[1] != '\0' || v == 0)
		return -1;
	*out = v * unit;
	return 0;
}

char *
nudge_time_format(int64_t t, char *buf, unsigned long len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

int
nudge_tz_known(const char *name)
{
	const char *dir = getenv("TZDIR"), *p;
	char file[512];
	struct stat sb;

	if (strcmp(name, "UTC") == 0)
		return 1;
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return 0;
	return *name != '\0' && *name != '/' && strstr(name, "..") == NULL &&
	    (size_t)snprintf(file, sizeof file, "%s/%s", dir, name) <
	    sizeof file && stat(file, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The process has one TZ: every enter waits for the leave before it. */
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

char *
nudge_tz_enter(const char *tz)
{
	char *old;

	pthread_mutex_lock(&tz_mu);
	old = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;

	setenv("TZ", tz != NULL ? tz : "UTC", 1);
	tzset();
	return old;
}

void
nudge_tz_leave(char *old)
{
	if (old != NULL) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	pthread_mutex_unlock(&tz_mu);
}

int
nudge_tz_local(int64_t t, const char *tz, struct tm *tm)
{
	char *old = nudge_tz_enter(tz);
	time_t tt = (time_t)t;
	int ok = localtime_r(&tt, tm) != NULL;

	nudge_tz_leave(old);
	return ok ? 0 : -1;
}
