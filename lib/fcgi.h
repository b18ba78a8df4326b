/* fcgi: a FastCGI responder (the FastCGI 1.0 specification) for
 * nudge-track's persistent mode: the web server starts it once, with a
 * listening socket as its standard input, and sends it many requests. */
#ifndef NUDGE_FCGI_H
#define NUDGE_FCGI_H

#include <stddef.h>

#include "util.h"

/* One request: its parameters (the CGI meta-variables) and its body. */
typedef struct nudge_fcgi_req {
	nudge_buf params;   /* name \0 value \0 ... */
	size_t nparams;
	nudge_buf body;
} nudge_fcgi_req;

/* The value of parameter name, or NULL. */
const char *nudge_fcgi_param(const nudge_fcgi_req *r, const char *name);

/* Answers one request: appends a CGI response ("Status: ...", header
 * lines, an empty line, the body) to out.  Returns 0, or non-zero to
 * drop the connection without an answer. */
typedef int nudge_fcgi_handler(void *arg, const nudge_fcgi_req *r,
    nudge_buf *out);

/* True when fd is a listening socket, as FastCGI gives its responders
 * on descriptor 0. */
int nudge_fcgi_is_listener(int fd);

/* Accepts connections on lfd and answers their requests with h, one at a
 * time, until accept fails for good.  Connections that break or send
 * what is no FastCGI are dropped, and the loop goes on; a role other
 * than responder is refused (FCGI_UNKNOWN_ROLE); request bodies are
 * limited to maxbody bytes (bigger ones get 413).
 * Errors: EX_OSERR (accept failed), EX_OSERR (memory). */
int nudge_fcgi_serve(int lfd, size_t maxbody, nudge_fcgi_handler *h,
    void *arg, nudge_err *err);

#endif
