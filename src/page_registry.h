/*
 * page_registry.h
 *		The registry of dashboard pages (pg_dash.pages) and its SQL
 *		functions.
 */
#ifndef PG_DASH_PAGE_REGISTRY_H
#define PG_DASH_PAGE_REGISTRY_H

/* Longest page path, in bytes. */
#define PAGE_PATH_MAX_LEN 128

/*
 * True when path is a valid page path: 1 to PAGE_PATH_MAX_LEN bytes of
 * lower-case segments [a-z0-9][a-z0-9_-]* separated by single slashes (the
 * CHECK constraint of pg_dash.pages).
 */
extern bool page_path_valid(const char *path);

#endif							/* PG_DASH_PAGE_REGISTRY_H */
