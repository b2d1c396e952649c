/*
 * server.c
 *		The libwebsockets context of a worker and the descriptors it watches.
 *
 * lws is used as an event loop only: every client socket is adopted as a raw
 * socket, and conn.c speaks HTTP/1.1 and WebSocket over it with the parsers
 * in src/lib.  That gives pg_dash control over what lws 4.1.6 does not offer:
 * answering 414/431/413 instead of dropping the connection, keep-alive
 * streaming with our own framing, and bounded output queues.
 *
 * Besides client sockets the loop watches, each adopted as a raw file
 * descriptor: the listening sockets, an eventfd written by the signal
 * handlers, and a dup of the postmaster-death pipe.  lws closes what it
 * adopts, so it gets dups of descriptors that PostgreSQL owns.
 */
#include "postgres.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"

#include "conn.h"
#include "dispatch.h"
#include "guard.h"
#include "guc.h"
#include "listener.h"
#include "server.h"
#include "worker_state.h"
#include "tls.h"
#include "transport.h"
#include "ws.h"

/* What a watched descriptor is; stored as the wsi's opaque user data. */
typedef enum WatchKind
{
	WATCH_LISTENER,
	WATCH_LISTENER_TLS,
	WATCH_LISTENER_REDIRECT,
	WATCH_WAKE,
	WATCH_POSTMASTER_DEATH,
	WATCH_READABLE				/* ends the pass: upkeep reads it */
} WatchKind;

static const WatchKind watch_readable = WATCH_READABLE;
static const WatchKind watch_listener = WATCH_LISTENER;
static const WatchKind watch_listener_tls = WATCH_LISTENER_TLS;
static const WatchKind watch_listener_redirect = WATCH_LISTENER_REDIRECT;
static const WatchKind watch_wake = WATCH_WAKE;
static const WatchKind watch_postmaster_death = WATCH_POSTMASTER_DEATH;


static struct lws_context *server_context = NULL;
static struct lws_vhost *server_vhost = NULL;
static struct lws_vhost *server_vhost_tls = NULL;	/* pg_dash.ssl (tls.c) */
static int	server_wake_fd = -1;
static int	listen_fds[LISTENER_MAX_SOCKETS];
static int	listen_count = 0;
static Conn *server_adopting = NULL;	/* the connection lws is adopting */
static lws_sorted_usec_list_t tick_timer;
static lws_sorted_usec_list_t wake_timer;

static void server_tick(lws_sorted_usec_list_t *sul);
static int	server_callback(struct lws *wsi, enum lws_callback_reasons reason,
							void *user, void *in, size_t len);

/*
 * tx_packet_size: lws hands at most this much to one send() and keeps the
 * rest of a write in its own buffer, which it drains one such piece per
 * pass of the loop without reading the socket meanwhile.  Its default is
 * 4 kB; conn.c writes up to CONN_WRITE_MAX at a time, so a piece that fits
 * the socket goes out whole, and lws buffers only what the socket did not
 * take (which lws_send_pipe_choked() then reports as a full socket).
 */
