/*-------------------------------------------------------------------------
 *
 * header_list.c
 *		The header fields of an HTTP response, checked as they are added.
 *
 * src/lib/header_list.c
 *
 *-------------------------------------------------------------------------
 */
#include "header_list.h"

#include <string.h>

#include "http_parser.h"

/* Makes h an empty list. */
void
header_list_init(HeaderList *h)
{
	h->len = 0;
	h->text[0] = '\0';
}

/* Appends "name: value\r\n", or returns false and leaves the list as it was. */
bool
header_list_add(HeaderList *h, const char *name, const char *value)
{
	size_t		nlen = strlen(name);
	size_t		vlen = strlen(value);

	if (!http_field_name_valid(name, nlen) || !http_field_value_valid(value, vlen))
		return false;
	if (nlen + vlen + 4 > HEADER_LIST_MAX - h->len)
		return false;
	memcpy(h->text + h->len, name, nlen);
	h->len += nlen;
	memcpy(h->text + h->len, ": ", 2);
	h->len += 2;
	memcpy(h->text + h->len, value, vlen);
	h->len += vlen;
	memcpy(h->text + h->len, "\r\n", 3);
	h->len += 2;
	return true;
}

/* Appends the headers of another list, or returns false and leaves h as it was. */
bool
header_list_append(HeaderList *h, const HeaderList *more)
{
	if (more->len > HEADER_LIST_MAX - h->len)
		return false;
	memcpy(h->text + h->len, more->text, more->len + 1);
	h->len += more->len;
	return true;
}
