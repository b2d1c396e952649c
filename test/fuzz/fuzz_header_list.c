/*
 * fuzz_header_list.c
 *		libFuzzer target for the response header list: a header it accepts
 *		reads back through the HTTP parser as exactly that one header, so no
 *		name or value can add a header or end the head; what it refuses has
 *		a reason a reader can check.
 *
 * The input is "name NUL value": the name is prefixed with "X-" so that no
 * input names a header the parser gives a meaning to (Host, Content-Length).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header_list.h"
#include "http_parser.h"

/* Aborts (a finding) when cond is false. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when s has a byte no field value may hold, or surrounding whitespace. */
static bool
has_bad_value_byte(const char *s)
{
	size_t		len = strlen(s);

	if (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		return true;
	for (; *s; s++)
		if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t		name_len = nul ? (size_t) (nul - data) : size;
	char	   *name = malloc(name_len + 3);
	char	   *value = malloc(size + 1);
	HeaderList	h;

	if (name == NULL || value == NULL)
		abort();
	memcpy(name, "X-", 2);
	memcpy(name + 2, data, name_len);
	name[name_len + 2] = '\0';
	value[0] = '\0';
	if (nul != NULL)
	{
		memcpy(value, nul + 1, size - name_len - 1);
		value[size - name_len - 1] = '\0';
	}

	header_list_init(&h);
	if (header_list_add(&h, name, value))
	{
		char	   *msg = malloc(h.len + 64);
		HttpParser	p;
		int			n;
		const HttpHeader *hdr;

		FUZZ_ASSERT(msg != NULL && h.len == strlen(h.text) && h.len <= HEADER_LIST_MAX);
		FUZZ_ASSERT(!has_bad_value_byte(value));
		n = snprintf(msg, h.len + 64, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", h.text);
		http_parser_init(&p, NULL);
		FUZZ_ASSERT(http_parser_feed(&p, msg, (size_t) n) == HTTP_PARSE_DONE);
		FUZZ_ASSERT(p.req.nheaders == 2 && http_parser_buffered(&p) == 0);
		hdr = &p.req.headers[1];
		FUZZ_ASSERT(hdr->name_len == strlen(name) && memcmp(hdr->name, name, hdr->name_len) == 0);
		FUZZ_ASSERT(hdr->value_len == strlen(value) && memcmp(hdr->value, value, hdr->value_len) == 0);
		http_parser_free(&p);
		free(msg);
	}
	else
	{
		/* refused: the name is not a token, the value has a bad byte, or it is too long */
		FUZZ_ASSERT(name[2] == '\0' ||
					strspn(name, "!#$%&'*+-.^_`|~0123456789"
						   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(name) ||
					has_bad_value_byte(value) ||
					strlen(name) + strlen(value) + 4 > HEADER_LIST_MAX);
		FUZZ_ASSERT(h.len == 0 && h.text[0] == '\0');
	}
	free(name);
	free(value);
	return 0;
}
