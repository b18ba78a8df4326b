/* computed: computed fields on a contact's row (computed.h); the
 * aggregates themselves are the segment language's (segment.c). */
#include "computed.h"

#include <math.h>
#include <stdio.h>
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
nudge_computed_decimals(size_t i)
{
	const char *name = nudge_computed_field(i);

	if (i < nudge_computed_count() || name == NULL)
		return -1;
	/* expected_order_value and clv_365d are money */
	return strstr(name, "value") != NULL || strncmp(name, "clv", 3) == 0 ?
	    2 : 4;
}

size_t
nudge_computed_fixed(double v, int d, char *buf)
{
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	int64_t n, ip;
	size_t k = 0, j;
	int neg, i;

	/* printf's %f costs more than the rest of a field's way into a
	 * message; a prediction is a plain number well inside int64 */
	if (d < 0 || d > 4 || !(v > -1e14 && v < 1e14))
		return (size_t)snprintf(buf, 32, "%.*f", d < 0 ? 0 : d, v);
	n = llround(v * scale[d]);
	if ((neg = n < 0))
		n = -n;
	ip = n / (int64_t)scale[d];
	if (neg && n != 0)
		buf[k++] = '-';
	k += nudge_fmt_i64(buf + k, ip);
	if (d > 0) {
		buf[k++] = '.';
		for (i = d - 1, j = k; i >= 0; i--, n /= 10)
			buf[j + (size_t)i] = (char)('0' + n % 10);
		k += (size_t)d;
	}
	buf[k] = '\0';
	return k;
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
			if (nudge_buf_printf(&b, ", p.%s", name) == -1)
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
