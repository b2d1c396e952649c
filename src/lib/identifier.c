/*
 * identifier.c
 *		Checks the names of queries, channels and actions: identifiers that
 *		need no quoting in SQL (and in a URL path), so NOTIFY and LISTEN take
 *		them as they are.
 */
#include <string.h>

#include "identifier.h"

/* True for an ASCII letter or underscore. */
static bool
identifier_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/*
 * True when s is 1 to IDENTIFIER_MAX_LEN bytes of ASCII letters, digits,
 * underscores and the characters of extra (which may be ""), starting with
 * a letter or an underscore.
 */
bool
identifier_valid(const char *s, const char *extra)
{
	size_t		n;

	if (s == NULL || !identifier_start(s[0]))
		return false;
	for (n = 0; s[n]; n++)
	{
		char		c = s[n];

		if (n >= IDENTIFIER_MAX_LEN)
			return false;
		if (!identifier_start(c) && !(c >= '0' && c <= '9') && strchr(extra, c) == NULL)
			return false;
	}
	return true;
}
