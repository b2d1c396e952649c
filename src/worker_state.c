/*
 * worker_state.c
 *		What any module may know of the worker process it runs in, and the
 *		recovery from an error a request raised.
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
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
