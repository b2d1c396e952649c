/*-------------------------------------------------------------------------
 *
 * base64.c
 *		Unpadded, strictly decoded base64url on top of OpenSSL's base64.
 *
 * Independent of PostgreSQL (libc and libcrypto only), so that it can be
 * unit tested and fuzzed standalone.  See base64.h for the decoding rules.
 *
 * src/lib/base64.c
 *
 *-------------------------------------------------------------------------
 */
#include "base64.h"

#include <string.h>

#include <openssl/evp.h>

/* Input bytes encoded per EVP_EncodeBlock call: whole groups, an int length. */
#define BASE64_CHUNK (3 * 1024)

/* Encodes len bytes as unpadded base64url into out (NUL-terminated); returns the length. */
size_t
base64url_encode(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t		whole = len - len % 3;
	size_t		rem = len % 3;
	size_t		o = 0;
	size_t		i;

	for (i = 0; i < whole; i += BASE64_CHUNK)
	{
		size_t		n = whole - i < BASE64_CHUNK ? whole - i : BASE64_CHUNK;

		o += EVP_EncodeBlock((unsigned char *) out + o, p + i, (int) n);
	}
	if (rem > 0)
	{
		unsigned char last[5];

		/* "xx==" or "xxx=": keep the characters, drop the padding */
		EVP_EncodeBlock(last, p + whole, (int) rem);
		memcpy(out + o, last, rem + 1);
		o += rem + 1;
	}
	out[o] = '\0';
	for (i = 0; i < o; i++)
	{
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return o;
}

/* The standard-alphabet character for a base64url one, or 0 if it is not in the alphabet. */
static unsigned char
base64url_to_std(char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return (unsigned char) c;
	if (c == '-')
		return '+';
	if (c == '_')
		return '/';
	return 0;
}

/* Decodes canonical unpadded base64url; false if the input is not that. */
bool
base64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	size_t		o = 0;
	size_t		i;

	if (len % 4 == 1)
		return false;			/* a lone character encodes no whole byte */
	for (i = 0; i < len; i += 4)
	{
		size_t		n = len - i < 4 ? len - i : 4;
		unsigned char group[4];
		unsigned char bytes[3];
		size_t		j;

		for (j = 0; j < 4; j++)
		{
			group[j] = j < n ? base64url_to_std(in[i + j]) : '=';
			if (group[j] == 0)
				return false;
		}
		if (EVP_DecodeBlock(bytes, group, 4) != 3)
			return false;
		if (n < 4)
		{
			unsigned char again[5];

			/* the unused low bits of the last character must be zero */
			EVP_EncodeBlock(again, bytes, (int) (n - 1));
			if (memcmp(again, group, n) != 0)
				return false;
		}
		memcpy(out + o, bytes, n - 1);
		o += n - 1;
	}
	*out_len = o;
	return true;
}
