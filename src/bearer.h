/*
 * bearer.h
 *		Authorization: Bearer <JWT> for applications: the token names the
 *		role a request runs as.
 */
#ifndef PG_DASH_BEARER_H
#define PG_DASH_BEARER_H

#include "conn.h"

extern void bearer_define_gucs(void);

/*
 * Reads the request's Authorization header: without a bearer token the
 * request is anonymous (true); with a valid one, its role is the request's
 * (bearer_request_role) and true; otherwise the request is answered (401,
 * or 400 on /ws) and false.  Runs at the start of every dispatch, in the
 * serving worker and again in the executor.
 */
extern bool bearer_authenticate(Conn *conn, HttpRequest *req);

/* The role the current request's token names; NULL for an anonymous request. */
extern const char *bearer_request_role(void);

/* Ends the current request's token: what runs next is anonymous until verified. */
extern void bearer_forget(void);

#endif							/* PG_DASH_BEARER_H */
