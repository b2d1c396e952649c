/*
 * sql_params.h
 *		Rewrites named parameters (:name) in SQL text into positional ones ($n).
 */
#ifndef PGDASH_SQL_PARAMS_H
#define PGDASH_SQL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#define SQL_PARAMS_MAX 100
#define SQL_PARAMS_NAME_MAX 63

typedef struct SqlParams
{
	char	   *sql;			/* rewritten text, malloc'd */
	int			count;			/* distinct parameters */
	char		names[SQL_PARAMS_MAX][SQL_PARAMS_NAME_MAX + 1];	/* $1 is names[0] */
	int			error_offset;	/* byte offset of an error, or -1 */
	char		error[128];
} SqlParams;

extern bool sql_params_rewrite(const char *sql, size_t len, SqlParams *out);
extern void sql_params_free(SqlParams *p);

#endif							/* PGDASH_SQL_PARAMS_H */
