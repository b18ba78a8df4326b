/* computed: the computed fields of the configuration (nudge-config(5)
 * computed:) brought to a contact's row: the query that loads a contact
 * for a template with every computed field as a column of the same row. */
#ifndef NUDGE_COMPUTED_H
#define NUDGE_COMPUTED_H

#include <stdint.h>

#include "segment.h"
#include "util.h"

/* The number of computed fields the configuration defines. */
size_t nudge_computed_count(void);

/* The fields a template may name beside the contact's own: the
 * configuration's computed fields (the first nudge_computed_count), then
 * the figures of nudge predict (nudge_seg_predicted_name).  The count,
 * and the i-th name or NULL past the last. */
size_t nudge_computed_fields(void);
const char *nudge_computed_field(size_t i);

/* The decimals field i is written with: 4 for p_alive, churn_risk and
 * expected_purchases_90d, 2 for the money of expected_order_value and
 * clv_365d, -1 for a computed field of the configuration (as SQLite
 * writes its value). */
int nudge_computed_decimals(size_t i);

/* Writes v with d decimals (0 to 4) into buf (at least 32 bytes), as
 * printf's %.*f would; returns the length. */
size_t nudge_computed_fixed(double v, int d, char *buf);

/*
 * Fills seg (free it with nudge_seg_free) with the query reading one
 * contact: SELECT email, phone, push_id, first_name, last_name, attrs,
 * then each field i (nudge_computed_field) with use[i] set, in that
 * order, as columns 6, 7, ... (use NULL: every computed field of the
 * configuration, no prediction), FROM contacts c WHERE c.id = ?ID, with
 * *id_param that ID: the computed fields' parameters come first (bind
 * them once with nudge_seg_bind).  Their windows count from now.  Each
 * field is a correlated subquery over the events (contact_id, type, at)
 * index, the predictions one primary key lookup in predictions for all
 * (their REAL values: see nudge_computed_decimals), so that loading the
 * contact stays the one query it was.  Errors: EX_OSERR, EX_USAGE.
 */
int nudge_computed_contact_sql(int64_t now, const unsigned char *use,
    nudge_seg *seg, int *id_param, nudge_err *err);

#endif
