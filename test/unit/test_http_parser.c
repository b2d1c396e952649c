/*
 * test_http_parser.c
 *		Unit tests for the incremental HTTP/1.1 request parser in
 *		src/lib/http_parser.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"
#include "unit.h"

static const HttpLimits small_limits = {64, 512, 8, 1024};

/* Append printf-style text to a bounded transcript buffer. */
static void
tr_add(char *out, size_t outsz, const char *fmt, const char *s, size_t n)
{
	size_t		used = strlen(out);

	if (used + 1 >= outsz)
		return;
	snprintf(out + used, outsz - used, fmt, (int) n, s);
}

/* Describe a finished request, for comparing parses. */
static void
tr_request(char *out, size_t outsz, const HttpRequest *r)
{
	char		tmp[256];

	snprintf(tmp, sizeof(tmp), "[%s v%d cl=%lld ch=%d ka=%d ws=%d nh=%d bl=%zu]",
			 r->method, r->version_minor, r->content_length, r->chunked,
			 r->keep_alive, r->upgrade_websocket, r->nheaders, r->body_len);
	tr_add(out, outsz, "%.*s", tmp, strlen(tmp));
	tr_add(out, outsz, "t=%.*s;", r->target, r->target_len);
	tr_add(out, outsz, "p=%.*s;", r->path, strlen(r->path));
	tr_add(out, outsz, "q=%.*s;", r->query, r->query_len);
	for (int i = 0; i < r->nheaders; i++)
	{
		tr_add(out, outsz, "%.*s:", r->headers[i].name, r->headers[i].name_len);
		tr_add(out, outsz, "%.*s;", r->headers[i].value, r->headers[i].value_len);
	}
	tr_add(out, outsz, "b=%.*s\n", r->body, r->body_len);
}

/* Describe the parser's end state. */
static void
tr_end(char *out, size_t outsz, const HttpParser *p)
{
	char		tmp[256];

	snprintf(tmp, sizeof(tmp), "end state=%d status=%d reason=%s buffered=%zu",
			 (int) p->state, p->state == HTTP_PARSE_ERROR ? p->error_status : 0,
			 p->state == HTTP_PARSE_ERROR ? p->error_reason : "",
			 p->state == HTTP_PARSE_ERROR ? 0 : http_parser_buffered(p));
	tr_add(out, outsz, "%.*s", tmp, strlen(tmp));
}

/*
 * Parse input fed in pieces: the first piece has first bytes, the rest step
 * bytes each (step 0 = everything at once), draining every DONE request.
 */
static void
transcript(const HttpLimits *lim, const char *in, size_t len, size_t first,
		   size_t step, char *out, size_t outsz)
{
	HttpParser	p;
	size_t		pos = 0;

	out[0] = '\0';
	http_parser_init(&p, lim);
	while (pos < len)
	{
		size_t		n = (pos == 0 && first > 0) ? first : (step ? step : len);

		if (n > len - pos)
			n = len - pos;
		http_parser_feed(&p, in + pos, n);
		pos += n;
		while (p.state == HTTP_PARSE_DONE)
		{
			tr_request(out, outsz, &p.req);
			http_parser_next(&p);
		}
		if (p.state == HTTP_PARSE_ERROR)
			break;
	}
	tr_end(out, outsz, &p);
	http_parser_free(&p);
}

/* Feed a whole string at once into a fresh parser. */
static HttpParseState
parse_str(HttpParser *p, const HttpLimits *lim, const char *s)
{
	http_parser_init(p, lim);
	return http_parser_feed(p, s, strlen(s));
}

/* Expect an error status and reason for a whole-buffer parse. */
static void
expect_error(const HttpLimits *lim, const char *s, int status, const char *reason)
{
	HttpParser	p;
	HttpParseState st = parse_str(&p, lim, s);

	CHECK_INT(st, HTTP_PARSE_ERROR);
	CHECK_INT(p.error_status, status);
	if (st == HTTP_PARSE_ERROR)
		CHECK_STR(p.error_reason, reason);
	if (st != HTTP_PARSE_ERROR || p.error_status != status)
		fprintf(stderr, "  input was: %s\n", s);
	http_parser_free(&p);
}

