/* transport_smtpwire: nudge's own SMTP client for plaintext smtp://
 * (a loopback relay, or allow_plaintext), driven by the network thread
 * of transport.c over poll(2), one connection per slot.  With ESMTP
 * PIPELINING (RFC 2920) a message costs one write and one read: its
 * MAIL FROM, RCPT TO and DATA go as one group, and once the 354 comes its
 * dot-stuffed body and end of data go out with the next message's group
 * behind them, so at most two messages are in flight on a connection,
 * one past its end of data and one in its envelope.  Without PIPELINING
 * the same machine sends one command at a time.  libcurl's SMTP makes
 * four round trips and a transfer's set-up per message; that, not the
 * rendering, was send's limit (issue 21).  TLS (smtps://, STARTTLS) stays
 * libcurl's (transport_smtp.c).
 *
 * Every failure is classified by nudge_transport_smtp_failure, with the
 * CURLcode libcurl would have given (a refused connection, a timeout, a
 * lost connection, a refused command), so what a message comes to is
 * the same as over libcurl: a message whose end of data was written and
 * got no answer is NUDGE_UNKNOWN, one that had not reached it is tried
 * again; retries, the breaker and the outcomes are transport.c's. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "token.h"
#include "transport_int.h"

/* What a reply answers, in the order the commands went out. */
enum {
	E_GREET, E_EHLO, E_HELO, E_AUTH, E_AUTH_USER, E_AUTH_PASS,
	E_MAIL, E_RCPT, E_DATA, E_DOT, E_DOTX, E_RSET, E_QUIT
};

enum { W_CLOSED, W_CONNECTING, W_HELLO, W_READY };


#define RING 16		/* at most 8 commands are ever outstanding */
#define INBUF 4096	/* a longer reply line is cut (its head kept) */

struct wconn {
	int fd, state;
	struct addrinfo *ai, *ainext;	/* addresses left to try */
	int pipelining, auth_plain, auth_login;
	long size_max;			/* SIZE: -1 none offered, 0 no limit */
	unsigned char exp[RING];	/* replies awaited */
	unsigned eh, en;
	unsigned char cmd[RING];	/* commands not yet written: without
					   PIPELINING, one at a time */
	unsigned ch, cn;
	nudge_buf out;
	size_t outoff;
	uint64_t queued, written;	/* bytes of out, ever */
	char in[INBUF];
	size_t inlen;
	int skip;			/* inside a line cut at INBUF */
	int rcode, rline;		/* the reply being read: its code, line */
	short revents;
	/* The message in its envelope is the slot's m.  Its replies: */
	int64_t cur_deadline;
	int cur_out;			/* its commands awaiting replies */
	int cur_mail_ok;		/* a transaction is open: RSET after */
	int cur_rc;			/* its failure (CURLE_OK: none yet) */
	long cur_code;
	char cur_err[160], cur_reply[256];
	/* The message whose end of data is out, awaiting its reply. */
	struct msg *dot;
	int64_t dot_deadline;
	uint64_t dot_end;		/* queued counter at its end of data */
	char ehlo[256];
};

static int
push(unsigned char *ring, unsigned h, unsigned *n, int kind)
{
	if (*n == RING)
		return -1;
	ring[(h + *n) % RING] = (unsigned char)kind;
	(*n)++;
	return 0;
}

static int
take(const unsigned char *ring, unsigned *h, unsigned *n)
{
	int k = ring[*h];

	*h = (*h + 1) % RING;
	(*n)--;
	return k;
}

int
wire_busy(const struct slot *s)
{
	const struct wconn *c = s->w;

	return s->m != NULL || (c->dot != NULL && !c->pipelining);
}

/*
 * Appends the message p[0..n) to out as SMTP DATA content: a line that
 * starts with '.' gets another (RFC 5321 4.5.2), a bare LF becomes CRLF
 * (SMTP has no other line end; nudge's MIME writes CRLF already), and the
 * end of data follows, after a CRLF unless the message ends with a line
 * end.  0, or -1 when memory runs out.
 */
