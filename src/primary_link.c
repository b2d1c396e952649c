/*
 * primary_link.c
 *		A hot standby's libpq connection to its primary.
 *
 * What must stay single lives on the primary: session state (an UNLOGGED
 * table a standby cannot read), notifications, writes.  A standby's
 * processes reach it over libpq with pg_dash.primary_conninfo, a
 * connection string of its own (primary_conninfo names a replication
 * connection), as a dedicated non-superuser role that may only call the
 * functions made for it (docs/replicas.md).  Each process has at most one
 * link, opened on first use and kept; a process never opens one per client.
 *
 * Waiting for the primary never blocks signals: the statement is sent
 * asynchronously and the answer awaited with WaitLatchOrSocket, so a
 * cancel or termination is honoured (the statement is then cancelled on
 * the primary and the link dropped, since its state is unknown).  A link
 * that fails is dropped; the next attempt waits a second, so that a primary
 * that is down costs each request nothing but a quick 503.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "primary_link.h"

/* Seconds libpq may take to connect. */
#define LINK_CONNECT_TIMEOUT "2"

/* After a failure, the next attempt waits this long (milliseconds). */
#define LINK_RETRY_MS 1000

char	   *primary_link_conninfo = NULL;

static PGconn *link_conn = NULL;
static TimestampTz link_failed_at = 0;
static char *link_last_error = NULL;	/* in TopMemoryContext */

/* Defines pg_dash.primary_conninfo. */
void
primary_link_define_gucs(void)
{
	DefineCustomStringVariable("pg_dash.primary_conninfo",
							   "How pg_dash's workers on a hot standby connect to the primary.",
							   "A libpq connection string naming the primary and a dedicated role that may "
							   "call pg_dash.forward_request() and pg_dash.primary_position(); not a replication "
							   "connection. Empty: state writes and actions on a standby answer 503.",
							   &primary_link_conninfo,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
}

/* True when pg_dash.primary_conninfo is set. */
bool
primary_link_configured(void)
{
	return primary_link_conninfo != NULL && primary_link_conninfo[0] != '\0';
}

/* Whether this process's link is connected now. */
bool
primary_link_connected(void)
{
	return link_conn != NULL && PQstatus(link_conn) == CONNECTION_OK;
}

/* Forgets the link after a failure, remembering why and when. */
static void
primary_link_fail(const char *why)
{
	if (link_conn)
		PQfinish(link_conn);
	link_conn = NULL;
	link_failed_at = GetCurrentTimestamp();
	if (link_last_error)
		pfree(link_last_error);
	link_last_error = MemoryContextStrdup(TopMemoryContext, why);
}

/* The libpq message of a connection, without its trailing newline. */
static char *
primary_link_message(PGconn *conn)
{
	char	   *msg = pstrdup(conn ? PQerrorMessage(conn) : "out of memory");
	size_t		n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return msg;
}

/*
 * The link, connected if need be; NULL with *error when the primary cannot
 * be reached (or was not, less than a second ago).
 */
static PGconn *
primary_link_get(char **error)
{
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *values[] = {LINK_CONNECT_TIMEOUT, "pg_dash link", primary_link_conninfo, NULL};

	if (link_conn != NULL && PQstatus(link_conn) == CONNECTION_OK)
		return link_conn;
	if (link_conn != NULL)
		primary_link_fail(primary_link_message(link_conn));
	if (link_failed_at != 0 &&
		!TimestampDifferenceExceeds(link_failed_at, GetCurrentTimestamp(), LINK_RETRY_MS))
	{
		*error = pstrdup(link_last_error ? link_last_error : "the last attempt failed");
		return NULL;
	}
	/* later keywords override earlier ones: the setting may change the timeout */
	link_conn = PQconnectdbParams(keys, values, true);
	if (link_conn == NULL || PQstatus(link_conn) != CONNECTION_OK)
	{
		*error = primary_link_message(link_conn);
		primary_link_fail(*error);
		return NULL;
	}
	link_failed_at = 0;
	return link_conn;
}

/*
 * Waits, interruptibly, until the link's result is ready; false (with the
 * statement cancelled) when timeout_ms passed first.
 */
static bool
primary_link_wait(PGconn *conn, int timeout_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	for (;;)
	{
		long		left;
		int			rc;

		if (!PQconsumeInput(conn))
			return true;		/* PQgetResult reports the broken link */
		if (!PQisBusy(conn))
			return true;
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
			return false;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							   PQsocket(conn), left, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Runs one statement on the primary (primary_link.h). */
PGresult *
primary_link_exec(const char *sql, int nparams, const char *const *values,
				  const int *lengths, const int *formats, int timeout_ms, char **error)
{
	PGconn	   *conn = primary_link_get(error);
	PGresult   *volatile result = NULL;
	PGresult   *next;
	bool		ready = false;

	if (conn == NULL)
		return NULL;
	if (!PQsendQueryParams(conn, sql, nparams, NULL, values, lengths, formats, 1))
	{
		*error = primary_link_message(conn);
		primary_link_fail(*error);
		return NULL;
	}
	PG_TRY();
	{
		for (;;)
		{
			ready = primary_link_wait(conn, timeout_ms);
			if (!ready)
				break;
			next = PQgetResult(conn);
			if (next == NULL)
				break;
			if (result == NULL)
				result = next;
			else
				PQclear(next);
		}
	}
	PG_CATCH();
	{
		/* interrupted: the statement may still run there; the link's state is unknown */
		PGcancel   *cancel = PQgetCancel(conn);
		char		buf[256];

		if (cancel)
		{
			(void) PQcancel(cancel, buf, sizeof(buf));
			PQfreeCancel(cancel);
		}
		if (result)
			PQclear(result);
		primary_link_fail("interrupted while waiting for the primary");
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (!ready)
	{
		if (result)
			PQclear(result);
		*error = psprintf("the primary did not answer within %d ms", timeout_ms);
		primary_link_fail(*error);
		return NULL;
	}
	if (result == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		if (result)
			PQclear(result);
		*error = primary_link_message(conn);
		primary_link_fail(*error);
		return NULL;
	}
	return result;
}
