/*
 * router.c
 *		Maps a request's method and path to its handler.
 *
 *	/healthz			worker health (health.c)
 *	/ws					WebSocket upgrade (ws.c)
 *	/api/...			JSON API; unknown paths get a JSON 404; a request that
 *						changes something with the session cookie needs the
 *						session's CSRF token (session_csrf_check)
 *	everything else		static files of the front end (static_files.c)
 */
#include "postgres.h"

#include "auth.h"
#include "bearer.h"
#include "executor.h"
#include "health.h"
#include "http_response.h"
#include "page_api.h"
#include "primary_forward.h"
#include "query_hit.h"
#include "query_http.h"
#include "query_ws.h"
#include "router.h"
#include "session.h"
#include "static_files.h"
#include "tls.h"
#include "transport.h"
#include "ws.h"

/* Answers 405 naming the methods a resource supports. */
static void
router_method_not_allowed(Conn *conn, HttpRequest *req, const char *allow)
{
	http_reply_error_with(conn, req, 405, header_list_of("Allow", allow), "method_not_allowed",
						  "method not allowed for this resource", NULL, NULL);
}

/* True for GET and HEAD, the methods of every read-only resource. */
static bool
router_is_read(HttpRequest *req)
{
	return http_method_is(req, "GET") || http_method_is(req, "HEAD");
}

/* True for /api and the paths under it. */
static bool
router_is_api(const char *path)
{
	return strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0;
}

/*
 * Refuses (403) an API request that changes something with the session
 * cookie but without the session's CSRF token; true when it may go on.
 * GET, HEAD and OPTIONS change nothing and need no token.
 */
static bool
router_csrf_ok(Conn *conn, HttpRequest *req)
{
	const char *code;
	const char *detail;

	/*
	 * A sign-in has no session token to show yet; the guard's Origin check
	 * keeps other sites from signing a browser in (docs/api.md).  A bearer
	 * token is no ambient authority: nothing to forge.
	 */
	if (router_is_read(req) || http_method_is(req, "OPTIONS") ||
		strcmp(req->path, "/api/login") == 0 || bearer_request_role() != NULL ||
		session_csrf_check(req, &code, &detail))
		return true;
	http_reply_error(conn, req, 403, code, "CSRF token missing or wrong", detail,
					 "Send the value of the " SESSION_CSRF_COOKIE_NAME " cookie in the "
					 SESSION_CSRF_HEADER " header; a GET of /api/state sets the cookie again.");
	return false;
}

/*
 * Refuses (400) a request with a bearer token that would write session
 * state: such a request has no session (bearer.c); true when it may go on.
 */
static bool
router_bearer_stateless(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;

	if (bearer_request_role() == NULL || router_is_read(req) ||
		(strcmp(path, "/api/state") != 0 && strncmp(path, "/api/state/", 11) != 0 &&
		 strncmp(path, "/api/session/", 13) != 0))
		return true;
	http_reply_error(conn, req, 400, "bad_request", "a request with a bearer token has no session state",
					 "Session state belongs to a browser's cookie session; bearer requests carry none.",
					 "Keep an application's data in tables, written by actions.");
	return false;
}

/* Answers a request on pg_dash.redirect_port with 308 to its HTTPS URL. */
static void
router_redirect_to_https(Conn *conn, HttpRequest *req)
{
	StringInfoData url;
	HeaderList	headers;
	int			port = tls_https_port();
	const char *host = req->host.host;
	size_t		host_len = req->host.host_len;

	if (host == NULL)
	{
		http_reply_error(conn, req, 400, "bad_request", "a redirect to HTTPS needs the Host header",
						 "This port only redirects to HTTPS, and the request does not say which host it is for.",
						 "Send the request over HTTPS.");
		return;
	}
	initStringInfo(&url);
	appendStringInfoString(&url, "https://");
	/* an IPv6 address without its brackets gets them back */
	if (memchr(host, ':', host_len) != NULL && host[0] != '[')
		appendStringInfo(&url, "[%.*s]", (int) host_len, host);
	else
		appendBinaryStringInfo(&url, host, host_len);
	if (port != 443)
		appendStringInfo(&url, ":%d", port);
	if (req->target_len > 0 && req->target[0] == '/')
		appendBinaryStringInfo(&url, req->target, req->target_len);
	else
		appendStringInfoChar(&url, '/');
	header_list_init(&headers);
	header_add(&headers, "Location", url.data);
	header_add(&headers, "Cache-Control", "no-store");
	http_reply(conn, req, 308, "text/plain; charset=utf-8", &headers,
			   "Use HTTPS.\n", strlen("Use HTTPS.\n"));
}

/* Dispatches one request; returns the route it is counted under. */
MetricRoute
router_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path;

	/* the plain-HTTP port of a TLS server only redirects */
	if (conn->transport.redirect_only)
	{
		router_redirect_to_https(conn, req);
		return ROUTE_OTHER;
	}
	transport_strip_base_path(req);
	path = req->path;
	if ((router_is_api(path) || strcmp(path, "/ws") == 0) &&
		(!bearer_authenticate(conn, req) || !router_bearer_stateless(conn, req)))
		return router_is_api(path) ? ROUTE_API : ROUTE_WS;

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
					   header_list_of("Cache-Control", "no-store"), text, strlen(text));
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
	if (router_is_api(path) && !router_csrf_ok(conn, req))
		return ROUTE_API;
	/* a cached result needs no SQL: answered here without a transaction */
	if (router_is_api(path) && router_is_read(req) && !executor_am_executor &&
		query_hit_answer(conn, req))
		return ROUTE_API;
	if (router_is_api(path) &&
		!executor_am_executor && executor_available())
	{
		/* user SQL runs in the event loop only when measured cheap, and bounded */
		if (router_is_read(req) && query_inline_answer(conn, req))
			return ROUTE_API;
		executor_offload(conn, req);
		return ROUTE_NONE;
	}
	/* a hot standby: session state and actions live on the primary */
	if (primary_forward_wanted(req))
	{
		primary_forward(conn, req);
		return ROUTE_API;
	}
	if (executor_job_internal && strcmp(path, "/internal/ws-run") == 0)
	{
		query_ws_run_http(conn, req);
		return ROUTE_WS;
	}
	if (page_api_dispatch(conn, req))
		return ROUTE_API;
	if (query_api_dispatch(conn, req))
		return ROUTE_API;
	if (session_api_dispatch(conn, req))
		return ROUTE_API;
	if (auth_api_dispatch(conn, req))
		return ROUTE_API;
	if (router_is_api(path))
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
