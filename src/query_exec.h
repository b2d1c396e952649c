/*
 * query_exec.h
 *		Serving named queries (and, when allowed, free SQL) over HTTP.
 */
#ifndef PG_DASH_QUERY_EXEC_H
#define PG_DASH_QUERY_EXEC_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "conn.h"

struct cJSON;

/* Why a request cannot be run: answered as an HTTP or WebSocket error. */
typedef struct QueryFailure
{
	int			status;
	const char *code;
	const char *message;
	const char *detail;
	const char *hint;
} QueryFailure;

/* Receives a piece of a result body being produced for a download. */
typedef void (*QueryEmit) (const char *data, size_t len, void *arg);

extern bool query_api_dispatch(Conn *conn, HttpRequest *req);
extern bool query_run_download(const char *name, const char *free_sql, List *pairs,
							   const char *session_id, QueryEmit emit, void *arg,
							   QueryFailure *f);
extern bool query_fail(QueryFailure *f, int status, const char *code, const char *message,
					   const char *detail, const char *hint);
extern void query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f);
extern bool query_run_message(const char *name, struct cJSON *params, const char *session_id,
							  const char *prefix, StringInfo out, QueryFailure *f);
extern void query_failure_message(QueryFailure *f, const char *id_json, StringInfo out);
extern int	query_http_status(int sqlerrcode);

/*
 * Checks pg_dash.role inside a transaction: returns its name, or NULL with
 * *f filled (503) when it is unset, missing or a superuser.
 */
extern const char *query_check_role(QueryFailure *f);

#endif							/* PG_DASH_QUERY_EXEC_H */
