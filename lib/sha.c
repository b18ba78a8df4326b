/* sha: SHA-1 and SHA-256 (FIPS 180-4) and their HMAC (RFC 2104). */
#include "sha.h"

#include <stdint.h>
#include <string.h>

/* One hash being computed: both functions take 64-byte blocks and end
 * with the same padding (a 1 bit, zeros, the length in bits, big-endian),
 * so they share the buffering and differ in their block function. */
struct ctx {
	uint32_t h[8];
	unsigned char buf[64];
	size_t nbuf;
	uint64_t len;          /* bytes so far */
	int sha1;
};

static uint32_t
rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static uint32_t
ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
block1(uint32_t *h, const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = be32(p + 4 * i);
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void
block256(uint32_t *h, const unsigned char *p)
{
	uint32_t w[64], v[8], s0, s1, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = be32(p + 4 * i);
	for (; i < 64; i++) {
		s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3;
		s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10;
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof v);
	for (i = 0; i < 64; i++) {
		s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
		t1 = v[7] + s1 + ((v[4] & v[5]) ^ (~v[4] & v[6])) + k256[i] +
		    w[i];
		s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
		t2 = s0 + ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof *v);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += v[i];
}

static void
init(struct ctx *c, int sha1)
{
	static const uint32_t h1[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
		0x10325476, 0xc3d2e1f0 };
	static const uint32_t h256[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
		0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memset(c, 0, sizeof *c);
	c->sha1 = sha1;
	if (sha1)
		memcpy(c->h, h1, sizeof h1);
	else
		memcpy(c->h, h256, sizeof h256);
}

static void
update(struct ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k;

	c->len += n;
	while (n > 0) {
		if (c->nbuf == 0 && n >= 64) {
			(c->sha1 ? block1 : block256)(c->h, p);
			p += 64;
			n -= 64;
			continue;
		}
		k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
		memcpy(c->buf + c->nbuf, p, k);
		c->nbuf += k;
		p += k;
		n -= k;
		if (c->nbuf == 64) {
			(c->sha1 ? block1 : block256)(c->h, c->buf);
			c->nbuf = 0;
		}
	}
}

/* Pads, and writes the digest (20 or 32 bytes) into md. */
static void
final(struct ctx *c, unsigned char *md)
{
	uint64_t bits = c->len * 8;
	unsigned char pad[72];
	size_t n, i;

	n = (c->nbuf < 56 ? 56 : 120) - c->nbuf;
	memset(pad, 0, sizeof pad);
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
	update(c, pad, n + 8);
	for (i = 0; i < (c->sha1 ? 5u : 8u); i++) {
		md[4 * i] = (unsigned char)(c->h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		md[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* One hash of p[0..n) with sha1 or SHA-256, as the key of an HMAC
 * (key, key[0..keylen) first; NULL: none) would start it. */
static void
hash(int sha1, const unsigned char *key, size_t keylen, const void *p,
    size_t n, unsigned char *md)
{
	struct ctx c;

	init(&c, sha1);
	if (key != NULL)
		update(&c, key, keylen);
	update(&c, p, n);
	final(&c, md);
	explicit_bzero(&c, sizeof c);
}

void
nudge_sha1(const void *p, size_t n, unsigned char md[NUDGE_SHA1_LEN])
{
	hash(1, NULL, 0, p, n, md);
}

void
nudge_sha256(const void *p, size_t n, unsigned char md[NUDGE_SHA256_LEN])
{
	hash(0, NULL, 0, p, n, md);
}

int
nudge_sha_hmac(int mdlen, const void *key, size_t keylen, const void *msg,
    size_t n, unsigned char *md)
{
	unsigned char k[64], pad[64], inner[NUDGE_SHA256_LEN];
	int sha1 = mdlen == NUDGE_SHA1_LEN;
	size_t i;

	if (mdlen != NUDGE_SHA1_LEN && mdlen != NUDGE_SHA256_LEN)
		return -1;
	/* a key longer than a block is hashed first (RFC 2104 2.) */
	memset(k, 0, sizeof k);
	if (keylen > sizeof k)
		(sha1 ? nudge_sha1 : nudge_sha256)(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	hash(sha1, pad, sizeof pad, msg, n, inner);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	hash(sha1, pad, sizeof pad, inner, (size_t)mdlen, md);
	explicit_bzero(k, sizeof k);
	explicit_bzero(pad, sizeof pad);
	explicit_bzero(inner, sizeof inner);
	return 0;
}
