/* nudge: `nudge NAME ARGS...` runs `nudge-NAME ARGS...`, git-style: first
 * beside this program, then on PATH. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static const char *const commands[][2] = {
	{ "import-list", "import contacts from CSV into lists" },
	{ "event", "record or import events (opens, purchases, ...)" },
	{ "segment", "select contacts with the segment language" },
	{ "send", "send a template to contacts read from stdin" },
	{ "trigger", "print the due steps of campaign files, for send" },
	{ "report", "what campaigns did: opens, clicks, conversions" },
	{ "predict", "who will buy again, who is slipping away, CLV" },
	{ "track", "CGI: record opens, clicks, unsubscribes, webhooks" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: nudge [--help | --version] COMMAND [ARGS...]\n\n"
	    "commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-12s %s\n", commands[i][0], commands[i][1]);
	fprintf(fp, "\n`nudge COMMAND --help` and nudge-COMMAND(1) say more.\n");
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 256], name[128];
	const char *cmd;
	ssize_t n;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("nudge %s\n", NUDGE_VERSION);
		return 0;
	}
	if (cmd[0] == '-' || strchr(cmd, '/') != NULL || strlen(cmd) > 64) {
		fprintf(stderr, "nudge: not a command: %s\n", cmd);
		usage(stderr);
		return EX_USAGE;
	}
	snprintf(name, sizeof name, "nudge-%s", cmd);
	argv[1] = name;
	/* Beside this binary first, so a build tree runs its own commands. */
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof path, "%s/%s", self, name);
			if (access(path, X_OK) == 0) {
				execv(path, argv + 1);
				fprintf(stderr, "nudge: %s: %s\n", path,
				    strerror(errno));
				return EX_OSERR;
			}
		}
	}
	execvp(name, argv + 1);
	if (errno == ENOENT) {
		fprintf(stderr, "nudge: '%s' is not a nudge command; see "
		    "'nudge --help'\n", cmd);
		return EX_USAGE;
	}
	fprintf(stderr, "nudge: %s: %s\n", name, strerror(errno));
	return EX_OSERR;
}
