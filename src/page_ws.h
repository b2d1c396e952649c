/*
 * page_ws.h
 *		The WebSocket "page" message: live reload of dashboard pages.
 *
 * A client sends {"type":"page","path":"..."} for the page it shows and is
 * told {"type":"page_changed","path":"..."} whenever the page, or a named
 * query it binds, is (re)defined or dropped.  The changes arrive as
 * notifications on PAGE_CHANNEL (sent by pg_dash.define_page(),
 * pg_dash.drop_page() and a trigger on pg_dash.queries), which every worker
 * listens to.
 */
#ifndef PG_DASH_PAGE_WS_H
#define PG_DASH_PAGE_WS_H

#include "conn.h"
#include "page_registry.h"

struct cJSON;

/* page {path}: subscribes the connection to changes of that page. */
extern void page_ws_subscribe(Conn *conn, struct cJSON *msg);

/* Tells this worker's subscribers of a page that it changed. */
extern void page_ws_changed(const char *path);

/* Forgets a closing connection's page subscriptions. */
extern void page_ws_forget(Conn *conn);

#endif							/* PG_DASH_PAGE_WS_H */
