/*
 * query_hit.h
 *		Cache hits answered by a serving worker without a transaction.
 */
#ifndef PG_DASH_QUERY_HIT_H
#define PG_DASH_QUERY_HIT_H

#include "conn.h"

extern bool query_hit_answer(Conn *conn, HttpRequest *req);
extern void query_hit_catch_up(void);

#endif							/* PG_DASH_QUERY_HIT_H */
