/*
 * query_options.h
 *		What a request asks of a named query besides its parameters: the
 *		options of its query string or JSON body, parsed and checked before
 *		anything runs.
 */
#ifndef PG_DASH_QUERY_OPTIONS_H
#define PG_DASH_QUERY_OPTIONS_H

#include "nodes/pg_list.h"

#include "conn.h"
#include "request.h"
#include "result_writer.h"

struct cJSON;

/* What a request asks for besides its parameters. */
typedef struct QueryOptions
{
	ResultFormat format;
	bool		objects;
	int64		limit;			/* -1: none */
	int64		offset;
	bool		count_exact;
	char	   *order_column;
	bool		order_desc;
	char	   *filename;
	int64		downsample;		/* LTTB points wanted, 0: all of them */
	int64		width;			/* M4 buckets (a chart's pixels), 0: none */
	char	   *x_column;		/* the series (query_series.c) */
	char	   *y_column;
	char	   *x_from;			/* the x range it zooms into */
	char	   *x_to;
	List	   *names;			/* parameter names given (char *) */
	List	   *values;			/* their text values, NULL for JSON null */
} QueryOptions;

extern void query_options_init(QueryOptions *opts);
extern bool query_take_option(QueryOptions *opts, const char *key, const char *value,
							  QueryFailure *f);
extern bool query_parse_request(HttpRequest *req, QueryOptions *opts, QueryFailure *f);
extern char *query_json_param_text(const struct cJSON *item);
extern bool query_is_series(QueryOptions *opts);
extern bool query_check_series(QueryOptions *opts, QueryFailure *f);
extern bool query_bad_request(QueryFailure *f, const char *message, const char *detail,
							  const char *hint);

/*
 * The options and parameters as (key, value) pairs that query_take_option()
 * reads back: how a download worker gets the request.
 */
extern List *query_options_pairs(QueryOptions *opts);

#endif							/* PG_DASH_QUERY_OPTIONS_H */
