/*
 * router.h
 *		Maps a request's method and path to its handler.
 */
#ifndef PG_DASH_ROUTER_H
#define PG_DASH_ROUTER_H

#include "conn.h"
#include "metrics.h"

extern MetricRoute router_dispatch(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_ROUTER_H */
