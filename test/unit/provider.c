/* provider, sms: JSON paths into provider answers, the answer rules, the
 * escaping of each place a value goes, and SMS segment counting. */
#include <stdio.h>
#include <string.h>

#include "provider.h"
#include "sms.h"
#include "tap.h"

static const char *
path(const char *json, const char *p)
{
	static char out[256];

	if (nudge_json_path(json, strlen(json), p, out, sizeof out) != 0)
		return "(none)";
	return out;
}

static const char *
count(const char *text)
{
	static char out[64];
	nudge_sms_count c;

	nudge_sms_measure(text, strlen(text), &c);
	snprintf(out, sizeof out, "%s %zu %d", nudge_sms_encoding(&c), c.units,
	    c.segments);
	return out;
}

static const char *
repeat(const char *s, int n)
{
	static char out[4096];
	int i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(out, s);
	return out;
}

int
main(void)
{
	const char *pw = "{\"status_code\": 200, \"status_message\": \"OK\","
	    " \"response\": {\"Messages\": [\"PW-1\", \"PW-2\"]}}";
	nudge_provider p;
	char id[64], detail[128];

	is_str(path("{\"sid\":\"SM1\"}", "sid"), "SM1", "a key");
	is_str(path(pw, "response.Messages.1"), "PW-2", "keys and an index");
	is_str(path(pw, "response.Messages.2"), "(none)", "past the end");
	is_str(path(pw, "status_code"), "200", "a number as written");
	is_str(path("{\"a\": {\"b\": [1, {\"c\": \"x\\\"y\\u05d0\"}]}}",
	    "a.b.1.c"), "x\"y\xd7\x90", "escapes and \\u decoded");
	is_str(path("{\"n\": \"\\ud83d\\ude00 \\ud83d!\"}", "n"),
	    "\xf0\x9f\x98\x80 ?!", "a surrogate pair is one character, a "
	    "lone surrogate a ?");
	is_str(path("{\"id\": null}", "id"), "(none)", "null is no value");
	is_str(path("{\"sid\": \"SM1\"", "sid"), "SM1",
	    "a cut answer still yields what came before the cut");
	is_str(path("not json", "sid"), "(none)", "not JSON");
	is_str(path("{\"x\": [1, 2], \"sid\": \"S\"}", "sid"), "S",
	    "skips arrays on the way");

	memset(&p, 0, sizeof p);
	p.id_path = "id";
	p.error_path = "errors.0";
	ok(nudge_provider_answer(&p, 200, "{\"id\": \"os-1\"}", 14, id,
	    sizeof id, detail, sizeof detail) == 1 && strcmp(id, "os-1") == 0,
	    "2xx with an id: sent");
	ok(nudge_provider_answer(&p, 200, "{\"id\": \"\", \"errors\": "
	    "[\"All included players are not subscribed\"]}", 66, id, sizeof id,
	    detail, sizeof detail) == 0, "2xx with an error and no id: failed");
	is_str(detail, "HTTP 200: All included players are not subscribed",
	    "the error kept");
	ok(nudge_provider_answer(&p, 503, "<html>", 6, id, sizeof id, detail,
	    sizeof detail) == 0, "503: not sent");
	is_str(detail, "HTTP 503", "a status without a JSON error");

	is_str(count("hello"), "GSM-7 5 1", "ASCII is GSM-7");
	is_str(count(repeat("a", 160)), "GSM-7 160 1", "160 septets: 1");
	is_str(count(repeat("a", 161)), "GSM-7 161 2", "161: 2 parts");
	is_str(count(repeat("a", 306)), "GSM-7 306 2", "306 = 2 x 153");
	is_str(count(repeat("a", 307)), "GSM-7 307 3", "307: 3 parts");
	is_str(count("\xe2\x82\xac{}[]"), "GSM-7 10 1",
	    "the extension table counts twice");
	is_str(count(repeat("\xc3\xa9", 10)), "GSM-7 10 1",
	    "e acute is in the GSM alphabet");
	is_str(count("`"), "UCS-2 1 1", "a backquote is not");
	is_str(count(repeat("\xd7\x90", 70)), "UCS-2 70 1", "70 Hebrew: 1");
	is_str(count(repeat("\xd7\x90", 71)), "UCS-2 71 2", "71: 2 parts");
	is_str(count(repeat("\xd7\x90", 135)), "UCS-2 135 3",
	    "135 = 2 x 67 + 1: 3 parts");
	is_str(count(repeat("\xf0\x9f\x98\x80", 35)), "UCS-2 70 1",
	    "an emoji is two UTF-16 units");
	is_str(count(repeat("a\xf0\x9f\x98\x80", 23)), "UCS-2 69 1",
	    "69 units: 1");
	is_str(count(repeat("{", 80)), "GSM-7 160 1",
	    "80 escapes fill one message");
	{
		char two[512];

		snprintf(two, sizeof two, "aa%s", repeat("{", 152));
		is_str(count(two), "GSM-7 306 3", "an escape pair never "
		    "splits: 2 + 150, 152, 2 septets, not 2 x 153");
	}
	{
		/* basic auth with a secret long enough that a growing
		 * buffer would move under the base64 reading it */
		nudge_provider *tw = NULL;
		nudge_err e;

		ok(nudge_provider_load("samples/providers/twilio.yaml", &tw,
		    &e) == 0 && nudge_provider_bind(tw, "AC1",
		    "TwilioTok3n-XYZ-0123456789abcdef", NULL, &e) == 0,
		    "twilio bound");
		is_str(tw != NULL && tw->authline != NULL ? tw->authline :
		    "", "Authorization: Basic QUMxOlR3aWxpb1RvazNuLVhZWi0wMTIz"
		    "NDU2Nzg5YWJjZGVm", "basic auth: base64 of user:secret");
		nudge_provider_free(tw);
	}
	return done_testing();
}
