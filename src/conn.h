/*
 * conn.h
 *		A client connection: HTTP/1.1 requests in, an output queue out.
 */
#ifndef PG_DASH_CONN_H
#define PG_DASH_CONN_H

#include "lib/ilist.h"

#include "http_parser.h"

struct lws;
struct Conn;

/*
 * Fills the output queue of a streamed response a piece at a time; called
 * whenever the queue has drained below conn_low_water.  Returns false once
 * the response is complete.  Runs outside any PG_TRY of the caller: it must
 * catch its own errors.
 */
typedef bool (*ConnProducer) (struct Conn *conn, void *arg);

/* Called when the connection goes away while a producer is active. */
typedef void (*ConnProducerCleanup) (struct Conn *conn, void *arg);

typedef struct OutChunk
{
	struct OutChunk *next;
	size_t		len;
	size_t		off;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} OutChunk;

typedef enum ConnState
{
	CONN_HTTP,					/* reading and answering HTTP requests */
	CONN_WEBSOCKET,				/* upgraded; frames handled by ws.c */
	CONN_DRAINING				/* output sent, discarding input until close */
} ConnState;

typedef struct Conn
{
	dlist_node	node;			/* in server_connections */
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
} Conn;

/* The output queue is refilled by a producer below this many bytes. */
#define CONN_LOW_WATER (64 * 1024)

extern Conn *conn_create(int fd);
extern void conn_opened(Conn *conn);
extern void conn_destroy(Conn *conn);
extern int	conn_on_read(Conn *conn, const char *data, size_t len);
extern int	conn_on_writeable(Conn *conn);
extern void conn_write(Conn *conn, const char *data, size_t len);
extern void conn_close_when_flushed(Conn *conn);
extern void conn_set_producer(Conn *conn, ConnProducer producer,
							  ConnProducerCleanup cleanup, void *arg);
extern void conn_close_all_for_shutdown(void);
extern void conn_reload(void);
extern void conn_publish_counts(void);

#endif							/* PG_DASH_CONN_H */
