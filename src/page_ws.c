/*
 * page_ws.c
 *		The WebSocket "page" message: live reload of dashboard pages.
 *
 * Each worker keeps, in TopMemoryContext, the list of (connection, page
 * path) pairs its clients subscribed to.  A notification on PAGE_CHANNEL
 * carries a page path; every subscriber of that path on this worker gets
 * {"type":"page_changed","path":...} and reloads the page.  Subscribing to
 * a page that does not exist (yet) is allowed: the client hears when it is
 * defined.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "nodes/pg_list.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "page_registry.h"
#include "page_ws.h"
#include "ws.h"

/* Pages one connection may follow at once. */
#define PAGE_WS_MAX_PER_CONN 64

/* One connection following one page. */
typedef struct PageSubscription
{
	Conn	   *conn;
	char		path[PAGE_PATH_MAX_LEN + 1];
} PageSubscription;

/* Every page subscription of this worker (PageSubscription *). */
static List *page_subscriptions = NIL;

/* page {path}: subscribes the connection to changes of that page. */
void
page_ws_subscribe(Conn *conn, cJSON *msg)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(msg, "path");
	ListCell   *lc;
	int			mine = 0;
	PageSubscription *sub;

	if (!cJSON_IsString(path))
	{
		ws_send_error(conn, NULL, "invalid_message", "page message has no \"path\" string", NULL,
					  "Send {\"type\":\"page\",\"path\":\"sales\"} for the page at /p/sales.");
		return;
	}
	if (!page_path_valid(path->valuestring))
	{
		ws_send_error(conn, NULL, "invalid_path", "invalid page path",
					  psprintf("\"%.140s\" is not a valid page path.", path->valuestring),
					  "A page path is lower-case letters, digits, \"_\" and \"-\" in segments separated by \"/\".");
		return;
	}
	foreach(lc, page_subscriptions)
	{
		sub = (PageSubscription *) lfirst(lc);
		if (sub->conn != conn)
			continue;
		if (strcmp(sub->path, path->valuestring) == 0)
		{
			ws_send_ack(conn, "page_subscribed", "path", sub->path);
			return;
		}
		mine++;
	}
	if (mine >= PAGE_WS_MAX_PER_CONN)
	{
		ws_send_error(conn, NULL, "too_many_pages",
					  psprintf("a connection can follow at most %d pages", PAGE_WS_MAX_PER_CONN),
					  NULL, "Open one WebSocket per few pages, or reconnect to start afresh.");
		return;
	}
	sub = MemoryContextAllocZero(TopMemoryContext, sizeof(PageSubscription));
	sub->conn = conn;
	strlcpy(sub->path, path->valuestring, sizeof(sub->path));
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		page_subscriptions = lappend(page_subscriptions, sub);
		MemoryContextSwitchTo(oldcxt);
	}
	ws_send_ack(conn, "page_subscribed", "path", sub->path);
}

/* Tells this worker's subscribers of a page that it changed. */
void
page_ws_changed(const char *path)
{
	ListCell   *lc;

	foreach(lc, page_subscriptions)
	{
		PageSubscription *sub = (PageSubscription *) lfirst(lc);
		WsConn	   *ws = (WsConn *) sub->conn->ws;

		if (strcmp(sub->path, path) == 0 && ws != NULL && !ws->closing)
			ws_send_ack(sub->conn, "page_changed", "path", sub->path);
	}
}

/* Forgets a closing connection's page subscriptions. */
void
page_ws_forget(Conn *conn)
{
	ListCell   *lc;

	foreach(lc, page_subscriptions)
	{
		PageSubscription *sub = (PageSubscription *) lfirst(lc);

		if (sub->conn == conn)
		{
			page_subscriptions = foreach_delete_current(page_subscriptions, lc);
			pfree(sub);
		}
	}
}
