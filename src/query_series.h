/*
 * query_series.h
 *		Server-side downsampling of a series for charts.
 */
#ifndef PG_DASH_QUERY_SERIES_H
#define PG_DASH_QUERY_SERIES_H

#include "lib/stringinfo.h"
#include "utils/portal.h"

#include "query_exec.h"

extern bool series_write_downsampled(Portal portal, const char *x_column, const char *y_column,
									 int64 points, StringInfo out, const char *prefix,
									 QueryFailure *f);

#endif							/* PG_DASH_QUERY_SERIES_H */