static const struct lws_protocols server_protocols[] = {
	{"pg_dash", server_callback, 0, 0, 0, NULL, CONN_WRITE_MAX},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* Sends lws's own errors and warnings to the server log. */
static void
server_lws_log(int level, const char *line)
{
	int			n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	ereport(LOG, (errmsg("pg_dash worker %d: libwebsockets: %.*s", worker_number, n, line)));
}

/*
 * Adopts a descriptor that lws only watches for readability; NULL on
 * failure (lws has then closed it).
 */
static struct lws *
server_adopt_fd(int fd, const WatchKind *kind)
{
	lws_adopt_desc_t desc;

	memset(&desc, 0, sizeof(desc));
	desc.vh = server_vhost;
	desc.type = LWS_ADOPT_RAW_FILE_DESC;
	desc.fd.filefd = fd;
	desc.vh_prot_name = "pg_dash";
	desc.opaque = (void *) kind;
	return lws_adopt_descriptor_vhost_via_info(&desc);
}

/* Adopts one of the worker's own descriptors; the worker cannot run without it. */
static void
server_watch_fd(int fd, const WatchKind *kind)
{
	if (server_adopt_fd(fd, kind) == NULL)
		ereport(FATAL,
				(errmsg("pg_dash worker %d could not watch descriptor %d", worker_number, fd)));
}

/* Sends a 1001 close to WebSocket clients and frees lws at exit. */
static void
server_shutdown(int code, Datum arg)
{
	conn_close_all_for_shutdown();
	if (server_context)
	{
		lws_context_destroy(server_context);
		server_context = NULL;
	}
}

/*
 * Opens the listening sockets of one port and adopts them as descriptors of
 * the given kind; FATAL when none could be opened.
 */
static void
server_listen(int port, const WatchKind *kind)
{
	int			n;

	n = listener_open_all(pg_dash_listen_addresses, port, listen_fds + listen_count,
						  LISTENER_MAX_SOCKETS - listen_count);
	if (n == 0)
		ereport(FATAL,
				(errmsg("pg_dash worker %d could not listen on any of \"%s\" port %d",
						worker_number, pg_dash_listen_addresses, port),
				 errhint("Check pg_dash.listen_addresses and pg_dash.port (pg_dash.ssl_port, pg_dash.redirect_port).")));
	for (int i = listen_count; i < listen_count + n; i++)
		server_watch_fd(listen_fds[i], kind);
	listen_count += n;
}

/*
 * Creates the lws context, opens the listening sockets and adopts every
 * descriptor the loop watches.  With pg_dash.ssl a second vhost serves TLS:
 * lws creates its OpenSSL context without certificate paths and hands it to
 * tls_setup_context() (server_callback), which loads them.
 */
void
server_start(int wake_fd)
{
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR, server_lws_log);
	guard_reload();
	transport_reload();

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = server_protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (pg_dash_ssl)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.vhost_name = "pg_dash";

	server_context = lws_create_context(&info);
	if (server_context == NULL)
		ereport(FATAL,
				(errmsg("pg_dash worker %d could not create its libwebsockets context", worker_number)));
	info.options &= ~LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	server_vhost = lws_create_vhost(server_context, &info);
	if (server_vhost == NULL)
		ereport(FATAL,
				(errmsg("pg_dash worker %d could not create its libwebsockets vhost", worker_number)));
	if (pg_dash_ssl)
	{
		/* a server vhost without a listener of its own: its sockets are adopted */
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info.vhost_name = "pg_dash-tls";
		/* lws would offer h2 by default; conn.c speaks HTTP/1.1 */
		info.alpn = "http/1.1";
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
			LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
		server_vhost_tls = lws_create_vhost(server_context, &info);
		if (server_vhost_tls == NULL)
			ereport(FATAL,
					(errmsg("pg_dash worker %d could not create its TLS vhost", worker_number)));
	}
	before_shmem_exit(server_shutdown, (Datum) 0);

	listen_count = 0;
	if (tls_plain_port_open())
		server_listen(pg_dash_port, &watch_listener);
	if (pg_dash_ssl)
		server_listen(tls_https_port(), &watch_listener_tls);
	if (tls_redirect_port() > 0)
		server_listen(tls_redirect_port(), &watch_listener_redirect);

	server_wake_fd = wake_fd;
	server_watch_fd(dup(wake_fd), &watch_wake);
	server_watch_fd(dup(postmaster_alive_fds[POSTMASTER_FD_WATCH]), &watch_postmaster_death);

	memset(&tick_timer, 0, sizeof(tick_timer));
	memset(&wake_timer, 0, sizeof(wake_timer));
	lws_sul_schedule(server_context, 0, &tick_timer, server_tick, LWS_US_PER_SEC);
}

/*
 * Once a second: WebSocket keepalive and bearer token expiry, publishing
 * this worker's connection counts, forgetting idle client addresses, and
 * the dispatch's own upkeep (download deadlines, the session sweep).
 */
static void
server_tick(lws_sorted_usec_list_t *sul)
{
	ws_tick();
	conn_publish_counts();
	guard_tick();
	dispatch->tick();
	lws_sul_schedule(server_context, 0, &tick_timer, server_tick, LWS_US_PER_SEC);
}

/*
 * Has the loop end its pass when a descriptor that the worker's upkeep reads
 * (a libpq connection's socket) becomes readable; returns a handle for
 * server_unwatch(), or NULL outside a serving worker or on failure.  lws
 * watches a dup, so the caller keeps and closes its own descriptor.
 */
void *
server_watch_readable(int fd)
{
	int			copy;

	if (server_context == NULL || fd < 0 || (copy = dup(fd)) < 0)
		return NULL;
	return server_adopt_fd(copy, &watch_readable);
}

