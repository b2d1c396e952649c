/*
 * worker_state.c
 *		What any module may know of the worker process it runs in, the
 *		recovery from an error a request raised, and the registration of
 *		pg_dash's static background workers.
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "utils/memutils.h"

#include "metrics.h"
#include "worker_state.h"

int			worker_number = -1;
TimestampTz worker_started_at = 0;
MemoryContext worker_request_context = NULL;
int			worker_cursor_options = CURSOR_OPT_HOLD | CURSOR_OPT_NO_SCROLL;

/*
 * Recovers from an error a request raised: copies it into the request
 * context, aborts any transaction, counts it by SQLSTATE class.  Called
 * in a PG_CATCH block; the worker then answers the client and carries on.
 */
ErrorData *
worker_catch_error(void)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(worker_request_context);
	edata = CopyErrorData();
	FlushErrorState();
	if (IsTransactionState() || IsAbortedTransactionBlockState() ||
		GetCurrentTransactionNestLevel() > 0)
		AbortCurrentTransaction();
	MemoryContextSwitchTo(worker_request_context);
	pgstat_report_activity(STATE_IDLE, NULL);
	metrics_error_class(unpack_sql_state(edata->sqlerrcode));
	return edata;
}

/*
 * Registers static background worker "name number" (of the kind type, as
 * pg_stat_activity shows it) that starts at function, connected to a database, and is restarted by the
 * postmaster restart_secs after it ends with an error.  Workers start once a
 * hot standby is consistent, so that standbys serve reads too.
 */
void
worker_register(const char *function, const char *type, const char *name, int number,
				int restart_secs)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = restart_secs;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_dash");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s %d", name, number);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	worker.bgw_main_arg = Int32GetDatum(number);
	RegisterBackgroundWorker(&worker);
}
