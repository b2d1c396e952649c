/*
 * m4_agg.c
 *		The aggregate pg_dash.m4(x, y, lo, hi, buckets): the M4 reduction
 *		(src/lib/m4.c) of a series to at most four points per bucket, as
 *		SQL that PostgreSQL runs in parallel.
 *
 * The state is a double precision[]: the number of buckets, lo, hi, then
 * M4_FIELDS doubles per bucket.  The first row fixes lo, hi and buckets
 * (later rows' values are not looked at).  The transition and combine
 * functions change the state in place, as float8_accum does, so a row costs
 * no copy of it; being an ordinary array, partial states travel between
 * parallel workers without serialization functions.  Every function checks
 * the shape of the state it is given, since SQL can call them directly.
 *
 * x is a double precision or a timestamp (with or without time zone), read
 * as seconds since the Unix epoch; rows with a NULL or non-finite x or y, or
 * an x outside [lo, hi], are left out.  The result is a two-dimensional
 * array with one row (x, y, rows) per point in x order, where rows is the
 * number of input rows of the point's bucket on the bucket's first point
 * and 0 on its others (so that a sum counts the rows); NULL without input
 * rows.
 *
 * pg_dash.m4_grid(x, y, buckets) is the same reduction without lo and hi:
 * its buckets are cells of a power-of-two grid that grows with the data
 * (src/lib/m4_grid.c), at most `buckets` of them from the first x to the
 * last, so a chart's series needs one pass over the rows and no x range
 * first.  Its state is the grid's array of doubles, as plain and as
 * checked as pg_dash.m4's; its result has the same shape.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "m4.h"
#include "m4_agg.h"
#include "m4_grid.h"

PG_FUNCTION_INFO_V1(pg_dash_m4_transfn);
PG_FUNCTION_INFO_V1(pg_dash_m4_combinefn);
PG_FUNCTION_INFO_V1(pg_dash_m4_finalfn);
PG_FUNCTION_INFO_V1(pg_dash_m4_grid_transfn);
PG_FUNCTION_INFO_V1(pg_dash_m4_grid_combinefn);
PG_FUNCTION_INFO_V1(pg_dash_m4_grid_finalfn);

/* Doubles before the buckets: their number, lo, hi. */
#define M4_HEADER 3

/*
 * The doubles of a state array after checking its shape; *buckets gets
 * their number.
 */
static double *
m4_state_data(ArrayType *state, int *buckets)
{
	double	   *d;
	double		n;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
		ARR_DIMS(state)[0] < M4_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pg_dash.m4 state"),
				 errdetail("The state must be a one-dimensional double precision array without NULLs.")));
	d = (double *) ARR_DATA_PTR(state);
	n = d[0];
	if (!(n >= 1 && n <= M4_MAX_BUCKETS) || n != floor(n) ||
		ARR_DIMS(state)[0] != M4_HEADER + (int) n * M4_FIELDS ||
		!isfinite(d[1]) || !isfinite(d[2]) || !(d[1] <= d[2]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pg_dash.m4 state"),
				 errdetail("The header or the length of the state is wrong.")));
	*buckets = (int) n;
	return d;
}

/* An x argument as a double: its value, or for a timestamp its epoch seconds. */
static bool
m4_x_value(FunctionCallInfo fcinfo, int argno, double *out)
{
	Oid			typid;

	/* the SQL declarations only allow these three types */
	typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
	if (typid == TIMESTAMPOID || typid == TIMESTAMPTZOID)
	{
		Timestamp	t = PG_GETARG_TIMESTAMP(argno);

		if (TIMESTAMP_NOT_FINITE(t))
			return false;
		*out = m4_timestamp_seconds(t);
	}
	else if (typid == FLOAT8OID)
		*out = PG_GETARG_FLOAT8(argno);
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pg_dash.m4 cannot reduce x of type %s", format_type_be(typid)),
				 errhint("x must be double precision or a timestamp.")));
	return isfinite(*out);
}

/* A new, empty state for buckets buckets over [lo, hi], in the current context. */
static ArrayType *
m4_state_new(int buckets, double lo, double hi)
{
	int			n = M4_HEADER + buckets * M4_FIELDS;
	Size		bytes = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * n;
	ArrayType  *state = palloc0(bytes);
	double	   *d;

	SET_VARSIZE(state, bytes);
	state->ndim = 1;
	state->dataoffset = 0;
	state->elemtype = FLOAT8OID;
	ARR_DIMS(state)[0] = n;
	ARR_LBOUND(state)[0] = 1;
	d = (double *) ARR_DATA_PTR(state);
	d[0] = buckets;
	d[1] = lo;
	d[2] = hi;
	return state;
}

