/*
 * test_ws_frame.c
 *		Unit tests for the WebSocket codec (ws_frame.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"
#include "unit.h"

#define MAX_EVENTS 32

/* A copy of one parser event, so it outlives the next feed. */
typedef struct CollectedEvent
{
	WsEventType type;
	char	   *data;
	size_t		len;
	int			close_code;
	char		reason[128];
} CollectedEvent;

typedef struct Collected
{
	int			n;
	CollectedEvent ev[MAX_EVENTS];
	size_t		consumed;
} Collected;

/* Appends a client frame (masked unless mask is false) to buf; returns new length. */
static size_t
put_frame(unsigned char *buf, size_t off, int b0, const void *payload,
		  uint64_t len, bool mask, int len_form)
{
	static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
	const unsigned char *pl = payload;
	uint64_t	i;
	int			form = len_form;

	buf[off++] = (unsigned char) b0;
	if (form == 0)
		form = len <= 125 ? 7 : len <= 0xFFFF ? 16 : 64;
	if (form == 7)
		buf[off++] = (unsigned char) ((mask ? 0x80 : 0) | len);
	else if (form == 16)
	{
		buf[off++] = (unsigned char) ((mask ? 0x80 : 0) | 126);
		buf[off++] = (unsigned char) (len >> 8);
		buf[off++] = (unsigned char) len;
	}
	else
	{
		buf[off++] = (unsigned char) ((mask ? 0x80 : 0) | 127);
		for (i = 0; i < 8; i++)
			buf[off++] = (unsigned char) (len >> (56 - 8 * i));
	}
	if (mask)
	{
		memcpy(buf + off, key, 4);
		off += 4;
	}
	if (pl != NULL)
		for (i = 0; i < len; i++)
			buf[off++] = pl[i] ^ (mask ? key[i & 3] : 0);
	return off;
}

/* Shorthand: a FIN, masked frame with the given opcode. */
static size_t
put(unsigned char *buf, size_t off, int opcode, const char *s, size_t len)
{
	return put_frame(buf, off, 0x80 | opcode, s, len, true, 0);
}

/* Stores a copy of ev in c. */
static void
collect_one(Collected *c, const WsEvent *ev)
{
	CollectedEvent *ce;

	if (c->n >= MAX_EVENTS)
		return;
	ce = &c->ev[c->n++];
	ce->type = ev->type;
	ce->len = ev->len;
	ce->data = malloc(ev->len + 1);
	if (ev->data)
		memcpy(ce->data, ev->data, ev->len);
	ce->data[ev->len] = '\0';
	ce->close_code = ev->close_code;
	ce->reason[0] = '\0';
	if (ev->reason)
		snprintf(ce->reason, sizeof(ce->reason), "%s", ev->reason);
}

/* Feeds buf in chunks of step bytes (0 = all at once), collecting events. */
static void
run(Collected *c, size_t max, const unsigned char *buf, size_t len, size_t step)
{
	WsParser	p;
	size_t		off = 0;

	memset(c, 0, sizeof(*c));
	ws_parser_init(&p, max);
	while (off < len)
	{
		size_t		chunk = step == 0 || step > len - off ? len - off : step;
		size_t		coff = 0;

		while (coff < chunk)
		{
			WsEvent		ev;
			size_t		n = ws_parser_feed(&p, (const char *) buf + off + coff,
										   chunk - coff, &ev);

			coff += n;
			if (ev.type == WS_EV_NONE)
			{
				if (coff != chunk)
					c->consumed = SIZE_MAX;	/* contract violation */
				break;
			}
			collect_one(c, &ev);
		}
		off += chunk;
	}
	c->consumed = c->consumed == SIZE_MAX ? SIZE_MAX : off;
	ws_parser_free(&p);
}

/* Frees the copies held in c. */
static void
collected_free(Collected *c)
{
	int			i;

	for (i = 0; i < c->n; i++)
		free(c->ev[i].data);
	c->n = 0;
}

