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
