/*
 * metrics.h
 *		Counters shared by all workers, for /metrics and pg_dash.stats.
 */
#ifndef PG_DASH_METRICS_H
#define PG_DASH_METRICS_H

typedef enum MetricCounter
{
	METRIC_BYTES_SENT,
	METRIC_CACHE_HITS,
	METRIC_CACHE_MISSES,
	METRIC_CACHE_EVICTIONS,
	METRIC_NOTIFICATIONS_RECEIVED,
	METRIC_NOTIFICATIONS_DELIVERED,
	METRIC_WS_MESSAGES_SENT,
	METRIC_WS_MESSAGES_RECEIVED,
	METRIC_WS_SLOW_CLOSED,
	METRIC_CONNECTIONS_ACCEPTED,
	METRIC_SESSIONS_CREATED,
	METRIC_SESSIONS_EXPIRED,
	METRIC_MALFORMED_REQUESTS,
	METRIC_HOST_REFUSED,
	METRIC_ORIGIN_REFUSED,
	METRIC_HEADER_TIMEOUTS,
	METRIC_IP_CONNECTIONS_REFUSED,
	METRIC_IP_RATE_LIMITED,
	METRIC_OUTPUT_PAUSES,
	METRIC_CACHE_LOCAL_HITS,
	METRIC_INLINE_RUNS,
	METRIC_INLINE_FALLBACKS,
	METRIC_COUNTER_COUNT
} MetricCounter;

/* Routes requests are counted by. */
typedef enum MetricRoute
{
	ROUTE_NONE = -1,			/* not counted here (handed to an executor) */
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_STATIC,
	ROUTE_API,
	ROUTE_WS,
	ROUTE_OTHER,
	ROUTE_COUNT
} MetricRoute;

/* A series family: name, Prometheus type and help text. */
typedef struct MetricFamily
{
	const char *name;
	const char *type;
	const char *help;
} MetricFamily;

/* Receives one series: its family, a name suffix ("_sum"...), its labels and value. */
typedef void (*MetricEmit) (void *arg, const MetricFamily *family,
							const char *suffix, const char *labels, double value);

/* A module's series, walked by /metrics and pg_dash.stats. */
typedef void (*MetricSource) (MetricEmit emit, void *arg);

extern void metrics_add_source(MetricSource source);
/*
 * Limits whose refusals are counted, one series each of
 * pg_dash_limit_hits_total{limit="<setting without pg_dash.>"}.
 */
typedef enum MetricLimit
{
	LIMIT_WS_MAX_ROWS,
	LIMIT_WS_MAX_BYTES,
	LIMIT_WS_MAX_WATCHES,
	LIMIT_WS_MAX_SUBSCRIPTIONS,
	LIMIT_MAX_DOWNLOADS,
	LIMIT_DOWNLOAD_TIMEOUT,
	LIMIT_MAX_SESSIONS,
	LIMIT_MAX_NEW_SESSIONS_PER_IP,
	LIMIT_COUNT
} MetricLimit;

extern void metrics_shmem_request(void);
extern void metrics_shmem_startup(void);
extern void metrics_count(MetricCounter counter, uint64 n);
extern void metrics_limit_hit(MetricLimit limit);
extern void metrics_request(MetricRoute route, int status, double seconds);
extern void metrics_error_class(const char *sqlstate);
extern void metrics_set_connections(int worker, int http, int websocket);
extern void metrics_set_sessions_active(uint64 n);
extern char *metrics_render_prometheus(void);

#endif							/* PG_DASH_METRICS_H */
