/*
 * query_run.c
 *		Running a named query (or free SQL) through the request pipeline:
 *		binding its parameters, its policy (sortable, allow_count,
 *		range_columns), its cache keys, opening its result, and the runners
 *		whose output is not an HTTP response (WebSocket messages, downloads).
 *
 * Every request runs through the request pipeline (request.c): its own
 * transaction, READ ONLY, as pg_dash.role (so GRANTs and row-level security
 * apply, and SQL cannot switch back), under pg_dash.statement_timeout, with
 * typed parameters bound through SPI.
 * pg_dash never serves data as a superuser: without a suitable role, data
 * endpoints answer 503 saying what to set.
 */
#include "postgres.h"

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "guc.h"
#include "executor.h"
#include "access.h"
#include "auth.h"
#include "query_run.h"
#include "worker_state.h"
#include "query_stats.h"
#include "session.h"

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
bool
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
void
query_result_keys(QueryDef *def, QueryOptions *opts, const char *role, const char *session_id,
				  unsigned char *shared_key, unsigned char *session_key)
{
	StringInfoData buf;
	ListCell   *ln;
	ListCell   *lv;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s%c%s%c%s%c%d/%d/" INT64_FORMAT "/" INT64_FORMAT "/%d/%s/%d/%s%c",
					 def->name, 0, def->version ? def->version : "", 0, role, 0, (int) opts->format, (int) opts->objects,
					 opts->limit, opts->offset, (int) opts->count_exact,
					 opts->order_column ? opts->order_column : "", (int) opts->order_desc,
					 opts->filename ? opts->filename : "", 0);
	forboth(ln, opts->names, lv, opts->values)
		appendStringInfo(&buf, "%s=%c%s%c", strVal(lfirst(ln)), lfirst(lv) ? 'v' : 'n',
						 lfirst(lv) ? (char *) lfirst(lv) : "", 0);
	/* a series is cached as the summary of (x, y), whatever its range */
	if (query_is_series(opts))
		appendStringInfo(&buf, "series%c%s%c%s%c", 0, opts->x_column, 0, opts->y_column, 0);
	query_cache_digest(&buf, shared_key);
	appendStringInfo(&buf, "session%c%s", 0, session_id);
	query_cache_digest(&buf, session_key);
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
void
query_store_result(QueryRun *run, const char *body, size_t len, const char *etag)
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
bool
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
		if (!access_request_allows(&run->txn, def->access, psprintf("query \"%s\"", name), f))
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

		query_result_keys(def, opts, run->txn.role_name, run->session_id,
						  run->cache_key, run->session_key);
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
				if (!query_cache_hears((char *) lfirst(lc)))
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
		plan = SPI_prepare_cursor(sql.data, n, types, worker_cursor_options);
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
void
query_finish(QueryRun *run, bool commit)
{
	if (commit)
		request_commit(&run->txn);
	else
		request_abort(&run->txn);
}

/* Turns a caught database error into a failure; aborts the transaction. */
void
query_catch(QueryRun *run, MemoryContext reqcxt, const char *stats_name, QueryFailure *f)
{
	if (run->txn.cxt == NULL)
		run->txn.cxt = reqcxt;
	request_catch(&run->txn, psprintf("query \"%s\"", stats_name), f);
	/* an inline run canceled at its bound runs again in an executor */
	if (!request_over_stall_limit(f))
		query_stats_record(stats_name, 0, 0, false, true);
}

/*
 * Answers a series request opened by query_open() into out (query_series.c),
 * commits, and stores the summary of the series it computed, if any.
 * False with *f filled, the transaction still open, when the request does
 * not fit the query's result; database errors are thrown.
 */
bool
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
		query_store_result(run, summary.data, summary.len, "");
	return true;
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

