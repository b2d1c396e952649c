/*
 * conn.c
 *		Client connections: parsing HTTP requests, dispatching them, and the
 *		bounded output queue written as the socket accepts it.
 *
 * Every connection owns a memory context that holds its output queue and
 * whatever a streamed response keeps between batches.  Handlers run in the
 * worker's request context, reset after each request.  A request handler
 * that raises an error is caught here: the client gets a JSON 500 and the
 * worker carries on.
 *
 * Every byte goes through lws (lws_write), so that TLS can sit underneath;
 * nothing here sends, polls or shuts down the socket itself.  Output is
 * written from the writeable callback, up to CONN_WRITE_MAX per call (small
 * chunks gathered into one lws_write), from conn_flush_now() right after a
 * fan-out, and at worker exit all at once; the first two only when lws
 * holds nothing of the connection, so lws never buffers more than one write
 * of ours.  A fan-out's frame is shared by the queues of its clients
 * (ConnShared).  A streamed response
 * (ConnProducer) is refilled when the queue runs low, which is how a slow
 * client slows the producer instead of growing the worker's memory.  For
 * the same reason a connection is not read while a producer streams or
 * while more than pg_dash.http_max_queue of output waits for the client: a
 * client that pipelines requests without reading the answers is slowed by
 * TCP instead of having them all built in memory.
 *
 * A request's head (its line and headers) must arrive within
 * pg_dash.header_timeout of its first byte, or of the connection's opening
 * for the first request; bytes arriving do not extend it.  Between requests
 * pg_dash.idle_timeout applies.  Closing after an answer is a lingering
 * close (conn_linger_wait).
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "conn.h"
#include "proxy_protocol.h"
#include "dispatch.h"
#include "guard.h"
#include "guc.h"
#include "http_response.h"
#include "metrics.h"
#include "worker_state.h"
#include "transport.h"
#include "ws.h"

/*
 * A lingering close (see conn_linger_wait) waits at most this long after the
 * answer was written, and closes as soon as the client has sent nothing for
 * the quiet period.
 */
#define CONN_LINGER_MAX_US (1000 * 1000)
#define CONN_LINGER_QUIET_US (250 * 1000)

dlist_head	conn_all = DLIST_STATIC_INIT(conn_all);
int			conn_count = 0;

/* The connection's lws timers: the request head's deadline, the lingering close. */
typedef struct ConnTimer
{
	lws_sorted_usec_list_t sul;	/* the request head's deadline */
	Conn	   *conn;
	bool		armed;
	lws_sorted_usec_list_t linger;	/* the lingering close's wait */
	lws_usec_t	linger_end;		/* when the lingering close stops waiting */
} ConnTimer;

static void conn_process_requests(Conn *conn);
static void conn_chunk_free(OutChunk *chunk);

/* Starts (or restarts) the idle timer of a connection. */
static void
conn_touch(Conn *conn)
{
	if (conn->wsi && conn->state == CONN_HTTP)
		lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, pg_dash_idle_timeout);
}

/* Sets up the HTTP parser with the limits currently configured. */
static void
conn_init_parser(Conn *conn)
{
	HttpLimits	limits;

	limits.max_url = pg_dash_max_url_length;
	limits.max_header_bytes = pg_dash_max_header_size;
	limits.max_headers = 100;
	limits.max_body = pg_dash_max_body_size;
	http_parser_init(&conn->http, &limits);
}

/*
 * Records the client's address as the per-address limits count it: IPv4 as
 * it is (also when mapped into IPv6), IPv6 by its /64.
 */
static void
conn_set_peer(Conn *conn, const struct sockaddr *addr)
{
	int			family;
	uint8		bytes[16];

	if (!transport_sockaddr(addr, &family, bytes))
		return;
	conn->peer.family = family;
	memcpy(conn->peer.addr, bytes, family == AF_INET ? 4 : 8);
}

