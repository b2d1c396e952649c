/*
 * session_writer.c
 *		The session writer: a background worker that writes the state API's
 *		buffered writes to pg_dash.session_state (session_buffer.c).
 *
 * Worker 0 used to do it between passes of its event loop.  A write of a
 * few hundred sessions (an UPDATE, a notification per session, a commit)
 * takes milliseconds, during which none of worker 0's clients was
 * answered: under a steady stream of PATCHes that stall was the p99 (bench
 * figure 5).  In a process of its own it delays nobody.  While no writer
 * runs (no free max_worker_processes slot, or between its restarts) worker
 * 0 stands in, as before.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

#include "guc.h"
#include "session_buffer.h"
#include "session_writer.h"
#include "worker_state.h"

PGDLLEXPORT void pg_dash_session_writer_main(Datum arg);

/* Registers the writer; restarted a second after it ends with an error. */
void
session_writer_register(void)
{
	worker_register("pg_dash_session_writer_main", "pg_dash session writer",
					"pg_dash session writer", 0, 1);
}

/* Entry point of the session writer. */
void
pg_dash_session_writer_main(Datum arg)
{
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pg_dash_database, NULL, 0);
	pgstat_report_appname("pg_dash session writer");
	pgstat_report_activity(STATE_IDLE, NULL);
	session_buffer_become_writer();

	for (;;)
	{
		int			due_ms;

		/*
		 * then the FATAL of CHECK_FOR_INTERRUPTS ends the writer, and the
		 * postmaster starts it again unless the server is stopping
		 */
		session_buffer_flush_if_stopping();
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* a stop request waits for the write under way */
		HOLD_INTERRUPTS();
		due_ms = session_buffer_flush_due();
		RESUME_INTERRUPTS();

		/* a buffered write sets our latch (SIGUSR1) when it makes the buffer dirty */
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (due_ms > 0 ? WL_TIMEOUT : 0),
						 due_ms > 0 ? due_ms : -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
