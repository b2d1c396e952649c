/*
 * primary_listen.c
 *		A standby's serving worker LISTENs on the primary for its clients'
 *		channels, and hands a notification over only once its own replay
 *		has passed the primary's WAL position read after it.
 *
 * NOTIFY is not replicated, so a standby's worker keeps a libpq connection
 * of its own to the primary (pg_dash.primary_conninfo), non-blocking and
 * driven by the worker's loop: its socket is watched by the loop
 * (server_watch_readable), and every pass of the loop advances it.  The
 * channels mirror those the worker LISTENs on locally (notify.c calls
 * primary_listen_want / _unwant), so realtime and the cache need not know
 * where a notification comes from.
 *
 * No stale live data: a notification is sent after its transaction
 * committed on the primary, but the standby may not have replayed that
 * commit yet; a client that re-read then would see the state before it.
 * So each notification heard is stamped with pg_current_wal_insert_lsn()
 * read on the primary after it arrived (a position past the notifying
 * commit), and is handed over once GetXLogReplayRecPtr() reached it.  A
 * notification that waited pg_dash.replay_wait is handed over anyway and
 * the worker's clients get a "lagging" frame.  Order is kept: a
 * notification never passes an earlier one.
 *
 * The link broken or back: the worker's clients get "missed" (they re-read
 * what they show) and the cached results of its channels are outdated,
 * since notifications sent meanwhile are lost.  A
 * notification heard but not stamped is kept and stamped after the
 * reconnection (a later position is still past its commit).  A promoted
 * standby hands over everything it holds and drops the link: its own
 * LISTENs (made all along) receive its own NOTIFYs from then on.
 */
#include "postgres.h"

#include "access/xlogdefs.h"
#include "access/xlogrecovery.h"
#include "libpq-fe.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "notify.h"
#include "primary_link.h"
#include "primary_listen.h"
#include "query_cache.h"
#include "replica.h"
#include "server.h"
#include "worker_state.h"

/* After a failure, the next attempt waits this long (milliseconds). */
#define LISTEN_RETRY_MS 1000

/* How often the loop looks again while connecting or waiting for replay (ms). */
#define LISTEN_POLL_MS 10

int			primary_listen_replay_wait = 2000;

/* A notification heard from the primary, waiting to be handed over. */
typedef struct Heard
{
	char	   *channel;
	char	   *payload;
	int32		pid;
	XLogRecPtr	lsn;			/* InvalidXLogRecPtr until stamped */
	TimestampTz heard_at;
} Heard;

/* What the one statement in flight on the link is. */
typedef enum ListenInFlight
{
	INFLIGHT_NONE,
	INFLIGHT_LISTEN,			/* LISTEN / UNLISTEN of the channels */
	INFLIGHT_POSITION			/* the primary's WAL position */
} ListenInFlight;

static MemoryContext listen_cxt = NULL;
static PGconn *lconn = NULL;
static void *lwatch = NULL;
static bool connecting = false;
static bool ever_connected = false;
static TimestampTz failed_at = 0;
static ListenInFlight inflight = INFLIGHT_NONE;
static int	stamping = 0;		/* unstamped notifications the position in flight stamps */
static List *wanted = NIL;		/* char *: the channels to LISTEN on */
static List *listened = NIL;	/* char *: those LISTENed on the link */
static List *heard = NIL;		/* Heard *, in order */
static bool missed = false;
static bool lagging = false;
static int	lag_ms = 0;

