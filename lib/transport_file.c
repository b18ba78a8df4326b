/* transport_file: the file:// transport, each message written to a
 * maildir-style directory (tmp/, then renamed into new/). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "transport_int.h"

static int
open_subdir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST)
		return -1;
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
file_open(nudge_transport *t, nudge_err *err)
{
	const char *dir = t->info.host;
	char *s;
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
		    strerror(errno));
	if ((t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
		    strerror(errno));
	if ((t->tmpfd = open_subdir(t->dirfd, "tmp")) == -1 ||
	    (t->newfd = open_subdir(t->dirfd, "new")) == -1 ||
	    (fd = open_subdir(t->dirfd, "cur")) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
		    strerror(errno));
	close(fd);
	if (gethostname(t->host, sizeof t->host) == -1)
		strcpy(t->host, "localhost");
	t->host[sizeof t->host - 1] = '\0';
	/* Maildir names must not hold '/' or ':'. */
	for (s = t->host; *s; s++)
		if (*s == '/' || *s == ':')
			*s = '_';
	return 0;
}

/* Writes tmp/NAME, fsyncs it, renames it to new/NAME without replacing
 * anything: a reader of new/ never sees a partial message. */
int
file_submit(nudge_transport *t, const char *data, size_t len, void *cookie,
    nudge_err *err)
{
	nudge_delivery d;
	struct timeval tv;
	char name[128];
	int fd, tries;

	memset(&d, 0, sizeof d);
	d.cookie = cookie;
	d.attempts = 1;
	if ((tries = start_one(t, cookie)) != 0)	/* held */
		return tries == -1 ? nudge_errf(err, EX_OSERR, "out of memory") :
		    0;
	for (tries = 0;; tries++) {
		gettimeofday(&tv, NULL);
		snprintf(name, sizeof name, "%lld.M%06ldP%ldQ%u.%s.eml",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    ++t->counter, t->host);
		fd = openat(t->tmpfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST || tries > 100)
			break;
	}
	if (fd == -1)
		return nudge_errf(err, EX_IOERR, "%s/tmp/%s: %s",
		    t->info.host, name, strerror(errno));
	if (nudge_write_all(fd, data, len) == -1 ||
	    (!t->o.nosync && fsync(fd) == -1)) {
		nudge_errf(err, EX_IOERR, "%s/tmp/%s: %s", t->info.host, name,
		    strerror(errno));
		close(fd);
		unlinkat(t->tmpfd, name, 0);
		return EX_IOERR;
	}
	if (close(fd) == -1 ||
	    renameat2(t->tmpfd, name, t->newfd, name, RENAME_NOREPLACE) ==
	    -1) {
		nudge_errf(err, EX_IOERR, "%s/new/%s: %s", t->info.host, name,
		    strerror(errno));
		unlinkat(t->tmpfd, name, 0);
		return EX_IOERR;
	}
	t->unsynced = 1;
	{
		nudge_seen w = { .via = NUDGE_VIA_FILE };
		nudge_class c;

		nudge_outcome_classify(&w, &c);
		d.status = c.status;
	}
	snprintf(d.id, sizeof d.id, "%s", name);
	if (push_result(t, &d) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	t->pending++;
	return 0;
}
