/*
 * primary_state.h
 *		A hot standby reads a request's session state from the primary.
 */
#ifndef PG_DASH_PRIMARY_STATE_H
#define PG_DASH_PRIMARY_STATE_H

#include "utils/jsonb.h"

/*
 * The state of a session read on the primary over the link, in the
 * caller's context; NULL when the session does not exist or has expired.
 * An ERROR (SQLSTATE class 08, answered 503) when the primary cannot be
 * reached or refuses.
 */
extern Jsonb *primary_state_read(const char *id);

#endif							/* PG_DASH_PRIMARY_STATE_H */
