/*
 * headers.c
 *		Response header lists for server code: what a HeaderList refuses (a
 *		name that is not a token, a value with CR, LF or another control
 *		character, too many bytes) is an ERROR, so a value read from the
 *		database can never inject a header or split a response.
 */
#include "postgres.h"

#include "headers.h"

/* Raises the ERROR of a header that a HeaderList refused. */
static void
header_refused(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid HTTP response header \"%.64s\"", name),
			 errdetail("A header name is a token; a value has no control characters (such as CR or LF) "
					   "and no surrounding spaces; all headers fit in %d bytes.", HEADER_LIST_MAX)));
}

/* Adds a header to a response's list; an invalid name or value is an ERROR. */
void
header_add(HeaderList *h, const char *name, const char *value)
{
	if (!header_list_add(h, name, value))
		header_refused(name);
}

/* header_add with a value formatted like printf. */
void
header_addf(HeaderList *h, const char *name, const char *fmt,...)
{
	char		value[HEADER_LIST_MAX + 1];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(value, sizeof(value), fmt, args);
	va_end(args);
	header_add(h, name, value);
}

/* Appends the headers of another list; an ERROR if they do not fit. */
void
header_append(HeaderList *h, const HeaderList *more)
{
	if (!header_list_append(h, more))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the HTTP response headers exceed %d bytes", HEADER_LIST_MAX)));
}

/* A list holding one header, allocated in the current memory context. */
HeaderList *
header_list_of(const char *name, const char *value)
{
	HeaderList *h = palloc(sizeof(HeaderList));

	header_list_init(h);
	header_add(h, name, value);
	return h;
}
