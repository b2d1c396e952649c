/*
 * query_exec.h
 *		Serving named queries (and, when allowed, free SQL) over HTTP.
 */
#ifndef PG_DASH_QUERY_EXEC_H
#define PG_DASH_QUERY_EXEC_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "conn.h"
#include "request.h"

struct cJSON;


/* Receives a piece of a result body being produced for a download. */
typedef void (*QueryEmit) (const char *data, size_t len, void *arg);

extern bool query_api_dispatch(Conn *conn, HttpRequest *req);
extern bool query_run_download(const char *name, const char *free_sql, List *pairs,
							   const char *session_id, QueryEmit emit, void *arg,
							   QueryFailure *f);
extern void query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f);
extern bool query_run_message(const char *name, struct cJSON *params, const char *session_id,
							  const char *prefix, StringInfo out, QueryFailure *f,
							  bool *read_state);
extern void query_failure_message(QueryFailure *f, const char *id_json, StringInfo out);
extern int	query_run_frame(const char *name, struct cJSON *params, const char *session_id,
							const char *id_json, const char *prefix, StringInfo out,
							bool *read_state);
extern void query_ws_run_http(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_QUERY_EXEC_H */
