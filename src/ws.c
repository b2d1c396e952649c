/*
 * ws.c
 *		WebSocket connections at /ws (subprotocol pg_dash.v1).
 *
 * After the handshake every text frame carries one JSON object with a
 * "type"; ws_dispatch hands it to the module that owns that type.  Protocol
 * violations close the connection with the RFC 6455 code the frame parser
 * reports (1002, 1007, 1009; 1003 for binary messages); a message that is
 * not JSON, or has an unknown type, gets an error frame and the connection
 * stays open.
 *
 * Each connection's output queue is bounded by pg_dash.ws_max_queue: a
 * client that does not read is closed with 1008 instead of growing the
 * worker's memory.  The server pings every pg_dash.ws_ping_interval and
 * closes a client that has not answered within two intervals.
 */
#include "postgres.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "access/xact.h"
#include "pgstat.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dispatch.h"
#include "guc.h"
#include "metrics.h"
#include "http_response.h"
#include "product.h"
#include "worker_state.h"
#include "ws.h"
#include "ws_frame.h"

#define WS_SUBPROTOCOL "pg_dash.v1"

dlist_head	ws_connections = DLIST_STATIC_INIT(ws_connections);

/* Answers a refused upgrade with a JSON error. */
static void
ws_refuse(Conn *conn, HttpRequest *req, int status, const char *message,
		  const HeaderList *extra_headers)
{
	http_reply_error_with(conn, req, status, extra_headers, http_status_code_name(status),
						  message, NULL, NULL);
}

/*
 * Completes the WebSocket handshake for GET /ws and switches the connection
 * to WebSocket frames.
 */
void
ws_upgrade(Conn *conn, HttpRequest *req)
{
	size_t		key_len;
	const char *key = http_request_header(req, "Sec-WebSocket-Key", &key_len);
	size_t		ver_len;
	const char *version = http_request_header(req, "Sec-WebSocket-Version", &ver_len);
	char		accept[WS_ACCEPT_KEY_LEN + 1];
	bool		offered_ours;
	HeaderList	headers;
	StringInfoData buf;
	WsConn	   *ws;
	MemoryContext oldcxt;

	if (!req->upgrade_websocket)
	{
		ws_refuse(conn, req, 426, "this endpoint only speaks WebSocket",
				  header_list_of("Upgrade", "websocket"));
		return;
	}
	if (version == NULL || ver_len != 2 || memcmp(version, "13", 2) != 0)
	{
		ws_refuse(conn, req, 426, "unsupported WebSocket version, use 13",
				  header_list_of("Sec-WebSocket-Version", "13"));
		return;
	}
	if (key == NULL || !ws_accept_key(key, key_len, accept))
	{
		ws_refuse(conn, req, 400, "missing or malformed Sec-WebSocket-Key", NULL);
		return;
	}
	offered_ours = http_request_has_token(req, "Sec-WebSocket-Protocol", WS_SUBPROTOCOL);
	if (!offered_ours && http_request_header(req, "Sec-WebSocket-Protocol", NULL) != NULL)
	{
		ws_refuse(conn, req, 400, "unsupported WebSocket subprotocol, use " WS_SUBPROTOCOL, NULL);
		return;
	}

	oldcxt = MemoryContextSwitchTo(conn->ctx);
	ws = palloc0(sizeof(WsConn));
	ws->conn = conn;
	{
		static uint64 last_serial = 0;

		ws->serial = ++last_serial;
	}
	ws->last_seen = GetCurrentTimestamp();
	ws_parser_init(&ws->parser, pg_dash_ws_max_message_size);
	MemoryContextSwitchTo(oldcxt);
	conn->ws = ws;

	header_list_init(&headers);
	header_add(&headers, "Server", "pg_dash/" PG_DASH_VERSION);
	header_add(&headers, "Upgrade", "websocket");
	header_add(&headers, "Connection", "Upgrade");
	header_add(&headers, "Sec-WebSocket-Accept", accept);
	if (offered_ours)
		header_add(&headers, "Sec-WebSocket-Protocol", WS_SUBPROTOCOL);
	initStringInfo(&buf);
	http_append_head(&buf, req, 101, NULL, &headers, NULL);
	conn_write(conn, buf.data, buf.len);
	conn->state = CONN_WEBSOCKET;
	dlist_push_tail(&ws_connections, &ws->node);
	lws_set_timeout(conn->wsi, NO_PENDING_TIMEOUT, 0);

	dispatch->ws_opened(conn, req);

	/*
	 * Frames the client sent right behind its handshake.  Not copied into
	 * the request context: handling a message resets it.
	 */
	if (http_parser_buffered(&conn->http) > 0)
	{
		size_t		n = http_parser_buffered(&conn->http);
		char	   *rest = MemoryContextAlloc(conn->ctx, n);

		memcpy(rest, conn->http.buf + conn->http.rpos, n);
		(void) ws_on_read(conn, rest, n);
		pfree(rest);
	}
	http_parser_free(&conn->http);
	http_parser_init(&conn->http, NULL);
}

