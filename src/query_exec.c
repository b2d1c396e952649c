/*
 * query_exec.c
 *		GET /api/queries, GET|POST /api/query/<name> and POST /api/sql.
 *
 * Every request runs through the request pipeline (request.c): its own
 * transaction, READ ONLY, as pg_dash.role (so GRANTs and row-level security
 * apply, and SQL cannot switch back), under pg_dash.statement_timeout, with
 * typed parameters bound through SPI.
 * pg_dash never serves data as a superuser: without a suitable role, data
 * endpoints answer 503 saying what to set.
 *
 * Results are read from a holdable cursor in batches.  A result that fits in
 * the first batch is answered with a Content-Length and an ETag.  A larger
 * one is streamed with chunked encoding: the transaction commits, which
 * materializes the rest of the cursor (in a tuplestore that spills to disk,
 * so memory stays flat), and each further batch is fetched in a short
 * transaction of its own only when the socket has taken the previous one.
 * Between batches the worker serves its other clients.  A transaction cannot
 * stay open across them, because the other clients' requests need their own
 * transactions, roles and snapshots; a WITH HOLD cursor is the one object
 * that outlives a transaction (docs/architecture.md).
 */
#include "postgres.h"

#include <ctype.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "guc.h"
#include "http_response.h"
#include "metrics.h"
#include "download.h"
#include "executor.h"
#include "query_cache.h"
#include "query_exec.h"
#include "query_options.h"
#include "query_series.h"
#include "query_registry.h"
#include "query_stats.h"
#include "realtime.h"
#include "request.h"
#include "result_writer.h"
#include "session.h"
#include "worker.h"

/* Rows fetched per batch. */
#define QUERY_BATCH_ROWS 1000


/* A result being streamed in batches after its first transaction. */
typedef struct QueryStream
{
	char		portal_name[NAMEDATALEN];
	TupleDesc	desc;
	ResultWriter writer;
	MemoryContext batch_context;
	uint64		max_rows;		/* 0: no limit */
	bool		truncated;
	bool		chunked;		/* HTTP/1.1 chunked framing */
	bool		keep_alive;		/* the connection stays open afterwards */
	bool		done;
	char		query_name[NAMEDATALEN];
	instr_time	started;
} QueryStream;

/* Answers a failure over HTTP. */
void
query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f)
{
	metrics_error_class(strlen(f->code) == 5 ? f->code : "XX");
	http_reply_error(conn, req, f->status, f->code, f->message, f->detail, f->hint);
}

/*
 * Converts the request's parameters to the query's typed values; false
 * after answering 400 naming the parameter.
 */
static bool
query_bind_params(QueryDef *def, QueryOptions *opts, Datum *values, char *nulls,
				  QueryFailure *f)
{
	ListCell   *ln;
	ListCell   *lv;
	int			i;

	forboth(ln, opts->names, lv, opts->values)
	{
		const char *name = strVal(lfirst(ln));

		for (i = 0; i < def->nparams; i++)
			if (strcmp(def->param_names[i], name) == 0)
				break;
		if (i == def->nparams)
		{
			StringInfoData valid;

			initStringInfo(&valid);
			for (i = 0; i < def->nparams; i++)
				appendStringInfo(&valid, "%s%s", i ? ", " : "", def->param_names[i]);
			return query_bad_request(f, psprintf("unknown parameter \"%s\"", name),
									 psprintf("Query \"%s\" takes %s.", def->name,
											  def->nparams ? psprintf("these parameters: %s", valid.data) : "no parameters"),
									 "Request options are: " QUERY_RESERVED_PARAMS ".");
		}
	}
	for (i = 0; i < def->nparams; i++)
	{
		char	   *text = NULL;
		bool		given = false;
		Oid			infunc;
		Oid			ioparam;
		MemoryContext oldcxt = CurrentMemoryContext;

		forboth(ln, opts->names, lv, opts->values)
			if (strcmp(strVal(lfirst(ln)), def->param_names[i]) == 0)
			{
				text = (char *) lfirst(lv);
				given = true;
			}
		if (!given)
		{
			return query_bad_request(f, psprintf("missing parameter \"%s\"", def->param_names[i]),
									 psprintf("Query \"%s\" needs \"%s\" of type %s.", def->name,
											  def->param_names[i], format_type_be(def->param_types[i])),
									 NULL);
		}
		nulls[i] = text == NULL ? 'n' : ' ';
		if (text == NULL)
			continue;
		getTypeInputInfo(def->param_types[i], &infunc, &ioparam);
		PG_TRY();
		{
			values[i] = OidInputFunctionCall(infunc, text, ioparam, -1);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			return query_bad_request(f, psprintf("invalid value for parameter \"%s\"", def->param_names[i]),
									 psprintf("Expected %s: %s", format_type_be(def->param_types[i]), edata->message),
									 NULL);
		}
		PG_END_TRY();
	}
	return true;
}

/*
 * The columns of a query's result, from its prepared plan (free SQL is
 * prepared here); NULL when it returns none.
 */
static TupleDesc
query_result_desc(QueryDef *def)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIPlanPtr	plan = def->plan;
	List	   *sources;

	if (plan == NULL)
		plan = SPI_prepare(def->statement, def->nparams, def->param_types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the query: %s", SPI_result_code_string(SPI_result));
	MemoryContextSwitchTo(cxt);
	sources = SPI_plan_get_plan_sources(plan);
	return sources ? ((CachedPlanSource *) linitial(sources))->resultDesc : NULL;
}

/* Quotes an identifier of the result for ORDER BY; false if it is not a column. */
static bool
query_order_clause(TupleDesc desc, QueryOptions *opts, StringInfo sql, QueryFailure *f)
{
	int			i;

	for (i = 0; desc != NULL && i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), opts->order_column) == 0)
		{
			appendStringInfo(sql, " ORDER BY %s %s NULLS LAST", quote_identifier(opts->order_column),
							 opts->order_desc ? "DESC" : "ASC");
			return true;
		}
	return query_bad_request(f, psprintf("cannot order by \"%s\"", opts->order_column),
							 "It is not a column of the result.", NULL);
}

/* Appends the Cache-Control, Content-Disposition and cookie headers. */
static void
query_common_headers(HeaderList *headers, QueryOptions *opts, int ttl, const char *name)
{
	if (ttl > 0)
		header_addf(headers, "Cache-Control", "private, max-age=%d", ttl);
	else
		header_add(headers, "Cache-Control", "no-cache");
	if (opts->format == RESULT_CSV)
	{
		const char *fname = opts->filename ? opts->filename : name;
		StringInfoData safe;
		const char *p;

		/* keep the file name to characters that need no quoting */
		initStringInfo(&safe);
		for (p = fname; *p && safe.len < 100; p++)
			appendStringInfoChar(&safe, (isalnum((unsigned char) *p) || *p == '-' || *p == '_' || *p == '.') ? *p : '_');
		if (strchr(safe.data, '.') == NULL)
			appendStringInfoString(&safe, ".csv");
		header_addf(headers, "Content-Disposition", "attachment; filename=\"%s\"", safe.data);
	}
}

