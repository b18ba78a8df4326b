/* The regression driver of the fuzz targets: linked with one target
 * instead of libFuzzer, it runs LLVMFuzzerTestOneInput once on each file
 * named (a directory: each file in it, in name order) and exits 0 when
 * every input returned; a failed invariant or a sanitizer aborts.  Built
 * by `make check` with the normal compiler and flags (SAN=1: under ASan
 * and UBSan).  -v names each input on stderr. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose;

static int
run_file(const char *path)
{
	FILE *fp;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, k;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (nb == NULL) {
				perror("realloc");
				exit(1);
			}
			buf = nb;
		}
		if ((k = fread(buf + n, 1, cap - n, fp)) == 0)
			break;
		n += k;
	}
	fclose(fp);
	if (verbose)
		fprintf(stderr, "%s (%zu bytes)\n", path, n);
	/* an exact-size copy, so that ASan sees a read past the end */
	{
		uint8_t *exact = malloc(n > 0 ? n : 1);

		if (exact == NULL)
			exit(1);
		if (n > 0)
			memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	free(buf);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run(const char *path)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;
	char **names = NULL, p[4096];
	size_t n = 0, i;
	int rc = 0;

	if (stat(path, &sb) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return run_file(path);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strdup(de->d_name)) == NULL)
			exit(1);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/%s", path, names[i]);
		if (run(p) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	for (i = 1; i < argc; i++)
		if (run(argv[i]) == -1)
			rc = 1;
	return rc;
}
