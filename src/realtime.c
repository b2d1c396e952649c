/*
 * realtime.c
 *		The WebSocket message types of pg_dash.v1 and the fan-out of
 *		notifications to subscribed clients.
 *
 * Each worker LISTENs on the union of its clients' channels: LISTEN when the
 * first client subscribes, UNLISTEN after the last one leaves.  Every worker
 * receives every notification of the channels it listens to, in commit
 * order, and sends each to its own subscribers once, so a client gets every
 * message exactly once whichever worker it is on.
 *
 * A client may only subscribe to channels the database owner allowed:
 * those declared with pg_dash.define_channel() and those named in a named
 * query's refresh_on (pg_dash.channel_allowed decides).
 *
 * pg_dash.publish() sends payloads over NOTIFY's 8000-byte limit through the
 * pg_dash.messages table; the notification then carries a marker and the
 * row's id, and the worker reads the payload before fanning it out, so
 * clients never see the difference.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "access.h"
#include "auth.h"
#include "bearer.h"
#include "guc.h"
#include "executor.h"
#include "identifier.h"
#include "metrics.h"
#include "notify.h"
#include "page_ws.h"
#include "primary_state.h"
#include "product.h"
#include "query_cache.h"
#include "query_ws.h"
#include "realtime.h"
#include "request.h"
#include "server.h"
#include "session.h"
#include "worker_state.h"
#include "ws.h"

/* Prefix of a notification whose payload is stored in pg_dash.messages. */
#define REALTIME_STORED_MARKER "\x1fpg_dash:message:"

/* Re-runs of one live query are at least this far apart (coalescing). */
#define REALTIME_WATCH_MIN_INTERVAL_MS 200

/* The subscribers of one channel in this worker. */
typedef struct ChannelEntry
{
	char		name[NAMEDATALEN];	/* hash key */
	List	   *subscribers;	/* Conn * subscribed to the channel */
	List	   *watches;		/* Watch * whose query refreshes on it */
	bool		internal;		/* pg_dash's own channel: never unlistened */
} ChannelEntry;

/* A live query of one client: re-run when its channels fire. */
typedef struct Watch
{
	Conn	   *conn;
	char	   *id_json;		/* the client's id, as JSON */
	char	   *name;
	char	   *params_json;	/* the params object, as JSON text, or NULL */
	List	   *channels;		/* char *, the query's refresh_on */
	bool		reads_state;
	bool		dirty;			/* needs a re-run */
	TimestampTz last_run;
} Watch;

static HTAB *channels = NULL;

static void realtime_watch_remove(Watch *w);
static void realtime_handle(Conn *conn, const char *type, cJSON *msg);
static void realtime_watch_mark(Watch *w);
static ChannelEntry *realtime_channel_enter(const char *name);
static void realtime_send_failure_id(Conn *conn, const char *id_json, QueryFailure *failure);

/* Watches marked dirty, waiting for their re-run. */
static int	dirty_watches = 0;

/* The channel table, created on first use. */
static HTAB *
realtime_channels(void)
{
	if (channels == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ChannelEntry);
		channels = hash_create("pg_dash channels", 64, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	return channels;
}

/*
 * A WebSocket opened: remembers the session its handshake's cookie names, or
 * the role of its bearer token (which has no session), and sends
 * {"type":"hello",...}.  "session" says whether there was one: a browser
 * without one gets it with its first state write and reconnects to be told
 * about its session.
 */
void
realtime_opened(Conn *conn, HttpRequest *req)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	char	   *session = session_id_from_cookie(req);
	StringInfoData buf;

	if (session != NULL)
		ws->session = MemoryContextStrdup(conn->ctx, session);
	if (bearer_request_role() != NULL)
	{
		ws->bearer_role = MemoryContextStrdup(conn->ctx, bearer_request_role());
		ws->bearer_expires = bearer_request_expires();
	}

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"type\":\"hello\",\"version\":\"%s\",\"protocol\":\"pg_dash.v1\","
					 "\"worker\":%d,\"pid\":%d,\"session\":%s,\"auth\":\"%s\"}",
					 PG_DASH_VERSION, worker_number, MyProcPid,
					 ws->session ? "true" : "false",
					 auth_mode == AUTH_PASSWORD ? "password" : "none");
	ws_send_text(conn, buf.data, buf.len);
	pfree(buf.data);
}

/*
 * Asks the database whether clients may subscribe to a channel (*open) and
 * whether this connection's viewer may: the access list of the channel, or
 * of a named query that refreshes on it, lets the viewer in.  False with *f
 * filled when the viewer may not.
 */
