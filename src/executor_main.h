/*
 * executor_main.h
 *		An executor process of the pool (see executor.c and executor_pool.h).
 */
#ifndef PG_DASH_EXECUTOR_MAIN_H
#define PG_DASH_EXECUTOR_MAIN_H

extern PGDLLEXPORT void pg_dash_executor_main(Datum arg);

#endif							/* PG_DASH_EXECUTOR_MAIN_H */
