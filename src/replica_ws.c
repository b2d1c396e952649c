/*
 * replica_ws.c
 *		What a hot standby's WebSocket clients are told about the link that
 *		relays the primary's notifications (primary_listen.c).
 *
 * The link broke or came back: notifications may have been lost, so the
 * clients get the "missed" frame (as when the local path fails) and re-read
 * what they show.  A notification handed over before the standby replayed
 * its commit (it waited pg_dash.replay_wait): the clients that subscribe
 * to channels or run live queries get {"type":"lagging","ms":N}, N the
 * longest such wait, since what they re-read may predate the notification.
 */
#include "postgres.h"

#include "lib/ilist.h"

#include "primary_listen.h"
#include "realtime.h"
#include "replica_ws.h"
#include "ws.h"

/* Sends {"type":"lagging","ms":N} to every client that follows something. */
static void
replica_ws_report_lagging(int ms)
{
	dlist_iter	iter;
	char		msg[64];
	int			len = snprintf(msg, sizeof(msg), "{\"type\":\"lagging\",\"ms\":%d}", ms);

	dlist_foreach(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);

		if ((ws->channels != NIL || ws->watches != NIL) && !ws->closing)
			ws_send_text(ws->conn, msg, len);
	}
}

/* After each pass of the loop: "missed" and "lagging" frames when due. */
void
replica_ws_upkeep(void)
{
	int			ms;

	if (primary_listen_take_missed())
		realtime_report_missed();
	if (primary_listen_take_lagging(&ms))
		replica_ws_report_lagging(ms);
}
