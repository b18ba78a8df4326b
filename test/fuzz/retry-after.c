/* Fuzz target retry-after: an HTTP header line read as Retry-After
 * (delay-seconds or an HTTP date) by the transport.  The wait is -1
 * (not one) or within [0, 15 min]. */
#include "fuzz.h"

#include "transport.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long ms;

	if (size > 4096)
		return 0;
	/* ending at an unreadable page: a read past the end faults */
	ms = nudge_transport_retry_after(fuzz_guarded(data, size), size,
	    FUZZ_NOW);
	CHECK(ms == -1 || (ms >= 0 && ms <= 15L * 60 * 1000));
	return 0;
}
