/*
 * lttb_agg.c
 *		The aggregate pg_dash.lttb(x, y, n): Largest-Triangle-Three-Buckets
 *		downsampling of a series for charts (src/lib/lttb.c).
 *
 * The transition function collects the rows (NULL x or y are skipped) in
 * the aggregate's memory context; the final function sorts them by x
 * (NaN last, as PostgreSQL orders floats; ties keep their input order),
 * keeps n of them with lttb_select() and returns [[x, y], ...] as jsonb.
 * With a timestamptz x, x is written as an ISO 8601 string
 * ("2026-01-01T10:00:00+00:00") and LTTB works on its microseconds.
 * Non-finite values are written as the strings "NaN", "Infinity" and
 * "-Infinity", as everywhere in pg_dash's JSON.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "lttb.h"

PG_FUNCTION_INFO_V1(pg_dash_lttb_transfn);
PG_FUNCTION_INFO_V1(pg_dash_lttb_finalfn);

/* The rows of one group. */
typedef struct LttbState
{
	bool		is_timestamp;	/* x is timestamptz */
	int32		threshold;		/* n of the first row */
	size_t		count;
	size_t		capacity;
	double	   *x;
	double	   *y;
	int64	   *ts;				/* the exact timestamps, when is_timestamp */
} LttbState;

/* Grows the arrays of a state to hold one more row. */
static void
lttb_state_grow(LttbState *st, MemoryContext aggcxt)
{
	size_t		cap = st->capacity ? st->capacity * 2 : 1024;

	if (st->capacity == 0)
	{
		st->x = MemoryContextAllocHuge(aggcxt, cap * sizeof(double));
		st->y = MemoryContextAllocHuge(aggcxt, cap * sizeof(double));
		if (st->is_timestamp)
			st->ts = MemoryContextAllocHuge(aggcxt, cap * sizeof(int64));
	}
	else
	{
		st->x = repalloc_huge(st->x, cap * sizeof(double));
		st->y = repalloc_huge(st->y, cap * sizeof(double));
		if (st->is_timestamp)
			st->ts = repalloc_huge(st->ts, cap * sizeof(int64));
	}
	st->capacity = cap;
}

/* Transition: remembers one row. */
Datum
pg_dash_lttb_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	LttbState  *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_dash.lttb_transfn called in a non-aggregate context")));
	if (PG_ARGISNULL(0))
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(LttbState));
		st->is_timestamp = get_fn_expr_argtype(fcinfo->flinfo, 1) == TIMESTAMPTZOID;
		st->threshold = -1;
	}
	else
		st = (LttbState *) PG_GETARG_POINTER(0);

	if (st->threshold < 0)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("number of points to keep must not be null")));
		st->threshold = PG_GETARG_INT32(3);
		if (st->threshold < 3)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("number of points to keep must be at least 3, not %d", st->threshold),
					 errdetail("LTTB keeps the first point, the last point and one point per bucket in between.")));
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);

	if (st->count == st->capacity)
		lttb_state_grow(st, aggcxt);
	if (st->is_timestamp)
	{
		TimestampTz t = PG_GETARG_TIMESTAMPTZ(1);

		st->ts[st->count] = t;
		st->x[st->count] = (double) t;
	}
	else
		st->x[st->count] = PG_GETARG_FLOAT8(1);
	st->y[st->count] = PG_GETARG_FLOAT8(2);
	st->count++;
	PG_RETURN_POINTER(st);
}

/* Orders row numbers by x (NaN last), then by input order. */
static int
lttb_compare(const void *a, const void *b, void *arg)
{
	const double *x = (const double *) arg;
	size_t		i = *(const size_t *) a;
	size_t		j = *(const size_t *) b;
	bool		ni = isnan(x[i]);
	bool		nj = isnan(x[j]);

	if (ni != nj)
		return ni ? 1 : -1;
	if (!ni && x[i] != x[j])
		return x[i] < x[j] ? -1 : 1;
	return i < j ? -1 : (i > j ? 1 : 0);
}

/* Appends a double as a JSON number, or a string when it is not finite. */
static void
lttb_append_double(StringInfo buf, double v)
{
	if (isnan(v))
		appendStringInfoString(buf, "\"NaN\"");
	else if (isinf(v))
		appendStringInfoString(buf, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		appendStringInfoString(buf, float8out_internal(v));
}

/* Final: sorts, downsamples and returns [[x, y], ...]. */
Datum
pg_dash_lttb_finalfn(PG_FUNCTION_ARGS)
{
	LttbState  *st;
	size_t	   *order;
	double	   *xs;
	double	   *ys;
	size_t	   *keep;
	size_t		kept;
	size_t		i;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* no rows at all */
	st = (LttbState *) PG_GETARG_POINTER(0);

	order = palloc_extended(Max(st->count, 1) * sizeof(size_t), MCXT_ALLOC_HUGE);
	xs = palloc_extended(Max(st->count, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	ys = palloc_extended(Max(st->count, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	keep = palloc_extended(Max(st->count, 1) * sizeof(size_t), MCXT_ALLOC_HUGE);
	for (i = 0; i < st->count; i++)
		order[i] = i;
	qsort_arg(order, st->count, sizeof(size_t), lttb_compare, st->x);
	for (i = 0; i < st->count; i++)
	{
		xs[i] = st->x[order[i]];
		ys[i] = st->y[order[i]];
	}

	kept = lttb_select(xs, ys, st->count, (size_t) st->threshold, keep);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; i < kept; i++)
	{
		size_t		row = order[keep[i]];

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, '[');
		if (st->is_timestamp)
		{
			char		iso[MAXDATELEN + 1];

			JsonEncodeDateTime(iso, TimestampTzGetDatum(st->ts[row]), TIMESTAMPTZOID, NULL);
			escape_json(&buf, iso);
		}
		else
			lttb_append_double(&buf, st->x[row]);
		appendStringInfoChar(&buf, ',');
		lttb_append_double(&buf, st->y[row]);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
