/* channel: the channel table; see channel.h. */
#include "channel.h"

#include <stddef.h>
#include <string.h>

const nudge_channel nudge_channels[NUDGE_NCHANNELS] = {
	{ NUDGE_CH_EMAIL, "email", "email", "email", "email address",
	    "no email address" },
	{ NUDGE_CH_SMS, "sms", "phone", "sms", "phone number",
	    "no phone number" },
	{ NUDGE_CH_PUSH, "push", "push_id", "push", "push id", "no push id" },
};

const nudge_channel *
nudge_channel_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NUDGE_NCHANNELS; i++)
		if (strcmp(nudge_channels[i].name, name) == 0)
			return &nudge_channels[i];
	return NULL;
}
