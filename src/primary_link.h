/*
 * primary_link.h
 *		A hot standby's libpq connection to its primary
 *		(pg_dash.primary_conninfo), one per process that needs it.
 */
#ifndef PG_DASH_PRIMARY_LINK_H
#define PG_DASH_PRIMARY_LINK_H

#include "libpq-fe.h"

/* pg_dash.primary_conninfo: how a standby's workers reach the primary. */
extern char *primary_link_conninfo;

extern void primary_link_define_gucs(void);

/* True when pg_dash.primary_conninfo is set. */
extern bool primary_link_configured(void);

/*
 * Runs one statement on the primary over this process's link (connected on
 * first use, again after a failure) and waits for its result, interruptibly
 * and at most timeout_ms.  Results come in binary format (cast a value to
 * text or bytea: libpq ends every value with a NUL).  Returns the result, whose status the caller
 * checks, or NULL with *error (palloc'd) when the primary cannot be reached
 * or the link broke (the link is then dropped; the next call reconnects,
 * after a second).
 */
extern PGresult *primary_link_exec(const char *sql, int nparams, const char *const *values,
								   const int *lengths, const int *formats, int timeout_ms,
								   char **error);

/* Whether this process's link is connected now (false: never tried or broken). */
extern bool primary_link_connected(void);

#endif							/* PG_DASH_PRIMARY_LINK_H */