int
nudge_transport_smtp_stuff(nudge_buf *out, const char *p, size_t n)
{
	size_t run = 0, i = 0, j;
	const char *nl;

	/* p[run..i) is copied as it is, in one piece up to each fix */
	if (n > 0 && p[0] == '.')
		nudge_buf_putc(out, '.');
	while ((nl = memchr(p + i, '\n', n - i)) != NULL) {
		j = (size_t)(nl - p);
		if (j == 0 || p[j - 1] != '\r') {
			nudge_buf_add(out, p + run, j - run);
			nudge_buf_add(out, "\r\n", 2);
			run = j + 1;
		}
		i = j + 1;
		if (i < n && p[i] == '.') {
			nudge_buf_add(out, p + run, i - run);
			nudge_buf_putc(out, '.');
			run = i;
		}
	}
	nudge_buf_add(out, p + run, n - run);
	return nudge_buf_puts(out, n == 0 || p[n - 1] == '\n' ? ".\r\n" :
	    "\r\n.\r\n");
}

/* ---- outcomes ---- */

/* The message in its envelope failed (the first failure counts). */
static void
cur_fail(struct wconn *c, int rc, long code, const char *reply,
    const char *why)
{
	if (c->cur_rc != CURLE_OK)
		return;
	c->cur_rc = rc;
	c->cur_code = code;
	nudge_strcpy(c->cur_err, sizeof c->cur_err, why);
	nudge_strcpy(c->cur_reply, sizeof c->cur_reply, reply);
}

/* Closes c's connection at once and settles what was in flight: the
 * message past its end of data, if that was written, may have arrived
 * (unknown); the one in its envelope did not (retried).  *freed set. */
static int
conn_abort(nudge_transport *t, struct slot *s, int rc, const char *why,
    int *freed)
{
	struct wconn *c = s->w;
	struct msg *m;
	int r = 0;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = W_CLOSED;
	if (c->ai != NULL)
		freeaddrinfo(c->ai);
	c->ai = c->ainext = NULL;
	c->eh = c->en = c->ch = c->cn = 0;
	nudge_buf_reset(&c->out);
	c->outoff = 0;
	c->inlen = 0;
	c->skip = 0;
	c->rline = 0;
	c->pipelining = 0;
	if ((m = c->dot) != NULL) {
		c->dot = NULL;
		if (smtp_settle(t, m, 0, rc, why, "", c->written >= c->dot_end) ==
		    -1)
			r = -1;
	}
	if ((m = s->m) != NULL) {
		s->m = NULL;
		if (c->cur_rc != CURLE_OK) {
			if (smtp_settle(t, m, c->cur_code, c->cur_rc, c->cur_err,
			    c->cur_reply, 0) == -1)
				r = -1;
		} else if (smtp_settle(t, m, 0, rc, why, "", 0) == -1) {
			r = -1;
		}
	}
	*freed = 1;
	return r;
}

/* ---- commands ---- */

