/* sms: what an SMS text costs -- GSM-7 or UCS-2, and how many segments
 * of a concatenated message it takes (3GPP TS 23.038, 23.040). */
#ifndef NUDGE_SMS_H
#define NUDGE_SMS_H

#include <stddef.h>

typedef struct nudge_sms_count {
	int ucs2;		/* 0: GSM-7; 1: UCS-2 (a character outside
				   GSM-7's tables) */
	size_t units;		/* septets (an extension character such as
				   '{' or the euro sign is 2), or UTF-16
				   code units */
	int segments;		/* 1 up to 160 septets or 70 units; beyond,
				   parts of 153 or 67 (a part never splits
				   an escape or a surrogate pair) */
} nudge_sms_count;

/* Counts the UTF-8 text s[0..n).  Bytes that are not UTF-8 count as
 * UCS-2 characters. */
void nudge_sms_measure(const char *s, size_t n, nudge_sms_count *c);

/* "GSM-7" or "UCS-2". */
const char *nudge_sms_encoding(const nudge_sms_count *c);

#endif
