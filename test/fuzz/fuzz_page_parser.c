/*-------------------------------------------------------------------------
 *
 * fuzz_page_parser.c
 *		libFuzzer target for the page parser (src/lib/page_parser.c).
 *
 * Parses the input as a page.  On success the result must be well-formed
 * JSON (checked with a small validator below); on failure the error must
 * have a positive line and column and a NUL-terminated, non-empty message.
 * The input is also made plain text as a page title (page_heading_plain).
 * Any crash, sanitizer report or leak is a bug.
 *
 * test/fuzz/fuzz_page_parser.c
 *
 *-------------------------------------------------------------------------
 */
#include "page_parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skips JSON whitespace. */
static const char *
fuzz_ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

/* Parses a JSON value at s (depth-bounded); returns the end or NULL. */
static const char *
fuzz_json_value(const char *s, int depth)
{
	if (depth > 200)
		return NULL;
	s = fuzz_ws(s);
	if (*s == '"')
	{
		for (s++; *s != '"'; s++)
		{
			if (*s == '\0' || (unsigned char) *s < 0x20)
				return NULL;
			if (*s == '\\')
			{
				s++;
				if (*s == 'u')
				{
					for (int i = 1; i <= 4; i++)
						if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
							return NULL;
					s += 4;
				}
				else if (*s == '\0' || !strchr("\"\\/bfnrt", *s))
					return NULL;
			}
		}
		return s + 1;
	}
	if (*s == '{' || *s == '[')
	{
		char		close = *s == '{' ? '}' : ']';
		bool		object = *s == '{';

		s = fuzz_ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;)
		{
			if (object)
			{
				s = fuzz_ws(s);
				if (*s != '"' || (s = fuzz_json_value(s, depth + 1)) == NULL)
					return NULL;
				s = fuzz_ws(s);
				if (*s++ != ':')
					return NULL;
			}
			if ((s = fuzz_json_value(s, depth + 1)) == NULL)
				return NULL;
			s = fuzz_ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	if (strncmp(s, "true", 4) == 0)
		return s + 4;
	if (strncmp(s, "false", 5) == 0)
		return s + 5;
	if (strncmp(s, "null", 4) == 0)
		return s + 4;
	if (*s == '-' || (*s >= '0' && *s <= '9'))
	{
		/* -?digits(.digits)?([eE][+-]?digits)? */
		s += *s == '-';
		if (!(*s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '.')
		{
			if (!(*++s >= '0' && *s <= '9'))
				return NULL;
			while (*s >= '0' && *s <= '9')
				s++;
		}
		if (*s == 'e' || *s == 'E')
		{
			s++;
			if (*s == '+' || *s == '-')
				s++;
			if (!(*s >= '0' && *s <= '9'))
				return NULL;
			while (*s >= '0' && *s <= '9')
				s++;
		}
		return s;
	}
	return NULL;
}

/* libFuzzer entry point: parse the input, check the result, free it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PageError	err;
	char	   *json = page_parse_to_json((const char *) data, size, &err);

	if (json)
	{
		const char *end = fuzz_json_value(json, 0);

		if (end == NULL || *fuzz_ws(end) != '\0')
			abort();
		free(json);
	}
	else if (err.line < 1 || err.column < 1 || err.message[0] == '\0' ||
			 memchr(err.message, '\0', sizeof(err.message)) == NULL ||
			 memchr(err.detail, '\0', sizeof(err.detail)) == NULL ||
			 memchr(err.hint, '\0', sizeof(err.hint)) == NULL)
		abort();

	/* the input as a heading made plain text: never longer, and in place */
	{
		char	   *heading = malloc(size + 1);

		if (heading == NULL)
			return 0;
		memcpy(heading, data, size);
		heading[size] = '\0';
		page_heading_plain(heading);
		if (strlen(heading) > strnlen((const char *) data, size))
			abort();
		free(heading);
	}
	return 0;
}
