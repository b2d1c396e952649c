/*
 * fuzz_http_parser.c
 *		libFuzzer target for the incremental HTTP/1.1 request parser.
 *
 * The first input byte chooses how many piece sizes follow; the rest is the
 * request stream, fed in pieces of those sizes (cycling).  The same stream is
 * also fed in one piece, and the two parses must agree exactly: feeding must
 * not depend on how the bytes were split.  Every finished request is run
 * through the query iterator, the header helpers and the Host and Origin
 * checks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

static const HttpLimits fuzz_limits = {64, 512, 16, 1024};

/* FNV-1a over a byte range, folded into h. */
static uint64_t
fuzz_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *s = data;

	for (size_t i = 0; i < len; i++)
	{
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Hash everything a finished request exposes, and exercise the helpers. */
static uint64_t
fuzz_request(uint64_t h, const HttpRequest *r)
{
	const char *cur = r->query;
	const char *end = r->query + r->query_len;
	char	   *k,
			   *v;
	bool		err;
	size_t		len;
	const char *val;

	h = fuzz_hash(h, r->method, strlen(r->method));
	h = fuzz_hash(h, r->target, r->target_len);
	h = fuzz_hash(h, r->path, strlen(r->path) + 1);
	h = fuzz_hash(h, r->query, r->query_len);
	h = fuzz_hash(h, &r->version_minor, sizeof(r->version_minor));
	h = fuzz_hash(h, &r->content_length, sizeof(r->content_length));
	h = fuzz_hash(h, &r->chunked, sizeof(r->chunked));
	h = fuzz_hash(h, &r->keep_alive, sizeof(r->keep_alive));
	h = fuzz_hash(h, &r->upgrade_websocket, sizeof(r->upgrade_websocket));
	for (int i = 0; i < r->nheaders; i++)
	{
		h = fuzz_hash(h, r->headers[i].name, r->headers[i].name_len);
		h = fuzz_hash(h, r->headers[i].value, r->headers[i].value_len);
	}
	h = fuzz_hash(h, r->body, r->body_len + 1);
	if (r->host.host)
	{
		h = fuzz_hash(h, r->host.host, r->host.host_len);
		h = fuzz_hash(h, &r->host.port, sizeof(r->host.port));
		h = fuzz_hash(h, &r->host.is_ip, sizeof(r->host.is_ip));
		if (http_host_matches(r->host.host, r->host.host_len, ".localhost"))
			h = fuzz_hash(h, "lh", 2);
	}
	val = http_request_header(r, "Origin", &len);
	if (val)
	{
		HttpAuthority origin;
		bool		https;

		if (http_parse_origin(val, len, &https, &origin))
		{
			h = fuzz_hash(h, origin.host, origin.host_len);
			if (r->host.host && http_same_authority(&origin, &r->host, https ? 443 : 80))
				h = fuzz_hash(h, "so", 2);
		}
	}

	while (http_query_next(&cur, end, &k, &v, &err))
	{
		h = fuzz_hash(h, k, strlen(k));
		h = fuzz_hash(h, v, strlen(v));
		free(k);
		free(v);
	}
	h = fuzz_hash(h, &err, sizeof(err));

	val = http_request_header(r, "Accept-Encoding", &len);
	if (val && http_header_has_token(val, len, "gzip"))
		h = fuzz_hash(h, "gz", 2);
	if (http_request_has_token(r, "Connection", "keep-alive"))
		h = fuzz_hash(h, "ka", 2);
	if (r->nheaders > 0)
	{
		char	   *d = http_percent_decode(r->headers[0].value, r->headers[0].value_len, true);

		if (d)
		{
			h = fuzz_hash(h, d, strlen(d));
			free(d);
		}
	}
	return h;
}

/* Hash the parser's state after finished requests were drained. */
static uint64_t
fuzz_end(uint64_t h, const HttpParser *p)
{
	h = fuzz_hash(h, &p->state, sizeof(p->state));
	if (p->state == HTTP_PARSE_ERROR)
	{
		h = fuzz_hash(h, &p->error_status, sizeof(p->error_status));
		h = fuzz_hash(h, p->error_reason, strlen(p->error_reason));
	}
	return h;
}

/* Parse the stream in the given piece sizes (nsizes 0 = in one piece). */
static uint64_t
fuzz_parse(const uint8_t *data, size_t len, const uint8_t *sizes, size_t nsizes)
{
	HttpParser	p;
	uint64_t	h = 14695981039346656037ULL;
	size_t		pos = 0;
	size_t		si = 0;

	http_parser_init(&p, &fuzz_limits);
	while (pos < len && p.state != HTTP_PARSE_ERROR)
	{
		size_t		n = nsizes ? (size_t) sizes[si++ % nsizes] + 1 : len;

		if (n > len - pos)
			n = len - pos;
		http_parser_feed(&p, (const char *) data + pos, n);
		pos += n;
		while (p.state == HTTP_PARSE_DONE)
		{
			h = fuzz_request(h, &p.req);
			http_parser_next(&p);
		}
		/* unconsumed bytes stay below the longest line the limits allow */
		if (p.state == HTTP_PARSE_INCOMPLETE &&
			http_parser_buffered(&p) > HTTP_MAX_CHUNK_LINE + 1)
			abort();
	}
	h = fuzz_end(h, &p);
	http_parser_free(&p);
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		nsizes;
	const uint8_t *sizes;

	if (size < 1)
		return 0;
	nsizes = data[0] % 8;
	if (size < 1 + nsizes)
		return 0;
	sizes = data + 1;
	data += 1 + nsizes;
	size -= 1 + nsizes;

	if (nsizes > 0 &&
		fuzz_parse(data, size, sizes, nsizes) != fuzz_parse(data, size, NULL, 0))
		abort();
	if (nsizes == 0)
		fuzz_parse(data, size, NULL, 0);
	return 0;
}
