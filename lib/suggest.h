/* suggest: the known name closest to an unknown one, for "did you mean"
 * hints. */
#ifndef NUDGE_SUGGEST_H
#define NUDGE_SUGGEST_H

#include <stddef.h>

/*
 * Returns the candidate of cands[0..n) closest to word by edit distance
 * (insertions, deletions, substitutions and swaps of two neighbours, ASCII
 * case ignored), or NULL when none is close enough to be the one meant: at
 * most a third of word's length away, and at least 1.  Ties go to the
 * earlier candidate.  O(n * len(word) * len(candidate)).
 */
const char *nudge_closest(const char *word, const char *const *cands,
    size_t n);

#endif
