/* bounce: reasons, classes, and the classifier for failures that no
 * parser has read (see bounce.h). */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"

#define H NUDGE_BOUNCE_HARD
#define S NUDGE_BOUNCE_SOFT
#define O NUDGE_BOUNCE_SENDER
#define N NUDGE_BOUNCE_NONE

/* Sisimai 4's reasons (Sisimai::Reason), in its order of names.  The
 * hard ones are those Sisimai itself calls hard bounces. */
static const nudge_bounce_reason reasons[] = {
	{ "authfailure", O, "SPF, DKIM or DMARC check of our mail failed" },
	{ "badreputation", O, "our sending IP or domain has a poor reputation" },
	{ "blocked", O, "our sending IP or domain is blocked or blocklisted" },
	{ "contenterror", O, "the message's content or format was refused" },
	{ "delivered", N, "delivered" },
	{ "exceedlimit", S, "the message exceeds the recipient's size limit" },
	{ "expired", S, "delivery was tried until it timed out" },
	{ "feedback", N, "a complaint (feedback loop report)" },
	{ "filtered", S, "refused by the recipient's own filter" },
	{ "hasmoved", H, "the address has moved" },
	{ "hostunknown", H, "the recipient's domain does not exist" },
	{ "mailboxfull", S, "the mailbox is full" },
	{ "mailererror", S, "the recipient's mail program failed" },
	{ "mesgtoobig", O, "our message is too big" },
	{ "networkerror", S, "a network or DNS error on the way" },
	{ "norelaying", O, "relaying refused: our set-up" },
	{ "notaccept", H, "the domain accepts no mail (null MX)" },
	{ "notcompliantrfc", O, "our message does not follow the RFCs" },
	{ "onhold", S, "held: the cause could not be decided" },
	{ "policyviolation", O, "refused by the receiver's policy" },
	{ "rejected", O, "our envelope sender was refused" },
	{ "requireptr", O, "our sending IP has no reverse DNS" },
	{ "securityerror", O, "authentication or security check failed" },
	{ "spamdetected", O, "our message was judged to be spam" },
	{ "speeding", O, "we sent too fast" },
	{ "suspend", S, "the mailbox is suspended or disabled" },
	{ "syntaxerror", O, "an SMTP syntax error on our side" },
	{ "systemerror", S, "an error on the receiving system" },
	{ "systemfull", S, "the receiving system is out of space" },
	{ "toomanyconn", O, "we opened too many connections" },
	{ "undefined", S, "a failure nothing could name" },
	{ "userunknown", H, "the mailbox does not exist" },
	{ "vacation", N, "an automatic vacation reply" },
	{ "virusdetected", O, "our message was judged to carry a virus" },
};

#undef H
#undef S
#undef O
#undef N

const nudge_bounce_reason *
nudge_bounce_reasons(unsigned *n)
{
	*n = (unsigned)(sizeof reasons / sizeof reasons[0]);
	return reasons;
}

const nudge_bounce_reason *
nudge_bounce_reason_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcasecmp(reasons[i].name, name) == 0)
			return &reasons[i];
	return NULL;
}

const char *
nudge_bounce_class_name(nudge_bounce_class c)
{
	switch (c) {
	case NUDGE_BOUNCE_HARD: return "hard";
	case NUDGE_BOUNCE_SOFT: return "soft";
	case NUDGE_BOUNCE_SENDER: return "sender";
	case NUDGE_BOUNCE_NONE: break;
	}
	return "none";
}

nudge_bounce_class
nudge_bounce_class_of(const nudge_bounce_reason *r, int permanent)
{
	if (r == NULL)
		return NUDGE_BOUNCE_SOFT;
	if (r->cls == NUDGE_BOUNCE_HARD && !permanent)
		return NUDGE_BOUNCE_SOFT;
	return r->cls;
}

/* Whether text holds any of words, ignoring case. */
static int
has(const char *text, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcasestr(text, *words) != NULL)
			return 1;
	return 0;
}

