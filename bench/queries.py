"""The named queries the benchmarks run, shared by bench/run.py (which
defines them in pg_dash) and bench/peers/tornado_peer.py (which serves the
same SQL).  Parameters are written :name, as pg_dash.define_query wants."""

# name: (sql, cache_ttl seconds; 0 = no cache, description)
QUERIES = {
    "point": (
        "SELECT id, name, price, stock, updated FROM bench.items WHERE id = :id",
        0, "primary-key lookup"),
    "point_cached": (
        "SELECT id, name, price, stock, updated FROM bench.items WHERE id = :id",
        300, "primary-key lookup, cached"),
    "agg": (
        "SELECT region, product, count(*) AS orders, sum(qty) AS qty, sum(amount) AS total "
        "FROM bench.sales WHERE ts > now() - interval '1 day' "
        "GROUP BY region, product ORDER BY region, product",
        0, "GROUP BY over the last day"),
    "rows_all": (
        "SELECT id, ts, region, product, qty, amount FROM bench.sales",
        0, "every sales row"),
    "series_big": (
        "SELECT g AS id, (g % 1000)::float8 * 0.5 AS value FROM generate_series(1, {big}) g",
        0, "a long generated series"),
    "sales_by_hour": (
        "SELECT date_trunc('hour', ts) AS hour, sum(amount)::float8 AS total "
        "FROM bench.sales GROUP BY 1 ORDER BY 1",
        60, "sales per hour (the demo sales page)"),
}


def sql_of(name, big=10_000_000):
    sql, ttl, desc = QUERIES[name]
    return sql.replace("{big}", str(big)), ttl, desc
