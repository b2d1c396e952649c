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
