/*
 * executor_pool.h
 *		The executor pool's shared memory: settings, the run queue and the
 *		job slots, shared by the serving workers' side (executor.c) and the
 *		executors' (executor_main.c).
 *
 * Locking: the shared state (the run queue and the job slots) is guarded by
 * one LWLock, held only for a few instructions at a time: claiming, queueing,
 * taking and releasing a slot.  A slot's two shm_mq (request in, response
 * out) are then used without the lock, by exactly one serving worker and one
 * executor.  A slot is freed by whichever of the two finishes last.
 */
#ifndef PG_DASH_EXECUTOR_POOL_H
#define PG_DASH_EXECUTOR_POOL_H

#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shm_mq.h"

#include "conn.h"
#include "metrics.h"

/* Bytes of a slot's response queue. */
#define EXEC_QUEUE_SIZE (64 * 1024)

/* The largest message on a response queue: well under half of it. */
#define EXEC_MAX_MESSAGE (EXEC_QUEUE_SIZE / 4)

/* Requests up to this size travel in the slot; larger ones in a DSM segment. */
#define EXEC_REQUEST_INLINE (8 * 1024)

/* The most executors and queue slots the settings allow. */
#define EXEC_MAX_EXECUTORS 64
#define EXEC_MAX_QUEUE 4096
#define EXEC_MAX_WORKERS 128		/* pg_dash.workers' maximum */

typedef enum ExecSlotState
{
	SLOT_FREE,
	SLOT_QUEUED,				/* in the run queue */
	SLOT_RUNNING				/* taken by an executor */
} ExecSlotState;

/* One job: its request, its response queue, who holds it. */
typedef struct ExecSlot
{
	ExecSlotState state;
	int			refs;			/* sides still using it (serving worker,
								 * executor); freed at 0 */
	uint64		job_id;
	pid_t		submitter;
	int			runner;			/* executor index while running, else -1 */
	bool		abandoned;		/* the client went away */
	pg_atomic_uint32 cancel;	/* set with abandoned; read by the signal
								 * handler */
	pg_atomic_uint64 sent;		/* messages the executor sent (or its
								 * detach): the serving worker looks again
								 * only when this changed */
	TimestampTz enqueued;
	ConnPeer	peer;			/* the client's address, for per-address limits */
	ConnTransport transport;	/* how the request came (TLS, proxy) */
	bool		internal;		/* a serving worker's own job (executor_submit),
								 * not a client's request */
	Size		request_len;
	dsm_handle	request_dsm;	/* DSM_HANDLE_INVALID: request[] holds it */
	char		request[EXEC_REQUEST_INLINE];
} ExecSlot;

/* One executor as the others see it. */
typedef struct ExecutorProc
{
	pid_t		pid;			/* 0 when not running */
	Latch	   *latch;
	bool		idle;			/* waiting for a job */
	int			slot;			/* running this slot, or -1 */
} ExecutorProc;

typedef struct ExecShared
{
	uint64		next_job_id;
	int			queue_head;		/* ring of slot indexes */
	int			queue_len;
	uint64		jobs;
	uint64		rejected;
	double		wait_seconds;
	double		busy_seconds;
	ExecutorProc procs[EXEC_MAX_EXECUTORS];
	pid_t		serving[EXEC_MAX_WORKERS];	/* the serving workers, by number */
	/* int ring[nslots], then the slots, each followed by its queue */
} ExecShared;

extern ExecShared *exec_shared;
extern LWLock *exec_lock;
extern int	exec_nslots;

/* Settings (PGC_POSTMASTER: they size shared memory and the workers). */
extern int	pg_dash_executors;
extern int	pg_dash_executor_queue;

/* Whether this process is an executor (handlers then run requests themselves). */
extern bool executor_am_executor;

/* In an executor: the request being run is a serving worker's own job. */
extern bool executor_job_internal;

extern void executor_define_gucs(void);
extern void executor_register_all(void);
extern void executor_shmem_request(void);
extern void executor_shmem_startup(void);

/* Serving worker, at start: lets executors recognise its cancels. */
extern void executor_register_serving_worker(void);

/* Whether any executor runs (serving workers run requests themselves otherwise). */
extern bool executor_available(void);

/* The slots and the run queue (a ring of slot indexes); lock held. */
extern int *executor_ring(void);
extern ExecSlot *executor_slot(int i);
extern shm_mq *executor_slot_queue(ExecSlot *slot);
extern void executor_slot_unref(ExecSlot *slot);

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

#endif							/* PG_DASH_EXECUTOR_POOL_H */
