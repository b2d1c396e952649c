/*
 * ws.h
 *		WebSocket connections at /ws: handshake, frames, JSON messages.
 */
#ifndef PG_DASH_WS_H
#define PG_DASH_WS_H

#include "datatype/timestamp.h"
#include "lib/ilist.h"
#include "nodes/pg_list.h"

#include "conn.h"
#include "ws_frame.h"

struct cJSON;

/* The WebSocket state of an upgraded connection, in its memory context. */
typedef struct WsConn
{
	dlist_node	node;			/* in ws_connections */
	Conn	   *conn;
	WsParser	parser;
	TimestampTz last_seen;		/* last bytes received */
	bool		ping_outstanding;
	bool		closing;		/* close frame queued */
	List	   *channels;		/* subscribed channel names (char *) */
	List	   *watches;		/* live queries (realtime.c) */
	char	   *session;		/* session id (hex SHA-256) from the cookie, or NULL */
	char	   *bearer_role;	/* the role of the handshake's bearer token, or NULL */
	TimestampTz bearer_expires; /* when that token stops being accepted */
	uint64		serial;			/* unique in this worker: finds the connection again */
} WsConn;

/* Every upgraded connection of this worker. */
extern dlist_head ws_connections;

extern void ws_upgrade(Conn *conn, HttpRequest *req);
extern int	ws_on_read(Conn *conn, const char *data, size_t len);
extern void ws_shutdown(Conn *conn);
extern bool ws_can_send(Conn *conn);
extern void ws_send_text(Conn *conn, const char *data, size_t len);
extern ConnShared *ws_frame_shared(const char *data, size_t len);
extern bool ws_send_shared(Conn *conn, ConnShared *frame);
extern void ws_send_json(Conn *conn, struct cJSON *msg);
extern void ws_send_ack(Conn *conn, const char *type, const char *field, const char *value);
extern void ws_send_error(Conn *conn, const char *id, const char *code,
						  const char *message, const char *detail, const char *hint);
extern void ws_close(Conn *conn, int code, const char *reason);
extern bool ws_bearer_expired(Conn *conn, TimestampTz now);
extern void ws_tick(void);
extern void ws_destroy(Conn *conn);

#endif							/* PG_DASH_WS_H */
