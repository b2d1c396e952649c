/*
 * identifier.h
 *		Checks the names of queries, channels and actions.
 */
#ifndef PGDASH_IDENTIFIER_H
#define PGDASH_IDENTIFIER_H

#include <stdbool.h>
#include <stddef.h>

/* The longest name: what fits PostgreSQL's NAMEDATALEN. */
#define IDENTIFIER_MAX_LEN 63

extern bool identifier_valid(const char *s, const char *extra);

#endif							/* PGDASH_IDENTIFIER_H */
