/*-------------------------------------------------------------------------
 *
 * sha1.c
 *		SHA-1 message digest, implemented from RFC 3174 / FIPS 180-4.
 *
 * Pure C (libc only), independent of PostgreSQL, so that it can be unit
 * tested and fuzzed standalone.
 *
 * src/lib/sha1.c
 *
 *-------------------------------------------------------------------------
 */
#include "sha1.h"

#include <string.h>

/* Rotates a 32-bit word left by n bits (0 < n < 32). */
static inline uint32_t
sha1_rotl(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

/* Processes one 64-byte block into the hash state. */
static void
sha1_block(Sha1Context *ctx, const unsigned char *blk)
{
	uint32_t	w[80];
	uint32_t	a,
				b,
				c,
				d,
				e;
	int			t;

	for (t = 0; t < 16; t++)
		w[t] = ((uint32_t) blk[t * 4] << 24) |
			((uint32_t) blk[t * 4 + 1] << 16) |
			((uint32_t) blk[t * 4 + 2] << 8) |
			((uint32_t) blk[t * 4 + 3]);
	for (t = 16; t < 80; t++)
		w[t] = sha1_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

	a = ctx->h[0];
	b = ctx->h[1];
	c = ctx->h[2];
	d = ctx->h[3];
	e = ctx->h[4];

	for (t = 0; t < 80; t++)
	{
		uint32_t	f,
					k,
					tmp;

		if (t < 20)
		{
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		}
		else if (t < 40)
		{
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		}
		else if (t < 60)
		{
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		}
		else
		{
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		tmp = sha1_rotl(a, 5) + f + e + w[t] + k;
		e = d;
		d = c;
		c = sha1_rotl(b, 30);
		b = a;
		a = tmp;
	}

	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
	ctx->h[4] += e;
}

/* Starts a new digest computation. */
void
sha1_init(Sha1Context *ctx)
{
	ctx->h[0] = 0x67452301;
	ctx->h[1] = 0xEFCDAB89;
	ctx->h[2] = 0x98BADCFE;
	ctx->h[3] = 0x10325476;
	ctx->h[4] = 0xC3D2E1F0;
	ctx->total_len = 0;
	ctx->block_len = 0;
}

/* Adds len bytes of data to the digest. */
void
sha1_update(Sha1Context *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->total_len += len;

	if (ctx->block_len > 0)
	{
		size_t		take = SHA1_BLOCK_LENGTH - ctx->block_len;

		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->block_len, p, take);
		ctx->block_len += take;
		p += take;
		len -= take;
		if (ctx->block_len < SHA1_BLOCK_LENGTH)
			return;
		sha1_block(ctx, ctx->block);
		ctx->block_len = 0;
	}

	while (len >= SHA1_BLOCK_LENGTH)
	{
		sha1_block(ctx, p);
		p += SHA1_BLOCK_LENGTH;
		len -= SHA1_BLOCK_LENGTH;
	}

	if (len > 0)
	{
		memcpy(ctx->block, p, len);
		ctx->block_len = len;
	}
}

/* Finishes the digest and writes 20 bytes to out. */
void
sha1_final(Sha1Context *ctx, unsigned char out[SHA1_DIGEST_LENGTH])
{
	uint64_t	bits = ctx->total_len * 8;
	int			i;

	ctx->block[ctx->block_len++] = 0x80;
	if (ctx->block_len > SHA1_BLOCK_LENGTH - 8)
	{
		memset(ctx->block + ctx->block_len, 0, SHA1_BLOCK_LENGTH - ctx->block_len);
		sha1_block(ctx, ctx->block);
		ctx->block_len = 0;
	}
	memset(ctx->block + ctx->block_len, 0, SHA1_BLOCK_LENGTH - 8 - ctx->block_len);
	for (i = 0; i < 8; i++)
		ctx->block[SHA1_BLOCK_LENGTH - 1 - i] = (unsigned char) (bits >> (8 * i));
	sha1_block(ctx, ctx->block);

	for (i = 0; i < 5; i++)
	{
		out[i * 4] = (unsigned char) (ctx->h[i] >> 24);
		out[i * 4 + 1] = (unsigned char) (ctx->h[i] >> 16);
		out[i * 4 + 2] = (unsigned char) (ctx->h[i] >> 8);
		out[i * 4 + 3] = (unsigned char) ctx->h[i];
	}
	memset(ctx->block, 0, sizeof(ctx->block));
	ctx->block_len = 0;
}

/* One-shot digest of len bytes of data. */
void
sha1(const void *data, size_t len, unsigned char out[SHA1_DIGEST_LENGTH])
{
	Sha1Context ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, data, len);
	sha1_final(&ctx, out);
}