/*
 * Fetches up to n rows from a portal into the writer; returns rows fetched.
 * SPI leaves its procedure context current: the rows are serialized in the
 * caller's context, so that a caller resetting it per batch stays flat.
 */
static uint64
query_fetch_into(Portal portal, ResultWriter *w, StringInfo out, uint64 n)
{
	MemoryContext caller = CurrentMemoryContext;
	uint64		i;
	uint64		got;

	SPI_cursor_fetch(portal, true, (long) n);
	MemoryContextSwitchTo(caller);
	got = SPI_processed;
	for (i = 0; i < got; i++)
		result_writer_row(w, out, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
	SPI_freetuptable(SPI_tuptable);
	return got;
}

/*
 * Fetches the next batch of a result into the writer.  Returns true when the
 * result is complete; sets *truncated when pg_dash.max_rows cut it.
 */
static bool
query_fetch_batch(Portal portal, ResultWriter *w, StringInfo out, uint64 max_rows,
				  bool *truncated)
{
	uint64		want = QUERY_BATCH_ROWS;
	uint64		got = 0;

	if (max_rows > 0)
		want = Min(want, max_rows - Min(w->rows, max_rows));
	if (want > 0)
		got = query_fetch_into(portal, w, out, want);
	if (max_rows > 0 && w->rows >= max_rows)
	{
		/* one more row tells whether the limit cut the result */
		SPI_cursor_fetch(portal, true, 1);
		*truncated = SPI_processed > 0;
		SPI_freetuptable(SPI_tuptable);
		return true;
	}
	return got < want;
}

/* Rows fetched first for a WebSocket result, before their size is known. */
#define QUERY_MESSAGE_FIRST_ROWS 64

/*
 * Fails a WebSocket result that went over a bound (settings names them),
 * freeing the batch being read.
 */
static bool
query_message_too_large(QueryFailure *f, MetricLimit limit, char *message, const char *settings)
{
	SPI_freetuptable(SPI_tuptable);
	metrics_limit_hit(limit);
	return request_fail(f, 413, "result_too_large", message,
					  psprintf("WebSocket results are sent whole and are limited by %s; nothing was sent.", settings),
					  "Ask for fewer rows (limit, a filter, downsample), or read it over HTTP: GET /api/query/<name> streams results of any size.");
}

/*
 * Fetches a WebSocket result whole into out, bounded by pg_dash.ws_max_rows
 * and pg_dash.ws_max_bytes (never more than pg_dash.ws_max_queue, so that a
 * result cannot pass the client's queue limit on its own).  Batches are
 * sized by the rows' average size so far, and building stops at the first
 * row over a bound: false with *f filled (413) then.  pg_dash.max_rows
 * still cuts the result with *truncated set, as over HTTP.
 */
static bool
query_fetch_message(Portal portal, ResultWriter *w, StringInfo out, const char *name,
					bool *truncated, QueryFailure *f)
{
	MemoryContext caller = CurrentMemoryContext;
	uint64		max_rows = pg_dash_ws_max_rows;
	size_t		max_bytes = Min(pg_dash_ws_max_bytes, pg_dash_ws_max_queue);
	int			start = out->len;
	uint64		want = QUERY_MESSAGE_FIRST_ROWS;

	for (;;)
	{
		uint64		got;
		uint64		i;

		if (pg_dash_max_rows > 0)
		{
			if (w->rows >= (uint64) pg_dash_max_rows)
			{
				/* one more row tells whether the limit cut the result */
				SPI_cursor_fetch(portal, true, 1);
				*truncated = SPI_processed > 0;
				SPI_freetuptable(SPI_tuptable);
				MemoryContextSwitchTo(caller);
				return true;
			}
			want = Min(want, (uint64) pg_dash_max_rows - w->rows);
		}
		SPI_cursor_fetch(portal, true, (long) want);
		MemoryContextSwitchTo(caller);
		got = SPI_processed;
		for (i = 0; i < got; i++)
		{
			if (w->rows >= max_rows)
				return query_message_too_large(f, LIMIT_WS_MAX_ROWS,
											   psprintf("result of query \"%s\" has more than %d rows", name, pg_dash_ws_max_rows),
											   "pg_dash.ws_max_rows");
			result_writer_row(w, out, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
			if ((size_t) out->len > max_bytes)
				return query_message_too_large(f, LIMIT_WS_MAX_BYTES,
											   psprintf("result of query \"%s\" is larger than %zu bytes", name, max_bytes),
											   "pg_dash.ws_max_bytes and pg_dash.ws_max_queue");
		}
		SPI_freetuptable(SPI_tuptable);
		if (got < want)
			return true;
		/* as many rows as would about fill what is left of the byte bound */
		want = (max_bytes - (out->len - start)) / ((out->len - start) / w->rows + 1) + 1;
		want = Min(want, Min(QUERY_BATCH_ROWS, max_rows + 1 - w->rows));
	}
}

/* Closes a stream's cursor in a transaction of its own. */
static void
query_stream_close(RequestTxn *txn, QueryStream *qs)
{
	Portal		portal;

	request_begin(txn, "pg_dash: closing a streamed result", NULL);
	portal = SPI_cursor_find(qs->portal_name);
	if (portal)
		SPI_cursor_close(portal);
	request_commit(txn);
}

/* Frees the cursor of a stream whose client went away. */
static void
query_stream_cleanup(Conn *conn, void *arg)
{
	QueryStream *qs = (QueryStream *) arg;
	RequestTxn	txn;
	QueryFailure f;

	download_done(conn);
	if (qs->done)
		return;
	qs->done = true;
	request_init(&txn);
	PG_TRY();
	{
		query_stream_close(&txn, qs);
	}
	PG_CATCH();
	{
		request_catch(&txn, "closing a streamed result", &f);
	}
	PG_END_TRY();
}

/*
 * Producer of a streamed result: one batch per call, each in its own short
 * transaction.  An error mid-stream can no longer change the status, so it
 * closes the connection, which the client sees as an incomplete response.
 */
static bool
query_stream_produce(Conn *conn, void *arg)
{
	QueryStream *qs = (QueryStream *) arg;
	MemoryContext oldcxt;
	StringInfoData out;
	volatile bool more = true;
	RequestTxn	txn;
	QueryFailure f;

	if (qs->done)
		return false;
	MemoryContextReset(qs->batch_context);
	oldcxt = MemoryContextSwitchTo(qs->batch_context);
	initStringInfo(&out);
	request_init(&txn);
	PG_TRY();
	{
		Portal		portal;

		request_begin(&txn, psprintf("pg_dash query %s (streaming)", qs->query_name), NULL);
		portal = SPI_cursor_find(qs->portal_name);
		if (portal == NULL)
			elog(ERROR, "cursor of a streamed result is gone");
		if (query_fetch_batch(portal, &qs->writer, &out, qs->max_rows, &qs->truncated))
		{
			SPI_cursor_close(portal);
			more = false;
		}
		request_commit(&txn);
	}
	PG_CATCH();
	{
		request_catch(&txn, psprintf("streaming query \"%s\"", qs->query_name), &f);
		qs->done = true;
		download_done(conn);
		conn->close_when_flushed = true;
		MemoryContextSwitchTo(oldcxt);
		return false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(qs->batch_context);
	if (!more)
	{
		instr_time	elapsed;

		result_writer_end(&qs->writer, &out, qs->truncated, -1);
		qs->done = true;
		download_done(conn);
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, qs->started);
		query_stats_record(qs->query_name, INSTR_TIME_GET_MILLISEC(elapsed), qs->writer.rows, false, false);
	}
	http_write_chunk(conn, qs->chunked, out.data, out.len);
	if (!more && qs->chunked)
		conn_write(conn, "0\r\n\r\n", 5);
	if (!more && !qs->keep_alive)
		conn_close_when_flushed(conn);
	MemoryContextSwitchTo(oldcxt);
	return more;
}

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

/* The SHA-256 (libcrypto's) of what identifies a result: its cache key. */
static void
query_cache_digest(StringInfo key_text, unsigned char *key)
{
	StaticAssertStmt(QUERY_CACHE_KEY_LEN == SHA256_DIGEST_LENGTH, "cache key size");
	if (SHA256((const unsigned char *) key_text->data, key_text->len, key) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SHA-256 of a cache key")));
}

/*
 * The cache keys of a request: SHA-256 over the query and when it was last
 * defined (a redefinition must not serve old results), the role, the options
 * that shape the body and the parameters; the session key adds the session.
 */
static void
query_cache_keys(QueryRun *run, QueryOptions *opts, const char *role)
{
	StringInfoData buf;
	ListCell   *ln;
	ListCell   *lv;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s%c%s%c%s%c%d/%d/" INT64_FORMAT "/" INT64_FORMAT "/%d/%s/%d/%s%c",
					 run->def->name, 0, run->def->version ? run->def->version : "", 0, role, 0, (int) opts->format, (int) opts->objects,
					 opts->limit, opts->offset, (int) opts->count_exact,
					 opts->order_column ? opts->order_column : "", (int) opts->order_desc,
					 opts->filename ? opts->filename : "", 0);
	forboth(ln, opts->names, lv, opts->values)
		appendStringInfo(&buf, "%s=%c%s%c", strVal(lfirst(ln)), lfirst(lv) ? 'v' : 'n',
						 lfirst(lv) ? (char *) lfirst(lv) : "", 0);
	/* a series is cached as the summary of (x, y), whatever its range */
	if (query_is_series(opts))
		appendStringInfo(&buf, "series%c%s%c%s%c", 0, opts->x_column, 0, opts->y_column, 0);
	query_cache_digest(&buf, run->cache_key);
	appendStringInfo(&buf, "session%c%s", 0, run->session_id);
	query_cache_digest(&buf, run->session_key);
}

/* Looks a request up in the cache under its shared key, then its session key. */
static bool
query_cache_lookup(QueryRun *run)
{
	initStringInfo(&run->cached_body);
	return query_cache_get(run->cache_key, run->generation, &run->cached_body,
						   run->cached_etag, sizeof(run->cached_etag)) ||
		query_cache_get(run->session_key, run->generation, &run->cached_body,
						run->cached_etag, sizeof(run->cached_etag));
}

/* Stores a result under the key that what its execution read allows. */
static void
query_cache_store(QueryRun *run, const char *body, size_t len, const char *etag)
{
	query_cache_put(run->txn.read_state ? run->session_key : run->cache_key,
					run->generation, run->ttl, body, len, etag);
}

/* Appends a definition's column list for a message ("a, b"; "*": every column). */
static const char *
query_column_list(List *columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, columns)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	return buf.data;
}

/*
 * Refuses (400) what the named query's definition does not allow: ordering
 * by a column not in sortable, count=exact without allow_count, an x range
 * of a column not in range_columns.  Each makes the server read or sort far
 * more rows than it returns, so the query's owner decides.
 */
static bool
query_check_policy(QueryDef *def, QueryOptions *opts, QueryFailure *f)
{
	if (opts->order_column != NULL && !query_column_allowed(def->sortable, opts->order_column))
		return request_fail(f, 400, "22023",
							psprintf("query \"%s\" cannot be ordered by \"%s\"", def->name, opts->order_column),
							def->sortable ? psprintf("Its definition allows ordering by: %s.",
													 query_column_list(def->sortable)) :
							"Its definition allows no ordering.",
							"The query's owner allows it with pg_dash.define_query(..., sortable => ARRAY['<column>', ...]).");
	if (opts->count_exact && !def->allow_count)
		return request_fail(f, 400, "22023",
							psprintf("query \"%s\" does not answer count=exact", def->name),
							"Counting reads every row of the result once more.",
							"The query's owner allows it with pg_dash.define_query(..., allow_count => true).");
	if ((opts->x_from != NULL || opts->x_to != NULL) &&
		!query_column_allowed(def->range_columns, opts->x_column))
		return request_fail(f, 400, "22023",
							psprintf("query \"%s\" cannot be restricted to a range of \"%s\"", def->name, opts->x_column),
							def->range_columns ? psprintf("Its definition allows x_from and x_to on: %s.",
														  query_column_list(def->range_columns)) :
							"Its definition allows no x_from or x_to.",
							"The query's owner allows it with pg_dash.define_query(..., range_columns => ARRAY['<column>']).");
	return true;
}

/*
 * Starts the transaction of a request and opens its result: binds the
 * parameters, switches to pg_dash.role, read-only, under the statement
 * timeout.  The session (given, or for an HTTP request named by its
 * cookie) is made known to SQL.  Returns false
 * with *f filled when the request cannot run (the transaction is then
 * still open: the caller aborts it).  Errors from the database are thrown.
 */
static bool
query_open(const char *name, const char *free_sql, QueryOptions *opts,
		   const char *session_id, HttpRequest *req, QueryRun *run, QueryFailure *f)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	QueryDef   *def;
	SPIPlanPtr	plan;
	Datum	   *values;
	char	   *nulls;

	bool		use_cache = run->use_cache;
	bool		direct = run->direct;

	memset(run, 0, sizeof(*run));
	run->use_cache = use_cache;
	run->direct = direct;
	run->total = -1;

	/*
	 * A query only reads the session its cookie names (pg_dash.state() gives
	 * {} for an unknown or expired one); sessions are created by pages and
	 * the state API, not by every cookie-less GET.
	 */
	if (req != NULL)
		session_id = session_id_from_cookie(req);
	if (session_id != NULL)
		strlcpy(run->session_id, session_id, sizeof(run->session_id));
	request_begin(&run->txn, name ? psprintf("pg_dash query %s", name) : "pg_dash sql",
				  run->session_id);
	if (!request_resolve_role(&run->txn, f))
		return false;

	if (name != NULL)
	{
		def = query_registry_lookup(name);
		MemoryContextSwitchTo(reqcxt);
		if (def == NULL)
			return request_fail(f, 404, "42704", psprintf("no named query \"%s\"", name), NULL,
								"GET /api/queries lists the named queries.");
		if (!query_check_policy(def, opts, f))
			return false;
	}
	else
	{
		def = &run->adhoc;
		strlcpy(def->name, "(sql)", sizeof(def->name));
		def->statement = (char *) free_sql;
	}
	run->def = def;

	values = palloc0(sizeof(Datum) * (def->nparams + 2));
	nulls = palloc(def->nparams + 3);
	memset(nulls, ' ', def->nparams + 2);
	nulls[def->nparams + 2] = '\0';
	if (!query_bind_params(def, opts, values, nulls, f))
		return false;

	run->ttl = def->cache_ttl >= 0 ? def->cache_ttl : pg_dash_cache_ttl;
	if (run->use_cache && run->ttl > 0 && name != NULL && query_cache_enabled())
	{
		ListCell   *lc;

		query_cache_keys(run, opts, run->txn.role_name);
		run->generation = query_cache_generation(def->refresh_on);
		if (query_cache_lookup(run))
		{
			run->cached = true;
			/* a cached summary may not serve a narrow range of a series */
			if (!query_is_series(opts))
				return true;
		}
		else
		{
			/* results are only kept once this worker hears the refresh channels */
			run->cacheable = true;
			foreach(lc, def->refresh_on)
				if (!realtime_listening((char *) lfirst(lc)))
					run->cacheable = false;
		}
	}

	/* run as pg_dash.role, read-only, under the statement timeout */
	request_enter_role(&run->txn, true);

	if (query_is_series(opts))
	{
		run->series = true;
		run->values = values;
		run->nulls = nulls;
		return true;
	}

	if (opts->count_exact)
	{
		bool		isnull;

		if (SPI_execute_with_args(psprintf("SELECT count(*) FROM (%s\n) q", def->statement),
								  def->nparams, def->param_types, values, nulls, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not count the rows");
		run->total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContextSwitchTo(reqcxt);
	}

	if (def->plan != NULL && opts->order_column == NULL && opts->limit < 0 && opts->offset == 0)
		plan = def->plan;
	else
	{
		/* wrap the statement for ORDER BY, LIMIT and OFFSET */
		Oid		   *types = palloc(sizeof(Oid) * (def->nparams + 2));
		int			n = def->nparams;
		StringInfoData sql;

		if (def->nparams > 0)
			memcpy(types, def->param_types, sizeof(Oid) * def->nparams);
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT * FROM (%s\n) q", def->statement);
		if (opts->order_column != NULL && !query_order_clause(query_result_desc(def), opts, &sql, f))
			return false;
		if (opts->limit >= 0)
		{
			types[n] = INT8OID;
			values[n++] = Int64GetDatum(opts->limit);
			appendStringInfo(&sql, " LIMIT $%d", n);
		}
		if (opts->offset > 0)
		{
			types[n] = INT8OID;
			values[n++] = Int64GetDatum(opts->offset);
			appendStringInfo(&sql, " OFFSET $%d", n);
		}
		plan = SPI_prepare_cursor(sql.data, n, types, request_cursor_options);
		if (plan == NULL)
			elog(ERROR, "could not prepare the query: %s", SPI_result_code_string(SPI_result));
	}

	if (run->direct)
	{
		int			nargs = SPI_getargcount(plan);

		run->plan = plan;
		run->params = makeParamList(nargs);
		for (int i = 0; i < nargs; i++)
		{
			ParamExternData *prm = &run->params->params[i];

			prm->value = values[i];
			prm->isnull = nulls[i] == 'n';
			prm->pflags = PARAM_FLAG_CONST;
			prm->ptype = SPI_getargtypeid(plan, i);
		}
	}
	else
		run->portal = SPI_cursor_open(NULL, plan, values, nulls, true);
	MemoryContextSwitchTo(reqcxt);
	return true;
}

/* Ends a request's transaction; commit keeps a holdable cursor open. */
static void
query_finish(QueryRun *run, bool commit)
{
	if (commit)
		request_commit(&run->txn);
	else
		request_abort(&run->txn);
}

/* Turns a caught database error into a failure; aborts the transaction. */
static void
query_catch(QueryRun *run, MemoryContext reqcxt, const char *stats_name, QueryFailure *f)
{
	if (run->txn.cxt == NULL)
		run->txn.cxt = reqcxt;
	request_catch(&run->txn, psprintf("query \"%s\"", stats_name), f);
	query_stats_record(stats_name, 0, 0, false, true);
}

/*
 * Answers a whole result with a length and an ETag (304 when the client has
 * it), storing it in the cache when allowed.  The transaction is over.
 */
static void
query_reply_whole(Conn *conn, HttpRequest *req, QueryRun *run, QueryOptions *opts,
				  HeaderList *headers, StringInfo body, bool truncated, uint64 rows,
				  instr_time started, const char *stats_name)
{
	char		etag[40];
	size_t		inm_len;
	const char *inm;
	instr_time	elapsed;

	snprintf(etag, sizeof(etag), "\"%016llx-%x\"",
			 (unsigned long long) hash_bytes_extended((unsigned char *) body->data, body->len, 0),
			 body->len);
	header_add(headers, "ETag", etag);
	if (run->cacheable)
	{
		query_cache_store(run, body->data, body->len, etag);
		header_add(headers, "X-Pg-Dash-Cache", "miss");
	}
	if (truncated)
		header_add(headers, "X-Pg-Dash-Truncated", "true");
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, started);
	query_stats_record(stats_name, INSTR_TIME_GET_MILLISEC(elapsed), rows, false, false);
	inm = http_request_header(req, "If-None-Match", &inm_len);
	if (inm != NULL && inm_len == strlen(etag) && memcmp(inm, etag, inm_len) == 0)
		http_reply(conn, req, 304, NULL, headers, NULL, 0);
	else
		http_reply(conn, req, 200, result_content_type(opts->format), headers,
				   body->data, body->len);
}

/* A result is streamed once it has more rows, or bytes, than this. */
#define QUERY_STREAM_BYTES (1024 * 1024)
/* A streamed result is handed on in pieces of about this size. */
#define QUERY_PIECE_BYTES (256 * 1024)

/*
 * Where the rows of a directly executed query go: into the body while the
 * result is small; once it is not, the answer becomes a stream and each
 * piece goes to the connection (an executor's: on to the client, waiting
 * while the client is slow).
 */
typedef struct DirectReceiver
{
	DestReceiver pub;
	Conn	   *conn;
	HttpRequest *req;
	QueryRun   *run;
	QueryOptions *opts;
	const HeaderList *headers;
	StringInfo	body;
	ResultWriter writer;
	MemoryContext rowcxt;		/* what writing a row allocates, reset often */
	bool		chunked;
	bool		streaming;
	bool		refused;		/* over pg_dash.max_downloads: 503 sent */
	bool		truncated;
} DirectReceiver;

static void
direct_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	DirectReceiver *dr = (DirectReceiver *) self;

	result_writer_init(&dr->writer, CreateTupleDescCopy(typeinfo), dr->opts->format, dr->opts->objects);
	result_writer_begin(&dr->writer, dr->body, NULL);
}