static int
emit(nudge_transport *t, struct slot *s, int kind)
{
	struct wconn *c = s->w;
	struct msg *m = s->m;
	nudge_buf *b = &c->out;
	size_t before = b->len;
	nudge_buf cred = { 0 };

	switch (kind) {
	case E_EHLO:
		nudge_buf_printf(b, "EHLO %s\r\n", c->ehlo);
		break;
	case E_HELO:
		nudge_buf_printf(b, "HELO %s\r\n", c->ehlo);
		break;
	case E_AUTH:
		if (c->auth_plain) {
			/* the initial response (RFC 4954): one round trip */
			nudge_buf_putc(&cred, '\0');
			nudge_buf_puts(&cred, t->o.username);
			nudge_buf_putc(&cred, '\0');
			nudge_buf_puts(&cred, t->o.password ? t->o.password :
			    "");
			nudge_buf_puts(b, "AUTH PLAIN ");
			nudge_b64_encode(b, cred.s, cred.len, 0);
			nudge_buf_puts(b, "\r\n");
		} else {
			nudge_buf_puts(b, "AUTH LOGIN\r\n");
		}
		break;
	case E_AUTH_USER:
	case E_AUTH_PASS:
		nudge_buf_puts(&cred, kind == E_AUTH_USER ? t->o.username :
		    t->o.password ? t->o.password : "");
		nudge_b64_encode(b, cred.s, cred.len, 0);
		nudge_buf_puts(b, "\r\n");
		break;
	case E_MAIL:
		nudge_buf_printf(b, "MAIL FROM:<%s>", m->from);
		if (c->size_max >= 0)
			nudge_buf_printf(b, " SIZE=%zu", m->len);
		nudge_buf_puts(b, "\r\n");
		break;
	case E_RCPT:
		nudge_buf_printf(b, "RCPT TO:<%s>\r\n", m->rcpt);
		break;
	case E_DATA:
		nudge_buf_puts(b, "DATA\r\n");
		break;
	case E_DOT:
		nudge_transport_smtp_stuff(b, m->data, m->len);
		break;
	case E_DOTX:
		nudge_buf_puts(b, ".\r\n");
		break;
	case E_RSET:
		nudge_buf_puts(b, "RSET\r\n");
		break;
	case E_QUIT:
		nudge_buf_puts(b, "QUIT\r\n");
		break;
	}
	if (cred.s != NULL) {
		explicit_bzero(cred.s, cred.cap);
		nudge_buf_free(&cred);
	}
	if (b->failed || push(c->exp, c->eh, &c->en, kind) == -1)
		return -1;
	c->queued += b->len - before;
	if (kind == E_DOT)
		c->dot_end = c->queued;
	return 0;
}

static int
pipelinable(int kind)
{
	return kind == E_MAIL || kind == E_RCPT || kind == E_DATA ||
	    kind == E_RSET || kind == E_QUIT;
}

/* Writes (into out) the commands that may go now: all of them with
 * PIPELINING, else the next once nothing is awaited. */
static int cur_done(nudge_transport *t, struct slot *s, int *freed);

static int
pump(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	char q[120];
	int k;

	while (c->state == W_READY && c->cn > 0 && (c->en == 0 ||
	    (c->pipelining && pipelinable(c->cmd[c->ch])))) {
		k = take(c->cmd, &c->ch, &c->cn);
		if (k == E_MAIL && s->m != NULL && c->size_max > 0 &&
		    s->m->len > (size_t)c->size_max) {
			/* refused before a byte: its RCPT and DATA go too */
			snprintf(q, sizeof q, "the message (%zu bytes) is "
			    "larger than the server's SIZE limit (%ld bytes)",
			    s->m->len, c->size_max);
			cur_fail(c, CURLE_FILESIZE_EXCEEDED, 0, "", q);
			c->cur_out -= 1 + (int)c->cn;
			c->cn = 0;
			return cur_done(t, s, freed);
		}
		if (emit(t, s, k) == -1)
			return -1;
	}
	return 0;
}

/* The message in its envelope is done once all its replies are in:
 * sent on to its end of data elsewhere, or failed here. */
static int
cur_done(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	struct msg *m = s->m;

	if (m == NULL || c->cur_out > 0 || c->cur_rc == CURLE_OK)
		return 0;
	s->m = NULL;
	*freed = 1;
	if (c->cur_mail_ok && push(c->cmd, c->ch, &c->cn, E_RSET) == -1)
		return -1;
	if (smtp_settle(t, m, c->cur_code, c->cur_rc, c->cur_err, c->cur_reply,
	    0) == -1)
		return -1;
	return pump(t, s, freed);
}

/* The handshake failed: its message settles with the reply's code. */
static int
hello_failed(nudge_transport *t, struct slot *s, int rc, long code,
    const char *what, int *freed)
{
	struct wconn *c = s->w;
	char q[120];

	snprintf(q, sizeof q, "%s: %ld", what, code);
	cur_fail(c, rc, code, s->reply, q);
	return conn_abort(t, s, rc, c->cur_err, freed);
}

