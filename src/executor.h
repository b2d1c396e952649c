/*
 * executor.h
 *		The serving workers' side of the executor pool: background workers
 *		that run user SQL for the serving workers, so that no query ever
 *		blocks an event loop.
 */
#ifndef PG_DASH_EXECUTOR_H
#define PG_DASH_EXECUTOR_H

#include "conn.h"
#include "executor_pool.h"

/*
 * Serving worker: hands a request to the pool and relays the response to
 * the connection as it comes.  Answers 503 with Retry-After itself when
 * the run queue is full.
 */
extern void executor_offload(Conn *conn, HttpRequest *req);

/*
 * Receives the answer of a job handed over with executor_submit(): its HTTP
 * status (503 when the executor ended first, body NULL then), whether the
 * request used the session state, and its body.
 */
typedef void (*ExecutorDone) (void *arg, int status, bool read_state,
							  const char *body, size_t len);

/*
 * Serving worker: runs an internal request (HTTP bytes for a route only
 * executors serve) in the pool; done() is called from the worker's loop once
 * the answer is whole, never before this returns.  The jobs of one owner (a
 * WebSocket connection; NULL for none) go to the pool one at a time, in
 * order; false when the queue is full or the owner has too many waiting.
 */
extern bool executor_submit(void *owner, const char *request, size_t len,
							const ConnPeer *peer, ExecutorDone done, void *arg);

/* Forgets an owner's jobs, cancelling the one that runs (its connection closes). */
extern void executor_cancel_owner(void *owner);

/* Serializes a parsed request back to HTTP/1.1 bytes with a Content-Length body. */
extern void executor_serialize(HttpRequest *req, StringInfo out);

/*
 * Any backend: runs a serialized request, from peer over transport, in the
 * pool and waits for its whole answer (HTTP response bytes); false when the
 * queue is full or the executor ended first.  *close: the connection was to
 * be closed after it.
 */
extern bool executor_run_blocking(const char *request, size_t len, const ConnPeer *peer,
								  const ConnTransport *transport, StringInfo answer, bool *close);

/* Serving worker, after a wake-up: lets every relayed response move. */
extern void executor_poll(void);

#endif							/* PG_DASH_EXECUTOR_H */
