/*
 * fuzz_ws_frame.c
 *		libFuzzer target for the WebSocket codec and the base64url wrapper.
 *
 * The input is fed to a parser with a small max_message in pieces whose
 * sizes come from the input itself, every event is checked against the
 * parser's contract, and the whole input is fed again in one piece and the
 * two event streams are compared.  The input also goes through base64url
 * round trips and the strict decoder, the accept-key function and the
 * close-payload builder.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "ws_frame.h"

#define FUZZ_MAX_MESSAGE 300
#define FUZZ_MAX_EVENTS 4096

/* Aborts (a finding) when cond is false. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

typedef struct FuzzTrace
{
	int			n;
	int			type[FUZZ_MAX_EVENTS];
	size_t		len[FUZZ_MAX_EVENTS];
	int			code[FUZZ_MAX_EVENTS];
	uint32_t	sum[FUZZ_MAX_EVENTS];
} FuzzTrace;

/* A cheap checksum of event data, to compare two runs. */
static uint32_t
fuzz_sum(const char *d, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) d[i]) * 16777619u;
	return h;
}

/* Checks one event against the parser contract and records it. */
static void
fuzz_check_event(const WsEvent *ev, FuzzTrace *t)
{
	switch (ev->type)
	{
		case WS_EV_TEXT:
			FUZZ_ASSERT(ev->data != NULL);
			FUZZ_ASSERT(ev->len <= FUZZ_MAX_MESSAGE);
			FUZZ_ASSERT(utf8_valid(ev->data, ev->len));
			FUZZ_ASSERT(ev->data[ev->len] == '\0');
			break;
		case WS_EV_BINARY:
			FUZZ_ASSERT(ev->data != NULL);
			FUZZ_ASSERT(ev->len <= FUZZ_MAX_MESSAGE);
			break;
		case WS_EV_PING:
		case WS_EV_PONG:
			FUZZ_ASSERT(ev->data != NULL);
			FUZZ_ASSERT(ev->len <= 125);
			FUZZ_ASSERT(ev->data[ev->len] == '\0');
			break;
		case WS_EV_CLOSE:
			FUZZ_ASSERT(ev->data != NULL && ev->reason != NULL);
			FUZZ_ASSERT(ev->len <= 125 && ev->len != 1);
			FUZZ_ASSERT(ev->close_code == 1005 ? ev->len == 0 :
						ws_close_code_valid(ev->close_code));
			FUZZ_ASSERT(strlen(ev->reason) <= 123);
			break;
		case WS_EV_ERROR:
			FUZZ_ASSERT(ev->reason != NULL && ev->reason[0] != '\0');
			FUZZ_ASSERT(ev->close_code == 1002 || ev->close_code == 1007 ||
						ev->close_code == 1009 || ev->close_code == 1011);
			break;
		case WS_EV_NONE:
			abort();
	}
	if (t->n < FUZZ_MAX_EVENTS)
	{
		t->type[t->n] = ev->type;
		t->len[t->n] = ev->len;
		t->code[t->n] = ev->close_code;
		t->sum[t->n] = ev->data ? fuzz_sum(ev->data, ev->len) : 0;
		t->n++;
	}
}

/* Feeds data in pieces sized by the seed bytes (0 = all at once). */
static void
fuzz_parse(const uint8_t *data, size_t size, const uint8_t *sizes,
		   size_t nsizes, FuzzTrace *t)
{
	WsParser	p;
	size_t		off = 0;
	size_t		k = 0;
	bool		finished = false;

	t->n = 0;
	ws_parser_init(&p, FUZZ_MAX_MESSAGE);
	while (off < size)
	{
		size_t		piece = size - off;
		size_t		poff = 0;

		if (nsizes > 0)
		{
			piece = (size_t) sizes[k++ % nsizes] % 17 + 1;
			if (piece > size - off)
				piece = size - off;
		}
		while (poff < piece)
		{
			WsEvent		ev;
			size_t		n = ws_parser_feed(&p, (const char *) data + off + poff,
										   piece - poff, &ev);

			FUZZ_ASSERT(n <= piece - poff);
			poff += n;
			if (ev.type == WS_EV_NONE)
			{
				FUZZ_ASSERT(poff == piece);
				break;
			}
			FUZZ_ASSERT(!finished);
			fuzz_check_event(&ev, t);
			if (ev.type == WS_EV_CLOSE || ev.type == WS_EV_ERROR)
				finished = true;
		}
		off += piece;
	}
	ws_parser_free(&p);
}