/* Words in a reply that name our own fault, most specific first. */
static const struct {
	const char *reason;
	const char *const words[12];
} sender_words[] = {
	{ "authfailure", { "spf", "dkim", "dmarc", "not authenticated",
	    "unauthenticated", "authentication fail", "sender verify",
	    NULL } },
	{ "blocked", { "spamhaus", "blocklist", "blacklist", "block list",
	    "black list", "dnsbl", "rbl", "spamcop", "barracuda",
	    "sorbs", "listed at", NULL } },
	{ "badreputation", { "reputation", NULL } },
	{ "requireptr", { "reverse dns", "ptr record", "no ptr",
	    "rdns", NULL } },
	{ "virusdetected", { "virus", "malware", NULL } },
	{ "spamdetected", { "spam", "junk mail", "bulk mail", NULL } },
	{ "toomanyconn", { "too many connections", "too many concurrent",
	    "connection limit", NULL } },
	{ "speeding", { "rate limit", "too many messages", "sending rate",
	    "try again later", "temporarily deferred", NULL } },
	{ "norelaying", { "relay access denied", "relaying denied",
	    "not permitted to relay", "unable to relay", NULL } },
	{ "mesgtoobig", { "message size", "message too large",
	    "message is too large", "too big", NULL } },
	{ "policyviolation", { "policy", "prohibited", NULL } },
	{ "blocked", { "blocked", "your ip", "ip address", "client host",
	    "access denied", NULL } },
};

/* Words that name a dead or a full mailbox. */
static const char *const unknown_words[] = { "user unknown",
	"unknown user", "no such user", "no such mailbox", "no such recipient",
	"unknown recipient", "recipient unknown", "invalid recipient",
	"invalid mailbox", "mailbox not found", "mailbox unavailable",
	"does not exist", "doesn't exist", "not exist", "no mailbox",
	"user not found", "address not found", "recipient not found",
	"unrouteable address", "unknown address", "no longer", NULL };
static const char *const host_words[] = { "host not found",
	"host unknown", "domain not found", "no such domain",
	"domain does not exist", "nxdomain", "unrouteable domain", NULL };
static const char *const full_words[] = { "mailbox full", "mailbox is full",
	"quota", "over quota", "insufficient storage", "mailbox size limit",
	NULL };
static const char *const suspend_words[] = { "disabled", "suspended",
	"inactive", "deactivated", NULL };

const nudge_bounce_reason *
nudge_bounce_classify(const char *status, int code, const char *text,
    int *permanent)
{
	int cls = 0, subj = -1, det = -1;
	size_t i;

	if (status != NULL && status[0] >= '2' && status[0] <= '5' &&
	    status[1] == '.') {
		char *e;

		cls = status[0] - '0';
		subj = (int)strtol(status + 2, &e, 10);
		det = *e == '.' ? (int)strtol(e + 1, NULL, 10) : -1;
	} else if (code >= 200 && code < 600)
		cls = code / 100;
	if (code >= 400 && code < 600 && cls == 0)
		cls = code / 100;
	*permanent = cls == 5;
	if (text == NULL)
		text = "";
	if (cls == 2)
		return nudge_bounce_reason_find("delivered");
	for (i = 0; i < sizeof sender_words / sizeof sender_words[0]; i++)
		if (has(text, sender_words[i].words))
			return nudge_bounce_reason_find(sender_words[i].reason);
	switch (subj * 100 + det) {
	case 101: case 103: return nudge_bounce_reason_find("userunknown");
	case 102: case 104: return nudge_bounce_reason_find("hostunknown");
	case 106: return nudge_bounce_reason_find("hasmoved");
	case 110: return nudge_bounce_reason_find("notaccept");
	case 201: return nudge_bounce_reason_find("suspend");
	case 202: case 302: return nudge_bounce_reason_find("mailboxfull");
	case 203: case 304: return nudge_bounce_reason_find("mesgtoobig");
	case 301: return nudge_bounce_reason_find("systemfull");
	case 404: return nudge_bounce_reason_find("hostunknown");
	case 407: return nudge_bounce_reason_find("expired");
	case 701: break;       /* "delivery not authorised": read the text */
	case 723: case 724: case 725: case 726: case 727:
		return nudge_bounce_reason_find("authfailure");
	default:
		break;
	}
	if (has(text, full_words))
		return nudge_bounce_reason_find("mailboxfull");
	if (has(text, host_words))
		return nudge_bounce_reason_find("hostunknown");
	if (has(text, unknown_words))
		return nudge_bounce_reason_find("userunknown");
	if (has(text, suspend_words))
		return nudge_bounce_reason_find("suspend");
	if (subj == 7)
		return nudge_bounce_reason_find(det == 1 ? "rejected" :
		    "securityerror");
	if (subj == 4)
		return nudge_bounce_reason_find("networkerror");
	if (subj == 3)
		return nudge_bounce_reason_find("systemerror");
	return nudge_bounce_reason_find("undefined");
}
