/*
 * worker_state.h
 *		What any module may know of the worker process it runs in.
 *
 * Kept apart from worker.h (the process's main loop, which uses nearly
 * every module) so that low layers such as the transport can read the
 * worker's number and request context without depending on the top.
 */
#ifndef PG_DASH_WORKER_STATE_H
#define PG_DASH_WORKER_STATE_H

#include "datatype/timestamp.h"
#include "utils/elog.h"
#include "utils/palloc.h"

/* This worker's number (0 .. pg_dash.workers - 1) and start time. */
extern int	worker_number;
extern TimestampTz worker_started_at;

/* Reset after every request; handlers allocate their scratch data here. */
extern MemoryContext worker_request_context;

/*
 * Cursor options of the plans of request SQL: holdable in a serving worker
 * (a large result outlives its first transaction there); parallel-safe in
 * an executor, which runs each plan to completion in one transaction.
 */
extern int	worker_cursor_options;

extern ErrorData *worker_catch_error(void);
extern void worker_register(const char *function, const char *type, const char *name,
							int number, int restart_secs);

#endif							/* PG_DASH_WORKER_STATE_H */