static void
direct_noop(DestReceiver *self)
{
}

/*
 * Hands a piece of a stream on.  Waiting for the client is not query time:
 * the statement timeout is paused meanwhile (pg_dash.download_timeout bounds
 * the whole).
 */
static void
direct_write_piece(DirectReceiver *dr)
{
	bool		timed = get_timeout_active(STATEMENT_TIMEOUT);
	TimestampTz fire = timed ? get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	TimestampTz paused = GetCurrentTimestamp();

	if (timed)
		disable_timeout(STATEMENT_TIMEOUT, false);
	http_write_chunk(dr->conn, dr->chunked, dr->body->data, dr->body->len);
	resetStringInfo(dr->body);
	if (timed)
		enable_timeout_at(STATEMENT_TIMEOUT, fire + (GetCurrentTimestamp() - paused));
}

static bool
direct_receive(TupleTableSlot *slot, DestReceiver *self)
{
	DirectReceiver *dr = (DirectReceiver *) self;
	MemoryContext oldcxt;

	if (pg_dash_max_rows > 0 && dr->writer.rows >= (uint64) pg_dash_max_rows)
	{
		/* a row past the limit: it cut the result */
		dr->truncated = true;
		return false;
	}
	oldcxt = MemoryContextSwitchTo(dr->rowcxt);
	/* the slot's own values: no heap tuple formed only to be deformed again */
	slot_getallattrs(slot);
	result_writer_values(&dr->writer, dr->body, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(oldcxt);
	if (dr->writer.rows % 1024 == 0)
		MemoryContextReset(dr->rowcxt);
	if (!dr->streaming &&
		(dr->writer.rows > QUERY_BATCH_ROWS || dr->body->len > QUERY_STREAM_BYTES))
	{
		StringInfoData head;
		HeaderList	framing;

		if (!download_admit(dr->conn, dr->req))
		{
			dr->refused = true;
			return false;
		}
		initStringInfo(&head);
		dr->conn->last_status = 200;
		header_list_init(&framing);
		if (dr->chunked)
			header_add(&framing, "Transfer-Encoding", "chunked");
		http_append_head(&head, dr->req, 200, result_content_type(dr->opts->format), dr->headers, &framing);
		conn_write(dr->conn, head.data, head.len);
		pfree(head.data);
		dr->streaming = true;
		dr->run->streamed = true;
	}
	if (dr->streaming && dr->body->len >= QUERY_PIECE_BYTES)
		direct_write_piece(dr);
	return true;
}

/*
 * Answers a series request opened by query_open() into out (query_series.c),
 * commits, and stores the summary of the series it computed, if any.
 * False with *f filled, the transaction still open, when the request does
 * not fit the query's result; database errors are thrown.
 */
static bool
query_series_answer(QueryRun *run, QueryOptions *opts, StringInfo out, const char *prefix,
					SeriesOutcome *outcome, QueryFailure *f)
{
	MemoryContext cxt = CurrentMemoryContext;
	QueryDef   *def = run->def;
	SeriesSpec	spec;
	SeriesSource src;
	StringInfoData summary;

	memset(&spec, 0, sizeof(spec));
	spec.x_column = opts->x_column;
	spec.y_column = opts->y_column;
	spec.width = opts->width;
	spec.points = opts->downsample;
	spec.x_from = opts->x_from;
	spec.x_to = opts->x_to;
	if (!series_check(&spec, query_result_desc(def), f))
		return false;
	src.statement = query_registry_series_statement(def);
	src.nparams = def->nparams;
	src.types = def->param_types;
	src.values = run->values;
	src.nulls = run->nulls;
	MemoryContextSwitchTo(cxt);
	initStringInfo(&summary);
	series_run(&spec, &src, run->cached ? run->cached_body.data : NULL,
			   run->cached ? run->cached_body.len : 0, run->cacheable ? &summary : NULL,
			   out, prefix, outcome);
	MemoryContextSwitchTo(cxt);
	query_finish(run, true);
	/* stored after the commit, which tells whether it read session state */
	if (outcome->summary_made)
		query_cache_store(run, summary.data, summary.len, "");
	return true;
}

/*
 * Runs a query to completion into a DestReceiver, in an executor: a plan
 * that is not fetched piecemeal from a cursor is one PostgreSQL may run
 * with parallel workers.  A small result is answered whole (length, ETag,
 * cache); a large one is streamed as it is produced, in the request's own
 * transaction.
 */
static void
query_run_direct(Conn *conn, HttpRequest *req, QueryRun *run, QueryOptions *opts,
				 HeaderList *headers, StringInfo body, instr_time started, const char *stats_name)
{
	DirectReceiver dr;
	SPIExecuteOptions options;
	int			rc;

	query_common_headers(headers, opts, run->ttl, run->def->name);
	memset(&dr, 0, sizeof(dr));
	dr.pub.receiveSlot = direct_receive;
	dr.pub.rStartup = direct_startup;
	dr.pub.rShutdown = direct_noop;
	dr.pub.rDestroy = direct_noop;
	dr.pub.mydest = DestNone;
	dr.conn = conn;
	dr.req = req;
	dr.run = run;
	dr.opts = opts;
	dr.headers = headers;
	dr.body = body;
	dr.chunked = req->version_minor >= 1;
	dr.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_dash result rows",
									  ALLOCSET_DEFAULT_SIZES);

	memset(&options, 0, sizeof(options));
	options.params = run->params;
	options.read_only = true;
	options.tcount = 0;
	options.dest = &dr.pub;
	rc = SPI_execute_plan_extended(run->plan, &options);
	if (rc < 0)
		elog(ERROR, "could not run the query: %s", SPI_result_code_string(rc));
	MemoryContextSwitchTo(run->txn.cxt);
	if (dr.refused)
	{
		/* download_admit() answered 503 */
		query_finish(run, true);
		return;
	}
	result_writer_end(&dr.writer, body, dr.truncated, run->total);
	if (!dr.streaming)
	{
		query_finish(run, true);
		query_reply_whole(conn, req, run, opts, headers, body, dr.truncated, dr.writer.rows,
						  started, stats_name);
		return;
	}
	direct_write_piece(&dr);
	query_finish(run, true);
	if (dr.chunked)
		conn_write(conn, "0\r\n\r\n", 5);
	if (!(req->keep_alive && dr.chunked))
		conn_close_when_flushed(conn);
	query_stats_record(stats_name, request_elapsed_ms(&run->txn), dr.writer.rows, false, false);
}

