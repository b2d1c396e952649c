/*
 * proxy_protocol.c
 *		Parses the PROXY protocol header, versions 1 (text) and 2 (binary),
 *		as HAProxy's specification (proxy-protocol.txt) defines them.
 *
 * v1: "PROXY TCP4|TCP6 <src> <dst> <srcport> <dstport>\r\n" or
 * "PROXY UNKNOWN ...\r\n", at most 107 bytes.  v2: a 12-byte signature,
 * version/command, family/transport, a 2-byte length, the addresses and
 * optional TLVs (skipped).  Addresses are parsed with inet_pton, which
 * accepts only the canonical dotted quad for IPv4 (no octal, no short forms).
 */
#include "proxy_protocol.h"

#include <arpa/inet.h>
#include <string.h>

#define PROXY_V1_MAX 107

static const uint8_t proxy_v2_signature[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
};

/* Sets the error and returns PROXY_ERROR. */
static ProxyParseState
proxy_fail(ProxyHeader *out, const char *why)
{
	out->error = why;
	return PROXY_ERROR;
}

/* Parses a decimal port of 1 to 5 digits up to 65535, no leading zeros; false otherwise. */
static bool
proxy_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long) (s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t) v;
	return true;
}

/* Parses an address of the family into 4 or 16 bytes; false when it is not one. */
static bool
proxy_addr(int family, const char *s, size_t len, uint8_t *addr)
{
	char		text[64];

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr) == 1;
}

/* Parses a version 1 header; buf starts with "PROXY". */
static ProxyParseState
proxy_parse_v1(const uint8_t *buf, size_t len, ProxyHeader *out)
{
	const char *s = (const char *) buf;
	const char *end;
	const char *fields[6];
	size_t		lens[6];
	int			n = 0;
	size_t		line_len;
	const char *p;

	end = memchr(s, '\n', len < PROXY_V1_MAX ? len : PROXY_V1_MAX);
	if (end == NULL)
		return len >= PROXY_V1_MAX ? proxy_fail(out, "The PROXY v1 header is longer than 107 bytes.")
			: PROXY_INCOMPLETE;
	if (end == s || end[-1] != '\r')
		return proxy_fail(out, "The PROXY v1 header does not end with CRLF.");
	line_len = (size_t) (end - 1 - s);
	out->length = (size_t) (end - s) + 1;

	/* split on single spaces */
	p = s;
	while (p < s + line_len)
	{
		const char *q = p;

		while (q < s + line_len && *q != ' ')
			q++;
		if (n == 6)
			return proxy_fail(out, "The PROXY v1 header has too many fields.");
		fields[n] = p;
		lens[n] = (size_t) (q - p);
		if (lens[n] == 0)
			return proxy_fail(out, "The PROXY v1 header has an empty field.");
		n++;
		p = q < s + line_len ? q + 1 : q;
		if (q < s + line_len && p == s + line_len)
			return proxy_fail(out, "The PROXY v1 header ends with a space.");
	}
	if (n < 2 || lens[0] != 5 || memcmp(fields[0], "PROXY", 5) != 0)
		return proxy_fail(out, "The PROXY v1 header does not start with \"PROXY \".");
	if (lens[1] == 7 && memcmp(fields[1], "UNKNOWN", 7) == 0)
	{
		out->family = 0;
		return PROXY_DONE;
	}
	if (lens[1] == 4 && memcmp(fields[1], "TCP4", 4) == 0)
		out->family = 4;
	else if (lens[1] == 4 && memcmp(fields[1], "TCP6", 4) == 0)
		out->family = 6;
	else
		return proxy_fail(out, "The PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN.");
	if (n != 6)
		return proxy_fail(out, "The PROXY v1 header needs two addresses and two ports.");
	if (!proxy_addr(out->family, fields[2], lens[2], out->src) ||
		!proxy_addr(out->family, fields[3], lens[3], out->dst))
		return proxy_fail(out, "A PROXY v1 address is not an address of its protocol.");
	if (!proxy_port(fields[4], lens[4], &out->src_port) ||
		!proxy_port(fields[5], lens[5], &out->dst_port))
		return proxy_fail(out, "A PROXY v1 port is not a number from 0 to 65535.");
	return PROXY_DONE;
}

/*
 * Reads a v2 header's addresses of the family (4 or 6): source, destination,
 * then the two ports, after the 16 bytes of the fixed part.
 */
static ProxyParseState
proxy_v2_addresses(const uint8_t *buf, size_t body, int family, ProxyHeader *out)
{
	size_t		alen = family == 4 ? 4 : 16;
	const uint8_t *ports = buf + 16 + 2 * alen;

	if (body < 2 * alen + 4)
		return proxy_fail(out, family == 4 ? "The PROXY v2 header is too short for IPv4 addresses."
						  : "The PROXY v2 header is too short for IPv6 addresses.");
	out->family = family;
	memcpy(out->src, buf + 16, alen);
	memcpy(out->dst, buf + 16 + alen, alen);
	out->src_port = (uint16_t) ((ports[0] << 8) | ports[1]);
	out->dst_port = (uint16_t) ((ports[2] << 8) | ports[3]);
	return PROXY_DONE;
}

/* Parses a version 2 header; buf starts with the signature. */
static ProxyParseState
proxy_parse_v2(const uint8_t *buf, size_t len, ProxyHeader *out)
{
	size_t		body;
	uint8_t		command;
	uint8_t		family;

	if (len < 16)
		return PROXY_INCOMPLETE;
	if ((buf[12] >> 4) != 2)
		return proxy_fail(out, "The PROXY header's version is not 2.");
	command = buf[12] & 0x0F;
	if (command > 1)
		return proxy_fail(out, "The PROXY v2 command is neither LOCAL nor PROXY.");
	family = buf[13];
	body = ((size_t) buf[14] << 8) | buf[15];
	if (16 + body > PROXY_MAX_HEADER)
		return proxy_fail(out, "The PROXY v2 header is longer than pg_dash reads.");
	if (len < 16 + body)
		return PROXY_INCOMPLETE;
	out->length = 16 + body;
	out->family = 0;
	if (command == 0)
		return PROXY_DONE;		/* LOCAL: the proxy's own connection */
	switch (family)
	{
		case 0x11:				/* TCP over IPv4 */
		case 0x12:				/* UDP over IPv4 */
			return proxy_v2_addresses(buf, body, 4, out);
		case 0x21:				/* TCP over IPv6 */
		case 0x22:				/* UDP over IPv6 */
			return proxy_v2_addresses(buf, body, 6, out);
		case 0x00:				/* UNSPEC */
		case 0x31:				/* unix stream */
		case 0x32:				/* unix datagram */
			return PROXY_DONE;
		default:
			return proxy_fail(out, "The PROXY v2 address family is not one the specification defines.");
	}
}

/* Parses a PROXY header, v1 or v2, at the start of buf. */
ProxyParseState
proxy_parse(const uint8_t *buf, size_t len, ProxyHeader *out)
{
	size_t		n;

	memset(out, 0, sizeof(*out));
	/* decide as soon as the bytes so far fit neither signature */
	n = len < 12 ? len : 12;
	if (memcmp(buf, proxy_v2_signature, n) == 0)
		return len < 12 ? PROXY_INCOMPLETE : proxy_parse_v2(buf, len, out);
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) == 0)
		return len < 6 ? PROXY_INCOMPLETE : proxy_parse_v1(buf, len, out);
	return proxy_fail(out, "The connection does not start with a PROXY protocol header.");
}
