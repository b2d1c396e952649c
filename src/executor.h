/*
 * executor.h
 *		The executor pool: background workers that run user SQL for the
 *		serving workers, so that no query ever blocks an event loop.
 *
 * Locking: the shared state (the run queue and the job slots) is guarded by
 * one LWLock, held only for a few instructions at a time: claiming, queueing,
 * taking and releasing a slot.  A slot's two shm_mq (request in, response
 * out) are then used without the lock, by exactly one serving worker and one
 * executor.  A slot is freed by whichever of the two finishes last.
 */
#ifndef PG_DASH_EXECUTOR_H
#define PG_DASH_EXECUTOR_H

#include "conn.h"
#include "metrics.h"

/* Settings (PGC_POSTMASTER: they size shared memory and the workers). */
extern int	pg_dash_executors;
extern int	pg_dash_executor_queue;

/* Whether this process is an executor (handlers then run requests themselves). */
extern bool executor_am_executor;

extern void executor_define_gucs(void);
extern void executor_register_all(void);
extern void executor_shmem_request(void);
extern void executor_shmem_startup(void);

/* Serving worker, at start: lets executors recognise its cancels. */
extern void executor_register_serving_worker(void);

/* Whether any executor runs (serving workers run requests themselves otherwise). */
extern bool executor_available(void);

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

/* Serving worker, after a wake-up: lets every relayed response move. */
extern void executor_poll(void);

/* Figures for /metrics. */
typedef struct ExecutorFigures
{
	int			executors;		/* running */
	int			busy;			/* running a job now */
	int			queued;			/* jobs waiting */
	uint64		jobs;			/* jobs taken since start */
	uint64		rejected;		/* refused with 503: queue full */
	double		wait_seconds;	/* time jobs waited in the queue, summed */
	double		busy_seconds;	/* time executors spent on jobs, summed */
} ExecutorFigures;

extern void executor_figures(ExecutorFigures *out);
extern void executor_metrics(MetricEmit emit, void *arg);

extern PGDLLEXPORT void pg_dash_executor_main(Datum arg);

#endif							/* PG_DASH_EXECUTOR_H */
