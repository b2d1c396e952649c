/*
 * worker.c
 *		Registration and main loop of the pg_dash background workers.
 *
 * Each worker connects to pg_dash.database and runs one libwebsockets event
 * loop.  lws_service() sleeps in poll() until a descriptor is ready and does
 * not notice signals, so the signal handlers call PostgreSQL's own handlers
 * and then write to an eventfd that the loop polls (server.c adopts it).
 * After every pass of the loop the worker does its upkeep: interrupts,
 * configuration reload, postmaster death.
 */
#include "postgres.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bearer.h"
#include "dispatch.h"
#include "download.h"
#include "executor.h"
#include "guc.h"
#include "metrics.h"
#include "page_ws.h"
#include "product.h"
#include "query_cache.h"
#include "query_hit.h"
#include "query_registry.h"
#include "realtime.h"
#include "replica_ws.h"
#include "router.h"
#include "server.h"
#include "session.h"
#include "session_buffer.h"
#include "worker.h"
#include "worker_state.h"

/* Written by the signal handlers to wake the event loop. */
static int	wake_fd = -1;

/*
 * Registers pg_dash.workers static background workers.  A worker that exits
 * with an error is restarted by the postmaster after two seconds.
 */
void
worker_register_all(void)
{
	for (int i = 0; i < pg_dash_workers; i++)
		worker_register("pg_dash_worker_main", "pg_dash", "pg_dash worker", i, 2);
}

/* Wakes the event loop; safe to call from a signal handler. */
void
worker_wake(void)
{
	if (wake_fd >= 0)
		(void) eventfd_write(wake_fd, 1);
}

/* SIGTERM: PostgreSQL's die(), then wake the loop so it exits promptly. */
static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	die(postgres_signal_arg);
	worker_wake();
	errno = save_errno;
}

/*
 * SIGINT (pg_cancel_backend): PostgreSQL's cancel handler, then wake the
 * loop.  A cancel cancels the request running at the time, if any; one that
 * arrives between requests is dropped (worker_upkeep(), request_begin()),
 * so it never ends the worker nor hits a later request.
 */
static void
worker_sigint(SIGNAL_ARGS)
{
	int			save_errno = errno;

	StatementCancelHandler(postgres_signal_arg);
	worker_wake();
	errno = save_errno;
}

/* SIGHUP: flag a configuration reload, then wake the loop. */
static void
worker_sighup(SIGNAL_ARGS)
{
	int			save_errno = errno;

	SignalHandlerForConfigReload(postgres_signal_arg);
	worker_wake();
	errno = save_errno;
}

/* SIGUSR1: procsignal handling (notifications, catch-up), then wake. */
static void
worker_sigusr1(SIGNAL_ARGS)
{
	int			save_errno = errno;

	procsignal_sigusr1_handler(postgres_signal_arg);
	worker_wake();
	errno = save_errno;
}

/*
 * Raises the soft limit on open files so that a worker can hold many
 * WebSocket clients; the hard limit still applies.
 */
static void
worker_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = Min(rl.rlim_max, (rlim_t) 65536);
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Work done after every pass of the event loop. */
static void
worker_upkeep(void)
{
	int			flush_in_ms;

	/* no request is running: a cancel has nothing to cancel */
	QueryCancelPending = false;
	session_buffer_flush_if_stopping();
	CHECK_FOR_INTERRUPTS();

	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		server_reload();
	}

	if (!PostmasterIsAlive())
		proc_exit(1);

	download_poll();
	executor_poll();

	/* while no session writer runs, worker 0 writes the buffered states */
	flush_in_ms = session_buffer_flush_due();
	if (flush_in_ms > 0)
		server_wake_after(flush_in_ms);

	PG_TRY();
	{
		realtime_deliver_notifications();
		replica_ws_upkeep();
		realtime_run_dirty_watches();
	}
	PG_CATCH();
	{
		/* the worker carries on; subscribers learn they may have missed messages */
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		MemoryContextSwitchTo(TopMemoryContext);
		realtime_report_missed();
	}
	PG_END_TRY();
	page_ws_check();
}

/*
 * Once a second: the download deadlines, the session store's sweep, and the
 * transaction that brings the cache hits answered here up to date.
 */
static void
worker_tick(void)
{
	download_tick();
	session_sweep_tick();
	query_hit_catch_up();
}

/*
 * A request, to the router; whatever happens, the bearer token it carried
 * is forgotten afterwards, so that nothing the loop runs next (WebSocket
 * messages, the catch-up transaction) takes its role.
 */
static MetricRoute
worker_http_request(Conn *conn, HttpRequest *req)
{
	volatile MetricRoute route = ROUTE_OTHER;

	PG_TRY();
	{
		route = router_dispatch(conn, req);
	}
	PG_CATCH();
	{
		bearer_forget();
		PG_RE_THROW();
	}
	PG_END_TRY();
	bearer_forget();
	return route;
}

/* What the transport hands up: requests to the router, messages to realtime. */
static const Dispatch worker_dispatch = {
	.http_request = worker_http_request,
	.ws_opened = realtime_opened,
	.ws_message = realtime_dispatch,
	.ws_closed = realtime_forget,
	.ws_message_types = REALTIME_MESSAGE_TYPES,
	.tick = worker_tick,
};

/*
 * Entry point of a worker: signals, database connection, event loop.
 */
void
pg_dash_worker_main(Datum arg)
{
	char		appname[NAMEDATALEN];

	worker_number = DatumGetInt32(arg);
	worker_started_at = GetCurrentTimestamp();

	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wake_fd < 0)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("pg_dash worker %d could not create an eventfd: %m", worker_number)));

	pqsignal(SIGTERM, worker_sigterm);
	pqsignal(SIGHUP, worker_sighup);
	pqsignal(SIGINT, worker_sigint);
	pqsignal(SIGUSR1, worker_sigusr1);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(pg_dash_database, NULL, 0);

	snprintf(appname, sizeof(appname), "pg_dash worker %d", worker_number);
	pgstat_report_appname(appname);
	pgstat_report_activity(STATE_IDLE, NULL);

	worker_request_context = AllocSetContextCreate(TopMemoryContext,
												   "pg_dash request",
												   ALLOCSET_DEFAULT_SIZES);
	dispatch_install(&worker_dispatch);
	query_registry_init();
	query_cache_watch_rights();
	realtime_init();
	executor_register_serving_worker();
	download_worker_init();
	worker_raise_fd_limit();
	server_start(wake_fd);

	ereport(LOG,
			(errmsg("pg_dash worker %d serving on port %d", worker_number, pg_dash_port)));

	for (;;)
	{
		server_service();
		worker_upkeep();
	}
}
