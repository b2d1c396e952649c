/*
 * primary_listen.h
 *		A standby's serving worker LISTENs on the primary for its clients'
 *		channels and hands each notification over once its own replay has
 *		passed the primary's WAL position read after it.
 */
#ifndef PG_DASH_PRIMARY_LISTEN_H
#define PG_DASH_PRIMARY_LISTEN_H

#include "nodes/pg_list.h"

/* pg_dash.replay_wait: longest a notification waits for the replay (ms). */
extern int	primary_listen_replay_wait;

extern void primary_listen_define_gucs(void);

/* The worker listens (locally) on a channel / no longer does: mirror it on the primary. */
extern void primary_listen_want(const char *channel);
extern void primary_listen_unwant(const char *channel);

/*
 * Advances the link (connects, LISTENs, reads notifications and WAL
 * positions) and returns, in order, the notifications (Notification *, in
 * the current memory context) whose replay is done or waited too long.
 * NIL on a primary.
 */
extern List *primary_listen_collect(void);

/*
 * Whether notifications may have been lost since the last call (the link
 * broke or came back), and whether one was handed over before its replay
 * (after pg_dash.replay_wait); both are reset by the call.  *lag_ms: how
 * far behind that one was.
 */
extern bool primary_listen_take_missed(void);
extern bool primary_listen_take_lagging(int *lag_ms);

/* For /healthz: whether the link is connected (and configured). */
extern bool primary_listen_connected(void);

#endif							/* PG_DASH_PRIMARY_LISTEN_H */