/* Stops watching a descriptor of server_watch_readable() (lws closes its dup). */
void
server_unwatch(void *handle)
{
	if (handle != NULL && server_context != NULL)
		lws_set_timeout((struct lws *) handle, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* When the wake timer is due (lws_now_usecs() time), or 0 when it is not set. */
static lws_usec_t wake_due = 0;

/*
 * The wake timer is due: makes the loop end its pass so that upkeep runs.
 * lws may run a ripe timer at the start of lws_service(), before it polls
 * until the next timer, so the eventfd is written: the poll returns at once.
 */
static void
server_wake_timer(lws_sorted_usec_list_t *sul)
{
	wake_due = 0;
	if (server_wake_fd >= 0)
		(void) eventfd_write(server_wake_fd, 1);
}

/*
 * Has the event loop return within ms milliseconds even when idle.  A wake
 * already due sooner is kept: callers ask independently of one another.
 */
void
server_wake_after(int ms)
{
	lws_usec_t	due;

	if (server_context == NULL)
		return;					/* an executor: its loop wakes every second */
	due = lws_now_usecs() + (lws_usec_t) ms * LWS_US_PER_MS;
	if (wake_due != 0 && wake_due <= due)
		return;
	wake_due = due;
	lws_sul_schedule(server_context, 0, &wake_timer, server_wake_timer,
					 (lws_usec_t) ms * LWS_US_PER_MS);
}

/* Runs one pass of the event loop: waits for activity and handles it. */
void
server_service(void)
{
	(void) lws_service(server_context, 0);
}

/* Applies reloaded settings to open connections. */
void
server_reload(void)
{
	guard_reload();
	transport_reload();
	tls_reload();
	conn_reload();
}

/*
 * Accepts every pending connection of a listening socket of the given kind;
 * TLS connections are adopted on the TLS vhost, which wraps them in
 * OpenSSL before any byte reaches conn.c.
 */
static void
server_accept_all(struct lws *listener_wsi, const WatchKind *kind)
{
	int			listen_fd = lws_get_socket_fd(listener_wsi);
	int			fd;
	struct sockaddr_storage addr;
	bool		tls = kind == &watch_listener_tls;

	while ((fd = listener_accept(listen_fd, &addr)) >= 0)
	{
		Conn	   *conn = conn_create(fd, (struct sockaddr *) &addr);
		lws_adopt_desc_t desc;

		transport_accept(&conn->transport, (struct sockaddr *) &addr, tls, kind == &watch_listener_redirect);
		memset(&desc, 0, sizeof(desc));
		desc.vh = tls ? server_vhost_tls : server_vhost;
		desc.type = tls ? LWS_ADOPT_SOCKET | LWS_ADOPT_ALLOW_SSL : LWS_ADOPT_SOCKET;
		desc.fd.sockfd = fd;
		desc.vh_prot_name = "pg_dash";
		desc.opaque = conn;
		server_adopting = conn;
		conn->wsi = lws_adopt_descriptor_vhost_via_info(&desc);
		server_adopting = NULL;
		if (conn->wsi == NULL)
		{
			/* lws closed the socket already */
			conn_destroy(conn);
			continue;
		}
		conn_opened(conn);
	}
}

/* True for the descriptors the loop watches that are not connections. */
static bool
server_is_watch(struct lws *wsi)
{
	const void *opaque = lws_get_opaque_user_data(wsi);

	return opaque == &watch_listener || opaque == &watch_listener_tls ||
		opaque == &watch_listener_redirect || opaque == &watch_wake ||
		opaque == &watch_postmaster_death || opaque == &watch_readable;
}

/*
 * The single lws callback: dispatches descriptor events to the listener,
 * the wake-up and death watches, and the connections.
 */
static int
server_callback(struct lws *wsi, enum lws_callback_reasons reason,
				void *user, void *in, size_t len)
{
	const WatchKind *kind;
	Conn	   *conn;
	eventfd_t	value;

	switch (reason)
	{
		case LWS_CALLBACK_RAW_RX_FILE:
			kind = (const WatchKind *) lws_get_opaque_user_data(wsi);
			if (kind == &watch_listener || kind == &watch_listener_tls ||
				kind == &watch_listener_redirect)
				server_accept_all(wsi, kind);
			else if (kind == &watch_wake)
				(void) eventfd_read(lws_get_socket_fd(wsi), &value);
			else if (kind == &watch_postmaster_death)
				proc_exit(1);
			return 0;

		case LWS_CALLBACK_RAW_RX:
			conn = (Conn *) lws_get_opaque_user_data(wsi);
			return conn ? conn_on_read(conn, (const char *) in, len) : -1;

		case LWS_CALLBACK_RAW_WRITEABLE:
			conn = (Conn *) lws_get_opaque_user_data(wsi);
			return conn ? conn_on_writeable(conn) : -1;

		case LWS_CALLBACK_RAW_CLOSE:
		case LWS_CALLBACK_WSI_DESTROY:

			/*
			 * A TLS connection whose handshake failed may be freed
			 * without RAW_CLOSE: its Conn (and its timers) must go too.
			 */
			if (server_is_watch(wsi))
				return 0;
			conn = (Conn *) lws_get_opaque_user_data(wsi);
			if (conn)
			{
				lws_set_opaque_user_data(wsi, NULL);
				conn->wsi = NULL;
				/* a failed adoption: server_accept_all frees it */
				if (conn != server_adopting)
					conn_destroy(conn);
			}
			return 0;

		case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
			/* the TLS vhost's SSL_CTX, while lws creates it */
			tls_setup_context(user);
			return 0;

		default:
			return 0;
	}
}
