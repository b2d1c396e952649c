/*
 * query_http.h
 *		Serving named queries (and, when allowed, free SQL) over HTTP.
 */
#ifndef PG_DASH_QUERY_HTTP_H
#define PG_DASH_QUERY_HTTP_H

#include "lib/stringinfo.h"
#include "portability/instr_time.h"

#include "conn.h"
#include "query_options.h"
#include "request.h"

extern bool query_api_dispatch(Conn *conn, HttpRequest *req);
extern bool query_inline_answer(Conn *conn, HttpRequest *req);
extern void query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f);
extern void query_reply_cached(Conn *conn, HttpRequest *req, QueryOptions *opts, int ttl,
							   const char *name, StringInfo body, const char *etag,
							   instr_time started);

#endif							/* PG_DASH_QUERY_HTTP_H */