/*
 * Runs a named query (or free SQL) for an HTTP request and answers it,
 * streaming when the result is larger than one batch.
 */
static void
query_run_http(Conn *conn, HttpRequest *req, const char *name, const char *free_sql,
			   QueryOptions *opts)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	HeaderList	headers;
	StringInfoData body;
	instr_time	started;
	QueryRun	run;
	QueryFailure failure;
	volatile bool failed = false;
	const char *stats_name = name ? name : "(sql)";

	INSTR_TIME_SET_CURRENT(started);
	header_list_init(&headers);
	initStringInfo(&body);
	memset(&failure, 0, sizeof(failure));
	memset(&run, 0, sizeof(run));

	PG_TRY();
	{
		ResultWriter writer;
		bool		complete;
		bool		truncated = false;

		run.use_cache = true;
		run.direct = executor_am_executor;
		if (!query_open(name, free_sql, opts, NULL, req, &run, &failure))
		{
			query_finish(&run, false);
			failed = true;
		}
		else if (run.series)
		{
			SeriesOutcome outcome;
			instr_time	elapsed;

			if (!query_series_answer(&run, opts, &body, NULL, &outcome, &failure))
			{
				query_finish(&run, false);
				failed = true;
			}
			else
			{
				query_common_headers(&headers, opts, run.ttl, run.def->name);
				if (outcome.from_summary || outcome.summary_made)
					header_add(&headers, "X-Pg-Dash-Cache", outcome.from_summary ? "hit" : "miss");
				INSTR_TIME_SET_CURRENT(elapsed);
				INSTR_TIME_SUBTRACT(elapsed, started);
				query_stats_record(stats_name, INSTR_TIME_GET_MILLISEC(elapsed), outcome.points,
								   outcome.from_summary, false);
				http_reply(conn, req, 200, result_content_type(opts->format), &headers,
						   body.data, body.len);
			}
		}
		else if (run.cached)
		{
			size_t		inm_len;
			const char *inm;
			instr_time	elapsed;

			query_finish(&run, true);
			query_common_headers(&headers, opts, run.ttl, run.def->name);
			header_add(&headers, "ETag", run.cached_etag);
			header_add(&headers, "X-Pg-Dash-Cache", "hit");
			INSTR_TIME_SET_CURRENT(elapsed);
			INSTR_TIME_SUBTRACT(elapsed, started);
			query_stats_record(stats_name, INSTR_TIME_GET_MILLISEC(elapsed), 0, true, false);
			inm = http_request_header(req, "If-None-Match", &inm_len);
			if (inm != NULL && inm_len == strlen(run.cached_etag) && memcmp(inm, run.cached_etag, inm_len) == 0)
				http_reply(conn, req, 304, NULL, &headers, NULL, 0);
			else
				http_reply(conn, req, 200, result_content_type(opts->format), &headers,
						   run.cached_body.data, run.cached_body.len);
		}
		else if (run.direct)
			query_run_direct(conn, req, &run, opts, &headers, &body, started, stats_name);
		else
		{
			result_writer_init(&writer, run.portal->tupDesc, opts->format, opts->objects);
			result_writer_begin(&writer, &body, NULL);
			complete = query_fetch_batch(run.portal, &writer, &body, pg_dash_max_rows, &truncated);
			MemoryContextSwitchTo(reqcxt);
			query_common_headers(&headers, opts, run.ttl, run.def->name);

			if (complete)
			{
				/* the whole result is here: answer with a length and an ETag */
				SPI_cursor_close(run.portal);
				result_writer_end(&writer, &body, truncated, run.total);
				query_finish(&run, true);
				query_reply_whole(conn, req, &run, opts, &headers, &body, truncated, writer.rows,
								  started, stats_name);
			}
			else if (!download_admit(conn, req))
			{
				/* over pg_dash.max_downloads: answered 503 */
				SPI_cursor_close(run.portal);
				query_finish(&run, true);
			}
			else if (download_start(conn, req, name, free_sql, query_options_pairs(opts),
									run.session_id, result_content_type(opts->format), &headers))
			{
				/* a download worker runs it again from the start and streams it */
				SPI_cursor_close(run.portal);
				query_finish(&run, true);
			}
			else
			{
				/* no worker to spare: hold the cursor and stream the rest */
				QueryStream *qs;
				StringInfoData head;
				HeaderList	framing;
				MemoryContext connold;

				connold = MemoryContextSwitchTo(conn->ctx);
				qs = palloc0(sizeof(QueryStream));
				strlcpy(qs->portal_name, run.portal->name, sizeof(qs->portal_name));
				strlcpy(qs->query_name, stats_name, sizeof(qs->query_name));
				qs->desc = CreateTupleDescCopy(run.portal->tupDesc);
				result_writer_init(&qs->writer, qs->desc, opts->format, opts->objects);
				qs->writer.rows = writer.rows;
				qs->batch_context = AllocSetContextCreate(conn->ctx, "pg_dash stream batch",
														  ALLOCSET_DEFAULT_SIZES);
				qs->max_rows = pg_dash_max_rows;
				qs->chunked = req->version_minor >= 1;
				/* without chunked framing only the close ends the body */
				qs->keep_alive = req->keep_alive && qs->chunked;
				qs->started = started;
				MemoryContextSwitchTo(connold);

				/* commit materializes the rest of the holdable cursor */
				query_finish(&run, true);

				initStringInfo(&head);
				conn->last_status = 200;
				header_list_init(&framing);
				if (qs->chunked)
					header_add(&framing, "Transfer-Encoding", "chunked");
				http_append_head(&head, req, 200, result_content_type(opts->format), &headers, &framing);
				conn_write(conn, head.data, head.len);
				http_write_chunk(conn, qs->chunked, body.data, body.len);
				conn_set_producer(conn, query_stream_produce, query_stream_cleanup, qs, false);
			}
		}
	}
	PG_CATCH();
	{
		query_catch(&run, reqcxt, stats_name, &failure);
		download_done(conn);
		/* a stream that began can only be cut: the client sees no final chunk */
		if (run.streamed)
			conn_close_when_flushed(conn);
		else
			failed = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(reqcxt);
	if (failed)
		query_reply_failure(conn, req, &failure);
}

