/*
 * primary_state.h
 *		What a hot standby reads on the primary: session state, and the
 *		payloads of large realtime messages.
 */
#ifndef PG_DASH_PRIMARY_STATE_H
#define PG_DASH_PRIMARY_STATE_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * The state of a session read on the primary over the link, in the
 * caller's context; NULL when the session does not exist or has expired.
 * An ERROR (SQLSTATE class 08, answered 503) when the primary cannot be
 * reached or refuses.
 */
extern Jsonb *primary_state_read(const char *id);

/*
 * The session a state notification (its notify_id) names, read on the
 * primary: its id (65 bytes) and state as JSON text; false when there is
 * none or the primary cannot answer within a second (logged).  For a
 * standby's serving worker, whose tabs follow their session's state.
 */
extern bool primary_state_changed(int64 notify_id, char *id, StringInfo state);

/*
 * The payload of a message stored by pg_dash.publish() for a channel, read
 * on the primary, in the caller's context; NULL when there is none or the
 * primary cannot answer within a second (logged).
 */
extern char *primary_message_read(int64 id, const char *channel);

#endif							/* PG_DASH_PRIMARY_STATE_H */
