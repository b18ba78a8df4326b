/* Unit tests for bounce: the reason table's classes (Sisimai's hard
 * bounces are the only hard ones) and the classifier of replies that no
 * parser has read, over real reply texts of the major receivers. */
#include <stdio.h>
#include <string.h>

#include "bounce.h"
#include "tap.h"

static const struct {
	const char *status;
	int code;
	const char *text;
	const char *reason;
	const char *cls;
} cases[] = {
	/* dead addresses: hard */
	{ "5.1.1", 550, "5.1.1 <x@example.com>: Recipient address rejected: "
	    "User unknown in virtual mailbox table", "userunknown", "hard" },
	{ "5.1.1", 550, "The email account that you tried to reach does not "
	    "exist. Please try double-checking the recipient's email address",
	    "userunknown", "hard" },
	{ NULL, 550, "Requested action not taken: mailbox unavailable",
	    "userunknown", "hard" },
	{ NULL, 550, "No such user here", "userunknown", "hard" },
	{ "5.1.2", 550, "Host or domain name not found", "hostunknown", "hard" },
	{ "5.1.10", 550, "Recipient address rejected: Domain has null MX",
	    "notaccept", "hard" },
	{ "5.1.6", 550, "The recipient has moved", "hasmoved", "hard" },
	/* may work later: soft */
	{ "5.2.2", 552, "Requested mail action aborted: exceeded storage "
	    "allocation", "mailboxfull", "soft" },
	{ "4.2.2", 452, "The email account that you tried to reach is over "
	    "quota", "mailboxfull", "soft" },
	{ "5.2.1", 550, "The email account that you tried to reach is "
	    "disabled", "suspend", "soft" },
	{ "4.1.1", 450, "Recipient address rejected: User unknown",
	    "userunknown", "soft" },
	{ "4.4.7", 0, "retry timeout exceeded", "expired", "soft" },
	{ "5.0.0", 550, "", "undefined", "soft" },
	{ NULL, 0, NULL, "undefined", "soft" },
	/* our fault: sender-side, never suppresses */
	{ "5.7.1", 554, "Service unavailable; Client host [192.0.2.1] blocked "
	    "using zen.spamhaus.org", "blocked", "sender" },
	{ "5.7.1", 550, "Our system has detected that this message is likely "
	    "unsolicited mail. To reduce the amount of spam sent to Gmail, this "
	    "message has been blocked", "spamdetected", "sender" },
	{ "5.7.26", 550, "Unauthenticated email from example.com is not "
	    "accepted due to domain's DMARC policy", "authfailure", "sender" },
	{ "5.7.1", 550, "SPF check failed", "authfailure", "sender" },
	{ "5.7.1", 550, "Delivery not authorized, message refused",
	    "rejected", "sender" },
	{ "4.7.0", 421, "Too many concurrent SMTP connections from this IP",
	    "toomanyconn", "sender" },
	{ "5.7.1", 550, "Message rejected due to local policy",
	    "policyviolation", "sender" },
	{ "5.7.606", 550, "Access denied, banned sending IP [192.0.2.1]",
	    "blocked", "sender" },
	{ "5.3.4", 552, "Message size exceeds fixed maximum message size",
	    "mesgtoobig", "sender" },
	/* sender-side words win over a 5.1.1 */
	{ "5.1.1", 550, "5.1.1 rejected: listed at bl.spamcop.net",
	    "blocked", "sender" },
	/* not a bounce */
	{ "2.0.0", 250, "OK", "delivered", "none" },
};

int
main(void)
{
	const nudge_bounce_reason *r;
	unsigned n, i, hard = 0;
	size_t k;

	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int perm;
		char d[200];

		r = nudge_bounce_classify(cases[k].status, cases[k].code,
		    cases[k].text, &perm);
		snprintf(d, sizeof d, "%s %d \"%.40s\": %s", cases[k].status ?
		    cases[k].status : "-", cases[k].code, cases[k].text ?
		    cases[k].text : "", cases[k].reason);
		is_str(r->name, cases[k].reason, d);
		snprintf(d, sizeof d, "... is %s", cases[k].cls);
		is_str(nudge_bounce_class_name(nudge_bounce_class_of(r, perm)),
		    cases[k].cls, d);
	}
	r = nudge_bounce_reasons(&n);
	for (i = 0; i < n; i++)
		if (r[i].cls == NUDGE_BOUNCE_HARD) {
			hard++;
			ok(strcmp(r[i].name, "userunknown") == 0 ||
			    strcmp(r[i].name, "hostunknown") == 0 ||
			    strcmp(r[i].name, "hasmoved") == 0 ||
			    strcmp(r[i].name, "notaccept") == 0,
			    "a hard reason is one Sisimai calls hard");
		}
	is_int(hard, 4, "four hard reasons, as Sisimai has");
	for (i = 1; i < n; i++)
		ok(strcmp(r[i - 1].name, r[i].name) < 0, "the table is in order");
	ok(nudge_bounce_reason_find("UserUnknown") != NULL,
	    "reasons are found whatever their case");
	ok(nudge_bounce_reason_find("nosuchreason") == NULL,
	    "an unknown reason is NULL");
	is_str(nudge_bounce_class_name(nudge_bounce_class_of(
	    nudge_bounce_reason_find("userunknown"), 0)), "soft",
	    "a hard reason that was only temporary is soft");
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
