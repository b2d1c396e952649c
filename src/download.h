/*
 * download.h
 *		Large query results produced by a dynamic background worker.
 */
#ifndef PG_DASH_DOWNLOAD_H
#define PG_DASH_DOWNLOAD_H

#include "nodes/pg_list.h"

#include "conn.h"
#include "header_list.h"

extern void download_shmem_request(void);
extern void download_shmem_startup(void);
extern void download_worker_init(void);
extern bool download_admit(Conn *conn, HttpRequest *req);
extern void download_done(Conn *conn);
extern TimestampTz download_deadline(Conn *conn);
extern void download_tick(void);
extern bool download_start(Conn *conn, HttpRequest *req, const char *name,
						   const char *free_sql, List *pairs, const char *session_id,
						   const char *content_type, const HeaderList *headers);
extern void download_poll(void);
extern PGDLLEXPORT void pg_dash_download_main(Datum arg);

#endif							/* PG_DASH_DOWNLOAD_H */
