/*-------------------------------------------------------------------------
 *
 * ws_frame.c
 *		Server-side WebSocket (RFC 6455) codec: accept key, incremental
 *		client frame parser, server frame encoders and UTF-8 validation.
 *
 * Pure C (libc, and libcrypto for the handshake), independent of PostgreSQL,
 * so that it can be unit tested and fuzzed standalone.  The parser owns one
 * malloc'd buffer for the message being reassembled; ws_parser_free
 * releases it.
 *
 * src/lib/ws_frame.c
 *
 *-------------------------------------------------------------------------
 */
#include "ws_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* parser states */
#define WS_STATE_HEADER		0
#define WS_STATE_PAYLOAD	1
#define WS_STATE_DONE		2

/* message buffers above this size are freed once delivered */
#define WS_KEEP_BUFFER		16384

/*
 * Computes Sec-WebSocket-Accept for a 24-character Sec-WebSocket-Key, with
 * OpenSSL's SHA-1 and base64.  Its decoder is lax, so the key is accepted
 * only if it is the canonical padded encoding of the 16 bytes it decodes to.
 */
bool
ws_accept_key(const char *client_key, size_t len, char out[29])
{
	unsigned char raw[18];
	unsigned char canonical[25];
	unsigned char digest[SHA_DIGEST_LENGTH];
	unsigned char keyed[24 + sizeof(WS_GUID) - 1];

	if (client_key == NULL || len != 24)
		return false;
	if (EVP_DecodeBlock(raw, (const unsigned char *) client_key, 24) != 18 ||
		EVP_EncodeBlock(canonical, raw, 16) != 24 ||
		memcmp(canonical, client_key, 24) != 0)
		return false;

	memcpy(keyed, client_key, 24);
	memcpy(keyed + 24, WS_GUID, sizeof(WS_GUID) - 1);
	if (SHA1(keyed, sizeof(keyed), digest) == NULL)
		return false;
	EVP_EncodeBlock((unsigned char *) out, digest, SHA_DIGEST_LENGTH);
	return true;
}

/* Resets an incremental UTF-8 validation state. */
static inline void
ws_utf8_reset(WsUtf8State *st)
{
	st->need = 0;
	st->lo = 0x80;
	st->hi = 0xBF;
}

/* Advances the UTF-8 state by one byte; false if the byte is invalid here. */
static inline bool
ws_utf8_step(WsUtf8State *st, unsigned char c)
{
	if (st->need > 0)
	{
		if (c < st->lo || c > st->hi)
			return false;
		st->need--;
		st->lo = 0x80;
		st->hi = 0xBF;
		return true;
	}
	if (c < 0x80)
		return true;
	if (c >= 0xC2 && c <= 0xDF)
		st->need = 1;
	else if (c == 0xE0)
	{
		st->need = 2;
		st->lo = 0xA0;			/* no overlongs */
	}
	else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
		st->need = 2;
	else if (c == 0xED)
	{
		st->need = 2;
		st->hi = 0x9F;			/* no surrogates */
	}
	else if (c == 0xF0)
	{
		st->need = 3;
		st->lo = 0x90;			/* no overlongs */
	}
	else if (c >= 0xF1 && c <= 0xF3)
		st->need = 3;
	else if (c == 0xF4)
	{
		st->need = 3;
		st->hi = 0x8F;			/* nothing above U+10FFFF */
	}
	else
		return false;			/* 0x80-0xC1, 0xF5-0xFF */
	return true;
}

/* Feeds len bytes to the UTF-8 state; false at the first invalid byte. */
static bool
ws_utf8_feed(WsUtf8State *st, const unsigned char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (!ws_utf8_step(st, s[i]))
			return false;
	return true;
}

/* Whether s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool
utf8_valid(const char *s, size_t len)
{
	WsUtf8State st;

	if (len > 0 && s == NULL)
		return false;
	ws_utf8_reset(&st);
	return ws_utf8_feed(&st, (const unsigned char *) s, len) && st.need == 0;
}

/* Length of the longest prefix of s[0..len) that is valid, complete UTF-8. */
size_t
utf8_valid_prefix(const char *s, size_t len)
{
	WsUtf8State st;
	size_t		i;
	size_t		good = 0;

	if (s == NULL)
		return 0;
	ws_utf8_reset(&st);
	for (i = 0; i < len; i++)
	{
		if (!ws_utf8_step(&st, (unsigned char) s[i]))
			break;
		if (st.need == 0)
			good = i + 1;
	}
	return good;
}

