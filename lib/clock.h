/* clock: times and durations as users write them (ISO 8601, "7d"), and
 * back.  All times are Unix seconds, UTC. */
#ifndef NUDGE_CLOCK_H
#define NUDGE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Parses YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.frac]] with Z, +HH:MM, +HHMM or
 * nothing (UTC) after it (a space may stand for the T, and one may come
 * before the offset), or @SECONDS.
 * Rejects impossible dates (2024-02-30).  Returns 0, or -1. */
int nudge_time_parse(const char *s, int64_t *out);

/* Parses a duration: a positive whole number and a unit s, m, h, d or w
 * ("30m", "7d"); returns 0, or -1. */
int nudge_duration_parse(const char *s, int64_t *out);

/* Writes t as 2026-11-01T09:30:00Z into buf (at least 32 bytes). */
char *nudge_time_format(int64_t t, char *buf, unsigned long len);

/* Whether name is UTC or an Olson time zone this system has ($TZDIR or
 * /usr/share/zoneinfo): 1 or 0. */
int nudge_tz_known(const char *name);

/* localtime_r and mktime read the zone from TZ.  nudge_tz_enter sets TZ
 * to tz (NULL: UTC) and returns what to give nudge_tz_leave, which puts
 * the old TZ back (or unsets it).  The process has one TZ: enter takes a
 * lock that leave gives back, so threads take turns between the two (an
 * enter must not be nested in another). */
char *nudge_tz_enter(const char *tz);
void nudge_tz_leave(char *old);

/* The broken-down time of t in zone tz (NULL: UTC), through
 * nudge_tz_enter and _leave; 0, or -1. */
int nudge_tz_local(int64_t t, const char *tz, struct tm *tm);

#endif