/* EHLO's answer: the extensions this client uses. */
static void
ehlo_line(struct wconn *c, const char *line, size_t n)
{
	char kw[16], l[512];
	const char *p = l;
	size_t k;

	/* a copy: the line in the read buffer ends in no NUL */
	if (n < 4 || n >= sizeof l)
		return;
	memcpy(l, line, n);
	l[n] = '\0';
	p += 4;
	n = strlen(p);
	k = strcspn(p, " =\r\n");
	if (k >= sizeof kw || k > n)
		return;
	memcpy(kw, p, k);
	kw[k] = '\0';
	p += k;
	n -= k;
	if (strcasecmp(kw, "PIPELINING") == 0) {
		c->pipelining = 1;
	} else if (strcasecmp(kw, "SIZE") == 0) {
		c->size_max = *p == ' ' ? strtol(p + 1, NULL, 10) : 0;
		if (c->size_max < 0)
			c->size_max = 0;
	} else if (strcasecmp(kw, "AUTH") == 0) {
		for (; n > 0; p++, n--) {
			k = strcspn(p, " \r\n");
			if ((k == 5 && strncasecmp(p, "PLAIN", 5) == 0))
				c->auth_plain = 1;
			if ((k == 5 && strncasecmp(p, "LOGIN", 5) == 0))
				c->auth_login = 1;
			if (k >= n)
				break;
			p += k;
			n -= k;
		}
	}
}

static int
hello_done(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;

	if (t->o.username != NULL) {
		if (!c->auth_plain && !c->auth_login) {
			cur_fail(c, CURLE_LOGIN_DENIED, 0, "", NO_AUTH);
			return conn_abort(t, s, CURLE_LOGIN_DENIED, c->cur_err,
			    freed);
		}
		return emit(t, s, E_AUTH);
	}
	c->state = W_READY;
	return pump(t, s, freed);
}

static int
auth_failed(nudge_transport *t, struct slot *s, long code, int *freed)
{
	/* 530, 535: the password; a 4xx: for now; another: the login
	 * cannot pass either way, the run stops */
	if (code != 530 && code != 535 && code >= 500)
		code = 0;
	return hello_failed(t, s, CURLE_LOGIN_DENIED, code, "AUTH failed",
	    freed);
}