/* Round-trips data through base64url; decoding the input itself is strict. */
static void
fuzz_base64url(const uint8_t *data, size_t size)
{
	char	   *url = malloc(BASE64URL_ENCODED_LEN(size) + 1);
	unsigned char *dec = malloc(BASE64URL_DECODED_MAX(BASE64URL_ENCODED_LEN(size)) +
								BASE64URL_DECODED_MAX(size));
	size_t		dlen = 0;

	if (url == NULL || dec == NULL)
		abort();
	FUZZ_ASSERT(base64url_encode(data, size, url) == BASE64URL_ENCODED_LEN(size));
	FUZZ_ASSERT(strlen(url) == BASE64URL_ENCODED_LEN(size));
	FUZZ_ASSERT(strspn(url, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
				strlen(url));
	FUZZ_ASSERT(base64url_decode(url, strlen(url), dec, &dlen));
	FUZZ_ASSERT(dlen == size && (size == 0 || memcmp(dec, data, size) == 0));

	/* decoding arbitrary input must be safe, and canonical when accepted */
	if (base64url_decode((const char *) data, size, dec, &dlen))
	{
		char	   *again = malloc(BASE64URL_ENCODED_LEN(dlen) + 1);

		FUZZ_ASSERT(again != NULL && dlen <= BASE64URL_DECODED_MAX(size));
		FUZZ_ASSERT(base64url_encode(dec, dlen, again) == size &&
					memcmp(again, data, size) == 0);
		free(again);
	}
	free(url);
	free(dec);
}

/* Exercises the accept key, close payload and UTF-8 helpers on the input. */
static void
fuzz_helpers(const uint8_t *data, size_t size)
{
	char		accept[29];
	unsigned char close[125];
	char	   *s = malloc(size + 1);
	size_t		n;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (size >= 24 && ws_accept_key(s, 24, accept))
	{
		/* only 22 characters of the alphabet and "==" make a 16-byte key */
		FUZZ_ASSERT(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == 22);
		FUZZ_ASSERT(s[22] == '=' && s[23] == '=');
		FUZZ_ASSERT(strlen(accept) == WS_ACCEPT_KEY_LEN && accept[27] == '=');
	}

	n = ws_close_payload(close, 1000, s);
	FUZZ_ASSERT(n >= 2 && n <= 125);
	FUZZ_ASSERT(utf8_valid((char *) close + 2, n - 2));

	n = utf8_valid_prefix(s, size);
	FUZZ_ASSERT(n <= size);
	FUZZ_ASSERT(utf8_valid(s, n));
	FUZZ_ASSERT(utf8_valid(s, size) == (n == size));
	free(s);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FuzzTrace whole,
				pieces;
	size_t		nsizes = size < 4 ? size : 4;
	int			i;

	/* the first bytes double as piece sizes; the frames are the whole input */
	fuzz_parse(data, size, NULL, 0, &whole);
	fuzz_parse(data, size, data, nsizes, &pieces);
	FUZZ_ASSERT(whole.n == pieces.n);
	for (i = 0; i < whole.n; i++)
	{
		FUZZ_ASSERT(whole.type[i] == pieces.type[i]);
		FUZZ_ASSERT(whole.len[i] == pieces.len[i]);
		FUZZ_ASSERT(whole.code[i] == pieces.code[i]);
		FUZZ_ASSERT(whole.sum[i] == pieces.sum[i]);
	}

	fuzz_base64url(data, size);
	fuzz_helpers(data, size);
	return 0;
}