/*
 * Runs a named query for a WebSocket client into one message:
 * {"type":"result","id":...,"name":...,"columns":...,"rows":...}.  Returns
 * false with *f filled on failure, which includes a result over
 * pg_dash.ws_max_rows or pg_dash.ws_max_bytes (query_fetch_message).
 * *read_state (unless NULL) tells whether the run used the session state.
 */
bool
query_run_message(const char *name, cJSON *params, const char *session_id,
				  const char *prefix, StringInfo out, QueryFailure *f, bool *read_state)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	QueryOptions opts;
	QueryRun	run;
	volatile bool ok = true;
	instr_time	started;

	INSTR_TIME_SET_CURRENT(started);
	memset(&run, 0, sizeof(run));
	query_options_init(&opts);
	if (params != NULL)
	{
		const cJSON *item;

		if (!cJSON_IsObject(params))
			return query_bad_request(f, "\"params\" must be a JSON object", NULL, NULL);
		cJSON_ArrayForEach(item, params)
			if (!query_take_option(&opts, item->string, query_json_param_text(item), f))
			return false;
	}
	if (opts.format != RESULT_JSON)
		return query_bad_request(f, "WebSocket results are always JSON", NULL, NULL);
	if (!query_check_series(&opts, f))
		return false;
	if (opts.downsample > pg_dash_ws_max_rows)
	{
		metrics_limit_hit(LIMIT_WS_MAX_ROWS);
		return request_fail(f, 413, "result_too_large",
						  psprintf("downsample asks for more than %d points", pg_dash_ws_max_rows),
						  "WebSocket results are limited by pg_dash.ws_max_rows.",
						  "Ask for fewer points.");
	}

	PG_TRY();
	{
		ResultWriter writer;
		bool		truncated = false;
		instr_time	elapsed;

		/* a series may use the cached summary of the whole series */
		run.use_cache = query_is_series(&opts);
		if (!query_open(name, NULL, &opts, session_id, NULL, &run, f))
		{
			query_finish(&run, false);
			ok = false;
		}
		else if (run.series)
		{
			SeriesOutcome outcome;

			ok = query_series_answer(&run, &opts, out, prefix, &outcome, f);
			if (!ok)
				query_finish(&run, false);
			else
			{
				INSTR_TIME_SET_CURRENT(elapsed);
				INSTR_TIME_SUBTRACT(elapsed, started);
				query_stats_record(name, INSTR_TIME_GET_MILLISEC(elapsed), outcome.points,
								   outcome.from_summary, false);
			}
		}
		else
		{
			result_writer_init(&writer, run.portal->tupDesc, RESULT_JSON, opts.objects);
			result_writer_begin(&writer, out, prefix);
			ok = query_fetch_message(run.portal, &writer, out, name, &truncated, f);
			if (ok)
			{
				SPI_cursor_close(run.portal);
				result_writer_end(&writer, out, truncated, run.total);
			}
			query_finish(&run, ok);
			INSTR_TIME_SET_CURRENT(elapsed);
			INSTR_TIME_SUBTRACT(elapsed, started);
			query_stats_record(name, INSTR_TIME_GET_MILLISEC(elapsed), writer.rows, false, !ok);
		}
	}
	PG_CATCH();
	{
		query_catch(&run, reqcxt, name, f);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(reqcxt);
	/* a failed run tells nothing: assume the worst */
	if (read_state)
		*read_state = !ok || run.txn.read_state;
	return ok;
}