/* Runs buf and checks it yields exactly one error event with code. */
static void
expect_error(const unsigned char *buf, size_t len, size_t max, int code,
			 const char *label)
{
	Collected	c;
	int			last;

	run(&c, max, buf, len, 0);
	last = c.n - 1;
	if (last < 0 || c.ev[last].type != WS_EV_ERROR || c.ev[last].close_code != code)
		fprintf(stderr, "expect_error(%s): n=%d last type=%d code=%d\n", label,
				c.n, last >= 0 ? (int) c.ev[last].type : -1,
				last >= 0 ? c.ev[last].close_code : -1);
	CHECK(last >= 0);
	if (last >= 0)
	{
		CHECK_INT(c.ev[last].type, WS_EV_ERROR);
		CHECK_INT(c.ev[last].close_code, code);
		CHECK(c.ev[last].reason[0] != '\0');
	}
	collected_free(&c);

	/* the same must hold when fed one byte at a time */
	run(&c, max, buf, len, 1);
	last = c.n - 1;
	CHECK(last >= 0 && c.ev[last].type == WS_EV_ERROR && c.ev[last].close_code == code);
	collected_free(&c);
}

/* RFC 6455 section 1.3 example and invalid keys. */
static void
test_accept_key(void)
{
	char		out[29];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";

	memset(out, 'X', sizeof(out));
	CHECK(ws_accept_key(key, strlen(key), out));
	CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CHECK_INT(strlen(out), WS_ACCEPT_KEY_LEN);

	CHECK(!ws_accept_key(key, 23, out));
	CHECK(!ws_accept_key("", 0, out));
	CHECK(!ws_accept_key(NULL, 24, out));
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==  ", 26, out));
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!=", 24, out));
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ0=", 24, out));	/* 17 bytes */
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZR==", 24, out));	/* pad bits */
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25j", 20, out));

	/* a second known answer, with '+'-free output of another key */
	CHECK(ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out));
	CHECK_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");

	/* what OpenSSL's lax decoder takes and a canonical key cannot be */
	memset(out, 'X', sizeof(out));
	CHECK(!ws_accept_key(" GhlIHNhbXBsZSBub25jZQ==", 24, out));	/* whitespace */
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=\n", 24, out));
	CHECK(!ws_accept_key("dGhlIHNhbXBs=SBub25jZQ==", 24, out));	/* '=' inside */
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ\0=", 24, out));
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ-_", 24, out));	/* url alphabet */
	CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQZm", 24, out));	/* 18 bytes */
	CHECK(out[0] == 'X');		/* untouched when refused */
}

/* A single unfragmented text frame, and a binary one, with data lifetimes. */
static void
test_single_frames(void)
{
	unsigned char buf[256];
	size_t		len;
	Collected	c;

	len = put(buf, 0, WS_OP_TEXT, "Hello", 5);
	run(&c, 1000, buf, len, 0);
	CHECK_INT(c.n, 1);
	CHECK_INT(c.ev[0].type, WS_EV_TEXT);
	CHECK_INT(c.ev[0].len, 5);
	CHECK_STR(c.ev[0].data, "Hello");
	CHECK_INT(c.consumed, len);
	collected_free(&c);

	/* RFC 6455 5.7 example: masked "Hello" */
	{
		const unsigned char rfc[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};

		CHECK(memcmp(rfc, buf, sizeof(rfc)) == 0);
	}

	len = put(buf, 0, WS_OP_BINARY, "\x00\xff\x80", 3);
	len = put(buf, len, WS_OP_TEXT, "", 0);
	len = put(buf, len, WS_OP_PONG, "pp", 2);
	run(&c, 1000, buf, len, 0);
	CHECK_INT(c.n, 3);
	CHECK_INT(c.ev[0].type, WS_EV_BINARY);
	CHECK_INT(c.ev[0].len, 3);
	CHECK(memcmp(c.ev[0].data, "\x00\xff\x80", 3) == 0);
	CHECK_INT(c.ev[1].type, WS_EV_TEXT);
	CHECK_INT(c.ev[1].len, 0);
	CHECK_INT(c.ev[2].type, WS_EV_PONG);
	CHECK_STR(c.ev[2].data, "pp");
	collected_free(&c);

	/* event data points into the parser; stops after each event */
	{
		WsParser	p;
		WsEvent		ev;
		size_t		n;

		len = put(buf, 0, WS_OP_TEXT, "one", 3);
		len = put(buf, len, WS_OP_TEXT, "two", 3);
		ws_parser_init(&p, 100);
		n = ws_parser_feed(&p, (char *) buf, len, &ev);
		CHECK_INT(n, len / 2);
		CHECK_INT(ev.type, WS_EV_TEXT);
		CHECK(ev.data != NULL && ev.len == 3 && memcmp(ev.data, "one", 3) == 0);
		CHECK_INT(ev.data[3], '\0');
		n += ws_parser_feed(&p, (char *) buf + n, len - n, &ev);
		CHECK_INT(n, len);
		CHECK_INT(ev.type, WS_EV_TEXT);
		CHECK(ev.len == 3 && memcmp(ev.data, "two", 3) == 0);
		n = ws_parser_feed(&p, "", 0, &ev);
		CHECK_INT(n, 0);
		CHECK_INT(ev.type, WS_EV_NONE);
		ws_parser_free(&p);
		ws_parser_free(&p);		/* idempotent */
	}
}

