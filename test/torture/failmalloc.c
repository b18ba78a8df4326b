/* test/torture/failmalloc.c: allocation and I/O failure injection for
 * `make torture`, the curl "torture" way, as an LD_PRELOAD shim (built by
 * the Makefile as test/torture/failmalloc.so):
 *
 *   LD_PRELOAD=test/torture/failmalloc.so FAILMALLOC_N=N nudge-send ...
 *
 * FAILMALLOC_N=N   the N-th allocation (malloc, calloc, realloc, strdup,
 *                  strndup, posix_memalign, aligned_alloc, memalign)
 *                  returns NULL with errno ENOMEM.  Only that one: the
 *                  ones after it succeed again, so the test sees how the
 *                  program carries on from one failure.
 * FAILMALLOC_SPARE=S  allocations called from a library whose file name
 *                  contains one of the ':'-separated S are neither failed
 *                  nor counted.  Default "libcrypto": OpenSSL 3.0 does
 *                  its one-time set-up lazily (the first SHA256() call)
 *                  and, when an allocation in it fails, goes on with a
 *                  NULL lock and crashes (CRYPTO_THREAD_read_lock from
 *                  EVP_MD_fetch; found at N=2019 of a send): its bug,
 *                  not nudge's to handle, and thousands of allocations
 *                  it otherwise shrugs off.  FAILMALLOC_SPARE= spares
 *                  nothing.  Whatever pthread_getattr_np allocates is
 *                  spared too: ASan calls it as each thread starts and
 *                  aborts when it fails (a SAN=1 build, N=1186 of
 *                  import-list).
 * FAILIO_N=N       the N-th write, pwrite, pwrite64, writev, fsync or
 *                  fdatasync on a file whose path contains FAILIO_MATCH
 *                  (default ".db": the store, its journal and WAL) fails
 *                  with EIO (ENOSPC for writes when FAILIO_ERRNO=ENOSPC).
 * FAILMALLOC_HIT=F when the failure is injected, F is created with one
 *                  line "malloc N" or "io N CALL", so that a loop over N
 *                  knows when a run no longer reaches its failure.
 * FAILMALLOC_TRACE=1  the failing call's stack goes to stderr (for
 *                  debugging one N: build with -g, read with addr2line).
 * FAILMALLOC_COUNT=F  at exit, F gets "ALLOCS IOS": how many were counted
 *                  (a run with N set past the end tells how far to go).
 *
 * Counting starts when main is called (__libc_start_main is wrapped), not
 * at process start, and stops at exit: the dynamic loader's and libc's own
 * start-up and tear-down, and a sanitizer's leak check, are not the
 * program's to handle.  Everything after that
 * counts, the libraries' (SQLite, libcurl, libyaml, OpenSSL, stdio)
 * included, in every thread: with several threads the N-th allocation is
 * not always the same one from run to run.
 *
 * The real functions are found with dlsym(RTLD_NEXT), so the shim works
 * under valgrind too (its malloc replaces libc's, the one RTLD_NEXT
 * finds).  dlsym itself may allocate before they are known: those few
 * come from a static arena and are never freed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static long fail_alloc = -1, fail_io = -1;
static atomic_long n_alloc, n_io;
static atomic_int armed, started, hit;
static const char *hit_file, *io_match = ".db", *spare = "libcrypto";
static int io_errno = EIO;

/* the bootstrap arena, for dlsym's allocations before the real ones */
static _Alignas(max_align_t) char arena[16384];
static size_t arena_used;
static int resolving;

static int
in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof arena;
}

static void *
arena_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (arena_used + n > sizeof arena)
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	return p;
}

static long
envnum(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? atol(s) : -1;
}

static void
resolve(void)
{
	if (real_malloc != NULL || resolving)
		return;
	resolving = 1;
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = dlsym(RTLD_NEXT, "memalign");
	real_write = dlsym(RTLD_NEXT, "write");
	real_pwrite = dlsym(RTLD_NEXT, "pwrite");
	real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
	real_writev = dlsym(RTLD_NEXT, "writev");
	real_fsync = dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	resolving = 0;
}

/* Writes "WHAT N [CALL]" to FAILMALLOC_HIT with raw system calls (the
 * wrapped write must not count it, and stdio may allocate). */
static void
note_hit(const char *what, long n, const char *call)
{
	char line[96];
	int fd, len;

	atomic_store(&hit, 1);
	if (getenv("FAILMALLOC_TRACE") != NULL) {
		void *pc[40];

		backtrace_symbols_fd(pc, backtrace(pc, 40), 2);
	}
	if (hit_file == NULL)
		return;
	len = snprintf(line, sizeof line, "%s %ld%s%s\n", what, n,
	    call != NULL ? " " : "", call != NULL ? call : "");
	fd = (int)syscall(SYS_openat, AT_FDCWD, hit_file,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, line, (size_t)len) < 0)
			errno = 0;
		syscall(SYS_close, fd);
	}
}

/* True when the code at pc is in a library of FAILMALLOC_SPARE. */
static int
spared(const void *pc)
{
	static _Thread_local const void *last_pc;
	static _Thread_local int last;
	const char *p, *e;
	Dl_info info;

	if (*spare == '\0')
		return 0;
	if (pc == last_pc)
		return last;
	last_pc = pc;
	last = 0;
	if (dladdr(pc, &info) == 0 || info.dli_fname == NULL)
		return 0;
	for (p = spare; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		char name[64];
		size_t n;

		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p) < sizeof name ? (size_t)(e - p) :
		    sizeof name - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		if (n > 0 && strstr(info.dli_fname, name) != NULL)
			return last = 1;
	}
	return 0;
}

static _Thread_local int in_getattr;

