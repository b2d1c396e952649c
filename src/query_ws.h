/*
 * query_ws.h
 *		The frames of WebSocket query runs.
 */
#ifndef PG_DASH_QUERY_WS_H
#define PG_DASH_QUERY_WS_H

#include "lib/stringinfo.h"

#include "conn.h"
#include "request.h"

struct cJSON;

extern void query_failure_message(QueryFailure *f, const char *id_json, StringInfo out);
extern int	query_run_frame(const char *name, struct cJSON *params, const char *session_id,
							const char *id_json, const char *prefix, StringInfo out,
							bool *read_state);
extern void query_ws_run_http(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_QUERY_WS_H */
