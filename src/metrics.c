/*
 * metrics.c
 *		Counters shared by all workers, exposed as GET /metrics (Prometheus
 *		text format) and as the pg_dash.stats view.
 *
 * Every figure lives in shared memory as an atomic counter, so no lock is
 * needed and a scrape sums all workers.  Both outputs are produced by
 * metrics_foreach(), which walks every series once, so /metrics and SQL can
 * never disagree.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "metrics.h"

#define METRIC_MAX_WORKERS 64
#define METRIC_BUCKETS 14
#define METRIC_SQLSTATE_CLASSES (36 * 36)

static const double bucket_bounds[METRIC_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static const char *const route_names[ROUTE_COUNT] = {
	"healthz", "metrics", "static", "api", "ws", "other"
};

static const char *const limit_names[LIMIT_COUNT] = {
	"ws_max_rows", "ws_max_bytes", "ws_max_watches", "ws_max_subscriptions",
	"max_downloads", "download_timeout", "max_sessions", "max_new_sessions_per_ip"
};


typedef struct MetricsShared
{
	pg_atomic_uint64 counters[METRIC_COUNTER_COUNT];
	pg_atomic_uint64 requests[ROUTE_COUNT][5];	/* by status class 1xx-5xx */
	pg_atomic_uint64 buckets[ROUTE_COUNT][METRIC_BUCKETS + 1];
	pg_atomic_uint64 latency_sum_us[ROUTE_COUNT];
	pg_atomic_uint64 errors[METRIC_SQLSTATE_CLASSES];
	pg_atomic_uint64 limit_hits[LIMIT_COUNT];
	pg_atomic_uint64 sessions_active;
	pg_atomic_uint32 http_connections[METRIC_MAX_WORKERS];
	pg_atomic_uint32 ws_connections[METRIC_MAX_WORKERS];
} MetricsShared;

static MetricsShared *metrics = NULL;

/* Asks for the shared memory the counters need. */
void
metrics_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(MetricsShared)));
}

