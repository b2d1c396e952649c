/*
 * query_series.c
 *		A chart's series reduced in the database: the options downsample,
 *		width, x, y, x_from and x_to of a named query (docs/api.md).
 *
 * The reduction is SQL that PostgreSQL can run in parallel and serve from
 * an index on x: the aggregate pg_dash.m4 (m4_agg.c) keeps the first,
 * last, lowest and highest point of each of `width` buckets over the x
 * range, at most four points per pixel column, which draw the same line as
 * every row; `downsample` then picks that many of them with LTTB
 * (src/lib/lttb.c).  The query runs as
 *
 *		SELECT pg_dash.m4(q.x, q.y, lo, hi, buckets) FROM (<query>) q
 *		WHERE q.x >= lo AND q.x <= hi
 *
 * where <query> is the named query without its ORDER BY (series_statement):
 * a sorted subquery can be neither flattened nor aggregated in parallel,
 * and the order does not matter to the aggregate.  Flattened, the range
 * condition reaches the table's index on x, and the x range of a request
 * without bounds costs two index probes (min and max).
 *
 * Without such an index reading the x range first reads every row, and the
 * reduction reads them again.  When the planner's estimate for the range
 * query is above SERIES_EXTENT_CHEAP_COST the series is read once instead,
 * on the growing grid of pg_dash.m4_grid (src/lib/m4_grid.c), and its
 * points are reduced again in C to the request's buckets over the x they
 * span: exact but for one grid cell at each edge of a pixel column.
 *
 * A query with a cache TTL keeps a summary of its whole series in the
 * shared cache: the M4 points of SERIES_SUMMARY_BUCKETS buckets over all
 * its x values (a full scan, once).  A request whose buckets are at least
 * twice as wide as the summary's is answered from it without reading the
 * table: reducing M4 points again is exact except within one summary
 * bucket at each edge of a pixel column.  Narrower ranges (deep zooms) read
 * their range through the index.  Without a cheap x range the summary is
 * made on the grid, in the same one pass, and records the equal buckets its
 * cells are as fine as.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"

#include "lttb.h"
#include "m4.h"
#include "m4_agg.h"
#include "m4_grid.h"
#include "query_series.h"

/* How x is handed to pg_dash.m4: which of its overloads. */
typedef enum SeriesKind
{
	SERIES_NUMBER,				/* double precision */
	SERIES_TIMESTAMP,			/* timestamp (and date) */
	SERIES_TIMESTAMPTZ
} SeriesKind;

/* Reduced points in x order, each standing for w rows. */
typedef struct SeriesPoints
{
	size_t		n;
	double	   *x;
	double	   *y;
	double	   *w;
	double		rows;			/* rows they were chosen from */
} SeriesPoints;

/* The head of a summary as the cache keeps it; x, y, w arrays follow. */
typedef struct SeriesSummaryHead
{
	char		magic[8];
	int64		buckets;
	double		lo;
	double		hi;
	uint64		n;
} SeriesSummaryHead;

#define SERIES_SUMMARY_MAGIC "pgdm4s1"

/* True for the types a series column may have (dates and times only for x). */
bool
series_type_ok(Oid typid, bool x)
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

/* The overload of pg_dash.m4 an x type goes to. */
static SeriesKind
series_kind(Oid base)
{
	if (base == TIMESTAMPTZOID)
		return SERIES_TIMESTAMPTZ;
	if (base == TIMESTAMPOID || base == DATEOID)
		return SERIES_TIMESTAMP;
	return SERIES_NUMBER;
}

/* The number an x value stands for: itself, or for a time its epoch seconds. */
static double
series_value(Datum d, Oid base)
{
	switch (base)
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
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				return get_float8_infinity();
			return m4_timestamp_seconds(DatumGetTimestamp(d));
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				return get_float8_infinity();
			return (double) DatumGetDateADT(d) * SECS_PER_DAY + M4_EPOCH_OFFSET;
		default:
			return get_float8_nan();
	}
}

