/*
 * primary_forward.h
 *		A hot standby forwards what lives on the primary (session state,
 *		actions) to it, through pg_dash.forward_request().
 */
#ifndef PG_DASH_PRIMARY_FORWARD_H
#define PG_DASH_PRIMARY_FORWARD_H

#include "conn.h"

/* True for the requests a standby forwards: session state and actions. */
extern bool primary_forward_wanted(const HttpRequest *req);

/* Standby: runs a request on the primary and relays its answer. */
extern void primary_forward(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_PRIMARY_FORWARD_H */