/*
 * Runs a named query for a WebSocket client into the frame to send: the
 * result after prefix (returns 200), or the error frame carrying id_json
 * (returns its status).  *read_state tells whether the run used the session
 * state.
 */
int
query_run_frame(const char *name, cJSON *params, const char *session_id, const char *id_json,
				const char *prefix, StringInfo out, bool *read_state)
{
	QueryFailure failure;

	if (query_run_message(name, params, session_id, prefix, out, &failure, read_state))
		return 200;
	resetStringInfo(out);
	query_failure_message(&failure, id_json, out);
	return failure.status;
}

/*
 * Executors: POST /internal/ws-run, a WebSocket query or live-query run a
 * serving worker handed over (executor_submit; never reachable from
 * outside: serving workers route no /internal path).  The body is
 * {"name", "params", "session", "id", "prefix"}; the answer is the frame to
 * send: the result with the prefix (200), or the error frame (its status),
 * and X-Pg-Dash-Read-State says whether the run used the session state.
 */
void
query_ws_run_http(Conn *conn, HttpRequest *req)
{
	cJSON	   *body = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	const cJSON *session = cJSON_GetObjectItemCaseSensitive(body, "session");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
	const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(body, "prefix");
	cJSON	   *params = cJSON_GetObjectItemCaseSensitive(body, "params");
	char	   *id_json;
	StringInfoData out;
	bool		read_state = true;
	int			status;

	initStringInfo(&out);
	if (!cJSON_IsString(name) || !cJSON_IsString(prefix))
	{
		cJSON_Delete(body);
		http_reply_error(conn, req, 400, "bad_request", "malformed internal request", NULL, NULL);
		return;
	}
	if (cJSON_IsNull(params))
		params = NULL;
	id_json = id && !cJSON_IsNull(id) ? cJSON_PrintUnformatted(id) : NULL;
	status = query_run_frame(name->valuestring, params,
							 cJSON_IsString(session) ? session->valuestring : NULL,
							 id_json, prefix->valuestring, &out, &read_state);
	if (id_json)
		cJSON_free(id_json);
	cJSON_Delete(body);
	http_reply(conn, req, status, "application/json; charset=utf-8",
			   header_list_of("X-Pg-Dash-Read-State", read_state ? "true" : "false"),
			   out.data, out.len);
}

