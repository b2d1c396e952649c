/*
 * listener.c
 *		Opens the listening sockets of a worker and accepts connections.
 *
 * Every worker opens its own sockets on the same port with SO_REUSEPORT, and
 * the kernel spreads new connections over them.  libwebsockets 4.1.6 only
 * sets SO_REUSEPORT for multi-threaded contexts, so the worker opens the
 * sockets itself and hands them to lws (see docs/architecture.md).
 */
#include "postgres.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "utils/builtins.h"
#include "utils/varlena.h"

#include "listener.h"

/*
 * Opens one non-blocking listening socket for an address; -1 with a LOG
 * message when it cannot.
 */
static int
listener_open_one(struct addrinfo *ai, const char *host, int port)
{
	int			fd;
	int			one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
	{
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("pg_dash could not create a socket for \"%s\": %m", host)));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
		(ai->ai_family == AF_INET6 &&
		 setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0))
	{
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("pg_dash could not set socket options for \"%s\": %m", host)));
		close(fd);
		return -1;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0)
	{
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("pg_dash could not listen on \"%s\" port %d: %m", host, port),
				 errhint("Is another server using port %d? Change pg_dash.port.", port)));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Opens a listening socket for every address of every host in the
 * comma-separated list ("*" means all interfaces).  Returns how many were
 * opened; the caller treats zero as fatal.
 */
int
listener_open_all(const char *addresses, int port, int *fds, int max_fds)
{
	char	   *raw = pstrdup(addresses);
	List	   *hosts;
	ListCell   *lc;
	int			n = 0;
	char		port_str[16];

	if (!SplitGUCList(raw, ',', &hosts))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in pg_dash.listen_addresses")));

	snprintf(port_str, sizeof(port_str), "%d", port);
	foreach(lc, hosts)
	{
		char	   *host = (char *) lfirst(lc);
		struct addrinfo hints;
		struct addrinfo *res;
		struct addrinfo *ai;
		int			rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port_str, &hints, &res);
		if (rc != 0)
		{
			ereport(LOG,
					(errmsg("pg_dash could not resolve \"%s\": %s", host, gai_strerror(rc))));
			continue;
		}
		for (ai = res; ai != NULL && n < max_fds; ai = ai->ai_next)
		{
			int			fd;

			if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
				continue;
			fd = listener_open_one(ai, host, port);
			if (fd >= 0)
				fds[n++] = fd;
		}
		freeaddrinfo(res);
	}
	list_free(hosts);
	pfree(raw);
	return n;
}

/*
 * Accepts one pending connection as a non-blocking socket with TCP_NODELAY
 * (lws does not apply its socket options to adopted sockets), storing the
 * client's address in addr.  Returns -1 when nothing is pending.
 */
int
listener_accept(int listen_fd, struct sockaddr_storage *addr)
{
	int			fd;
	int			one = 1;
	socklen_t	addr_len;

	for (;;)
	{
		addr_len = sizeof(*addr);
		memset(addr, 0, sizeof(*addr));
		fd = accept4(listen_fd, (struct sockaddr *) addr, &addr_len,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			ereport(LOG,
					(errcode_for_socket_access(),
					 errmsg("pg_dash could not accept a connection: %m")));
		return -1;
	}
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * Claims pg_dash.port for this cluster, in the postmaster.  Workers share
 * the port with SO_REUSEPORT, which would just as silently let a second
 * cluster of the same OS user join and take half the connections.  An
 * exclusive flock on /tmp/.pg_dash.<port>.lock, held by the postmaster for
 * its lifetime (the kernel drops it when the process ends), tells the
 * clusters apart.  Returns false, after a WARNING, when another running
 * cluster holds the port.
 */
bool
listener_claim_port(int port)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "/tmp/.pg_dash.%d.lock", port);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return true;			/* another OS user's file: the kernel keeps
								 * their sockets apart from ours anyway */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
	{
		close(fd);
		ereport(WARNING,
				(errmsg("pg_dash.port %d is already used by another PostgreSQL cluster; pg_dash will not start here", port),
				 errdetail("Another running postmaster holds %s.", path),
				 errhint("Give each cluster its own pg_dash.port.")));
		return false;
	}
	/* kept open, and locked, until the postmaster exits */
	return true;
}
