/* journal: the in-flight journal of a send (see journal.h). */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nudge_journal {
	int fd;
	char *path;
	/* under mu: the file's size (what a failed write is cut back to)
	 * and why it failed, or "" */
	pthread_mutex_t mu;
	off_t size;
	char why[256];
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
	int tries;

	*out = NULL;
	if (jpath(dir, sizeof dir, store_path, NULL) == -1 ||
	    jpath(path, sizeof path, store_path, claimer) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s.inflight: path too "
		    "long", store_path);
	if (boot_id(line) == -1)
		return nudge_errf(err, EX_OSERR, "no boot id: %s",
		    strerror(errno));
	line[36] = '\n';
	if ((j = calloc(1, sizeof *j)) == NULL ||
	    (j->path = strdup(path)) == NULL) {
		free(j);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		free(j->path);
		free(j);
		return nudge_errf(err, EX_OSERR, "journal: no mutex");
	}
	/* another run removes the directory when its journal was the
	 * last one in it (nudge_journal_close, _remove, _sweep): made
	 * again when it went between the mkdir and the open */
	for (tries = 0;; tries++) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
			    strerror(errno));
			pthread_mutex_destroy(&j->mu);
			free(j->path);
			free(j);
			return EX_CANTCREAT;
		}
		if ((j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_APPEND | O_CLOEXEC, 0600)) != -1 || errno != ENOENT ||
		    tries == 100)
			break;
	}
	if (j->fd == -1) {
		nudge_errf(err, EX_CANTCREAT, "%s: %s", path, strerror(errno));
		pthread_mutex_destroy(&j->mu);
		free(j->path);
		free(j);
		return EX_CANTCREAT;
	}
	errno = 0;
	if (write(j->fd, line, 37) != 37) {
		nudge_errf(err, EX_IOERR, "%s: %s", path, errno != 0 ?
		    strerror(errno) : "short write");
		nudge_journal_close(j, 1);
		return EX_IOERR;
	}
	j->size = 37;
	*out = j;
	return 0;
}

/* Appends buf[0..len) in one write(2), under j->mu.  A write that fails
 * or falls short (a full disk) is cut back, so that no line of it stays,
 * and fails the journal.  0 or -1. */
static int
append(nudge_journal *j, const char *buf, size_t len)
{
	ssize_t w;
	int e;

	if (j->why[0] != '\0')
		return -1;
	errno = 0;
	if ((w = write(j->fd, buf, len)) >= 0 && (size_t)w == len) {
		j->size += (off_t)len;
		return 0;
	}
	e = w < 0 ? errno : ENOSPC;
	snprintf(j->why, sizeof j->why, "%s: %s", j->path, strerror(e));
	if (w > 0 && ftruncate(j->fd, j->size) == -1) {
		/* a part of a line stays: trust none of it (every claim
		 * `unknown` after a kill, as without a journal) */
		if (unlink(j->path) == -1)
			(void)!pwrite(j->fd, "-", 1, 0);
	}
	return -1;
}