/* The address of a client as text ("192.0.2.1", "2001:db8::/64"), palloc'd. */
char *
conn_peer_text(const ConnPeer *peer)
{
	char		text[INET6_ADDRSTRLEN];

	if (peer->family == 0 ||
		inet_ntop(peer->family, peer->addr, text, sizeof(text)) == NULL)
		return pstrdup("an unknown address");
	return peer->family == AF_INET6 ? psprintf("%s/64", text) : pstrdup(text);
}

/* Allocates a connection for an accepted socket from addr (may be NULL). */
Conn *
conn_create(int fd, const struct sockaddr *addr)
{
	MemoryContext ctx;
	Conn	   *conn;

	ctx = AllocSetContextCreate(TopMemoryContext, "pg_dash connection",
								ALLOCSET_SMALL_SIZES);
	conn = MemoryContextAllocZero(ctx, sizeof(Conn));
	conn->ctx = ctx;
	conn->fd = fd;
	conn->state = CONN_HTTP;
	conn->head_timer = MemoryContextAllocZero(ctx, sizeof(ConnTimer));
	conn->head_timer->conn = conn;
	conn_set_peer(conn, addr);
	conn_init_parser(conn);
	return conn;
}

/* True when more output waits than pg_dash.http_max_queue allows. */
static bool
conn_output_full(Conn *conn)
{
	return conn->out_bytes > (size_t) pg_dash_http_max_queue;
}

/*
 * Reads the socket only while the connection can take requests: not while a
 * producer streams a response, nor while its queued output is over
 * pg_dash.http_max_queue.  TCP then holds back a client that sends faster
 * than it reads.
 */
static void
conn_update_reading(Conn *conn)
{
	bool		pause = conn->state == CONN_HTTP && !conn->close_when_flushed &&
		((conn->producer != NULL &&
		  (!conn->producer_reads || http_parser_buffered(&conn->http) > CONN_MAX_WAITING_INPUT)) ||
		 conn_output_full(conn));

	if (conn->wsi == NULL || pause == conn->read_paused)
		return;
	conn->read_paused = pause;
	lws_rx_flow_control(conn->wsi, pause ? 0 : 1);
	if (pause && conn->producer == NULL)
		metrics_count(METRIC_OUTPUT_PAUSES, 1);
}

/*
 * The request head's deadline passed: 408 and close when part of a request
 * came, a quiet close (as for an idle connection) when nothing did.
 */