static bool
realtime_channel_allowed(Conn *conn, const char *name, bool *open, QueryFailure *f)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	bool		allowed = false;
	RequestTxn	txn;
	AuthViewer	viewer;

	*open = false;
	values[0] = CStringGetTextDatum(name);
	request_begin(&txn, "pg_dash: subscribe", ((WsConn *) conn->ws)->session);
	if (bearer_request_role() != NULL)
	{
		/* the token's role, checked as for any request (request.c) */
		if (!request_resolve_role(&txn, f))
		{
			request_abort(&txn);
			return false;
		}
		viewer.roleid = txn.roleid;
		viewer.role_name = txn.role_name;
		viewer.signed_in = true;
	}
	else if (!auth_resolve_viewer(session_bound_id(), &viewer, f))
	{
		request_abort(&txn);
		return false;
	}
	values[1] = ObjectIdGetDatum(viewer.roleid);
	if (SPI_execute_with_args(psprintf("SELECT pg_dash.channel_allowed($1), "
									   "EXISTS (SELECT 1 FROM pg_dash.channels c WHERE c.name = $1 AND %s) "
									   "OR EXISTS (SELECT 1 FROM pg_dash.queries q WHERE $1 = ANY (q.refresh_on) AND %s)",
									   access_filter_sql("channels", "c", 2),
									   access_filter_sql("queries", "q", 2)),
							  2, argtypes, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		*open = !isnull && DatumGetBool(d);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		allowed = !isnull && DatumGetBool(d);
	}
	if (*open && !allowed)
		access_refuse(&viewer, psprintf("channel \"%s\"", name), f);
	request_commit(&txn);
	return allowed || !*open;
}

/* The "channel" string of a message, or NULL after sending an error frame. */
static const char *
realtime_message_channel(Conn *conn, cJSON *msg)
{
	const cJSON *channel = cJSON_GetObjectItemCaseSensitive(msg, "channel");

	if (!cJSON_IsString(channel))
	{
		ws_send_error(conn, NULL, "invalid_message", "message has no \"channel\" string", NULL, NULL);
		return NULL;
	}
	if (!identifier_valid(channel->valuestring, ""))
	{
		ws_send_error(conn, NULL, "invalid_channel", "invalid channel name",
					  psprintf("\"%.80s\" is not a valid channel name.", channel->valuestring),
					  "Channel names are identifiers: letters, digits and underscores, at most 63 bytes, not starting with a digit.");
		return NULL;
	}
	return channel->valuestring;
}

/* subscribe {channel}: LISTEN in this worker if needed, then register. */
static void
realtime_subscribe(Conn *conn, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	const char *name = realtime_message_channel(conn, msg);
	ChannelEntry *entry;
	MemoryContext oldcxt;
	QueryFailure failure;
	bool		open;

	if (name == NULL)
		return;
	entry = hash_search(realtime_channels(), name, HASH_FIND, NULL);
	if (entry != NULL && list_member_ptr(entry->subscribers, conn))
	{
		ws_send_ack(conn, "subscribed", "channel", name);
		return;
	}
	if (list_length(ws->channels) >= pg_dash_ws_max_subscriptions)
	{
		metrics_limit_hit(LIMIT_WS_MAX_SUBSCRIPTIONS);
		ws_send_error(conn, NULL, "too_many_subscriptions",
					  psprintf("a connection can subscribe to at most %d channels", pg_dash_ws_max_subscriptions),
					  psprintf("Channel \"%s\" was not subscribed.", name),
					  "Unsubscribe from channels no longer shown, or raise pg_dash.ws_max_subscriptions.");
		return;
	}
	if (!realtime_channel_allowed(conn, name, &open, &failure))
	{
		ws_send_error(conn, NULL, failure.code, failure.message, failure.detail, failure.hint);
		return;
	}
	if (!open)
	{
		ws_send_error(conn, NULL, "channel_not_allowed",
					  psprintf("channel \"%s\" is not open to clients", name), NULL,
					  "Declare it with pg_dash.define_channel() or name it in a query's refresh_on.");
		return;
	}
	entry = realtime_channel_enter(name);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	entry->subscribers = lappend(entry->subscribers, conn);
	MemoryContextSwitchTo(conn->ctx);
	ws->channels = lappend(ws->channels, pstrdup(name));
	MemoryContextSwitchTo(oldcxt);
	ws_send_ack(conn, "subscribed", "channel", name);
}