/* Fragmented text with a ping in the middle; byte-at-a-time equals whole. */
static void
test_fragmented(void)
{
	unsigned char buf[512];
	size_t		len = 0;
	Collected	whole,
				bytes,
				threes;
	int			i;

	/* "κόσμε" split inside multi-byte characters across frames */
	const char *msg = "Hello, \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xf0\x9f\x98\x80!";
	size_t		mlen = strlen(msg);

	len = put_frame(buf, len, WS_OP_TEXT, msg, 8, true, 0);	/* ends mid-char */
	len = put_frame(buf, len, WS_OP_CONT, msg + 8, 4, true, 0);
	len = put(buf, len, WS_OP_PING, "ping!", 5);
	len = put_frame(buf, len, WS_OP_CONT, msg + 12, 0, true, 0);	/* empty */
	len = put_frame(buf, len, WS_OP_CONT, msg + 12, 8, true, 0);	/* mid 4-byte */
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, msg + 20, mlen - 20, true, 0);
	len = put(buf, len, WS_OP_TEXT, "after", 5);
	len = put(buf, len, WS_OP_CLOSE, "\x03\xe8" "bye", 5);

	run(&whole, 1000, buf, len, 0);
	CHECK_INT(whole.n, 4);
	CHECK_INT(whole.ev[0].type, WS_EV_PING);
	CHECK_STR(whole.ev[0].data, "ping!");
	CHECK_INT(whole.ev[1].type, WS_EV_TEXT);
	CHECK_INT(whole.ev[1].len, mlen);
	CHECK_STR(whole.ev[1].data, msg);
	CHECK_INT(whole.ev[2].type, WS_EV_TEXT);
	CHECK_STR(whole.ev[2].data, "after");
	CHECK_INT(whole.ev[3].type, WS_EV_CLOSE);
	CHECK_INT(whole.ev[3].close_code, 1000);
	CHECK_STR(whole.ev[3].reason, "bye");
	CHECK_INT(whole.ev[3].len, 5);
	CHECK_INT(whole.consumed, len);

	run(&bytes, 1000, buf, len, 1);
	run(&threes, 1000, buf, len, 3);
	CHECK_INT(bytes.n, whole.n);
	CHECK_INT(threes.n, whole.n);
	for (i = 0; i < whole.n && i < bytes.n && i < threes.n; i++)
	{
		CHECK_INT(bytes.ev[i].type, whole.ev[i].type);
		CHECK_INT(bytes.ev[i].len, whole.ev[i].len);
		CHECK(memcmp(bytes.ev[i].data, whole.ev[i].data, whole.ev[i].len) == 0);
		CHECK_INT(bytes.ev[i].close_code, whole.ev[i].close_code);
		CHECK_INT(threes.ev[i].type, whole.ev[i].type);
		CHECK(memcmp(threes.ev[i].data, whole.ev[i].data, whole.ev[i].len) == 0);
	}
	collected_free(&whole);
	collected_free(&bytes);
	collected_free(&threes);

	/* fragmented binary; input after close is ignored */
	len = put_frame(buf, 0, WS_OP_BINARY, "ab", 2, true, 0);
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, "cd", 2, true, 0);
	len = put(buf, len, WS_OP_CLOSE, NULL, 0);
	len = put(buf, len, WS_OP_TEXT, "ignored", 7);
	buf[len++] = 0xff;			/* garbage too */
	run(&whole, 1000, buf, len, 0);
	CHECK_INT(whole.n, 2);
	CHECK_INT(whole.ev[0].type, WS_EV_BINARY);
	CHECK_STR(whole.ev[0].data, "abcd");
	CHECK_INT(whole.ev[1].type, WS_EV_CLOSE);
	CHECK_INT(whole.ev[1].close_code, 1005);
	CHECK_STR(whole.ev[1].reason, "");
	CHECK_INT(whole.ev[1].len, 0);
	CHECK_INT(whole.consumed, len);
	collected_free(&whole);
}

