/*-------------------------------------------------------------------------
 *
 * header_list.h
 *		The header fields of an HTTP response, checked as they are added.
 *
 * Every response header pg_dash writes beyond the fixed ones of
 * http_response.c goes through a HeaderList: a name must be a token and a
 * value a field value (no CR, LF, NUL or other control character, no
 * surrounding whitespace), so no value, wherever it came from, can end a
 * header line or start another one.  A list is a fixed buffer (no
 * allocation, so nothing to free or leak when an error unwinds); a list that
 * would overflow refuses the header.
 *
 * Pure C (libc only), independent of PostgreSQL.
 *
 * src/lib/header_list.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_HEADER_LIST_H
#define PGDASH_HEADER_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of "Name: value\r\n" lines a list holds. */
#define HEADER_LIST_MAX 4096

typedef struct HeaderList
{
	size_t		len;			/* bytes used in text */
	char		text[HEADER_LIST_MAX + 1];	/* the lines, NUL-terminated */
} HeaderList;

/* Makes h an empty list. */
extern void header_list_init(HeaderList *h);

/*
 * Appends "name: value\r\n".  Returns false, leaving the list as it was,
 * when name is not a field name, value not a field value, or the line does
 * not fit.
 */
extern bool header_list_add(HeaderList *h, const char *name, const char *value);

/* Appends the headers of more (checked already); false, h unchanged, if they do not fit. */
extern bool header_list_append(HeaderList *h, const HeaderList *more);

#endif							/* PGDASH_HEADER_LIST_H */