static void
conn_head_timeout(lws_sorted_usec_list_t *sul)
{
	ConnTimer  *timer = lws_container_of(sul, ConnTimer, sul);
	Conn	   *conn = timer->conn;
	MemoryContext oldcxt;

	timer->armed = false;
	if (conn->wsi == NULL || conn->state != CONN_HTTP || conn->close_when_flushed)
		return;
	transport_enter(&conn->transport);
	metrics_count(METRIC_HEADER_TIMEOUTS, 1);
	if (!conn->head_started)
	{
		lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	oldcxt = MemoryContextSwitchTo(worker_request_context);
	http_reply_error(conn, NULL, 408, "request_timeout",
					 "request head not received in time",
					 psprintf("The request line and headers must arrive within %d seconds.",
							  pg_dash_header_timeout),
					 "Send the whole request head at once; pg_dash.header_timeout sets the limit.");
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/* Drops the request head's deadline: the head is complete, or not awaited. */
static void
conn_cancel_head_deadline(Conn *conn)
{
	if (conn->head_timer == NULL)
		return;					/* an executor's connection has no socket */
	if (conn->head_timer->armed)
		lws_sul_cancel(&conn->head_timer->sul);
	conn->head_timer->armed = false;
	conn->head_started = false;
}

/*
 * Keeps the request head's deadline in step with the connection: armed when
 * the connection opens and when the first byte of a request arrives, never
 * moved by later bytes, dropped once the head is complete.  A connection
 * that is not being read has no deadline.
 */
static void
conn_update_head_deadline(Conn *conn)
{
	ConnTimer  *timer = conn->head_timer;
	bool		pending = conn->wsi != NULL && conn->state == CONN_HTTP &&
		!conn->close_when_flushed && !conn->read_paused &&
		conn->http.state == HTTP_PARSE_INCOMPLETE && !conn->http.headers_done;

	if (!pending)
	{
		conn_cancel_head_deadline(conn);
		return;
	}
	if (http_parser_buffered(&conn->http) > 0)
		conn->head_started = true;
	if (!timer->armed && (conn->head_started || conn->requests == 0))
	{
		lws_sul_schedule(lws_get_context(conn->wsi), 0, &timer->sul, conn_head_timeout,
						 (lws_usec_t) pg_dash_header_timeout * LWS_US_PER_SEC);
		timer->armed = true;
	}
}

/*
 * Registers a connection once lws has adopted it; one over
 * pg_dash.max_connections is answered 503, one over its address's share
 * 429, and closed.
 */
void
conn_opened(Conn *conn)
{
	MemoryContext oldcxt;

	dlist_push_tail(&conn_all, &conn->node);
	conn_count++;
	metrics_count(METRIC_CONNECTIONS_ACCEPTED, 1);

	transport_enter(&conn->transport);
	oldcxt = MemoryContextSwitchTo(worker_request_context);
	if (conn_count > pg_dash_max_connections)
		http_reply_error(conn, NULL, 503, "too_many_connections",
						 "too many connections to this pg_dash worker",
						 psprintf("This worker already serves %d connections.", pg_dash_max_connections),
						 "Retry later, or raise pg_dash.max_connections or pg_dash.workers.");
	/* behind a PROXY header the client is known once it has come */
	else if (conn->transport.proxy_header || guard_admit_connection(conn))
	{
		conn_touch(conn);
		conn_update_head_deadline(conn);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/* Frees a connection after lws has closed its socket. */
void
conn_destroy(Conn *conn)
{
	lws_sul_cancel(&conn->head_timer->sul);
	lws_sul_cancel(&conn->head_timer->linger);
	guard_release_connection(conn);
	if (conn->producer_cleanup)
		conn->producer_cleanup(conn, conn->producer_arg);
	if (conn->ws)
		ws_destroy(conn);
	if (conn->flush_pending)
		dlist_delete(&conn->flush_node);
	/* shared bytes are not in the connection's context */
	while (conn->out_head != NULL)
	{
		OutChunk   *next = conn->out_head->next;

		conn_chunk_free(conn->out_head);
		conn->out_head = next;
	}
	if (conn->node.next != NULL)
	{
		dlist_delete(&conn->node);
		conn_count--;
	}
	http_parser_free(&conn->http);
	MemoryContextDelete(conn->ctx);
}

/* Queues bytes for the client; they are written when the socket allows. */
void
conn_write(Conn *conn, const char *data, size_t len)
{
	conn_write_whole(conn, NULL, 0, data, len);
}

/*
 * Asks lws for a writeable callback, once: lws's own call costs a pass over
 * its poll table entry each time, and a fan-out queues many frames per
 * connection between two callbacks.
 */
static void
conn_ask_writable(Conn *conn)
{
	if (conn->wsi == NULL || conn->writable_asked)
		return;
	conn->writable_asked = true;
	lws_callback_on_writable(conn->wsi);
}

/* Appends a chunk to the output queue. */
static void
conn_append(Conn *conn, OutChunk *chunk)
{
	chunk->next = NULL;
	chunk->off = 0;
	if (conn->out_tail)
		conn->out_tail->next = chunk;
	else
		conn->out_head = chunk;
	conn->out_tail = chunk;
	conn->out_bytes += chunk->len;
}

/*
 * Queues head then data as one piece of output, which is written whole or,
 * when a closing WebSocket drops what it has not started to write, dropped
 * whole: a frame's header never goes out without its payload.
 */
void
conn_write_whole(Conn *conn, const char *head, size_t head_len, const char *data, size_t len)
{
	OutChunk   *chunk;

	if (head_len + len == 0 || conn->state == CONN_DRAINING)
		return;
	chunk = MemoryContextAlloc(conn->ctx, offsetof(OutChunk, data) + head_len + len);
	chunk->len = head_len + len;
	chunk->bytes = chunk->data;
	chunk->shared = NULL;
	if (head_len > 0)
		memcpy(chunk->data, head, head_len);
	if (len > 0)
		memcpy(chunk->data + head_len, data, len);
	conn_append(conn, chunk);
	if (conn->sink)
		conn->sink(conn);
	conn_ask_writable(conn);
}

/*
 * Chunks that refer to shared bytes, kept for reuse: a fan-out queues one
 * per client and message, and taking them from here allocates nothing.
 * At most CONN_SPARE_CHUNKS are kept.
 */
#define CONN_SPARE_CHUNKS 65536
static OutChunk *spare_chunks = NULL;
static int	spare_count = 0;

/* Connections with shared output queued since the last conn_flush_now(). */
static dlist_head flush_list = DLIST_STATIC_INIT(flush_list);

/*
 * Copies head then data into new shared bytes, with one reference: the
 * caller's, given back with conn_shared_release() once it has queued them
 * for every connection.
 */
ConnShared *
conn_shared_create(const char *head, size_t head_len, const char *data, size_t len)
{
	ConnShared *shared = MemoryContextAlloc(TopMemoryContext,
											offsetof(ConnShared, data) + head_len + len);

	shared->refs = 1;
	shared->len = head_len + len;
	if (head_len > 0)
		memcpy(shared->data, head, head_len);
	if (len > 0)
		memcpy(shared->data + head_len, data, len);
	return shared;
}

/* Drops one reference to shared bytes; the last one frees them. */
void
conn_shared_release(ConnShared *shared)
{
	Assert(shared->refs > 0);
	if (--shared->refs == 0)
		pfree(shared);
}

/* Frees a chunk taken off a queue (or keeps it for reuse). */
static void
conn_chunk_free(OutChunk *chunk)
{
	if (chunk->shared == NULL)
	{
		pfree(chunk);
		return;
	}
	conn_shared_release(chunk->shared);
	chunk->shared = NULL;
	if (spare_count >= CONN_SPARE_CHUNKS)
	{
		pfree(chunk);
		return;
	}
	chunk->next = spare_chunks;
	spare_chunks = chunk;
	spare_count++;
}

/*
 * Queues shared bytes for a client.  Nothing is copied, and nothing is
 * allocated once the worker has spare chunks; the connection is written by
 * the next conn_flush_now(), at most one system call for everything queued
 * since.
 */
void
conn_write_shared(Conn *conn, ConnShared *shared)
{
	OutChunk   *chunk;

	if (shared->len == 0 || conn->state == CONN_DRAINING)
		return;
	Assert(conn->sink == NULL);
	if (spare_chunks != NULL)
	{
		chunk = spare_chunks;
		spare_chunks = chunk->next;
		spare_count--;
	}
	else
		chunk = MemoryContextAlloc(TopMemoryContext, offsetof(OutChunk, data));
	shared->refs++;
	chunk->shared = shared;
	chunk->bytes = shared->data;
	chunk->len = shared->len;
	conn_append(conn, chunk);
	if (!conn->flush_pending && conn->wsi != NULL)
	{
		conn->flush_pending = true;
		dlist_push_tail(&flush_list, &conn->flush_node);
	}
}

/*
 * Takes n written bytes off the front of the queue, freeing the chunks
 * that are done.
 */
static void
conn_consume(Conn *conn, size_t n)
{
	conn->out_bytes -= n;
	while (n > 0)
	{
		OutChunk   *chunk = conn->out_head;
		size_t		take = Min(n, chunk->len - chunk->off);

		chunk->off += take;
		n -= take;
		if (chunk->off < chunk->len)
			break;
		conn->out_head = chunk->next;
		if (conn->out_head == NULL)
			conn->out_tail = NULL;
		conn_chunk_free(chunk);
	}
}

/*
 * Hands lws the front of the queue, up to CONN_WRITE_MAX bytes, in one
 * lws_write(): small chunks (a client's share of a burst of notifications)
 * are gathered into one buffer first, so that they cost one system call
 * instead of one each.  lws keeps what the socket did not take.  Returns
 * -1 when lws failed to write.
 */
static int
conn_send_queued(Conn *conn)
{
	static char gather[CONN_WRITE_MAX];
	OutChunk   *chunk = conn->out_head;
	const char *buf;
	size_t		n;

	if (chunk == NULL)
		return 0;
	n = Min(chunk->len - chunk->off, CONN_WRITE_MAX);
	if (n == CONN_WRITE_MAX || chunk->next == NULL)
		buf = chunk->bytes + chunk->off;
	else
	{
		size_t		off = chunk->off;

		n = 0;
		for (; chunk != NULL && n < CONN_WRITE_MAX; chunk = chunk->next, off = 0)
		{
			size_t		take = Min(chunk->len - off, CONN_WRITE_MAX - n);

			memcpy(gather + n, chunk->bytes + off, take);
			n += take;
		}
		buf = gather;
	}

	/*
	 * A raw socket has no framing role: lws writes buf as it is (or copies
	 * what the socket did not take), so no LWS_PRE headroom is needed.
	 */
	if (lws_write(conn->wsi, (unsigned char *) unconstify(char *, buf), n, LWS_WRITE_RAW) < 0)
		return -1;
	metrics_count(METRIC_BYTES_SENT, n);
	conn_consume(conn, n);
	return 0;
}

/*
 * Writes the connections that had shared output queued, at once instead of
 * on their next writeable callback: when lws holds nothing of theirs, the
 * socket most likely takes it all, and one send() per connection replaces
 * asking for POLLOUT, a pass of the loop and the callback.  What the socket
 * did not take lws keeps (at most CONN_WRITE_MAX, as from the callback);
 * the rest of the queue waits for the callback.
 */
void
conn_flush_now(void)
{
	while (!dlist_is_empty(&flush_list))
	{
		Conn	   *conn = dlist_container(Conn, flush_node, dlist_pop_head_node(&flush_list));

		conn->flush_pending = false;
		if (conn->out_head == NULL)
			continue;
		if (conn->state == CONN_WEBSOCKET && !conn->close_when_flushed &&
			!lws_partial_buffered(conn->wsi) && conn_send_queued(conn) < 0)
		{
			/* the socket failed: lws closes it on its next pass */
			lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			continue;
		}
		if (conn->out_head != NULL)
			conn_ask_writable(conn);
	}
}

/*
 * Drops the queued output that has not started to go out (a client being
 * closed for not reading would never get it); a partly written chunk stays,
 * since its end is needed to keep the framing.
 */
void
conn_drop_unstarted(Conn *conn)
{
	OutChunk   *keep = NULL;

	if (conn->out_head != NULL && conn->out_head->off > 0)
	{
		keep = conn->out_head;
		conn->out_head = keep->next;
		keep->next = NULL;
	}
	while (conn->out_head != NULL)
	{
		OutChunk   *next = conn->out_head->next;

		conn_chunk_free(conn->out_head);
		conn->out_head = next;
	}
	conn->out_head = conn->out_tail = keep;
	conn->out_bytes = keep ? keep->len - keep->off : 0;
}

/* Closes the connection once everything queued has been written. */
void
conn_close_when_flushed(Conn *conn)
{
	conn->close_when_flushed = true;
	conn_update_reading(conn);
	conn_ask_writable(conn);
}

/*
 * Installs a producer that streams the rest of a response; reading further
 * requests waits until it is done.
 */
void
conn_set_producer(Conn *conn, ConnProducer producer,
				  ConnProducerCleanup cleanup, void *arg, bool reads)
{
	conn->producer = producer;
	conn->producer_cleanup = cleanup;
	conn->producer_arg = arg;
	conn->producer_reads = reads;
	conn_update_reading(conn);
	conn_update_head_deadline(conn);
	conn_ask_writable(conn);
}

/*
 * Runs a request handler in the request context and turns any error it
 * raises into a JSON 500, aborting the transaction it left open.
 */
static void
conn_dispatch(Conn *conn, HttpRequest *req)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);
	instr_time	start;
	instr_time	elapsed;
	volatile MetricRoute route = ROUTE_OTHER;

	INSTR_TIME_SET_CURRENT(start);
	conn->requests++;
	PG_TRY();
	{
		transport_begin_request(&conn->transport, req);
		if (guard_admit_request(conn, req))
			route = dispatch->http_request(conn, req);
	}
	PG_CATCH();
	{
		ErrorData  *edata = worker_catch_error();

		ereport(LOG,
				(errmsg("pg_dash worker %d: error while serving %s %s: %s",
						worker_number, req->method, req->path, edata->message)));
		http_reply_error(conn, req, 500, unpack_sql_state(edata->sqlerrcode),
						 edata->message, edata->detail, edata->hint);
	}
	PG_END_TRY();
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	/* a request handed to an executor is counted there */
	if (route != ROUTE_NONE)
		metrics_request(route, conn->last_status, INSTR_TIME_GET_DOUBLE(elapsed));
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/*
 * Answers every complete request in the parser's buffer, in order, until one
 * starts a streamed response, upgrades the connection, or closes it, or the
 * queued output is over its bound; then decides whether to read on.
 */
static void
conn_process_requests(Conn *conn)
{
	HttpParseState st = conn->http.state;

	while (conn->state == CONN_HTTP && !conn->close_when_flushed && conn->producer == NULL)
	{
		if (st == HTTP_PARSE_ERROR)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);

			metrics_count(METRIC_MALFORMED_REQUESTS, 1);
			http_reply_error(conn, NULL, conn->http.error_status,
							 http_status_code_name(conn->http.error_status),
							 conn->http.error_reason, NULL, NULL);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(worker_request_context);
			break;
		}
		if (st != HTTP_PARSE_DONE || conn_output_full(conn))
			break;
		conn_cancel_head_deadline(conn);
		conn_dispatch(conn, &conn->http.req);
		if (conn->state != CONN_HTTP || conn->close_when_flushed)
			break;
		if (conn->producer != NULL)
			break;				/* the next request waits for the stream */
		conn->sent_continue = false;
		st = http_parser_next(&conn->http);
	}
	conn_update_reading(conn);
	conn_update_head_deadline(conn);
}

/*
 * True when the client may still be sending when its answer is complete: a
 * request not read to its end (an error, a body refused before it came), a
 * request behind it, or a WebSocket client that still owes its close frame.
 * Closing a socket with unread input, or on input that arrives afterwards,
 * makes the kernel send a reset, and a reset can destroy the answer before
 * the client has read it.
 */
static bool
conn_client_may_send(Conn *conn)
{
	return conn->state != CONN_HTTP || conn->http.state != HTTP_PARSE_DONE ||
		http_parser_buffered(&conn->http) > 0;
}

/* The lingering close's wait is over: lws closes the connection. */
static void
conn_linger_over(lws_sorted_usec_list_t *sul)
{
	ConnTimer  *timer = lws_container_of(sul, ConnTimer, linger);

	if (timer->conn->wsi)
		lws_set_timeout(timer->conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/*
 * The lingering close: once the answer is written, input is read and
 * dropped until the client closes, sends nothing for CONN_LINGER_QUIET_US,
 * or CONN_LINGER_MAX_US have passed, and only then is the socket closed, so
 * that what the client still sends does not turn the close into a reset.
 * Servers usually half-close first (shutdown(SHUT_WR)) so that the client
 * sees the end at once; libwebsockets 4.1.6 has no half-close for raw
 * sockets, and every byte and close goes through it (docs/architecture.md).
 * Called when draining starts and at every read: the quiet period restarts.
 */
static void
conn_linger_wait(Conn *conn)
{
	ConnTimer  *timer = conn->head_timer;
	lws_usec_t	left = timer->linger_end - lws_now_usecs();

	lws_sul_schedule(lws_get_context(conn->wsi), 0, &timer->linger, conn_linger_over,
					 Max(1, Min(left, CONN_LINGER_QUIET_US)));
}

/*
 * Takes the client a PROXY header names as the connection's peer, as the
 * per-address limits count it (an IPv6 client by its /64).
 */
static void
conn_set_proxy_client(Conn *conn, const ProxyHeader *h)
{
	if (h->family == 0)
		return;					/* LOCAL / UNKNOWN: the proxy's own connection */
	memset(&conn->peer, 0, sizeof(conn->peer));
	conn->peer.family = h->family == 4 ? AF_INET : AF_INET6;
	memcpy(conn->peer.addr, h->src, h->family == 4 ? 4 : 8);
	transport_proxy_client(&conn->transport, conn->peer.family, h->src);
}

/*
 * Consumes the PROXY protocol header a trusted proxy sends first: *used is
 * set to the bytes of data that belonged to it.  Returns false when the
 * connection was answered and is closing (a malformed header); while the
 * header is incomplete every byte is used.
 */
static bool
conn_read_proxy_header(Conn *conn, const char *data, size_t len, size_t *used)
{
	StringInfo	buf;
	size_t		before;
	ProxyHeader h;
	ProxyParseState st;

	if (conn->proxy_bytes == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(conn->ctx);

		conn->proxy_bytes = makeStringInfo();
		MemoryContextSwitchTo(oldcxt);
	}
	buf = conn->proxy_bytes;
	before = buf->len;
	appendBinaryStringInfo(buf, data, Min(len, PROXY_MAX_HEADER - before));
	st = proxy_parse((const uint8_t *) buf->data, buf->len, &h);
	if (st == PROXY_INCOMPLETE)
	{
		*used = len;
		return true;
	}
	if (st == PROXY_ERROR)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);

		*used = len;
		http_reply_error(conn, NULL, 400, "bad_request", "invalid PROXY protocol header", h.error,
						 "pg_dash.proxy_protocol is on: connections from pg_dash.trusted_proxies must start with a PROXY v1 or v2 header.");
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(worker_request_context);
		return false;
	}
	*used = h.length - before;
	conn_set_proxy_client(conn, &h);
	conn->transport.proxy_header = false;
	pfree(buf->data);
	pfree(buf);
	conn->proxy_bytes = NULL;
	return true;
}

/*
 * Counts a connection against the client its PROXY header named; false
 * when that client is over its cap (answered 429, closing).
 */
static bool
conn_admit_proxied(Conn *conn)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);
	bool		admitted = guard_admit_connection(conn);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
	return admitted;
}

