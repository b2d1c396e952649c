/*
 * access.h
 *		Access lists on definitions (who may open a page, run a query, call an
 *		action, subscribe to a channel), and the access log.
 */
#ifndef PG_DASH_ACCESS_H
#define PG_DASH_ACCESS_H

#include "nodes/pg_list.h"

#include "auth.h"
#include "conn.h"

struct QueryFailure;
struct RequestTxn;

/* True when the list (char * role names or "PUBLIC") lets the role in. */
extern bool access_allows(List *access, Oid viewer);

/*
 * A boolean SQL expression for "viewer (parameter $param) may use the row
 * alias of pg_dash.relname": true on a 0.1.0 table without an access column.
 */
extern char *access_filter_sql(const char *relname, const char *alias, int param);

/*
 * Fills *f with the refusal of something the viewer may not use: 401 when
 * signing in could help, 403 otherwise.  Returns false.
 */
extern bool access_refuse(const AuthViewer *viewer, const char *what, struct QueryFailure *f);

/*
 * Whether the role a request transaction resolved may use a definition with
 * this access list; false with *f filled (access_refuse) when not.
 */
extern bool access_request_allows(const struct RequestTxn *r, List *access, const char *what,
								  struct QueryFailure *f);

/* The refusal (access_refuse) of the request's resolved role; returns false. */
extern bool access_request_refuse(const struct RequestTxn *r, const char *what,
								  struct QueryFailure *f);

/* The access log. */

extern void access_log_shmem_request(void);
extern void access_log_shmem_startup(void);

/*
 * Records an event (signin, signin_failed, signout, action, ...) in the
 * ring behind pg_dash.access_log; the caller writes the server log line.
 */
extern void access_log_event(const char *event, const char *role, const ConnPeer *peer,
							 const char *detail);

#endif							/* PG_DASH_ACCESS_H */
