/*
 * worker.h
 *		The pg_dash background workers.
 */
#ifndef PG_DASH_WORKER_H
#define PG_DASH_WORKER_H

#include "datatype/timestamp.h"
#include "utils/elog.h"
#include "utils/palloc.h"

/* This worker's number (0 .. pg_dash.workers - 1) and start time. */
extern int	worker_number;
extern TimestampTz worker_started_at;

/* Reset after every request; handlers allocate their scratch data here. */
extern MemoryContext worker_request_context;

extern void worker_register_all(void);
extern PGDLLEXPORT void pg_dash_worker_main(Datum arg);
extern void worker_wake(void);
extern ErrorData *worker_catch_error(void);

#endif							/* PG_DASH_WORKER_H */