/* Builds {"type":"error","id":...,"error":{...}} for a failure. */
void
query_failure_message(QueryFailure *f, const char *id_json, StringInfo out)
{
	appendStringInfoString(out, "{\"type\":\"error\"");
	if (id_json)
		appendStringInfo(out, ",\"id\":%s", id_json);
	appendStringInfo(out, ",\"error\":{\"status\":%d,\"code\":", f->status);
	escape_json(out, f->code);
	appendStringInfoString(out, ",\"message\":");
	escape_json(out, f->message);
	if (f->detail)
	{
		appendStringInfoString(out, ",\"detail\":");
		escape_json(out, f->detail);
	}
	if (f->hint)
	{
		appendStringInfoString(out, ",\"hint\":");
		escape_json(out, f->hint);
	}
	appendStringInfoString(out, "}}");
}


/*
 * Runs a request for a download worker (download.c): the whole body, in
 * pieces handed to emit(), which may block while the client is slow.  The
 * statement timeout counts only the time spent fetching rows, not the time
 * spent waiting for the client.  False with *f filled when the request
 * cannot run before any byte was emitted; later errors are thrown.
 */
bool
query_run_download(const char *name, const char *free_sql, List *pairs,
				   const char *session_id, QueryEmit emit, void *arg, QueryFailure *f)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	MemoryContext batch = AllocSetContextCreate(reqcxt, "pg_dash download batch",
												ALLOCSET_DEFAULT_SIZES);
	QueryOptions opts;
	QueryRun	run;
	ResultWriter writer;
	StringInfoData out;
	ListCell   *lc;
	bool		done = false;
	bool		truncated = false;
	double		budget_ms = pg_dash_statement_timeout;

	query_options_init(&opts);
	foreach(lc, pairs)
	{
		List	   *pair = (List *) lfirst(lc);

		if (!query_take_option(&opts, linitial(pair), lsecond(pair), f))
			return false;
	}
	memset(&run, 0, sizeof(run));
	if (!query_open(name, free_sql, &opts, session_id, NULL, &run, f))
	{
		query_finish(&run, false);
		return false;
	}
	/* the budget below counts only the time spent producing rows */
	request_disarm_timeout(&run.txn);

	initStringInfo(&out);
	result_writer_init(&writer, run.portal->tupDesc, opts.format, opts.objects);
	result_writer_begin(&writer, &out, NULL);
	while (!done)
	{
		instr_time	t0;
		instr_time	elapsed;

		if (pg_dash_statement_timeout > 0)
		{
			if (budget_ms <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("canceling statement due to statement timeout")));
			enable_timeout_after(STATEMENT_TIMEOUT, Max((int) budget_ms, 1));
		}
		INSTR_TIME_SET_CURRENT(t0);
		MemoryContextSwitchTo(batch);
		done = query_fetch_batch(run.portal, &writer, &out, pg_dash_max_rows, &truncated);
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, t0);
		if (pg_dash_statement_timeout > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		budget_ms -= INSTR_TIME_GET_MILLISEC(elapsed);
		if (done)
			result_writer_end(&writer, &out, truncated, run.total);
		MemoryContextSwitchTo(reqcxt);
		/* hand over pieces of a few hundred kB: fewer, larger messages */
		if (done || out.len >= 256 * 1024)
		{
			emit(out.data, out.len, arg);
			pfree(out.data);
			MemoryContextReset(batch);
			initStringInfo(&out);
		}
	}
	SPI_cursor_close(run.portal);
	query_finish(&run, true);
	query_stats_record(name ? name : "(sql)", pg_dash_statement_timeout - budget_ms, writer.rows, false, false);
	return true;
}