/* Whether a close code may appear on the wire (RFC 6455 section 7.4). */
bool
ws_close_code_valid(int code)
{
	if (code >= 1000 && code <= 1003)
		return true;
	if (code >= 1007 && code <= 1014)
		return true;
	if (code >= 3000 && code <= 4999)
		return true;
	return false;
}

/* Puts the parser in its final state and reports a protocol error. */
static void
ws_fail(WsParser *p, WsEvent *ev, int code, const char *reason)
{
	p->state = WS_STATE_DONE;
	ev->type = WS_EV_ERROR;
	ev->data = NULL;
	ev->len = 0;
	ev->close_code = code;
	ev->reason = reason;
}

/* Prepares a parser; max_message 0 means no limit but memory. */
void
ws_parser_init(WsParser *p, size_t max_message)
{
	memset(p, 0, sizeof(*p));
	p->max_message = max_message == 0 ? SIZE_MAX - 1 : max_message;
	if (p->max_message > SIZE_MAX - 1)
		p->max_message = SIZE_MAX - 1;
	p->state = WS_STATE_HEADER;
	ws_utf8_reset(&p->utf8);
}

/* Releases the parser's memory; it then ignores input. */
void
ws_parser_free(WsParser *p)
{
	free(p->msg);
	p->msg = NULL;
	p->msg_len = 0;
	p->msg_cap = 0;
	p->msg_opcode = 0;
	p->state = WS_STATE_DONE;
}

/* Forgets the message delivered by the previous call, shrinking large buffers. */
static void
ws_release_message(WsParser *p)
{
	p->msg_delivered = false;
	p->msg_len = 0;
	p->msg_opcode = 0;
	ws_utf8_reset(&p->utf8);
	if (p->msg_cap > WS_KEEP_BUFFER)
	{
		free(p->msg);
		p->msg = NULL;
		p->msg_cap = 0;
	}
}

/* Makes room for extra more message bytes plus a NUL; false if out of memory. */
static bool
ws_reserve(WsParser *p, size_t extra, size_t frame_left)
{
	size_t		need = p->msg_len + extra + 1;
	size_t		want;
	char	   *nbuf;

	if (need <= p->msg_cap)
		return true;
	/* grow geometrically, but not beyond what this frame still brings */
	want = p->msg_cap < SIZE_MAX / 2 ? p->msg_cap * 2 : SIZE_MAX;
	if (want < 256)
		want = 256;
	if (want > p->msg_len + frame_left + 1)
		want = p->msg_len + frame_left + 1;
	if (want < need)
		want = need;
	nbuf = realloc(p->msg, want);
	if (nbuf == NULL)
		return false;
	p->msg = nbuf;
	p->msg_cap = want;
	return true;
}

/*
 * Checks the first two header bytes; returns false after reporting an error.
 * Sets hdr_need to the full header length.
 */
static bool
ws_check_header_start(WsParser *p, WsEvent *ev)
{
	unsigned char b0 = p->hdr[0];
	unsigned char b1 = p->hdr[1];
	int			opcode = b0 & 0x0F;
	bool		fin = (b0 & 0x80) != 0;
	int			len7 = b1 & 0x7F;

	if (b0 & 0x70)
	{
		ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR, "reserved bits are set");
		return false;
	}
	if (!(b1 & 0x80))
	{
		ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR, "frame is not masked");
		return false;
	}
	switch (opcode)
	{
		case WS_OP_CONT:
			if (p->msg_opcode == 0)
			{
				ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
						"continuation frame without a message in progress");
				return false;
			}
			break;
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (p->msg_opcode != 0)
			{
				ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
						"new message while a fragmented message is in progress");
				return false;
			}
			break;
		case WS_OP_CLOSE:
		case WS_OP_PING:
		case WS_OP_PONG:
			if (!fin)
			{
				ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
						"control frame is fragmented");
				return false;
			}
			if (len7 > WS_MAX_CONTROL_PAYLOAD)
			{
				ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
						"control frame payload exceeds 125 bytes");
				return false;
			}
			break;
		default:
			ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR, "unknown opcode");
			return false;
	}

	p->opcode = opcode;
	p->fin = fin;
	p->hdr_need = 2 + 4 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
	return true;
}

