/*
 * conn.h
 *		A client connection: HTTP/1.1 requests in, an output queue out.
 */
#ifndef PG_DASH_CONN_H
#define PG_DASH_CONN_H

#include "lib/ilist.h"

#include "http_parser.h"
#include "transport.h"

struct lws;
struct sockaddr;
struct Conn;
struct ConnTimer;

/*
 * Fills the output queue of a streamed response a piece at a time; called
 * whenever the queue has drained below conn_low_water.  Returns false once
 * the response is complete.  Runs outside any PG_TRY of the caller: it must
 * catch its own errors.
 */
typedef bool (*ConnProducer) (struct Conn *conn, void *arg);

/* Called when the connection goes away while a producer is active. */
typedef void (*ConnProducerCleanup) (struct Conn *conn, void *arg);

/*
 * Bytes queued for many connections at once (a notification's WebSocket
 * frame, built once for all its subscribers): each queue holds a reference,
 * and the last one done frees it.  One process only; no locking.
 */
typedef struct ConnShared
{
	int			refs;
	size_t		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} ConnShared;

/*
 * A piece of queued output: bytes of its own (data), or a reference to
 * shared bytes.  bytes points at whichever it is.
 */
typedef struct OutChunk
{
	struct OutChunk *next;
	size_t		len;
	size_t		off;
	const char *bytes;
	ConnShared *shared;			/* NULL when the bytes are in data */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} OutChunk;

/*
 * A client's address as the per-address limits count it: an IPv4 address,
 * or the /64 prefix of an IPv6 one (what one subscriber is given).
 */
typedef struct ConnPeer
{
	uint8		family;			/* AF_INET or AF_INET6; 0 when unknown */
	uint8		addr[16];		/* 4 bytes for IPv4, 8 for IPv6, rest zero */
} ConnPeer;

typedef enum ConnState
{
	CONN_HTTP,					/* reading and answering HTTP requests */
	CONN_WEBSOCKET,				/* upgraded; frames handled by ws.c */
	CONN_DRAINING				/* output sent, discarding input until close */
} ConnState;

typedef struct Conn
{
	dlist_node	node;			/* in conn_all */
	struct lws *wsi;
	int			fd;
	MemoryContext ctx;			/* lives as long as the connection */
	ConnState	state;
	HttpParser	http;
	OutChunk   *out_head;
	OutChunk   *out_tail;
	size_t		out_bytes;		/* bytes queued and not yet written */
	bool		close_when_flushed;
	ConnProducer producer;
	ConnProducerCleanup producer_cleanup;
	void	   *producer_arg;
	void	   *ws;				/* WebSocket state once upgraded */
	uint64		requests;
	int			last_status;	/* status of the latest response */
	bool		sent_continue;	/* 100 Continue sent for the current request */
	bool		producer_waiting;	/* the producer has nothing now and asks
									 * for a writeable callback when it has */
	bool		producer_reads; /* the socket is read while it produces */
	void		(*sink) (struct Conn *conn);	/* a connection with no socket
												 * (an executor's) hands on
												 * what is written at once */
	ConnPeer	peer;
	ConnTransport transport;
	struct StringInfoData *proxy_bytes;	/* a PROXY header read so far */
	bool		peer_counted;	/* counted by guard.c's per-address limits */
	bool		read_paused;	/* socket not read: a producer streams, or
								 * the output queue is over its bound */
	bool		head_started;	/* bytes of the current request head came */
	struct ConnTimer *head_timer;	/* the request head's deadline, and the
									 * lingering close's wait */
	bool		writable_asked; /* a writeable callback is requested */
	bool		flush_pending;	/* in the list conn_flush_now() writes */
	dlist_node	flush_node;
} Conn;

/* Bytes of further requests read while a reading producer runs. */
#define CONN_MAX_WAITING_INPUT (64 * 1024)

/* The most written to the socket in one writeable callback. */
#define CONN_WRITE_MAX (64 * 1024)

/* The output queue is refilled by a producer below this many bytes. */
#define CONN_LOW_WATER (64 * 1024)

/* Every open client connection of this worker, and how many there are. */
extern dlist_head conn_all;
extern int	conn_count;

extern Conn *conn_create(int fd, const struct sockaddr *addr);
extern void conn_opened(Conn *conn);
extern void conn_destroy(Conn *conn);
extern int	conn_on_read(Conn *conn, const char *data, size_t len);
extern int	conn_on_writeable(Conn *conn);
extern void conn_write(Conn *conn, const char *data, size_t len);
extern void conn_write_whole(Conn *conn, const char *head, size_t head_len,
							 const char *data, size_t len);
extern ConnShared *conn_shared_create(const char *head, size_t head_len,
									  const char *data, size_t len);
extern void conn_shared_release(ConnShared *shared);
extern void conn_write_shared(Conn *conn, ConnShared *shared);
extern void conn_flush_now(void);
extern void conn_drop_unstarted(Conn *conn);
extern void conn_close_when_flushed(Conn *conn);
/*
 * Installs a producer that streams the rest of a response.  reads: the
 * socket stays read meanwhile (up to CONN_MAX_WAITING_INPUT bytes of
 * further requests), so that a client that goes away is noticed at once.
 */
extern void conn_set_producer(Conn *conn, ConnProducer producer,
							  ConnProducerCleanup cleanup, void *arg, bool reads);
extern void conn_close_all_for_shutdown(void);
extern void conn_reload(void);
extern void conn_publish_counts(void);
extern char *conn_peer_text(const ConnPeer *peer);

#endif							/* PG_DASH_CONN_H */
