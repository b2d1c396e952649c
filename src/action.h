/*
 * action.h
 *		POST /api/action/<name>: registered SQL functions that change the
 *		session state (pg_dash.actions).
 */
#ifndef PG_DASH_ACTION_H
#define PG_DASH_ACTION_H

#include "conn.h"

/* Serves POST /api/action/<name> (name is the rest of the path). */
extern void action_http(Conn *conn, HttpRequest *req, const char *name);

#endif							/* PG_DASH_ACTION_H */
