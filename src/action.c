/*
 * action.c
 *		POST /api/action/<name>: runs a registered action and merges its
 *		result into the session state.
 *
 * An action is a function(state jsonb, payload jsonb) RETURNS jsonb that
 * the database owner registered with pg_dash.define_action(); nothing else
 * can be called this way.  Each call runs in its own READ WRITE request
 * transaction (request.c): the session is looked up as the worker's own role
 * (a request without one gets {} and a new session that is stored only if
 * the action writes state, within the budgets of session_budget.c), then the
 * function runs as pg_dash.role (GRANTs and row-level security apply, and
 * SQL cannot switch back) under pg_dash.statement_timeout, with the session's state
 * and the request's "payload".  Its result, an object of the keys to change
 * (null removes a key), is merged into the state (RFC 7386) and the reply is
 * {"state":{...},"changes":{...}}; other tabs of the session hear the
 * changes over WebSocket.  An error anywhere rolls back everything the
 * function did and is answered with its SQLSTATE mapped to an HTTP status.
 * Settings the function changes (even with a plain SET) are undone once it
 * returns, so they can neither leak into the worker nor affect the state
 * write.  Cross-origin calls were refused before they got here (guard.c).
 * An action may also call pg_dash.navigate(path): the reply then carries
 * "navigate", and the browser shows that page (Taipy's navigate()).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "action.h"
#include "access.h"
#include "auth.h"
#include "identifier.h"
#include "guc.h"
#include "http_response.h"
#include "metrics.h"
#include "page_registry.h"
#include "query_http.h"
#include "session.h"
#include "worker_state.h"

PG_FUNCTION_INFO_V1(pg_dash_navigate);

/*
 * While an action's function runs: the context its reply is built in, and
 * the page pg_dash.navigate() asked for (NULL for none).  Outside an action
 * action_cxt is NULL and pg_dash.navigate() refuses.
 */
static MemoryContext action_cxt = NULL;
static char *action_navigate_to = NULL;

/* A jsonb value from JSON text; errors (22P02) for invalid JSON. */
static Jsonb *
action_jsonb(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/*
 * The "payload" of the request body ({"payload": any}); JSON null when the
 * body is empty or has no payload.  False with *f filled for a body that is
 * not a JSON object; invalid JSON raises 22P02.
 */
static bool
action_payload(HttpRequest *req, Jsonb **payload, QueryFailure *f)
{
	Jsonb	   *body;
	JsonbValue	v;
	const char *p;

	*payload = action_jsonb("null");
	for (p = req->body; p < req->body + req->body_len; p++)
		if (!(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			break;
	if (p == req->body + req->body_len)
		return true;
	if (strlen(req->body) != req->body_len ||
		!pg_verifymbstr(req->body, (int) req->body_len, true))
		return request_fail(f, 400, "bad_request", "request body is not valid text",
						   "The body must be JSON in UTF-8.", NULL);
	body = action_jsonb(req->body);
	if (!JB_ROOT_IS_OBJECT(body) || JB_ROOT_IS_SCALAR(body))
		return request_fail(f, 400, "bad_request", "request body must be a JSON object",
						   NULL, "Send {\"payload\": any JSON value}.");
	if (getKeyJsonValueFromContainer(&body->root, "payload", 7, &v) != NULL)
		*payload = JsonbValueToJsonb(&v);
	return true;
}

/*
 * The qualified name of an action's function, or NULL with *f filled when
 * there is no such action or its function is gone.
 */
static char *
action_lookup(RequestTxn *txn, const char *name, QueryFailure *f)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	char	   *call = NULL;
	bool		found = false;
	bool		allowed = false;

	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(txn->roleid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.quote_ident(n.nspname) || '.' || "
									   "pg_catalog.quote_ident(p.proname), %s "
									   "FROM pg_dash.actions a "
									   "LEFT JOIN pg_catalog.pg_proc p ON p.oid = a.function "
									   "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
									   "WHERE a.name = $1", access_filter_sql("actions", "a", 2)),
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up action \"%s\"", name);
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		bool		isnull;

		found = true;
		allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		if (v)
			call = MemoryContextStrdup(cxt, v);
	}
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	if (found && !allowed)
	{
		access_request_refuse(txn, psprintf("action \"%s\"", name), f);
		return NULL;
	}
	if (!found)
		request_fail(f, 404, "not_found", psprintf("no action \"%s\"", name),
					"Only functions registered as actions can be called.",
					"Register one with SELECT pg_dash.define_action('name', 'my_function(jsonb, jsonb)'::regprocedure); "
					"pg_dash.actions lists the actions.");
	else if (call == NULL)
		request_fail(f, 500, "undefined_function",
					psprintf("the function of action \"%s\" no longer exists", name), NULL,
					"Register the action again with pg_dash.define_action().");
	return call;
}