/* Every split point and byte-at-a-time feeding match the whole parse. */
static void
check_splits(const HttpLimits *lim, const char *in)
{
	static char whole[65536],
				part[65536];
	size_t		len = strlen(in);
	bool		same = true;

	transcript(lim, in, len, 0, 0, whole, sizeof(whole));
	transcript(lim, in, len, 0, 1, part, sizeof(part));
	if (strcmp(whole, part) != 0)
	{
		same = false;
		fprintf(stderr, "byte-at-a-time differs:\n%s\n---\n%s\n", whole, part);
	}
	for (size_t i = 1; i < len && same; i++)
	{
		transcript(lim, in, len, i, 0, part, sizeof(part));
		if (strcmp(whole, part) != 0)
		{
			same = false;
			fprintf(stderr, "split at %zu differs:\n%s\n---\n%s\n", i, whole, part);
		}
		transcript(lim, in, len, i, 3, part, sizeof(part));
		if (strcmp(whole, part) != 0)
		{
			same = false;
			fprintf(stderr, "split at %zu/3 differs:\n%s\n---\n%s\n", i, whole, part);
		}
	}
	CHECK(same);
}

/* A plain GET request. */
static void
test_simple_get(void)
{
	HttpParser	p;
	const char *v;
	size_t		vlen;

	CHECK_INT(parse_str(&p, NULL,
						"GET /a%20b/c?x=1&y=%41 HTTP/1.1\r\nHost: example.com\r\n"
						"Accept:  text/html \t\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_STR(p.req.method, "GET");
	CHECK_INT(p.req.target_len, strlen("/a%20b/c?x=1&y=%41"));
	CHECK(memcmp(p.req.target, "/a%20b/c?x=1&y=%41", p.req.target_len) == 0);
	CHECK_STR(p.req.path, "/a b/c");
	CHECK_INT(p.req.query_len, 9);
	CHECK(memcmp(p.req.query, "x=1&y=%41", 9) == 0);
	CHECK_INT(p.req.version_minor, 1);
	CHECK_INT(p.req.nheaders, 2);
	CHECK_INT(p.req.content_length, -1);
	CHECK(!p.req.chunked);
	CHECK(p.req.keep_alive);
	CHECK(!p.req.upgrade_websocket);
	CHECK(p.req.body != NULL);
	CHECK_INT(p.req.body_len, 0);
	CHECK_STR(p.req.body, "");
	CHECK(p.headers_done);
	v = http_request_header(&p.req, "accept", &vlen);
	CHECK(v != NULL && vlen == 9 && memcmp(v, "text/html", 9) == 0);
	v = http_request_header(&p.req, "HOST", NULL);
	CHECK(v != NULL && memcmp(v, "example.com", 11) == 0);
	CHECK(http_request_header(&p.req, "Cookie", &vlen) == NULL);
	CHECK_INT(vlen, 0);
	CHECK_INT(http_parser_buffered(&p), 0);
	/* next with nothing buffered waits for more */
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_INCOMPLETE);
	CHECK_INT(p.req.nheaders, 0);
	http_parser_free(&p);

	/* no query, leading empty lines, no Host in HTTP/1.0, OPTIONS * */
	CHECK_INT(parse_str(&p, NULL, "\r\n\r\nGET / HTTP/1.0\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "/");
	CHECK(p.req.host.host == NULL);
	CHECK(p.req.query != NULL);
	CHECK_INT(p.req.query_len, 0);
	CHECK_INT(p.req.version_minor, 0);
	CHECK(!p.req.keep_alive);
	http_parser_free(&p);

	CHECK_INT(parse_str(&p, NULL, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "*");
	CHECK_INT(p.req.nheaders, 1);
	http_parser_free(&p);
	CHECK_INT(parse_str(&p, NULL, "OPTIONS * HTTP/1.0\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_INT(p.req.nheaders, 0);
	CHECK(p.req.headers == NULL);
	http_parser_free(&p);

	/* HTTP/1.2 is answered as 1.1 */
	CHECK_INT(parse_str(&p, NULL, "GET / HTTP/1.2\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_INT(p.req.version_minor, 1);
	http_parser_free(&p);

	/* incomplete stays incomplete, and free of a never-fed parser works */
	CHECK_INT(parse_str(&p, NULL, "GET / HTTP/1.1\r\nHost: x\r\n"), HTTP_PARSE_INCOMPLETE);
	CHECK(p.headers_done == false);
	http_parser_free(&p);
	http_parser_init(&p, NULL);
	CHECK_INT(http_parser_feed(&p, NULL, 0), HTTP_PARSE_INCOMPLETE);
	http_parser_free(&p);
	http_parser_free(&p);
}

/* POST with a Content-Length body, arriving later than the headers. */
static void
test_post_content_length(void)
{
	HttpParser	p;

	CHECK_INT(parse_str(&p, NULL, "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
						"Content-Type: text/plain\r\n\r\nhello"), HTTP_PARSE_INCOMPLETE);
	CHECK(p.headers_done);
	CHECK_INT(p.req.content_length, 11);
	CHECK_INT(http_parser_feed(&p, " wor", 4), HTTP_PARSE_INCOMPLETE);
	CHECK_INT(http_parser_feed(&p, "ldGET", 5), HTTP_PARSE_DONE);
	CHECK_STR(p.req.method, "POST");
	CHECK_INT(p.req.body_len, 11);
	CHECK_STR(p.req.body, "hello world");
	CHECK_INT(http_parser_buffered(&p), 3);
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_INCOMPLETE);
	CHECK_INT(http_parser_feed(&p, " / HTTP/1.1\r\nHost: h\r\n\r\n", 24), HTTP_PARSE_DONE);
	CHECK_STR(p.req.method, "GET");
	http_parser_free(&p);

	/* identical duplicate Content-Length is accepted; zero means no body */
	CHECK_INT(parse_str(&p, NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
						"content-length: 3\r\n\r\nabc"), HTTP_PARSE_DONE);
	CHECK_STR(p.req.body, "abc");
	http_parser_free(&p);
	CHECK_INT(parse_str(&p, NULL, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
			  HTTP_PARSE_DONE);
	CHECK_INT(p.req.content_length, 0);
	CHECK_INT(p.req.body_len, 0);
	http_parser_free(&p);

	/* a body exactly at the limit */
	{
		char		req[2048];
		int			n = snprintf(req, sizeof(req),
								 "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n");

		memset(req + n, 'z', 1024);
		CHECK_INT(parse_str(&p, &small_limits, "") , HTTP_PARSE_INCOMPLETE);
		CHECK_INT(http_parser_feed(&p, req, (size_t) n + 1024), HTTP_PARSE_DONE);
		CHECK_INT(p.req.body_len, 1024);
		CHECK_INT(strlen(p.req.body), 1024);
		http_parser_free(&p);
	}
}

/* Chunked bodies with extensions and trailers. */
static void
test_chunked(void)
{
	HttpParser	p;

	CHECK_INT(parse_str(&p, NULL,
						"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
						"5;name=value\r\nhello\r\n"
						"1 ; a=\"b\"\r\n \r\n"
						"00000a\r\n0123456789\r\n"
						"0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK(p.req.chunked);
	CHECK_INT(p.req.content_length, -1);
	CHECK_INT(p.req.body_len, 16);
	CHECK_STR(p.req.body, "hello 0123456789");
	/* trailers are ignored: not among the headers */
	CHECK(http_request_header(&p.req, "X-Trailer", NULL) == NULL);
	CHECK_INT(p.req.nheaders, 2);
	http_parser_free(&p);

	/* gzip, chunked is an unsupported coding; uppercase chunked works */
	CHECK_INT(parse_str(&p, NULL, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n"
						"0\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_INT(p.req.body_len, 0);
	CHECK_STR(p.req.body, "");
	http_parser_free(&p);

	/* exactly max_body in chunks */
	{
		char		req[4096];
		int			n = snprintf(req, sizeof(req),
								 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
								 "200\r\n");

		memset(req + n, 'a', 512);
		n += 512;
		n += snprintf(req + n, sizeof(req) - (size_t) n, "\r\n200\r\n");
		memset(req + n, 'b', 512);
		n += 512;
		n += snprintf(req + n, sizeof(req) - (size_t) n, "\r\n0\r\n\r\n");
		http_parser_init(&p, &small_limits);
		CHECK_INT(http_parser_feed(&p, req, (size_t) n), HTTP_PARSE_DONE);
		CHECK_INT(p.req.body_len, 1024);
		CHECK(p.req.body[0] == 'a' && p.req.body[1023] == 'b' && p.req.body[1024] == '\0');
		http_parser_free(&p);
	}
}

/* Several requests in one read, and pointers surviving later feeds. */
static void
test_pipelining(void)
{
	HttpParser	p;
	const char *three =
		"GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
		"PUT /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
		"GET /fo";

	CHECK_INT(parse_str(&p, NULL, three), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "/one");

	/*
	 * Feeding while DONE only buffers; a large feed moves the buffer, and the
	 * request must be untouched.
	 */
	{
		char	   *big = malloc(100000);
		const char *target = p.req.target;
		const char *host = http_request_header(&p.req, "Host", NULL);

		memset(big, 'x', 100000);
		CHECK_INT(http_parser_feed(&p, "ur HTTP/1.1\r\nHost: h\r\n\r\n", 24), HTTP_PARSE_DONE);
		CHECK_INT(http_parser_feed(&p, big, 0), HTTP_PARSE_DONE);
		CHECK(p.req.target == target);
		CHECK(memcmp(target, "/one", 4) == 0);
		CHECK(host != NULL && host[0] == 'a');
		CHECK_STR(p.req.path, "/one");
		free(big);
	}

	CHECK_INT(http_parser_next(&p), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "/two");
	CHECK_STR(p.req.body, "hi");
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_DONE);
	CHECK_STR(p.req.method, "PUT");
	CHECK_STR(p.req.body, "abc");
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "/four");
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_INCOMPLETE);
	CHECK_INT(http_parser_buffered(&p), 0);
	http_parser_free(&p);

	/* empty lines between pipelined requests are skipped */
	CHECK_INT(parse_str(&p, NULL, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
			  HTTP_PARSE_DONE);
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_DONE);
	CHECK_STR(p.req.path, "/b");
	http_parser_free(&p);

	/* ERROR is sticky: next and feed change nothing */
	CHECK_INT(parse_str(&p, NULL, "get / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_ERROR);
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_ERROR);
	CHECK_INT(http_parser_feed(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 18), HTTP_PARSE_ERROR);
	CHECK_INT(p.error_status, 400);
	http_parser_free(&p);
}

/* The same result however the input is split. */
static void
test_splitting(void)
{
	static const char *inputs[] = {
		"GET /x?a=1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"\r\n\nPOST /p HTTP/1.0\nContent-Length: 5\nConnection: keep-alive\n\n12345"
		"GET /q HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia"
		"\r\n0\r\nT: v\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\nGET /partial",
		"GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaa HTTP/1.1\r\nHost: h\r\n\r\n",
		"GETTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n",
		"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1\r\r\n\r\n",
		"GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
		"G\nET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
		"\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n\r\n\n",
		"GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nX: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\nGET / HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		check_splits(&small_limits, inputs[i]);

	/* header section exactly crossing the limit on its last byte(s) */
	{
		char		buf[600];
		HttpLimits	lim = small_limits;

		memset(buf, 0, sizeof(buf));
		strcpy(buf, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
		memset(buf + strlen(buf), 'v', 512 - strlen(buf) - 4);
		strcat(buf, "\r\n\r\n");
		CHECK_INT(strlen(buf), 512);
		check_splits(&lim, buf);
		lim.max_header_bytes = 511;
		check_splits(&lim, buf);
		lim.max_header_bytes = 510;
		check_splits(&lim, buf);
		lim.max_header_bytes = 509;
		check_splits(&lim, buf);
		lim.max_header_bytes = 20;
		lim.max_url = 4;
		check_splits(&lim, "GET /abcdefgh HTTP/1.1\r\nHost: h\r\n\r\n");
		check_splits(&lim, "get /abcdefgh HTTP/1.1\r\nHost: h\r\n\r\n");
		lim.max_header_bytes = 8;
		check_splits(&lim, "GET /abcdefgh HTTP/1.1\r\nHost: h\r\n\r\n");
		check_splits(&lim, "GETTTTTTTTTTTTTTTTTTTTTTT /abcdefgh HTTP/1.1\r\nHost: h\r\n\r\n");
	}
}

/* Every error status with its reason. */
static void
test_errors(void)
{
	HttpParser	p;
	const HttpLimits *L = &small_limits;

	/* 400 */
	expect_error(L, "get / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request method");
	expect_error(L, "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request method");
	expect_error(L, " GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request method");
	expect_error(L, "GET\r\n\r\n", 400, "malformed request line");
	expect_error(L, "GET /\r\n\r\n", 400, "malformed request line");
	expect_error(L, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line");
	expect_error(L, "GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400,
				 "request-target must start with \"/\"");
	expect_error(L, "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400,
				 "request-target \"*\" is only allowed with OPTIONS");
	expect_error(L, "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in request-target");
	expect_error(L, "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid character in request-target");
	expect_error(L, "GET / HTTX/1.1\r\n\r\n", 400, "malformed HTTP version");
	expect_error(L, "GET / HTTP/1.1 \r\n\r\n", 400, "malformed HTTP version");
	expect_error(L, "GET / HTTP/1\r\n\r\n", 400, "malformed HTTP version");
	expect_error(L, "GET / HTTP/1.10\r\n\r\n", 400, "malformed HTTP version");
	expect_error(L, "GET / HTTP/1.1\r\r\n\r\n", 400, "malformed HTTP version");
	expect_error(L, "GET /%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid percent-encoding in request path");
	expect_error(L, "GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid percent-encoding in request path");
	expect_error(L, "GET /a%g0 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid percent-encoding in request path");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n  folded\r\n\r\n", 400,
				 "obsolete header line folding is not allowed");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n", 400,
				 "obsolete header line folding is not allowed");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nBad Name: 1\r\n\r\n", 400,
				 "invalid character in header field name");
	expect_error(L, "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400,
				 "invalid character in header field name");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nA(b): 1\r\n\r\n", 400,
				 "invalid character in header field name");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n", 400, "empty header field name");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400, "header line without a colon");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nA: x\ry\r\n\r\n", 400,
				 "invalid character in header field value");
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nA: x\x7fy\r\n\r\n", 400,
				 "invalid character in header field value");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
				 400, "both Content-Length and Transfer-Encoding are present");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
				 400, "both Content-Length and Transfer-Encoding are present");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
				 400, "conflicting Content-Length headers");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400, "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", 400, "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400, "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400, "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400,
				 "invalid Content-Length");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400,
				 "invalid Transfer-Encoding");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400,
				 "invalid Transfer-Encoding");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 400,
				 "invalid chunk size");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n", 400,
				 "invalid chunk size");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\n", 400,
				 "invalid chunk size");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", 400,
				 "invalid chunk size");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\n", 400,
				 "invalid chunk extension");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd", 400,
				 "missing line break after chunk data");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rd", 400,
				 "missing line break after chunk data");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n bad\r\n\r\n",
				 400, "obsolete header line folding is not allowed");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n",
				 400, "header line without a colon");
	{
		char		big[HTTP_MAX_CHUNK_LINE + 200];
		int			n = snprintf(big, sizeof(big),
								 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;");

		/* detected before the line ends */
		memset(big + n, 'e', HTTP_MAX_CHUNK_LINE);
		big[n + HTTP_MAX_CHUNK_LINE] = '\0';
		expect_error(L, big, 400, "chunk size line is too long");
	}

	/* 413: announced length rejected before any body byte arrives */
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", 413,
				 "request body exceeds 1024 bytes");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n", 413,
				 "request body exceeds 1024 bytes");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", 413,
				 "request body exceeds 1024 bytes");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "ffffffffffffffffffffffffffffffff\r\n", 413, "request body exceeds 1024 bytes");
	{
		char		req[2048];
		int			n = snprintf(req, sizeof(req),
								 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
								 "200\r\n");

		memset(req + n, 'a', 512);
		n += 512;
		snprintf(req + n, sizeof(req) - (size_t) n, "\r\n201\r\n");
		expect_error(L, req, 413, "request body exceeds 1024 bytes");
	}

	/* 414, also before the request line ends */
	expect_error(L, "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				 414, "request-target exceeds 64 bytes");
	expect_error(L, "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n",
				 414, "request-target exceeds 64 bytes");
	{
		/* a 64-byte target is fine */
		char		req[128];

		strcpy(req, "GET /");
		memset(req + 5, 'a', 63);
		strcpy(req + 68, " HTTP/1.1\r\nHost: h\r\n\r\n");
		CHECK_INT(parse_str(&p, L, req), HTTP_PARSE_DONE);
		CHECK_INT(p.req.target_len, 64);
		http_parser_free(&p);
	}

	/* 431: too many bytes, detected before a line ends; too many fields */
	{
		char		big[1024];

		strcpy(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
		memset(big + strlen(big), 'v', 600);
		big[23 + 600] = '\0';
		expect_error(L, big, 431, "request header fields exceed 512 bytes");
	}
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n"
				 "H: 8\r\nI: 9\r\n\r\n", 431, "more than 8 request header fields");
	{
		/* trailers count toward the header byte limit */
		char		big[1024];
		int			n = snprintf(big, sizeof(big),
								 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
								 "0\r\nT: ");

		memset(big + n, 't', 500);
		big[n + 500] = '\0';
		expect_error(L, big, 431, "request header fields exceed 512 bytes");
	}

	/* 501 */
	expect_error(L, "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\nHost: h\r\n\r\n", 501, "request method is too long");
	expect_error(L, "ABCDEFGHIJKLMNOP", 501, "request method is too long");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
				 "unsupported transfer coding");
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
				 "unsupported transfer coding");
	CHECK_INT(parse_str(&p, L, "ABCDEFGHIJKLMNO / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_STR(p.req.method, "ABCDEFGHIJKLMNO");
	http_parser_free(&p);

	/* 505 */
	expect_error(L, "GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	expect_error(L, "GET / HTTP/2\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	expect_error(L, "GET / HTTP/0.9\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	expect_error(L, "GET / HTTP/3x\r\n\r\n", 400, "malformed HTTP version");

	/* zero limits */
	{
		HttpLimits	z = {64, 512, 0, 0};

		expect_error(&z, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", 431, "more than 0 request header fields");
		z.max_headers = 2;
		expect_error(&z, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", 413,
					 "request body exceeds 0 bytes");
		CHECK_INT(parse_str(&p, &z, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
		http_parser_free(&p);
	}
}

/* Query string iteration and percent-decoding. */
static void
test_query(void)
{
	const char *q = "a=1&&b=hello+world&c=%41%62%2b&flag&=empty&d=&e=x=y&";
	const char *cur = q;
	const char *end = q + strlen(q);
	char	   *k,
			   *v;
	bool		err;
	static const char *want[][2] = {
		{"a", "1"}, {"b", "hello world"}, {"c", "Ab+"}, {"flag", ""},
		{"", "empty"}, {"d", ""}, {"e", "x=y"},
	};
	int			i = 0;

	while (http_query_next(&cur, end, &k, &v, &err))
	{
		if (i < 7)
		{
			CHECK_STR(k, want[i][0]);
			CHECK_STR(v, want[i][1]);
		}
		i++;
		free(k);
		free(v);
	}
	CHECK_INT(i, 7);
	CHECK(!err);
	CHECK(k == NULL && v == NULL);
	/* calling again at the end stays at the end */
	CHECK(!http_query_next(&cur, end, &k, &v, &err));
	CHECK(!err);

	/* empty query */
	cur = q;
	CHECK(!http_query_next(&cur, q, &k, &v, &err));
	CHECK(!err);

	/* bad escape and %00 stop with an error */
	q = "x=1&y=%zz&z=3";
	cur = q;
	end = q + strlen(q);
	CHECK(http_query_next(&cur, end, &k, &v, &err));
	free(k);
	free(v);
	CHECK(!http_query_next(&cur, end, &k, &v, &err));
	CHECK(err);
	CHECK(k == NULL && v == NULL);
	q = "a%00b=1";
	cur = q;
	CHECK(!http_query_next(&cur, q + strlen(q), &k, &v, &err));
	CHECK(err);
	q = "a=%4";
	cur = q;
	CHECK(!http_query_next(&cur, q + strlen(q), &k, &v, &err));
	CHECK(err);

	/* a query of a parsed request */
	{
		HttpParser	p;

		CHECK_INT(parse_str(&p, NULL, "GET /s?name=J%C3%B6rg+M HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
		cur = p.req.query;
		CHECK(http_query_next(&cur, p.req.query + p.req.query_len, &k, &v, &err));
		CHECK_STR(k, "name");
		CHECK_STR(v, "J\xc3\xb6rg M");
		free(k);
		free(v);
		http_parser_free(&p);
	}

	/* http_percent_decode */
	{
		char	   *s = http_percent_decode("a%2Fb+c%7e", 10, false);

		CHECK_STR(s, "a/b+c~");
		free(s);
		s = http_percent_decode("a+b", 3, true);
		CHECK_STR(s, "a b");
		free(s);
		s = http_percent_decode("", 0, true);
		CHECK_STR(s, "");
		free(s);
		CHECK(http_percent_decode("%00", 3, false) == NULL);
		CHECK(http_percent_decode("ab%0", 4, false) == NULL);
		CHECK(http_percent_decode("%", 1, false) == NULL);
		CHECK(http_percent_decode("%x1", 3, false) == NULL);
		CHECK(http_percent_decode("a\0b", 3, false) == NULL);
		/* the length bounds the input: no read past it */
		s = http_percent_decode("ab%41", 2, false);
		CHECK_STR(s, "ab");
		free(s);
	}
}

/* Token matching in comma-separated header values. */
static void
test_tokens(void)
{
#define HT(v, t) http_header_has_token((v), strlen(v), (t))
	CHECK(HT("keep-alive, Upgrade", "upgrade"));
	CHECK(HT("keep-alive, Upgrade", "KEEP-ALIVE"));
	CHECK(!HT("keep-alive, Upgrade", "close"));
	CHECK(!HT("keep-alives", "keep-alive"));
	CHECK(!HT("xkeep-alive", "keep-alive"));
	CHECK(HT("  close  ", "close"));
	CHECK(HT(",,close,", "close"));
	CHECK(HT("gzip", "gzip"));
	CHECK(HT("gzip;q=0.5", "gzip"));
	CHECK(HT("deflate, gzip ; q=1.0", "gzip"));
	CHECK(!HT("gzip;q=0", "gzip"));
	CHECK(!HT("gzip; q=0.000", "gzip"));
	CHECK(!HT("gzip;Q=0.", "gzip"));
	CHECK(HT("gzip;q=0.001", "gzip"));
	CHECK(HT("gzip;level=0", "gzip"));
	CHECK(!HT("deflate;q=0, br", "deflate"));
	CHECK(HT("gzip;q=0, gzip", "gzip"));
	CHECK(!HT("", "gzip"));
	CHECK(!http_header_has_token(NULL, 0, "gzip"));
	/* the length bounds the value */
	CHECK(!http_header_has_token("gzip", 3, "gzip"));
#undef HT
}

/* keep_alive and upgrade_websocket from version and headers. */
static void
test_connection(void)
{
	static const struct
	{
		const char *req;
		bool		ka;
		bool		ws;
	}			cases[] = {
		{"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE\r\n\r\n", false, false},
		{"GET / HTTP/1.0\r\n\r\n", false, false},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", true, true},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n", true, true},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: x\r\nConnection: upgrade\r\nUpgrade: h2c, websocket\r\n\r\n", true, true},
		{"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", true, false},
		{"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n", true, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n", true, false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgraded\r\nUpgrade: websocket\r\n\r\n", true, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		HttpParser	p;

		CHECK_INT(parse_str(&p, NULL, cases[i].req), HTTP_PARSE_DONE);
		CHECK_INT(p.req.keep_alive, cases[i].ka);
		CHECK_INT(p.req.upgrade_websocket, cases[i].ws);
		if (p.req.keep_alive != cases[i].ka || p.req.upgrade_websocket != cases[i].ws)
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].req);
		http_parser_free(&p);
	}
}

/* The buffer stays bounded while a large body streams in. */
static void
test_bounded_buffer(void)
{
	HttpParser	p;
	HttpLimits	lim = {64, 512, 8, 1 << 20};
	char		chunk[100];

	http_parser_init(&p, &lim);
	CHECK_INT(http_parser_feed(&p, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 56),
			  HTTP_PARSE_INCOMPLETE);
	memcpy(chunk, "5a\r\n", 4);
	memset(chunk + 4, 'q', 90);
	memcpy(chunk + 94, "\r\n", 2);
	for (int i = 0; i < 10000; i++)
		http_parser_feed(&p, chunk, 96);
	CHECK_INT(p.state, HTTP_PARSE_INCOMPLETE);
	CHECK(p.cap <= 1024);
	CHECK_INT(p.req.body_len, 900000);
	CHECK_INT(http_parser_feed(&p, "0\r\n\r\n", 5), HTTP_PARSE_DONE);
	http_parser_free(&p);
}

/* CRLF line endings only; exactly one valid Host in HTTP/1.1. */
static void
test_strict(void)
{
	HttpParser	p;
	const HttpLimits *L = &small_limits;
	const char *bare = "line ends with a bare LF; HTTP requires CRLF";

	/* a bare LF anywhere a line ends */
	expect_error(L, "GET / HTTP/1.1\nHost: h\r\n\r\n", 400, bare);
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\n\r\n", 400, bare);
	expect_error(L, "GET / HTTP/1.1\r\nHost: h\r\n\n", 400, bare);
	expect_error(L, "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, bare);
	expect_error(L, "\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, bare);
	expect_error(L, "GET / HTTP/1.0\n\n", 400, bare);
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", 400, bare);
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n", 400, bare);
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\n\r\n", 400, bare);
	expect_error(L, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", 400, bare);
	/* a bare LF after a complete request fails the next one, not this one */
	CHECK_INT(parse_str(&p, L, "GET / HTTP/1.1\r\nHost: h\r\n\r\n\n"), HTTP_PARSE_DONE);
	CHECK_INT(http_parser_next(&p), HTTP_PARSE_ERROR);
	CHECK_STR(p.error_reason, bare);
	http_parser_free(&p);
	/* a lone CR waits for its LF */
	CHECK_INT(parse_str(&p, L, "\r"), HTTP_PARSE_INCOMPLETE);
	CHECK_INT(http_parser_feed(&p, "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 28), HTTP_PARSE_DONE);
	http_parser_free(&p);

	/* Host: required in 1.1, unique, valid; optional in 1.0 */
	expect_error(L, "GET / HTTP/1.1\r\n\r\n", 400, "missing Host header");
	expect_error(L, "GET / HTTP/1.1\r\nX-Host: h\r\n\r\n", 400, "missing Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "more than one Host header");
	expect_error(L, "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400, "more than one Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "invalid Host header");
	expect_error(L, "GET / HTTP/1.0\r\nHost: a/b\r\n\r\n", 400, "invalid Host header");
	/* framing errors are reported before Host errors */
	expect_error(L, "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "invalid Content-Length");

	CHECK_INT(parse_str(&p, L, "GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_INT(p.req.host.host_len, 11);
	CHECK(memcmp(p.req.host.host, "Example.COM", 11) == 0);
	CHECK_INT(p.req.host.port, 8080);
	CHECK(!p.req.host.is_ip);
	http_parser_free(&p);
	CHECK_INT(parse_str(&p, L, "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n"), HTTP_PARSE_DONE);
	CHECK_INT(p.req.host.host_len, 5);
	CHECK_INT(p.req.host.port, -1);
	CHECK(p.req.host.is_ip);
	http_parser_free(&p);
}

/* Host and Origin parsing, comparison and allowed-host patterns. */
static void
test_authority(void)
{
	HttpAuthority a;
	HttpAuthority b;
	bool		https = false;
	static const char *valid[] = {
		"localhost", "localhost.", "a", "dash.example.com", "my_host-1", "a:1", "a:65535",
		"127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080", "[2001:db8::7]",
		"[::ffff:192.0.2.1]", "999.1.1.1", "xn--bcher-kva.example",
	};
	static const char *invalid[] = {
		"", ":80", "a:", "a:0x1", "a:123456", "a:65536", "a b", "a..b", ".a", "a:1:2",
		"[::1]x", "[::1]:", "[]", "[::g]", "[fe80::1%25eth0]", "[127.0.0.1]", "a@b",
		"a/b", "a?b", "a#b", "a\\b", "*", "a%2eb", "\xc3\xa9.example",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
	{
		bool		ok = http_parse_authority(valid[i], strlen(valid[i]), &a);

		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  should be valid: %s\n", valid[i]);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
	{
		bool		ok = http_parse_authority(invalid[i], strlen(invalid[i]), &a);

		CHECK(!ok);
		if (ok)
			fprintf(stderr, "  should be invalid: %s\n", invalid[i]);
	}
	{
		/* 63-byte labels and 253-byte names are the most DNS allows */
		char		name[300];

		memset(name, 'a', 63);
		CHECK(http_parse_authority(name, 63, &a));
		memset(name, 'a', 64);
		CHECK(!http_parse_authority(name, 64, &a));
		for (int i = 0; i < 300; i++)
			name[i] = (i % 10 == 9) ? '.' : 'b';
		CHECK(http_parse_authority(name, 253, &a));
		name[253] = '.';
		CHECK(http_parse_authority(name, 254, &a));
		name[253] = 'b';
		CHECK(!http_parse_authority(name, 254, &a));
	}
	CHECK(http_parse_authority("127.0.0.1:80", 12, &a) && a.is_ip && a.port == 80 && a.host_len == 9);
	CHECK(http_parse_authority("999.1.1.1", 9, &a) && !a.is_ip);
	CHECK(http_parse_authority("[::1]:0", 7, &a) && a.is_ip && a.port == 0 && a.host_len == 5);

	/* Origin */
	CHECK(http_parse_origin("http://127.0.0.1:8080", 21, &https, &a) && !https && a.port == 8080);
	CHECK(http_parse_origin("HTTPS://Dash.example", 20, &https, &a) && https && a.port == -1);
	CHECK(!http_parse_origin("null", 4, &https, &a));
	CHECK(!http_parse_origin("http://", 7, &https, &a));
	CHECK(!http_parse_origin("http://a/", 9, &https, &a));
	CHECK(!http_parse_origin("http://a/b", 10, &https, &a));
	CHECK(!http_parse_origin("http://u@a", 10, &https, &a));
	CHECK(!http_parse_origin("ftp://a", 7, &https, &a));
	CHECK(!http_parse_origin("file://", 7, &https, &a));
	CHECK(!http_parse_origin("http://a http://b", 17, &https, &a));
	CHECK(!http_parse_origin(NULL, 0, &https, &a));

	/* same authority: host case-insensitive, absent port = the default */
	http_parse_authority("Dash.Example:80", 15, &a);
	http_parse_authority("dash.example", 12, &b);
	CHECK(http_same_authority(&a, &b, 80));
	CHECK(!http_same_authority(&a, &b, 443));
	http_parse_authority("dash.example:8080", 17, &b);
	CHECK(!http_same_authority(&a, &b, 80));
	http_parse_authority("dash.example.org:80", 19, &b);
	CHECK(!http_same_authority(&a, &b, 80));
	http_parse_authority("[::1]:80", 8, &a);
	http_parse_authority("[::1]", 5, &b);
	CHECK(http_same_authority(&a, &b, 80));
	memset(&b, 0, sizeof(b));
	CHECK(!http_same_authority(&a, &b, 80));

	/* allowed-host patterns */
	CHECK(http_host_matches("localhost", 9, "localhost"));
	CHECK(http_host_matches("LocalHost.", 10, "localhost"));
	CHECK(http_host_matches("localhost", 9, "localhost."));
	CHECK(!http_host_matches("localhost2", 10, "localhost"));
	CHECK(!http_host_matches("xlocalhost", 10, "localhost"));
	CHECK(!http_host_matches("", 0, ""));
	CHECK(http_host_matches("example.com", 11, ".example.com"));
	CHECK(http_host_matches("a.b.Example.com", 15, ".example.com"));
	CHECK(!http_host_matches("badexample.com", 14, ".example.com"));
	CHECK(!http_host_matches("example.com.evil", 16, ".example.com"));
	CHECK(!http_host_matches("com", 3, ".example.com"));
	CHECK(http_host_matches("x.localhost", 11, ".localhost"));
}

int
main(void)
{
	test_simple_get();
	test_post_content_length();
	test_chunked();
	test_pipelining();
	test_splitting();
	test_errors();
	test_query();
	test_tokens();
	test_connection();
	test_bounded_buffer();
	test_strict();
	test_authority();
	UNIT_DONE();
}