/* The result column number of a name, or -1. */
static int
series_column_index(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	return -1;
}

/* Reads one bound of the x range (x_from or x_to); false with *f filled. */
static bool
series_parse_bound(SeriesSpec *spec, const char *what, const char *text, Datum *out,
				   double *value, QueryFailure *f)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	Oid			infunc;
	Oid			ioparam;
	volatile bool ok = true;

	getTypeInputInfo(spec->x_type, &infunc, &ioparam);
	PG_TRY();
	{
		*out = OidInputFunctionCall(infunc, (char *) text, ioparam, -1);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		ok = request_fail(f, 400, "22023", psprintf("invalid %s \"%s\"", what, text),
						  psprintf("x is \"%s\" of type %s: %s", spec->x_column,
								   format_type_be(spec->x_type), edata->message),
						  spec->x_base == TIMESTAMPTZOID || spec->x_base == TIMESTAMPOID ?
						  "Write times in ISO 8601, e.g. 2026-01-01T10:00:00Z." : NULL);
	}
	PG_END_TRY();
	if (!ok)
		return false;
	*value = series_value(*out, spec->x_base);
	if (!isfinite(*value))
		return request_fail(f, 400, "22023", psprintf("%s must be finite, not \"%s\"", what, text),
							NULL, NULL);
	return true;
}

/*
 * Checks a series request against the columns of the query's result: x a
 * number, date or timestamp, y a number, the bounds values of x's type in
 * order.  False with *f filled (400) otherwise.
 */
bool
series_check(SeriesSpec *spec, TupleDesc desc, QueryFailure *f)
{
	int			yi;
	Oid			yt;

	spec->x_index = series_column_index(desc, spec->x_column);
	yi = series_column_index(desc, spec->y_column);
	if (spec->x_index < 0 || yi < 0)
		return request_fail(f, 400, "22023", psprintf("no column \"%s\" in the result",
													  spec->x_index < 0 ? spec->x_column : spec->y_column),
							NULL, "x and y name result columns of the query.");
	spec->x_type = TupleDescAttr(desc, spec->x_index)->atttypid;
	spec->x_base = getBaseType(spec->x_type);
	yt = getBaseType(TupleDescAttr(desc, yi)->atttypid);
	if (!series_type_ok(spec->x_base, true))
		return request_fail(f, 400, "22023", psprintf("cannot draw a series over column \"%s\" of type %s",
													  spec->x_column, format_type_be(spec->x_base)),
							NULL, "x must be a number, date or timestamp; y a number.");
	if (!series_type_ok(yt, false))
		return request_fail(f, 400, "22023", psprintf("cannot draw column \"%s\" of type %s as a series",
													  spec->y_column, format_type_be(yt)),
							NULL, "y must be a number.");
	if (spec->x_from && !series_parse_bound(spec, "x_from", spec->x_from, &spec->from, &spec->from_value, f))
		return false;
	if (spec->x_to && !series_parse_bound(spec, "x_to", spec->x_to, &spec->to, &spec->to_value, f))
		return false;
	if (spec->x_from && spec->x_to && spec->from_value > spec->to_value)
		return request_fail(f, 400, "22023", "x_from is after x_to",
							psprintf("x_from \"%s\", x_to \"%s\".", spec->x_from, spec->x_to), NULL);
	return true;
}

/*
 * The statement a series reads: the query without its ORDER BY, unless a
 * LIMIT, OFFSET or DISTINCT ON needs it (then the query as it is).  The
 * query is analyzed, not rewritten, so views and their privileges stay as
 * written; pg_get_querydef() writes it back as SQL.
 */
char *
series_statement(const char *statement, int nparams, Oid *types)
{
	List	   *raw = raw_parser(statement, RAW_PARSE_DEFAULT);
	Query	   *query;

	if (list_length(raw) != 1)
		return pstrdup(statement);
	query = parse_analyze_fixedparams(linitial_node(RawStmt, raw), statement, types, nparams, NULL);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL || query->sortClause == NIL ||
		query->limitCount != NULL || query->limitOffset != NULL || query->hasDistinctOn ||
		query->rowMarks != NIL)
		return pstrdup(statement);
	query->sortClause = NIL;
	return pg_get_querydef(query, false);
}

