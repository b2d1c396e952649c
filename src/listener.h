/*
 * listener.h
 *		The listening sockets of one worker.
 */
#ifndef PG_DASH_LISTENER_H
#define PG_DASH_LISTENER_H

#include <sys/socket.h>

#define LISTENER_MAX_SOCKETS 16

extern int	listener_open_all(const char *addresses, int port, int *fds, int max_fds);
extern int	listener_accept(int listen_fd, struct sockaddr_storage *addr);
extern bool listener_claim_port(int port);

#endif							/* PG_DASH_LISTENER_H */
