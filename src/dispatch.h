/*
 * dispatch.h
 *		The one way the transport (connections, the WebSocket codec, the
 *		event loop) reaches the layers above it: a table of handlers that
 *		the worker installs at start.
 *
 * The transport knows nothing of routes, realtime messages or sessions; it
 * parses, guards and hands complete requests and messages up through this
 * table.  Everything above may use the transport directly.
 */
#ifndef PG_DASH_DISPATCH_H
#define PG_DASH_DISPATCH_H

#include "http_parser.h"
#include "metrics.h"

struct Conn;
struct cJSON;

typedef struct Dispatch
{
	/* A complete request that passed the guard: answers it; its route for the metrics. */
	MetricRoute (*http_request) (struct Conn *conn, HttpRequest *req);

	/* req upgraded conn to a WebSocket; called before any of its messages. */
	void		(*ws_opened) (struct Conn *conn, HttpRequest *req);

	/* A WebSocket text message: a JSON object with a string "type". */
	void		(*ws_message) (struct Conn *conn, const char *type, struct cJSON *msg);

	/* The WebSocket connection goes away. */
	void		(*ws_closed) (struct Conn *conn);

	/* The message types ws_message knows, for the error a typeless message gets. */
	const char *ws_message_types;

	/* Once a second, from the event loop. */
	void		(*tick) (void);
} Dispatch;

/* The installed table; NULL until the worker installs one. */
extern const Dispatch *dispatch;

extern void dispatch_install(const Dispatch *table);

#endif							/* PG_DASH_DISPATCH_H */