/* Finds or creates a channel's entry, LISTENing when it is new. */
static ChannelEntry *
realtime_channel_enter(const char *name)
{
	bool		found;
	ChannelEntry *entry = hash_search(realtime_channels(), name, HASH_ENTER, &found);

	if (!found)
	{
		entry->subscribers = NIL;
		entry->watches = NIL;
		entry->internal = false;
		PG_TRY();
		{
			notify_listen(name);
		}
		PG_CATCH();
		{
			hash_search(realtime_channels(), name, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return entry;
}

/* UNLISTENs a channel nobody in this worker needs any more. */
static void
realtime_channel_release(ChannelEntry *entry)
{
	char		name[NAMEDATALEN];

	if (entry->subscribers != NIL || entry->watches != NIL || entry->internal ||
		query_cache_listens(entry->name))
		return;
	strlcpy(name, entry->name, sizeof(name));
	hash_search(realtime_channels(), name, HASH_REMOVE, NULL);
	notify_unlisten(name);
}

/* Removes a client from a channel; UNLISTEN after the last one. */
static void
realtime_remove_subscriber(const char *name, Conn *conn)
{
	ChannelEntry *entry = hash_search(realtime_channels(), name, HASH_FIND, NULL);

	if (entry == NULL)
		return;
	entry->subscribers = list_delete_ptr(entry->subscribers, conn);
	realtime_channel_release(entry);
}

/* unsubscribe {channel}. */
static void
realtime_unsubscribe(Conn *conn, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	const char *name = realtime_message_channel(conn, msg);
	ListCell   *lc;

	if (name == NULL)
		return;
	foreach(lc, ws->channels)
	{
		char	   *mine = (char *) lfirst(lc);

		if (strcmp(mine, name) == 0)
		{
			ws->channels = foreach_delete_current(ws->channels, lc);
			pfree(mine);
			realtime_remove_subscriber(name, conn);
			break;
		}
	}
	ws_send_ack(conn, "unsubscribed", "channel", name);
}

/* Detaches a watch from its channels and frees it. */
static void
realtime_watch_remove(Watch *w)
{
	ListCell   *lc;

	foreach(lc, w->channels)
	{
		ChannelEntry *entry = hash_search(realtime_channels(), (char *) lfirst(lc), HASH_FIND, NULL);

		if (entry == NULL)
			continue;
		entry->watches = list_delete_ptr(entry->watches, w);
		realtime_channel_release(entry);
	}
	if (w->dirty)
		dirty_watches--;
}

/* The "id" of a message as JSON text, or NULL when absent. */
static char *
realtime_message_id(cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	char	   *printed;
	char	   *copy;

	if (id == NULL || !(cJSON_IsString(id) || cJSON_IsNumber(id)))
		return NULL;
	printed = cJSON_PrintUnformatted(id);
	copy = pstrdup(printed);
	cJSON_free(printed);
	return copy;
}

/*
 * Runs a named query's frame in this worker, as bearer_role when it is set
 * (a message of the connection runs as it already; a watch's re-run takes it
 * here).
 */
static int
realtime_run_here(const char *name, cJSON *params, const char *session, const char *bearer_role,
				  const char *id_json, const char *prefix, StringInfo out, bool *read_state)
{
	volatile int status = 0;

	if (bearer_role == NULL ||
		(bearer_request_role() != NULL && strcmp(bearer_request_role(), bearer_role) == 0))
		return query_run_frame(name, params, session, id_json, prefix, out, read_state);
	bearer_enter(bearer_role, 0);
	PG_TRY();
	{
		status = query_run_frame(name, params, session, id_json, prefix, out, read_state);
	}
	PG_FINALLY();
	{
		bearer_forget();
	}
	PG_END_TRY();
	return status;
}

/*
 * Runs a named query for WebSocket clients: in an executor when the pool
 * runs (done() is called from the loop when the frame is ready), in this
 * worker otherwise (done() is called before this returns).  The frame is
 * prefix + the result, or the error frame (with id_json, or none when NULL).
 * It runs for session, or as the role of a bearer token (bearer_role).
 * owner: the connection whose runs go one at a time, or NULL.
 */
static void
realtime_run(void *owner, const char *name, const char *params_json, const char *session,
			 const char *bearer_role, const char *id_json, const char *prefix,
			 ExecutorDone done, void *arg)
{
	StringInfoData out;

	initStringInfo(&out);
	if (executor_available())
	{
		StringInfoData body;

		initStringInfo(&body);
		appendStringInfoString(&body, "{\"name\":");
		escape_json(&body, name);
		appendStringInfo(&body, ",\"params\":%s,\"session\":", params_json ? params_json : "null");
		if (session)
			escape_json(&body, session);
		else
			appendStringInfoString(&body, "null");
		if (bearer_role)
		{
			appendStringInfoString(&body, ",\"bearer_role\":");
			escape_json(&body, bearer_role);
		}
		appendStringInfo(&body, ",\"id\":%s,\"prefix\":", id_json ? id_json : "null");
		escape_json(&body, prefix);
		appendStringInfoChar(&body, '}');
		appendStringInfo(&out, "POST /internal/ws-run HTTP/1.1\r\nHost: internal\r\n"
						 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
						 body.len, body.data);
		if (!executor_submit(owner, out.data, out.len, NULL, done, arg))
		{
			QueryFailure failure;

			resetStringInfo(&out);
			request_fail(&failure, 503, "queue_full",
						 "every executor is busy and the run queue is full",
						 "The query was not run.", "Retry shortly.");
			query_failure_message(&failure, id_json, &out);
			done(arg, 503, true, out.data, out.len);
		}
	}
	else
	{
		cJSON	   *params = params_json ? cJSON_Parse(params_json) : NULL;
		bool		read_state = true;
		int			status = realtime_run_here(name, params, session, bearer_role, id_json, prefix,
											   &out, &read_state);

		cJSON_Delete(params);
		done(arg, status, read_state, out.data, out.len);
	}
}

/* Sends the frame of a query message's run to its connection. */
static void
realtime_result_done(void *arg, int status, bool read_state, const char *body, size_t len)
{
	Conn	   *conn = (Conn *) arg;

	if (body == NULL)
	{
		QueryFailure failure;

		request_fail(&failure, 503, "executor_failed", "the executor running this query ended before answering",
					 NULL, "Send the query again.");
		realtime_send_failure_id(conn, NULL, &failure);
		return;
	}
	ws_send_text(conn, body, len);
}

/*
 * Runs a named query for a client and sends the result (or an error) with
 * the client's id.
 */
static void
realtime_send_result(Conn *conn, const char *id_json, const char *name, cJSON *params)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	StringInfoData prefix;
	char	   *params_json = NULL;

	/* nothing is built for a client that stopped reading (it is closed) */
	if (!ws_can_send(conn))
		return;
	initStringInfo(&prefix);
	appendStringInfo(&prefix, "\"type\":\"result\",\"id\":%s,\"name\":", id_json ? id_json : "null");
	escape_json(&prefix, name);
	appendStringInfoChar(&prefix, ',');
	if (params)
	{
		char	   *printed = cJSON_PrintUnformatted(params);

		params_json = pstrdup(printed);
		cJSON_free(printed);
	}
	realtime_run(conn, name, params_json, ws->session, ws->bearer_role, id_json, prefix.data,
				 realtime_result_done, conn);
}

/* query {id, name, params}: one result. */
static void
realtime_query(Conn *conn, cJSON *msg)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(msg, "name");
	char	   *id_json = realtime_message_id(msg);

	if (!cJSON_IsString(name))
	{
		ws_send_error(conn, NULL, "invalid_message", "query message has no \"name\" string", NULL, NULL);
		return;
	}
	realtime_send_result(conn, id_json, name->valuestring,
						 cJSON_GetObjectItemCaseSensitive(msg, "params"));
}

/* Reads the refresh_on channels of a named query; false when there is no such query. */
static bool
realtime_query_channels(const char *name, List **channels_out)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	MemoryContext caller = CurrentMemoryContext;
	bool		found = false;
	RequestTxn	txn;

	values[0] = CStringGetTextDatum(name);
	*channels_out = NIL;
	request_begin(&txn, "pg_dash: watch", NULL);
	if (SPI_execute_with_args("SELECT unnest(refresh_on || '{}'::text[]) FROM pg_dash.queries WHERE name = $1 "
							  "UNION ALL SELECT NULL FROM pg_dash.queries WHERE name = $1",
							  1, argtypes, values, NULL, true, 0) == SPI_OK_SELECT)
	{
		uint64		i;

		for (i = 0; i < SPI_processed; i++)
		{
			char	   *ch = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			found = true;
			if (ch)
				*channels_out = lappend(*channels_out, MemoryContextStrdup(caller, ch));
		}
	}
	request_commit(&txn);
	return found;
}