/* Handles bytes received from the client. */
int
conn_on_read(Conn *conn, const char *data, size_t len)
{
	switch (conn->state)
	{
		case CONN_HTTP:
			transport_enter(&conn->transport);
			conn_touch(conn);
			if (conn->close_when_flushed)
				return 0;
			if (conn->transport.proxy_header)
			{
				size_t		used;

				if (!conn_read_proxy_header(conn, data, len, &used) ||
					conn->transport.proxy_header)
					return 0;
				/* the client the proxy named is counted now */
				data += used;
				len -= used;
				if (!conn_admit_proxied(conn))
					return 0;
			}
			/* bytes while a head is awaited belong to it: its deadline runs */
			if (len > 0 && conn->http.state == HTTP_PARSE_INCOMPLETE && !conn->http.headers_done)
				conn->head_started = true;
			if (http_parser_feed(&conn->http, data, len) == HTTP_PARSE_INCOMPLETE &&
				conn->http.headers_done && !conn->sent_continue &&
				http_request_has_token(&conn->http.req, "Expect", "100-continue"))
			{
				/* the client waits for this before it sends a body */
				http_reply_continue(conn, &conn->http.req);
				conn->sent_continue = true;
			}
			conn_process_requests(conn);
			return 0;
		case CONN_WEBSOCKET:
			return ws_on_read(conn, data, len);
		case CONN_DRAINING:
			conn_linger_wait(conn);
			return 0;
	}
	return 0;
}