/* ASan's thread start calls it: what it allocates is spared. */
int
pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	static int (*real)(pthread_t, pthread_attr_t *);
	int rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pthread_getattr_np");
	in_getattr++;
	rc = real(th, attr);
	in_getattr--;
	return rc;
}

/* True when this allocation (called from pc) is the one to fail. */
static int
fail_now(const void *pc)
{
	long n;

	if (!atomic_load(&armed) || fail_alloc < 0 || in_getattr > 0 ||
	    spared(pc))
		return 0;
	n = atomic_fetch_add(&n_alloc, 1) + 1;
	if (n != fail_alloc)
		return 0;
	note_hit("malloc", n, NULL);
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t n)
{
	resolve();
	if (real_malloc == NULL)
		return arena_alloc(n);
	if (fail_now(__builtin_return_address(0)))
		return NULL;
	return real_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	void *p;

	resolve();
	if (real_calloc == NULL || resolving) {
		if (n != 0 && k > SIZE_MAX / n)
			return NULL;
		p = arena_alloc(k * n);
		if (p != NULL)
			memset(p, 0, k * n);
		return p;
	}
	if (fail_now(__builtin_return_address(0)))
		return NULL;
	return real_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	resolve();
	if (in_arena(p) || real_realloc == NULL) {
		void *q = malloc(n);

		if (q != NULL && p != NULL) {
			size_t left = (size_t)(arena + sizeof arena -
			    (char *)p);

			memcpy(q, p, n < left ? n : left);
		}
		return q;
	}
	if (n > 0 && fail_now(__builtin_return_address(0)))
		return NULL;
	return real_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	resolve();
	if (real_free != NULL)
		real_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	if (fail_now(__builtin_return_address(0)))
		return ENOMEM;
	return real_posix_memalign(out, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	resolve();
	if (fail_now(__builtin_return_address(0)))
		return NULL;
	return real_aligned_alloc(align, n);
}

void *
memalign(size_t align, size_t n)
{
	resolve();
	if (fail_now(__builtin_return_address(0)))
		return NULL;
	return real_memalign(align, n);
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	return p != NULL ? memcpy(p, s, n) : NULL;
}

char *
strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* True when this write or sync on fd is the one to fail. */
static int
io_fail_now(int fd, const char *call)
{
	char link[64], path[512];
	ssize_t len;
	long n;
	int saved = errno;

	if (!atomic_load(&armed) || fail_io < 0 || fd < 0)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof path - 1);
	errno = saved;
	if (len <= 0)
		return 0;
	path[len] = '\0';
	if (strstr(path, io_match) == NULL)
		return 0;
	n = atomic_fetch_add(&n_io, 1) + 1;
	if (n != fail_io)
		return 0;
	note_hit("io", n, call);
	return 1;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	resolve();
	if (io_fail_now(fd, "write")) {
		errno = io_errno;
		return -1;
	}
	return real_write(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	resolve();
	if (io_fail_now(fd, "pwrite")) {
		errno = io_errno;
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	resolve();
	if (io_fail_now(fd, "pwrite64")) {
		errno = io_errno;
		return -1;
	}
	return real_pwrite64(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	resolve();
	if (io_fail_now(fd, "writev")) {
		errno = io_errno;
		return -1;
	}
	return real_writev(fd, iov, n);
}

int
fsync(int fd)
{
	resolve();
	if (io_fail_now(fd, "fsync")) {
		errno = EIO;
		return -1;
	}
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	resolve();
	if (io_fail_now(fd, "fdatasync")) {
		errno = EIO;
		return -1;
	}
	return real_fdatasync(fd);
}

static void __attribute__((destructor))
write_count(void)
{
	const char *f = getenv("FAILMALLOC_COUNT");
	char line[64];
	int fd, len;

	if (f == NULL || !atomic_load(&started))
		return;
	len = snprintf(line, sizeof line, "%ld %ld\n", atomic_load(&n_alloc),
	    atomic_load(&n_io));
	fd = (int)syscall(SYS_openat, AT_FDCWD, f,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, line, (size_t)len) < 0)
			errno = 0;
		syscall(SYS_close, fd);
	}
}

/* At exit (the first handler to run): what runs after is LeakSanitizer's
 * check (whose pthread_getattr_np aborts the process when its allocation
 * fails, found at N=1186 of import-list in a SAN=1 build) and libc's
 * tear-down, not the program's to handle. */
static void
disarm(void)
{
	atomic_store(&armed, 0);
}

typedef int main_fn(int, char **, char **);
static main_fn *real_main;

static int
counted_main(int argc, char **argv, char **envp)
{
	const char *e;

	fail_alloc = envnum("FAILMALLOC_N");
	fail_io = envnum("FAILIO_N");
	hit_file = getenv("FAILMALLOC_HIT");
	if ((e = getenv("FAILMALLOC_SPARE")) != NULL)
		spare = e;
	if ((e = getenv("FAILIO_MATCH")) != NULL && *e != '\0')
		io_match = e;
	if ((e = getenv("FAILIO_ERRNO")) != NULL && strcmp(e, "ENOSPC") == 0)
		io_errno = ENOSPC;
	atexit(disarm);
	atomic_store(&started, 1);
	atomic_store(&armed, 1);
	return real_main(argc, argv, envp);
}

int
__libc_start_main(main_fn *main, int argc, char **argv, void (*init)(void),
    void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	int (*real)(main_fn *, int, char **, void (*)(void), void (*)(void),
	    void (*)(void), void *);

	resolve();
	*(void **)&real = dlsym(RTLD_NEXT, "__libc_start_main");
	real_main = main;
	return real(counted_main, argc, argv, init, fini, rtld_fini,
	    stack_end);
}
