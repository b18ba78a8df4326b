/* computed: computed fields on a contact's row (computed.h); the
 * aggregates themselves are the segment language's (segment.c). */
#include "computed.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"

size_t
nudge_computed_count(void)
{
	size_t n = 0;

	while (nudge_seg_computed_name(n) != NULL)
		n++;
	return n;
}

size_t
nudge_computed_fields(void)
{
	size_t n = nudge_computed_count();

	while (nudge_computed_field(n) != NULL)
		n++;
	return n;
}

const char *
nudge_computed_field(size_t i)
{
	size_t n = nudge_computed_count();

	return i < n ? nudge_seg_computed_name(i) :
	    nudge_seg_predicted_name(i - n);
}

int
nudge_computed_contact_sql(int64_t now, const unsigned char *use,
    nudge_seg *seg, int *id_param, nudge_err *err)
{
	nudge_buf b = { 0 };
	const char *name;
	char *x;
	size_t i;
	int rc, pred = 0;

	memset(seg, 0, sizeof *seg);
	seg->now = now;
	if (nudge_buf_puts(&b, "SELECT c.email, c.phone, c.push_id, "
	    "c.first_name, c.last_name, c.attrs") == -1)
		goto nomem;
	for (i = 0; (name = use != NULL ? nudge_computed_field(i) :
	    nudge_seg_computed_name(i)) != NULL; i++) {
		if (use != NULL && !use[i])
			continue;
		if (nudge_seg_computed(name) == NULL) {
			/* expected_order_value and clv_365d are money; one
			 * printf each, not round() and SQLite's own %!.15g
			 * of the result */
			if (nudge_buf_printf(&b, ", CASE WHEN p.%s IS NOT NULL"
			    " THEN printf('%%.%df', p.%s) END", name,
			    strstr(name, "value") != NULL || strncmp(name,
			    "clv", 3) == 0 ? 2 : 4, name) == -1)
				goto nomem;
			pred = 1;
			continue;
		}
		if ((rc = nudge_seg_computed_sql(seg, name, &x, err)) != 0) {
			nudge_buf_free(&b);
			nudge_seg_free(seg);
			return rc;
		}
		rc = nudge_buf_printf(&b, ", %s", x);
		free(x);
		if (rc == -1)
			goto nomem;
	}
	*id_param = (int)seg->nparams + 1;
	/* the predictions: one primary key lookup for them all */
	if (nudge_buf_printf(&b, " FROM contacts c%s WHERE c.id = ?%d", pred ?
	    " LEFT JOIN predictions p ON p.contact_id = c.id" : "",
	    *id_param) == -1)
		goto nomem;
	seg->sql = b.s;
	return 0;
nomem:
	nudge_buf_free(&b);
	nudge_seg_free(seg);
	return nudge_errf(err, EX_OSERR, "out of memory");
}
