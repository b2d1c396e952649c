/*-------------------------------------------------------------------------
 *
 * ws_frame.h
 *		Server-side WebSocket (RFC 6455) codec: handshake accept key, an
 *		incremental frame parser for client-to-server frames, encoders for
 *		server-to-client frames, and a strict UTF-8 validator.
 *
 * Pure C (libc; libcrypto for the accept key), independent of PostgreSQL.
 * The parser does no I/O: the caller feeds it whatever bytes arrived and
 * handles one event at a time.
 *
 * Typical use:
 *
 *		WsParser	p;
 *		WsEvent		ev;
 *
 *		ws_parser_init(&p, 65536);
 *		while (off < n)
 *		{
 *			off += ws_parser_feed(&p, buf + off, n - off, &ev);
 *			if (ev.type == WS_EV_NONE)
 *				break;			(all of buf consumed; read more)
 *			... handle ev; on WS_EV_CLOSE / WS_EV_ERROR send a close frame
 *			with ev.close_code and stop reading ...
 *		}
 *		ws_parser_free(&p);
 *
 * src/lib/ws_frame.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_WS_FRAME_H
#define PGDASH_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 6455 section 5.2) */
#define WS_OP_CONT		0
#define WS_OP_TEXT		1
#define WS_OP_BINARY	2
#define WS_OP_CLOSE		8
#define WS_OP_PING		9
#define WS_OP_PONG		10

/* Close codes used by the parser and its callers (RFC 6455 section 7.4.1) */
#define WS_CLOSE_NORMAL			1000
#define WS_CLOSE_GOING_AWAY		1001
#define WS_CLOSE_PROTOCOL_ERROR	1002
#define WS_CLOSE_UNSUPPORTED	1003
#define WS_CLOSE_NO_STATUS		1005	/* reported, never sent */
#define WS_CLOSE_INVALID_DATA	1007
#define WS_CLOSE_POLICY			1008
#define WS_CLOSE_TOO_BIG		1009
#define WS_CLOSE_INTERNAL_ERROR	1011

#define WS_MAX_HEADER_LEN		10	/* longest server frame header */
#define WS_MAX_CONTROL_PAYLOAD	125
#define WS_ACCEPT_KEY_LEN		28

/*
 * Sec-WebSocket-Accept for a client's Sec-WebSocket-Key:
 * base64(SHA1(key + GUID)).  out gets 28 chars + NUL.  Returns false (out
 * untouched) if the key is not exactly 24 base64 chars decoding to 16 bytes;
 * the caller strips surrounding HTTP whitespace first.
 */
extern bool ws_accept_key(const char *client_key, size_t len, char out[29]);

typedef enum WsEventType
{
	WS_EV_NONE,					/* more input needed */
	WS_EV_TEXT,					/* complete text message, valid UTF-8 */
	WS_EV_BINARY,				/* complete binary message */
	WS_EV_PING,
	WS_EV_PONG,
	WS_EV_CLOSE,				/* peer sent a valid close frame */
	WS_EV_ERROR					/* protocol violation: close with close_code */
} WsEventType;

/*
 * One parser event.  data/len: the message (TEXT/BINARY, NUL-terminated),
 * the control payload (PING/PONG, NUL-terminated), or the raw close payload
 * (CLOSE).  close_code/reason: for CLOSE the peer's code (1005 if the payload
 * was empty) and its NUL-terminated reason (may be ""); for ERROR the code to
 * close with and a static English phrase.  data is never NULL for
 * TEXT/BINARY/PING/PONG/CLOSE.  Everything stays valid until the next
 * ws_parser_feed or ws_parser_free on the same parser.
 */
typedef struct WsEvent
{
	WsEventType type;
	const char *data;
	size_t		len;
	int			close_code;
	const char *reason;
} WsEvent;

/* Incremental UTF-8 validation state (carried across fragments). */
typedef struct WsUtf8State
{
	unsigned char need;			/* continuation bytes still expected */
	unsigned char lo;			/* allowed range of the next continuation */
	unsigned char hi;
} WsUtf8State;

typedef struct WsParser
{
	size_t		max_message;	/* largest (reassembled) message accepted */
	int			state;			/* WS_STATE_* in ws_frame.c */

	/* header of the frame being parsed */
	unsigned char hdr[14];
	size_t		hdr_len;		/* bytes of hdr received */
	size_t		hdr_need;		/* total header length once known */

	/* the frame being parsed */
	int			opcode;
	bool		fin;
	unsigned char mask[4];
	uint64_t	payload_len;
	uint64_t	payload_got;

	/* the (possibly fragmented) data message being assembled */
	int			msg_opcode;		/* WS_OP_TEXT/BINARY, or 0 if none open */
	char	   *msg;			/* malloc'd, owned by the parser */
	size_t		msg_len;
	size_t		msg_cap;
	bool		msg_delivered;	/* release msg on the next feed */
	WsUtf8State utf8;

	/* control frame payload, NUL-terminated */
	char		ctrl[WS_MAX_CONTROL_PAYLOAD + 1];

	char		errbuf[64];		/* formatted error reasons */
} WsParser;

/*
 * Prepares a parser.  max_message bounds the size of a reassembled data
 * message (0 means no limit but memory).  Allocates nothing.
 */
extern void ws_parser_init(WsParser *p, size_t max_message);

/* Releases the parser's memory; it then ignores input until re-initialized. */
extern void ws_parser_free(WsParser *p);

/*
 * Consumes bytes from the client and stops after producing one event, so the
 * caller handles events one at a time.  Returns the bytes consumed; *ev is
 * WS_EV_NONE when all len bytes were consumed and more input is needed.
 * After WS_EV_CLOSE or WS_EV_ERROR, further input is ignored (consumed
 * entirely, WS_EV_NONE).  Allocation failure gives WS_EV_ERROR with 1011.
 */
extern size_t ws_parser_feed(WsParser *p, const char *data, size_t len, WsEvent *ev);

/*
 * Writes an unmasked frame header for a payload of len bytes into out (up to
 * WS_MAX_HEADER_LEN bytes); returns its length (2, 4 or 10).
 */
extern size_t ws_frame_header(unsigned char *out, int opcode, size_t len, bool fin);

/*
 * Builds a close payload into out[125]: the 2-byte code and the longest
 * valid-UTF-8 prefix of reason (may be NULL) that fits in 123 bytes, so it is
 * never cut inside a character.  Returns its length.  A code of 0 or 1005
 * ("no status") gives an empty payload (returns 0).
 */
extern size_t ws_close_payload(unsigned char *out, int code, const char *reason);

/* Whether a close code may appear on the wire (RFC 6455 section 7.4). */
extern bool ws_close_code_valid(int code);

/* Whether s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
extern bool utf8_valid(const char *s, size_t len);

/* Length of the longest prefix of s[0..len) that is valid, complete UTF-8. */
extern size_t utf8_valid_prefix(const char *s, size_t len);

#endif							/* PGDASH_WS_FRAME_H */
