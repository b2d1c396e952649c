/*
 * query_series.c
 *		Server-side downsampling of a series for charts: reads (x, y) from a
 *		query's portal and writes the Largest-Triangle-Three-Buckets
 *		selection (src/lib/lttb.c) as a two-column JSON result.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/timestamp.h"

#include "lttb.h"
#include "query_series.h"

/* True for the types a series column may have (times only for x). */
static bool
series_type(Oid typid, bool x)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return true;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case DATEOID:
			return x;
		default:
			return false;
	}
}

/* The number a value of a series column stands for, or NaN. */
static double
series_value(Datum d, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return (double) DatumGetTimestamp(d);
		case DATEOID:
			return (double) DatumGetDateADT(d) * USECS_PER_DAY;
		default:
			return get_float8_nan();
	}
}

/* One point of a series, for sorting by x. */
typedef struct SeriesPoint
{
	double		x;
	double		y;
} SeriesPoint;

/* qsort comparator: by x. */
static int
series_point_cmp(const void *a, const void *b)
{
	double		xa = ((const SeriesPoint *) a)->x;
	double		xb = ((const SeriesPoint *) b)->x;

	return xa < xb ? -1 : xa > xb ? 1 : 0;
}

/*
 * Puts a series in x order unless it already is (the common case: rows
 * come in time order), which costs far less than asking the query for an
 * ORDER BY.
 */
static void
series_sort(double *xs, double *ys, size_t n)
{
	size_t		i;
	SeriesPoint *pts;

	for (i = 1; i < n && xs[i - 1] <= xs[i]; i++)
		;
	if (i >= n)
		return;
	pts = palloc_extended(sizeof(SeriesPoint) * n, MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		pts[i].x = xs[i];
		pts[i].y = ys[i];
	}
	qsort(pts, n, sizeof(SeriesPoint), series_point_cmp);
	for (i = 0; i < n; i++)
	{
		xs[i] = pts[i].x;
		ys[i] = pts[i].y;
	}
	pfree(pts);
}

/* The result column number of a name, or -1. */
static int
series_column_index(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	return -1;
}

/*
 * Reads a whole series from a portal and writes the Largest-Triangle-
 * Three-Buckets selection of points points as a two-column JSON
 * result.  Holds 16 bytes per row while it works.  False with *f filled
 * when x or y are not numeric, date or time columns of the result.
 */
bool
series_write_downsampled(Portal portal, const char *x_column, const char *y_column,
						 int64 points, StringInfo out, const char *prefix, QueryFailure *f)
{
	TupleDesc	desc = portal->tupDesc;
	int			xi = series_column_index(desc, x_column);
	int			yi = series_column_index(desc, y_column);
	Oid			xt;
	Oid			yt;
	size_t		cap = 1024;
	size_t		n = 0;
	double	   *xs;
	double	   *ys;
	size_t	   *picked;
	size_t		npicked;
	size_t		i;
	MemoryContext series = AllocSetContextCreate(CurrentMemoryContext, "pg_dash series",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt;

	if (xi < 0 || yi < 0)
		return request_fail(f, 400, "22023", psprintf("no column \"%s\" in the result",
											 xi < 0 ? x_column : y_column),
								 NULL, "x and y name result columns of the query.");
	xt = getBaseType(TupleDescAttr(desc, xi)->atttypid);
	yt = getBaseType(TupleDescAttr(desc, yi)->atttypid);
	if (!series_type(xt, true))
		return request_fail(f, 400, "22023", psprintf("cannot downsample over column \"%s\" of type %s",
											 x_column, format_type_be(xt)),
								 NULL, "x must be a number, date or timestamp; y a number.");
	if (!series_type(yt, false))
		return request_fail(f, 400, "22023", psprintf("cannot downsample column \"%s\" of type %s",
											 y_column, format_type_be(yt)),
								 NULL, "y must be a number.");

	oldcxt = MemoryContextSwitchTo(series);
	xs = palloc(sizeof(double) * cap);
	ys = palloc(sizeof(double) * cap);
	for (;;)
	{
		uint64		k;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		MemoryContextSwitchTo(series);
		for (k = 0; k < SPI_processed; k++)
		{
			bool		xnull;
			bool		ynull;
			Datum		xd = SPI_getbinval(SPI_tuptable->vals[k], desc, xi + 1, &xnull);
			Datum		yd = SPI_getbinval(SPI_tuptable->vals[k], desc, yi + 1, &ynull);

			if (xnull || ynull)
				continue;
			if (n == cap)
			{
				cap *= 2;
				xs = repalloc_huge(xs, sizeof(double) * cap);
				ys = repalloc_huge(ys, sizeof(double) * cap);
			}
			xs[n] = series_value(xd, xt);
			ys[n] = series_value(yd, yt);
			if (!isnan(xs[n]) && !isnan(ys[n]))
				n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	series_sort(xs, ys, n);
	picked = palloc_extended(sizeof(size_t) * Max(Min(n, (size_t) points), 1), MCXT_ALLOC_HUGE);
	npicked = lttb_select(xs, ys, n, (size_t) points, picked);
	MemoryContextSwitchTo(oldcxt);

	appendStringInfoChar(out, '{');
	if (prefix)
		appendStringInfoString(out, prefix);
	appendStringInfoString(out, "\"columns\":[{\"name\":");
	escape_json(out, x_column);
	appendStringInfoString(out, ",\"type\":");
	escape_json(out, format_type_be(xt));
	appendStringInfoString(out, "},{\"name\":");
	escape_json(out, y_column);
	appendStringInfoString(out, ",\"type\":\"double precision\"}],\"rows\":[");
	for (i = 0; i < npicked; i++)
	{
		size_t		j = picked[i];

		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoChar(out, '[');
		if (xt == TIMESTAMPOID || xt == TIMESTAMPTZOID || xt == DATEOID)
		{
			char		buf[MAXDATELEN + 1];
			Oid			as = xt == DATEOID ? TIMESTAMPOID : xt;

			appendStringInfo(out, "\"%s\"",
							 JsonEncodeDateTime(buf, TimestampGetDatum((Timestamp) xs[j]), as, NULL));
		}
		else
			appendStringInfo(out, "%.17g", xs[j]);
		appendStringInfo(out, ",%.17g]", ys[j]);
	}
	appendStringInfo(out, "],\"row_count\":%zu,\"truncated\":false,\"downsampled_from\":%zu}",
					 npicked, n);
	MemoryContextDelete(series);
	return true;
}