/* Transition: adds one row to its bucket. */
Datum
pg_dash_m4_transfn(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *d;
	int			buckets;
	double		x;
	double		y;
	long		b;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_dash.m4_transfn called in a non-aggregate context")));
	if (PG_ARGISNULL(0))
	{
		double		lo;
		double		hi;
		int32		n;

		if (PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pg_dash.m4: lo, hi and buckets must not be null")));
		n = PG_GETARG_INT32(5);
		if (n < 1 || n > M4_MAX_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pg_dash.m4: buckets must be between 1 and %d, not %d", M4_MAX_BUCKETS, n)));
		if (!m4_x_value(fcinfo, 3, &lo) || !m4_x_value(fcinfo, 4, &hi) || lo > hi)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pg_dash.m4: lo and hi must be finite, lo at most hi")));

		/* made in the per-row context: the executor copies it into its own */
		state = m4_state_new(n, lo, hi);
	}
	else
		state = PG_GETARG_ARRAYTYPE_P(0);
	d = m4_state_data(state, &buckets);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || !m4_x_value(fcinfo, 1, &x))
		PG_RETURN_ARRAYTYPE_P(state);
	y = PG_GETARG_FLOAT8(2);
	if (!isfinite(y))
		PG_RETURN_ARRAYTYPE_P(state);
	b = m4_bucket_of(x, d[1], d[2], buckets);
	if (b >= 0)
		m4_add(d + M4_HEADER + b * M4_FIELDS, x, y, 1);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine: merges the buckets of a partial state into the first state. */
Datum
pg_dash_m4_combinefn(PG_FUNCTION_ARGS)
{
	ArrayType  *into = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *from = PG_GETARG_ARRAYTYPE_P(1);
	double	   *a;
	double	   *b;
	int			na;
	int			nb;
	int			i;

	/* outside an aggregate the first argument must not be changed */
	if (!AggCheckCallContext(fcinfo, NULL))
		into = PG_GETARG_ARRAYTYPE_P_COPY(0);
	a = m4_state_data(into, &na);
	b = m4_state_data(from, &nb);
	if (na != nb || a[1] != b[1] || a[2] != b[2])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_dash.m4 states of different buckets cannot be combined")));
	for (i = 0; i < na; i++)
		m4_merge(a + M4_HEADER + i * M4_FIELDS, b + M4_HEADER + i * M4_FIELDS);
	PG_RETURN_ARRAYTYPE_P(into);
}

/* The points (x, y, rows) as a two-dimensional array, or an empty one. */
static ArrayType *
m4_points_array(const double *px, const double *py, const double *pw, size_t n)
{
	Datum	   *elems;
	size_t		i;
	int			dims[2];
	int			lbs[2] = {1, 1};

	if (n == 0)
		return construct_empty_array(FLOAT8OID);
	elems = palloc(sizeof(Datum) * 3 * n);
	for (i = 0; i < n; i++)
	{
		elems[3 * i] = Float8GetDatum(px[i]);
		elems[3 * i + 1] = Float8GetDatum(py[i]);
		elems[3 * i + 2] = Float8GetDatum(pw[i]);
	}
	dims[0] = (int) n;
	dims[1] = 3;
	return construct_md_array(elems, NULL, 2, dims, lbs, FLOAT8OID,
							  sizeof(double), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* Final: the points of every bucket as rows (x, y, rows) in x order. */
Datum
pg_dash_m4_finalfn(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			buckets;
	double	   *d = m4_state_data(state, &buckets);
	double	   *px = palloc(sizeof(double) * 4 * buckets);
	double	   *py = palloc(sizeof(double) * 4 * buckets);
	double	   *pw = palloc(sizeof(double) * 4 * buckets);
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < (size_t) buckets; i++)
		n += m4_emit(d + M4_HEADER + i * M4_FIELDS, px + n, py + n, pw + n);
	PG_RETURN_ARRAYTYPE_P(m4_points_array(px, py, pw, n));
}

/*
 * The doubles of a pg_dash.m4_grid state after checking its shape and
 * header (m4_grid_check).
 */
static double *
m4_grid_state_data(ArrayType *state)
{
	const char *problem;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pg_dash.m4_grid state"),
				 errdetail("The state must be a one-dimensional double precision array without NULLs.")));
	problem = m4_grid_check((double *) ARR_DATA_PTR(state), ARR_DIMS(state)[0], M4_MAX_BUCKETS);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pg_dash.m4_grid state"),
				 errdetail("%s", problem)));
	return (double *) ARR_DATA_PTR(state);
}

