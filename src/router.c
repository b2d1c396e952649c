/*
 * router.c
 *		Maps a request's method and path to its handler.
 *
 *	/healthz			worker health (health.c)
 *	/ws					WebSocket upgrade (ws.c)
 *	/api/...			JSON API; unknown paths get a JSON 404
 *	everything else		static files of the front end (static_files.c)
 */
#include "postgres.h"

#include "executor.h"
#include "health.h"
#include "http_response.h"
#include "page_api.h"
#include "query_exec.h"
#include "router.h"
#include "session.h"
#include "static_files.h"
#include "ws.h"

/* Answers 405 naming the methods a resource supports. */
static void
router_method_not_allowed(Conn *conn, HttpRequest *req, const char *allow)
{
	http_reply_error_with(conn, req, 405, psprintf("Allow: %s\r\n", allow), "method_not_allowed",
						  "method not allowed for this resource", NULL, NULL);
}

/* True for GET and HEAD, the methods of every read-only resource. */
static bool
router_is_read(HttpRequest *req)
{
	return http_method_is(req, "GET") || http_method_is(req, "HEAD");
}

/* Dispatches one request; returns the route it is counted under. */
MetricRoute
router_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;

	if (strcmp(path, "/healthz") == 0)
	{
		if (router_is_read(req))
			health_reply(conn, req);
		else
			router_method_not_allowed(conn, req, "GET, HEAD");
		return ROUTE_HEALTHZ;
	}
	if (strcmp(path, "/metrics") == 0)
	{
		if (router_is_read(req))
		{
			char	   *text = metrics_render_prometheus();

			http_reply(conn, req, 200, "text/plain; version=0.0.4; charset=utf-8",
					   "Cache-Control: no-store\r\n", text, strlen(text));
		}
		else
			router_method_not_allowed(conn, req, "GET, HEAD");
		return ROUTE_METRICS;
	}
	if (strcmp(path, "/ws") == 0)
	{
		if (http_method_is(req, "GET"))
			ws_upgrade(conn, req);
		else
			router_method_not_allowed(conn, req, "GET");
		return ROUTE_WS;
	}
	if ((strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0) &&
		!executor_am_executor && executor_available())
	{
		/* user SQL never runs in the event loop */
		executor_offload(conn, req);
		return ROUTE_NONE;
	}
	if (page_api_dispatch(conn, req))
		return ROUTE_API;
	if (query_api_dispatch(conn, req))
		return ROUTE_API;
	if (session_api_dispatch(conn, req))
		return ROUTE_API;
	if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
	{
		http_reply_error(conn, req, 404, "not_found",
						 psprintf("no API endpoint at %s", path), NULL,
						 "See the API section of the pg_dash README for the endpoints.");
		return ROUTE_API;
	}
	if (router_is_read(req))
		static_serve(conn, req);
	else
		router_method_not_allowed(conn, req, "GET, HEAD");
	return ROUTE_STATIC;
}
