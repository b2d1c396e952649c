/*
 * bearer.h
 *		Authorization: Bearer <JWT> for applications: the token names the
 *		role a request runs as.
 */
#ifndef PG_DASH_BEARER_H
#define PG_DASH_BEARER_H

#include "datatype/timestamp.h"

#include "conn.h"

extern void bearer_define_gucs(void);

/*
 * Reads the request's Authorization header: without a bearer token the
 * request is anonymous (true); with a valid one, its role is the request's
 * (bearer_request_role) and true; otherwise the request is answered (401)
 * and false.  Runs at the start of every dispatch, in the serving worker
 * and again in the executor.
 */
extern bool bearer_authenticate(Conn *conn, HttpRequest *req);

/* The role the current request's token names; NULL for an anonymous request. */
extern const char *bearer_request_role(void);

/* When the current request's token stops being accepted (exp + leeway); 0 without one. */
extern TimestampTz bearer_request_expires(void);

/*
 * What runs next runs as the role a token verified earlier named, until
 * expires: a WebSocket's messages and its queries' runs in an executor.
 * The request pipeline still checks the role in each transaction.
 */
extern void bearer_enter(const char *role, TimestampTz expires);

/* Ends the current request's token: what runs next is anonymous until verified. */
extern void bearer_forget(void);

#endif							/* PG_DASH_BEARER_H */
