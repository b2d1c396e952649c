/*
 * query_series.h
 *		A chart's series reduced in the database: M4 per pixel column
 *		(pg_dash.m4), then LTTB when fewer points are wanted, over the whole
 *		x range or the range a chart zooms into.
 */
#ifndef PG_DASH_QUERY_SERIES_H
#define PG_DASH_QUERY_SERIES_H

#include "access/tupdesc.h"
#include "lib/stringinfo.h"

#include "request_failure.h"

/* Buckets of the summary a whole series is cached as. */
#define SERIES_SUMMARY_BUCKETS 32768

/* The widest series a request may ask for, in pixels (M4 buckets). */
#define SERIES_MAX_WIDTH 20000

/* A series request: the options downsample, width, x, y, x_from, x_to. */
typedef struct SeriesSpec
{
	const char *x_column;
	const char *y_column;
	int64		width;			/* M4 buckets; 0: as many as points */
	int64		points;			/* LTTB to this many points; 0: M4 only */
	const char *x_from;			/* bounds as text; NULL: the data's */
	const char *x_to;

	/* filled in by series_check() */
	int			x_index;
	Oid			x_type;			/* x's type as declared (maybe a domain) */
	Oid			x_base;			/* its base type */
	Datum		from;			/* the bounds given, as x_type values */
	Datum		to;
	double		from_value;		/* and as the numbers M4 works on */
	double		to_value;
} SeriesSpec;

/* The rows a series is read from: a statement and its bound parameters. */
typedef struct SeriesSource
{
	const char *statement;		/* series_statement(): without ORDER BY */
	int			nparams;
	Oid		   *types;
	Datum	   *values;
	const char *nulls;
} SeriesSource;

/* What answering a series did, for statistics and headers. */
typedef struct SeriesOutcome
{
	bool		from_summary;	/* answered from a cached summary */
	bool		summary_made;	/* a summary to store was computed */
	size_t		points;
} SeriesOutcome;

extern bool series_type_ok(Oid typid, bool x);
extern bool series_check(SeriesSpec *spec, TupleDesc desc, QueryFailure *f);
extern char *series_statement(const char *statement, int nparams, Oid *types);
extern void series_run(SeriesSpec *spec, SeriesSource *src, const char *cached, size_t cached_len,
					   StringInfo summary, StringInfo out, const char *prefix,
					   SeriesOutcome *outcome);

#endif							/* PG_DASH_QUERY_SERIES_H */