/* GET /api/queries: every named query with its parameters and columns. */
static void
query_list(Conn *conn, HttpRequest *req)
{
	StringInfoData buf;
	RequestTxn	txn;

	initStringInfo(&buf);
	request_begin(&txn, "pg_dash: listing the named queries", NULL);
	/* the policy columns through to_jsonb(q): a 0.1.0 table has none of them */
	if (SPI_execute("SELECT coalesce(jsonb_agg(jsonb_build_object("
					"'name', name, 'description', description, "
					"'params', (SELECT coalesce(jsonb_agg(p - 'type_oid'), '[]') FROM jsonb_array_elements(params) p), "
					"'columns', columns, 'refresh_on', to_jsonb(refresh_on), 'cache_ttl', cache_ttl, "
					"'reads_state', reads_state, 'updated_at', updated_at, "
					"'sortable', coalesce(to_jsonb(q) -> 'sortable', '[]'), "
					"'allow_count', coalesce(to_jsonb(q) -> 'allow_count', 'false'), "
					"'range_columns', coalesce(to_jsonb(q) -> 'range_columns', '[]')) ORDER BY name), '[]')::text "
					"FROM pg_dash.queries q", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not list the named queries");
	MemoryContextSwitchTo(txn.cxt);
	appendStringInfo(&buf, "{\"queries\":%s}",
					 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	request_commit(&txn);
	http_reply_json(conn, req, 200, &buf);
}

/*
 * Handles /api/queries, /api/query/<name> and /api/sql; false when the path
 * is none of them.
 */
bool
query_api_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;
	QueryOptions opts;
	QueryFailure failure;

	if (strcmp(path, "/api/queries") == 0)
	{
		if (http_method_is(req, "GET") || http_method_is(req, "HEAD"))
			query_list(conn, req);
		else
			http_reply_error(conn, req, 405, "method_not_allowed", "use GET for /api/queries", NULL, NULL);
		return true;
	}
	if (strncmp(path, "/api/query/", 11) == 0)
	{
		if (!http_method_is(req, "GET") && !http_method_is(req, "HEAD") && !http_method_is(req, "POST"))
		{
			http_reply_error(conn, req, 405, "method_not_allowed",
							 "use GET or POST for /api/query/<name>", NULL, NULL);
			return true;
		}
		if (query_parse_request(req, &opts, &failure))
			query_run_http(conn, req, path + 11, NULL, &opts);
		else
			query_reply_failure(conn, req, &failure);
		return true;
	}
	if (strcmp(path, "/api/sql") == 0)
	{
		cJSON	   *body;
		const cJSON *sql;

		if (!http_method_is(req, "POST"))
		{
			http_reply_error(conn, req, 405, "method_not_allowed", "use POST for /api/sql", NULL, NULL);
			return true;
		}
		if (!pg_dash_allow_sql)
		{
			http_reply_error(conn, req, 403, "forbidden", "free SQL is disabled",
							 "Named queries are the safe way to serve data.",
							 "Set pg_dash.allow_sql = on in postgresql.conf and reload to allow POST /api/sql.");
			return true;
		}
		body = cJSON_ParseWithLength(req->body, req->body_len);
		sql = body ? cJSON_GetObjectItemCaseSensitive(body, "sql") : NULL;
		if (!cJSON_IsString(sql))
		{
			cJSON_Delete(body);
			query_bad_request(&failure, "request body must be {\"sql\": \"...\"}", NULL, NULL);
			query_reply_failure(conn, req, &failure);
			return true;
		}
		query_options_init(&opts);
		{
			char	   *text = pstrdup(sql->valuestring);
			const cJSON *item;
			bool		ok = true;

			cJSON_ArrayForEach(item, body)
			{
				if (strcmp(item->string, "sql") != 0 &&
					!(ok = query_take_option(&opts, item->string, query_json_param_text(item), &failure)))
					break;
			}
			cJSON_Delete(body);
			if (ok && opts.names != NIL)
				ok = query_bad_request(&failure, psprintf("unknown option \"%s\"", strVal(linitial(opts.names))),
									   NULL, "Free SQL takes no parameters; options are: " QUERY_RESERVED_PARAMS ".");
			if (ok)
				query_run_http(conn, req, NULL, text, &opts);
			else
				query_reply_failure(conn, req, &failure);
		}
		return true;
	}
	return false;
}
