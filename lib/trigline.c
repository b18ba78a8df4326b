/* trigline: the trigger line's one writer and one reader; see trigline.h. */
#include "trigline.h"

#include <stdlib.h>
#include <string.h>

int
nudge_trigline_write(FILE *fp, int64_t contact_id, const char *campaign,
    const char *step, const char *file)
{
	return fprintf(fp, "%lld\t%s\t%s\t%s\n", (long long)contact_id,
	    campaign, step, file) < 0 ? -1 : 0;
}

int
nudge_trigline_split(char *line, nudge_trigline *t)
{
	char *f[4];
	int nf;

	for (nf = 1, f[0] = line; nf < 4 &&
	    (f[nf] = strchr(f[nf - 1], '\t')) != NULL; nf++)
		*f[nf]++ = '\0';
	if (nf == 4) {
		f[3][strcspn(f[3], "\t")] = '\0';
		if (*f[3] == '\0')
			nf = 3;
	}
	if (nf == 2)
		nf = 1;
	t->contact = f[0];
	t->campaign = nf >= 3 ? f[1] : NULL;
	t->step = nf >= 3 ? f[2] : NULL;
	t->file = nf == 4 ? f[3] : NULL;
	t->entry_event = 0;
	if (t->step != NULL) {
		const char *h = strchr(t->step, '#');
		char *end;
		long long v;

		if (h != NULL && (v = strtoll(h + 1, &end, 10)) > 0 &&
		    *end == '\0')
			t->entry_event = (int64_t)v;
	}
	if (nf >= 3 && (*f[1] == '\0' || *f[2] == '\0'))
		return -1;
	return nf;
}
