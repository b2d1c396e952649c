/*
 * replica_ws.h
 *		What a hot standby's WebSocket clients are told about the link that
 *		relays the primary's notifications.
 */
#ifndef PG_DASH_REPLICA_WS_H
#define PG_DASH_REPLICA_WS_H

/* After each pass of the loop: "missed" and "lagging" frames when due. */
extern void replica_ws_upkeep(void);

#endif							/* PG_DASH_REPLICA_WS_H */
