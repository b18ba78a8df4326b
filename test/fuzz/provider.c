/* Fuzz target provider: a provider's HTTP answer read for the message id
 * and the error, with the paths of the sample profiles (the first byte
 * picks one, and the status) or with a path from the input (after the
 * first byte, up to a NUL).  The body is handed over without a NUL after
 * it and ending at an unreadable page, so that a read past its end
 * faults. */
#include "fuzz.h"

#include "provider.h"

static const char *const paths[][2] = {
	{ "sid", "message" },			/* twilio */
	{ "message_uuid.0", "error" },		/* plivo */
	{ "id", "errors.0" },			/* onesignal */
	{ "response.Messages.0", "status_message" }, /* pushwoosh */
	{ "id", NULL },				/* ntfy */
	{ NULL, "error" },
	{ NULL, NULL },
	{ "a.0.b.1", "a.0.c" },
};
static const int statuses[] = { 200, 201, 202, 400, 404, 429, 500, 503 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nudge_provider p = { 0 };
	char id[256], detail[256], small[8], *path = NULL;
	const char *body;
	const char *nul;
	size_t len, k;
	int ok, status;

	if (size < 1 || size > 65536)
		return 0;
	k = data[0] & 7;
	status = statuses[(data[0] >> 3) & 7];
	data++;
	size--;
	if ((data[-1] & 0xc0) == 0xc0 &&
	    (nul = memchr(data, '\0', size)) != NULL) {
		k = (size_t)(nul - (const char *)data);
		CHECK((path = malloc(k + 1)) != NULL);
		memcpy(path, data, k);
		path[k] = '\0';
		data += k + 1;
		size -= k + 1;
		p.id_path = path;
		p.error_path = path;
	} else {
		p.id_path = (char *)(uintptr_t)paths[k][0];
		p.error_path = (char *)(uintptr_t)paths[k][1];
	}
	len = size;
	body = fuzz_guarded(data, len);
	ok = nudge_provider_answer(&p, status, body, len, id, sizeof id,
	    detail, sizeof detail);
	CHECK(memchr(id, '\0', sizeof id) != NULL);
	CHECK(memchr(detail, '\0', sizeof detail) != NULL);
	CHECK(!ok || (status >= 200 && status < 300));
	CHECK(ok || (id[0] == '\0' && strncmp(detail, "HTTP ", 5) == 0));
	if (p.id_path != NULL &&
	    nudge_json_path(body, len, p.id_path, small, sizeof small) == 0)
		CHECK(memchr(small, '\0', sizeof small) != NULL);
	(void)nudge_provider_retryable(&p, status);
	free(path);
	return 0;
}
