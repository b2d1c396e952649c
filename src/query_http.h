/*
 * query_http.h
 *		Serving named queries (and, when allowed, free SQL) over HTTP.
 */
#ifndef PG_DASH_QUERY_HTTP_H
#define PG_DASH_QUERY_HTTP_H

#include "conn.h"
#include "request.h"

extern bool query_api_dispatch(Conn *conn, HttpRequest *req);
extern void query_reply_failure(Conn *conn, HttpRequest *req, QueryFailure *f);

#endif							/* PG_DASH_QUERY_HTTP_H */
