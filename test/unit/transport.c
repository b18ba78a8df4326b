/* Unit tests for transport: URL and TLS policy, the file transport.  With
 * arguments it is the SMTP test driver of test/4*-transport-*.t:
 *
 *   transport.t send [-P] [-b MS] [-p N] [-R RATE] [-r N] [-u USER]
 *	[-w PASSWORD] URL < LIST
 *	LIST: lines "FROM RCPT FILE"; prints per message, in input order,
 *	"N<TAB>status<TAB>code<TAB>attempts<TAB>id-or-detail[ (stops the run)]".
 *   transport.t bench [-P] [-p N] URL COUNT SIZE
 *	sends COUNT messages of SIZE bytes, prints messages/s on stdout. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "transport.h"

static void
parse(const char *url, int plain, int want_rc, int want_tls, int loopback,
    long port, const char *host)
{
	nudge_transport_info info;
	nudge_err err = {""};
	char desc[300];
	int rc = nudge_transport_parse(url, plain, &info, &err);

	snprintf(desc, sizeof desc, "%s%s: rc %d tls %d loopback %d port %ld",
	    url, plain ? " (allow_plaintext)" : "", want_rc, want_tls,
	    loopback, port);
	if (want_rc != 0) {
		ok(rc == want_rc && err.msg[0] != '\0', desc);
		return;
	}
	ok(rc == 0 && (int)info.tls == want_tls && info.loopback == loopback &&
	    info.port == port && strcmp(info.host, host) == 0 &&
	    !info.is_file, desc);
}

static void
test_parse(void)
{
	nudge_transport_info info;
	nudge_err err = {""};

	parse("smtp://127.0.0.1:2525", 0, 0, NUDGE_TLS_NONE, 1, 2525,
	    "127.0.0.1");
	parse("smtp://127.9.9.9", 0, 0, NUDGE_TLS_NONE, 1, 25, "127.9.9.9");
	parse("smtp://localhost/mx.test", 0, 0, NUDGE_TLS_NONE, 1, 25,
	    "localhost");
	parse("smtp://[::1]:587", 0, 0, NUDGE_TLS_NONE, 1, 587, "::1");
	parse("smtp://192.0.2.1:25", 0, 0, NUDGE_TLS_STARTTLS, 0, 25,
	    "192.0.2.1");
	parse("smtp://mail.example.com:587", 0, 0, NUDGE_TLS_STARTTLS, 0, 587,
	    "mail.example.com");
	parse("smtp://127.0.0.1.example.com", 0, 0, NUDGE_TLS_STARTTLS, 0, 25,
	    "127.0.0.1.example.com");
	parse("smtp://localhost.example.com", 0, 0, NUDGE_TLS_STARTTLS, 0, 25,
	    "localhost.example.com");
	parse("smtp://mail.example.com:587", 1, 0, NUDGE_TLS_NONE, 0, 587,
	    "mail.example.com");
	parse("smtps://mail.example.com", 0, 0, NUDGE_TLS_IMPLICIT, 0, 465,
	    "mail.example.com");
	parse("smtps://127.0.0.1:4650", 1, 0, NUDGE_TLS_IMPLICIT, 1, 4650,
	    "127.0.0.1");
	parse("http://example.com", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://:25", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://h:0", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://h:65536", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://h:25x", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://[::1", 0, EX_USAGE, 0, 0, 0, NULL);
	parse("smtp://a b", 0, EX_USAGE, 0, 0, 0, NULL);
	ok(nudge_transport_parse("smtp://bob:s3cret@mail.example.com", 0,
	    &info, &err) == EX_USAGE && strstr(err.msg, "s3cret") == NULL &&
	    strstr(err.msg, "password") != NULL,
	    "credentials in the URL refused, the password not repeated");
	ok(nudge_transport_parse("file:///var/mail/out", 0, &info, &err) ==
	    0 && info.is_file && strcmp(info.host, "/var/mail/out") == 0,
	    "file:///dir");
	ok(nudge_transport_parse("file://localhost/tmp/x", 0, &info, &err) ==
	    0 && info.is_file && strcmp(info.host, "/tmp/x") == 0,
	    "file://localhost/dir");
	ok(nudge_transport_parse("file://out", 0, &info, &err) == EX_USAGE,
	    "file:// needs an absolute directory");
}

struct got {
	int n;
	nudge_delivery d[8];
};

static void
collect(void *arg, const nudge_delivery *d)
{
	struct got *g = arg;

	if (g->n < 8)
		g->d[g->n++] = *d;
}

static int
file_is(const char *path, const char *want, size_t len)
{
	char buf[256];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	return n == len && memcmp(buf, want, len) == 0;
}

static void
test_file(void)
{
	static const char m1[] = "Subject: one\r\n\r\nbody\r\n";
	static const char m2[] = "Subject: two\r\n\r\n.dot\r\n\0bin\xff\r\n";
	char tmpl[] = "/tmp/nudge-transport.XXXXXX", url[300], path[400];
	nudge_transport_opts o = {0};
	nudge_transport *t = NULL;
	nudge_err err = {""};
	struct got g = {0};
	struct stat st;
	int rc, i;

	if (mkdtemp(tmpl) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(url, sizeof url, "file://%s/mail", tmpl);
	o.nosync = 0;
	rc = nudge_transport_open(&t, url, &o, &err);
	if (!ok(rc == 0, "file transport opens, making the directory")) {
		printf("# %s\n", err.msg);
		return;
	}
	snprintf(path, sizeof path, "%s/mail/cur", tmpl);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "cur/ is made");
	ok(nudge_transport_submit(t, "a@example.com", "b@example.com", m1,
	    sizeof m1 - 1, (void *)1, &err) == 0, "submit one");
	ok(nudge_transport_submit(t, "", "c@example.com", m2, sizeof m2 - 1,
	    (void *)2, &err) == 0, "submit two (null sender, binary)");
	ok(nudge_transport_submit(t, "a@example.com", "x@example.com\r\nRCPT",
	    m1, sizeof m1 - 1, (void *)3, &err) == EX_USAGE,
	    "CR LF in a recipient refused");
	ok(nudge_transport_submit(t, "<a@example.com>", "x@example.com", m1,
	    sizeof m1 - 1, (void *)3, &err) == EX_USAGE,
	    "angle brackets in the sender refused");
	is_int(nudge_transport_pending(t), 2, "two pending");
	ok(nudge_transport_drain(t, collect, &g, &err) == 0, "drain");
	is_int(g.n, 2, "two outcomes");
	is_int(nudge_transport_pending(t), 0, "none pending");
	for (i = 0; i < g.n && i < 2; i++) {
		const char *want = i == 0 ? m1 : m2;
		size_t len = i == 0 ? sizeof m1 - 1 : sizeof m2 - 1;

		ok(g.d[i].status == NUDGE_SENT &&
		    g.d[i].cookie == (void *)(long)(i + 1) &&
		    strstr(g.d[i].id, ".eml") != NULL &&
		    strchr(g.d[i].id, '/') == NULL, "outcome names the file");
		snprintf(path, sizeof path, "%s/mail/new/%s", tmpl, g.d[i].id);
		ok(file_is(path, want, len), "new/ID holds the exact bytes");
		snprintf(path, sizeof path, "%s/mail/tmp/%s", tmpl, g.d[i].id);
		ok(access(path, F_OK) == -1, "nothing left in tmp/");
	}
	ok(g.n == 2 && strcmp(g.d[0].id, g.d[1].id) != 0, "names unique");
	nudge_transport_close(t);
	for (i = 0; i < g.n; i++) {
		snprintf(path, sizeof path, "%s/mail/new/%s", tmpl, g.d[i].id);
		unlink(path);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	if (system(path) != 0)
		ok(0, "cleanup");
}

static void
test_misc(void)
{
	nudge_transport_opts o = {0};
	nudge_transport *t = NULL;
	nudge_err err = {""};

	is_str(nudge_delivery_status_name(NUDGE_SENT), "sent", "sent");
	is_str(nudge_delivery_status_name(NUDGE_NOT_SENT), "not-sent",
	    "not-sent");
	is_str(nudge_delivery_status_name(NUDGE_FAILED), "failed", "failed");
	is_str(nudge_delivery_status_name(NUDGE_BOUNCED), "bounced",
	    "bounced");
	o.parallel = 1000;
	ok(nudge_transport_open(&t, "smtp://127.0.0.1:25", &o, &err) ==
	    EX_USAGE && t == NULL, "parallel 1000 refused");
	o.parallel = 2;
	o.password = "hunter2";
	o.username = "u";
	ok(nudge_transport_open(&t, "smtp://192.0.2.1:25", &o, &err) == 0,
	    "opening connects nowhere and succeeds");
	nudge_transport_close(t);
}

/* ---- the driver ---- */

