/*-------------------------------------------------------------------------
 *
 * base64.c
 *		Base64 and base64url encoding and decoding, implemented from RFC 4648.
 *
 * Pure C (libc only), independent of PostgreSQL.  See base64.h for the
 * exact (strict) decoding rules.
 *
 * src/lib/base64.c
 *
 *-------------------------------------------------------------------------
 */
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char base64_std_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Length of the padded base64 encoding of len bytes (no NUL); SIZE_MAX on overflow. */
size_t
base64_encoded_len(size_t len)
{
	size_t		groups = len / 3 + (len % 3 != 0);

	if (groups > (SIZE_MAX - 1) / 4)
		return SIZE_MAX;
	return groups * 4;
}

/* Length of the unpadded base64url encoding of len bytes (no NUL); SIZE_MAX on overflow. */
size_t
base64url_encoded_len(size_t len)
{
	size_t		full = len / 3;
	size_t		rem = len % 3;

	if (full > (SIZE_MAX - 4) / 4)
		return SIZE_MAX;
	return full * 4 + (rem == 0 ? 0 : rem + 1);
}

/* An upper bound on the bytes decoded from len characters (either alphabet). */
size_t
base64_decoded_max(size_t len)
{
	return len / 4 * 3 + 3;
}

/* Shared encoder: alphabet chooses the variant, pad says whether to emit '='. */
static size_t
base64_encode_internal(const unsigned char *in, size_t len, char *out,
					   const char *alphabet, bool pad)
{
	size_t		i = 0;
	size_t		o = 0;

	while (len - i >= 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 0x3F];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = alphabet[(v >> 6) & 0x3F];
		out[o++] = alphabet[v & 0x3F];
		i += 3;
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 0x3F];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		if (pad)
		{
			out[o++] = '=';
			out[o++] = '=';
		}
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 0x3F];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = alphabet[(v >> 6) & 0x3F];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* Encodes len bytes as padded base64 into out (NUL-terminated); returns the length. */
size_t
base64_encode(const void *in, size_t len, char *out)
{
	return base64_encode_internal(in, len, out, base64_std_alphabet, true);
}

/* Encodes len bytes as unpadded base64url into out (NUL-terminated); returns the length. */
size_t
base64url_encode(const void *in, size_t len, char *out)
{
	return base64_encode_internal(in, len, out, base64_url_alphabet, false);
}

/* Maps one character to its 6-bit value in the chosen alphabet, or -1. */
static int
base64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (url)
	{
		if (c == '-')
			return 62;
		if (c == '_')
			return 63;
	}
	else
	{
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
	}
	return -1;
}

/* Shared strict decoder for len data characters (padding already removed). */
static bool
base64_decode_internal(const char *in, size_t len, unsigned char *out,
					   size_t *out_len, bool url)
{
	size_t		i;
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	if (len % 4 == 1)
		return false;

	for (i = 0; i < len; i++)
	{
		int			v = base64_value((unsigned char) in[i], url);

		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* leftover bits of the final character must be zero (canonical form) */
	if (acc != 0)
		return false;
	*out_len = o;
	return true;
}

/* Decodes canonical padded base64; false if the input is not valid. */
bool
base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	size_t		data_len = len;

	if (len % 4 != 0)
		return false;
	if (data_len > 0 && in[data_len - 1] == '=')
		data_len--;
	if (data_len > 0 && in[data_len - 1] == '=')
		data_len--;
	return base64_decode_internal(in, data_len, out, out_len, false);
}

/* Decodes canonical unpadded base64url; false if the input is not valid. */
bool
base64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	return base64_decode_internal(in, len, out, out_len, true);
}

/* Returns a malloc'd NUL-terminated encoding of in, or NULL on allocation failure. */
char *
base64_encode_alloc(const void *in, size_t len, bool url)
{
	size_t		enc_len = url ? base64url_encoded_len(len) : base64_encoded_len(len);
	char	   *out;

	if (enc_len == SIZE_MAX)
		return NULL;
	out = malloc(enc_len + 1);
	if (out == NULL)
		return NULL;
	if (url)
		base64url_encode(in, len, out);
	else
		base64_encode(in, len, out);
	return out;
}