/* Queues one frame. */
static void
ws_send_frame(Conn *conn, int opcode, const char *data, size_t len)
{
	unsigned char header[WS_MAX_HEADER_LEN];
	size_t		hlen = ws_frame_header(header, opcode, len, true);

	conn_write_whole(conn, (const char *) header, hlen, data, len);
}

/*
 * True when the socket would take more bytes for this client now: its queue
 * then only waits for the event loop, not for a client that stopped reading.
 * lws_send_pipe_choked() asks the socket (and lws's own buffer of what the
 * socket did not take), so it stays right with TLS underneath.
 */
static bool
ws_socket_writable(Conn *conn)
{
	return conn->wsi != NULL && !lws_send_pipe_choked(conn->wsi);
}

/*
 * True when len more bytes may be queued for a client.  Otherwise the
 * client's queue would go over pg_dash.ws_max_queue while its socket is
 * full: it is not reading, and waiting would grow memory, so it is closed
 * with 1008 and false returned.  An empty queue takes any message, so one
 * larger than the limit still reaches a client that reads (query results
 * are kept under the limit by query_run_message).
 */
static bool
ws_queue_admits(Conn *conn, size_t len)
{
	WsConn	   *ws = (WsConn *) conn->ws;

	if (ws == NULL || ws->closing)
		return false;
	if (conn->out_bytes > 0 && conn->out_bytes + len > (size_t) pg_dash_ws_max_queue &&
		!ws_socket_writable(conn))
	{
		metrics_count(METRIC_WS_SLOW_CLOSED, 1);
		ws_close(conn, WS_CLOSE_POLICY, "client too slow: outgoing queue full");
		return false;
	}
	return true;
}

/*
 * True when a client may be sent more now; a client that stopped reading
 * with a full queue is closed instead, before anything is built for it.
 */
bool
ws_can_send(Conn *conn)
{
	return ws_queue_admits(conn, 1);
}

/* Sends a text message, or closes a client that does not read (see above). */
void
ws_send_text(Conn *conn, const char *data, size_t len)
{
	if (!ws_queue_admits(conn, len))
		return;
	ws_send_frame(conn, WS_OP_TEXT, data, len);
	metrics_count(METRIC_WS_MESSAGES_SENT, 1);
}

/*
 * A text frame built once for many clients (a notification's fan-out): the
 * server's frames are not masked, so every client gets the same bytes.
 * Release it with conn_shared_release() after the last ws_send_shared().
 */
ConnShared *
ws_frame_shared(const char *data, size_t len)
{
	unsigned char header[WS_MAX_HEADER_LEN];
	size_t		hlen = ws_frame_header(header, WS_OP_TEXT, len, true);

	return conn_shared_create((const char *) header, hlen, data, len);
}

/*
 * Queues a shared frame for a client, or closes a client that does not read
 * (as ws_send_text).  Written by the next conn_flush_now(); returns whether
 * it was queued.
 */
bool
ws_send_shared(Conn *conn, ConnShared *frame)
{
	if (!ws_queue_admits(conn, frame->len))
		return false;
	conn_write_shared(conn, frame);
	return true;
}

/* Sends {"type":<type>,<field>:<value>}, the acknowledgement of a request. */
void
ws_send_ack(Conn *conn, const char *type, const char *field, const char *value)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"type\":\"%s\",\"%s\":", type, field);
	escape_json(&buf, value);
	appendStringInfoChar(&buf, '}');
	ws_send_text(conn, buf.data, buf.len);
	pfree(buf.data);
}

/* Sends a cJSON object as a text message. */
void
ws_send_json(Conn *conn, cJSON *msg)
{
	char	   *text = cJSON_PrintUnformatted(msg);

	if (text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while encoding a WebSocket message")));
	ws_send_text(conn, text, strlen(text));
	cJSON_free(text);
}

/* Sends an error frame: {"type":"error","id":...,"error":{...}}. */
void
ws_send_error(Conn *conn, const char *id, const char *code,
			  const char *message, const char *detail, const char *hint)
{
	cJSON	   *msg = cJSON_CreateObject();
	cJSON	   *err = cJSON_CreateObject();

	cJSON_AddStringToObject(msg, "type", "error");
	if (id)
		cJSON_AddStringToObject(msg, "id", id);
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	if (detail)
		cJSON_AddStringToObject(err, "detail", detail);
	if (hint)
		cJSON_AddStringToObject(err, "hint", hint);
	cJSON_AddItemToObject(msg, "error", err);
	ws_send_json(conn, msg);
	cJSON_Delete(msg);
}

/*
 * Starts the closing handshake: drops whatever is still queued (a client
 * being closed for not reading would never get it), sends a close frame and
 * closes the socket once it is written.
 */
void
ws_close(Conn *conn, int code, const char *reason)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	unsigned char payload[WS_MAX_CONTROL_PAYLOAD];
	size_t		plen;

	if (ws == NULL || ws->closing)
		return;
	ws->closing = true;
	if (code == WS_CLOSE_POLICY || code == WS_CLOSE_GOING_AWAY)
		conn_drop_unstarted(conn);
	plen = ws_close_payload(payload, code, reason);
	ws_send_frame(conn, WS_OP_CLOSE, (const char *) payload, plen);
	conn_close_when_flushed(conn);
	lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, 5);
}

