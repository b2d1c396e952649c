/*
 * query_http.c
 *		GET /api/queries, GET|POST /api/query/<name> and POST /api/sql: the
 *		HTTP delivery of query results (query_run.c runs them).
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

#include <cjson/cJSON.h>

#include "common/hashfn.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "guc.h"
#include "http_response.h"
#include "download.h"
#include "executor.h"
#include "access.h"
#include "auth.h"
#include "bearer.h"
#include "query_http.h"
#include "query_run.h"
#include "query_stats.h"
#include "session.h"

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

/* Set when an inline run was canceled at its bound (query_inline_answer). */
static bool inline_over_bound = false;

/* Answers a failure over HTTP. */
void
query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f)
{
	metrics_error_class(strlen(f->code) == 5 ? f->code : "XX");
	http_reply_error(conn, req, f->status, f->code, f->message, f->detail, f->hint);
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
 * Answers a result from the cache (304 when the client has it).  Needs no
 * transaction: serving workers answer hits themselves (query_hit.c).
 */
void
query_reply_cached(Conn *conn, HttpRequest *req, QueryOptions *opts, int ttl, const char *name,
				   StringInfo body, const char *etag, instr_time started)
{
	HeaderList	headers;
	size_t		inm_len;
	const char *inm;
	instr_time	elapsed;

	header_list_init(&headers);
	query_common_headers(&headers, opts, ttl, name);
	header_add(&headers, "ETag", etag);
	header_add(&headers, "X-Pg-Dash-Cache", "hit");
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, started);
	query_stats_record(name, INSTR_TIME_GET_MILLISEC(elapsed), 0, true, false);
	inm = http_request_header(req, "If-None-Match", &inm_len);
	if (inm != NULL && inm_len == strlen(etag) && memcmp(inm, etag, inm_len) == 0)
		http_reply(conn, req, 304, NULL, &headers, NULL, 0);
	else
		http_reply(conn, req, 200, result_content_type(opts->format), &headers,
				   body->data, body->len);
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
		query_store_result(run, body->data, body->len, etag);
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
			query_finish(&run, true);
			query_reply_cached(conn, req, opts, run.ttl, run.def->name, &run.cached_body,
							   run.cached_etag, started);
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
			else if (bearer_request_role() == NULL &&	/* it would run as pg_dash.role */
					 download_start(conn, req, name, free_sql, query_options_pairs(opts),
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
	/* an inline run canceled at its bound is answered by an executor instead */
	if (failed && request_over_stall_limit(&failure) && conn->last_status == 0)
	{
		inline_over_bound = true;
		return;
	}
	if (failed)
		query_reply_failure(conn, req, &failure);
}

/*
 * Runs GET or HEAD /api/query/<name> in the serving worker itself when the
 * query is measured to be cheap (query_stats_cheap: its recent runs averaged
 * under pg_dash.inline_below), saving the hand-over to an executor.  The
 * run is bounded: its statement timeout is 20 times the threshold (at least
 * 10 ms); a run canceled there is not answered here (false: the caller hands
 * the request to an executor, where it runs again, read-only), and the query
 * stays out of the loop for a while.  False too when the query is not cheap.
 */
bool
query_inline_answer(Conn *conn, HttpRequest *req)
{
	const char *name = req->path + 11;
	QueryOptions opts;
	QueryFailure failure;
	instr_time	started;
	instr_time	elapsed;

	if (strncmp(req->path, "/api/query/", 11) != 0 ||
		!query_stats_cheap(name, pg_dash_inline_below) ||
		!query_parse_request(req, &opts, &failure) || query_is_series(&opts))
		return false;
	INSTR_TIME_SET_CURRENT(started);
	inline_over_bound = false;
	request_stall_limit_ms = Max(10, (int) (20 * pg_dash_inline_below));
	PG_TRY();
	{
		query_run_http(conn, req, name, NULL, &opts);
	}
	PG_FINALLY();
	{
		request_stall_limit_ms = 0;
	}
	PG_END_TRY();
	if (!inline_over_bound)
	{
		metrics_count(METRIC_INLINE_RUNS, 1);
		return true;
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, started);
	query_stats_not_inline(name, INSTR_TIME_GET_MILLISEC(elapsed));
	metrics_count(METRIC_INLINE_FALLBACKS, 1);
	return false;
}

/* GET /api/queries: every named query with its parameters and columns. */
static void
query_list(Conn *conn, HttpRequest *req)
{
	StringInfoData buf;
	RequestTxn	txn;
	AuthViewer	viewer;
	QueryFailure failure;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	initStringInfo(&buf);
	request_begin(&txn, "pg_dash: listing the named queries", session_id_from_cookie(req));
	if (!auth_resolve_viewer(session_bound_id(), &viewer, &failure))
	{
		request_abort(&txn);
		query_reply_failure(conn, req, &failure);
		return;
	}
	values[0] = ObjectIdGetDatum(viewer.roleid);
	/* the policy columns through to_jsonb(q): a 0.1.0 table has none of them */
	if (SPI_execute_with_args(psprintf("SELECT coalesce(jsonb_agg(jsonb_build_object("
									   "'name', name, 'description', description, "
									   "'params', (SELECT coalesce(jsonb_agg(p - 'type_oid'), '[]') FROM jsonb_array_elements(params) p), "
									   "'columns', columns, 'refresh_on', to_jsonb(refresh_on), 'cache_ttl', cache_ttl, "
									   "'reads_state', reads_state, 'updated_at', updated_at, "
									   "'sortable', coalesce(to_jsonb(q) -> 'sortable', '[]'), "
									   "'allow_count', coalesce(to_jsonb(q) -> 'allow_count', 'false'), "
									   "'range_columns', coalesce(to_jsonb(q) -> 'range_columns', '[]')) ORDER BY name), '[]')::text "
									   "FROM pg_dash.queries q WHERE %s", access_filter_sql("queries", "q", 1)),
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
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

