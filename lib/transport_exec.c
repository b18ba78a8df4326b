/* transport_exec: the exec: transport, each message piped to a command
 * (no shell) with its fields in the environment. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "transport_int.h"

extern char **environ;

/* Splits the command after "exec:" at blanks into argv: no shell, no
 * quoting, so no value of a message can ever become a word of it. */
int
exec_open(nudge_transport *t, nudge_err *err)
{
	char *copy, *w, *save = NULL;
	size_t n = 0;

	if ((copy = strdup(t->url + 5 + strspn(t->url + 5, " \t"))) == NULL ||
	    (t->argv = calloc(strlen(copy) / 2 + 2, sizeof *t->argv)) ==
	    NULL) {
		free(copy);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save))
		t->argv[n++] = w;
	if (n == 0) {
		free(copy);
		free(t->argv);
		t->argv = NULL;
		return nudge_errf(err, EX_USAGE, "exec: no command");
	}
	return 0;
}

/* Feeds data to the child's stdin while reading its stdout (so neither
 * side can block the other), keeping the first line of output in id. */
static int
exec_talk(int in, int out, const char *data, size_t len, char *id,
    size_t idlen)
{
	struct pollfd pf[2];
	char buf[4096];
	size_t off = 0, got = 0;
	ssize_t n;

	id[0] = '\0';
	if (len == 0) {
		close(in);
		in = -1;
	}
	while (in != -1 || out != -1) {
		pf[0].fd = in;
		pf[0].events = POLLOUT;
		pf[1].fd = out;
		pf[1].events = POLLIN;
		if (poll(pf, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in != -1 && pf[0].revents != 0) {
			n = write(in, data + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n == -1 && errno != EINTR && errno != EAGAIN) ||
			    off == len) {
				close(in);
				in = -1;
			}
		}
		if (out != -1 && pf[1].revents != 0) {
			n = read(out, buf, sizeof buf);
			if (n > 0) {
				size_t k = (size_t)n;

				if (got + 1 < idlen) {
					if (k > idlen - 1 - got)
						k = idlen - 1 - got;
					memcpy(id + got, buf, k);
					got += k;
					id[got] = '\0';
				}
			} else if (n == 0 || errno != EINTR) {
				close(out);
				out = -1;
			}
		}
	}
	if (in != -1)
		close(in);
	id[strcspn(id, "\r\n")] = '\0';
	return 0;
}

int
exec_submit(nudge_transport *t, const nudge_transport_msg *mm, void *cookie,
    nudge_err *err)
{
	nudge_delivery d;
	nudge_buf ev = { 0 };
	char **envp = NULL, *p;
	size_t ne, i, k;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, status, held = 0;
	pid_t pid;
	const char *names[5] = { "NUDGE_TO", "NUDGE_FROM", "NUDGE_TITLE",
		"NUDGE_KEY", "NUDGE_CHANNEL" };
	const char *vals[5] = { mm->to, mm->from, mm->title, mm->key,
		mm->channel };

	for (ne = 0; environ[ne] != NULL; ne++)
		;
	/* the environment, less any NUDGE_TO... of ours, plus the message's */
	for (i = 0; i < 5; i++)
		if (vals[i] != NULL && (nudge_buf_printf(&ev, "%s=%s",
		    names[i], vals[i]) == -1 || nudge_buf_putc(&ev, '\0') == -1))
			goto nomem;
	if ((envp = calloc(ne + 6, sizeof *envp)) == NULL)
		goto nomem;
	for (i = k = 0; i < ne; i++) {
		size_t j;

		for (j = 0; j < 5; j++)
			if (strncmp(environ[i], names[j], strlen(names[j])) ==
			    0 && environ[i][strlen(names[j])] == '=')
				break;
		if (j == 5)
			envp[k++] = environ[i];
	}
	for (p = ev.s, i = 0; i < 5; i++)
		if (vals[i] != NULL) {
			envp[k++] = p;
			p += strlen(p) + 1;
		}
	if (pipe2(inp, O_CLOEXEC) == -1 || pipe2(outp, O_CLOEXEC) == -1) {
		nudge_errf(err, EX_OSERR, "exec: pipe: %s", strerror(errno));
		goto fail;
	}
	if ((held = start_one(t, cookie)) != 0) {
		if (held == -1)
			nudge_errf(err, EX_OSERR, "out of memory");
		goto fail;
	}
	if ((pid = fork()) == -1) {
		nudge_errf(err, EX_OSERR, "exec: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		if (dup2(inp[0], 0) == -1 || dup2(outp[1], 1) == -1)
			_exit(EX_OSERR);
		execvpe(t->argv[0], t->argv, envp);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(inp[0]);
	close(outp[1]);
	inp[0] = outp[1] = -1;
	memset(&d, 0, sizeof d);
	d.cookie = cookie;
	d.attempts = 1;
	exec_talk(inp[1], outp[0], mm->text, mm->len, d.id, sizeof d.id);
	inp[1] = outp[0] = -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = 0x7f00;
			break;
		}
	{
		nudge_seen w = { .via = NUDGE_VIA_EXEC, .code = status };
		nudge_class c;

		nudge_outcome_classify(&w, &c);
		set_class(&d, &c);
	}
	if (WIFEXITED(status))
		d.code = WEXITSTATUS(status);
	if (d.status == NUDGE_SENT) {
		if (d.id[0] == '\0')
			snprintf(d.id, sizeof d.id, "%.200s: exit 0",
			    t->info.host);
	} else {
		if (WIFEXITED(status))
			snprintf(d.detail, sizeof d.detail, "%.200s: exit %d%s",
			    t->info.host, WEXITSTATUS(status),
			    WEXITSTATUS(status) == 127 ? " (no such command)" :
			    "");
		else
			snprintf(d.detail, sizeof d.detail, "%.200s: killed by "
			    "signal %d", t->info.host, WTERMSIG(status));
		d.id[0] = '\0';
	}
	free(envp);
	nudge_buf_free(&ev);
	if (push_result(t, &d) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	t->pending++;
	return 0;
nomem:
	nudge_errf(err, EX_OSERR, "out of memory");
fail:
	for (i = 0; i < 2; i++) {
		if (inp[i] != -1)
			close(inp[i]);
		if (outp[i] != -1)
			close(outp[i]);
	}
	free(envp);
	nudge_buf_free(&ev);
	return held == 1 ? 0 : EX_OSERR;
}
