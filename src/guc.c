/*
 * guc.c
 *		Defines the pg_dash.* settings.
 *
 * What needs a new listening socket or a different number of processes is
 * PGC_POSTMASTER; everything the workers can pick up on SIGHUP is PGC_SIGHUP
 * and read afresh for each request.
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "bearer.h"
#include "guard.h"
#include "guc.h"
#include "executor.h"
#include "request.h"
#include "http_response.h"
#include "session.h"
#include "tls.h"
#include "transport.h"

int			pg_dash_port = 8080;
char	   *pg_dash_listen_addresses = NULL;
char	   *pg_dash_database = NULL;
int			pg_dash_workers = 2;
int			pg_dash_max_connections = 1000;
char	   *pg_dash_www_dir = NULL;
int			pg_dash_idle_timeout = 60;
int			pg_dash_max_header_size = 8192;
int			pg_dash_max_url_length = 4096;
int			pg_dash_max_body_size = 1024 * 1024;
int			pg_dash_ws_max_message_size = 64 * 1024;
int			pg_dash_ws_max_queue = 16 * 1024 * 1024;
int			pg_dash_ws_ping_interval = 30;
int			pg_dash_ws_max_rows = 100000;
int			pg_dash_ws_max_bytes = 8 * 1024 * 1024;
int			pg_dash_ws_max_watches = 100;
int			pg_dash_ws_max_subscriptions = 100;
int			pg_dash_max_downloads = 4;
int			pg_dash_download_timeout = 300;
char	   *pg_dash_role = NULL;
int			pg_dash_statement_timeout = 10000;
int			pg_dash_max_rows = 0;
int			pg_dash_cache_ttl = 0;
int			pg_dash_cache_size = 64;
bool		pg_dash_allow_sql = false;
char	   *pg_dash_hosts = NULL;
int			pg_dash_header_timeout = 10;
int			pg_dash_max_connections_per_ip = -1;
int			pg_dash_rate_limit_per_ip = 0;
int			pg_dash_rate_limit_burst = 100;
int			pg_dash_http_max_queue = 1024 * 1024;

/* The installed front end: <sharedir>/pg_dash/www, computed once. */
static char default_www_dir[MAXPGPATH];

/*
 * Defines every setting and reserves the pg_dash. prefix, so that a typo in
 * postgresql.conf is reported instead of silently ignored.
 */