/* watch {id, name, params}: a result now and whenever the data changes. */
static void
realtime_watch(Conn *conn, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(msg, "name");
	cJSON	   *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	char	   *id_json = realtime_message_id(msg);
	List	   *chans;
	Watch	   *w;
	ListCell   *lc;
	MemoryContext oldcxt;
	QueryFailure failure;

	if (!cJSON_IsString(name) || id_json == NULL)
	{
		ws_send_error(conn, NULL, "invalid_message", "watch needs an \"id\" and a \"name\"", NULL, NULL);
		return;
	}
	foreach(lc, ws->watches)
		if (strcmp(((Watch *) lfirst(lc))->id_json, id_json) == 0)
		{
			request_fail(&failure, 400, "duplicate_id", "a watch with this id already exists", NULL,
					   "Send unwatch first, or use another id.");
			realtime_send_failure_id(conn, id_json, &failure);
			return;
		}
	if (list_length(ws->watches) >= pg_dash_ws_max_watches)
	{
		metrics_limit_hit(LIMIT_WS_MAX_WATCHES);
		request_fail(&failure, 429, "too_many_watches",
				   psprintf("a connection can hold at most %d watches", pg_dash_ws_max_watches),
				   "The watch was not started.",
				   "Send unwatch for results no longer shown, or raise pg_dash.ws_max_watches.");
		realtime_send_failure_id(conn, id_json, &failure);
		return;
	}
	if (!realtime_query_channels(name->valuestring, &chans))
	{
		/* the result message carries the 404 */
		realtime_send_result(conn, id_json, name->valuestring, params);
		return;
	}

	oldcxt = MemoryContextSwitchTo(conn->ctx);
	w = palloc0(sizeof(Watch));
	w->conn = conn;
	w->id_json = pstrdup(id_json);
	w->name = pstrdup(name->valuestring);
	if (params)
	{
		char	   *printed = cJSON_PrintUnformatted(params);

		w->params_json = pstrdup(printed);
		cJSON_free(printed);
	}
	/* until a run shows that the query does not read the session state */
	w->reads_state = true;
	foreach(lc, chans)
		w->channels = lappend(w->channels, pstrdup((char *) lfirst(lc)));
	ws->watches = lappend(ws->watches, w);
	MemoryContextSwitchTo(TopMemoryContext);
	foreach(lc, w->channels)
	{
		ChannelEntry *entry = realtime_channel_enter((char *) lfirst(lc));

		entry->watches = lappend(entry->watches, w);
	}
	MemoryContextSwitchTo(oldcxt);

	/* the first result comes from a run like every later one */
	w->last_run = 0;
	realtime_watch_mark(w);
	server_wake_after(0);
}