/* 16-bit and 64-bit lengths and the max_message boundary. */
static void
test_lengths(void)
{
	size_t		cap = 70000 + 64;
	unsigned char *buf = malloc(cap);
	char	   *payload = malloc(70000);
	size_t		len;
	Collected	c;

	memset(payload, 'z', 70000);

	len = put(buf, 0, WS_OP_TEXT, payload, 126);
	CHECK_INT(buf[1] & 0x7f, 126);
	run(&c, 70000, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && c.ev[0].len == 126);
	collected_free(&c);

	len = put(buf, 0, WS_OP_BINARY, payload, 65535);
	run(&c, 70000, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_BINARY && c.ev[0].len == 65535);
	collected_free(&c);

	len = put(buf, 0, WS_OP_TEXT, payload, 70000);
	CHECK_INT(buf[1] & 0x7f, 127);
	run(&c, 70000, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && c.ev[0].len == 70000);
	CHECK(c.n == 1 && memcmp(c.ev[0].data, payload, 70000) == 0);
	collected_free(&c);
	run(&c, 70000, buf, len, 777);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && c.ev[0].len == 70000);
	collected_free(&c);

	/* non-minimal length encodings are accepted */
	len = put_frame(buf, 0, 0x80 | WS_OP_TEXT, "abc", 3, true, 64);
	run(&c, 100, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && strcmp(c.ev[0].data, "abc") == 0);
	collected_free(&c);

	/* max_message boundary: exactly max is fine, max + 1 is 1009 */
	len = put(buf, 0, WS_OP_TEXT, payload, 300);
	run(&c, 300, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && c.ev[0].len == 300);
	collected_free(&c);
	len = put(buf, 0, WS_OP_TEXT, payload, 301);
	expect_error(buf, len, 300, 1009, "max+1");
	run(&c, 300, buf, len, 0);
	CHECK(c.n == 1 && strcmp(c.ev[0].reason, "message exceeds 300 bytes") == 0);
	collected_free(&c);

	/* across fragments */
	len = put_frame(buf, 0, WS_OP_BINARY, payload, 200, true, 0);
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, payload, 100, true, 0);
	run(&c, 300, buf, len, 0);
	CHECK(c.n == 1 && c.ev[0].type == WS_EV_BINARY && c.ev[0].len == 300);
	collected_free(&c);
	len = put_frame(buf, 0, WS_OP_BINARY, payload, 200, true, 0);
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, payload, 101, true, 0);
	expect_error(buf, len, 300, 1009, "fragments max+1");

	/* detected from the header alone, before any payload arrives */
	{
		WsParser	p;
		WsEvent		ev;
		unsigned char h[14];
		size_t		hl = put_frame(h, 0, 0x80 | WS_OP_BINARY, NULL, (uint64_t) 1 << 40, true, 0);

		ws_parser_init(&p, 65536);
		CHECK_INT(ws_parser_feed(&p, (char *) h, hl, &ev), hl);
		CHECK_INT(ev.type, WS_EV_ERROR);
		CHECK_INT(ev.close_code, 1009);
		CHECK_STR(ev.reason, "message exceeds 65536 bytes");
		ws_parser_free(&p);
	}

	/* a partial big frame holds no more memory than what has arrived */
	{
		WsParser	p;
		WsEvent		ev;

		len = put(buf, 0, WS_OP_BINARY, payload, 70000);
		ws_parser_init(&p, 0);
		CHECK_INT(ws_parser_feed(&p, (char *) buf, 1000, &ev), 1000);
		CHECK_INT(ev.type, WS_EV_NONE);
		CHECK(p.msg_cap <= 2048);
		CHECK_INT(ws_parser_feed(&p, (char *) buf + 1000, len - 1000, &ev), len - 1000);
		CHECK_INT(ev.type, WS_EV_BINARY);
		CHECK_INT(ev.len, 70000);
		ws_parser_free(&p);
	}

	free(buf);
	free(payload);
}