/*
 * Calls the action's function as pg_dash.role; returns its result in the
 * caller's context (NULL for SQL NULL).  Every setting the function changed,
 * and the role, are restored before returning.
 */
static Jsonb *
action_call(RequestTxn *txn, const char *call, Jsonb *state, Jsonb *payload)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[2] = {JSONBOID, JSONBOID};
	Datum		values[2];
	Jsonb	   *result = NULL;

	values[0] = JsonbPGetDatum(state);
	values[1] = JsonbPGetDatum(payload);

	request_enter_role(txn, false);
	action_cxt = cxt;
	if (SPI_execute_with_args(psprintf("SELECT %s($1, $2)", call), 2, argtypes, values,
							  NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not call %s", call);
	action_cxt = NULL;
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext spicxt = MemoryContextSwitchTo(cxt);

			result = DatumGetJsonbPCopy(d);
			MemoryContextSwitchTo(spicxt);
		}
	}
	MemoryContextSwitchTo(cxt);
	/* back to the worker's role and settings for the state write */
	request_leave_role(txn);
	return result;
}

/*
 * Runs an action inside the open transaction.  Returns true with *reply set,
 * or false with *f filled; database errors are raised.
 */
static bool
action_execute(RequestTxn *txn, Conn *conn, HttpRequest *req, const char *name,
			   HeaderList *headers, char **reply, QueryFailure *f, int *retry_after)
{
	Jsonb	   *payload;
	Jsonb	   *state;
	Jsonb	   *result;
	Jsonb	   *changes = NULL;
	char	   *call;
	char	   *state_text;
	Session    *session;

	action_navigate_to = NULL;
	if (!action_payload(req, &payload, f))
		return false;
	if (!request_resolve_role(txn, f))
		return false;
	call = action_lookup(txn, name, f);
	if (call == NULL)
		return false;

	/*
	 * Without a session the action gets {} and a new session that is stored
	 * only if the action writes state (by its result or set_state()).
	 */
	session = session_find(req, headers);
	if (session == NULL)
		session = session_new();
	state = session->saved ? session_read(session->id) : NULL;
	if (state == NULL)
		state = action_jsonb("{}");
	session_bind(session->id);

	result = action_call(txn, call, state, payload);

	if (result != NULL && (!JB_ROOT_IS_OBJECT(result) || JB_ROOT_IS_SCALAR(result)))
		return request_fail(f, 500, "invalid_action_result",
						   psprintf("action \"%s\" did not return a JSON object", name),
						   "An action returns an object of the state keys to change (null removes a key), or NULL for no change.",
						   NULL);
	if (!session->saved &&
		((result != NULL && JB_ROOT_COUNT(result) > 0) || session_exists(session->id)) &&
		!session_save(session, conn, req, headers, f, retry_after))
		return false;
	if (result != NULL && session->saved)
	{
		if (!session_write(session->id, SESSION_WRITE_MERGE, NULL, result, &state, &changes))
		{
			/* rotated or swept meanwhile: start afresh */
			header_list_init(headers);
			session = session_new();
			if (!session_save(session, conn, req, headers, f, retry_after))
				return false;
			if (!session_write(session->id, SESSION_WRITE_MERGE, NULL, result, &state, &changes))
				elog(ERROR, "pg_dash session vanished while being written");
		}
	}
	else
		state = session->saved ? session_read(session->id) : NULL;
	if (state == NULL)
		state = action_jsonb("{}");
	state_text = session_jsonb_text(state);
	if (strlen(state_text) > (size_t) session_max_bytes)
		return request_fail(f, 413, "state_too_large",
						   "session state would exceed pg_dash.session_max_bytes",
						   psprintf("The state would take %zu bytes; the limit is %d. Nothing was changed.",
									strlen(state_text), session_max_bytes),
						   "Keep large data in tables and only keys or choices in the session state.");
	if (action_navigate_to)
	{
		StringInfoData nav;

		initStringInfo(&nav);
		escape_json(&nav, action_navigate_to);
		*reply = psprintf("{\"state\":%s,\"changes\":%s,\"navigate\":%s}", state_text,
						  changes ? session_jsonb_text(changes) : "{}", nav.data);
	}
	else
		*reply = psprintf("{\"state\":%s,\"changes\":%s}", state_text,
						  changes ? session_jsonb_text(changes) : "{}");
	return true;
}

