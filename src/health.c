/*
 * health.c
 *		GET /healthz: whether this worker is serving, and which one it is.
 *
 * Answered from the event loop without touching the database, so a load
 * balancer's probe costs nothing and shows a stuck worker by not answering.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "health.h"
#include "http_response.h"
#include "primary_link.h"
#include "primary_listen.h"
#include "product.h"
#include "replica.h"
#include "server.h"
#include "worker_state.h"

/* Replies with the worker's status as JSON. */
void
health_reply(Conn *conn, HttpRequest *req)
{
	StringInfoData buf;
	long		secs;
	int			usecs;

	TimestampDifference(worker_started_at, GetCurrentTimestamp(), &secs, &usecs);
	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"status\":\"ok\",\"version\":\"%s\",\"worker\":%d,\"pid\":%d,"
					 "\"uptime_seconds\":%.3f,\"connections\":%d,\"database\":",
					 PG_DASH_VERSION, worker_number, MyProcPid,
					 secs + usecs / 1000000.0, conn_count);
	escape_json(&buf, pg_dash_database);
	replica_append_health(&buf);
	/* a standby's serving worker keeps a link to the primary (primary_listen.c) */
	if (replica_is_standby())
		appendStringInfo(&buf, ",\"primary_reachable\":%s",
						 !primary_link_configured() ? "null" :
						 primary_listen_connected() ? "true" : "false");
	appendStringInfoChar(&buf, '}');
	http_reply_json(conn, req, 200, &buf);
}
