/* fcgi: a small FastCGI responder, one request at a time. */
#include "fcgi.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	BEGIN_REQUEST = 1, ABORT_REQUEST = 2, END_REQUEST = 3, PARAMS = 4,
	STDIN = 5, STDOUT = 6, GET_VALUES = 9, GET_VALUES_RESULT = 10,
	UNKNOWN_TYPE = 11,
};
#define RESPONDER 1
#define KEEP_CONN 1
#define REQUEST_COMPLETE 0
#define UNKNOWN_ROLE 3

const char *
nudge_fcgi_param(const nudge_fcgi_req *r, const char *name)
{
	const char *p = r->params.s;
	size_t i;

	for (i = 0; i < r->nparams; i++) {
		const char *v = p + strlen(p) + 1;

		if (strcmp(p, name) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

int
nudge_fcgi_is_listener(int fd)
{
	int v = 0;
	socklen_t len = sizeof v;

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v != 0;
}

/* Reads (wr 0) or writes (wr 1) all n bytes at p, through EINTR; 0, or
 * -1 on an error or, reading, the end of the stream. */
static int
full(int fd, void *p, size_t n, int wr)
{
	char *s = p;

	while (n > 0) {
		ssize_t r = wr ? write(fd, s, n) : read(fd, s, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
record(int fd, int type, unsigned id, void *p, size_t n)
{
	unsigned char h[8] = { 1, (unsigned char)type,
		(unsigned char)(id >> 8), (unsigned char)id,
		(unsigned char)(n >> 8), (unsigned char)n, 0, 0 };

	return full(fd, h, 8, 1) == -1 || (n > 0 && full(fd, p, n, 1) == -1) ?
	    -1 : 0;
}

/* Ends request *id (then 0) with status: 0, or -1 when the connection
 * is done (the write failed, or the web server did not ask to keep it). */
static int
end_request(int fd, unsigned *id, int status, int keep)
{
	unsigned char b[8] = { 0, 0, 0, 0, (unsigned char)status, 0, 0, 0 };

	if (record(fd, END_REQUEST, *id, b, sizeof b) == -1 || !keep)
		return -1;
	*id = 0;
	return 0;
}

/* Appends the name-value pairs of p[0..n) to r; -1 when malformed. */
static int
pairs(nudge_fcgi_req *r, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

	while (p < end) {
		size_t len[2];
		int k;

		for (k = 0; k < 2; k++) {
			if (p >= end)
				return -1;
			if (*p >> 7) {
				if (end - p < 4)
					return -1;
				len[k] = (size_t)(p[0] & 0x7f) << 24 |
				    (size_t)p[1] << 16 | (size_t)p[2] << 8 |
				    p[3];
				p += 4;
			} else
				len[k] = *p++;
		}
		if ((size_t)(end - p) < len[0] + len[1] ||
		    memchr(p, '\0', len[0] + len[1]) != NULL)
			return -1;
		if (nudge_buf_add(&r->params, p, len[0]) == -1 ||
		    nudge_buf_putc(&r->params, '\0') == -1 ||
		    nudge_buf_add(&r->params, p + len[0], len[1]) == -1 ||
		    nudge_buf_putc(&r->params, '\0') == -1)
			return -1;
		r->nparams++;
		p += len[0] + len[1];
	}
	return 0;
}

/* Serves one connection until it closes or breaks. */
static void
conn(int fd, size_t maxbody, nudge_fcgi_handler *h, void *arg,
    nudge_fcgi_req *r, nudge_buf *in, nudge_buf *out)
{
	unsigned char hd[8], pad[256];
	unsigned id = 0;
	int keep = 0, params_done = 0, toolarge = 0;

	for (;;) {
		size_t len, plen;
		int type;

		if (full(fd, hd, 8, 0) == -1 || hd[0] != 1)
			return;
		type = hd[1];
		len = (size_t)hd[4] << 8 | hd[5];
		plen = hd[6];
		nudge_buf_reset(in);
		while (in->len < len)
			if (nudge_buf_putc(in, '\0') == -1)
				return;
		if ((len > 0 && full(fd, in->s, len, 0) == -1) ||
		    (plen > 0 && full(fd, pad, plen, 0) == -1))
			return;
		switch (type) {
		case BEGIN_REQUEST:
			if (len < 8)
				return;
			id = (unsigned)hd[2] << 8 | hd[3];
			keep = (unsigned char)in->s[2] & KEEP_CONN;
			nudge_buf_reset(&r->params);
			nudge_buf_reset(&r->body);
			r->nparams = 0;
			params_done = toolarge = 0;
			if (((unsigned)(unsigned char)in->s[0] << 8 |
			    (unsigned char)in->s[1]) != RESPONDER) {
				if (end_request(fd, &id, UNKNOWN_ROLE,
				    keep) == -1)
					return;
			}
			break;
		case ABORT_REQUEST:
			if (end_request(fd, &id, REQUEST_COMPLETE, keep) == -1)
				return;
			break;
		case PARAMS:
			if (len == 0)
				params_done = 1;
			else if (pairs(r, (unsigned char *)in->s, len) == -1)
				return;
			break;
		case STDIN:
			if (len > 0) {
				if (r->body.len + len > maxbody)
					toolarge = 1;
				else if (nudge_buf_add(&r->body, in->s, len) ==
				    -1)
					return;
				break;
			}
			if (id == 0 || !params_done)
				return;
			nudge_buf_reset(out);
			if (toolarge) {
				if (nudge_buf_puts(out, "Status: 413 Payload "
				    "Too Large\r\nContent-Type: text/plain\r\n"
				    "\r\ntoo large\n") == -1)
					return;
			} else if (h(arg, r, out) != 0)
				return;
			{
				size_t off = 0;

				while (off < out->len) {
					size_t n = out->len - off > 65535 ?
					    65535 : out->len - off;

					if (record(fd, STDOUT, id, out->s + off,
					    n) == -1)
						return;
					off += n;
				}
			}
			if (record(fd, STDOUT, id, NULL, 0) == -1 ||
			    end_request(fd, &id, REQUEST_COMPLETE, keep) == -1)
				return;
			break;
		case GET_VALUES:
			if (record(fd, GET_VALUES_RESULT, 0, NULL, 0) == -1)
				return;
			break;
		default: {
			unsigned char b[8] = { (unsigned char)type };

			if (record(fd, UNKNOWN_TYPE, 0, b, 8) == -1)
				return;
		}
		}
	}
}

int
nudge_fcgi_serve(int lfd, size_t maxbody, nudge_fcgi_handler *h, void *arg,
    nudge_err *err)
{
	nudge_fcgi_req r = { { 0 }, 0, { 0 } };
	nudge_buf in = { 0 }, out = { 0 };
	int fd, rc = 0;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			rc = nudge_errf(err, EX_OSERR, "accept: %s",
			    strerror(errno));
			break;
		}
		conn(fd, maxbody, h, arg, &r, &in, &out);
		close(fd);
	}
	nudge_buf_free(&r.params);
	nudge_buf_free(&r.body);
	nudge_buf_free(&in);
	nudge_buf_free(&out);
	return rc;
}