/* Records an action call in the server log and the access log. */
static void
action_log_call(Conn *conn, const char *name, const char *role, int status)
{
	char	   *detail = psprintf("%s: %d", name, status);

	ereport(LOG,
			(errmsg("pg_dash %s: action \"%s\" called by role \"%s\" from %s: %d",
					request_process_name(), name, role ? role : "", conn_peer_text(&conn->peer), status)));
	access_log_event("action", role, &conn->peer, detail);
}

/* Serves POST /api/action/<name>. */
void
action_http(Conn *conn, HttpRequest *req, const char *name)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	HeaderList	headers;
	QueryFailure failure;
	char	   *volatile reply = NULL;
	volatile bool ok = false;
	RequestTxn	txn;
	int			retry_after = 0;

	if (!http_method_is(req, "POST"))
	{
		static const char body[] =
			"{\"error\":{\"status\":405,\"code\":\"method_not_allowed\","
			"\"message\":\"use POST for /api/action/<name>\"}}";

		http_reply(conn, req, 405, "application/json; charset=utf-8",
				   header_list_of("Allow", "POST"), body, sizeof(body) - 1);
		return;
	}
	if (!identifier_valid(name, ""))
	{
		http_reply_error(conn, req, 404, "not_found",
						 psprintf("no action \"%.80s\"", name),
						 "Action names are identifiers: letters, digits and underscores.",
						 "pg_dash.actions lists the actions.");
		return;
	}

	header_list_init(&headers);
	memset(&failure, 0, sizeof(failure));
	memset(&txn, 0, sizeof(txn));
	txn.cxt = reqcxt;
	PG_TRY();
	{
		char	   *out = NULL;

		request_begin(&txn, psprintf("pg_dash action %s", name), session_id_from_cookie(req));
		ok = action_execute(&txn, conn, req, name, &headers, &out, &failure, &retry_after);
		reply = out;
		if (ok)
			request_commit(&txn);
		else
			request_abort(&txn);
	}
	PG_CATCH();
	{
		action_cxt = NULL;
		request_catch(&txn, psprintf("action \"%s\"", name), &failure);
		ok = false;
		retry_after = 0;		/* only a refused new session sets it */
	}
	PG_END_TRY();
	MemoryContextSwitchTo(reqcxt);
	action_log_call(conn, name, txn.role_name, ok ? 200 : failure.status);

	if (ok)
	{
		header_add(&headers, "Cache-Control", "no-store");
		http_reply(conn, req, 200, "application/json; charset=utf-8", &headers,
				   reply, strlen(reply));
	}
	else if (retry_after > 0)
		http_reply_error_with(conn, req, failure.status,
							  header_list_of("Retry-After", psprintf("%d", retry_after)),
							  failure.code, failure.message, failure.detail, failure.hint);
	else
		query_reply_failure(conn, req, &failure);
}

/*
 * SQL pg_dash.navigate(path): asks the browser that called the running
 * action to show the page at path afterwards (NULL: stay).  Only an action
 * can call it; the path must be a valid page path (it need not exist yet:
 * the browser shows the page's 404 then).
 */
Datum
pg_dash_navigate(PG_FUNCTION_ARGS)
{
	char	   *path;

	if (action_cxt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash.navigate() can only be called by an action"),
				 errdetail("It tells the browser that called the action which page to show next."),
				 errhint("Call it from a function registered with pg_dash.define_action().")));
	if (PG_ARGISNULL(0))
	{
		action_navigate_to = NULL;
		PG_RETURN_VOID();
	}
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!page_path_valid(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid page path \"%.80s\"", path),
				 errhint("A page path is 1 to 128 bytes of lower-case segments [a-z0-9][a-z0-9_-]* separated by \"/\", as in pg_dash.define_page().")));
	action_navigate_to = MemoryContextStrdup(action_cxt, path);
	PG_RETURN_VOID();
}
