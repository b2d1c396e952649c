/*
 * session_api.c
 *		HTTP endpoints of the session state (docs/api.md, docs/session.md):
 *
 *	GET		/api/state				{"state":{...}}
 *	GET		/api/state/<key>		{"key":"k","value":...}, 404 when unset
 *	PUT		/api/state/<key>		body: any JSON value
 *	PATCH	/api/state				body: JSON merge patch (RFC 7386), an object
 *	DELETE	/api/state/<key>, /api/state
 *	POST	/api/session/rotate		new token, same data
 *
 * Each request runs in its own transaction.  Reads, deletions and rotations
 * without a session answer {} and store nothing; the first PUT or PATCH
 * creates the session (429 or 503 with Retry-After when the budgets of
 * session_budget.c are spent).  Every write is one statement,
 * so two tabs of one session writing at once lose nothing; a write that
 * would make the state larger than pg_dash.session_max_bytes is rolled back
 * and answered 413.  Requests that change state from another origin were
 * refused (403) before they got here (guard.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "http_response.h"
#include "request.h"
#include "session.h"
#include "session_buffer.h"

/* The operations of the endpoints. */
typedef enum StateOp
{
	STATE_GET_ALL,
	STATE_GET_KEY,
	STATE_PUT_KEY,
	STATE_PATCH,
	STATE_DELETE_KEY,
	STATE_CLEAR,
	STATE_ROTATE
} StateOp;

/* Longest key accepted in a path, in bytes. */
#define STATE_MAX_KEY_LEN 1024

/* Queues an error, with a Set-Cookie or Allow header when given. */
static void
session_api_error(Conn *conn, HttpRequest *req, int status, const char *code,
				  const char *message, const char *detail, const char *hint,
				  const HeaderList *extra_headers)
{
	http_reply_error_with(conn, req, status, extra_headers, code, message, detail, hint);
}

/* Answers 405 naming the methods a resource supports. */
static void
session_api_method_not_allowed(Conn *conn, HttpRequest *req, const char *allow)
{
	session_api_error(conn, req, 405, "method_not_allowed",
					  "method not allowed for this resource", NULL, NULL,
					  header_list_of("Allow", allow));
}

/*
 * Parses the request body as jsonb in a subtransaction.  Returns NULL with
 * *message and *detail set when the body is not JSON; other errors are
 * raised.
 */
static Jsonb *
session_api_parse_body(HttpRequest *req, const char **message, const char **detail)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Jsonb	   *volatile result = NULL;

	*detail = NULL;
	if (req->body_len == 0)
	{
		*message = "request body is empty";
		*detail = "The body must be JSON.";
		return NULL;
	}
	if (strlen(req->body) != req->body_len ||
		!pg_verifymbstr(req->body, (int) req->body_len, true))
	{
		*message = "request body is not valid text";
		*detail = "The body must be JSON in UTF-8.";
		return NULL;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(req->body)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (category != ERRCODE_DATA_EXCEPTION && category != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		*message = "request body is not valid JSON";
		*detail = edata->detail ? psprintf("%s %s", edata->message, edata->detail) : edata->message;
		result = NULL;
	}
	PG_END_TRY();
	return result;
}

/* Queues {"state":...} with the session's headers. */
static void
session_api_reply(Conn *conn, HttpRequest *req, HeaderList *headers, const char *body)
{
	header_add(headers, "Cache-Control", "no-store");
	http_reply(conn, req, 200, "application/json; charset=utf-8", headers,
			   body, strlen(body));
}

/* Wraps a state's JSON text as {"state":...}. */
static char *
session_api_state_body(const char *state_text)
{
	return psprintf("{\"state\":%s}", state_text);
}

/*
 * Serves one state request in its own transaction.  body is the parsed
 * request body for PUT and PATCH.
 */