/*
 * Writes the next piece of output.  Returns -1 to have lws close the
 * connection once everything has been sent.
 */
int
conn_on_writeable(Conn *conn)
{
	conn->writable_asked = false;
	if (conn->state == CONN_DRAINING)
		return 0;
	transport_enter(&conn->transport);

	/* refill from a streaming producer when the queue runs low */
	if (conn->producer && conn->out_bytes < CONN_LOW_WATER)
	{
		if (!conn->producer(conn, conn->producer_arg))
		{
			conn->producer = NULL;
			conn->producer_cleanup = NULL;
			conn->producer_arg = NULL;
			if (conn->state == CONN_HTTP && !conn->close_when_flushed)
			{
				conn->sent_continue = false;
				(void) http_parser_next(&conn->http);
			}
			conn_process_requests(conn);
		}
	}

	if (conn->out_head != NULL)
	{
		if (conn_send_queued(conn) < 0)
			return -1;
		if (conn->state == CONN_HTTP)
			conn_touch(conn);
	}

	/* the client took enough of its answers: read its next requests */
	if (conn->read_paused && conn->producer == NULL && !conn_output_full(conn))
		conn_process_requests(conn);

	if (conn->out_head != NULL || (conn->producer != NULL && !conn->producer_waiting))
	{
		conn_ask_writable(conn);
		return 0;
	}
	if (conn->producer != NULL)
		return 0;				/* it asks for a callback when it has more */

	if (conn->close_when_flushed)
	{
		if (lws_partial_buffered(conn->wsi))
		{
			conn_ask_writable(conn);
			return 0;
		}

		if (!conn_client_may_send(conn))
			return -1;			/* lws closes it now */
		conn->state = CONN_DRAINING;
		conn_update_reading(conn);
		conn->head_timer->linger_end = lws_now_usecs() + CONN_LINGER_MAX_US;
		conn_linger_wait(conn);
	}
	return 0;
}

