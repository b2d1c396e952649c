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

#include <libwebsockets.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/shm_mq.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "bearer.h"
#include "executor.h"
#include "http_response.h"
#include "worker_state.h"
#include "transport.h"

/* Internal jobs of one owner that may wait for its running one. */
#define EXEC_MAX_PENDING_PER_OWNER 32

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
void
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
				 const ConnTransport *transport, bool internal, Relay *r, MemoryContext cxt,
				 const char **why)
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
	slot->internal = internal;
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
	if (!executor_enqueue(request.data, request.len, &conn->peer, &conn->transport, false, r, conn->ctx, &why))
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
	if (!executor_enqueue(job->request, job->len, &job->peer, NULL, true, r, TopMemoryContext, &why))
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

/*
 * Any backend: runs a serialized request, from peer over transport, in the
 * pool and waits for its whole answer (the HTTP response bytes) in *answer; *close says whether
 * the connection was to be closed after it.  False when the queue is full
 * or the executor ended before the answer's end.  Interrupts (a statement
 * timeout, a cancel) cancel the job and are raised.
 */
bool
executor_run_blocking(const char *request, size_t len, const ConnPeer *peer,
					  const ConnTransport *transport, StringInfo answer, bool *close)
{
	Relay		r;
	const char *why;
	volatile bool done = false;

	memset(&r, 0, sizeof(r));
	*close = false;
	if (!executor_enqueue(request, len, peer, transport, false, &r, CurrentMemoryContext, &why))
		return false;
	PG_TRY();
	{
		while (!r.finished)
		{
			Size		nbytes;
			void	   *data;
			shm_mq_result res = executor_receive(r.mqh, &nbytes, &data);
			const char *msg = (const char *) data;

			if (res == SHM_MQ_WOULD_BLOCK)
			{
				/* the executor sets our latch (and signals) after each message */
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 1000, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
				continue;
			}
			if (res == SHM_MQ_DETACHED || nbytes == 0)
				r.finished = true;
			else if (msg[0] == 'D')
				appendBinaryStringInfo(answer, msg + 1, nbytes - 1);
			else if (msg[0] == 'C')
				*close = true;
			else
				r.finished = done = true;
		}
	}
	PG_CATCH();
	{
		executor_relay_release(&r, true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	executor_relay_release(&r, false);
	return done;
}
