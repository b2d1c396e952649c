/*
 * server.h
 *		The libwebsockets event loop of a worker.
 */
#ifndef PG_DASH_SERVER_H
#define PG_DASH_SERVER_H

#include "lib/ilist.h"

/* Every open client connection of this worker. */
extern dlist_head server_connections;
extern int	server_connection_count;

extern void server_start(int wake_fd);
extern void server_service(void);
extern void server_reload(void);
extern void server_wake_after(int ms);

#endif							/* PG_DASH_SERVER_H */