/* One whole reply (code) to the command awaited first. */
static int
on_reply(nudge_transport *t, struct slot *s, int code, int *freed)
{
	struct wconn *c = s->w;
	struct msg *m;
	int kind, ok = code / 100 == 2;
	char q[40];

	if (c->en == 0) {
		/* unasked: a 421 before an idle timeout, or noise */
		return conn_abort(t, s, CURLE_RECV_ERROR, code == 421 ?
		    "the server closed the connection" : "an unexpected reply "
		    "from the server", freed);
	}
	kind = take(c->exp, &c->eh, &c->en);
	switch (kind) {
	case E_GREET:
		if (!ok)
			return hello_failed(t, s, CURLE_WEIRD_SERVER_REPLY,
			    code, "Got unexpected smtp-server response",
			    freed);
		return emit(t, s, E_EHLO);
	case E_EHLO:
		if (code >= 500 && code != 421) {
			c->pipelining = c->auth_plain = c->auth_login = 0;
			c->size_max = -1;
			return emit(t, s, E_HELO);
		}
		/* FALLTHROUGH */
	case E_HELO:
		if (!ok)
			return hello_failed(t, s, CURLE_WEIRD_SERVER_REPLY,
			    code, "EHLO failed", freed);
		return hello_done(t, s, freed);
	case E_AUTH:
		if (code == 235 && c->auth_plain)
			break;
		if (code == 334 && !c->auth_plain)
			return emit(t, s, E_AUTH_USER);
		return auth_failed(t, s, code, freed);
	case E_AUTH_USER:
		if (code == 334)
			return emit(t, s, E_AUTH_PASS);
		return auth_failed(t, s, code, freed);
	case E_AUTH_PASS:
		if (code == 235)
			break;
		return auth_failed(t, s, code, freed);
	case E_MAIL:
	case E_RCPT:
		c->cur_out--;
		if (ok && kind == E_MAIL)
			c->cur_mail_ok = 1;
		if (!ok) {
			snprintf(q, sizeof q, "%s failed: %d", kind == E_MAIL ?
			    "MAIL" : "RCPT", code);
			cur_fail(c, CURLE_SEND_ERROR, code, s->reply, q);
			if (!c->pipelining) {
				/* not yet written: never will be */
				c->cur_out -= (int)c->cn;
				c->cn = 0;
			}
		}
		return cur_done(t, s, freed);
	case E_DATA:
		c->cur_out--;
		if (code != 354) {
			snprintf(q, sizeof q, "DATA failed: %d", code);
			cur_fail(c, CURLE_SEND_ERROR, code, s->reply, q);
			return cur_done(t, s, freed);
		}
		if (c->cur_rc != CURLE_OK) {
			/* a server that takes DATA with no recipient: an
			 * empty message, which it must refuse */
			c->cur_out++;
			return emit(t, s, E_DOTX);
		}
		if (emit(t, s, E_DOT) == -1)
			return -1;
		c->dot = s->m;
		c->dot_deadline = c->cur_deadline;
		s->m = NULL;
		*freed = 1;
		return 0;
	case E_DOTX:
		c->cur_out--;
		return cur_done(t, s, freed);
	case E_DOT:
		m = c->dot;
		c->dot = NULL;
		if (!c->pipelining)
			*freed = 1;
		if (m == NULL)
			return 0;
		if (ok)
			return smtp_settle(t, m, code, CURLE_OK, "", s->reply, 0);
		return smtp_settle(t, m, code, CURLE_SEND_ERROR, "", s->reply, 0);
	default:	/* E_RSET, E_QUIT */
		return 0;
	}
	/* logged in */
	c->state = W_READY;
	return pump(t, s, freed);
}

/* One line of a reply, p[0..n) with its line end if any. */
static int
on_line(nudge_transport *t, struct slot *s, const char *p, size_t n,
    int *freed)
{
	struct wconn *c = s->w;
	int code, last;
	char q[100];

	nudge_transport_smtp_line(s->reply, sizeof s->reply, p, n);
	if (n < 3 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9') {
		snprintf(q, sizeof q, "Got an unexpected reply: %.60s",
		    s->reply);
		return conn_abort(t, s, CURLE_WEIRD_SERVER_REPLY, q, freed);
	}
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	last = n == 3 || p[3] != '-';
	if (c->rline == 0)
		c->rcode = code;
	if (c->en > 0 && c->exp[c->eh] == E_EHLO && c->rline > 0 &&
	    c->rcode == 250)
		ehlo_line(c, p, n);
	if (!last) {
		c->rline++;
		return 0;
	}
	c->rline = 0;
	if (on_reply(t, s, c->rcode, freed) == -1)
		return -1;
	if (c->rcode == 421 && c->fd >= 0)
		/* "closing": it will not answer what else is out */
		return conn_abort(t, s, CURLE_RECV_ERROR, "the server closed "
		    "the connection (421)", freed);
	return 0;
}

