/*
 * primary_state.c
 *		What a hot standby reads on the primary: session state, and the
 *		payloads of large realtime messages.
 *
 * Session state lives in an UNLOGGED table, which a standby cannot read.
 * So that named queries calling pg_dash.state() work on a standby too, the
 * state functions read it from the primary over this process's link
 * (primary_link.c), through pg_dash.forward_state(), which only the link's
 * role may call, once per transaction (session.c caches it).  Likewise the
 * state a notification on pg_dash_state points to, for a standby's tabs
 * (pg_dash.forward_changed_session()), and a payload pg_dash.publish() kept
 * in the UNLOGGED pg_dash.messages (pg_dash.forward_message()).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "guc.h"
#include "primary_link.h"
#include "primary_state.h"

/* The state of a session read on the primary (primary_state.h). */
Jsonb *
primary_state_read(const char *id)
{
	const char *values[1] = {id};
	char	   *error = NULL;
	PGresult   *res;
	Jsonb	   *state = NULL;

	if (!primary_link_configured())
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("session state lives on the primary, and pg_dash.primary_conninfo is not set"),
				 errhint("Set pg_dash.primary_conninfo on this standby (docs/replicas.md).")));
	res = primary_link_exec("SELECT pg_dash.forward_state($1)::text", 1, values, NULL, NULL,
							pg_dash_statement_timeout + 5000, &error);
	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the primary, where session state lives, cannot be reached"),
				 errdetail_internal("%s", error)));
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		char	   *message = pstrdup(PQresultErrorMessage(res));

		PQclear(res);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_EXCEPTION),
				 errmsg("the primary refused to read session state"),
				 errdetail_internal("%s", message),
				 errhint("Grant EXECUTE on pg_dash.forward_state(text) to the role of pg_dash.primary_conninfo.")));
	}
	if (!PQgetisnull(res, 0, 0))
		state = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(PQgetvalue(res, 0, 0))));
	PQclear(res);
	return state;
}

/* A serving worker waits this long at most for a changed session or a message (ms). */
#define PRIMARY_READ_TIMEOUT_MS 1000

/*
 * Runs a read of a serving worker on the primary (the first parameter is a
 * bigint); its rows, or NULL after logging why not.  what names the read in
 * the log, function is what the link's role must be granted.
 */
static PGresult *
primary_read(const char *sql, int64 number, const char *text, const char *what,
			 const char *function)
{
	char		digits[32];
	const char *values[2] = {digits, text};
	char	   *error = NULL;
	PGresult   *res;

	snprintf(digits, sizeof(digits), INT64_FORMAT, number);
	res = primary_link_exec(sql, text ? 2 : 1, values, NULL, NULL, PRIMARY_READ_TIMEOUT_MS, &error);
	if (res == NULL)
	{
		ereport(LOG,
				(errmsg("pg_dash: could not read %s on the primary: %s", what, error)));
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		ereport(LOG,
				(errmsg("pg_dash: the primary refused to read %s: %s", what, PQresultErrorMessage(res)),
				 errhint("Grant EXECUTE on %s to the role of pg_dash.primary_conninfo (pg_dash.grant_link()).",
						 function)));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* The session a state notification names, read on the primary (primary_state.h). */
bool
primary_state_changed(int64 notify_id, char *id, StringInfo state)
{
	PGresult   *res = primary_read("SELECT s.id, s.data::text FROM pg_dash.forward_changed_session($1::bigint) s",
								   notify_id, NULL, "a changed session",
								   "pg_dash.forward_changed_session(bigint)");
	bool		found = false;

	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 0)) == 64)
	{
		strlcpy(id, PQgetvalue(res, 0, 0), 65);
		appendStringInfoString(state, PQgetvalue(res, 0, 1));
		found = true;
	}
	PQclear(res);
	return found;
}

/* The payload of a stored message, read on the primary (primary_state.h). */
char *
primary_message_read(int64 id, const char *channel)
{
	PGresult   *res = primary_read("SELECT pg_dash.forward_message($1::bigint, $2)", id, channel,
								   "a stored message", "pg_dash.forward_message(bigint, text)");
	char	   *payload = NULL;

	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		payload = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return payload;
}
