/*
 * executor.c
 *		The executor pool (executor.h has the locking rules).
 *
 * A serving worker never runs user SQL in its event loop: it hands an API
 * request to the pool and relays the answer.  The request travels as HTTP
 * bytes (re-parsed by the same fuzzed parser on the other side), so the
 * executor runs exactly the handlers a worker would, on a connection whose
 * output goes into the slot's shm_mq instead of a socket; the serving worker
 * copies what arrives to the client as the socket takes it.  shm_mq_send
 * blocks while the queue is full, so a slow client slows its executor down
 * instead of growing anyone's memory.
 *
 * Response messages start with one byte: 'D' bytes for the client, 'C' close
 * the connection once they are written, 'Z' the end.  After each message the
 * executor signals the serving worker (SIGUSR1 wakes its event loop).
 *
 * Fairness: a connection has at most one job at a time (its next pipelined
 * request is read only after the answer), and the run queue is first in,
 * first out, so no client can starve another.  A full queue answers 503.
 *
 * Cancelling: a serving worker whose client went away sets the job's cancel
 * flag and sends SIGINT to the executor running it.  The executor's handler
 * only cancels when the flag of the job it is running now is set, so a late
 * signal can never cancel the next job.  An executor that ends detaches from
 * its queue on the way out, which the serving worker sees as a failure.
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "replication/logicallauncher.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bearer.h"
#include "download.h"
#include "executor.h"
#include "guc.h"
#include "headers.h"
#include "http_response.h"
#include "metrics.h"
#include "query_registry.h"
#include "realtime.h"
#include "request.h"
#include "router.h"
#include "transport.h"
#include "worker.h"

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

/* Internal jobs of one owner that may wait for its running one. */
#define EXEC_MAX_PENDING_PER_OWNER 32

int			pg_dash_executors = 0;
int			pg_dash_executor_queue = 64;
bool		executor_am_executor = false;

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

static ExecShared *exec_shared = NULL;
static LWLock *exec_lock = NULL;
static int	exec_nslots = 0;

/* This executor's index and the slot it runs (executor processes only). */
static int	my_index = -1;
static ExecSlot *volatile my_slot = NULL;
static volatile uint64 my_job = 0;
static shm_mq_handle *volatile my_mqh = NULL;

/* Bytes of one slot with its queue. */
static Size
executor_slot_size(void)
{
	return MAXALIGN(sizeof(ExecSlot)) + MAXALIGN(EXEC_QUEUE_SIZE);
}

/*
 * The number of slots: two per executor (the job it runs, and the one it
 * has answered but not yet let go of), plus the run queue.
 */
static int
executor_slot_count(void)
{
	return 2 * pg_dash_executors + pg_dash_executor_queue;
}

/* Bytes of the shared state. */
static Size
executor_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(ExecShared));

	size = add_size(size, MAXALIGN(mul_size(sizeof(int), executor_slot_count())));
	return add_size(size, mul_size(executor_slot_size(), executor_slot_count()));
}

static int *
executor_ring(void)
{
	return (int *) ((char *) exec_shared + MAXALIGN(sizeof(ExecShared)));
}

static ExecSlot *
executor_slot(int i)
{
	char	   *base = (char *) executor_ring() + MAXALIGN(sizeof(int) * exec_nslots);

	return (ExecSlot *) (base + (Size) i * executor_slot_size());
}

static shm_mq *
executor_slot_queue(ExecSlot *slot)
{
	return (shm_mq *) ((char *) slot + MAXALIGN(sizeof(ExecSlot)));
}

/*
 * The default number of executors: one per CPU, at least 2, at most 16, and
 * never so many that the workers, the logical replication launcher, the
 * executors and two parallel workers would not fit in max_worker_processes.
 */
static int
executor_default_count(void)
{
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int			n = (int) Min(Max(cpus, 2), 16);

	n = Min(n, max_worker_processes - pg_dash_workers - (max_logical_replication_workers > 0 ? 1 : 0) - 2);
	return Max(n, 1);
}

/*
 * Whether any executor runs.  None does when max_worker_processes left no
 * room for them (the postmaster logged "too many background workers"):
 * requests then run in the serving worker, as they did before the pool.
 */
bool
executor_available(void)
{
	bool		any = false;

	if (exec_shared == NULL || pg_dash_executors == 0)
		return false;
	for (int i = 0; i < EXEC_MAX_EXECUTORS && !any; i++)
		any = exec_shared->procs[i].pid != 0;
	return any;
}

/* Defines the settings of the pool. */
void
executor_define_gucs(void)
{
	DefineCustomIntVariable("pg_dash.executors",
							"Background workers that run user SQL for the serving workers.",
							"0 picks one per CPU (2 to 16) within max_worker_processes.",
							&pg_dash_executors,
							0, 0, EXEC_MAX_EXECUTORS,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.executor_queue",
							"Requests that may wait for an executor; more get 503.",
							NULL,
							&pg_dash_executor_queue,
							64, 1, EXEC_MAX_QUEUE,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
}

/* Registers the executors (called from _PG_init, after the settings). */
void
executor_register_all(void)
{
	BackgroundWorker worker;

	if (pg_dash_executors == 0)
		pg_dash_executors = executor_default_count();
	for (int i = 0; i < pg_dash_executors; i++)
	{
		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = 1;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_dash");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "pg_dash_executor_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "pg_dash executor %d", i);
		snprintf(worker.bgw_type, BGW_MAXLEN, "pg_dash executor");
		worker.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&worker);
	}
}