/* Reads what the server sent and acts on each whole line. */
static int
on_readable(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	ssize_t r;
	char *p, *nl, q[160];
	size_t n;

	r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
	if (r == 0)
		return conn_abort(t, s, CURLE_RECV_ERROR, "the server closed "
		    "the connection", freed);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		snprintf(q, sizeof q, "Recv failure: %s", strerror(errno));
		return conn_abort(t, s, CURLE_RECV_ERROR, q, freed);
	}
	c->inlen += (size_t)r;
	p = c->in;
	n = c->inlen;
	while (n > 0 && c->fd >= 0) {
		nl = memchr(p, '\n', n);
		if (c->skip) {
			/* the rest of a line already acted on */
			if (nl == NULL) {
				n = 0;
				break;
			}
			c->skip = 0;
		} else if (nl == NULL) {
			if (p != c->in || n < sizeof c->in)
				break;
			/* a line longer than the buffer: its head is
			 * the reply, the rest is skipped */
			c->skip = 1;
			if (on_line(t, s, p, n, freed) == -1)
				return -1;
			n = 0;
			break;
		} else if (on_line(t, s, p, (size_t)(nl - p) + 1, freed) ==
		    -1) {
			return -1;
		}
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	if (c->fd < 0)
		return 0;
	if (n > 0 && p != c->in)
		memmove(c->in, p, n);
	c->inlen = n;
	return 0;
}

/* ---- connections ---- */

/* No address of the host took the connection; e is the last errno. */
static int
connect_failed(nudge_transport *t, struct slot *s, int e, int *freed)
{
	char q[200];

	snprintf(q, sizeof q, "Failed to connect to %.100s port %ld: %s",
	    t->info.host, t->info.port, strerror(e));
	return conn_abort(t, s, CURLE_COULDNT_CONNECT, q, freed);
}

static int
try_connect(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	struct addrinfo hints, *a;
	char port[16], q[200];
	int fd, e = 0, one = 1;

	if (c->ai == NULL) {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(port, sizeof port, "%ld", t->info.port);
		if (getaddrinfo(t->info.host, port, &hints, &c->ai) != 0) {
			c->ai = NULL;
			snprintf(q, sizeof q, "Could not resolve host: %.100s",
			    t->info.host);
			return conn_abort(t, s, CURLE_COULDNT_RESOLVE_HOST, q,
			    freed);
		}
		c->ainext = c->ai;
	}
	while ((a = c->ainext) != NULL) {
		c->ainext = a->ai_next;
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			c->fd = fd;
			c->state = W_CONNECTING;
			return 0;
		}
		e = errno;
		close(fd);
	}
	return connect_failed(t, s, e, freed);
}

/* The connection attempt on c->fd ended: open, or the next address. */
static int
connected(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	int e = 0;
	socklen_t el = sizeof e;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
		e = errno;
	if (e == 0) {
		c->state = W_HELLO;
		c->pipelining = c->auth_plain = c->auth_login = 0;
		c->size_max = -1;
		c->queued = c->written = 0;
		return push(c->exp, c->eh, &c->en, E_GREET);
	}
	close(c->fd);
	c->fd = -1;
	c->state = W_CLOSED;
	if (c->ainext != NULL)
		return try_connect(t, s, freed);
	return connect_failed(t, s, e, freed);
}

static int
flush(nudge_transport *t, struct slot *s, int *freed)
{
	struct wconn *c = s->w;
	ssize_t r;
	char q[160];

	while (c->fd >= 0 && c->state >= W_HELLO && c->outoff < c->out.len) {
		r = send(c->fd, c->out.s + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			snprintf(q, sizeof q, "Send failure: %s",
			    strerror(errno));
			return conn_abort(t, s, CURLE_SEND_ERROR, q, freed);
		}
		c->outoff += (size_t)r;
		c->written += (uint64_t)r;
	}
	if (c->outoff == c->out.len && c->out.len > 0) {
		c->out.len = 0;
		c->outoff = 0;
	}
	return 0;
}

/* ---- what transport.c calls ---- */

