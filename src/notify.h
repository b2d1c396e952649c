/*
 * notify.h
 *		Receiving NOTIFY inside a worker.
 */
#ifndef PG_DASH_NOTIFY_H
#define PG_DASH_NOTIFY_H

#include "nodes/pg_list.h"

/* One notification received. */
typedef struct Notification
{
	char	   *channel;
	char	   *payload;
	int32		pid;
} Notification;

extern void notify_listen(const char *channel);
extern void notify_unlisten(const char *channel);
extern List *notify_collect(void);

#endif							/* PG_DASH_NOTIFY_H */