void
executor_shmem_request(void)
{
	RequestAddinShmemSpace(executor_shmem_size());
	RequestNamedLWLockTranche("pg_dash executors", 1);
}

void
executor_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	exec_nslots = executor_slot_count();
	exec_shared = ShmemInitStruct("pg_dash executors", executor_shmem_size(), &found);
	exec_lock = &(GetNamedLWLockTranche("pg_dash executors"))->lock;
	if (!found)
	{
		memset(exec_shared, 0, MAXALIGN(sizeof(ExecShared)));
		exec_shared->next_job_id = 1;
		for (int i = 0; i < EXEC_MAX_EXECUTORS; i++)
			exec_shared->procs[i].slot = -1;
		for (int i = 0; i < exec_nslots; i++)
		{
			ExecSlot   *slot = executor_slot(i);

			memset(slot, 0, sizeof(ExecSlot));
			slot->state = SLOT_FREE;
			slot->runner = -1;
			pg_atomic_init_u32(&slot->cancel, 0);
			pg_atomic_init_u64(&slot->sent, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Drops one side's hold on a slot; the last side frees it.  Lock held. */
static void
executor_slot_unref(ExecSlot *slot)
{
	if (--slot->refs > 0)
		return;
	if (slot->request_dsm != DSM_HANDLE_INVALID)
	{
		/* the submitter's mapping kept it; it is gone with the last detach */
		slot->request_dsm = DSM_HANDLE_INVALID;
	}
	slot->state = SLOT_FREE;
	slot->runner = -1;
	slot->job_id = 0;
}

/* The pool's series for /metrics and pg_dash.stats. */
void
executor_metrics(MetricEmit emit, void *arg)
{
	static const MetricFamily fam_executors = {"pg_dash_executors", "gauge", "Executors running, and how many are running a request now."};
	static const MetricFamily fam_queue = {"pg_dash_executor_queue_depth", "gauge", "Requests waiting for an executor."};
	static const MetricFamily fam_jobs = {"pg_dash_executor_jobs_total", "counter", "Requests taken by executors."};
	static const MetricFamily fam_rejected = {"pg_dash_executor_rejected_total", "counter", "Requests refused with 503 because the run queue was full."};
	static const MetricFamily fam_wait = {"pg_dash_executor_wait_seconds_total", "counter", "Time requests waited in the run queue."};
	static const MetricFamily fam_busy = {"pg_dash_executor_busy_seconds_total", "counter", "Time executors spent running requests."};
	ExecutorFigures f;

	executor_figures(&f);
	emit(arg, &fam_executors, "", "state=\"running\"", f.executors);
	emit(arg, &fam_executors, "", "state=\"busy\"", f.busy);
	emit(arg, &fam_queue, "", "", f.queued);
	emit(arg, &fam_jobs, "", "", (double) f.jobs);
	emit(arg, &fam_rejected, "", "", (double) f.rejected);
	emit(arg, &fam_wait, "", "", f.wait_seconds);
	emit(arg, &fam_busy, "", "", f.busy_seconds);
}

/* Figures for /metrics. */
void
executor_figures(ExecutorFigures *out)
{
	memset(out, 0, sizeof(*out));
	if (exec_shared == NULL)
		return;
	LWLockAcquire(exec_lock, LW_SHARED);
	for (int i = 0; i < EXEC_MAX_EXECUTORS; i++)
		if (exec_shared->procs[i].pid != 0)
		{
			out->executors++;
			if (!exec_shared->procs[i].idle)
				out->busy++;
		}
	out->queued = exec_shared->queue_len;
	out->jobs = exec_shared->jobs;
	out->rejected = exec_shared->rejected;
	out->wait_seconds = exec_shared->wait_seconds;
	out->busy_seconds = exec_shared->busy_seconds;
	LWLockRelease(exec_lock);
}

/* ---------------------------------------------------------------------
 * The serving worker's side
 * --------------------------------------------------------------------- */

/* A response being relayed from an executor to a client. */
typedef struct Relay
{
	Conn	   *conn;			/* the client, or NULL for a callback relay */
	void	   *owner;			/* callback relays: whose job (one at a time) */
	ExecutorDone done;			/* callback relays: gets the whole answer */
	void	   *done_arg;
	StringInfoData answer;		/* callback relays: the answer so far */
	int			slot_index;
	uint64		job_id;
	uint64		seen;			/* the slot's sent counter when last read */
	shm_mq_handle *mqh;
	dsm_segment *request_seg;	/* a large request, or NULL */
	bool		relayed;		/* some bytes reached the client */
	bool		finished;
} Relay;

/*
 * Reads the next message of a relay without waiting.  A queue the executor
 * left in a state shm_mq refuses (it raises an ERROR) counts as ended: the
 * serving worker must never fail for it.
 */
static shm_mq_result
executor_receive(shm_mq_handle *mqh, Size *nbytes, void **data)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile shm_mq_result res = SHM_MQ_DETACHED;

	PG_TRY();
	{
		res = shm_mq_receive(mqh, nbytes, data, true);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		res = SHM_MQ_DETACHED;
	}
	PG_END_TRY();
	return res;
}

/* Relays in progress in this worker, in TopMemoryContext. */
static List *relays = NIL;

/* Appends to a list that lives as long as the worker. */
static List *
executor_list_add(List *list, void *item)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

	list = lappend(list, item);
	MemoryContextSwitchTo(oldcxt);
	return list;
}

/* Serializes a parsed request back to HTTP/1.1 bytes with a Content-Length body. */
static void
executor_serialize(HttpRequest *req, StringInfo out)
{
	appendStringInfo(out, "%s ", req->method);
	appendBinaryStringInfo(out, req->target, req->target_len);
	appendStringInfo(out, " HTTP/1.%d\r\n", req->version_minor);
	for (int i = 0; i < req->nheaders; i++)
	{
		HttpHeader *h = &req->headers[i];

		if ((h->name_len == 14 && pg_strncasecmp(h->name, "Content-Length", 14) == 0) ||
			(h->name_len == 17 && pg_strncasecmp(h->name, "Transfer-Encoding", 17) == 0))
			continue;
		appendBinaryStringInfo(out, h->name, h->name_len);
		appendStringInfoString(out, ": ");
		appendBinaryStringInfo(out, h->value, h->value_len);
		appendStringInfoString(out, "\r\n");
	}
	appendStringInfo(out, "Content-Length: %zu\r\n\r\n", req->body_len);
	appendBinaryStringInfo(out, req->body, req->body_len);
}

/* Lets go of a relay's slot and forgets it; cancels the job when it still runs. */
static void
executor_relay_release(Relay *r, bool cancel)
{
	ExecSlot   *slot = executor_slot(r->slot_index);
	pid_t		runner_pid = 0;

	relays = list_delete_ptr(relays, r);

	/*
	 * Detach before letting go of the slot: once the slot is free, another
	 * job may create a new queue in the same memory, which a late detach
	 * would mark as ended.
	 */
	if (r->mqh)
		shm_mq_detach(r->mqh);
	r->mqh = NULL;
	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	if (slot->job_id == r->job_id)
	{
		if (cancel && slot->state != SLOT_FREE)
		{
			slot->abandoned = true;
			pg_atomic_write_u32(&slot->cancel, 1);
			if (slot->state == SLOT_RUNNING && slot->runner >= 0)
				runner_pid = exec_shared->procs[slot->runner].pid;
		}
		/* the signal is sent under the lock: the executor cannot switch jobs meanwhile */
		if (runner_pid != 0)
			(void) kill(runner_pid, SIGINT);
		executor_slot_unref(slot);
	}
	LWLockRelease(exec_lock);
	if (r->request_seg)
		dsm_detach(r->request_seg);
	r->request_seg = NULL;
}

/* The connection went away while its request ran: cancel it. */
static void
executor_relay_cleanup(Conn *conn, void *arg)
{
	Relay	   *r = (Relay *) arg;

	if (!r->finished)
		executor_relay_release(r, true);
}

/*
 * Producer: copies what the executor sent to the client's queue.  Returns
 * false once the response is complete.
 */
static bool
executor_relay_produce(Conn *conn, void *arg)
{
	Relay	   *r = (Relay *) arg;

	conn->producer_waiting = false;
	r->seen = pg_atomic_read_u64(&executor_slot(r->slot_index)->sent);
	while (!r->finished && conn->out_bytes < CONN_LOW_WATER)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result res = executor_receive(r->mqh, &nbytes, &data);
		const char *msg = (const char *) data;

		if (res == SHM_MQ_WOULD_BLOCK)
		{
			/* executor_poll() asks for a writeable callback when it sends more */
			conn->producer_waiting = true;
			return true;
		}
		if (res == SHM_MQ_DETACHED || nbytes == 0)
		{
			ereport(LOG,
					(errmsg("pg_dash worker %d: the executor running %s request ended before its answer",
							worker_number, r->relayed ? "a" : "an unanswered")));
			if (!r->relayed)
				http_reply_error_with(conn, NULL, 503, header_list_of("Retry-After", "1"), "executor_failed",
									  "the executor running this request ended before answering",
									  "An executor was terminated or failed; it is restarted at once.",
									  "Retry the request.");
			else
				conn_close_when_flushed(conn);
			r->finished = true;
		}
		else if (msg[0] == 'D')
		{
			conn_write(conn, msg + 1, nbytes - 1);
			r->relayed = true;
		}
		else if (msg[0] == 'C')
			conn_close_when_flushed(conn);
		else
			r->finished = true;
	}
	if (r->finished)
	{
		executor_relay_release(r, false);
		conn->producer_cleanup = NULL;
		return false;
	}
	return true;
}

