/*
 * query_registry.h
 *		Named queries: their definitions and a worker's cache of them.
 */
#ifndef PG_DASH_QUERY_REGISTRY_H
#define PG_DASH_QUERY_REGISTRY_H

#include "executor/spi.h"

#include "sql_params.h"

/* A named query as a worker uses it. */
typedef struct QueryDef
{
	char		name[NAMEDATALEN];	/* hash key */
	char	   *statement;		/* SQL with $n */
	char	   *version;		/* when it was last defined: part of cache keys */
	int			nparams;
	char	  **param_names;
	Oid		   *param_types;
	int			cache_ttl;		/* seconds; -1: pg_dash.cache_ttl */
	List	   *refresh_on;		/* char * */
	bool		reads_state;
	List	   *sortable;		/* char *: the columns order= may name */
	bool		allow_count;	/* count=exact is answered */
	List	   *range_columns;	/* char *: the columns x_from/x_to may filter */
	List	   *access;			/* char *: who may run it (roles, PUBLIC) */
	char	   *series_statement;	/* the statement for a series (NULL until
									 * a series is asked for) */
	SPIPlanPtr	plan;			/* prepared for a holdable cursor, kept */
	bool		valid;
} QueryDef;

/* Names that are options of every request, never query parameters. */
#define QUERY_RESERVED_PARAMS "format, shape, limit, offset, count, order, filename, downsample, width, x, y, x_from, x_to"

extern bool query_param_name_reserved(const char *name);
extern bool query_column_allowed(List *allowed, const char *column);
extern QueryDef *query_registry_lookup(const char *name);
extern QueryDef *query_registry_peek(const char *name);
extern const char *query_registry_series_statement(QueryDef *def);
extern void query_registry_init(void);

#endif							/* PG_DASH_QUERY_REGISTRY_H */
