/* suggest: did-you-mean by edit distance. */
#include "suggest.h"

#include <stdlib.h>
#include <string.h>

#define MAXLEN 64   /* longer names are not compared */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Optimal string alignment distance of a and b (both at most MAXLEN),
 * ASCII case ignored. */
static size_t
distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t d[MAXLEN + 1][MAXLEN + 1], i, j;

	for (i = 0; i <= an; i++)
		d[i][0] = i;
	for (j = 0; j <= bn; j++)
		d[0][j] = j;
	for (i = 1; i <= an; i++)
		for (j = 1; j <= bn; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[an][bn];
}

const char *
nudge_closest(const char *word, const char *const *cands, size_t n)
{
	size_t wn = strlen(word), best = (size_t)-1, max, i, cn, dist;
	const char *found = NULL;

	if (wn == 0 || wn > MAXLEN)
		return NULL;
	max = wn / 3 > 0 ? wn / 3 : 1;
	for (i = 0; i < n; i++) {
		if (cands[i] == NULL || (cn = strlen(cands[i])) > MAXLEN)
			continue;
		/* the distance is at least the difference in length */
		if ((cn > wn ? cn - wn : wn - cn) > max)
			continue;
		dist = distance(word, wn, cands[i], cn);
		if (dist <= max && dist < best) {
			best = dist;
			found = cands[i];
		}
	}
	return found;
}