/* The SQL of x for the overload of pg_dash.m4 it goes to. */
static const char *
series_x_sql(SeriesSpec *spec, const char *qx)
{
	switch (series_kind(spec->x_base))
	{
		case SERIES_TIMESTAMPTZ:
			return psprintf("q.%s::timestamptz", qx);
		case SERIES_TIMESTAMP:
			return psprintf("q.%s::timestamp", qx);
		default:
			return psprintf("q.%s::float8", qx);
	}
}

/* A bound for pg_dash.m4 (lo or hi) from the number M4 works on. */
static Datum
series_m4_bound(SeriesSpec *spec, double v, Oid *type)
{
	switch (series_kind(spec->x_base))
	{
		case SERIES_TIMESTAMPTZ:
			*type = TIMESTAMPTZOID;
			return TimestampTzGetDatum(m4_seconds_timestamp(v));
		case SERIES_TIMESTAMP:
			*type = TIMESTAMPOID;
			return TimestampGetDatum(m4_seconds_timestamp(v));
		default:
			*type = FLOAT8OID;
			return Float8GetDatum(v);
	}
}

/* The query's parameters with room for more. */
static void
series_params(SeriesSource *src, int more, Oid **t, Datum **v, char **nl)
{
	int			n = src->nparams;

	*t = palloc(sizeof(Oid) * (n + more));
	*v = palloc(sizeof(Datum) * (n + more));
	*nl = palloc(n + more + 1);
	if (n > 0)
	{
		memcpy(*t, src->types, sizeof(Oid) * n);
		memcpy(*v, src->values, sizeof(Datum) * n);
		memcpy(*nl, src->nulls, n);
	}
	memset(*nl + n, ' ', more);
	(*nl)[n + more] = '\0';
}

/*
 * Appends the conditions x >= lo and x <= hi (x values; NULL: none) to sql,
 * as parameters after the *n in t and v.
 */
static void
series_bounds_sql(StringInfo sql, SeriesSpec *spec, const Datum *lo, const Datum *hi, Oid *t,
				  Datum *v, int *n)
{
	const char *qx = quote_identifier(spec->x_column);

	if (lo)
	{
		t[*n] = spec->x_type;
		v[(*n)++] = *lo;
		appendStringInfo(sql, " AND q.%s >= $%d", qx, *n);
	}
	if (hi)
	{
		t[*n] = spec->x_type;
		v[(*n)++] = *hi;
		appendStringInfo(sql, " AND q.%s <= $%d", qx, *n);
	}
}

/*
 * The planner's cost below which the x range of a series is read first and
 * the series reduced exactly over it: two index probes cost a few units,
 * reading a table or a query's rows thousands.
 */
#define SERIES_EXTENT_CHEAP_COST 1000.0

/* The x range query of a series, prepared, with its parameters. */
typedef struct SeriesExtent
{
	SPIPlanPtr	plan;
	Datum	   *values;
	char	   *nulls;
	double		cost;			/* the planner's estimate of its total cost */
} SeriesExtent;

/*
 * Prepares the query of the smallest and largest finite x of the series
 * within the given bounds (from/to when has_from/has_to).  Its generic plan
 * is the one that runs, and its estimated cost says whether reading the
 * range first is cheap: with the ORDER BY gone and an index on x, two index
 * probes.
 */
