/*
 * query_run.h
 *		Running a named query (or free SQL) through the request pipeline: the
 *		part that HTTP, WebSocket and download delivery share.
 */
#ifndef PG_DASH_QUERY_RUN_H
#define PG_DASH_QUERY_RUN_H

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/params.h"
#include "nodes/pg_list.h"
#include "utils/portal.h"

#include "query_cache.h"
#include "query_options.h"
#include "query_registry.h"
#include "query_series.h"
#include "request.h"
#include "result_writer.h"

struct cJSON;

/* Rows fetched per batch. */
#define QUERY_BATCH_ROWS 1000

/* A query opened for reading: transaction, role and portal in place. */
typedef struct QueryRun
{
	RequestTxn	txn;
	QueryDef   *def;
	QueryDef	adhoc;			/* the definition of free SQL */
	Portal		portal;

	/*
	 * direct: run the plan to completion into a DestReceiver instead of
	 * opening a cursor (executors; what lets PostgreSQL use a parallel plan).
	 * The plan and its parameters wait here.
	 */
	bool		direct;
	SPIPlanPtr	plan;
	ParamListInfo params;
	bool		streamed;		/* a streamed answer began: errors can only close */
	int64		total;			/* count=exact, or -1 */
	int			ttl;

	/*
	 * The shared cache, for HTTP requests of queries with a TTL.  Whether a
	 * result may be shared between sessions is learnt from its execution:
	 * one that used the session state functions is stored under a key that
	 * includes the session (session_key), any other under the shared key.
	 */
	bool		use_cache;		/* the caller wants it (for a series: its
								 * summary) */
	bool		cacheable;		/* this result may be stored */
	bool		cached;			/* served from the cache: no portal */
	unsigned char cache_key[QUERY_CACHE_KEY_LEN];
	unsigned char session_key[QUERY_CACHE_KEY_LEN];
	uint64		generation;
	StringInfoData cached_body;
	char		cached_etag[40];

	char		session_id[65];	/* the session made known to SQL, or "" */

	/* a series (query_series.c) runs its own SQL: no portal */
	bool		series;
	Datum	   *values;			/* the bound parameters */
	char	   *nulls;
} QueryRun;

/* Receives a piece of a result body being produced for a download. */
typedef void (*QueryEmit) (const char *data, size_t len, void *arg);

extern bool query_open(const char *name, const char *free_sql, QueryOptions *opts,
					   const char *session_id, HttpRequest *req, QueryRun *run,
					   QueryFailure *f);
extern void query_finish(QueryRun *run, bool commit);
extern void query_catch(QueryRun *run, MemoryContext reqcxt, const char *stats_name,
						QueryFailure *f);
extern bool query_fetch_batch(Portal portal, ResultWriter *w, StringInfo out, uint64 max_rows,
							  bool *truncated);
extern void query_result_keys(QueryDef *def, QueryOptions *opts, const char *role,
							  const char *session_id, unsigned char *shared_key,
							  unsigned char *session_key);
extern void query_store_result(QueryRun *run, const char *body, size_t len, const char *etag);
extern bool query_series_answer(QueryRun *run, QueryOptions *opts, StringInfo out,
								const char *prefix, SeriesOutcome *outcome, QueryFailure *f);
extern bool query_run_message(const char *name, struct cJSON *params, const char *session_id,
							  const char *prefix, StringInfo out, QueryFailure *f,
							  bool *read_state);
extern bool query_run_download(const char *name, const char *free_sql, List *pairs,
							   const char *session_id, QueryEmit emit, void *arg,
							   QueryFailure *f);

#endif							/* PG_DASH_QUERY_RUN_H */
