/* nudge: `nudge NAME ARGS...` runs `nudge-NAME ARGS...`, git-style: first
 * beside this program, then on PATH.  `nudge help NAME` shows a command's
 * help: its man page on a terminal, else its --help. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static const char *const commands[][2] = {
	{ "import-list", "import contacts from CSV into lists" },
	{ "event", "record or import events (opens, purchases, ...)" },
	{ "segment", "select contacts with the segment language" },
	{ "send", "send a template to contacts read from stdin" },
	{ "trigger", "print the due steps of campaign files, for send" },
	{ "report", "what campaigns did: opens, clicks, conversions" },
	{ "predict", "who will buy again, who is slipping away, CLV" },
	{ "track", "CGI: record opens, clicks, unsubscribes, webhooks" },
	{ "contact", "a contact's story: fields, lists, consent, events, messages" },
	{ "lists", "lists with member counts and consent" },
	{ "events", "event types with counts and the last time seen" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The directory of this program, or "" when /proc cannot say. */
static char selfdir[PATH_MAX];

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: nudge [--help | --version] COMMAND [ARGS...]\n\n"
	    "commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-12s %s\n", commands[i][0], commands[i][1]);
	fprintf(fp, "\n`nudge help COMMAND`, `nudge COMMAND --help` and "
	    "nudge-COMMAND(1) say more.\n");
}

/* The command closest to the mistyped cmd, or NULL. */
static const char *
closest(const char *cmd)
{
	const char *cands[NCOMMANDS + 1];
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		cands[i] = commands[i][0];
	cands[i] = "help";
	return nudge_closest(cmd, cands, NCOMMANDS + 1);
}

/* Runs nudge-NAME (argv[0]), beside this program first; returns only on
 * failure, with the exit code. */
static int
run(const char *cmd, char **argv)
{
	char path[PATH_MAX + 256];
	const char *best;

	if (selfdir[0] != '\0') {
		snprintf(path, sizeof path, "%s/%s", selfdir, argv[0]);
		if (access(path, X_OK) == 0) {
			execv(path, argv);
			fprintf(stderr, "nudge: %s: %s\n", path,
			    strerror(errno));
			return EX_OSERR;
		}
	}
	execvp(argv[0], argv);
	if (errno == ENOENT) {
		if ((best = closest(cmd)) != NULL)
			fprintf(stderr, "nudge: '%s' is not a nudge command; "
			    "did you mean '%s'?\n", cmd, best);
		else
			fprintf(stderr, "nudge: '%s' is not a nudge command; "
			    "see 'nudge --help'\n", cmd);
		return EX_USAGE;
	}
	fprintf(stderr, "nudge: %s: %s\n", argv[0], strerror(errno));
	return EX_OSERR;
}

/* nudge help NAME: on a terminal the man page (the build tree's when this
 * program runs from one), else, or when man cannot show it, NAME --help
 * on stdout. */
static int
help(const char *cmd)
{
	char name[128], page[PATH_MAX + 256];
	char *args[3];
	int st;
	pid_t pid;

	snprintf(name, sizeof name, "nudge-%s", cmd);
	if (isatty(STDOUT_FILENO)) {
		snprintf(page, sizeof page, "%s/man/%s.1", selfdir, name);
		if ((pid = fork()) == 0) {
			/* man's own errors would hide the --help below */
			if (freopen("/dev/null", "w", stderr) == NULL)
				_exit(127);
			if (selfdir[0] != '\0' && access(page, R_OK) == 0)
				execlp("man", "man", "-l", page, (char *)NULL);
			else
				execlp("man", "man", name, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 0;
	}
	args[0] = name;
	args[1] = (char *)"--help";
	args[2] = NULL;
	return run(cmd, args);
}

static int
valid(const char *cmd)
{
	return cmd[0] != '-' && strchr(cmd, '/') == NULL && strlen(cmd) <= 64;
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX], name[128];
	const char *cmd;
	ssize_t n;

	/* beside this binary first, so a build tree runs its own commands */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(selfdir, sizeof selfdir, "%s", self);
		}
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    (strcmp(cmd, "help") == 0 && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc > 3 || !valid(argv[2])) {
			fprintf(stderr, "usage: nudge help COMMAND\n");
			return EX_USAGE;
		}
		return help(argv[2]);
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("nudge %s\n", NUDGE_VERSION);
		return 0;
	}
	if (!valid(cmd)) {
		fprintf(stderr, "nudge: not a command: %s\n", cmd);
		usage(stderr);
		return EX_USAGE;
	}
	snprintf(name, sizeof name, "nudge-%s", cmd);
	argv[1] = name;
	return run(cmd, argv + 1);
}