static void
series_extent_prepare(SeriesSpec *spec, SeriesSource *src, bool has_from, bool has_to, SeriesExtent *ext)
{
	const char *qx = quote_identifier(spec->x_column);
	StringInfoData sql;
	Oid		   *t;
	int			n = src->nparams;
	CachedPlan *cplan;
	ListCell   *lc;

	series_params(src, 2, &t, &ext->values, &ext->nulls);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT min(q.%s), max(q.%s) FROM (%s\n) q WHERE q.%s IS NOT NULL",
					 qx, qx, src->statement, qx);
	/* NaN and infinities are no place on a chart (NaN sorts above infinity) */
	if (spec->x_base != INT2OID && spec->x_base != INT4OID && spec->x_base != INT8OID)
		appendStringInfo(&sql, " AND q.%s > '-infinity' AND q.%s < 'infinity'", qx, qx);
	series_bounds_sql(&sql, spec, has_from ? &spec->from : NULL, has_to ? &spec->to : NULL, t,
					  ext->values, &n);
	ext->plan = SPI_prepare_cursor(sql.data, n, t, CURSOR_OPT_GENERIC_PLAN);
	if (ext->plan == NULL)
		elog(ERROR, "could not prepare the x range of the series: %s", SPI_result_code_string(SPI_result));
	ext->cost = get_float8_infinity();
	cplan = SPI_plan_get_cached_plan(ext->plan);
	if (cplan != NULL)
	{
		ext->cost = 0;
		foreach(lc, cplan->stmt_list)
			ext->cost += lfirst_node(PlannedStmt, lc)->planTree->total_cost;
		/* an unsaved plan's cached plan is not tied to a resource owner */
		ReleaseCachedPlan(cplan, NULL);
	}
}

/* Runs a prepared x range query: lo and hi as x values; false when there is none. */
static bool
series_extent_run(SeriesSpec *spec, SeriesExtent *ext, Datum *lo, Datum *hi)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		lo_null;
	bool		hi_null;
	int16		typlen;
	bool		typbyval;

	if (SPI_execute_plan(ext->plan, ext->values, ext->nulls, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the x range of the series");
	MemoryContextSwitchTo(cxt);
	get_typlenbyval(spec->x_type, &typlen, &typbyval);
	*lo = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &lo_null);
	*hi = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hi_null);
	if (!lo_null && !hi_null)
	{
		*lo = datumCopy(*lo, typbyval, typlen);
		*hi = datumCopy(*hi, typbyval, typlen);
	}
	SPI_freetuptable(SPI_tuptable);
	return !lo_null && !hi_null;
}

/*
 * Runs a statement of pg_dash.m4 or pg_dash.m4_grid (what) and reads the
 * points (x, y, rows) it returns, in the caller's memory context.
 */
