/*
 * headers.h
 *		Response header lists for server code (see src/lib/header_list.h).
 */
#ifndef PG_DASH_HEADERS_H
#define PG_DASH_HEADERS_H

#include "header_list.h"

extern void header_add(HeaderList *h, const char *name, const char *value);
extern void header_addf(HeaderList *h, const char *name, const char *fmt,...) pg_attribute_printf(3, 4);
extern void header_append(HeaderList *h, const HeaderList *more);
extern HeaderList *header_list_of(const char *name, const char *value);

#endif							/* PG_DASH_HEADERS_H */