int
wire_open(nudge_transport *t, nudge_err *err)
{
	const char *p, *e;
	char host[200];
	size_t n;
	int i;

	if ((t->slots = calloc((size_t)t->nslots, sizeof *t->slots)) ==
	    NULL || (t->pfd = calloc((size_t)t->nslots + 1,
	    sizeof *t->pfd)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return nudge_errf(err, EX_OSERR, "eventfd: %s",
		    strerror(errno));
	/* the EHLO name: the URL's path (smtp://host/name), else this
	 * host's name, as libcurl says it */
	p = strstr(t->url, "://") + 3;
	p += strcspn(p, "/?#");
	if (*p == '/')
		p++;
	else
		p = "";
	n = strcspn(p, "?#");
	for (e = p; e < p + n; e++)
		if ((unsigned char)*e <= ' ' || *e == '%' || *e == 0x7f)
			return nudge_errf(err, EX_USAGE, "transport: the EHLO "
			    "name after the host is not a plain name");
	if (n == 0) {
		if (gethostname(host, sizeof host) == -1 || host[0] == '\0')
			strcpy(host, "localhost");
		host[sizeof host - 1] = '\0';
		p = host;
		n = strlen(host);
	}
	for (i = 0; i < t->nslots; i++) {
		struct wconn *c = calloc(1, sizeof *c);

		if (c == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		c->fd = -1;
		c->size_max = -1;
		snprintf(c->ehlo, sizeof c->ehlo, "%.*s", (int)(n < 255 ? n :
		    255), p);
		t->slots[i].w = c;
	}
	return 0;
}

/* Starts an attempt of m on slot s: its envelope queued, the
 * connection opened by the next wire_perform if it is closed. */
int
wire_start(nudge_transport *t, struct slot *s, struct msg *m)
{
	struct wconn *c = s->w;

	m->off = 0;
	m->attempts++;
	s->m = m;
	s->reply[0] = '\0';
	c->cur_deadline = nudge_mono_ms() + t->o.timeout_ms;
	c->cur_out = 3;
	c->cur_mail_ok = 0;
	c->cur_rc = CURLE_OK;
	c->cur_code = 0;
	c->cur_err[0] = c->cur_reply[0] = '\0';
	if (push(c->cmd, c->ch, &c->cn, E_MAIL) == -1 ||
	    push(c->cmd, c->ch, &c->cn, E_RCPT) == -1 ||
	    push(c->cmd, c->ch, &c->cn, E_DATA) == -1)
		return -1;
	return 0;
}

/*
 * Acts on what the last wire_poll saw: connections made, replies read,
 * deadlines passed; then writes what is queued, unless a slot came free
 * while messages wait (the caller fills it first, so that the next
 * message's commands leave in the same write as the end of data before
 * them).  Lowers *next to the earliest deadline.  Returns 1 when a slot
 * came free, 0, or -1 when memory ran out.
 */
int
wire_perform(nudge_transport *t, int64_t *next)
{
	int64_t now = nudge_mono_ms(), dl;
	int i, freed = 0;
	struct slot *s;
	struct wconn *c;

	for (i = 0; i < t->nslots; i++) {
		s = &t->slots[i];
		c = s->w;
		if (c->fd < 0 && s->m != NULL && try_connect(t, s, &freed) ==
		    -1)
			return -1;
		if (c->fd < 0) {
			c->revents = 0;
			continue;
		}
		if (c->state == W_CONNECTING) {
			if (c->revents & (POLLOUT | POLLERR | POLLHUP)) {
				c->revents = 0;
				if (connected(t, s, &freed) == -1)
					return -1;
			}
		} else if (c->revents & (POLLIN | POLLERR | POLLHUP)) {
			if (on_readable(t, s, &freed) == -1)
				return -1;
		}
		c->revents = 0;
		if (c->fd < 0)
			continue;
		if (c->state == W_READY && c->cn > 0 && pump(t, s, &freed) ==
		    -1)
			return -1;
		dl = INT64_MAX;
		if (s->m != NULL)
			dl = c->cur_deadline;
		if (c->dot != NULL && c->dot_deadline < dl)
			dl = c->dot_deadline;
		if (dl <= now) {
			char q[80];

			snprintf(q, sizeof q, "Operation timed out after %ld "
			    "milliseconds", t->o.timeout_ms);
			if (conn_abort(t, s, CURLE_OPERATION_TIMEDOUT, q,
			    &freed) == -1)
				return -1;
		} else if (dl < *next) {
			*next = dl;
		}
	}
	if (freed && t->qhead != NULL)
		return 1;
	for (i = 0; i < t->nslots; i++)
		if (flush(t, &t->slots[i], &freed) == -1)
			return -1;
	return freed;
}

/* Sleeps in poll(2) for up to wait_ms over the connections and the
 * wakeup; what each saw is kept for wire_perform. */
void
wire_poll(nudge_transport *t, long wait_ms)
{
	struct wconn *c;
	uint64_t v;
	nfds_t n = 1;
	int i;

	t->pfd[0].fd = t->wakefd;
	t->pfd[0].events = POLLIN;
	for (i = 0; i < t->nslots; i++) {
		c = t->slots[i].w;
		if (c->fd < 0)
			continue;
		t->pfd[n].fd = c->fd;
		t->pfd[n].events = c->state == W_CONNECTING ? POLLOUT :
		    (short)(POLLIN | (c->outoff < c->out.len ? POLLOUT : 0));
		n++;
	}
	if (poll(t->pfd, n, (int)wait_ms) <= 0)
		return;
	if (t->pfd[0].revents & POLLIN)
		(void)!read(t->wakefd, &v, sizeof v);
	for (i = 0, n = 1; i < t->nslots; i++) {
		c = t->slots[i].w;
		if (c->fd < 0)
			continue;
		c->revents = t->pfd[n++].revents;
	}
}

void
wire_wake(nudge_transport *t)
{
	uint64_t one = 1;

	(void)!write(t->wakefd, &one, sizeof one);
}

/* Says QUIT on every connection with nothing in flight and waits a
 * little (a second at most) for the answers, then closes them all. */
void
wire_close(nudge_transport *t)
{
	struct wconn *c;
	struct slot *s;
	int64_t end = nudge_mono_ms() + 1000;
	int i, open, freed = 0;
	nfds_t n;
	char buf[512];

	for (i = 0; t->slots != NULL && i < t->nslots; i++) {
		s = &t->slots[i];
		c = s->w;
		if (c == NULL || c->fd < 0)
			continue;
		if (c->state == W_READY && s->m == NULL && c->dot == NULL &&
		    c->cn == 0 && emit(t, s, E_QUIT) == 0)
			(void)flush(t, s, &freed);
		if (c->fd >= 0 && c->state != W_READY) {
			close(c->fd);
			c->fd = -1;
		} else if (c->fd >= 0) {
			shutdown(c->fd, SHUT_WR);
		}
	}
	for (;;) {
		n = 0;
		for (i = 0; t->slots != NULL && i < t->nslots; i++) {
			c = t->slots[i].w;
			if (c == NULL || c->fd < 0)
				continue;
			t->pfd[n].fd = c->fd;
			t->pfd[n].events = POLLIN;
			n++;
		}
		if (n == 0 || nudge_mono_ms() >= end ||
		    poll(t->pfd, n, (int)(end - nudge_mono_ms())) <= 0)
			break;
		for (i = 0, open = 0; i < t->nslots; i++) {
			c = t->slots[i].w;
			if (c == NULL || c->fd < 0)
				continue;
			if ((t->pfd[open++].revents & (POLLIN | POLLERR |
			    POLLHUP)) && recv(c->fd, buf, sizeof buf, 0) <= 0) {
				close(c->fd);
				c->fd = -1;
			}
		}
	}
	for (i = 0; t->slots != NULL && i < t->nslots; i++) {
		c = t->slots[i].w;
		if (c == NULL)
			continue;
		if (c->fd >= 0)
			close(c->fd);
		if (c->ai != NULL)
			freeaddrinfo(c->ai);
		free(c->dot);
		nudge_buf_free(&c->out);
		free(c);
		t->slots[i].w = NULL;
	}
	if (t->wakefd >= 0)
		close(t->wakefd);
	t->wakefd = -1;
	free(t->pfd);
	t->pfd = NULL;
}
