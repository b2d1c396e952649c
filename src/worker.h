/*
 * worker.h
 *		The pg_dash background workers.
 */
#ifndef PG_DASH_WORKER_H
#define PG_DASH_WORKER_H

extern void worker_register_all(void);
extern PGDLLEXPORT void pg_dash_worker_main(Datum arg);
extern void worker_wake(void);

#endif							/* PG_DASH_WORKER_H */
