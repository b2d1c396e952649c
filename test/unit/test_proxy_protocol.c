/*
 * test_proxy_protocol.c
 *		Unit tests for the PROXY protocol header parser (proxy_protocol.c):
 *		v1 and v2 as HAProxy's specification writes them, partial input,
 *		and the malformed headers that must be refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy_protocol.h"
#include "unit.h"

/* Parses a C string as a header. */
static ProxyParseState
parse(const char *s, ProxyHeader *h)
{
	return proxy_parse((const uint8_t *) s, strlen(s), h);
}

/* v1: TCP4, TCP6, UNKNOWN, trailing request bytes, every prefix incomplete. */
static void
test_v1(void)
{
	ProxyHeader h;
	const char *tcp4 = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
	const uint8_t want4[4] = {192, 0, 2, 7};

	CHECK_INT(parse(tcp4, &h), PROXY_DONE);
	CHECK_INT(h.family, 4);
	CHECK(memcmp(h.src, want4, 4) == 0);
	CHECK_INT(h.src_port, 56324);
	CHECK_INT(h.dst_port, 443);
	CHECK_INT(h.length, strlen("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"));

	for (size_t n = 1; n < h.length; n++)
		CHECK_INT(proxy_parse((const uint8_t *) tcp4, n, &h), PROXY_INCOMPLETE);

	CHECK_INT(parse("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n", &h), PROXY_DONE);
	CHECK_INT(h.family, 6);
	CHECK_INT(h.src[0], 0x20);
	CHECK_INT(h.src[15], 1);
	CHECK_INT(h.dst_port, 65535);

	CHECK_INT(parse("PROXY UNKNOWN\r\n", &h), PROXY_DONE);
	CHECK_INT(h.family, 0);
	CHECK_INT(parse("PROXY UNKNOWN ::1 ::1 1 2\r\n", &h), PROXY_DONE);
	CHECK_INT(h.family, 0);
}

/* v1 headers that must be refused, each with a reason. */
static void
test_v1_bad(void)
{
	const char *bad[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n",	/* bare LF */
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",	/* a port missing */
		"PROXY TCP4 192.0.2.7  198.51.100.1 1 2\r\n",	/* two spaces */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 \r\n",	/* trailing space */
		"PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n",	/* not an address */
		"PROXY TCP4 0300.0.2.1 198.51.100.1 1 2\r\n",	/* octal */
		"PROXY TCP4 ::1 198.51.100.1 1 2\r\n",	/* IPv6 in TCP4 */
		"PROXY TCP6 192.0.2.1 ::1 1 2\r\n",	/* IPv4 in TCP6 */
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",	/* port too big */
		"PROXY TCP4 192.0.2.7 198.51.100.1 0443 443\r\n",	/* leading zero */
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 443\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n",	/* a field too many */
		"proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",	/* lower case */
		"GET / HTTP/1.1\r\n",
		"\r\n\r\nX",			/* v2's signature broken early */
	};
	char		longline[200];
	ProxyHeader h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		ProxyParseState st = parse(bad[i], &h);

		if (st != PROXY_ERROR)
			fprintf(stderr, "accepted: %s", bad[i]);
		CHECK_INT(st, PROXY_ERROR);
		CHECK(h.error != NULL && h.error[0] != '\0');
	}
	/* a v1 line that never ends within 107 bytes */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY ", 6);
	CHECK_INT(proxy_parse((const uint8_t *) longline, sizeof(longline), &h), PROXY_ERROR);
	CHECK_INT(proxy_parse((const uint8_t *) longline, 50, &h), PROXY_INCOMPLETE);
}

/* Builds a v2 header: signature, version/command, family, length, body. */
static size_t
v2(uint8_t *out, uint8_t cmd, uint8_t fam, const uint8_t *body, size_t body_len)
{
	static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

	memcpy(out, sig, 12);
	out[12] = cmd;
	out[13] = fam;
	out[14] = (uint8_t) (body_len >> 8);
	out[15] = (uint8_t) body_len;
	memcpy(out + 16, body, body_len);
	return 16 + body_len;
}

/* v2: IPv4 and IPv6 with TLVs after them, LOCAL, partial input, bad ones. */
static void
test_v2(void)
{
	uint8_t		buf[1200];
	uint8_t		body[1100];
	ProxyHeader h;
	size_t		n;

	memset(body, 0, sizeof(body));
	body[0] = 203;
	body[1] = 0;
	body[2] = 113;
	body[3] = 9;
	body[8] = 0x1F;
	body[9] = 0x90;				/* source port 8080 */
	body[12] = 0x04;			/* a NOOP TLV of 3 bytes, skipped */
	n = v2(buf, 0x21, 0x11, body, 18);
	CHECK_INT(proxy_parse(buf, n + 5, &h), PROXY_DONE);
	CHECK_INT(h.family, 4);
	CHECK_INT(h.src[0], 203);
	CHECK_INT(h.src[3], 9);
	CHECK_INT(h.src_port, 8080);
	CHECK_INT(h.length, n);
	for (size_t k = 1; k < n; k++)
		CHECK_INT(proxy_parse(buf, k, &h), PROXY_INCOMPLETE);

	memset(body, 0, sizeof(body));
	body[15] = 1;				/* source ::1 */
	n = v2(buf, 0x21, 0x21, body, 36);
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_DONE);
	CHECK_INT(h.family, 6);
	CHECK_INT(h.src[15], 1);

	n = v2(buf, 0x20, 0x00, body, 0);	/* LOCAL */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_DONE);
	CHECK_INT(h.family, 0);
	CHECK_INT(h.length, 16);

	n = v2(buf, 0x21, 0x11, body, 8);	/* too short for IPv4 */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_ERROR);
	n = v2(buf, 0x21, 0x21, body, 20);	/* too short for IPv6 */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_ERROR);
	n = v2(buf, 0x11, 0x11, body, 12);	/* version 1 in a v2 signature */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_ERROR);
	n = v2(buf, 0x22, 0x11, body, 12);	/* command 2 */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_ERROR);
	n = v2(buf, 0x21, 0x41, body, 12);	/* family 4 */
	CHECK_INT(proxy_parse(buf, n, &h), PROXY_ERROR);
	n = v2(buf, 0x21, 0x11, body, 1100);	/* longer than read */
	CHECK_INT(proxy_parse(buf, 20, &h), PROXY_ERROR);
	buf[5] = 'X';				/* broken signature */
	CHECK_INT(proxy_parse(buf, 16, &h), PROXY_ERROR);
}

int
main(void)
{
	test_v1();
	test_v1_bad();
	test_v2();
	UNIT_DONE();
}
