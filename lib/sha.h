/* sha: SHA-1 and SHA-256 (FIPS 180-4) and their HMAC (RFC 2104), for
 * the tokens, ledger keys, Message-IDs and webhook signatures.  Its own
 * rather than libcrypto's: loading libcrypto and its first HMAC cost a
 * nudge-track request (a CGI program: one process a click) about 8M of
 * its 11M instructions (callgrind; test/bench/README.md). */
#ifndef NUDGE_SHA_H
#define NUDGE_SHA_H

#include <stddef.h>

#define NUDGE_SHA1_LEN 20
#define NUDGE_SHA256_LEN 32

/* md = SHA-1 of p[0..n). */
void nudge_sha1(const void *p, size_t n, unsigned char md[NUDGE_SHA1_LEN]);

/* md = SHA-256 of p[0..n). */
void nudge_sha256(const void *p, size_t n,
    unsigned char md[NUDGE_SHA256_LEN]);

/* md = HMAC of msg[0..n) under key[0..keylen) with SHA-1 (mdlen 20) or
 * SHA-256 (mdlen 32).  Returns 0, or -1 for another mdlen. */
int nudge_sha_hmac(int mdlen, const void *key, size_t keylen,
    const void *msg, size_t n, unsigned char *md);

#endif