static void
series_points_run(const char *sql, int n, Oid *t, Datum *v, const char *nl, const char *what,
				  SeriesPoints *pts)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		isnull;
	Datum		d;
	ArrayType  *arr;
	double	   *data;
	size_t		i;

	if (SPI_execute_with_args(sql, n, t, v, nl, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not reduce the series");
	MemoryContextSwitchTo(cxt);
	memset(pts, 0, sizeof(*pts));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	arr = isnull ? NULL : DatumGetArrayTypeP(d);
	/* NULL: no rows in the range; no dimensions: none with finite values */
	if (arr == NULL || ARR_NDIM(arr) == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return;
	}
	if (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[1] != 3 || ARR_HASNULL(arr))
		elog(ERROR, "%s returned an array of an unexpected shape", what);
	pts->n = ARR_DIMS(arr)[0];
	pts->x = palloc(sizeof(double) * pts->n);
	pts->y = palloc(sizeof(double) * pts->n);
	pts->w = palloc(sizeof(double) * pts->n);
	data = (double *) ARR_DATA_PTR(arr);
	for (i = 0; i < pts->n; i++)
	{
		pts->x[i] = data[3 * i];
		pts->y[i] = data[3 * i + 1];
		pts->w[i] = data[3 * i + 2];
		pts->rows += pts->w[i];
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Runs the aggregate agg (pg_dash.m4 or pg_dash.m4_grid) over x and y of the
 * rows with lo <= x <= hi (x values; NULL: no bound), with its further
 * arguments (nargs of them) after x and y, and reads the points it returns.
 */
static void
series_aggregate(SeriesSpec *spec, SeriesSource *src, const char *agg, int nargs, const Oid *types,
				 const Datum *args, const Datum *lo, const Datum *hi, SeriesPoints *pts)
{
	StringInfoData sql;
	Oid		   *t;
	Datum	   *v;
	char	   *nl;
	int			n = src->nparams;
	int			i;

	series_params(src, nargs + 2, &t, &v, &nl);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s(%s, q.%s::float8", agg,
					 series_x_sql(spec, quote_identifier(spec->x_column)), quote_identifier(spec->y_column));
	for (i = 0; i < nargs; i++)
	{
		t[n] = types[i];
		v[n++] = args[i];
		appendStringInfo(&sql, ", $%d", n);
	}
	appendStringInfo(&sql, ") FROM (%s\n) q WHERE true", src->statement);
	series_bounds_sql(&sql, spec, lo, hi, t, v, &n);
	series_points_run(sql.data, n, t, v, nl, agg, pts);
}

/*
 * Runs pg_dash.m4 over the rows with lo <= x <= hi in buckets buckets: lo_v
 * and hi_v are the bounds as numbers; lo and hi (x values, NULL: none) the
 * conditions on x that reach an index.
 */
static void
series_reduce(SeriesSpec *spec, SeriesSource *src, const Datum *lo, const Datum *hi, double lo_v,
			  double hi_v, int buckets, SeriesPoints *pts)
{
	Oid			types[3];
	Datum		args[3];

	args[0] = series_m4_bound(spec, lo_v, &types[0]);
	args[1] = series_m4_bound(spec, hi_v, &types[1]);
	types[2] = INT4OID;
	args[2] = Int32GetDatum(buckets);
	series_aggregate(spec, src, "pg_dash.m4", 3, types, args, lo, hi, pts);
}

/*
 * Runs pg_dash.m4_grid over the rows (within the bounds given when
 * has_from/has_to): the series in one pass, without its x range, as the
 * points of at most cells cells of a power-of-two grid over the x seen.
 */
static void
series_grid(SeriesSpec *spec, SeriesSource *src, bool has_from, bool has_to, int cells,
			SeriesPoints *pts)
{
	Oid			type = INT4OID;
	Datum		arg = Int32GetDatum(cells);

	series_aggregate(spec, src, "pg_dash.m4_grid", 1, &type, &arg, has_from ? &spec->from : NULL,
					 has_to ? &spec->to : NULL, pts);
}

/*
 * The buckets of equal width over [lo, hi] that are each at least one cell
 * of a grid of cells cells over the same x wide: how fine a summary made on
 * the grid is, for series_summary_serves().
 */
static int64
series_grid_buckets(double lo, double hi, int cells)
{
	double		spans;

	if (!(hi > lo))
		return cells;
	/* (hi - lo) / 2^e without overflowing; strictly below it, so never more */
	spans = ldexp(hi / 2 - lo / 2, 1 - m4_grid_exponent(lo, hi, cells));
	spans = ceil(spans) - 1;
	return spans < 1 ? 1 : spans > cells ? cells : (int64) spans;
}

/* Cells of the grid a request for buckets buckets is read with. */
static int
series_grid_cells(int buckets)
{
	return Max(SERIES_SUMMARY_BUCKETS, Min(M4_MAX_BUCKETS, 8 * buckets));
}

/*
 * Appends a summary of a whole series (pts over [lo, hi], of buckets equal
 * buckets or as fine) for the cache.
 */
static void
series_summary_write(StringInfo out, const SeriesPoints *pts, double lo, double hi, int64 buckets)
{
	SeriesSummaryHead head;

	memset(&head, 0, sizeof(head));
	memcpy(head.magic, SERIES_SUMMARY_MAGIC, sizeof(head.magic));
	head.buckets = buckets;
	head.lo = lo;
	head.hi = hi;
	head.n = pts->n;
	appendBinaryStringInfo(out, (const char *) &head, sizeof(head));
	if (pts->n == 0)
		return;
	appendBinaryStringInfo(out, (const char *) pts->x, sizeof(double) * pts->n);
	appendBinaryStringInfo(out, (const char *) pts->y, sizeof(double) * pts->n);
	appendBinaryStringInfo(out, (const char *) pts->w, sizeof(double) * pts->n);
}

/* Reads a cached summary; false when it is not one. */
static bool
series_summary_read(const char *data, size_t len, SeriesSummaryHead *head, SeriesPoints *pts)
{
	size_t		n;

	if (len < sizeof(*head))
		return false;
	memcpy(head, data, sizeof(*head));
	n = head->n;
	if (memcmp(head->magic, SERIES_SUMMARY_MAGIC, sizeof(head->magic)) != 0 ||
		len != sizeof(*head) + 3 * sizeof(double) * n || head->buckets <= 0)
		return false;
	/* the cache copies bodies into palloc'd memory: the doubles are aligned */
	memset(pts, 0, sizeof(*pts));
	pts->n = n;
	pts->x = (double *) (data + sizeof(*head));
	pts->y = pts->x + n;
	pts->w = pts->y + n;
	return true;
}

/*
 * True when a summary is fine enough for buckets buckets over [a, b]: each
 * at least two summary buckets wide.
 */
static bool
series_summary_serves(double lo, double hi, int64 summary_buckets, double a, double b, int buckets)
{
	if (!(hi > lo))
		return true;			/* a single x: nothing to zoom into */
	return (b - a) / buckets >= 2 * (hi - lo) / summary_buckets;
}

/* Reduces points again to buckets buckets over [a, b]. */
static void
series_rereduce(const SeriesPoints *in, double a, double b, int buckets, SeriesPoints *out)
{
	double	   *scratch = palloc_extended(sizeof(double) * M4_FIELDS * buckets, MCXT_ALLOC_HUGE);

	out->x = palloc(sizeof(double) * 4 * buckets);
	out->y = palloc(sizeof(double) * 4 * buckets);
	out->w = palloc(sizeof(double) * 4 * buckets);
	out->n = m4_reduce(in->x, in->y, in->w, in->n, a, b, buckets, scratch,
					   out->x, out->y, out->w, &out->rows);
	pfree(scratch);
}

/* Keeps the LTTB selection of points points (the series is in x order). */
static void
series_lttb(SeriesPoints *pts, int64 points)
{
	size_t	   *keep;
	size_t		kept;
	size_t		i;

	if (points <= 0 || pts->n <= (size_t) points)
		return;
	keep = palloc(sizeof(size_t) * points);
	kept = lttb_select(pts->x, pts->y, pts->n, (size_t) points, keep);
	for (i = 0; i < kept; i++)
	{
		pts->x[i] = pts->x[keep[i]];
		pts->y[i] = pts->y[keep[i]];
	}
	pts->n = kept;
	pfree(keep);
}

/* Appends an x value (a number M4 works on) as JSON in x's own form. */
static void
series_append_x(StringInfo out, SeriesSpec *spec, double x)
{
	if (series_kind(spec->x_base) == SERIES_NUMBER)
		appendStringInfoString(out, float8out_internal(x));
	else
	{
		char		buf[MAXDATELEN + 1];

		/* a date is written as a timestamp, as the midnight it stands for */
		JsonEncodeDateTime(buf, TimestampGetDatum(m4_seconds_timestamp(x)),
						   spec->x_base == TIMESTAMPTZOID ? TIMESTAMPTZOID : TIMESTAMPOID, NULL);
		appendStringInfo(out, "\"%s\"", buf);
	}
}

/*
 * Writes the series as a two-column JSON result, with the rows it stands
 * for and the x range its buckets span (null bounds: no data).
 */
static void
series_write(StringInfo out, const char *prefix, SeriesSpec *spec, const SeriesPoints *pts,
			 bool has_range, double a, double b)
{
	size_t		i;

	appendStringInfoChar(out, '{');
	if (prefix)
		appendStringInfoString(out, prefix);
	appendStringInfoString(out, "\"columns\":[{\"name\":");
	escape_json(out, spec->x_column);
	appendStringInfoString(out, ",\"type\":");
	escape_json(out, format_type_be(spec->x_base));
	appendStringInfoString(out, "},{\"name\":");
	escape_json(out, spec->y_column);
	appendStringInfoString(out, ",\"type\":\"double precision\"}],\"rows\":[");
	for (i = 0; i < pts->n; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoChar(out, '[');
		series_append_x(out, spec, pts->x[i]);
		appendStringInfo(out, ",%s]", float8out_internal(pts->y[i]));
	}
	appendStringInfo(out, "],\"row_count\":%zu,\"truncated\":false,\"downsampled_from\":%.0f,\"x_from\":",
					 pts->n, pts->rows);
	if (has_range)
		series_append_x(out, spec, a);
	else
		appendStringInfoString(out, "null");
	appendStringInfoString(out, ",\"x_to\":");
	if (has_range)
		series_append_x(out, spec, b);
	else
		appendStringInfoString(out, "null");
	appendStringInfoChar(out, '}');
}

/* Reduces a whole series (or none) to the request's buckets and writes it. */
static void
series_answer(SeriesSpec *spec, const SeriesPoints *whole, bool has_range, double a, double b,
			  int buckets, StringInfo out, const char *prefix, SeriesOutcome *outcome)
{
	SeriesPoints pts;

	memset(&pts, 0, sizeof(pts));
	if (whole->n > 0 && a <= b)
		series_rereduce(whole, a, b, buckets, &pts);
	series_lttb(&pts, spec->points);
	outcome->points = pts.n;
	series_write(out, prefix, spec, &pts, has_range, a, b);
}

/*
 * Reduces the rows within [a, b] (the bounds as numbers; lo and hi as x
 * values, NULL: no condition) in SQL and writes them.
 */
static void
series_answer_range(SeriesSpec *spec, SeriesSource *src, const Datum *lo, const Datum *hi, double a,
					double b, int buckets, StringInfo out, const char *prefix, SeriesOutcome *outcome)
{
	SeriesPoints pts;

	memset(&pts, 0, sizeof(pts));
	if (a <= b)
		series_reduce(spec, src, lo, hi, a, b, buckets, &pts);
	series_lttb(&pts, spec->points);
	outcome->points = pts.n;
	series_write(out, prefix, spec, &pts, true, a, b);
}

/*
 * Answers a checked series request: from the cached summary (cached, unless
 * NULL) when it is fine enough, else in SQL.  When the caller may store a
 * summary (summary not NULL) and none was cached, a request the summary
 * would serve computes it first, into *summary.  Errors are thrown.
 */
void
series_run(SeriesSpec *spec, SeriesSource *src, const char *cached, size_t cached_len,
		   StringInfo summary, StringInfo out, const char *prefix, SeriesOutcome *outcome)
{
	int			buckets = (int) (spec->width > 0 ? spec->width : spec->points);
	bool		both = spec->x_from != NULL && spec->x_to != NULL;
	SeriesSummaryHead head;
	SeriesPoints whole;
	SeriesPoints pts;
	Datum		lo = spec->from;
	Datum		hi = spec->to;
	double		a = spec->from_value;
	double		b = spec->to_value;

	memset(outcome, 0, sizeof(*outcome));
	memset(&whole, 0, sizeof(whole));
	memset(&pts, 0, sizeof(pts));

	if (cached != NULL && series_summary_read(cached, cached_len, &head, &whole))
	{
		if (!spec->x_from)
			a = head.lo;
		if (!spec->x_to)
			b = head.hi;
		if (whole.n == 0 || series_summary_serves(head.lo, head.hi, head.buckets, a, b, buckets))
		{
			outcome->from_summary = true;
			series_answer(spec, &whole, whole.n > 0 || both, a, b, buckets, out, prefix, outcome);
			return;
		}
	}
	else if (summary != NULL)
	{
		SeriesExtent ext;
		Datum		all_lo;
		Datum		all_hi;
		double		all_a = 0;
		double		all_b = 0;
		int64		summary_buckets = SERIES_SUMMARY_BUCKETS;
		bool		any;

		series_extent_prepare(spec, src, false, false, &ext);
		if (ext.cost <= SERIES_EXTENT_CHEAP_COST)
		{
			/* the whole x range says whether a summary would serve this */
			any = series_extent_run(spec, &ext, &all_lo, &all_hi);
			if (any)
			{
				all_a = series_value(all_lo, spec->x_base);
				all_b = series_value(all_hi, spec->x_base);
			}
			if (any && !series_summary_serves(all_a, all_b, SERIES_SUMMARY_BUCKETS,
											  spec->x_from ? a : all_a, spec->x_to ? b : all_b, buckets))
			{
				/* a narrow range: read it, with the bounds known now */
				series_answer_range(spec, src, spec->x_from ? &lo : &all_lo, spec->x_to ? &hi : &all_hi,
									spec->x_from ? a : all_a, spec->x_to ? b : all_b, buckets,
									out, prefix, outcome);
				return;
			}
			if (any)
				series_reduce(spec, src, &all_lo, &all_hi, all_a, all_b, SERIES_SUMMARY_BUCKETS, &whole);
		}
		else
		{
			/* reading the range first would read every row: the summary in one pass */
			series_grid(spec, src, false, false, SERIES_SUMMARY_BUCKETS, &whole);
			any = whole.n > 0;
			if (any)
			{
				all_a = whole.x[0];
				all_b = whole.x[whole.n - 1];
				summary_buckets = series_grid_buckets(all_a, all_b, SERIES_SUMMARY_BUCKETS);
			}
		}
		series_summary_write(summary, &whole, all_a, all_b, summary_buckets);
		outcome->summary_made = true;
		if (!spec->x_from)
			a = all_a;
		if (!spec->x_to)
			b = all_b;
		if (!any || series_summary_serves(all_a, all_b, summary_buckets, a, b, buckets))
		{
			series_answer(spec, &whole, any || both, a, b, buckets, out, prefix, outcome);
			return;
		}
		/* too narrow for the summary: its rows, the data's bounds as numbers */
		series_answer_range(spec, src, spec->x_from ? &lo : NULL, spec->x_to ? &hi : NULL, a, b,
							buckets, out, prefix, outcome);
		return;
	}

	/* the bounds not given are the data's, within the bound that is */
	if (!both)
	{
		SeriesExtent ext;
		Datum		data_lo;
		Datum		data_hi;

		series_extent_prepare(spec, src, spec->x_from != NULL, spec->x_to != NULL, &ext);
		if (ext.cost > SERIES_EXTENT_CHEAP_COST)
		{
			/*
			 * Reading the range first would read the rows twice: one pass
			 * on the grid, reduced again over the x it saw.
			 */
			series_grid(spec, src, spec->x_from != NULL, spec->x_to != NULL,
						series_grid_cells(buckets), &whole);
			if (whole.n == 0)
			{
				series_write(out, prefix, spec, &pts, false, a, b);
				return;
			}
			if (!spec->x_from)
				a = whole.x[0];
			if (!spec->x_to)
				b = whole.x[whole.n - 1];
			series_answer(spec, &whole, true, a, b, buckets, out, prefix, outcome);
			return;
		}
		if (!series_extent_run(spec, &ext, &data_lo, &data_hi))
		{
			series_write(out, prefix, spec, &pts, false, a, b);
			return;
		}
		if (!spec->x_from)
			lo = data_lo, a = series_value(data_lo, spec->x_base);
		if (!spec->x_to)
			hi = data_hi, b = series_value(data_hi, spec->x_base);
	}
	series_answer_range(spec, src, &lo, &hi, a, b, buckets, out, prefix, outcome);
}
