/* suggest: nudge_closest, the did-you-mean of unknown names. */
#include <stddef.h>

#include "suggest.h"
#include "tap.h"

int
main(void)
{
	static const char *const f[] = { "id", "email", "phone", "push_id",
		"first_name", "last_name", "unsubscribe_url", "attrs.city",
		"attrs.coupon" };
	size_t n = sizeof f / sizeof f[0];

	is_str(nudge_closest("frist_name", f, n), "first_name",
	    "two letters swapped");
	is_str(nudge_closest("firstname", f, n), "first_name",
	    "a letter missing");
	is_str(nudge_closest("First_Name", f, n), "first_name",
	    "case ignored");
	is_str(nudge_closest("attrs.citty", f, n), "attrs.city",
	    "a letter too many");
	is_str(nudge_closest("emial", f, n), "email", "a short name, swapped");
	is_str(nudge_closest("lastname", f, n), "last_name",
	    "last before first when it is closer");
	ok(nudge_closest("zzzz", f, n) == NULL, "nothing close: no hint");
	ok(nudge_closest("xy", f, n) == NULL,
	    "a 2-letter name: one edit at most, and 'id' is two away");
	is_str(nudge_closest("ib", f, n), "id", "one edit from a short name");
	ok(nudge_closest("", f, n) == NULL, "an empty word");
	ok(nudge_closest("first_name", NULL, 0) == NULL, "no candidates");
	return done_testing();
}