/* unwatch {id}. */
static void
realtime_unwatch(Conn *conn, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	char	   *id_json = realtime_message_id(msg);
	ListCell   *lc;
	StringInfoData buf;

	if (id_json == NULL)
	{
		ws_send_error(conn, NULL, "invalid_message", "unwatch needs an \"id\"", NULL, NULL);
		return;
	}
	foreach(lc, ws->watches)
	{
		Watch	   *w = (Watch *) lfirst(lc);

		if (strcmp(w->id_json, id_json) == 0)
		{
			ws->watches = foreach_delete_current(ws->watches, lc);
			realtime_watch_remove(w);
			break;
		}
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"type\":\"unwatched\",\"id\":%s}", id_json);
	ws_send_text(conn, buf.data, buf.len);
}

/* Marks a watch for a re-run. */
static void
realtime_watch_mark(Watch *w)
{
	if (!w->dirty)
	{
		w->dirty = true;
		dirty_watches++;
	}
}

/*
 * Reads the id and current state of the session whose notify_id a
 * notification names; false when there is none (expired, or a forged
 * number).  The state is read from the table, never taken from the
 * notification: any role can NOTIFY.
 */
static bool
realtime_read_changed_session(const char *payload, char *id, StringInfo state)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char	   *end;
	long long	notify_id;
	RequestTxn	txn;
	QueryFailure failure;
	volatile bool found = false;

	errno = 0;
	notify_id = strtoll(payload, &end, 10);
	if (*end != '\0' || end == payload || errno != 0)
		return false;
	/* a hot standby cannot read the UNLOGGED table: the primary has it */
	if (RecoveryInProgress())
		return primary_state_changed(notify_id, id, state);
	values[0] = Int64GetDatum(notify_id);
	request_init(&txn);
	PG_TRY();
	{
		request_begin(&txn, "pg_dash: reading a changed session", NULL);
		if (SPI_execute_with_args("SELECT id, data::text FROM pg_dash.session_state "
								  "WHERE notify_id = $1 AND expires_at > now()",
								  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
		{
			strlcpy(id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), 65);
			appendStringInfoString(state, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
			found = true;
		}
		request_commit(&txn);
	}
	PG_CATCH();
	{
		request_catch(&txn, "reading a changed session", &failure);
		found = false;
	}
	PG_END_TRY();
	return found;
}

/*
 * Marks the live queries that read a session's state for a re-run and sends
 * that session's tabs its current state.  The payload is the session's
 * notify_id.
 */
static void
realtime_state_changed(const char *payload)
{
	char		id[65];
	dlist_iter	iter;
	StringInfoData state;
	StringInfoData msg;
	bool		any = false;

	/* most workers have no tab of the session: ask the table only when some tab has a session */
	dlist_foreach(iter, &ws_connections)
		if (dlist_container(WsConn, node, iter.cur)->session != NULL)
			any = true;
	initStringInfo(&state);
	if (!any || !realtime_read_changed_session(payload, id, &state))
		return;

	initStringInfo(&msg);
	appendStringInfo(&msg, "{\"type\":\"state\",\"state\":%s}", state.data);
	dlist_foreach(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);
		ListCell   *lc;

		if (ws->session == NULL || strcmp(ws->session, id) != 0 || ws->closing)
			continue;
		ws_send_text(ws->conn, msg.data, msg.len);
		foreach(lc, ws->watches)
			if (((Watch *) lfirst(lc))->reads_state)
				realtime_watch_mark((Watch *) lfirst(lc));
	}
}

/* A watch a run's result goes to, found again by its connection's serial and id. */
typedef struct WatchTarget
{
	uint64		serial;
	char	   *id_json;
	char	   *session;		/* the watch's connection's session, or NULL */
} WatchTarget;

/*
 * One run of a live query, shared by the watches that ask the same query
 * with the same parameters (and session, when the query reads state).  It
 * lives in TopMemoryContext until its answer arrives: the watches may be gone
 * by then, so they are looked up again.
 */
typedef struct WatchJob
{
	char	   *key;
	char	   *name;
	char	   *params_json;
	char	   *session;		/* the session the run sees */
	char	   *bearer_role;	/* or the role of a bearer token */
	List	   *targets;		/* WatchTarget * */
} WatchJob;

