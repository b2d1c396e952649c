/*
 * page_api.h
 *		HTTP endpoints of dashboard pages: /api/pages, /api/page/<path>,
 *		/api/action/<name> and the page view /p/<path>.
 */
#ifndef PG_DASH_PAGE_API_H
#define PG_DASH_PAGE_API_H

#include "conn.h"

/* Serves the page endpoints; false when the path is none of them. */
extern bool page_api_dispatch(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_PAGE_API_H */
