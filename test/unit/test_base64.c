/*
 * test_base64.c
 *		Unit tests for the base64url wrapper over OpenSSL (base64.c): the
 *		RFC 4648 vectors in the URL alphabet, and the strictness OpenSSL's
 *		own decoder lacks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "unit.h"

/* Encodes in and checks the result, its length and the round trip. */
static void
check_b64url(const void *in, size_t len, const char *want)
{
	char		out[128];
	unsigned char dec[128];
	size_t		dlen = 0;

	memset(out, 'X', sizeof(out));
	CHECK_INT(base64url_encode(in, len, out), strlen(want));
	CHECK_STR(out, want);
	CHECK_INT(BASE64URL_ENCODED_LEN(len), strlen(want));
	CHECK(base64url_decode(want, strlen(want), dec, &dlen));
	CHECK_INT(dlen, len);
	CHECK(memcmp(dec, in, len) == 0);
	CHECK(dlen <= BASE64URL_DECODED_MAX(strlen(want)));
}

/* RFC 4648 section 10 vectors without padding, and both URL characters. */
static void
test_vectors(void)
{
	const unsigned char bin[] = {0xfb, 0xff, 0xbf, 0xfe};
	const unsigned char zeros[32] = {0};

	check_b64url("", 0, "");
	check_b64url("f", 1, "Zg");
	check_b64url("fo", 2, "Zm8");
	check_b64url("foo", 3, "Zm9v");
	check_b64url("foob", 4, "Zm9vYg");
	check_b64url("fooba", 5, "Zm9vYmE");
	check_b64url("foobar", 6, "Zm9vYmFy");
	check_b64url(bin, 4, "-_-__g");
	/* a session token's size: 32 bytes, 43 characters */
	check_b64url(zeros, 32, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

/* Inputs OpenSSL's decoder accepts that are not canonical base64url. */
static void
test_strict(void)
{
	unsigned char dec[64];
	size_t		dlen;

	CHECK(base64url_decode("", 0, dec, &dlen) && dlen == 0);
	CHECK(!base64url_decode("+/+/", 4, dec, &dlen));	/* standard alphabet */
	CHECK(!base64url_decode("Zg==", 4, dec, &dlen));	/* padding */
	CHECK(!base64url_decode("Zg=", 3, dec, &dlen));
	CHECK(!base64url_decode("Z===", 4, dec, &dlen));
	CHECK(!base64url_decode("Zm9vY", 5, dec, &dlen));	/* one character left */
	CHECK(!base64url_decode("Zh", 2, dec, &dlen));	/* non-zero unused bits */
	CHECK(base64url_decode("Zm8", 3, dec, &dlen) && dlen == 2 && memcmp(dec, "fo", 2) == 0);
	CHECK(!base64url_decode("Zm9", 3, dec, &dlen));	/* non-zero unused bits */
	CHECK(!base64url_decode("Zm8=", 4, dec, &dlen));
	CHECK(!base64url_decode(" Zm9v", 5, dec, &dlen));	/* whitespace */
	CHECK(!base64url_decode("Zm9v ", 5, dec, &dlen));
	CHECK(!base64url_decode("Zm9v\n", 5, dec, &dlen));
	CHECK(!base64url_decode("Zm 9v", 5, dec, &dlen));
	CHECK(!base64url_decode("Zm9v\0A", 6, dec, &dlen));	/* NUL byte */
	CHECK(!base64url_decode("Zg==Zg", 6, dec, &dlen));	/* '=' inside */
	CHECK(!base64url_decode("Zm9v\xc3\xa9", 6, dec, &dlen));	/* non-ASCII */
}

/* Every byte string of up to 3 bytes: encode, decode, compare. */
static void
test_round_trips(void)
{
	unsigned char in[3];
	unsigned char dec[8];
	char		out[8];
	size_t		dlen;
	int			bad = 0;
	long		v;

	for (v = 0; v < (1L << 24); v += 257)
	{
		size_t		len;

		in[0] = (unsigned char) (v >> 16);
		in[1] = (unsigned char) (v >> 8);
		in[2] = (unsigned char) v;
		for (len = 1; len <= 3; len++)
		{
			size_t		n = base64url_encode(in, len, out);

			if (n != BASE64URL_ENCODED_LEN(len) || strchr(out, '=') ||
				!base64url_decode(out, n, dec, &dlen) || dlen != len ||
				memcmp(dec, in, len) != 0)
				bad++;
		}
	}
	CHECK_INT(bad, 0);
}

/* Inputs longer than one OpenSSL call encodes. */
static void
test_long(void)
{
	size_t		len = 10000;
	unsigned char *in = malloc(len);
	char	   *out = malloc(BASE64URL_ENCODED_LEN(len) + 1);
	unsigned char *dec = malloc(BASE64URL_DECODED_MAX(BASE64URL_ENCODED_LEN(len)));
	size_t		dlen = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		in[i] = (unsigned char) (i * 7 + 3);
	CHECK_INT(base64url_encode(in, len, out), BASE64URL_ENCODED_LEN(len));
	CHECK_INT(strlen(out), BASE64URL_ENCODED_LEN(len));
	CHECK(base64url_decode(out, strlen(out), dec, &dlen) && dlen == len &&
		  memcmp(dec, in, len) == 0);
	free(in);
	free(out);
	free(dec);
}

int
main(void)
{
	test_vectors();
	test_strict();
	test_round_trips();
	test_long();
	UNIT_DONE();
}