/*
 * Hands a connection's whole output queue to lws at once, when the event
 * loop no longer runs: lws sends what the socket takes now, through the same
 * path as every other byte (so through TLS too), and what is left is lost
 * with the context.
 */
static void
conn_write_all_now(Conn *conn)
{
	while (conn->out_head != NULL && conn->wsi != NULL)
	{
		OutChunk   *chunk = conn->out_head;

		if (lws_write(conn->wsi, (unsigned char *) unconstify(char *, chunk->bytes + chunk->off),
					  chunk->len - chunk->off, LWS_WRITE_RAW) < 0)
			break;
		conn_consume(conn, chunk->len - chunk->off);
	}
}

/*
 * Closes every connection at worker exit: WebSocket clients get a 1001
 * "going away" close frame, handed to lws at once since the loop has
 * stopped.
 */
void
conn_close_all_for_shutdown(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &conn_all)
	{
		Conn	   *conn = dlist_container(Conn, node, iter.cur);

		if (conn->state == CONN_WEBSOCKET)
		{
			ws_shutdown(conn);
			conn_write_all_now(conn);
		}
	}
}

/*
 * Applies reloaded settings to open connections: the idle timeout now; the
 * request size limits apply to connections opened after the reload.
 */
void
conn_reload(void)
{
	dlist_iter	iter;

	dlist_foreach(iter, &conn_all)
	{
		Conn	   *conn = dlist_container(Conn, node, iter.cur);

		if (conn->state == CONN_HTTP)
			conn_touch(conn);
	}
}

/* Publishes this worker's open connection counts for /metrics. */
void
conn_publish_counts(void)
{
	int			websockets = 0;
	dlist_iter	iter;

	dlist_foreach(iter, &conn_all)
	{
		Conn	   *conn = dlist_container(Conn, node, iter.cur);

		if (conn->state == CONN_WEBSOCKET)
			websockets++;
	}
	metrics_set_connections(worker_number, conn_count - websockets, websockets);
}
