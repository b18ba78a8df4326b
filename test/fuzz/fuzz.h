/* fuzz.h: what the fuzz targets of test/fuzz/ share -- a scratch
 * directory made once per process (removed at exit), a nudge store with a
 * small fixture in it, files written there, and CHECK for an invariant
 * (a failed one aborts, which libFuzzer and AFL++ report as a crash). */
#ifndef NUDGE_FUZZ_H
#define NUDGE_FUZZ_H

#include <ftw.h>
#include <sys/mman.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
			    __FILE__, __LINE__, #c); \
			abort(); \
		} \
	} while (0)

/* The fixed clock of every target: 2027-01-15T08:00:00Z. */
#define FUZZ_NOW 1800000000LL

static char fuzz_dirbuf[64];


static inline int
fuzz_rm(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	remove(p);
	return 0;
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_dirbuf[0] != '\0')
		nftw(fuzz_dirbuf, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The process's scratch directory, made at the first call. */
static inline const char *
fuzz_dir(void)
{
	if (fuzz_dirbuf[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(fuzz_dirbuf, sizeof fuzz_dirbuf, "%s/nudge-fuzz.XXXXXX",
		    t != NULL && strlen(t) < 40 ? t : "/tmp");
		CHECK(mkdtemp(fuzz_dirbuf) != NULL);
		atexit(fuzz_cleanup);
	}
	return fuzz_dirbuf;
}

/* Writes data[0..n) to the file name in the scratch directory and
 * returns its path (a static buffer). */
static inline const char *
fuzz_file(const char *name, const void *data, size_t n)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	CHECK((fp = fopen(path, "wb")) != NULL);
	CHECK(n == 0 || fwrite(data, 1, n, fp) == n);
	CHECK(fclose(fp) == 0);
	return path;
}

/* The process's store, made with the fixture at the first call. */
static inline nudge_store *
fuzz_store(void)
{
	static nudge_store *st;
	nudge_err err;
	char path[256];
	/* the fixture: three contacts (one unsubscribed), two lists, a campaign
	 * with a sent message, some events, a saved segment. */
	static const char fuzz_fixture[] =
	    "INSERT INTO contacts (id, email, phone, push_id, first_name, "
	    "  last_name, attrs, created_at, updated_at) VALUES"
	    " (1, 'ann@example.com', '+14155550101', 'push-ann', 'Ann', 'Lee',"
	    "  '{\"city\":\"Paris\",\"plan\":\"pro\",\"spent\":120.5}', 1700000000,"
	    "  1700000000),"
	    " (2, 'bob@example.com', NULL, NULL, 'Bob', NULL, '{\"age\":41}',"
	    "  1710000000, 1710000000),"
	    " (3, 'cy@example.org', '+442071838750', NULL, NULL, NULL, '{}',"
	    "  1720000000, 1720000000);"
	    "INSERT INTO lists (id, name, created_at) VALUES (1, 'news', 1700000000),"
	    " (2, 'vip', 1700000000);"
	    "INSERT INTO list_members VALUES (1, 1, 1700000000), (1, 2, 1700000000),"
	    " (2, 1, 1700000000);"
	    "INSERT INTO consent (contact_id, channel, status, at, source) VALUES"
	    " (2, 'email', 'unsubscribed', 1750000000, 'fixture');"
	    "INSERT INTO campaigns (id, name, channel, first_sent_at, created_at)"
	    " VALUES (1, 'welcome', 'email', 1790000000, 1700000000);"
	    "INSERT INTO events (contact_id, type, channel, campaign_id, step, at)"
	    " VALUES (1, 'purchase', NULL, NULL, NULL, 1795000000),"
	    " (1, 'opened', 'email', 1, 'hello', 1791000000),"
	    " (3, 'clicked', 'email', 1, 'hello', 1792000000);"
	    "INSERT INTO messages (id, campaign_id, step, contact_id, channel,"
	    "  status, attempts, claimed_at, updated_at) VALUES"
	    " (1, 1, 'hello', 1, 'email', 'sent', 1, 1790000000, 1790000000),"
	    " (2, 1, 'hello', 3, 'email', 'sent', 1, 1790000000, 1790000000);"
	    "INSERT INTO segments VALUES ('buyers', 'event purchase', 1700000000,"
	    "  1700000000);";

	if (st == NULL) {
		snprintf(path, sizeof path, "%s/store.db", fuzz_dir());
		if (nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) != 0 ||
		    nudge_store_exec(st, fuzz_fixture, &err) != 0) {
			fprintf(stderr, "fuzz: store: %s\n", err.msg);
			abort();
		}
		/* Nothing here needs to survive a crash: faster runs. */
		CHECK(nudge_store_exec(st, "PRAGMA synchronous=OFF", &err) == 0);
	}
	return st;
}

/* Copies data[0..n) (n at most 64 KiB) so that it ends where an
 * unreadable page begins: a read past its end faults at once, with or
 * without a sanitizer, even inside libc (sscanf's strlen, which ASan does
 * not see).  The copy is valid until the next call. */
static inline const char *
fuzz_guarded(const void *data, size_t n)
{
	static char *map;
	static size_t maplen;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), room = 65536;

	CHECK(n <= room);
	if (map == NULL) {
		maplen = room + pg;
		map = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(map != MAP_FAILED);
		CHECK(mprotect(map + room, pg, PROT_NONE) == 0);
	}
	if (n > 0)
		memcpy(map + room - n, data, n);
	return map + room - n;
}

/* Splits data[0..size) at NUL bytes into up to max NUL-terminated
 * strings (copied into *buf, which the caller frees); the last one takes
 * the rest, NULs included, its length in *lastlen.  Returns how many. */
static inline size_t
fuzz_split(const uint8_t *data, size_t size, char **buf, char **f,
    size_t max, size_t *lastlen)
{
	size_t n = 0, i, start = 0;
	char *b;

	CHECK((b = malloc(size + 1)) != NULL);
	if (size > 0)
		memcpy(b, data, size);
	b[size] = '\0';
	*buf = b;
	for (i = 0; i < size && n + 1 < max; i++)
		if (b[i] == '\0') {
			f[n++] = b + start;
			start = i + 1;
		}
	f[n++] = b + start;
	*lastlen = size - start;
	return n;
}

#endif