/*
 * Decodes the complete header (length and mask); returns false after
 * reporting an error.
 */
static bool
ws_finish_header(WsParser *p, WsEvent *ev)
{
	int			len7 = p->hdr[1] & 0x7F;
	uint64_t	plen;
	size_t		pos = 2;
	int			i;

	if (len7 == 126)
	{
		plen = ((uint64_t) p->hdr[2] << 8) | p->hdr[3];
		pos = 4;
	}
	else if (len7 == 127)
	{
		plen = 0;
		for (i = 0; i < 8; i++)
			plen = (plen << 8) | p->hdr[2 + i];
		pos = 10;
		if (plen >> 63)
		{
			ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
					"frame length has the most significant bit set");
			return false;
		}
	}
	else
		plen = (uint64_t) len7;

	memcpy(p->mask, p->hdr + pos, 4);
	p->payload_len = plen;
	p->payload_got = 0;

	if (p->opcode < WS_OP_CLOSE)
	{
		/* data frame: enforce the message limit before buffering anything */
		if (plen > (uint64_t) p->max_message ||
			p->msg_len > p->max_message - (size_t) plen)
		{
			snprintf(p->errbuf, sizeof(p->errbuf),
					 "message exceeds %zu bytes", p->max_message);
			ws_fail(p, ev, WS_CLOSE_TOO_BIG, p->errbuf);
			return false;
		}
		if (p->opcode != WS_OP_CONT)
		{
			p->msg_opcode = p->opcode;
			p->msg_len = 0;
			ws_utf8_reset(&p->utf8);
		}
	}
	return true;
}

/*
 * Handles a frame whose payload is complete.  Returns true if it produced an
 * event (stored in ev).
 */
static bool
ws_finish_frame(WsParser *p, WsEvent *ev)
{
	p->state = WS_STATE_HEADER;
	p->hdr_len = 0;

	switch (p->opcode)
	{
		case WS_OP_PING:
		case WS_OP_PONG:
			p->ctrl[p->payload_len] = '\0';
			ev->type = p->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
			ev->data = p->ctrl;
			ev->len = (size_t) p->payload_len;
			return true;

		case WS_OP_CLOSE:
			{
				size_t		len = (size_t) p->payload_len;
				int			code;

				p->ctrl[len] = '\0';
				if (len == 1)
				{
					ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
							"close frame payload is 1 byte");
					return true;
				}
				if (len == 0)
					code = WS_CLOSE_NO_STATUS;
				else
				{
					code = ((unsigned char) p->ctrl[0] << 8) |
						(unsigned char) p->ctrl[1];
					if (!ws_close_code_valid(code))
					{
						ws_fail(p, ev, WS_CLOSE_PROTOCOL_ERROR,
								"invalid close code");
						return true;
					}
					if (!utf8_valid(p->ctrl + 2, len - 2))
					{
						ws_fail(p, ev, WS_CLOSE_INVALID_DATA,
								"close reason is not valid UTF-8");
						return true;
					}
				}
				p->state = WS_STATE_DONE;
				ev->type = WS_EV_CLOSE;
				ev->data = p->ctrl;
				ev->len = len;
				ev->close_code = code;
				ev->reason = len >= 2 ? p->ctrl + 2 : p->ctrl;
				return true;
			}

		default:
			/* data frame */
			if (!p->fin)
				return false;
			if (p->msg_opcode == WS_OP_TEXT && p->utf8.need != 0)
			{
				ws_fail(p, ev, WS_CLOSE_INVALID_DATA,
						"text message is not valid UTF-8");
				return true;
			}
			ev->type = p->msg_opcode == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
			if (p->msg != NULL)
			{
				p->msg[p->msg_len] = '\0';
				ev->data = p->msg;
			}
			else
				ev->data = "";
			ev->len = p->msg_len;
			p->msg_delivered = true;
			return true;
	}
}