/* Attaches to (and in the first process, initializes) the counters. */
void
metrics_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	metrics = ShmemInitStruct("pg_dash metrics", sizeof(MetricsShared), &found);
	if (!found)
	{
		pg_atomic_uint64 *p = (pg_atomic_uint64 *) metrics;
		size_t		n64 = offsetof(MetricsShared, http_connections) / sizeof(pg_atomic_uint64);
		int			i;

		for (i = 0; i < n64; i++)
			pg_atomic_init_u64(&p[i], 0);
		for (i = 0; i < METRIC_MAX_WORKERS; i++)
		{
			pg_atomic_init_u32(&metrics->http_connections[i], 0);
			pg_atomic_init_u32(&metrics->ws_connections[i], 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Adds n to a counter. */
void
metrics_count(MetricCounter counter, uint64 n)
{
	if (metrics)
		pg_atomic_fetch_add_u64(&metrics->counters[counter], n);
}

/* Counts one request refused, or one stream ended, by a limit. */
void
metrics_limit_hit(MetricLimit limit)
{
	if (metrics)
		pg_atomic_fetch_add_u64(&metrics->limit_hits[limit], 1);
}

/* Counts one request with its status and time to first byte. */
void
metrics_request(MetricRoute route, int status, double seconds)
{
	int			cls = status / 100 - 1;
	int			b;

	if (metrics == NULL)
		return;
	if (cls < 0 || cls > 4)
		cls = 4;
	pg_atomic_fetch_add_u64(&metrics->requests[route][cls], 1);
	for (b = 0; b < METRIC_BUCKETS && seconds > bucket_bounds[b]; b++)
		;
	pg_atomic_fetch_add_u64(&metrics->buckets[route][b], 1);
	pg_atomic_fetch_add_u64(&metrics->latency_sum_us[route], (uint64) (seconds * 1e6));
}

/* Index of an SQLSTATE class ("22", "42", ...), or -1. */
static int
metrics_class_index(const char *sqlstate)
{
	int			v[2];
	int			i;

	for (i = 0; i < 2; i++)
	{
		char		c = sqlstate[i];

		if (c >= '0' && c <= '9')
			v[i] = c - '0';
		else if (c >= 'A' && c <= 'Z')
			v[i] = c - 'A' + 10;
		else
			return -1;
	}
	return v[0] * 36 + v[1];
}

/* Counts an error by the class of its SQLSTATE. */
void
metrics_error_class(const char *sqlstate)
{
	int			idx = sqlstate ? metrics_class_index(sqlstate) : -1;

	if (metrics && idx >= 0)
		pg_atomic_fetch_add_u64(&metrics->errors[idx], 1);
}

/* Publishes the number of unexpired sessions (counted by the sweep). */
void
metrics_set_sessions_active(uint64 n)
{
	if (metrics)
		pg_atomic_write_u64(&metrics->sessions_active, n);
}

/* Publishes this worker's open connection counts. */
void
metrics_set_connections(int worker, int http, int websocket)
{
	if (metrics == NULL || worker < 0 || worker >= METRIC_MAX_WORKERS)
		return;
	pg_atomic_write_u32(&metrics->http_connections[worker], http);
	pg_atomic_write_u32(&metrics->ws_connections[worker], websocket);
}

/* One metric family: HELP and TYPE are printed once per family. */

static const MetricFamily fam_requests = {"pg_dash_requests_total", "counter", "HTTP requests by route and status class."};
static const MetricFamily fam_duration = {"pg_dash_request_duration_seconds", "histogram", "Time from a complete request to its response being queued."};
static const MetricFamily fam_errors = {"pg_dash_errors_total", "counter", "Errors answered, by SQLSTATE class."};
static const MetricFamily fam_connections = {"pg_dash_open_connections", "gauge", "Open client connections by kind."};
static const MetricFamily fam_limits = {"pg_dash_limit_hits_total", "counter", "Requests refused or streams ended by a limit, by the setting that set it."};

static const MetricFamily counter_info[METRIC_COUNTER_COUNT] = {
	{"pg_dash_bytes_sent_total", "counter", "Bytes written to clients."},
	{"pg_dash_cache_hits_total", "counter", "Query results served from the cache."},
	{"pg_dash_cache_misses_total", "counter", "Query results not found in the cache."},
	{"pg_dash_cache_evictions_total", "counter", "Cached results evicted for space or age."},
	{"pg_dash_notifications_received_total", "counter", "Notifications received by the workers."},
	{"pg_dash_notifications_delivered_total", "counter", "Notification messages delivered to WebSocket clients."},
	{"pg_dash_ws_messages_sent_total", "counter", "WebSocket messages sent."},
	{"pg_dash_ws_messages_received_total", "counter", "WebSocket messages received."},
	{"pg_dash_ws_slow_clients_closed_total", "counter", "WebSocket clients closed because their queue was full."},
	{"pg_dash_connections_accepted_total", "counter", "Client connections accepted."},
	{"pg_dash_sessions_created_total", "counter", "Browser sessions created."},
	{"pg_dash_sessions_expired_total", "counter", "Expired sessions deleted by the sweep."},
	{"pg_dash_malformed_requests_total", "counter", "Requests refused by the HTTP parser (400, 413, 414, 431, 501, 505)."},
	{"pg_dash_host_refused_total", "counter", "Requests refused with 421 because their Host is not one pg_dash answers to (pg_dash.hosts)."},
	{"pg_dash_origin_refused_total", "counter", "State-changing requests and WebSocket upgrades refused with 403 for another Origin."},
	{"pg_dash_header_timeouts_total", "counter", "Connections closed because a request head took longer than pg_dash.header_timeout."},
	{"pg_dash_ip_connections_refused_total", "counter", "Connections refused with 429 over pg_dash.max_connections_per_ip."},
	{"pg_dash_ip_rate_limited_total", "counter", "Requests refused with 429 over pg_dash.rate_limit_per_ip."},
	{"pg_dash_output_queue_pauses_total", "counter", "Times a connection stopped being read because its queued output exceeded pg_dash.http_max_queue."},
	{"pg_dash_cache_local_hits_total", "counter", "Cache hits a serving worker answered itself, without a transaction or an executor."},
	{"pg_dash_inline_runs_total", "counter", "Named queries measured cheap that a serving worker ran itself (pg_dash.inline_below)."},
	{"pg_dash_inline_fallbacks_total", "counter", "Inline runs canceled at their bound and handed to an executor."},
};

static const MetricFamily fam_sessions = {"pg_dash_sessions_active", "gauge", "Unexpired sessions, as of the last sweep."};

/* Series other modules add (metrics_add_source), in registration order. */
#define METRIC_MAX_SOURCES 8
static MetricSource metric_sources[METRIC_MAX_SOURCES];
static int	metric_nsources = 0;

/* Adds a module's series; called from _PG_init, so every backend has it. */
void
metrics_add_source(MetricSource source)
{
	if (metric_nsources < METRIC_MAX_SOURCES)
		metric_sources[metric_nsources++] = source;
}

/* Walks every series once, in Prometheus exposition order. */
static void
metrics_foreach(MetricEmit emit, void *arg)
{
	char		labels[128];
	int			r;
	int			c;
	int			b;
	uint64		http = 0;
	uint64		ws = 0;

	for (r = 0; r < ROUTE_COUNT; r++)
		for (c = 0; c < 5; c++)
		{
			snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%dxx\"", route_names[r], c + 1);
			emit(arg, &fam_requests, "", labels, (double) pg_atomic_read_u64(&metrics->requests[r][c]));
		}
	for (r = 0; r < ROUTE_COUNT; r++)
	{
		uint64		cumulative = 0;

		for (b = 0; b <= METRIC_BUCKETS; b++)
		{
			cumulative += pg_atomic_read_u64(&metrics->buckets[r][b]);
			if (b < METRIC_BUCKETS)
				snprintf(labels, sizeof(labels), "route=\"%s\",le=\"%g\"", route_names[r], bucket_bounds[b]);
			else
				snprintf(labels, sizeof(labels), "route=\"%s\",le=\"+Inf\"", route_names[r]);
			emit(arg, &fam_duration, "_bucket", labels, (double) cumulative);
		}
		snprintf(labels, sizeof(labels), "route=\"%s\"", route_names[r]);
		emit(arg, &fam_duration, "_sum", labels, pg_atomic_read_u64(&metrics->latency_sum_us[r]) / 1e6);
		emit(arg, &fam_duration, "_count", labels, (double) cumulative);
	}
	for (c = 0; c < METRIC_COUNTER_COUNT; c++)
		emit(arg, &counter_info[c], "", "", (double) pg_atomic_read_u64(&metrics->counters[c]));
	for (c = 0; c < LIMIT_COUNT; c++)
	{
		snprintf(labels, sizeof(labels), "limit=\"%s\"", limit_names[c]);
		emit(arg, &fam_limits, "", labels, (double) pg_atomic_read_u64(&metrics->limit_hits[c]));
	}
	for (c = 0; c < METRIC_SQLSTATE_CLASSES; c++)
	{
		uint64		n = pg_atomic_read_u64(&metrics->errors[c]);
		const char *digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

		if (n == 0)
			continue;
		snprintf(labels, sizeof(labels), "class=\"%c%c\"", digits[c / 36], digits[c % 36]);
		emit(arg, &fam_errors, "", labels, (double) n);
	}
	for (c = 0; c < METRIC_MAX_WORKERS; c++)
	{
		http += pg_atomic_read_u32(&metrics->http_connections[c]);
		ws += pg_atomic_read_u32(&metrics->ws_connections[c]);
	}
	emit(arg, &fam_sessions, "", "", (double) pg_atomic_read_u64(&metrics->sessions_active));
	emit(arg, &fam_connections, "", "kind=\"http\"", (double) http);
	emit(arg, &fam_connections, "", "kind=\"websocket\"", (double) ws);
	for (c = 0; c < metric_nsources; c++)
		metric_sources[c] (emit, arg);
}

typedef struct PromState
{
	StringInfoData buf;
	const MetricFamily *last;
} PromState;

/* Appends one series in Prometheus text format, with HELP/TYPE once. */
static void
metrics_emit_prometheus(void *arg, const MetricFamily *family,
						const char *suffix, const char *labels, double value)
{
	PromState  *st = (PromState *) arg;

	if (st->last != family)
		appendStringInfo(&st->buf, "# HELP %s %s\n# TYPE %s %s\n",
						 family->name, family->help, family->name, family->type);
	st->last = family;
	if (labels[0])
		appendStringInfo(&st->buf, "%s%s{%s} %.17g\n", family->name, suffix, labels, value);
	else
		appendStringInfo(&st->buf, "%s%s %.17g\n", family->name, suffix, value);
}

/* Renders every series as Prometheus text, palloc'd. */
char *
metrics_render_prometheus(void)
{
	PromState	st;

	initStringInfo(&st.buf);
	st.last = NULL;
	if (metrics)
		metrics_foreach(metrics_emit_prometheus, &st);
	return st.buf.data;
}

typedef struct SrfState
{
	Tuplestorestate *store;
	TupleDesc	desc;
} SrfState;

/* Adds one series as a row (metric, labels, value). */
static void
metrics_emit_row(void *arg, const MetricFamily *family,
				 const char *suffix, const char *labels, double value)
{
	SrfState   *st = (SrfState *) arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(psprintf("%s%s", family->name, suffix));
	values[1] = CStringGetTextDatum(labels);
	values[2] = Float8GetDatum(value);
	tuplestore_putvalues(st->store, st->desc, values, nulls);
}

PG_FUNCTION_INFO_V1(pg_dash_stats);

/* SQL: pg_dash.stats() returns every series as (metric, labels, value). */
Datum
pg_dash_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SrfState	st;

	if (metrics == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash statistics are not available"),
				 errhint("Add pg_dash to shared_preload_libraries and restart the server.")));
	InitMaterializedSRF(fcinfo, 0);
	st.store = rsinfo->setResult;
	st.desc = rsinfo->setDesc;
	metrics_foreach(metrics_emit_row, &st);
	return (Datum) 0;
}