/* Every protocol error rule with its close code. */
static void
test_errors(void)
{
	unsigned char buf[512];
	size_t		len;
	char		big[200];

	memset(big, 'b', sizeof(big));

	/* not masked */
	len = put_frame(buf, 0, 0x80 | WS_OP_TEXT, "hi", 2, false, 0);
	expect_error(buf, len, 100, 1002, "unmasked");
	/* RSV1, RSV2, RSV3 */
	len = put_frame(buf, 0, 0xC0 | WS_OP_TEXT, "hi", 2, true, 0);
	expect_error(buf, len, 100, 1002, "rsv1");
	len = put_frame(buf, 0, 0xA0 | WS_OP_TEXT, "hi", 2, true, 0);
	expect_error(buf, len, 100, 1002, "rsv2");
	len = put_frame(buf, 0, 0x90 | WS_OP_PING, "hi", 2, true, 0);
	expect_error(buf, len, 100, 1002, "rsv3");
	/* unknown opcodes */
	len = put_frame(buf, 0, 0x83, "hi", 2, true, 0);
	expect_error(buf, len, 100, 1002, "op3");
	len = put_frame(buf, 0, 0x87, "hi", 2, true, 0);
	expect_error(buf, len, 100, 1002, "op7");
	len = put_frame(buf, 0, 0x8B, "", 0, true, 0);
	expect_error(buf, len, 100, 1002, "op11");
	len = put_frame(buf, 0, 0x8F, "", 0, true, 0);
	expect_error(buf, len, 100, 1002, "op15");
	/* control frames: > 125 bytes, not FIN */
	len = put(buf, 0, WS_OP_PING, big, 126);
	expect_error(buf, len, 1000, 1002, "ping 126");
	len = put(buf, 0, WS_OP_PING, big, 125);
	{
		Collected	c;

		run(&c, 1000, buf, len, 0);
		CHECK(c.n == 1 && c.ev[0].type == WS_EV_PING && c.ev[0].len == 125);
		collected_free(&c);
	}
	len = put(buf, 0, WS_OP_CLOSE, big, 126);
	expect_error(buf, len, 1000, 1002, "close 126");
	len = put_frame(buf, 0, WS_OP_PING, "x", 1, true, 0);
	expect_error(buf, len, 100, 1002, "ping !fin");
	len = put_frame(buf, 0, WS_OP_PONG, "x", 1, true, 0);
	expect_error(buf, len, 100, 1002, "pong !fin");
	len = put_frame(buf, 0, WS_OP_CLOSE, "\x03\xe8", 2, true, 0);
	expect_error(buf, len, 100, 1002, "close !fin");
	/* continuation without a message */
	len = put(buf, 0, WS_OP_CONT, "x", 1);
	expect_error(buf, len, 100, 1002, "cont alone");
	len = put(buf, 0, WS_OP_TEXT, "x", 1);
	len = put(buf, len, WS_OP_CONT, "x", 1);
	expect_error(buf, len, 100, 1002, "cont after complete");
	/* new data frame while fragmented */
	len = put_frame(buf, 0, WS_OP_TEXT, "x", 1, true, 0);
	len = put(buf, len, WS_OP_TEXT, "y", 1);
	expect_error(buf, len, 100, 1002, "text in fragmented");
	len = put_frame(buf, 0, WS_OP_BINARY, "x", 1, true, 0);
	len = put_frame(buf, len, WS_OP_BINARY, "y", 1, true, 0);
	expect_error(buf, len, 100, 1002, "binary in fragmented");
	/* 64-bit length with the top bit set */
	len = put_frame(buf, 0, 0x80 | WS_OP_BINARY, NULL, (uint64_t) 1 << 63, true, 0);
	expect_error(buf, len, 100, 1002, "len msb");
	/* invalid UTF-8 in text: single frame, fragment, unfinished at FIN */
	len = put(buf, 0, WS_OP_TEXT, "a\xc0\xafz", 4);
	expect_error(buf, len, 100, 1007, "overlong");
	len = put_frame(buf, 0, WS_OP_TEXT, "ok", 2, true, 0);
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, "\xed\xa0\x80", 3, true, 0);
	expect_error(buf, len, 100, 1007, "surrogate in fragment");
	len = put(buf, 0, WS_OP_TEXT, "ab\xe2\x82", 4);
	expect_error(buf, len, 100, 1007, "truncated at fin");
	len = put(buf, 0, WS_OP_TEXT, "\xf4\x90\x80\x80", 4);
	expect_error(buf, len, 100, 1007, "> U+10FFFF");

	/* invalid UTF-8 fails fast, before the frame is complete */
	{
		WsParser	p;
		WsEvent		ev;

		len = put(buf, 0, WS_OP_TEXT, "abc\xffzzzzzzzz", 12);
		ws_parser_init(&p, 100);
		ws_parser_feed(&p, (char *) buf, 10, &ev);
		CHECK_INT(ev.type, WS_EV_ERROR);
		CHECK_INT(ev.close_code, 1007);
		/* ignores further input */
		CHECK_INT(ws_parser_feed(&p, (char *) buf + 10, len - 10, &ev), len - 10);
		CHECK_INT(ev.type, WS_EV_NONE);
		ws_parser_free(&p);
	}

	/* close frames: 1 byte, bad codes, bad reason */
	len = put(buf, 0, WS_OP_CLOSE, "\x03", 1);
	expect_error(buf, len, 100, 1002, "close 1 byte");
	{
		static const int bad[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100,
		2000, 2999, 5000, 65535};
		static const int good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
		1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
		size_t		i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			char		pl[2] = {(char) (bad[i] >> 8), (char) bad[i]};

			len = put(buf, 0, WS_OP_CLOSE, pl, 2);
			expect_error(buf, len, 100, 1002, "bad close code");
			CHECK(!ws_close_code_valid(bad[i]));
		}
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		{
			char		pl[4] = {(char) (good[i] >> 8), (char) good[i], 'o', 'k'};
			Collected	c;

			len = put(buf, 0, WS_OP_CLOSE, pl, 4);
			run(&c, 100, buf, len, 0);
			CHECK(c.n == 1 && c.ev[0].type == WS_EV_CLOSE &&
				  c.ev[0].close_code == good[i] && strcmp(c.ev[0].reason, "ok") == 0);
			collected_free(&c);
			CHECK(ws_close_code_valid(good[i]));
		}
	}
	len = put(buf, 0, WS_OP_CLOSE, "\x03\xe8\xce\xba\xe1\xbd", 6);
	expect_error(buf, len, 100, 1007, "close reason utf8");

	/* the unmasked-frame reason phrase */
	{
		WsParser	p;
		WsEvent		ev;

		len = put_frame(buf, 0, 0x80 | WS_OP_TEXT, "hi", 2, false, 0);
		ws_parser_init(&p, 100);
		ws_parser_feed(&p, (char *) buf, len, &ev);
		CHECK_STR(ev.reason, "frame is not masked");
		ws_parser_free(&p);
	}

	/* an error in the middle of a fragmented message frees its buffer */
	len = put_frame(buf, 0, WS_OP_TEXT, big, 100, true, 0);
	len = put_frame(buf, len, 0x80 | WS_OP_CONT, big, 1, false, 0);
	expect_error(buf, len, 1000, 1002, "unmasked continuation");
}

