/* channel: the one table of nudge's channels — each one's name, the
 * contacts column that holds a contact's address on it, the channel its
 * consent rows are kept under, and the words messages use for the
 * address.  Every module that maps a channel to any of these reads them
 * here; a new channel is a new row (and a transport). */
#ifndef NUDGE_CHANNEL_H
#define NUDGE_CHANNEL_H

enum nudge_channel_id {
	NUDGE_CH_EMAIL,
	NUDGE_CH_SMS,
	NUDGE_CH_PUSH,
	NUDGE_NCHANNELS
};

typedef struct nudge_channel {
	enum nudge_channel_id id;  /* its index in nudge_channels */
	const char *name;          /* as campaigns, events, consent and the
				      ledger name it: "sms" */
	const char *column;        /* the contacts column of the address:
				      "phone" */
	const char *consent;       /* the channel of its consent rows */
	const char *address;       /* the address in messages: "phone
				      number" */
	const char *no_address;    /* why a contact without one is skipped:
				      "no phone number" */
} nudge_channel;

/* In nudge_channel_id order: the contacts columns email, phone, push_id
 * come in this order too. */
extern const nudge_channel nudge_channels[NUDGE_NCHANNELS];

/* The names, for messages that list them. */
#define NUDGE_CHANNEL_NAMES "email, sms or push"

/* The channel called name (NULL allowed), or NULL when there is none. */
const nudge_channel *nudge_channel_find(const char *name);

#endif