void
guc_define(void)
{
	char		share_path[MAXPGPATH];

	get_share_path(my_exec_path, share_path);
	snprintf(default_www_dir, sizeof(default_www_dir), "%s/pg_dash/www", share_path);

	DefineCustomIntVariable("pg_dash.port",
							"TCP port the pg_dash HTTP server listens on.",
							NULL,
							&pg_dash_port,
							8080, 1, 65535,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.listen_addresses",
							   "Comma-separated host names or IP addresses the HTTP server listens on; * for all.",
							   NULL,
							   &pg_dash_listen_addresses,
							   "localhost",
							   PGC_POSTMASTER, GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.database",
							   "Database the pg_dash workers connect to.",
							   "CREATE EXTENSION pg_dash in this database.",
							   &pg_dash_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.workers",
							"Number of background workers serving HTTP and WebSocket.",
							"All workers share one port; each runs its own event loop and database connection.",
							&pg_dash_workers,
							2, 1, 64,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_connections",
							"Maximum number of open client connections per worker.",
							"Connections over the limit are answered 503 and closed.",
							&pg_dash_max_connections,
							1000, 1, 100000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.www_dir",
							   "Folder the static front end is served from.",
							   NULL,
							   &pg_dash_www_dir,
							   default_www_dir,
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.idle_timeout",
							"Seconds an idle HTTP connection is kept open.",
							NULL,
							&pg_dash_idle_timeout,
							60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_header_size",
							"Maximum size of an HTTP request's line and headers; larger requests get 431.",
							NULL,
							&pg_dash_max_header_size,
							8192, 1024, 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_url_length",
							"Maximum length of a request URL; longer ones get 414.",
							NULL,
							&pg_dash_max_url_length,
							4096, 256, 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_body_size",
							"Maximum size of an HTTP request body; larger ones get 413.",
							NULL,
							&pg_dash_max_body_size,
							1024 * 1024, 0, 1024 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_message_size",
							"Largest WebSocket message a client may send; larger ones close the connection with 1009.",
							NULL,
							&pg_dash_ws_max_message_size,
							64 * 1024, 128, 64 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_queue",
							"Bytes that may wait to be sent to one WebSocket client; a client over it is closed with 1008.",
							NULL,
							&pg_dash_ws_max_queue,
							16 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_ping_interval",
							"Seconds of silence after which the server pings a WebSocket client; no answer within another interval closes it.",
							NULL,
							&pg_dash_ws_ping_interval,
							30, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_rows",
							"Most rows a WebSocket query or watch result may have; a larger result is refused with an error frame.",
							"WebSocket results are sent whole; GET /api/query streams results of any size.",
							&pg_dash_ws_max_rows,
							100000, 1, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_bytes",
							"Largest WebSocket query or watch result, as JSON; building stops and an error frame is sent once it is exceeded.",
							"Also never more than pg_dash.ws_max_queue.",
							&pg_dash_ws_max_bytes,
							8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_watches",
							"Most live queries (watch) one WebSocket connection may hold.",
							NULL,
							&pg_dash_ws_max_watches,
							100, 1, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ws_max_subscriptions",
							"Most channels one WebSocket connection may subscribe to.",
							NULL,
							&pg_dash_ws_max_subscriptions,
							100, 1, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_downloads",
							"Most results streamed at once (larger than one batch), over all workers; more are answered 503.",
							"Each runs in a download worker (or, when none can start, from a holdable cursor).",
							&pg_dash_max_downloads,
							4, 1, 10000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.download_timeout",
							"Longest a streamed result may take, waiting for the client included; past it the download ends and the connection is closed.",
							NULL,
							&pg_dash_download_timeout,
							300, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.role",
							   "Role that anonymous requests run their queries as.",
							   "Must exist and not be a superuser; data endpoints answer 503 otherwise.",
							   &pg_dash_role,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.statement_timeout",
							"Longest a query served over HTTP or WebSocket may run; 0 disables.",
							"A query over it is canceled and answered 504.",
							&pg_dash_statement_timeout,
							10000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_rows",
							"Most rows a query result may have; 0 means no limit.",
							"A result cut by the limit says so (\"truncated\": true).",
							&pg_dash_max_rows,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.cache_ttl",
							"Seconds a query result stays cached, unless the query sets its own cache_ttl; 0 disables.",
							NULL,
							&pg_dash_cache_ttl,
							0, 0, 86400 * 7,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.cache_size",
							"Shared memory for cached query results, in megabytes; 0 disables the cache.",
							NULL,
							&pg_dash_cache_size,
							64, 0, 64 * 1024,
							PGC_POSTMASTER, GUC_UNIT_MB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_dash.allow_sql",
							 "Allows POST /api/sql to run free SQL (read-only, as pg_dash.role).",
							 NULL,
							 &pg_dash_allow_sql,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.hosts",
							   "Host names pg_dash answers to, besides IP addresses, localhost, the machine's name and pg_dash.listen_addresses.",
							   "Comma-separated; \".example.com\" allows a domain and its subdomains; * allows any Host. Other Host headers get 421.",
							   &pg_dash_hosts,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   guard_check_hosts, NULL, NULL);

	DefineCustomIntVariable("pg_dash.header_timeout",
							"Seconds a client has to send a request's line and headers; bytes arriving do not extend it.",
							"A request head not complete in time gets 408 and the connection is closed.",
							&pg_dash_header_timeout,
							10, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_connections_per_ip",
							"Most open connections one client address may have to one worker; -1 means half of pg_dash.max_connections, 0 no limit.",
							"IPv6 clients are counted by their /64. Connections over the limit get 429 and are closed.",
							&pg_dash_max_connections_per_ip,
							-1, -1, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.rate_limit_per_ip",
							"Requests per second one client address may make to one worker, on average; 0 disables.",
							"Requests over the limit get 429 with Retry-After.",
							&pg_dash_rate_limit_per_ip,
							0, 0, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.rate_limit_burst",
							"Requests one client address may make at once before pg_dash.rate_limit_per_ip applies.",
							NULL,
							&pg_dash_rate_limit_burst,
							100, 1, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.http_max_queue",
							"Bytes of responses that may wait for one HTTP client; over it, its further requests are not read until it has taken them.",
							NULL,
							&pg_dash_http_max_queue,
							1024 * 1024, 64 * 1024, 1024 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	session_define_gucs();
	request_define_gucs();
	executor_define_gucs();
	http_response_define_gucs();
	tls_define_gucs();
	bearer_define_gucs();
	transport_define_gucs();
	MarkGUCPrefixReserved("pg_dash");
}
