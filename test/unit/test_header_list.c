/*
 * test_header_list.c
 *		Unit tests for the response header list (header_list.c): valid
 *		headers are written as "Name: value" lines, and no name or value
 *		that could end a line or start another one is ever written.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header_list.h"
#include "http_parser.h"
#include "unit.h"

/* Headers pg_dash sends are written as they are, in order. */
static void
test_valid(void)
{
	HeaderList	h;

	header_list_init(&h);
	CHECK_INT(h.len, 0);
	CHECK_STR(h.text, "");
	CHECK(header_list_add(&h, "Retry-After", "1"));
	CHECK(header_list_add(&h, "Set-Cookie", "pg_dash_session=abc; Path=/; HttpOnly; SameSite=Lax"));
	CHECK(header_list_add(&h, "ETag", "\"00ff-12\""));
	CHECK(header_list_add(&h, "X-Empty", ""));
	CHECK(header_list_add(&h, "Content-Disposition", "attachment; filename=\"a b\tc.csv\""));
	CHECK(header_list_add(&h, "X-Latin", "caf\xc3\xa9"));	/* obs-text */
	CHECK_STR(h.text,
			  "Retry-After: 1\r\n"
			  "Set-Cookie: pg_dash_session=abc; Path=/; HttpOnly; SameSite=Lax\r\n"
			  "ETag: \"00ff-12\"\r\n"
			  "X-Empty: \r\n"
			  "Content-Disposition: attachment; filename=\"a b\tc.csv\"\r\n"
			  "X-Latin: caf\xc3\xa9\r\n");
	CHECK_INT(h.len, strlen(h.text));
}

/* A value with CR or LF (header injection, response splitting) is refused. */
static void
test_injection_refused(void)
{
	HeaderList	h;
	const char *bad_values[] = {
		"a\r\nSet-Cookie: admin=1",
		"a\nX-Injected: 1",
		"a\rb",
		"\r\n\r\n<html>",
		"line\r\n",
		"tab\x0b",
		"bell\x07",
		"del\x7f",
		" leading space",
		"trailing space ",
		"\ttab",
	};
	const char *bad_names[] = {
		"", "X Name", "X-Name:", "X\r\nY", "X-Name\n", "Na(me)", "X\x01", "caf\xc3\xa9",
	};
	size_t		i;

	header_list_init(&h);
	CHECK(header_list_add(&h, "Cache-Control", "no-store"));
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		CHECK(!header_list_add(&h, "X-Value", bad_values[i]));
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		CHECK(!header_list_add(&h, bad_names[i], "v"));
	/* a refused header leaves the list as it was */
	CHECK_STR(h.text, "Cache-Control: no-store\r\n");
	CHECK_INT(h.len, strlen("Cache-Control: no-store\r\n"));
}

/* A list is bounded: what does not fit is refused whole. */
static void
test_full(void)
{
	HeaderList	h;
	HeaderList	more;
	char	   *big = malloc(HEADER_LIST_MAX);
	size_t		before;
	int			n = 0;

	memset(big, 'v', HEADER_LIST_MAX - 1);
	big[HEADER_LIST_MAX - 1] = '\0';
	header_list_init(&h);
	CHECK(!header_list_add(&h, "X-Big", big));
	CHECK_INT(h.len, 0);
	big[HEADER_LIST_MAX - 9] = '\0';	/* "X-Big: " + value + CRLF fills it */
	CHECK(header_list_add(&h, "X-Big", big));
	CHECK_INT(h.len, HEADER_LIST_MAX);
	CHECK(!header_list_add(&h, "X", ""));
	CHECK_INT(h.len, HEADER_LIST_MAX);
	CHECK(h.text[HEADER_LIST_MAX] == '\0');

	header_list_init(&h);
	while (header_list_add(&h, "Retry-After", "1"))
		n++;
	CHECK_INT(n, HEADER_LIST_MAX / strlen("Retry-After: 1\r\n"));
	header_list_init(&more);
	CHECK(header_list_add(&more, "ETag", "\"x\""));
	before = h.len;
	CHECK(!header_list_append(&h, &more));
	CHECK_INT(h.len, before);
	header_list_init(&h);
	CHECK(header_list_add(&h, "Cache-Control", "no-store"));
	CHECK(header_list_append(&h, &more));
	CHECK_STR(h.text, "Cache-Control: no-store\r\nETag: \"x\"\r\n");
	free(big);
}

/* What a list holds reads back, through the request parser, as the same headers. */
static void
test_parses_back(void)
{
	HeaderList	h;
	HttpParser	p;
	char		msg[HEADER_LIST_MAX + 64];
	size_t		len;

	header_list_init(&h);
	CHECK(header_list_add(&h, "X-A", "1, 2"));
	CHECK(!header_list_add(&h, "X-B", "2\r\nX-C: 3"));
	CHECK(header_list_add(&h, "X-D", "q=\"a\\\"b\""));
	len = (size_t) snprintf(msg, sizeof(msg), "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", h.text);
	http_parser_init(&p, NULL);
	CHECK(http_parser_feed(&p, msg, len) == HTTP_PARSE_DONE);
	CHECK_INT(p.req.nheaders, 3);
	CHECK(http_request_header(&p.req, "X-C", NULL) == NULL);
	CHECK(http_request_has_token(&p.req, "X-A", "2"));
	http_parser_free(&p);
}

int
main(void)
{
	test_valid();
	test_injection_refused();
	test_full();
	test_parses_back();
	UNIT_DONE();
}