/* Server frame header encoding. */
static void
test_header_encoding(void)
{
	unsigned char h[WS_MAX_HEADER_LEN];

	CHECK_INT(ws_frame_header(h, WS_OP_TEXT, 0, true), 2);
	CHECK(h[0] == 0x81 && h[1] == 0);
	CHECK_INT(ws_frame_header(h, WS_OP_BINARY, 125, true), 2);
	CHECK(h[0] == 0x82 && h[1] == 125);
	CHECK_INT(ws_frame_header(h, WS_OP_TEXT, 126, false), 4);
	CHECK(h[0] == 0x01 && h[1] == 126 && h[2] == 0 && h[3] == 126);
	CHECK_INT(ws_frame_header(h, WS_OP_CONT, 65535, true), 4);
	CHECK(h[0] == 0x80 && h[1] == 126 && h[2] == 0xff && h[3] == 0xff);
	CHECK_INT(ws_frame_header(h, WS_OP_TEXT, 65536, true), 10);
	CHECK(h[0] == 0x81 && h[1] == 127 && h[2] == 0 && h[3] == 0 && h[4] == 0 &&
		  h[5] == 0 && h[6] == 0 && h[7] == 1 && h[8] == 0 && h[9] == 0);
	CHECK_INT(ws_frame_header(h, WS_OP_PING, 3, true), 2);
	CHECK(h[0] == 0x89 && h[1] == 3);
	CHECK_INT(ws_frame_header(h, WS_OP_CLOSE, 2, true), 2);
	CHECK(h[0] == 0x88);
}

