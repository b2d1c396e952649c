-- Downsampling for big charts (src/lttb_agg.c, src/lib/lttb.c).

-- Largest-Triangle-Three-Buckets downsampling for big charts: keeps n of the
-- aggregated points (the first, the last, and the most significant one of
-- each of n - 2 buckets) and returns them ordered by x as a jsonb array of
-- [x, y] pairs.  Rows with a NULL x or y are ignored.  The input need not be
-- ordered.  With the timestamptz overload x is an ISO 8601 string.
CREATE FUNCTION pg_dash.lttb_transfn(internal, double precision, double precision, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_dash_lttb_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.lttb_transfn(internal, timestamptz, double precision, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_dash_lttb_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.lttb_finalfn(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_dash_lttb_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE pg_dash.lttb(x double precision, y double precision, n integer) (
    SFUNC = pg_dash.lttb_transfn,
    STYPE = internal,
    FINALFUNC = pg_dash.lttb_finalfn
);
COMMENT ON AGGREGATE pg_dash.lttb(double precision, double precision, integer) IS
    'Downsamples a series to n points (Largest-Triangle-Three-Buckets) as [[x, y], ...]';

CREATE AGGREGATE pg_dash.lttb(x timestamptz, y double precision, n integer) (
    SFUNC = pg_dash.lttb_transfn,
    STYPE = internal,
    FINALFUNC = pg_dash.lttb_finalfn
);
COMMENT ON AGGREGATE pg_dash.lttb(timestamptz, double precision, integer) IS
    'Downsamples a time series to n points (Largest-Triangle-Three-Buckets) as [["<ISO 8601>", y], ...]';

-- M4 reduction for line charts (src/m4_agg.c, src/lib/m4.c): of each of
-- `buckets` equal buckets over [lo, hi] the first, last, lowest and highest
-- point, at most four per bucket, which draw the same line as every point
-- when a bucket is a pixel column.  lo, hi and buckets are read from the
-- first row.  Rows with a NULL or non-finite x or y, or x outside [lo, hi],
-- are left out.  The result has one row (x, y, rows) per point in x order;
-- a timestamp x is written as seconds since the Unix epoch
-- (to_timestamp(x)); rows counts the rows of the point's bucket on the
-- bucket's first point and is 0 on its other points.  The state is an
-- ordinary array, so PostgreSQL runs the aggregate in parallel; the
-- series endpoint (downsample, width, x_from, x_to) is built on it.
CREATE FUNCTION pg_dash.m4_transfn(double precision[], double precision, double precision,
                                   double precision, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.m4_transfn(double precision[], timestamp, double precision,
                                   timestamp, timestamp, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.m4_transfn(double precision[], timestamptz, double precision,
                                   timestamptz, timestamptz, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.m4_combinefn(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_combinefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.m4_finalfn(double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE pg_dash.m4(x double precision, y double precision, lo double precision,
                            hi double precision, buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(double precision, double precision, double precision, double precision, integer) IS
    'Reduces a series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (x, y, rows)';

CREATE AGGREGATE pg_dash.m4(x timestamp, y double precision, lo timestamp, hi timestamp,
                            buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(timestamp, double precision, timestamp, timestamp, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (epoch seconds, y, rows)';

CREATE AGGREGATE pg_dash.m4(x timestamptz, y double precision, lo timestamptz, hi timestamptz,
                            buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(timestamptz, double precision, timestamptz, timestamptz, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (epoch seconds, y, rows)';

-- M4 on a growing grid (src/m4_agg.c, src/lib/m4_grid.c): the same points
-- as pg_dash.m4 without knowing the x range first, so that a chart's series
-- is one pass over the rows.  The buckets are cells [k * 2^e, (k + 1) * 2^e)
-- of a grid anchored at 0: the smallest power-of-two width at which the x
-- seen span at most `buckets` cells (2 .. 100000, read from the first row).
-- Rows with a NULL or non-finite x or y are left out.  The result has the
-- shape of pg_dash.m4's (rows (x, y, rows) in x order, empty without finite
-- rows, NULL without rows); the state is an ordinary array that grows by
-- merging cells, and states of different widths combine exactly, so
-- PostgreSQL runs it in parallel.
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], double precision, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], timestamp, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], timestamptz, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_combinefn(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_combinefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_finalfn(double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE pg_dash.m4_grid(x double precision, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(double precision, double precision, integer) IS
    'Reduces a series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (x, y, rows)';
CREATE AGGREGATE pg_dash.m4_grid(x timestamp, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(timestamp, double precision, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (epoch seconds, y, rows)';
CREATE AGGREGATE pg_dash.m4_grid(x timestamptz, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(timestamptz, double precision, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (epoch seconds, y, rows)';
