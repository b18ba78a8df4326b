/* journal: the in-flight journal of a send (see journal.h). */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"

struct nudge_journal {
	int fd;
	char *path;
};

/* "STORE.inflight" into buf, with "/NAME" (claimer made safe) when
 * claimer is not NULL.  -1 when it does not fit. */
static int
jpath(char *buf, size_t len, const char *store, const char *claimer)
{
	size_t n;
	char *p;
	int w = snprintf(buf, len, "%s.inflight", store);

	if (w < 0 || (size_t)w >= len)
		return -1;
	if (claimer == NULL)
		return 0;
	n = (size_t)w;
	if (n + 1 + strlen(claimer) + 1 > len)
		return -1;
	buf[n++] = '/';
	for (p = buf + n; *claimer != '\0'; claimer++, p++)
		*p = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.:@_-", *claimer) != NULL ? *claimer : '_';
	*p = '\0';
	/* "." and ".." are no names for a file */
	if (buf[n] == '.' && (buf[n + 1] == '\0' || (buf[n + 1] == '.' &&
	    buf[n + 2] == '\0')))
		buf[n] = '_';
	return 0;
}

/* This boot's id, 36 characters, into buf[37]; -1 when unknown. */
static int
boot_id(char *buf)
{
	ssize_t n;
	int fd;

	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, 36);
	close(fd);
	if (n != 36)
		return -1;
	buf[36] = '\0';
	return 0;
}

int
nudge_journal_open(nudge_journal **out, const char *store_path,
    const char *claimer, nudge_err *err)
{
	nudge_journal *j;
	char path[4096], dir[4096], line[40];

	*out = NULL;
	if (jpath(dir, sizeof dir, store_path, NULL) == -1 ||
	    jpath(path, sizeof path, store_path, claimer) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s.inflight: path too "
		    "long", store_path);
	if (boot_id(line) == -1)
		return nudge_errf(err, EX_OSERR, "no boot id: %s",
		    strerror(errno));
	line[36] = '\n';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
		    strerror(errno));
	if ((j = calloc(1, sizeof *j)) == NULL ||
	    (j->path = strdup(path)) == NULL) {
		free(j);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if ((j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600)) == -1) {
		nudge_errf(err, EX_CANTCREAT, "%s: %s", path, strerror(errno));
		free(j->path);
		free(j);
		return EX_CANTCREAT;
	}
	if (write(j->fd, line, 37) != 37) {
		nudge_errf(err, EX_IOERR, "%s: %s", path, strerror(errno));
		nudge_journal_close(j, 1);
		return EX_IOERR;
	}
	*out = j;
	return 0;
}

void
nudge_journal_add(nudge_journal *j, const int64_t *ids, size_t n)
{
	char buf[64 * 22];
	size_t len = 0, i;
	ssize_t w;

	if (j == NULL || n == 0)
		return;
	/* the lines in one write */
	for (i = 0; i < n; i++) {
		if (len + 22 > sizeof buf) {
			/* more than a buffer: in parts, each a write */
			if ((w = write(j->fd, buf, len)) < 0 ||
			    (size_t)w != len)
				goto bad;
			len = 0;
		}
		len += nudge_fmt_i64(buf + len, ids[i]);
		buf[len++] = '\n';
	}
	if ((w = write(j->fd, buf, len)) >= 0 && (size_t)w == len)
		return;
bad:
	/* a short or failed write: trust none of it */
	if (unlink(j->path) == -1)
		(void)!pwrite(j->fd, "-", 1, 0);
}

void
nudge_journal_close(nudge_journal *j, int clean)
{
	char *slash;

	if (j == NULL)
		return;
	close(j->fd);
	if (clean) {
		unlink(j->path);
		if ((slash = strrchr(j->path, '/')) != NULL) {
			*slash = '\0';
			rmdir(j->path);	/* fails while another run has one */
		}
	}
	free(j->path);
	free(j);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
nudge_journal_load(const char *store_path, const char *claimer,
    int64_t **ids, size_t *np)
{
	char path[4096], want[37], line[64];
	int64_t *v = NULL, *nv;
	size_t n = 0, cap = 0;
	FILE *fp;
	int ok = 0;

	*ids = NULL;
	*np = 0;
	if (claimer == NULL || boot_id(want) == -1 ||
	    jpath(path, sizeof path, store_path, claimer) == -1 ||
	    (fp = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(line, sizeof line, fp) == NULL ||
	    strncmp(line, want, 36) != 0 || strcmp(line + 36, "\n") != 0)
		goto out;
	while (fgets(line, sizeof line, fp) != NULL) {
		char *end;
		long long id;

		/* a line cut by the kill ends without '\n': that write had
		 * not returned, so its message had not started */
		if (strchr(line, '\n') == NULL)
			break;
		errno = 0;
		id = strtoll(line, &end, 10);
		if (end == line || *end != '\n' || errno != 0)
			goto out;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				ok = -1;
				goto out;
			}
			v = nv;
		}
		v[n++] = id;
	}
	if (ferror(fp))
		goto out;
	qsort(v, n, sizeof *v, cmp64);
	ok = 1;
out:
	fclose(fp);
	if (ok == 1) {
		*ids = v;
		*np = n;
	} else
		free(v);
	return ok;
}

int
nudge_journal_has(const int64_t *ids, size_t n, int64_t id)
{
	return ids != NULL && bsearch(&id, ids, n, sizeof id, cmp64) != NULL;
}

void
nudge_journal_remove(const char *store_path, const char *claimer)
{
	char path[4096];
	char *slash;

	if (jpath(path, sizeof path, store_path, claimer) == -1)
		return;
	unlink(path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		rmdir(path);
	}
}

void
nudge_journal_sweep(const char *store_path)
{
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	DIR *d;

	if (jpath(dir, sizeof dir, store_path, NULL) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    nudge_ledger_claimer_alive(de->d_name) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