/* Close payload building and truncation on a UTF-8 boundary. */
static void
test_close_payload(void)
{
	unsigned char out[125];
	char		reason[300];
	size_t		n;
	int			i;

	n = ws_close_payload(out, 1000, "bye");
	CHECK_INT(n, 5);
	CHECK(out[0] == 0x03 && out[1] == 0xe8 && memcmp(out + 2, "bye", 3) == 0);
	CHECK_INT(ws_close_payload(out, 1009, NULL), 2);
	CHECK(out[0] == 0x03 && out[1] == 0xf1);
	CHECK_INT(ws_close_payload(out, 1001, ""), 2);
	CHECK_INT(ws_close_payload(out, 1005, "x"), 0);
	CHECK_INT(ws_close_payload(out, 0, "x"), 0);

	/* ASCII longer than 123 is cut at 123 */
	memset(reason, 'a', 200);
	reason[200] = '\0';
	CHECK_INT(ws_close_payload(out, 1000, reason), 125);

	/* 2-byte characters: 122 bytes fit (61 chars), 123 would split one */
	for (i = 0; i < 100; i++)
		memcpy(reason + 2 * i, "\xc3\xa9", 2);
	reason[200] = '\0';
	n = ws_close_payload(out, 1000, reason);
	CHECK_INT(n, 2 + 122);
	CHECK(utf8_valid((char *) out + 2, n - 2));

	/* 4-byte characters after one ASCII byte: 1 + 4 * 30 = 121 */
	reason[0] = 'x';
	for (i = 0; i < 50; i++)
		memcpy(reason + 1 + 4 * i, "\xf0\x9f\x98\x80", 4);
	reason[201] = '\0';
	n = ws_close_payload(out, 4000, reason);
	CHECK_INT(n, 2 + 121);
	CHECK(out[0] == 0x0f && out[1] == 0xa0);
	CHECK(utf8_valid((char *) out + 2, n - 2));

	/* invalid UTF-8 in the reason is cut before the bad byte */
	n = ws_close_payload(out, 1011, "bad\xff tail");
	CHECK_INT(n, 5);

	/* a built payload parses back */
	{
		unsigned char buf[200];
		size_t		len;
		Collected	c;

		n = ws_close_payload(out, 3001, "caf\xc3\xa9");
		len = put(buf, 0, WS_OP_CLOSE, (char *) out, n);
		run(&c, 10, buf, len, 0);
		CHECK(c.n == 1 && c.ev[0].type == WS_EV_CLOSE && c.ev[0].close_code == 3001);
		CHECK(c.n == 1 && strcmp(c.ev[0].reason, "caf\xc3\xa9") == 0);
		collected_free(&c);
	}
}

