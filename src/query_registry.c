/*
 * query_registry.c
 *		Named queries: pg_dash.define_query() and a worker's cache of the
 *		definitions and their prepared plans.
 *
 * define_query() rewrites :name parameters to $n, parses and analyzes the
 * statement with PostgreSQL's variable-parameter analysis (as PREPARE does
 * without types) to infer each parameter's type and the result columns, and
 * stores all of it in pg_dash.queries.  Parameters whose type cannot be
 * inferred are text.  Parameter types are kept as regtype[], which pg_dump
 * writes as type names: a restored query finds a user-defined type again
 * under its new OID.
 *
 * The library also serves a pg_dash.queries still of version 0.1.0 (the
 * library is replaced before ALTER EXTENSION pg_dash UPDATE runs), whose
 * params elements carry each type as "type_oid" and which has no
 * param_types column.
 *
 * Workers keep each definition with a prepared plan (SPI_keepplan).  Row
 * changes do not invalidate a relation's cache entry by themselves, so a
 * statement trigger on pg_dash.queries (pg_dash_queries_invalidate) sends
 * a relcache invalidation of the table at commit; every worker's relcache
 * callback then drops its definitions when it starts its next transaction,
 * so a redefinition takes effect at the next request of every worker.  Plans
 * of unchanged queries are revalidated by the plan cache.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"
#include "utils/hsearch.h"

#include "identifier.h"
#include "query_registry.h"
#include "query_series.h"
#include "request_failure.h"
#include "worker_state.h"

static HTAB *query_defs = NULL;
static MemoryContext query_defs_context = NULL;
static Oid	queries_relid = InvalidOid;

/* True for the option names every request may carry. */
bool
query_param_name_reserved(const char *name)
{
	static const char *const reserved[] = {
		"format", "shape", "limit", "offset", "count", "order", "filename", "downsample", "width",
		"x", "y", "x_from", "x_to"
	};
	int			i;

	for (i = 0; i < lengthof(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

/*
 * True when one of a definition's lists (sortable, range_columns) allows a
 * result column: it names it, or holds '*'.
 */
bool
query_column_allowed(List *allowed, const char *column)
{
	ListCell   *lc;

	foreach(lc, allowed)
	{
		const char *c = (const char *) lfirst(lc);

		if (strcmp(c, "*") == 0 || strcmp(c, column) == 0)
			return true;
	}
	return false;
}

/*
 * True when pg_dash.queries has a column of version 0.2.0 (param_types,
 * sortable, ...); false for a table still of version 0.1.0.
 */
static bool
query_registry_has_column(const char *column)
{
	Oid			relid = get_relname_relid("queries", get_namespace_oid("pg_dash", false));

	return OidIsValid(relid) && get_attnum(relid, column) != InvalidAttrNumber;
}

/* The elements of a text[] datum as a list of strings (NULLs left out). */
static List *
query_text_list(Datum d)
{
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	int			i;
	List	   *out = NIL;

	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	for (i = 0; i < n; i++)
		if (!enulls[i])
			out = lappend(out, TextDatumGetCString(elems[i]));
	return out;
}

/* Drops every cached definition when pg_dash.queries changes. */
static void
query_registry_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	QueryDef   *def;

	if (query_defs == NULL || (OidIsValid(relid) && relid != queries_relid && OidIsValid(queries_relid)))
		return;
	hash_seq_init(&seq, query_defs);
	while ((def = hash_seq_search(&seq)) != NULL)
		def->valid = false;
}

/* Sets up the worker's definition cache. */
void
query_registry_init(void)
{
	HASHCTL		ctl;

	query_defs_context = AllocSetContextCreate(TopMemoryContext, "pg_dash query definitions",
											   ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(QueryDef);
	ctl.hcxt = query_defs_context;
	query_defs = hash_create("pg_dash query definitions", 64, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(query_registry_invalidate, (Datum) 0);
}

/* Frees what a cached definition holds, leaving the hash entry. */
static void
query_def_release(QueryDef *def)
{
	if (def->plan)
		SPI_freeplan(def->plan);
	def->plan = NULL;
	def->statement = NULL;
	def->series_statement = NULL;
	def->valid = false;
}

/*
 * Returns the definition of a named query with its prepared plan, loading it
 * when needed; NULL when no such query exists.  Must run inside a
 * transaction, connected to SPI.
 */
QueryDef *
query_registry_lookup(const char *name)
{
	QueryDef   *def;
	bool		found;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	MemoryContext oldcxt;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	ArrayType  *arr;
	Datum	   *elems;
	int			nelems;
	int			i;

	if (!identifier_valid(name, "-"))
		return NULL;
	if (!OidIsValid(queries_relid))
		queries_relid = get_relname_relid("queries", get_namespace_oid("pg_dash", false));

	def = hash_search(query_defs, name, HASH_ENTER, &found);
	if (found && def->valid)
		return def;
	if (found)
		query_def_release(def);
	else
	{
		def->plan = NULL;
		def->valid = false;
	}

	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args(psprintf("SELECT statement, updated_at::text, coalesce(cache_ttl, -1), refresh_on, reads_state, "
									   "%s, "
									   "(SELECT array_agg(p->>'name' ORDER BY ord) "
									   "   FROM jsonb_array_elements(params) WITH ORDINALITY AS e(p, ord)), "
									   "%s, %s "
									   "FROM pg_dash.queries WHERE name = $1",
									   query_registry_has_column("param_types") ?
									   "nullif(param_types, '{}')::oid[]" :
									   "(SELECT array_agg((p->>'type_oid')::oid ORDER BY ord) "
									   "   FROM jsonb_array_elements(params) WITH ORDINALITY AS e(p, ord))",
									   query_registry_has_column("sortable") ?
									   "sortable, allow_count, range_columns" :
									   "'{}'::text[], false, '{}'::text[]",
									   query_registry_has_column("access") ? "access" : "'{PUBLIC}'::text[]"),
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dash.queries");
	if (SPI_processed == 0)
	{
		hash_search(query_defs, name, HASH_REMOVE, NULL);
		return NULL;
	}
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	oldcxt = MemoryContextSwitchTo(query_defs_context);
	def->statement = SPI_getvalue(tup, desc, 1);
	def->version = SPI_getvalue(tup, desc, 2);
	def->cache_ttl = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
	def->refresh_on = NIL;
	d = SPI_getbinval(tup, desc, 4, &isnull);
	if (!isnull)
	{
		arr = DatumGetArrayTypeP(d);
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
		for (i = 0; i < nelems; i++)
			def->refresh_on = lappend(def->refresh_on, TextDatumGetCString(elems[i]));
	}
	def->reads_state = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
	d = SPI_getbinval(tup, desc, 8, &isnull);
	def->sortable = isnull ? NIL : query_text_list(d);
	d = SPI_getbinval(tup, desc, 9, &isnull);
	def->allow_count = !isnull && DatumGetBool(d);
	d = SPI_getbinval(tup, desc, 10, &isnull);
	def->range_columns = isnull ? NIL : query_text_list(d);
	d = SPI_getbinval(tup, desc, 11, &isnull);
	def->access = isnull ? NIL : query_text_list(d);
	def->series_statement = NULL;
	def->nparams = 0;
	def->param_types = NULL;
	def->param_names = NULL;
	d = SPI_getbinval(tup, desc, 6, &isnull);
	if (!isnull)
	{
		Datum	   *names;
		int			nnames;

		arr = DatumGetArrayTypeP(d);
		deconstruct_array(arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &nelems);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		nnames = 0;
		if (!isnull)
			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &names, NULL, &nnames);
		if (nnames != nelems)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("named query \"%s\" has %d parameter names but %d parameter types",
							name, nnames, nelems),
					 errhint("Define the query again with pg_dash.define_query().")));
		def->nparams = nelems;
		def->param_types = palloc(sizeof(Oid) * nelems);
		def->param_names = palloc(sizeof(char *) * nelems);
		for (i = 0; i < nelems; i++)
		{
			def->param_types[i] = DatumGetObjectId(elems[i]);
			def->param_names[i] = TextDatumGetCString(names[i]);
		}
	}
	MemoryContextSwitchTo(oldcxt);

	def->plan = SPI_prepare_cursor(def->statement, def->nparams, def->param_types,
								   worker_cursor_options);
	if (def->plan == NULL)
		elog(ERROR, "could not prepare named query \"%s\": %s", name,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(def->plan);
	def->valid = true;
	return def;
}

/*
 * The definition of a named query as this worker last loaded it, without
 * loading anything (no transaction needed); NULL when it is not loaded or
 * an invalidation outdated it.
 */
QueryDef *
query_registry_peek(const char *name)
{
	QueryDef   *def;

	if (query_defs == NULL || strlen(name) >= NAMEDATALEN)
		return NULL;
	def = hash_search(query_defs, name, HASH_FIND, NULL);
	return def != NULL && def->valid ? def : NULL;
}

/*
 * The statement a series of the query reads (query_series.c), kept with
 * the definition once made; free SQL (a definition not in the cache) gets
 * it made each time.  Must run inside a transaction.
 */
const char *
query_registry_series_statement(QueryDef *def)
{
	char	   *statement;

	if (def->series_statement != NULL)
		return def->series_statement;
	statement = series_statement(def->statement, def->nparams, def->param_types);
	if (!def->valid)
		return statement;
	def->series_statement = MemoryContextStrdup(query_defs_context, statement);
	return def->series_statement;
}

/*
 * Analyzes a statement with variable parameters; fills the parameter types
 * (unknown ones become text) and returns the analyzed query.
 */
static Query *
query_analyze(const char *statement, int nparams, Oid **types)
{
	List	   *raw;
	RawStmt    *rawstmt;
	List	   *analyzed;
	int			n = nparams;
	int			i;

	raw = raw_parser(statement, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a named query must be exactly one SQL statement"),
				 errdetail("The text holds %d statements.", list_length(raw))));
	rawstmt = linitial_node(RawStmt, raw);
	if (!IsA(rawstmt->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a named query must be a SELECT, VALUES or TABLE statement"),
				 errhint("Named queries run read-only; use an action (a SQL function) to change data.")));

	*types = palloc0(sizeof(Oid) * Max(nparams, 1));
	analyzed = pg_analyze_and_rewrite_varparams(rawstmt, statement, types, &n, NULL);
	if (list_length(analyzed) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a named query must not be rewritten into several statements")));
	for (i = 0; i < nparams; i++)
		if (i >= n || (*types)[i] == InvalidOid || (*types)[i] == UNKNOWNOID)
			(*types)[i] = TEXTOID;
	return linitial_node(Query, analyzed);
}

PG_FUNCTION_INFO_V1(pg_dash_queries_invalidate);

/*
 * Statement trigger on pg_dash.queries and pg_dash.pages: invalidates the
 * table's relcache entry at commit, which is what tells the workers to
 * reload definitions.  The invalidation is WAL-logged, so the workers of
 * hot standbys hear it when they replay the commit.
 */
Datum
pg_dash_queries_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pg_dash_queries_invalidate must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * Checks one of define_query's column lists (argument argno, named what):
 * each entry is '*' (every column) or a column of the query's result whose
 * type can be sorted, or for range_columns be a chart's x (a number, date
 * or timestamp).  Returns the text[] to store; NULL and a missing argument
 * (a 0.1.0 declaration) are '{}'.
 */
static Datum
query_policy_columns(FunctionCallInfo fcinfo, int argno, const char *what, Query *query,
					 bool for_range)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	int			i;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return PointerGetDatum(construct_empty_array(TEXTOID));
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *col = enulls[i] ? NULL : TextDatumGetCString(elems[i]);
		TargetEntry *found = NULL;
		StringInfoData names;
		ListCell   *lc;
		Oid			type;

		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not hold NULL", what)));
		if (strcmp(col, "*") == 0)
			continue;
		initStringInfo(&names);
		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (tle->resjunk || tle->resname == NULL)
				continue;
			appendStringInfo(&names, "%s%s", names.len ? ", " : "", tle->resname);
			if (strcmp(tle->resname, col) == 0)
				found = tle;
		}
		if (found == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("%s names \"%s\", which is not a column of the result", what, col),
					 errdetail("The result's columns are: %s.", names.data),
					 errhint("List result columns, or '*' for all of them.")));
		type = getBaseType(exprType((Node *) found->expr));
		if (for_range && !series_type_ok(type, true))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of type %s cannot be in range_columns", col, format_type_be(type)),
					 errhint("A chart zooms along a number, date or timestamp column.")));
		if (!for_range && !OidIsValid(lookup_type_cache(type, TYPECACHE_LT_OPR)->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("column \"%s\" of type %s cannot be in sortable", col, format_type_be(type)),
					 errdetail("The type has no ordering.")));
	}
	return PointerGetDatum(arr);
}

