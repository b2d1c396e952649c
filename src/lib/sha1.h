/*-------------------------------------------------------------------------
 *
 * sha1.h
 *		SHA-1 message digest (RFC 3174), pure C with no dependencies.
 *
 * Used for the WebSocket handshake (Sec-WebSocket-Accept).  SHA-1 is not
 * collision resistant; do not use it for anything security sensitive.
 *
 * src/lib/sha1.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_SHA1_H
#define PGDASH_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LENGTH	20
#define SHA1_BLOCK_LENGTH	64

typedef struct Sha1Context
{
	uint32_t	h[5];			/* intermediate hash state */
	uint64_t	total_len;		/* bytes hashed so far */
	unsigned char block[SHA1_BLOCK_LENGTH];	/* pending partial block */
	size_t		block_len;		/* bytes used in block */
} Sha1Context;

/* Starts a new digest computation. */
extern void sha1_init(Sha1Context *ctx);

/* Adds len bytes of data to the digest. */
extern void sha1_update(Sha1Context *ctx, const void *data, size_t len);

/* Finishes the digest and writes 20 bytes to out; ctx must be re-initialized before reuse. */
extern void sha1_final(Sha1Context *ctx, unsigned char out[SHA1_DIGEST_LENGTH]);

/* One-shot digest of len bytes of data. */
extern void sha1(const void *data, size_t len, unsigned char out[SHA1_DIGEST_LENGTH]);

#endif							/* PGDASH_SHA1_H */