/*
 * Puts a serialized request into a free slot and the slot into the run
 * queue, and wakes an idle executor; fills r's slot and queue.  False when
 * the queue is full (*why says so) or no shared memory is left.
 */
static bool
executor_enqueue(const char *request, size_t len, const ConnPeer *peer,
				 const ConnTransport *transport, Relay *r, MemoryContext cxt, const char **why)
{
	ExecSlot   *slot = NULL;
	int			index = -1;
	shm_mq	   *mq;
	Latch	   *wake = NULL;
	dsm_segment *seg = NULL;

	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	for (int i = 0; i < exec_nslots; i++)
		if (executor_slot(i)->state == SLOT_FREE)
		{
			index = i;
			break;
		}
	if (index < 0 || exec_shared->queue_len >= pg_dash_executor_queue)
	{
		index = -1;
		exec_shared->rejected++;
	}
	else
	{
		slot = executor_slot(index);
		slot->state = SLOT_QUEUED;
		slot->refs = 2;
		slot->job_id = exec_shared->next_job_id++;
		slot->submitter = MyProcPid;
		slot->runner = -1;
		slot->abandoned = false;
		pg_atomic_write_u32(&slot->cancel, 0);
		slot->request_dsm = DSM_HANDLE_INVALID;
		slot->request_len = 0;	/* not takeable until queued below */
	}
	LWLockRelease(exec_lock);
	if (index < 0)
	{
		*why = "queue_full";
		return false;
	}

	/* the request, in the slot or in a segment of its own */
	if (len <= EXEC_REQUEST_INLINE)
		memcpy(slot->request, request, len);
	else
	{
		seg = dsm_create(len, DSM_CREATE_NULL_IF_MAXSEGMENTS);
		if (seg == NULL)
		{
			LWLockAcquire(exec_lock, LW_EXCLUSIVE);
			slot->refs = 1;
			executor_slot_unref(slot);
			LWLockRelease(exec_lock);
			*why = "no_memory";
			return false;
		}
		dsm_pin_mapping(seg);
		memcpy(dsm_segment_address(seg), request, len);
		slot->request_dsm = dsm_segment_handle(seg);
	}
	mq = shm_mq_create(executor_slot_queue(slot), EXEC_QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);
	r->slot_index = index;
	r->job_id = slot->job_id;
	r->seen = pg_atomic_read_u64(&slot->sent);
	r->request_seg = seg;
	{
		/* the handle reassembles large messages: it must live as long as the relay */
		MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

		r->mqh = shm_mq_attach(mq, NULL, NULL);
		MemoryContextSwitchTo(oldcxt);
	}

	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	slot->request_len = len;
	slot->peer = *peer;
	if (transport)
		slot->transport = *transport;
	else
		memset(&slot->transport, 0, sizeof(slot->transport));
	slot->enqueued = GetCurrentTimestamp();
	executor_ring()[(exec_shared->queue_head + exec_shared->queue_len) % exec_nslots] = index;
	exec_shared->queue_len++;
	for (int i = 0; i < pg_dash_executors && i < EXEC_MAX_EXECUTORS; i++)
		if (exec_shared->procs[i].pid != 0 && exec_shared->procs[i].idle)
		{
			wake = exec_shared->procs[i].latch;
			exec_shared->procs[i].idle = false;
			break;
		}
	LWLockRelease(exec_lock);
	if (wake)
		SetLatch(wake);
	return true;
}