/* Consumes client bytes until one event is produced or the input runs out. */
size_t
ws_parser_feed(WsParser *p, const char *data, size_t len, WsEvent *ev)
{
	const unsigned char *in = (const unsigned char *) data;
	size_t		pos = 0;

	ev->type = WS_EV_NONE;
	ev->data = NULL;
	ev->len = 0;
	ev->close_code = 0;
	ev->reason = NULL;

	if (p->state == WS_STATE_DONE)
		return len;
	if (p->msg_delivered)
		ws_release_message(p);

	for (;;)
	{
		if (p->state == WS_STATE_HEADER)
		{
			if (p->hdr_len < 2)
			{
				while (p->hdr_len < 2 && pos < len)
					p->hdr[p->hdr_len++] = in[pos++];
				if (p->hdr_len < 2)
					return pos;
				if (!ws_check_header_start(p, ev))
					return pos;
			}
			while (p->hdr_len < p->hdr_need && p->hdr_len < sizeof(p->hdr) &&
				   pos < len)
				p->hdr[p->hdr_len++] = in[pos++];
			if (p->hdr_len < p->hdr_need)
				return pos;
			if (!ws_finish_header(p, ev))
				return pos;
			p->state = WS_STATE_PAYLOAD;
		}
		else
		{
			uint64_t	left = p->payload_len - p->payload_got;
			size_t		n = len - pos;
			unsigned char *dst;
			size_t		i;

			if ((uint64_t) n > left)
				n = (size_t) left;
			if (n == 0 && left > 0)
				return pos;

			if (p->opcode >= WS_OP_CLOSE)
				dst = (unsigned char *) p->ctrl + p->payload_got;
			else
			{
				if (!ws_reserve(p, n, (size_t) left))
				{
					ws_fail(p, ev, WS_CLOSE_INTERNAL_ERROR, "out of memory");
					return pos;
				}
				dst = (unsigned char *) p->msg + p->msg_len;
			}

			for (i = 0; i < n; i++)
				dst[i] = in[pos + i] ^ p->mask[(p->payload_got + i) & 3];

			if (p->opcode < WS_OP_CLOSE)
			{
				if (p->msg_opcode == WS_OP_TEXT &&
					!ws_utf8_feed(&p->utf8, dst, n))
				{
					ws_fail(p, ev, WS_CLOSE_INVALID_DATA,
							"text message is not valid UTF-8");
					return pos + n;
				}
				p->msg_len += n;
			}
			pos += n;
			p->payload_got += n;

			if (p->payload_got == p->payload_len && ws_finish_frame(p, ev))
				return pos;
		}
	}
}

/* Writes an unmasked frame header for a len-byte payload; returns its length. */
size_t
ws_frame_header(unsigned char *out, int opcode, size_t len, bool fin)
{
	uint64_t	l = (uint64_t) len;
	int			i;

	out[0] = (unsigned char) ((fin ? 0x80 : 0) | (opcode & 0x0F));
	if (l <= 125)
	{
		out[1] = (unsigned char) l;
		return 2;
	}
	if (l <= 0xFFFF)
	{
		out[1] = 126;
		out[2] = (unsigned char) (l >> 8);
		out[3] = (unsigned char) l;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (unsigned char) (l >> (56 - 8 * i));
	return 10;
}

/* Builds a close payload (code + UTF-8-safe truncated reason) into out[125]. */
size_t
ws_close_payload(unsigned char *out, int code, const char *reason)
{
	size_t		rlen;

	if (code <= 0 || code == WS_CLOSE_NO_STATUS || code > 0xFFFF)
		return 0;
	out[0] = (unsigned char) (code >> 8);
	out[1] = (unsigned char) code;
	if (reason == NULL)
		return 2;
	rlen = strnlen(reason, WS_MAX_CONTROL_PAYLOAD - 2);
	rlen = utf8_valid_prefix(reason, rlen);
	memcpy(out + 2, reason, rlen);
	return 2 + rlen;
}