static void
session_api_run(Conn *conn, HttpRequest *req, StateOp op, const char *key)
{
	HeaderList	headers;
	Session    *session = NULL;
	QueryFailure refusal;
	int			retry_after = 0;
	Jsonb	   *body = NULL;
	Jsonb	   *state = NULL;
	Jsonb	   *changes = NULL;
	char	   *state_text = NULL;
	char	   *reply = NULL;
	int			status = 200;
	const char *code = NULL;
	const char *message = NULL;
	const char *detail = NULL;
	const char *hint = NULL;
	bool		commit = true;
	RequestTxn	txn;

	header_list_init(&headers);
	memset(&refusal, 0, sizeof(refusal));
	/* pg_dash's own SQL, as the worker; an error is answered by conn_dispatch() */
	request_begin(&txn, psprintf("pg_dash: %s %s", req->method, req->path), NULL);

	if (op == STATE_PUT_KEY || op == STATE_PATCH)
	{
		body = session_api_parse_body(req, &message, &detail);
		if (body == NULL)
		{
			status = 400;
			code = "invalid_json";
			hint = op == STATE_PATCH
				? "Send a JSON object: a merge patch (RFC 7386) whose null values remove keys."
				: "Send any JSON value, e.g. \"North\", 42, [1,2] or {\"a\":1}.";
		}
		else if (op == STATE_PATCH && !JB_ROOT_IS_OBJECT(body))
		{
			status = 400;
			code = "bad_request";
			message = "a state patch must be a JSON object";
			detail = "The session state is an object; the patch names the keys it changes.";
			hint = "Send e.g. {\"region\":\"North\",\"old_key\":null}.";
		}
	}

	if (status == 200)
	{
		/* reads and deletions without a session see {} and create nothing */
		session = session_find(req, &headers);
		switch (op)
		{
			case STATE_GET_ALL:
			case STATE_GET_KEY:
				if (session != NULL)
					state = session_read(session->id);
				break;
			case STATE_ROTATE:
				if (session != NULL && !session_rotate(session, req, &headers, &state))
					state = session_read(session->id);
				break;
			case STATE_DELETE_KEY:
			case STATE_CLEAR:
				if (session != NULL)
					(void) session_buffer_write(session->id,
												op == STATE_DELETE_KEY ? SESSION_WRITE_DELETE : SESSION_WRITE_CLEAR,
												key, NULL, &state);
				break;
			default:
				{
					SessionWriteOp wop = op == STATE_PUT_KEY ? SESSION_WRITE_SET : SESSION_WRITE_MERGE;

					if (session == NULL || !session_buffer_write(session->id, wop, key, body, &state))
					{
						/* the first write (or the session was rotated or swept): a new one */
						header_list_init(&headers);
						session = session_new();
						if (!session_save(session, conn, req, &headers, &refusal, &retry_after))
						{
							status = refusal.status;
							code = refusal.code;
							message = refusal.message;
							detail = refusal.detail;
							hint = refusal.hint;
							header_list_init(&headers);
							header_addf(&headers, "Retry-After", "%d", retry_after);
						}
						else if (!session_write(session->id, wop, key, body, &state, &changes))
							elog(ERROR, "pg_dash session vanished while being written");
					}
				}
				break;
		}
	}

	if (status == 200)
	{
		if (state == NULL)
			state = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
		state_text = session_jsonb_text(state);

		if ((op == STATE_PUT_KEY || op == STATE_PATCH) &&
			strlen(state_text) > (size_t) session_max_bytes)
		{
			status = 413;
			code = "state_too_large";
			message = "session state would exceed pg_dash.session_max_bytes";
			detail = psprintf("The state would take %zu bytes; the limit is %d. Nothing was stored.",
							  strlen(state_text), session_max_bytes);
			hint = "Keep large data in tables and only keys or choices in the session state.";
		}
		else if (op == STATE_GET_KEY)
		{
			JsonbValue	v;

			if (!JB_ROOT_IS_OBJECT(state) ||
				getKeyJsonValueFromContainer(&state->root, key, strlen(key), &v) == NULL)
			{
				status = 404;
				code = "not_found";
				message = psprintf("session state has no key \"%s\"", key);
			}
			else
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendStringInfoString(&buf, "{\"key\":");
				escape_json(&buf, key);
				appendStringInfoString(&buf, ",\"value\":");
				appendStringInfoString(&buf, session_jsonb_text(JsonbValueToJsonb(&v)));
				appendStringInfoChar(&buf, '}');
				reply = buf.data;
			}
		}
		else
		{
			reply = session_api_state_body(state_text);
		}
	}

	/* failed writes store nothing; a 404 keeps a refreshed expiry */
	commit = status == 200 || status == 404;
	if (commit)
		request_commit(&txn);
	else
		request_abort(&txn);

	if (status == 200)
		session_api_reply(conn, req, &headers, reply);
	else
		session_api_error(conn, req, status, code, message, detail, hint,
						  commit || retry_after > 0 ? &headers : NULL);
}

/*
 * Handles /api/state, /api/state/<key> and /api/session/rotate; false when
 * the path is not one of them.
 */
bool
session_api_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;
	bool		read = http_method_is(req, "GET") || http_method_is(req, "HEAD");
	const char *key = NULL;
	StateOp		op;

	if (strcmp(path, "/api/state") == 0)
	{
		if (read)
			op = STATE_GET_ALL;
		else if (http_method_is(req, "PATCH"))
			op = STATE_PATCH;
		else if (http_method_is(req, "DELETE"))
			op = STATE_CLEAR;
		else
		{
			session_api_method_not_allowed(conn, req, "GET, HEAD, PATCH, DELETE");
			return true;
		}
	}
	else if (strncmp(path, "/api/state/", 11) == 0)
	{
		key = path + 11;
		if (read)
			op = STATE_GET_KEY;
		else if (http_method_is(req, "PUT"))
			op = STATE_PUT_KEY;
		else if (http_method_is(req, "DELETE"))
			op = STATE_DELETE_KEY;
		else
		{
			session_api_method_not_allowed(conn, req, "GET, HEAD, PUT, DELETE");
			return true;
		}
		if (key[0] == '\0' || strlen(key) > STATE_MAX_KEY_LEN ||
			!pg_verifymbstr(key, (int) strlen(key), true))
		{
			session_api_error(conn, req, 400, "bad_request", "invalid session state key",
							  psprintf("A key is 1 to %d bytes of text.", STATE_MAX_KEY_LEN),
							  "Percent-encode the key in the path, e.g. /api/state/my%20key.",
							  NULL);
			return true;
		}
	}
	else if (strcmp(path, "/api/session/rotate") == 0)
	{
		if (!http_method_is(req, "POST"))
		{
			session_api_method_not_allowed(conn, req, "POST");
			return true;
		}
		op = STATE_ROTATE;
	}
	else
		return false;

	if (op == STATE_PUT_KEY && req->body_len > (size_t) session_max_bytes)
	{
		session_api_error(conn, req, 413, "state_too_large",
						  "session state would exceed pg_dash.session_max_bytes",
						  psprintf("The value alone takes %zu bytes; the limit is %d. Nothing was stored.",
								   req->body_len, session_max_bytes),
						  "Keep large data in tables and only keys or choices in the session state.",
						  NULL);
		return true;
	}

	session_api_run(conn, req, op, key);
	return true;
}
