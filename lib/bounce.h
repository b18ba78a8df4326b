/* bounce: why a message came back, in Sisimai's vocabulary, and what that
 * means for the address.  One table of reasons, each in one of three
 * classes:
 *   hard    the address is dead: suppress it at once;
 *   soft    the address may work later: count it; suppress only after
 *           several within a period with no delivery between them;
 *   sender  the fault is ours (our IP on a blocklist, SPF/DKIM/DMARC,
 *           content judged spam, rate limits): never suppress the
 *           recipient; count it against the campaign and sending domain.
 * Bounces read by Sisimai keep Sisimai's reason; everything else (nudge's
 * own RFC 3464 parser, provider webhooks, replies during send) is
 * classified here from the RFC 3463 enhanced status code and the reply
 * text.  nudge-event(1) carries the table. */
#ifndef NUDGE_BOUNCE_H
#define NUDGE_BOUNCE_H

/* The defaults of the configuration's bounces: (nudge-config(5)). */
#define NUDGE_BOUNCE_SOFT_LIMIT 5               /* soft_limit */
#define NUDGE_BOUNCE_SOFT_WITHIN (30 * 86400)   /* soft_within */
#define NUDGE_BOUNCE_MAX_SENDER 0.02            /* max_sender_side */

typedef enum nudge_bounce_class {
	NUDGE_BOUNCE_NONE,      /* not a bounce (delivered, vacation, ...) */
	NUDGE_BOUNCE_HARD,
	NUDGE_BOUNCE_SOFT,
	NUDGE_BOUNCE_SENDER
} nudge_bounce_class;

typedef struct nudge_bounce_reason {
	const char *name;       /* Sisimai's reason, e.g. "userunknown" */
	nudge_bounce_class cls; /* its class for a permanent (5xx) failure */
	const char *what;       /* a few words for people */
} nudge_bounce_reason;

/* The reason called name, or NULL when nudge does not know it. */
const nudge_bounce_reason *nudge_bounce_reason_find(const char *name);

/* The table, n entries, for listings and documentation. */
const nudge_bounce_reason *nudge_bounce_reasons(unsigned *n);

/* "hard", "soft", "sender" or "none". */
const char *nudge_bounce_class_name(nudge_bounce_class c);

/* The class of a bounce whose reason is r, given whether the failure
 * was permanent (a 5xx reply or 5.x.x status; Sisimai's hardbounce):
 * a hard reason that was only temporary is soft. */
nudge_bounce_class nudge_bounce_class_of(const nudge_bounce_reason *r,
    int permanent);

/*
 * Classifies a failure nobody has read yet: status is the enhanced status
 * code ("5.1.1", may be NULL or ""), code the basic reply code (550; 0 when
 * unknown), text the diagnostic text (may be NULL).  Words naming our own
 * fault (blocklists, SPF/DKIM/DMARC, spam, policy, rate limits) win over
 * the status code, so that "550 5.1.1 ... listed at Spamhaus" never
 * suppresses the recipient; then the status code; then words naming a
 * dead address.  A permanent failure with nothing to go on is
 * "undefined" (soft): nudge suppresses only what it can name.  Never
 * returns NULL.
 */
const nudge_bounce_reason *nudge_bounce_classify(const char *status,
    int code, const char *text, int *permanent);

#endif
