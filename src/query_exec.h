/*
 * query_exec.h
 *		Serving named queries (and, when allowed, free SQL) over HTTP.
 */
#ifndef PG_DASH_QUERY_EXEC_H
#define PG_DASH_QUERY_EXEC_H

#include "conn.h"

extern bool query_api_dispatch(Conn *conn, HttpRequest *req);
extern int	query_http_status(int sqlerrcode);

#endif							/* PG_DASH_QUERY_EXEC_H */
