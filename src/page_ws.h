/*
 * page_ws.h
 *		The WebSocket "page" message: live reload of dashboard pages.
 *
 * A client sends {"type":"page","path":"..."} for the page it shows and is
 * told {"type":"page_changed","path":"..."} whenever the page, or a named
 * query it binds, is (re)defined or dropped.  The changes arrive as
 * relcache invalidations of pg_dash.pages and pg_dash.queries (sent by
 * statement triggers, WAL-logged, so standbys' workers see them too).
 */
#ifndef PG_DASH_PAGE_WS_H
#define PG_DASH_PAGE_WS_H

#include "conn.h"
#include "page_registry.h"

struct cJSON;

/* page {path}: subscribes the connection to changes of that page. */
extern void page_ws_subscribe(Conn *conn, struct cJSON *msg);

/*
 * Between passes of the loop: tells the subscribers of pages that changed
 * since the last check.
 */
extern void page_ws_check(void);

/* Forgets a closing connection's page subscriptions. */
extern void page_ws_forget(Conn *conn);

#endif							/* PG_DASH_PAGE_WS_H */
