/*
 * m4_agg.h
 *		The numbers the M4 aggregate (m4_agg.c) works on, shared with the
 *		series endpoint (query_series.c) that reads its results.
 */
#ifndef PG_DASH_M4_AGG_H
#define PG_DASH_M4_AGG_H

#include <math.h>

#include "datatype/timestamp.h"

/* Most buckets one pg_dash.m4() may have (M4_FIELDS doubles each). */
#define M4_MAX_BUCKETS 100000

/* Seconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define M4_EPOCH_OFFSET ((double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* A timestamp as seconds since the Unix epoch (exact to the microsecond). */
static inline double
m4_timestamp_seconds(Timestamp t)
{
	return (double) t / USECS_PER_SEC + M4_EPOCH_OFFSET;
}

/* Seconds since the Unix epoch back to a timestamp, rounded to the microsecond. */
static inline Timestamp
m4_seconds_timestamp(double s)
{
	return (Timestamp) rint((s - M4_EPOCH_OFFSET) * USECS_PER_SEC);
}

#endif							/* PG_DASH_M4_AGG_H */