/* Hands a request to the pool and relays the response to the connection. */
void
executor_offload(Conn *conn, HttpRequest *req)
{
	StringInfoData request;
	Relay	   *r;
	const char *why;

	initStringInfo(&request);
	executor_serialize(req, &request);
	r = MemoryContextAllocZero(conn->ctx, sizeof(Relay));
	r->conn = conn;
	if (!executor_enqueue(request.data, request.len, &conn->peer, &conn->transport, r, conn->ctx, &why))
	{
		pfree(r);
		if (strcmp(why, "queue_full") == 0)
			http_reply_error_with(conn, req, 503, header_list_of("Retry-After", "1"), "queue_full",
								  "every executor is busy and the run queue is full",
								  psprintf("%d requests are already waiting for an executor.", pg_dash_executor_queue),
								  "Retry shortly; the administrator can raise pg_dash.executors or pg_dash.executor_queue.");
		else
			http_reply_error_with(conn, req, 503, header_list_of("Retry-After", "1"), "unavailable",
								  "no shared memory for the request", NULL, "Retry shortly.");
		return;
	}
	relays = executor_list_add(relays, r);
	conn_set_producer(conn, executor_relay_produce, executor_relay_cleanup, r, true);
}

/*
 * Jobs handed over with executor_submit() whose owner already has one
 * running: they wait here, in order, and go to the pool one at a time.
 */
typedef struct PendingJob
{
	void	   *owner;
	char	   *request;
	size_t		len;
	ConnPeer	peer;
	ExecutorDone done;
	void	   *arg;
} PendingJob;

