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
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "metrics.h"
#include "notify.h"
#include "pg_dash.h"
#include "realtime.h"
#include "worker.h"
#include "ws.h"

/* Prefix of a notification whose payload is stored in pg_dash.messages. */
#define REALTIME_STORED_MARKER "\x1fpg_dash:message:"

/* The subscribers of one channel in this worker. */
typedef struct ChannelEntry
{
	char		name[NAMEDATALEN];	/* hash key */
	List	   *subscribers;	/* Conn * */
} ChannelEntry;

static HTAB *channels = NULL;

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

/* Sends {"type":"hello",...} when a WebSocket opens. */
void
realtime_hello(Conn *conn)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"type\":\"hello\",\"version\":\"%s\",\"protocol\":\"pg_dash.v1\","
					 "\"worker\":%d,\"pid\":%d}",
					 PG_DASH_VERSION, worker_number, MyProcPid);
	ws_send_text(conn, buf.data, buf.len);
	pfree(buf.data);
}

/* True when a channel name is an identifier NOTIFY accepts unquoted. */
static bool
realtime_channel_name_valid(const char *name)
{
	const char *p;

	if (name[0] == '\0' || strlen(name) >= NAMEDATALEN)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_'))
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* Asks the database whether clients may subscribe to a channel. */
static bool
realtime_channel_allowed(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		allowed = false;

	values[0] = CStringGetTextDatum(name);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_dash.channel_allowed($1)", 1, argtypes, values,
							  NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		allowed = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return allowed;
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
	if (!realtime_channel_name_valid(channel->valuestring))
	{
		ws_send_error(conn, NULL, "invalid_channel", "invalid channel name",
					  psprintf("\"%.80s\" is not a valid channel name.", channel->valuestring),
					  "Channel names are identifiers: letters, digits and underscores, at most 63 bytes, not starting with a digit.");
		return NULL;
	}
	return channel->valuestring;
}

/* Sends {"type":<type>,"channel":<name>}. */
static void
realtime_ack(Conn *conn, const char *type, const char *channel)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"type\":\"%s\",\"channel\":", type);
	escape_json(&buf, channel);
	appendStringInfoChar(&buf, '}');
	ws_send_text(conn, buf.data, buf.len);
}

/* subscribe {channel}: LISTEN in this worker if needed, then register. */
static void
realtime_subscribe(Conn *conn, cJSON *msg)
{
	WsConn	   *ws = (WsConn *) conn->ws;
	const char *name = realtime_message_channel(conn, msg);
	ChannelEntry *entry;
	bool		found;
	MemoryContext oldcxt;

	if (name == NULL)
		return;
	entry = hash_search(realtime_channels(), name, HASH_FIND, NULL);
	if (entry != NULL && list_member_ptr(entry->subscribers, conn))
	{
		realtime_ack(conn, "subscribed", name);
		return;
	}
	if (!realtime_channel_allowed(name))
	{
		ws_send_error(conn, NULL, "channel_not_allowed",
					  psprintf("channel \"%s\" is not open to clients", name), NULL,
					  "Declare it with pg_dash.define_channel() or name it in a query's refresh_on.");
		return;
	}
	entry = hash_search(realtime_channels(), name, HASH_ENTER, &found);
	if (!found)
	{
		entry->subscribers = NIL;
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
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	entry->subscribers = lappend(entry->subscribers, conn);
	MemoryContextSwitchTo(conn->ctx);
	ws->channels = lappend(ws->channels, pstrdup(name));
	MemoryContextSwitchTo(oldcxt);
	realtime_ack(conn, "subscribed", name);
}

/* Removes a client from a channel; UNLISTEN after the last one. */
static void
realtime_remove_subscriber(const char *name, Conn *conn)
{
	ChannelEntry *entry = hash_search(realtime_channels(), name, HASH_FIND, NULL);

	if (entry == NULL)
		return;
	entry->subscribers = list_delete_ptr(entry->subscribers, conn);
	if (entry->subscribers == NIL)
	{
		hash_search(realtime_channels(), name, HASH_REMOVE, NULL);
		notify_unlisten(name);
	}
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
	realtime_ack(conn, "unsubscribed", name);
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
}

/* Handles one message by its type. */
void
realtime_dispatch(Conn *conn, const char *type, cJSON *msg)
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
	else
		ws_send_error(conn, NULL, "unknown_type",
					  psprintf("unknown message type \"%.64s\"", type), NULL,
					  "Valid types are: " REALTIME_MESSAGE_TYPES ".");
}

/*
 * Reads the payload of a stored message; NULL when it has expired or the
 * marker is malformed.
 */
static char *
realtime_fetch_stored(const char *id_text)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char	   *payload = NULL;
	char	   *end;
	long long	id = strtoll(id_text, &end, 10);
	MemoryContext caller = CurrentMemoryContext;

	if (*end != '\0' || end == id_text)
		return NULL;
	values[0] = Int64GetDatum(id);
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT payload FROM pg_dash.messages WHERE id = $1",
							  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			payload = MemoryContextStrdup(caller, v);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return payload;
}

/* Builds the notify message a client receives. */
static void
realtime_build_notify(StringInfo buf, const char *channel, const char *payload)
{
	cJSON	   *parsed = cJSON_Parse(payload);

	appendStringInfoString(buf, "{\"type\":\"notify\",\"channel\":");
	escape_json(buf, channel);
	appendStringInfoString(buf, ",\"payload\":");
	/* JSON payloads are passed through as JSON, anything else as a string */
	if (parsed != NULL)
		appendStringInfoString(buf, payload);
	else
		escape_json(buf, payload);
	cJSON_Delete(parsed);
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
	MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);
	List	   *received = notify_collect();
	ListCell   *lc;

	foreach(lc, received)
	{
		Notification *n = (Notification *) lfirst(lc);
		ChannelEntry *entry;
		const char *payload = n->payload;
		StringInfoData buf;
		ListCell   *sc;

		metrics_count(METRIC_NOTIFICATIONS_RECEIVED, 1);
		entry = hash_search(realtime_channels(), n->channel, HASH_FIND, NULL);
		if (entry == NULL)
			continue;
		if (strncmp(payload, REALTIME_STORED_MARKER, strlen(REALTIME_STORED_MARKER)) == 0)
		{
			payload = realtime_fetch_stored(payload + strlen(REALTIME_STORED_MARKER));
			if (payload == NULL)
			{
				ereport(LOG,
						(errmsg("pg_dash worker %d: stored message for channel \"%s\" has expired",
								worker_number, n->channel)));
				continue;
			}
		}
		initStringInfo(&buf);
		realtime_build_notify(&buf, n->channel, payload);
		foreach(sc, entry->subscribers)
			ws_send_text((Conn *) lfirst(sc), buf.data, buf.len);
		metrics_count(METRIC_NOTIFICATIONS_DELIVERED, list_length(entry->subscribers));
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}