/* UTF-8 validator cases. */
static void
test_utf8(void)
{
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid(NULL, 0));
	CHECK(utf8_valid("plain ascii", 11));
	CHECK(utf8_valid("\x00", 1));
	CHECK(utf8_valid("\xc2\x80", 2));	/* U+0080 */
	CHECK(utf8_valid("\xdf\xbf", 2));	/* U+07FF */
	CHECK(utf8_valid("\xe0\xa0\x80", 3));	/* U+0800 */
	CHECK(utf8_valid("\xed\x9f\xbf", 3));	/* U+D7FF */
	CHECK(utf8_valid("\xee\x80\x80", 3));	/* U+E000 */
	CHECK(utf8_valid("\xef\xbf\xbf", 3));	/* U+FFFF */
	CHECK(utf8_valid("\xf0\x90\x80\x80", 4));	/* U+10000 */
	CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4));	/* U+10FFFF */
	CHECK(utf8_valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11));

	CHECK(!utf8_valid("\x80", 1));	/* lone continuation */
	CHECK(!utf8_valid("\xbf", 1));
	CHECK(!utf8_valid("\xc0\x80", 2));	/* overlong NUL */
	CHECK(!utf8_valid("\xc1\xbf", 2));	/* overlong */
	CHECK(!utf8_valid("\xe0\x9f\xbf", 3));	/* overlong 3-byte */
	CHECK(!utf8_valid("\xf0\x8f\xbf\xbf", 4));	/* overlong 4-byte */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* U+D800 */
	CHECK(!utf8_valid("\xed\xbf\xbf", 3));	/* U+DFFF */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* U+110000 */
	CHECK(!utf8_valid("\xf5\x80\x80\x80", 4));
	CHECK(!utf8_valid("\xfe", 1));
	CHECK(!utf8_valid("\xff", 1));
	CHECK(!utf8_valid("\xc3", 1));	/* truncated */
	CHECK(!utf8_valid("\xe2\x82", 2));
	CHECK(!utf8_valid("\xf0\x9f\x98", 3));
	CHECK(!utf8_valid("\xc3\x28", 2));	/* bad continuation */
	CHECK(!utf8_valid("\xe2\x28\xa1", 3));

	CHECK_INT(utf8_valid_prefix("ab\xe2\x82", 4), 2);
	CHECK_INT(utf8_valid_prefix("ab\xe2\x82\xac", 5), 5);
	CHECK_INT(utf8_valid_prefix("\xff", 1), 0);
	CHECK_INT(utf8_valid_prefix(NULL, 0), 0);

	/* split multi-byte sequences across fragments (and across feeds) */
	{
		const char *s = "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9";
		size_t		slen = strlen(s);
		size_t		cut;

		for (cut = 0; cut <= slen; cut++)
		{
			unsigned char buf[64];
			size_t		len;
			Collected	c;

			len = put_frame(buf, 0, WS_OP_TEXT, s, cut, true, 0);
			len = put_frame(buf, len, 0x80 | WS_OP_CONT, s + cut, slen - cut, true, 0);
			run(&c, 100, buf, len, 1);
			CHECK(c.n == 1 && c.ev[0].type == WS_EV_TEXT && strcmp(c.ev[0].data, s) == 0);
			collected_free(&c);
		}
	}
}

/* Runs every test group. */
int
main(void)
{
	test_accept_key();
	test_single_frames();
	test_fragmented();
	test_lengths();
	test_errors();
	test_header_encoding();
	test_close_payload();
	test_utf8();
	UNIT_DONE();
}
