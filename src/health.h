/*
 * health.h
 *		GET /healthz.
 */
#ifndef PG_DASH_HEALTH_H
#define PG_DASH_HEALTH_H

#include "conn.h"

extern void health_reply(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_HEALTH_H */
