/*
 * query_ws.c
 *		The WebSocket delivery of query runs: the frame a "query" or "watch"
 *		message is answered with, and the executors' internal route that
 *		builds it for a serving worker.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "utils/json.h"
#include "utils/timeout.h"

#include "bearer.h"
#include "http_response.h"
#include "query_run.h"
#include "query_ws.h"

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
 * outside: serving workers route no /internal path, and the executor routes
 * it only for a job marked internal in its slot).  The body is
 * {"name", "params", "session", "id", "prefix"}, and "bearer_role" for a
 * connection opened with a bearer token, which the worker verified: the run
 * takes that role (executor_main.c forgets it after the request).  The
 * answer is the frame to
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
	const cJSON *bearer_role = cJSON_GetObjectItemCaseSensitive(body, "bearer_role");
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
	if (cJSON_IsString(bearer_role))
		bearer_enter(bearer_role->valuestring, 0);
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