struct out {
	int n;
	nudge_delivery *d;
	long done;
};

static void
record(void *arg, const nudge_delivery *d)
{
	struct out *o = arg;
	long i = (long)d->cookie;

	if (i >= 0 && i < o->n)
		o->d[i] = *d;
	o->done++;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) == -1 ||
	    (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (s = malloc((size_t)n + 1)) == NULL ||
	    fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	} else
		*len = (size_t)n;
	if (fp != NULL)
		fclose(fp);
	return s;
}

static int
driver(int argc, char **argv)
{
	nudge_transport_opts o = {0};
	nudge_transport *t;
	nudge_err err = {""};
	struct out out = {0, NULL, 0};
	char line[1024], from[300], rcpt[300], file[600], *data;
	int c, bench = strcmp(argv[1], "send") != 0, i;
	size_t len;

	o.nosync = 1;
	o.max_retries = 3;
	optind = 2;
	while ((c = getopt(argc, argv, "PR:b:p:r:u:w:")) != -1) {
		switch (c) {
		case 'P':
			o.allow_plaintext = 1;
			break;
		case 'R':
			o.rate = atof(optarg);
			break;
		case 'b':
			o.retry_base_ms = atol(optarg);
			break;
		case 'p':
			o.parallel = atoi(optarg);
			break;
		case 'r':
			o.max_retries = atoi(optarg);
			break;
		case 'u':
			o.username = optarg;
			break;
		case 'w':
			o.password = optarg;
			break;
		default:
			return 64;
		}
	}
	if (optind >= argc || (bench && argc - optind != 3))
		return 64;
	if (nudge_transport_open(&t, argv[optind], &o, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (bench) {
		long n = atol(argv[optind + 1]), k;
		size_t size = (size_t)atol(argv[optind + 2]), j;
		struct timespec a, b;
		size_t window = 8 * (size_t)(o.parallel > 0 ? o.parallel : 1);

		if ((data = malloc(size)) == NULL)
			return 1;
		for (j = 0; j < size; j++)
			data[j] = (j % 78 == 76) ? '\r' : (j % 78 == 77) ?
			    '\n' : (char)('a' + j % 26);
		if (size >= 2)
			memcpy(data + size - 2, "\r\n", 2);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (k = 0; k < n; k++) {
			snprintf(rcpt, sizeof rcpt, "r%ld@example.com", k);
			while (nudge_transport_pending(t) >= window)
				if (nudge_transport_run(t, 100, 0, record, &out,
				    &err) != 0)
					goto fail;
			if (nudge_transport_submit(t, "bench@example.com", rcpt,
			    data, size, (void *)-1L, &err) != 0)
				goto fail;
		}
		if (nudge_transport_drain(t, record, &out, &err) != 0)
			goto fail;
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.0f\n", (double)n / ((double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9));
		free(data);
		nudge_transport_close(t);
		return 0;
	}
	while (fgets(line, sizeof line, stdin) != NULL) {
		nudge_delivery *d;

		if (sscanf(line, "%299s %299s %599s", from, rcpt, file) != 3)
			return 64;
		if (strcmp(from, "-") == 0)
			from[0] = '\0';
		if ((data = slurp(file, &len)) == NULL)
			return 66;
		if ((d = realloc(out.d, (size_t)(out.n + 1) * sizeof *d)) ==
		    NULL)
			return 71;
		out.d = d;
		memset(&out.d[out.n], 0, sizeof *d);
		out.n++;
		if (nudge_transport_submit(t, from, rcpt, data, len,
		    (void *)(long)(out.n - 1), &err) != 0)
			goto fail;
		free(data);
	}
	if (nudge_transport_drain(t, record, &out, &err) != 0)
		goto fail;
	for (i = 0; i < out.n; i++)
		printf("%d\t%s\t%d\t%d\t%s%s\n", i + 1,
		    nudge_delivery_status_name(out.d[i].status),
		    out.d[i].code, out.d[i].attempts,
		    out.d[i].status == NUDGE_SENT ? out.d[i].id :
		    out.d[i].detail, out.d[i].stop == NUDGE_STOP_RUN ?
		    " (stops the run)" : "");
	free(out.d);
	nudge_transport_close(t);
	return out.done == out.n ? 0 : 1;
fail:
	fprintf(stderr, "%s\n", err.msg);
	nudge_transport_close(t);
	return 1;
}

/* One case of nudge_transport_smtp_stuff: in[0..n) becomes want. */
static void
stuff(const char *in, size_t n, const char *want, const char *desc)
{
	nudge_buf b = { 0 };
	char d[120];

	snprintf(d, sizeof d, "DATA content: %s", desc);
	ok(nudge_transport_smtp_stuff(&b, in, n) == 0 &&
	    b.len == strlen(want) && memcmp(b.s, want, b.len) == 0, d);
	nudge_buf_free(&b);
}

static void
test_stuff(void)
{
	stuff("", 0, ".\r\n", "empty: the end of data alone");
	stuff("a\r\n", 3, "a\r\n.\r\n", "ends with CRLF: the end follows");
	stuff("a", 1, "a\r\n.\r\n", "no line end last: CRLF added");
	stuff(".a\r\n.\r\n..\r\nb.c\r\n", 16,
	    "..a\r\n..\r\n...\r\nb.c\r\n.\r\n",
	    "a dot starting a line doubled, not inside one");
	stuff("a\nb\n\n.c\n", 8, "a\r\nb\r\n\r\n..c\r\n.\r\n",
	    "bare LFs made CRLF, dots after them doubled");
	stuff("a\rb\r\n", 5, "a\rb\r\n.\r\n", "a lone CR kept");
	stuff("x\r\n.", 4, "x\r\n..\r\n.\r\n",
	    "a last line of one dot, no line end");
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		return driver(argc, argv);
	test_parse();
	test_file();
	test_misc();
	test_stuff();
	return done_testing();
}
