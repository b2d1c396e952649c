/*
 * replica.h
 *		Whether this server is a primary or a hot standby, and how far a
 *		standby's replay is behind what it received.
 */
#ifndef PG_DASH_REPLICA_H
#define PG_DASH_REPLICA_H

#include "lib/stringinfo.h"

/* True while this server is a hot standby (in recovery). */
extern bool replica_is_standby(void);

/*
 * Appends the replication members of /healthz to a JSON object being
 * built: ,"role":"primary"|"standby", and on a standby the replay lag and
 * whether WAL is streaming from the primary.
 */
extern void replica_append_health(StringInfo buf);

#endif							/* PG_DASH_REPLICA_H */