/* The watch a target names, if its connection and the watch still exist. */
static Watch *
realtime_find_watch(const WatchTarget *t)
{
	dlist_iter	iter;

	dlist_foreach(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);
		ListCell   *lc;

		if (ws->serial != t->serial)
			continue;
		if (ws->closing)
			return NULL;
		foreach(lc, ws->watches)
			if (strcmp(((Watch *) lfirst(lc))->id_json, t->id_json) == 0)
				return (Watch *) lfirst(lc);
		return NULL;
	}
	return NULL;
}

/* Frees a watch run. */
static void
realtime_watch_job_free(WatchJob *job)
{
	list_free_deep(job->targets);
	pfree(job);
}

/*
 * The answer of a watch run: sent to every target still there.  A run that
 * used the session state is only for the watches of that session; the
 * others run again with their own.
 */
static void
realtime_watch_done(void *arg, int status, bool read_state, const char *body, size_t len)
{
	WatchJob   *job = (WatchJob *) arg;
	ListCell   *lc;
	StringInfoData msg;

	initStringInfo(&msg);
	foreach(lc, job->targets)
	{
		WatchTarget *t = (WatchTarget *) lfirst(lc);
		Watch	   *w = realtime_find_watch(t);

		if (w == NULL)
			continue;
		resetStringInfo(&msg);
		if (!read_state ||
			(t->session == NULL && job->session == NULL) ||
			(t->session != NULL && job->session != NULL && strcmp(t->session, job->session) == 0))
		{
			w->reads_state = read_state;
			if (body == NULL)
			{
				QueryFailure failure;

				request_fail(&failure, 503, "executor_failed",
							 "the executor running this live query ended before answering",
							 NULL, "It runs again when its data changes.");
				realtime_send_failure_id(w->conn, w->id_json, &failure);
			}
			else if (status == 200)
			{
				/* body is {"columns":...}: splice in the type, id and name */
				appendStringInfo(&msg, "{\"type\":\"result\",\"id\":%s,\"name\":", w->id_json);
				escape_json(&msg, w->name);
				appendStringInfoChar(&msg, ',');
				appendBinaryStringInfo(&msg, body + 1, len - 1);
				ws_send_text(w->conn, msg.data, msg.len);
			}
			else if (len > 16 && strncmp(body, "{\"type\":\"error\",", 16) == 0)
			{
				/* body is {"type":"error","error":...}: splice in the id */
				appendStringInfo(&msg, "{\"type\":\"error\",\"id\":%s,", w->id_json);
				appendBinaryStringInfo(&msg, body + 16, len - 16);
				ws_send_text(w->conn, msg.data, msg.len);
			}
			else
				ws_send_text(w->conn, body, len);
			continue;
		}
		/* another session's state: run again for this watch's own */
		w->reads_state = true;
		realtime_watch_mark(w);
	}
	pfree(msg.data);
	realtime_watch_job_free(job);
	if (dirty_watches > 0)
		server_wake_after(REALTIME_WATCH_MIN_INTERVAL_MS);
}

/*
 * Re-runs the live queries whose data changed, at most once per
 * REALTIME_WATCH_MIN_INTERVAL_MS each, so a burst of notifications becomes
 * a few runs whose last one sees the final data.  Watches of the same query
 * with the same parameters (and session, when the query reads state or
 * pg_dash.auth signs people in) share one run.  Nothing is run for a client that stopped reading.
 */
void
realtime_run_dirty_watches(void)
{
	TimestampTz now;
	dlist_iter	iter;
	List	   *jobs = NIL;
	ListCell   *lc;
	MemoryContext oldcxt;

	if (dirty_watches == 0)
		return;
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	now = GetCurrentTimestamp();
	dlist_foreach(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);

		foreach(lc, ws->watches)
		{
			Watch	   *w = (Watch *) lfirst(lc);
			WatchJob   *job = NULL;
			WatchTarget *t;
			char	   *key;
			ListCell   *j;

			if (ws->closing)
				break;
			if (ws_bearer_expired(w->conn, now))
				break;
			if (!w->dirty ||
				!TimestampDifferenceExceeds(w->last_run, now, REALTIME_WATCH_MIN_INTERVAL_MS))
				continue;
			if (!ws_can_send(w->conn))
				break;
			w->dirty = false;
			dirty_watches--;
			w->last_run = now;
			/*
			 * With sign-in, sessions may be different people (roles, RLS):
			 * only the watches of one session share a run then; those of a
			 * bearer token's role, only with that role.
			 */
			key = psprintf("%s\x1f%s\x1f%s\x1f%s", w->name, w->params_json ? w->params_json : "",
						   (w->reads_state || auth_mode == AUTH_PASSWORD) && ws->session ?
						   ws->session : "", ws->bearer_role ? ws->bearer_role : "");
			foreach(j, jobs)
				if (strcmp(((WatchJob *) lfirst(j))->key, key) == 0)
					job = (WatchJob *) lfirst(j);
			if (job == NULL)
			{
				job = palloc0(sizeof(WatchJob));
				job->key = key;
				job->name = pstrdup(w->name);
				job->params_json = w->params_json ? pstrdup(w->params_json) : NULL;
				job->session = ws->session ? pstrdup(ws->session) : NULL;
				job->bearer_role = ws->bearer_role ? pstrdup(ws->bearer_role) : NULL;
				jobs = lappend(jobs, job);
			}
			t = palloc0(sizeof(WatchTarget));
			t->serial = ws->serial;
			t->id_json = pstrdup(w->id_json);
			t->session = ws->session ? pstrdup(ws->session) : NULL;
			job->targets = lappend(job->targets, t);
		}
	}
	MemoryContextSwitchTo(oldcxt);
	foreach(lc, jobs)
	{
		WatchJob   *job = (WatchJob *) lfirst(lc);

		realtime_run(NULL, job->name, job->params_json, job->session, job->bearer_role, NULL, "",
					 realtime_watch_done, job);
	}
	list_free(jobs);
	/* those still too recent run when the interval has passed */
	if (dirty_watches > 0)
		server_wake_after(REALTIME_WATCH_MIN_INTERVAL_MS);
}