static List *pending_jobs = NIL;

/* True when an owner has a job in the pool. */
static bool
executor_owner_busy(void *owner)
{
	ListCell   *lc;

	foreach(lc, relays)
		if (((Relay *) lfirst(lc))->owner == owner)
			return true;
	return false;
}

/* Hands a job to the pool as a callback relay; false when the queue is full. */
static bool
executor_start_job(PendingJob *job)
{
	Relay	   *r = MemoryContextAllocZero(TopMemoryContext, sizeof(Relay));
	const char *why;

	r->owner = job->owner;
	r->done = job->done;
	r->done_arg = job->arg;
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&r->answer);
		MemoryContextSwitchTo(oldcxt);
	}
	if (!executor_enqueue(job->request, job->len, &job->peer, NULL, r, TopMemoryContext, &why))
	{
		pfree(r->answer.data);
		pfree(r);
		return false;
	}
	relays = executor_list_add(relays, r);
	return true;
}

/* Runs an internal request in the pool; done() gets its answer later (executor.h). */
bool
executor_submit(void *owner, const char *request, size_t len, const ConnPeer *peer,
				ExecutorDone done, void *arg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	PendingJob *job = palloc0(sizeof(PendingJob));
	int			waiting = 0;
	ListCell   *lc;

	job->owner = owner;
	job->request = pnstrdup(request, len);
	job->len = len;
	if (peer)
		job->peer = *peer;
	job->done = done;
	job->arg = arg;
	MemoryContextSwitchTo(oldcxt);

	foreach(lc, pending_jobs)
		if (((PendingJob *) lfirst(lc))->owner == owner)
			waiting++;
	if (owner != NULL && (executor_owner_busy(owner) || waiting > 0))
	{
		if (waiting >= EXEC_MAX_PENDING_PER_OWNER)
		{
			pfree(job->request);
			pfree(job);
			return false;
		}
		pending_jobs = executor_list_add(pending_jobs, job);
		return true;
	}
	if (!executor_start_job(job))
	{
		pfree(job->request);
		pfree(job);
		return false;
	}
	pfree(job->request);
	pfree(job);
	return true;
}

/* Starts the next waiting job of an owner whose job just ended. */
static void
executor_start_next(void *owner)
{
	ListCell   *lc;

	if (owner == NULL)
		return;
	foreach(lc, pending_jobs)
	{
		PendingJob *job = (PendingJob *) lfirst(lc);

		if (job->owner != owner)
			continue;
		pending_jobs = foreach_delete_current(pending_jobs, lc);
		if (!executor_start_job(job))
			job->done(job->arg, 503, true, NULL, 0);
		pfree(job->request);
		pfree(job);
		return;
	}
}

/* Forgets an owner's jobs (its connection closes): cancels the running one. */
void
executor_cancel_owner(void *owner)
{
	ListCell   *lc;

	foreach(lc, pending_jobs)
	{
		PendingJob *job = (PendingJob *) lfirst(lc);

		if (job->owner != owner)
			continue;
		pending_jobs = foreach_delete_current(pending_jobs, lc);
		pfree(job->request);
		pfree(job);
	}
	foreach(lc, relays)
	{
		Relay	   *r = (Relay *) lfirst(lc);

		if (r->owner == owner && r->conn == NULL)
		{
			executor_relay_release(r, true);
			pfree(r->answer.data);
			pfree(r);
			return;				/* an owner has one job in the pool */
		}
	}
}

/*
 * Reads what the executor sent for a callback relay; once the answer is
 * whole (or the executor ended), parses it and calls done().
 */
static void
executor_relay_collect(Relay *r)
{
	int			status = 503;
	bool		read_state = true;
	const char *body = NULL;
	size_t		body_len = 0;
	void	   *owner = r->owner;

	r->seen = pg_atomic_read_u64(&executor_slot(r->slot_index)->sent);
	while (!r->finished)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result res = executor_receive(r->mqh, &nbytes, &data);
		const char *msg = (const char *) data;

		if (res == SHM_MQ_WOULD_BLOCK)
			return;
		if (res == SHM_MQ_DETACHED || nbytes == 0)
		{
			r->finished = true;
			resetStringInfo(&r->answer);	/* no answer: done() gets 503 */
		}
		else if (msg[0] == 'D')
			appendBinaryStringInfo(&r->answer, msg + 1, nbytes - 1);
		else if (msg[0] == 'Z')
			r->finished = true;
	}
	if (r->answer.len > 0)
	{
		/* "HTTP/1.1 NNN ...", headers, a blank line, the body */
		const char *end = strstr(r->answer.data, "\r\n\r\n");

		if (strncmp(r->answer.data, "HTTP/1.", 7) == 0 && r->answer.len > 12 && end != NULL)
		{
			*(char *) end = '\0';
			status = atoi(r->answer.data + 9);
			read_state = strstr(r->answer.data, "\r\nX-Pg-Dash-Read-State: false") == NULL;
			body = end + 4;
			body_len = r->answer.len - (body - r->answer.data);
		}
	}
	executor_relay_release(r, false);
	r->done(r->done_arg, status, read_state, body, body_len);
	pfree(r->answer.data);
	pfree(r);
	executor_start_next(owner);
}

