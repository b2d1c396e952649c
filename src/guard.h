/*
 * guard.h
 *		What a connection and a request must pass before they are served:
 *		the allowed Host names, the same-origin rule, the per-address caps.
 */
#ifndef PG_DASH_GUARD_H
#define PG_DASH_GUARD_H

#include "conn.h"

extern void guard_define_gucs(void);
extern void guard_reload(void);
extern bool guard_admit_connection(Conn *conn);
extern void guard_release_connection(Conn *conn);
extern bool guard_admit_request(Conn *conn, HttpRequest *req);
extern void guard_tick(void);

#endif							/* PG_DASH_GUARD_H */