/* Defines pg_dash.replay_wait. */
void
primary_listen_define_gucs(void)
{
	DefineCustomIntVariable("pg_dash.replay_wait",
							"Longest a hot standby holds a notification from the primary until its replay has caught up.",
							"Past it the notification is delivered anyway and WebSocket clients get a \"lagging\" frame.",
							&primary_listen_replay_wait,
							2000, 0, 600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* The module's memory, created on first use. */
static MemoryContext
primary_listen_context(void)
{
	if (listen_cxt == NULL)
		listen_cxt = AllocSetContextCreate(TopMemoryContext, "pg_dash primary listen",
										   ALLOCSET_SMALL_SIZES);
	return listen_cxt;
}

/* True when a list of names holds name. */
static bool
primary_listen_has(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* The worker listens on a channel: mirror it on the primary. */
void
primary_listen_want(const char *channel)
{
	MemoryContext oldcxt;

	if (primary_listen_has(wanted, channel))
		return;
	oldcxt = MemoryContextSwitchTo(primary_listen_context());
	wanted = lappend(wanted, pstrdup(channel));
	MemoryContextSwitchTo(oldcxt);
}

/* The worker no longer listens on a channel. */
void
primary_listen_unwant(const char *channel)
{
	ListCell   *lc;

	foreach(lc, wanted)
		if (strcmp((char *) lfirst(lc), channel) == 0)
		{
			pfree(lfirst(lc));
			wanted = foreach_delete_current(wanted, lc);
		}
}

/*
 * Notifications may have been lost: the clients are told (missed), and the
 * cached results that depend on the channels are outdated, since nothing
 * says whether they changed meanwhile.
 */
static void
primary_listen_lost(void)
{
	ListCell   *lc;

	missed = true;
	foreach(lc, wanted)
		query_cache_bump((char *) lfirst(lc));
}

/* Drops the link after a failure (or a promotion, report = false). */
static void
primary_listen_drop(const char *why, bool report)
{
	if (why != NULL && lconn != NULL)
		ereport(LOG,
				(errmsg("pg_dash worker %d: lost the link to the primary that relays notifications: %s",
						worker_number, why)));
	server_unwatch(lwatch);
	lwatch = NULL;
	if (lconn)
		PQfinish(lconn);
	lconn = NULL;
	connecting = false;
	inflight = INFLIGHT_NONE;
	stamping = 0;
	list_free_deep(listened);
	listened = NIL;
	failed_at = GetCurrentTimestamp();
	if (report && ever_connected)
		primary_listen_lost();
}

/* libpq's message of the link, without its newline, in the current context. */
static char *
primary_listen_message(void)
{
	char	   *msg = pstrdup(lconn ? PQerrorMessage(lconn) : "out of memory");
	size_t		n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return msg;
}

/* Starts connecting, unless a failure was less than a second ago. */
static void
primary_listen_start(void)
{
	const char *keys[] = {"application_name", "dbname", NULL};
	const char *values[] = {"pg_dash listen", primary_link_conninfo, NULL};

	if (!primary_link_configured())
		return;
	/* the loop's once-a-second tick brings us back here */
	if (failed_at != 0 &&
		!TimestampDifferenceExceeds(failed_at, GetCurrentTimestamp(), LISTEN_RETRY_MS))
		return;
	lconn = PQconnectStartParams(keys, values, true);
	if (lconn == NULL || PQstatus(lconn) == CONNECTION_BAD)
	{
		primary_listen_drop(NULL, false);
		return;
	}
	connecting = true;
	server_wake_after(LISTEN_POLL_MS);
}

/* Advances a connection being made; once made, watches its socket. */
static void
primary_listen_connect_step(void)
{
	switch (PQconnectPoll(lconn))
	{
		case PGRES_POLLING_FAILED:
			ereport(LOG,
					(errmsg("pg_dash worker %d could not connect to the primary to relay notifications: %s",
							worker_number, primary_listen_message())));
			primary_listen_drop(NULL, true);
			return;
		case PGRES_POLLING_OK:
			connecting = false;
			if (PQsetnonblocking(lconn, 1) != 0)
			{
				primary_listen_drop(primary_listen_message(), true);
				return;
			}
			lwatch = server_watch_readable(PQsocket(lconn));
			/* what was sent while there was no link is lost */
			if (ever_connected)
				primary_listen_lost();
			ever_connected = true;
			return;
		default:
			/* libpq's socket changes while it tries addresses: look again soon */
			server_wake_after(LISTEN_POLL_MS);
			return;
	}
}

/* Appends "<verb> <quoted channel>;" to a batch of statements. */
static void
primary_listen_append(StringInfo sql, const char *verb, const char *channel)
{
	char	   *quoted = PQescapeIdentifier(lconn, channel, strlen(channel));

	if (quoted)
	{
		appendStringInfo(sql, "%s %s;", verb, quoted);
		PQfreemem(quoted);
	}
}

/* Appends "LISTEN x;" or "UNLISTEN x;" for each change of the channel set. */
static void
primary_listen_changes(StringInfo sql)
{
	ListCell   *lc;

	foreach(lc, wanted)
		if (!primary_listen_has(listened, (char *) lfirst(lc)))
			primary_listen_append(sql, "LISTEN", lfirst(lc));
	foreach(lc, listened)
		if (!primary_listen_has(wanted, (char *) lfirst(lc)))
			primary_listen_append(sql, "UNLISTEN", lfirst(lc));
}

/* Sends the next statement when none is in flight: channel changes first, then a position. */
static void
primary_listen_send_next(void)
{
	StringInfoData sql;
	ListCell   *lc;

	if (inflight != INFLIGHT_NONE)
		return;
	initStringInfo(&sql);
	primary_listen_changes(&sql);
	if (sql.len > 0)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(primary_listen_context());

		if (!PQsendQuery(lconn, sql.data))
		{
			MemoryContextSwitchTo(oldcxt);
			primary_listen_drop(primary_listen_message(), true);
			return;
		}
		list_free_deep(listened);
		listened = NIL;
		foreach(lc, wanted)
			listened = lappend(listened, pstrdup(lfirst(lc)));
		MemoryContextSwitchTo(oldcxt);
		inflight = INFLIGHT_LISTEN;
		return;
	}
	stamping = 0;
	foreach(lc, heard)
		if (((Heard *) lfirst(lc))->lsn == InvalidXLogRecPtr)
			stamping++;
	if (stamping == 0)
		return;
	if (!PQsendQuery(lconn, "SELECT pg_catalog.pg_current_wal_insert_lsn()"))
	{
		primary_listen_drop(primary_listen_message(), true);
		return;
	}
	inflight = INFLIGHT_POSITION;
}

/* Stamps the first n unstamped notifications with a WAL position ("X/X"). */
static void
primary_listen_stamp(const char *text, int n)
{
	uint32		hi;
	uint32		lo;
	ListCell   *lc;

	if (sscanf(text, "%X/%X", &hi, &lo) != 2)
		return;
	foreach(lc, heard)
	{
		Heard	   *h = (Heard *) lfirst(lc);

		if (n <= 0)
			break;
		if (h->lsn == InvalidXLogRecPtr)
		{
			h->lsn = ((uint64) hi << 32) | lo;
			n--;
		}
	}
}

/* Reads what arrived: the answer of the statement in flight, notifications. */
static void
primary_listen_read(void)
{
	PGnotify   *n;
	MemoryContext oldcxt;

	if (!PQconsumeInput(lconn))
	{
		primary_listen_drop(primary_listen_message(), true);
		return;
	}
	while (inflight != INFLIGHT_NONE && !PQisBusy(lconn))
	{
		PGresult   *res = PQgetResult(lconn);

		if (res == NULL)
		{
			inflight = INFLIGHT_NONE;
			break;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK && inflight == INFLIGHT_POSITION &&
			PQntuples(res) == 1)
			primary_listen_stamp(PQgetvalue(res, 0, 0), stamping);
		else if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			ereport(LOG,
					(errmsg("pg_dash worker %d: the primary refused a statement of the notification link: %s",
							worker_number, PQresultErrorMessage(res))));
		PQclear(res);
	}
	oldcxt = MemoryContextSwitchTo(primary_listen_context());
	while ((n = PQnotifies(lconn)) != NULL)
	{
		Heard	   *h = palloc(sizeof(Heard));

		h->channel = pstrdup(n->relname);
		h->payload = pstrdup(n->extra);
		h->pid = n->be_pid;
		h->lsn = InvalidXLogRecPtr;
		h->heard_at = GetCurrentTimestamp();
		heard = lappend(heard, h);
		PQfreemem(n);
	}
	MemoryContextSwitchTo(oldcxt);
	if (PQstatus(lconn) == CONNECTION_BAD)
		primary_listen_drop(primary_listen_message(), true);
}

/* Moves a heard notification into the caller's list, as a Notification. */
static List *
primary_listen_hand_over(List *out, Heard *h)
{
	Notification *n = palloc(sizeof(Notification));

	n->channel = pstrdup(h->channel);
	n->payload = pstrdup(h->payload);
	n->pid = h->pid;
	pfree(h->channel);
	pfree(h->payload);
	pfree(h);
	return lappend(out, n);
}

/* Advances the link and returns the notifications ready (primary_listen.h). */
List *
primary_listen_collect(void)
{
	List	   *out = NIL;
	XLogRecPtr	replayed;
	TimestampTz now;
	bool		standby = replica_is_standby();

	if (!standby)
	{
		/* promoted: the replay is complete; the local LISTENs take over */
		if (lconn != NULL)
			primary_listen_drop(NULL, false);
	}
	else if (lconn == NULL)
		primary_listen_start();
	else if (connecting)
		primary_listen_connect_step();
	if (standby && lconn != NULL && !connecting)
	{
		primary_listen_read();
		if (lconn != NULL)
			primary_listen_send_next();
		if (lconn != NULL && PQflush(lconn) < 0)
			primary_listen_drop(primary_listen_message(), true);
	}

	replayed = standby ? GetXLogReplayRecPtr(NULL) : InvalidXLogRecPtr;
	now = GetCurrentTimestamp();
	while (heard != NIL)
	{
		Heard	   *h = (Heard *) linitial(heard);

		if (standby && (h->lsn == InvalidXLogRecPtr || h->lsn > replayed))
		{
			long		secs;
			int			usecs;

			if (!TimestampDifferenceExceeds(h->heard_at, now, primary_listen_replay_wait))
				break;
			TimestampDifference(h->heard_at, now, &secs, &usecs);
			lagging = true;
			lag_ms = Max(lag_ms, (int) (secs * 1000 + usecs / 1000));
		}
		heard = list_delete_first(heard);
		out = primary_listen_hand_over(out, h);
	}
	/* nothing signals the replay's progress: look again soon */
	if (heard != NIL)
		server_wake_after(LISTEN_POLL_MS);
	return out;
}

/* Whether notifications may have been lost since the last call. */
bool
primary_listen_take_missed(void)
{
	bool		was = missed;

	missed = false;
	return was;
}

/* Whether one was handed over before its replay since the last call. */
bool
primary_listen_take_lagging(int *ms)
{
	bool		was = lagging;

	*ms = lag_ms;
	lagging = false;
	lag_ms = 0;
	return was;
}

/* Whether the link is connected now. */
bool
primary_listen_connected(void)
{
	return lconn != NULL && !connecting && PQstatus(lconn) == CONNECTION_OK;
}