int
nudge_journal_add(nudge_journal *j, const int64_t *ids, size_t n)
{
	char buf[64 * 22];
	size_t len = 0, i;
	int rc = 0;

	if (j == NULL || n == 0)
		return 0;
	pthread_mutex_lock(&j->mu);
	/* the lines in one write, a buffer's worth at a time */
	for (i = 0; i < n && rc == 0; i++) {
		if (len + 22 > sizeof buf) {
			rc = append(j, buf, len);
			len = 0;
		}
		len += nudge_fmt_i64(buf + len, ids[i]);
		buf[len++] = '\n';
	}
	if (rc == 0)
		rc = append(j, buf, len);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

void
nudge_journal_done(nudge_journal *j, const nudge_journal_outcome *o)
{
	static const char *const names[] = { "sent", "failed", "bounced",
	    "unknown" };
	char buf[1024];
	size_t len, i;
	int n;

	if (j == NULL)
		return;
	/* "ID OUTCOME ATTEMPTS PROPS DETAIL": a line, the detail's control
	 * characters made blanks */
	n = snprintf(buf, sizeof buf, "%" PRId64 " %s %d %s ", o->id, o->back ?
	    "back" : names[o->out], o->attempts, o->props != NULL &&
	    o->props[0] != '\0' ? o->props : "-");
	if (n < 0 || (size_t)n >= sizeof buf - 1)
		return;
	len = (size_t)n;
	for (i = 0; o->detail != NULL && o->detail[i] != '\0' &&
	    len < sizeof buf - 1; i++)
		buf[len++] = (unsigned char)o->detail[i] < 0x20 ? ' ' :
		    o->detail[i];
	buf[len++] = '\n';
	pthread_mutex_lock(&j->mu);
	(void)append(j, buf, len);
	pthread_mutex_unlock(&j->mu);
}

const char *
nudge_journal_error(nudge_journal *j)
{
	const char *why;

	if (j == NULL)
		return NULL;
	pthread_mutex_lock(&j->mu);
	why = j->why[0] != '\0' ? j->why : NULL;
	pthread_mutex_unlock(&j->mu);
	return why;
}

void
nudge_journal_close(nudge_journal *j, int clean)
{
	char *slash;

	if (j == NULL)
		return;
	close(j->fd);
	pthread_mutex_destroy(&j->mu);
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

static int
cmpout(const void *a, const void *b)
{
	return cmp64(&((const nudge_journal_outcome *)a)->id,
	    &((const nudge_journal_outcome *)b)->id);
}

void
nudge_journal_data_free(nudge_journal_data *d)
{
	size_t i;

	for (i = 0; i < d->nouts; i++)
		free((char *)d->outs[i].detail);	/* props after it */
	free(d->outs);
	free(d->ids);
	memset(d, 0, sizeof *d);
}

/* An outcome line after its id ("OUTCOME ATTEMPTS PROPS DETAIL\n") into
 * o; the detail and props in one allocation.  0, -1 malformed, -2 out
 * of memory. */
static int
parse_outcome(const char *p, nudge_journal_outcome *o)
{
	static const char *const names[] = { "sent", "failed", "bounced",
	    "unknown" };
	const char *props, *detail;
	size_t k, pl, dl;
	char *end, *mem;
	long a;
	int i;

	k = strcspn(p, " ");
	o->back = k == 4 && strncmp(p, "back", 4) == 0;
	for (i = 0; i < 4 && !o->back; i++)
		if (strlen(names[i]) == k && strncmp(p, names[i], k) == 0)
			break;
	if (i == 4 || p[k] != ' ')
		return -1;
	o->out = o->back ? NUDGE_OUT_UNKNOWN : (enum nudge_outcome)i;
	errno = 0;
	a = strtol(p + k + 1, &end, 10);
	if (end == p + k + 1 || *end != ' ' || errno != 0 || a < 1 ||
	    a > 1000000)
		return -1;
	o->attempts = (int)a;
	props = end + 1;
	pl = strcspn(props, " ");
	if (props[pl] != ' ' || pl == 0)
		return -1;
	detail = props + pl + 1;
	dl = strcspn(detail, "\n");
	if ((mem = malloc(dl + 1 + pl + 1)) == NULL)
		return -2;
	memcpy(mem, detail, dl);
	mem[dl] = '\0';
	o->detail = mem;
	o->props = NULL;
	if (!(pl == 1 && props[0] == '-')) {
		memcpy(mem + dl + 1, props, pl);
		mem[dl + 1 + pl] = '\0';
		o->props = mem + dl + 1;
	}
	return 0;
}

int
nudge_journal_load(const char *store_path, const char *claimer,
    nudge_journal_data *d)
{
	char path[4096], want[37], line[1100];
	nudge_journal_outcome *no;
	int64_t *nv;
	size_t cap = 0, ocap = 0;
	FILE *fp;
	int ok = 0, rc;

	memset(d, 0, sizeof *d);
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
		 * not returned, so its message had not started (or its
		 * outcome is not known); one longer than any written is not
		 * ours to trust */
		if (strchr(line, '\n') == NULL) {
			if (fgetc(fp) != EOF)
				goto out;
			break;
		}
		errno = 0;
		id = strtoll(line, &end, 10);
		if (end == line || (*end != '\n' && *end != ' ') ||
		    errno != 0)
			goto out;
		if (*end == ' ') {
			if (d->nouts == ocap) {
				ocap = ocap ? 2 * ocap : 256;
				if ((no = realloc(d->outs, ocap *
				    sizeof *no)) == NULL) {
					ok = -1;
					goto out;
				}
				d->outs = no;
			}
			d->outs[d->nouts].id = id;
			if ((rc = parse_outcome(end + 1,
			    &d->outs[d->nouts])) != 0) {
				ok = rc == -2 ? -1 : 0;
				goto out;
			}
			d->nouts++;
			continue;
		}
		if (d->n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((nv = realloc(d->ids, cap * sizeof *nv)) == NULL) {
				ok = -1;
				goto out;
			}
			d->ids = nv;
		}
		d->ids[d->n++] = id;
	}
	if (ferror(fp))
		goto out;
	/* (qsort of NULL is undefined, even for none) */
	if (d->n > 0)
		qsort(d->ids, d->n, sizeof *d->ids, cmp64);
	/* one outcome a message: no order among equals to keep */
	if (d->nouts > 0)
		qsort(d->outs, d->nouts, sizeof *d->outs, cmpout);
	ok = 1;
out:
	fclose(fp);
	if (ok != 1)
		nudge_journal_data_free(d);
	return ok;
}

int
nudge_journal_has(const nudge_journal_data *d, int64_t id)
{
	return d->ids != NULL && bsearch(&id, d->ids, d->n, sizeof id,
	    cmp64) != NULL;
}

const nudge_journal_outcome *
nudge_journal_outcome_of(const nudge_journal_data *d, int64_t id)
{
	nudge_journal_outcome key = { 0 };

	if (d->outs == NULL)
		return NULL;
	key.id = id;
	return bsearch(&key, d->outs, d->nouts, sizeof key, cmpout);
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
nudge_journal_sweep(const char *store_path,
    int (*alive)(const char *claimer))
{
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	DIR *d;

	if (jpath(dir, sizeof dir, store_path, NULL) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    alive(de->d_name) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
