/*
 * executor_main.c
 *		An executor process: takes jobs from the run queue, runs each request
 *		on a connection whose output goes to the job's response queue, and
 *		keeps the result cache's refresh channels current between jobs.
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/timeout.h"

#include "bearer.h"
#include "download.h"
#include "executor_main.h"
#include "executor_pool.h"
#include "guc.h"
#include "query_cache.h"
#include "query_registry.h"
#include "realtime.h"
#include "request.h"
#include "router.h"
#include "session_buffer.h"
#include "transport.h"
#include "worker_state.h"

/* This executor's index and the slot it runs (executor processes only). */
static int	my_index = -1;
static ExecSlot *volatile my_slot = NULL;
static volatile uint64 my_job = 0;
static shm_mq_handle *volatile my_mqh = NULL;

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

		Assert(chunk->shared == NULL);	/* only a fan-out shares bytes */
		for (size_t off = chunk->off; off < chunk->len; off += EXEC_MAX_MESSAGE)
			executor_send('D', chunk->bytes + off, Min(chunk->len - off, EXEC_MAX_MESSAGE));
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
	transport_enter(&conn->transport);
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
		/* only a serving worker's own job reaches its internal routes */
		executor_job_internal = slot->internal;
		executor_run_request(&parser.req, &slot->peer, &slot->transport);
		executor_job_internal = false;
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
	worker_cursor_options = CURSOR_OPT_PARALLEL_OK;
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
	query_cache_watch_rights();
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
		session_buffer_flush_if_stopping();
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