/* After a wake-up: every relay may have something new. */
void
executor_poll(void)
{
	ListCell   *lc;
	List	   *callbacks = NIL;

	foreach(lc, relays)
	{
		Relay	   *r = (Relay *) lfirst(lc);

		/* only a relay whose executor sent something since it looked */
		if (pg_atomic_read_u64(&executor_slot(r->slot_index)->sent) == r->seen)
			continue;
		if (r->conn == NULL)
			callbacks = lappend(callbacks, r);
		else if (r->conn->wsi && r->conn->producer_waiting)
		{
			r->conn->producer_waiting = false;
			lws_callback_on_writable(r->conn->wsi);
		}
	}
	/* done() may submit more jobs: walk a copy */
	foreach(lc, callbacks)
		executor_relay_collect((Relay *) lfirst(lc));
	list_free(callbacks);
}

/* ---------------------------------------------------------------------
 * The executor's side
 * --------------------------------------------------------------------- */

/* True when pid is one of the serving workers. */
static bool
executor_is_serving_worker(pid_t pid)
{
	for (int i = 0; i < EXEC_MAX_WORKERS; i++)
		if (exec_shared->serving[i] == pid)
			return true;
	return false;
}

/*
 * SIGINT.  A serving worker cancels the job of a client that went away; its
 * cancel counts only when the job running now is flagged, so a signal meant
 * for a finished job never hits the next one.  Any other sender (an
 * administrator's pg_cancel_backend(), this process's own statement or lock
 * timeout) cancels the running query as in any backend.
 */
static void
executor_sigint(int signo, siginfo_t *info, void *context)
{
	int			save_errno = errno;
	ExecSlot   *slot = my_slot;

	if (info == NULL || !executor_is_serving_worker(info->si_pid) ||
		(slot != NULL && pg_atomic_read_u32(&slot->cancel) != 0))
		StatementCancelHandler(signo);
	errno = save_errno;
}

/* Lets the executors tell a serving worker's cancel from anyone else's. */
void
executor_register_serving_worker(void)
{
	if (exec_shared == NULL || worker_number < 0 || worker_number >= EXEC_MAX_WORKERS)
		return;
	exec_shared->serving[worker_number] = MyProcPid;
}

/* The timeout that ends a streamed answer at pg_dash.download_timeout. */
static TimeoutId deadline_timeout = MAX_TIMEOUTS;

/*
 * pg_dash.download_timeout passed while this executor streamed an answer:
 * cancel the job like a client that went away, whether it is producing rows
 * or waiting for the client to take them.
 */
static volatile sig_atomic_t deadline_fired = false;

