/*
 * page_check.c
 *		Runs pg_dash's page parser (src/lib/page_parser.c) over one page read
 *		from standard input, outside PostgreSQL, for
 *		scripts/taipy-examples.py.  Prints "ok <notices>" and the notices'
 *		messages, or "error <line>:<column> <message>".  Exit status 0 either
 *		way; 2 when the input cannot be read.
 */
#include "page_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads all of standard input into a malloc'd buffer; *len gets its size. */
static char *
read_all(size_t *len)
{
	size_t		cap = 65536;
	char	   *buf = malloc(cap);

	*len = 0;
	while (buf)
	{
		size_t		n = fread(buf + *len, 1, cap - *len, stdin);

		*len += n;
		if (n == 0)
			break;
		if (*len == cap)
		{
			char	   *more = realloc(buf, cap * 2);

			if (!more)
			{
				free(buf);
				return NULL;
			}
			buf = more;
			cap *= 2;
		}
	}
	return buf;
}

/* Counts the notices ("warnings") of a page's JSON tree and prints their messages. */
static int
print_notices(const char *json, int print)
{
	const char *w = strstr(json, ",\"warnings\":[");
	int			n = 0;

	if (!w)
		return 0;
	for (const char *m = strstr(w, "\"message\":\""); m; m = strstr(m + 1, "\"message\":\""))
	{
		const char *s = m + 11;
		const char *e = s;

		while (*e && !(*e == '"' && e[-1] != '\\'))
			e++;
		if (print)
			printf("  notice: %.*s\n", (int) (e - s), s);
		n++;
	}
	return n;
}

int
main(void)
{
	size_t		len;
	char	   *text = read_all(&len);
	PageError	err;
	char	   *json;

	if (!text)
		return 2;
	json = page_parse_to_json(text, len, &err);
	if (!json)
	{
		printf("error %d:%d %s\n", err.line, err.column, err.message);
		return 0;
	}
	printf("ok %d\n", print_notices(json, 0));
	print_notices(json, 1);
	free(json);
	free(text);
	return 0;
}
