/*
 * realtime.h
 *		WebSocket messages: channels, notifications, live queries.
 */
#ifndef PG_DASH_REALTIME_H
#define PG_DASH_REALTIME_H

#include "conn.h"

struct cJSON;

#define REALTIME_MESSAGE_TYPES "ping, subscribe, unsubscribe, query, watch, unwatch, page"

extern void realtime_opened(Conn *conn, HttpRequest *req);
extern void realtime_dispatch(Conn *conn, const char *type, struct cJSON *msg);
extern void realtime_forget(Conn *conn);
extern void realtime_deliver_notifications(void);
extern void realtime_run_dirty_watches(void);
extern void realtime_init(void);
extern void realtime_report_missed(void);

#endif							/* PG_DASH_REALTIME_H */