static void
executor_deadline_passed(void)
{
	ExecSlot   *slot = my_slot;

	deadline_fired = true;
	if (slot != NULL)
		pg_atomic_write_u32(&slot->cancel, 1);
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* Tells the serving worker that a message is waiting. */
static void
executor_signal_submitter(void)
{
	if (my_slot != NULL)
	{
		pg_atomic_fetch_add_u64(&my_slot->sent, 1);
		(void) kill(my_slot->submitter, SIGUSR1);
	}
}

/* Stops sending: the serving worker sees the queue end without 'Z'. */
static void
executor_drop_queue(void)
{
	shm_mq_handle *mqh = my_mqh;

	my_mqh = NULL;
	if (mqh)
	{
		shm_mq_detach(mqh);
		executor_signal_submitter();
	}
}

/*
 * Sends one message to the serving worker; raises an error when it went
 * away.  A send that an error interrupts (a cancel, the download deadline)
 * leaves half a message in the queue, so the queue is dropped then: nothing
 * more may be sent on it.  Once dropped, output is discarded.
 */
static void
executor_send(char type, const char *data, size_t len)
{
	shm_mq_iovec iov[2];
	shm_mq_result res;

	if (my_mqh == NULL)
		return;
	iov[0].data = &type;
	iov[0].len = 1;
	iov[1].data = data;
	iov[1].len = len;
	PG_TRY();
	{
		res = shm_mq_sendv(my_mqh, iov, 2, false, true);
	}
	PG_CATCH();
	{
		executor_drop_queue();
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (res != SHM_MQ_SUCCESS)
	{
		executor_drop_queue();
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the client of a pg_dash request went away")));
	}
	executor_signal_submitter();
}

/*
 * Moves a connection's queued output to the serving worker, in messages of
 * at most EXEC_MAX_MESSAGE bytes.  A message larger than half the queue
 * would be written in pieces that each wait for the serving worker to read,
 * and the serving worker only looks when a whole message was sent: with
 * small messages, a queue it has drained always takes the next one whole.
 */
static void
executor_flush(Conn *conn)
{
	while (conn->out_head != NULL)
	{
		OutChunk   *chunk = conn->out_head;

		for (size_t off = chunk->off; off < chunk->len; off += EXEC_MAX_MESSAGE)
			executor_send('D', chunk->data + off, Min(chunk->len - off, EXEC_MAX_MESSAGE));
		conn->out_bytes -= chunk->len - chunk->off;
		conn->out_head = chunk->next;
		if (conn->out_head == NULL)
			conn->out_tail = NULL;
		pfree(chunk);
	}
}

/*
 * The sink of an executor's connection: what a handler writes goes to the
 * serving worker at once (blocking while the client is slow), and an
 * admitted stream gets its pg_dash.download_timeout.
 */
static void
executor_sink(Conn *conn)
{
	static bool in_sink = false;

	if (in_sink)
		return;
	in_sink = true;
	PG_TRY();
	{
		if (!get_timeout_active(deadline_timeout) && download_deadline(conn) != 0)
			enable_timeout_at(deadline_timeout, download_deadline(conn));
		executor_flush(conn);
	}
	PG_FINALLY();
	{
		in_sink = false;
	}
	PG_END_TRY();
}

/*
 * Runs one request on a connection whose output goes to the slot's queue:
 * the handler, then its producer (a streamed result) until it is done.
 */
static void
executor_run_request(HttpRequest *req, const ConnPeer *peer, const ConnTransport *transport)
{
	Conn	   *conn;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_dash executor connection",
											  ALLOCSET_DEFAULT_SIZES);

	conn = MemoryContextAllocZero(cxt, sizeof(Conn));
	conn->ctx = cxt;
	conn->fd = -1;
	conn->state = CONN_HTTP;
	conn->peer = *peer;
	conn->transport = *transport;
	transport_enter(conn);
	conn->sink = executor_sink;
	PG_TRY();
	{
		MetricRoute route;
		instr_time	start;
		instr_time	elapsed;

		INSTR_TIME_SET_CURRENT(start);
		route = router_dispatch(conn, req);
		executor_flush(conn);
		while (conn->producer != NULL)
		{
			bool		more = conn->producer(conn, conn->producer_arg);

			executor_flush(conn);
			if (!more)
				conn->producer = NULL;
			CHECK_FOR_INTERRUPTS();
		}
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		metrics_request(route, conn->last_status, INSTR_TIME_GET_DOUBLE(elapsed));
		if (conn->close_when_flushed)
			executor_send('C', "", 0);
		executor_send('Z', "", 0);
	}
	PG_CATCH();
	{
		ErrorData  *edata = worker_catch_error();

		/*
		 * The job is over: a cancel of it still pending must not fire at
		 * the next CHECK_FOR_INTERRUPTS (ereport(LOG) has one), outside any
		 * PG_TRY, where it would end the executor.
		 */
		QueryCancelPending = false;

		if (conn->producer_cleanup)
			conn->producer_cleanup(conn, conn->producer_arg);
		conn->producer_cleanup = NULL;
		ereport(LOG,
				(errmsg("pg_dash executor %d: error while serving %s %s: %s",
						my_index, req->method, req->path, edata->message)));
		/* the serving worker sees the queue end without 'Z' */
	}
	PG_END_TRY();
	bearer_forget();
	QueryCancelPending = false;
	disable_timeout(deadline_timeout, false);
	if (deadline_fired)
	{
		metrics_limit_hit(LIMIT_DOWNLOAD_TIMEOUT);
		ereport(LOG,
				(errmsg("pg_dash executor %d: ended a streamed answer that passed pg_dash.download_timeout (%d s)",
						my_index, pg_dash_download_timeout)));
	}
	deadline_fired = false;
	if (conn->producer_cleanup)
		conn->producer_cleanup(conn, conn->producer_arg);
	download_done(conn);
	MemoryContextDelete(cxt);
}

/* Parses the slot's request and runs it. */
static void
executor_run_slot(ExecSlot *slot)
{
	HttpParser parser;
	HttpLimits limits = {
		.max_url = 1024 * 1024,
		.max_header_bytes = 4 * 1024 * 1024,
		.max_headers = 10000,
		.max_body = 1024L * 1024 * 1024,
	};
	dsm_segment *seg = NULL;
	const char *data = slot->request;

	if (slot->request_dsm != DSM_HANDLE_INVALID)
	{
		seg = dsm_attach(slot->request_dsm);
		if (seg == NULL)
			return;				/* the serving worker already let go */
		data = dsm_segment_address(seg);
	}
	http_parser_init(&parser, &limits);
	if (http_parser_feed(&parser, data, slot->request_len) == HTTP_PARSE_DONE)
	{
		pgstat_report_activity(STATE_RUNNING, psprintf("pg_dash: %s %s", parser.req.method, parser.req.path));
		executor_run_request(&parser.req, &slot->peer, &slot->transport);
	}
	else
		ereport(LOG,
				(errmsg("pg_dash executor %d: a handed-over request did not parse: %s",
						my_index, parser.error_reason ? parser.error_reason : "incomplete")));
	http_parser_free(&parser);
	if (seg)
		dsm_detach(seg);
}

/* Takes the next job, or returns NULL and marks this executor idle. */
static ExecSlot *
executor_take(void)
{
	ExecSlot   *slot = NULL;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	while (exec_shared->queue_len > 0 && slot == NULL)
	{
		int			index = executor_ring()[exec_shared->queue_head];
		ExecSlot   *s = executor_slot(index);

		exec_shared->queue_head = (exec_shared->queue_head + 1) % exec_nslots;
		exec_shared->queue_len--;
		if (s->abandoned)
		{
			executor_slot_unref(s);
			continue;
		}
		s->state = SLOT_RUNNING;
		s->runner = my_index;
		exec_shared->procs[my_index].slot = index;
		slot = s;
		exec_shared->jobs++;
		exec_shared->wait_seconds += (double) (now - s->enqueued) / USECS_PER_SEC;
	}
	exec_shared->procs[my_index].idle = (slot == NULL);
	if (slot)
	{
		my_job = slot->job_id;
		my_slot = slot;
	}
	LWLockRelease(exec_lock);
	return slot;
}

/* Lets go of the job just run. */
static void
executor_finish_job(TimestampTz started)
{
	ExecSlot   *slot = my_slot;

	/* a serving worker waiting for more must notice the end */
	executor_drop_queue();
	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	my_slot = NULL;
	my_job = 0;
	exec_shared->procs[my_index].slot = -1;
	exec_shared->busy_seconds += (double) (GetCurrentTimestamp() - started) / USECS_PER_SEC;
	if (slot)
		executor_slot_unref(slot);
	LWLockRelease(exec_lock);
	/* a cancel of the finished job must not reach the next one */
	QueryCancelPending = false;
}

/* On exit: the serving worker must see the queue end, and the slot be let go. */
static void
executor_on_exit(int code, Datum arg)
{
	if (exec_shared == NULL || my_index < 0)
		return;
	if (my_slot != NULL)
		executor_finish_job(GetCurrentTimestamp());
	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	exec_shared->procs[my_index].pid = 0;
	exec_shared->procs[my_index].latch = NULL;
	exec_shared->procs[my_index].idle = false;
	LWLockRelease(exec_lock);
}

/*
 * Reads the notifications this executor LISTENs for (the refresh channels
 * of the cached queries it served), which keeps the result cache's
 * generations current, and starts the LISTENs its last jobs asked for.
 */
static void
executor_upkeep(void)
{
	PG_TRY();
	{
		realtime_deliver_notifications();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		MemoryContextSwitchTo(TopMemoryContext);
	}
	PG_END_TRY();
}

/* Runs every queued job, then returns. */
static void
executor_run_queue(MemoryContext jobcxt)
{
	ExecSlot   *slot;

	while ((slot = executor_take()) != NULL)
	{
		TimestampTz started = GetCurrentTimestamp();
		shm_mq	   *mq = executor_slot_queue(slot);

		shm_mq_set_sender(mq, MyProc);
		MemoryContextSwitchTo(TopMemoryContext);
		my_mqh = shm_mq_attach(mq, NULL, NULL);
		MemoryContextSwitchTo(jobcxt);
		executor_run_slot(slot);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(jobcxt);
		executor_finish_job(started);
		pgstat_report_activity(STATE_IDLE, NULL);
		CHECK_FOR_INTERRUPTS();
		executor_upkeep();
	}
}

/* Entry point of an executor. */
void
pg_dash_executor_main(Datum arg)
{
	MemoryContext jobcxt;
	char		appname[NAMEDATALEN];

	my_index = DatumGetInt32(arg);
	executor_am_executor = true;
	request_drop_stray_cancels = false;
	snprintf(request_process, sizeof(request_process), "executor %d", my_index);
	request_cursor_options = CURSOR_OPT_PARALLEL_OK;
	worker_number = pg_dash_workers + my_index;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = executor_sigint;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
	}
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pg_dash_database, NULL, 0);

	snprintf(appname, sizeof(appname), "pg_dash executor %d", my_index);
	pgstat_report_appname(appname);
	pgstat_report_activity(STATE_IDLE, NULL);

	worker_request_context = AllocSetContextCreate(TopMemoryContext, "pg_dash request",
												   ALLOCSET_DEFAULT_SIZES);
	jobcxt = AllocSetContextCreate(TopMemoryContext, "pg_dash executor job",
								   ALLOCSET_DEFAULT_SIZES);
	query_registry_init();
	download_worker_init();
	deadline_timeout = RegisterTimeout(USER_TIMEOUT, executor_deadline_passed);

	before_shmem_exit(executor_on_exit, (Datum) 0);
	LWLockAcquire(exec_lock, LW_EXCLUSIVE);
	exec_shared->procs[my_index].pid = MyProcPid;
	exec_shared->procs[my_index].latch = MyLatch;
	exec_shared->procs[my_index].idle = false;
	exec_shared->procs[my_index].slot = -1;
	LWLockRelease(exec_lock);

	for (;;)
	{
		executor_run_queue(jobcxt);
		executor_upkeep();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		QueryCancelPending = false;
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
