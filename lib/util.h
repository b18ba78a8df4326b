/* util: error reports, growable buffers and small text helpers shared by
 * every lib/ module.  lib/ never prints and never exits (but cli.c, which
 * is cmd/'s): a function returns 0 or a sysexits(3) code and fills a
 * nudge_err for cmd/ to print. */
#ifndef NUDGE_UTIL_H
#define NUDGE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#define NUDGE_OK 0

/* One error: a message without the program name or a trailing newline. */
typedef struct nudge_err {
	char msg[1024];
} nudge_err;

/* Formats the message into err (if not NULL) and returns code, so that a
 * failing path reads `return nudge_errf(err, EX_DATAERR, "...", ...)`. */
int nudge_errf(nudge_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A growable byte string, always NUL-terminated once anything was added.
 * A zeroed struct is an empty buffer.  The add functions return 0, or -1
 * when memory runs out (the buffer is left as it was).  A failure sticks:
 * every later add fails too, until nudge_buf_reset, so that checking the
 * last add of a sequence is enough (a failed add in the middle can no
 * longer leave a buffer that reads well-formed but lacks a piece). */
typedef struct nudge_buf {
	char *s;
	size_t len, cap;
	int failed;
} nudge_buf;

int nudge_buf_add(nudge_buf *b, const void *p, size_t n);
int nudge_buf_puts(nudge_buf *b, const char *s);
/* Room for n more bytes at the end of b (NULL when out of memory): the
 * caller writes there, then says how many with nudge_buf_wrote. */
char *nudge_buf_room(nudge_buf *b, size_t n);
void nudge_buf_wrote(nudge_buf *b, size_t n);
int nudge_buf_putc(nudge_buf *b, char c);
int nudge_buf_printf(nudge_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int nudge_buf_json_str(nudge_buf *b, const char *s, size_t n);
/* Appends s with every from (not empty) in it replaced by to. */
int nudge_buf_replace(nudge_buf *b, const char *s, const char *from,
    const char *to);
void nudge_buf_reset(nudge_buf *b);
void nudge_buf_free(nudge_buf *b);
/* Returns the contents (or "" if nothing was added). */
const char *nudge_buf_str(const nudge_buf *b);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  A NUL byte counts as invalid. */
int nudge_utf8_valid(const char *s, size_t n);

/* Copies s, quoting it for an error message: control characters escaped,
 * cut at max bytes with "..." (on a character boundary). */
const char *nudge_quote(char *dst, size_t dstlen, const char *s, size_t n);

/* Opens in *out a new temporary file in $TMPDIR (else /tmp), named from
 * stem ("nudge-STEM.XXXXXX") and unlinked at once, so that it is gone
 * however the process ends, for reading and writing: 0, or EX_CANTCREAT
 * or EX_OSERR with err set. */
int nudge_tmpfile(const char *stem, FILE **out, nudge_err *err);

/* strdup that returns NULL for NULL. */
char *nudge_strdup(const char *s);

/* Replaces *dst (freed) by a copy of s; 0, or -1 when memory runs out
 * (*dst then NULL). */
int nudge_strset(char **dst, const char *s);

/* The edit distance of a and b in bytes: insertions, deletions,
 * substitutions and swaps of two neighbours (optimal string alignment).
 * Strings past 64 bytes are compared on their first 64. */
size_t nudge_edit_distance(const char *a, const char *b);

/* Did-you-mean: of cands[0..n) (NULL entries skipped), the one equal to
 * word but for case, else the closest by nudge_edit_distance if that is
 * at most a third of word's length (at least 1), the first on a tie;
 * NULL when none is close or one equals word exactly.  For hints on
 * unknown names (event types, lists, options). */
const char *nudge_closest(const char *word, const char *const *cands,
    size_t n);

/* Parses a decimal integer filling the whole string; 0 or -1. */
int nudge_parse_i64(const char *s, int64_t *out);

/* Writes v in decimal at buf (room for 21 bytes), no NUL; returns the
 * length.  For hot paths, where snprintf costs more than the rest. */
size_t nudge_fmt_i64(char *buf, int64_t v);

/* Copies src into dst of len bytes (len > 0), cut to fit, NUL-ended;
 * returns dst. */
char *nudge_strcpy(char *dst, size_t len, const char *src);

/* Writes all n bytes at p to fd, through EINTR and short writes: 0, or
 * -1 with errno set. */
int nudge_write_all(int fd, const void *p, size_t n);

/* The monotonic clock (CLOCK_MONOTONIC) in milliseconds: for timeouts
 * and ages, never for dates. */
int64_t nudge_mono_ms(void);
/* The same in microseconds: for waits shorter than a millisecond. */
int64_t nudge_mono_us(void);

/* Parses a rate, "N/s", "N/m", "N/h" or a bare N (per second), N a
 * number above 0 and at most 1e6, into messages per second; 0 or -1. */
int nudge_parse_rate(const char *s, double *per_s);

/* Parses a share "N%" (0 < N < 100, decimals allowed; a campaign's
 * holdout or test share, the global holdout) into *out as a fraction;
 * 0 or -1. */
int nudge_parse_share(const char *s, double *out);

/* The value of the hex digit c (either case), or -1. */
int nudge_hexval(int c);

/* The four hex digits at s (before e) as a number, or -1 (the XXXX of a
 * \uXXXX escape).  By hand, not sscanf: the text need not be
 * NUL-terminated, and sscanf would also take a sign or spaces. */
long nudge_hex4(const char *s, const char *e);

/* True when s is a name: [a-z][a-z0-9_-]* up to 64 bytes (event types,
 * channels). */
int nudge_is_name(const char *s);

/* 64-bit FNV-1a of p[0..n) continued from h (start with
 * NUDGE_FNV64_INIT), for fingerprints and hash tables, not for
 * anything an adversary chooses. */
#define NUDGE_FNV64_INIT 0xcbf29ce484222325u
uint64_t nudge_fnv64(uint64_t h, const void *p, size_t n);

#endif
