/*
 * proxy_protocol.h
 *		The PROXY protocol header (HAProxy, versions 1 and 2) that a proxy
 *		sends before a connection's first byte to name the client.
 *
 * PostgreSQL-independent: unit-tested and fuzzed on its own.
 */
#ifndef PGDASH_PROXY_PROTOCOL_H
#define PGDASH_PROXY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest header read: v1 is at most 107 bytes, v2 16 + its TLVs. */
#define PROXY_MAX_HEADER 1024

typedef enum
{
	PROXY_INCOMPLETE,			/* need more bytes */
	PROXY_DONE,					/* header parsed; length says how long */
	PROXY_ERROR					/* not a valid header; error says why */
} ProxyParseState;

typedef struct ProxyHeader
{
	int			family;			/* 4 or 6; 0 when the proxy names no client
								 * (v1 UNKNOWN, v2 LOCAL or UNSPEC) */
	uint8_t		src[16];		/* client address: 4 or 16 bytes */
	uint8_t		dst[16];
	uint16_t	src_port;
	uint16_t	dst_port;
	size_t		length;			/* bytes of the header */
	const char *error;			/* static English sentence */
} ProxyHeader;

/*
 * Parses the header at the start of buf (len bytes received so far).  A
 * buffer that cannot become a header (not a PROXY signature, a malformed
 * field, over PROXY_MAX_HEADER) is an error as early as possible.
 */
extern ProxyParseState proxy_parse(const uint8_t *buf, size_t len, ProxyHeader *out);

#endif							/* PGDASH_PROXY_PROTOCOL_H */