/*
 * Transition of pg_dash.m4_grid(x, y, buckets): adds one row to its cell,
 * growing the cells when it falls outside them.  The type of x is looked
 * up once per query (fn_extra): this runs for every row.
 */
Datum
pg_dash_m4_grid_transfn(PG_FUNCTION_ARGS)
{
	Oid		   *x_type = (Oid *) fcinfo->flinfo->fn_extra;
	ArrayType  *state;
	double	   *d;
	double		x;
	double		y;

	if (!AggCheckCallContext(fcinfo, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_dash.m4_grid_transfn called in a non-aggregate context")));
	if (x_type == NULL)
	{
		x_type = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));
		*x_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
		if (*x_type != FLOAT8OID && *x_type != TIMESTAMPOID && *x_type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("pg_dash.m4_grid cannot reduce x of type %s", format_type_be(*x_type)),
					 errhint("x must be double precision or a timestamp.")));
		fcinfo->flinfo->fn_extra = x_type;
	}
	if (PG_ARGISNULL(0))
	{
		int32		n;
		int			len;
		Size		bytes;

		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pg_dash.m4_grid: buckets must not be null")));
		n = PG_GETARG_INT32(3);
		if (n < 2 || n > M4_MAX_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pg_dash.m4_grid: buckets must be between 2 and %d, not %d", M4_MAX_BUCKETS, n)));

		/* made in the per-row context: the executor copies it into its own */
		len = (int) m4_grid_size(n);
		bytes = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * len;
		state = palloc0(bytes);
		SET_VARSIZE(state, bytes);
		state->ndim = 1;
		state->elemtype = FLOAT8OID;
		ARR_DIMS(state)[0] = len;
		ARR_LBOUND(state)[0] = 1;
		m4_grid_init((double *) ARR_DATA_PTR(state), n);
	}
	else
		state = PG_GETARG_ARRAYTYPE_P(0);
	d = m4_grid_state_data(state);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_ARRAYTYPE_P(state);
	if (*x_type == FLOAT8OID)
		x = PG_GETARG_FLOAT8(1);
	else
	{
		Timestamp	t = PG_GETARG_TIMESTAMP(1);

		if (TIMESTAMP_NOT_FINITE(t))
			PG_RETURN_ARRAYTYPE_P(state);
		x = m4_timestamp_seconds(t);
	}
	y = PG_GETARG_FLOAT8(2);
	/* m4_grid_add leaves out NaN and infinities */
	if (m4_grid_add(d, x, y, 1) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pg_dash.m4_grid state"),
				 errdetail("No cell width fits the state's cells and x = %g.", x)));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine of pg_dash.m4_grid: merges a partial state into the first one. */
Datum
pg_dash_m4_grid_combinefn(PG_FUNCTION_ARGS)
{
	ArrayType  *into = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *from = PG_GETARG_ARRAYTYPE_P(1);
	double	   *a;
	double	   *b;

	/* outside an aggregate the first argument must not be changed */
	if (!AggCheckCallContext(fcinfo, NULL))
		into = PG_GETARG_ARRAYTYPE_P_COPY(0);
	a = m4_grid_state_data(into);
	b = m4_grid_state_data(from);
	if (m4_grid_combine(a, b) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_dash.m4_grid states cannot be combined"),
				 errdetail("They have %.0f and %.0f cells, or no cell width fits both.",
						   a[M4G_CELLS], b[M4G_CELLS])));
	PG_RETURN_ARRAYTYPE_P(into);
}

/* Final of pg_dash.m4_grid: the points of every cell as rows (x, y, rows) in x order. */
Datum
pg_dash_m4_grid_finalfn(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	double	   *d = m4_grid_state_data(state);
	size_t		cells = (size_t) d[M4G_CELLS];
	double	   *px = palloc(sizeof(double) * 4 * cells);
	double	   *py = palloc(sizeof(double) * 4 * cells);
	double	   *pw = palloc(sizeof(double) * 4 * cells);

	PG_RETURN_ARRAYTYPE_P(m4_points_array(px, py, pw, m4_grid_emit(d, px, py, pw)));
}