/*
 * Handles one complete text message: JSON with a "type".  The message is
 * parsed in the request context (cJSON allocates in the current context),
 * so it, and whatever its handler builds, is freed by the reset below
 * whether the handler returns or raises an error.  An error becomes an
 * error frame and the connection stays open.
 */
static void
ws_handle_text(Conn *conn, const char *data, size_t len)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);
	cJSON	   *volatile msg = NULL;

	PG_TRY();
	{
		const cJSON *type;

		msg = cJSON_ParseWithLength(data, len);
		type = cJSON_GetObjectItemCaseSensitive(msg, "type");
		if (msg == NULL || !cJSON_IsObject(msg))
			ws_send_error(conn, NULL, "invalid_json",
						  msg == NULL ? "message is not valid JSON" : "message is not a JSON object",
						  NULL, "Send one JSON object per text frame, with a \"type\".");
		else if (!cJSON_IsString(type))
			ws_send_error(conn, NULL, "invalid_message", "message has no \"type\"", NULL,
						  psprintf("Valid types are: %s.", dispatch->ws_message_types));
		else
			dispatch->ws_message(conn, type->valuestring, msg);
	}
	PG_CATCH();
	{
		ErrorData  *edata = worker_catch_error();
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");

		ws_send_error(conn, cJSON_IsString(id) ? id->valuestring : NULL,
					  unpack_sql_state(edata->sqlerrcode),
					  edata->message, edata->detail, edata->hint);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/* Handles bytes received on an upgraded connection. */
int
ws_on_read(Conn *conn, const char *data, size_t len)
{
	WsConn	   *ws = (WsConn *) conn->ws;

	ws->last_seen = GetCurrentTimestamp();
	ws->ping_outstanding = false;
	while (len > 0 && !ws->closing)
	{
		WsEvent		ev;
		size_t		used = ws_parser_feed(&ws->parser, data, len, &ev);

		data += used;
		len -= used;
		switch (ev.type)
		{
			case WS_EV_NONE:
				break;
			case WS_EV_TEXT:
				metrics_count(METRIC_WS_MESSAGES_RECEIVED, 1);
				ws_handle_text(conn, ev.data, ev.len);
				break;
			case WS_EV_BINARY:
				ws_close(conn, WS_CLOSE_UNSUPPORTED, "binary messages are not supported");
				break;
			case WS_EV_PING:
				ws_send_frame(conn, WS_OP_PONG, ev.data, ev.len);
				break;
			case WS_EV_PONG:
				break;
			case WS_EV_CLOSE:
				ws_close(conn, ev.close_code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : ev.close_code, "");
				break;
			case WS_EV_ERROR:
				ws_close(conn, ev.close_code, ev.reason);
				break;
		}
		if (used == 0 && ev.type == WS_EV_NONE)
			break;
	}
	return 0;
}

/*
 * Queues 1001 "going away" at worker exit, after a frame already being
 * written and instead of what was not; conn_close_all_for_shutdown() hands
 * it to lws at once, since the event loop no longer runs.
 */
void
ws_shutdown(Conn *conn)
{
	ws_close(conn, WS_CLOSE_GOING_AWAY, "server shutting down");
}

/*
 * Once a second: ping clients that have been quiet for a ping interval and
 * close those that did not answer the previous ping.
 */
void
ws_tick(void)
{
	TimestampTz now = GetCurrentTimestamp();
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);

		if (ws->closing || ws_bearer_expired(ws->conn, now))
			continue;
		if (!TimestampDifferenceExceeds(ws->last_seen, now, pg_dash_ws_ping_interval * 1000))
			continue;
		if (ws->ping_outstanding)
			ws_close(ws->conn, WS_CLOSE_GOING_AWAY, "keepalive timeout");
		else
		{
			ws_send_frame(ws->conn, WS_OP_PING, "", 0);
			ws->ping_outstanding = true;
			ws->last_seen = now;
		}
	}
}

/*
 * Closes a connection opened with a bearer token once the token has
 * expired (1008): what it subscribed to ends with its authority.  True when
 * it is closed for that.
 */
bool
ws_bearer_expired(Conn *conn, TimestampTz now)
{
	WsConn	   *ws = (WsConn *) conn->ws;

	if (ws->bearer_role == NULL || now < ws->bearer_expires)
		return false;
	if (!ws->closing)
		ws_close(conn, WS_CLOSE_POLICY, "the bearer token expired");
	return true;
}

/* Forgets an upgraded connection that is going away. */
void
ws_destroy(Conn *conn)
{
	WsConn	   *ws = (WsConn *) conn->ws;

	dispatch->ws_closed(conn);
	dlist_delete(&ws->node);
	ws_parser_free(&ws->parser);
	conn->ws = NULL;
}