PG_FUNCTION_INFO_V1(pg_dash_define_query);

/*
 * SQL: pg_dash.define_query(name, sql, description, cache_ttl, refresh_on,
 * sortable, allow_count, range_columns) validates and stores a named query.
 */
Datum
pg_dash_define_query(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *sql;
	SqlParams	sp;
	Oid		   *types;
	Query	   *query;
	ListCell   *lc;
	StringInfoData params;
	StringInfoData columns;
	int			i;
	bool		first = true;
	Oid			argtypes[14] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, INT4OID,
								TEXTARRAYOID, BOOLOID, REGTYPEARRAYOID, TEXTARRAYOID, BOOLOID, TEXTARRAYOID,
								TEXTARRAYOID};
	Datum		values[14];
	char		nulls[14] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	char	   *statement;
	Datum	   *type_datums;
	bool		legacy = !query_registry_has_column("param_types");
	bool		policy = !legacy && query_registry_has_column("sortable");
	bool		access = policy && query_registry_has_column("access");

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query name and SQL must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!identifier_valid(name, "-"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid query name \"%s\"", name),
				 errhint("Query names are 1 to 63 letters, digits, underscores or hyphens, starting with a letter or underscore.")));
	if (!PG_ARGISNULL(3) && PG_GETARG_INT32(3) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cache_ttl must be zero or more seconds")));
	if (!PG_ARGISNULL(4))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(4);
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
		for (i = 0; i < n; i++)
		{
			char	   *ch = enulls[i] ? "" : TextDatumGetCString(elems[i]);

			if (enulls[i] || !identifier_valid(ch, ""))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_NAME),
						 errmsg("invalid channel name \"%s\" in refresh_on", ch),
						 errhint("Channel names are identifiers: letters, digits and underscores, at most 63 bytes.")));
		}
	}

	if (!sql_params_rewrite(sql, strlen(sql), &sp))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s", sp.error),
				 errdetail("At character %d of the query text.", sp.error_offset + 1)));
	statement = pstrdup(sp.sql);
	sql_params_free(&sp);
	for (i = 0; i < sp.count; i++)
		if (query_param_name_reserved(sp.names[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("parameter name \"%s\" is reserved", sp.names[i]),
					 errhint("These names are request options: " QUERY_RESERVED_PARAMS ". Rename the parameter.")));

	query = query_analyze(statement, sp.count, &types);

	initStringInfo(&params);
	appendStringInfoChar(&params, '[');
	type_datums = palloc(sizeof(Datum) * Max(sp.count, 1));
	for (i = 0; i < sp.count; i++)
	{
		if (i > 0)
			appendStringInfoChar(&params, ',');
		appendStringInfoString(&params, "{\"name\":");
		escape_json(&params, sp.names[i]);
		appendStringInfoString(&params, ",\"type\":");
		escape_json(&params, format_type_be(types[i]));
		if (legacy)
			appendStringInfo(&params, ",\"type_oid\":%u", types[i]);
		appendStringInfoChar(&params, '}');
		type_datums[i] = ObjectIdGetDatum(types[i]);
	}
	appendStringInfoChar(&params, ']');

	initStringInfo(&columns);
	appendStringInfoChar(&columns, '[');
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		if (!first)
			appendStringInfoChar(&columns, ',');
		first = false;
		appendStringInfoString(&columns, "{\"name\":");
		escape_json(&columns, tle->resname ? tle->resname : "?column?");
		appendStringInfoString(&columns, ",\"type\":");
		escape_json(&columns, format_type_with_typemod(exprType((Node *) tle->expr),
													   exprTypmod((Node *) tle->expr)));
		appendStringInfoChar(&columns, '}');
	}
	appendStringInfoChar(&columns, ']');

	/* a query that reads session state is re-run when that state changes */
	values[8] = BoolGetDatum(strstr(sql, "pg_dash.state(") != NULL ||
							 strstr(sql, "pg_dash.state (") != NULL);

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(sql);
	values[2] = CStringGetTextDatum(statement);
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data));
	values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(columns.data));
	if (PG_ARGISNULL(2))
		nulls[5] = 'n';
	else
		values[5] = PG_GETARG_DATUM(2);
	if (PG_ARGISNULL(3))
		nulls[6] = 'n';
	else
		values[6] = PG_GETARG_DATUM(3);
	if (PG_ARGISNULL(4))
		nulls[7] = 'n';
	else
		values[7] = PG_GETARG_DATUM(4);
	values[9] = PointerGetDatum(construct_array(type_datums, sp.count, REGTYPEOID,
												sizeof(Oid), true, TYPALIGN_INT));
	values[10] = query_policy_columns(fcinfo, 5, "sortable", query, false);
	values[11] = BoolGetDatum(PG_NARGS() > 6 && !PG_ARGISNULL(6) && PG_GETARG_BOOL(6));
	values[12] = query_policy_columns(fcinfo, 7, "range_columns", query, true);
	/* who may run it: NULL keeps the current list (PUBLIC for a new query) */
	if (PG_NARGS() > 8 && !PG_ARGISNULL(8))
		values[13] = PG_GETARG_DATUM(8);
	else
		nulls[13] = 'n';

	/*
	 * A 0.1.0 table has neither param_types nor the policy columns: $10 and
	 * $11..$13 are then left out.
	 */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("INSERT INTO pg_dash.queries AS q "
									   "(name, sql, statement, params, columns, description, cache_ttl, refresh_on, reads_state%s%s%s) "
									   "VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, '{}'), $9%s%s%s) "
									   "ON CONFLICT (name) DO UPDATE SET sql = EXCLUDED.sql, statement = EXCLUDED.statement, "
									   "params = EXCLUDED.params, columns = EXCLUDED.columns, description = EXCLUDED.description, "
									   "cache_ttl = EXCLUDED.cache_ttl, refresh_on = EXCLUDED.refresh_on, "
									   "reads_state = EXCLUDED.reads_state%s%s%s, updated_at = now()",
									   legacy ? "" : ", param_types",
									   policy ? ", sortable, allow_count, range_columns" : "",
									   access ? ", access" : "",
									   legacy ? "" : ", $10",
									   policy ? ", $11, $12, $13" : "",
									   access ? ", coalesce(pg_dash.access_normalize($14), '{PUBLIC}')" : "",
									   legacy ? "" : ", param_types = EXCLUDED.param_types",
									   policy ? ", sortable = EXCLUDED.sortable, allow_count = EXCLUDED.allow_count, "
									   "range_columns = EXCLUDED.range_columns" : "",
									   access ? ", access = coalesce(pg_dash.access_normalize($14), q.access)" : ""),
							  access ? 14 : policy ? 13 : legacy ? 9 : 10, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store named query \"%s\"", name);
	SPI_finish();
	PG_RETURN_VOID();
}
