/*
 * csp.h
 *		Checks a Content-Security-Policy source list before it is written
 *		into a response header.
 */
#ifndef PGDASH_CSP_H
#define PGDASH_CSP_H

#include <stdbool.h>
#include <stddef.h>

/* The longest frame-ancestors value accepted. */
#define CSP_ANCESTORS_MAX_LEN 1024

extern bool csp_ancestors_valid(const char *value, const char **reason);

#endif							/* PGDASH_CSP_H */