/* Forgets a closing connection's subscriptions. */
void
realtime_forget(Conn *conn)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	ListCell   *lc;

	foreach(lc, ws->channels)
		realtime_remove_subscriber((char *) lfirst(lc), conn);
	ws->channels = NIL;
	foreach(lc, ws->watches)
		realtime_watch_remove((Watch *) lfirst(lc));
	ws->watches = NIL;
	page_ws_forget(conn);
	executor_cancel_owner(conn);
}

/* Sends a failure as an error frame carrying the client's id (JSON text). */
static void
realtime_send_failure_id(Conn *conn, const char *id_json, QueryFailure *failure)
{
	StringInfoData out;

	initStringInfo(&out);
	query_failure_message(failure, id_json, &out);
	ws_send_text(conn, out.data, out.len);
}

/* Handles one message by its type (a bearer connection's as its token's role). */
void
realtime_dispatch(Conn *conn, const char *type, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;

	if (ws->bearer_role == NULL)
	{
		realtime_handle(conn, type, msg);
		return;
	}
	if (ws_bearer_expired(conn, GetCurrentTimestamp()))
		return;
	bearer_enter(ws->bearer_role, ws->bearer_expires);
	PG_TRY();
	{
		realtime_handle(conn, type, msg);
	}
	PG_FINALLY();
	{
		bearer_forget();
	}
	PG_END_TRY();
}

/* Handles one message by its type. */
static void
realtime_handle(Conn *conn, const char *type, cJSON *msg)
{
	if (strcmp(type, "ping") == 0)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		cJSON	   *pong = cJSON_CreateObject();

		cJSON_AddStringToObject(pong, "type", "pong");
		if (id)
			cJSON_AddItemToObject(pong, "id", cJSON_Duplicate(id, true));
		ws_send_json(conn, pong);
		cJSON_Delete(pong);
	}
	else if (strcmp(type, "subscribe") == 0)
		realtime_subscribe(conn, msg);
	else if (strcmp(type, "unsubscribe") == 0)
		realtime_unsubscribe(conn, msg);
	else if (strcmp(type, "query") == 0)
		realtime_query(conn, msg);
	else if (strcmp(type, "watch") == 0)
		realtime_watch(conn, msg);
	else if (strcmp(type, "unwatch") == 0)
		realtime_unwatch(conn, msg);
	else if (strcmp(type, "page") == 0)
		page_ws_subscribe(conn, msg);
	else
		ws_send_error(conn, NULL, "unknown_type",
					  psprintf("unknown message type \"%.64s\"", type), NULL,
					  "Valid types are: " REALTIME_MESSAGE_TYPES ".");
}

/*
 * Reads the payload of a message stored for a channel; NULL when it has
 * expired, the marker is malformed, or the message was stored for another
 * channel (any role can NOTIFY: a forged marker must not replay another
 * channel's message).
 */
static char *
realtime_fetch_stored(const char *channel, const char *id_text)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char	   *payload = NULL;
	char	   *end;
	long long	id;
	RequestTxn	txn;

	errno = 0;
	id = strtoll(id_text, &end, 10);
	if (*end != '\0' || end == id_text || errno != 0)
		return NULL;
	/* a hot standby cannot read the UNLOGGED table: the primary has it */
	if (RecoveryInProgress())
		return primary_message_read(id, channel);
	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(channel);
	request_begin(&txn, "pg_dash: reading a stored message", NULL);
	if (SPI_execute_with_args("SELECT payload FROM pg_dash.messages WHERE id = $1 AND channel = $2",
							  2, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			payload = MemoryContextStrdup(txn.cxt, v);
	}
	request_commit(&txn);
	return payload;
}

/*
 * True when a payload is exactly one JSON value: it is then passed through
 * as is, so it must be JSON by the strict rules, not just by cJSON's.
 */
