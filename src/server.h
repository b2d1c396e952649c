/*
 * server.h
 *		The libwebsockets event loop of a worker.
 */
#ifndef PG_DASH_SERVER_H
#define PG_DASH_SERVER_H

#include "lib/ilist.h"

extern void server_start(int wake_fd);
extern void server_service(void);
extern void server_reload(void);
extern void server_wake_after(int ms);
extern void *server_watch_readable(int fd);
extern void server_unwatch(void *handle);

#endif							/* PG_DASH_SERVER_H */