static bool
realtime_payload_is_json(const char *payload)
{
	cJSON	   *parsed = cJSON_ParseWithOpts(payload, NULL, true);
	JsonLexContext *lex;

	/*
	 * cJSON first: it rejects trailing text, and its nesting limit keeps
	 * PostgreSQL's recursive parser below far from the stack limit.
	 */
	if (parsed == NULL)
		return false;
	cJSON_Delete(parsed);
	/* cJSON accepts numbers JSON does not, such as 01, 1. and -.5 */
	lex = makeJsonLexContextCstringLen(unconstify(char *, payload), strlen(payload),
									   GetDatabaseEncoding(), false);
	return pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
}

/* Builds the notify message a client receives. */
static void
realtime_build_notify(StringInfo buf, const char *channel, const char *payload)
{
	appendStringInfoString(buf, "{\"type\":\"notify\",\"channel\":");
	escape_json(buf, channel);
	appendStringInfoString(buf, ",\"payload\":");
	/* JSON payloads are passed through as JSON, anything else as a string */
	if (realtime_payload_is_json(payload))
		appendStringInfoString(buf, payload);
	else
		escape_json(buf, payload);
	/* milliseconds since the Unix epoch, as JavaScript's Date wants */
	appendStringInfo(buf, ",\"ts\":%.3f}",
					 GetCurrentTimestamp() / 1000.0 +
					 (double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000.0);
}

/*
 * Collects the notifications that arrived and sends each to the clients of
 * this worker subscribed to its channel.
 */
void
realtime_deliver_notifications(void)
{
	MemoryContext oldcxt;
	List	   *received;
	ListCell   *lc;

	query_cache_start_listens();
	/* frames a failed pass queued and did not write */
	conn_flush_now();
	oldcxt = MemoryContextSwitchTo(worker_request_context);
	received = notify_collect();

	foreach(lc, received)
	{
		Notification *n = (Notification *) lfirst(lc);
		ChannelEntry *entry;
		const char *payload = n->payload;
		StringInfoData buf;
		ListCell   *sc;
		ConnShared *frame;
		uint64		sent;

		metrics_count(METRIC_NOTIFICATIONS_RECEIVED, 1);
		query_cache_bump(n->channel);
		if (strcmp(n->channel, SESSION_STATE_CHANNEL) == 0)
		{
			realtime_state_changed(payload);
			continue;
		}
		entry = hash_search(realtime_channels(), n->channel, HASH_FIND, NULL);
		if (entry == NULL)
			continue;
		foreach(sc, entry->watches)
			realtime_watch_mark((Watch *) lfirst(sc));
		if (entry->subscribers == NIL)
			continue;
		if (strncmp(payload, REALTIME_STORED_MARKER, strlen(REALTIME_STORED_MARKER)) == 0)
		{
			payload = realtime_fetch_stored(n->channel, payload + strlen(REALTIME_STORED_MARKER));
			if (payload == NULL)
			{
				ereport(LOG,
						(errmsg("pg_dash worker %d: stored message for channel \"%s\" has expired or belongs to another channel",
								worker_number, n->channel)));
				continue;
			}
		}
		initStringInfo(&buf);
		realtime_build_notify(&buf, n->channel, payload);
		/* one frame for every subscriber: each queue refers to it */
		frame = ws_frame_shared(buf.data, buf.len);
		sent = 0;
		foreach(sc, entry->subscribers)
			if (ws_send_shared((Conn *) lfirst(sc), frame))
				sent++;
		conn_shared_release(frame);
		metrics_count(METRIC_WS_MESSAGES_SENT, sent);
		metrics_count(METRIC_NOTIFICATIONS_DELIVERED, list_length(entry->subscribers));
	}
	/* one write per client for all the frames of this pass */
	conn_flush_now();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/*
 * Tells every subscriber of this worker that notifications may have been
 * lost (the path that receives them failed), so that clients re-read what
 * they show.
 */
void
realtime_report_missed(void)
{
	dlist_iter	iter;

	dlist_foreach(iter, &ws_connections)
	{
		WsConn	   *ws = dlist_container(WsConn, node, iter.cur);
		StringInfoData msg;
		ListCell   *lc;

		if (ws->channels == NIL && ws->watches == NIL)
			continue;
		initStringInfo(&msg);
		appendStringInfoString(&msg, "{\"type\":\"missed\",\"channels\":[");
		foreach(lc, ws->channels)
		{
			if (lc != list_head(ws->channels))
				appendStringInfoChar(&msg, ',');
			escape_json(&msg, (char *) lfirst(lc));
		}
		appendStringInfoString(&msg, "]}");
		ws_send_text(ws->conn, msg.data, msg.len);
		pfree(msg.data);
		foreach(lc, ws->watches)
			realtime_watch_mark((Watch *) lfirst(lc));
	}
}

/* LISTENs on pg_dash's own channels; called once when a worker starts. */
void
realtime_init(void)
{
	ChannelEntry *entry = realtime_channel_enter(SESSION_STATE_CHANNEL);

	entry->internal = true;
}
