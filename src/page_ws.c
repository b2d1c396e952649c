/*
 * page_ws.c
 *		The WebSocket "page" message: live reload of dashboard pages.
 *
 * Each worker keeps, in TopMemoryContext, the list of (connection, page
 * path) pairs its clients subscribed to, each with the version of the page
 * it was last told of: the page row's xmin and those of the named queries
 * it binds.  A statement trigger on pg_dash.pages (and the one on
 * pg_dash.queries) invalidates the table's relcache entry at commit; the
 * invalidation is WAL-logged, so it reaches the workers of hot standbys as
 * well as the primary's, once replayed.  Our relcache callback then marks
 * the subscriptions for a check: one query reads the versions of the pages
 * followed, and every subscriber of a page whose version changed (defined,
 * redefined, dropped, or a query it binds changed) gets
 * {"type":"page_changed","path":...} and reloads the page.  Serving workers
 * start a transaction at least once a second (query_hit_catch_up), which
 * is when they take invalidations in, so a change is seen within about a
 * second.  Subscribing to a page that does not exist (yet) is allowed: the
 * client hears when it is defined.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "page_registry.h"
#include "page_ws.h"
#include "request.h"
#include "worker_state.h"
#include "ws.h"

/* Pages one connection may follow at once. */
#define PAGE_WS_MAX_PER_CONN 64

/* A failed check is tried again this long after (milliseconds). */
#define PAGE_WS_RETRY_MS 1000

/* One connection following one page. */
typedef struct PageSubscription
{
	Conn	   *conn;
	char		path[PAGE_PATH_MAX_LEN + 1];
	bool		checked;		/* version is known */
	char	   *version;		/* what the client was last told of; NULL: no page */
} PageSubscription;

/* Every page subscription of this worker (PageSubscription *). */
static List *page_subscriptions = NIL;

/* Pages or queries may have changed since the last check. */
static bool page_ws_dirty = false;
static bool page_ws_callback_registered = false;
static TimestampTz page_ws_failed_at = 0;

/* The relations whose invalidations matter, once known. */
static Oid	pages_relid = InvalidOid;
static Oid	queries_relid = InvalidOid;

/* Relcache callback: pg_dash.pages or pg_dash.queries changed (or maybe did). */
static void
page_ws_invalidated(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || !OidIsValid(pages_relid) ||
		relid == pages_relid || relid == queries_relid)
		page_ws_dirty = true;
}

/* page {path}: subscribes the connection to changes of that page. */
void
page_ws_subscribe(Conn *conn, cJSON *msg)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(msg, "path");
	ListCell   *lc;
	int			mine = 0;
	PageSubscription *sub;

	if (!cJSON_IsString(path))
	{
		ws_send_error(conn, NULL, "invalid_message", "page message has no \"path\" string", NULL,
					  "Send {\"type\":\"page\",\"path\":\"sales\"} for the page at /p/sales.");
		return;
	}
	if (!page_path_valid(path->valuestring))
	{
		ws_send_error(conn, NULL, "invalid_path", "invalid page path",
					  psprintf("\"%.140s\" is not a valid page path.", path->valuestring),
					  "A page path is lower-case letters, digits, \"_\" and \"-\" in segments separated by \"/\".");
		return;
	}
	foreach(lc, page_subscriptions)
	{
		sub = (PageSubscription *) lfirst(lc);
		if (sub->conn != conn)
			continue;
		if (strcmp(sub->path, path->valuestring) == 0)
		{
			ws_send_ack(conn, "page_subscribed", "path", sub->path);
			return;
		}
		mine++;
	}
	if (mine >= PAGE_WS_MAX_PER_CONN)
	{
		ws_send_error(conn, NULL, "too_many_pages",
					  psprintf("a connection can follow at most %d pages", PAGE_WS_MAX_PER_CONN),
					  NULL, "Open one WebSocket per few pages, or reconnect to start afresh.");
		return;
	}
	if (!page_ws_callback_registered)
	{
		CacheRegisterRelcacheCallback(page_ws_invalidated, (Datum) 0);
		page_ws_callback_registered = true;
	}
	sub = MemoryContextAllocZero(TopMemoryContext, sizeof(PageSubscription));
	sub->conn = conn;
	strlcpy(sub->path, path->valuestring, sizeof(sub->path));
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		page_subscriptions = lappend(page_subscriptions, sub);
		MemoryContextSwitchTo(oldcxt);
	}
	/* its version is read by the next check, right after this message */
	page_ws_dirty = true;
	ws_send_ack(conn, "page_subscribed", "path", sub->path);
}

/* True when two versions (NULL: no page) differ. */
static bool
page_ws_version_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * Records the current version of a page (NULL: there is none) in its
 * subscriptions; those that knew another one are told the page changed.
 */
static void
page_ws_apply(const char *path, const char *version)
{
	ListCell   *lc;

	foreach(lc, page_subscriptions)
	{
		PageSubscription *sub = (PageSubscription *) lfirst(lc);
		WsConn	   *ws = (WsConn *) sub->conn->ws;

		if (strcmp(sub->path, path) != 0)
			continue;
		if (sub->checked && !page_ws_version_differs(sub->version, version))
			continue;
		if (sub->checked && ws != NULL && !ws->closing)
			ws_send_ack(sub->conn, "page_changed", "path", sub->path);
		if (sub->version)
			pfree(sub->version);
		sub->version = version ? MemoryContextStrdup(TopMemoryContext, version) : NULL;
		sub->checked = true;
	}
}

/*
 * Reads the versions of the followed pages in one transaction and applies
 * them.  The version of a page is its row's xmin and the xmins of the
 * named queries it binds: any define_page, drop_page or define_query that
 * concerns the page changes it.
 */
static void
page_ws_read_versions(RequestTxn *txn)
{
	Datum	   *paths;
	int			n = 0;
	ListCell   *lc;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	Oid			nsp;

	paths = palloc(sizeof(Datum) * list_length(page_subscriptions));
	foreach(lc, page_subscriptions)
		paths[n++] = CStringGetTextDatum(((PageSubscription *) lfirst(lc))->path);
	values[0] = PointerGetDatum(construct_array(paths, n, TEXTOID, -1, false, TYPALIGN_INT));

	request_begin(txn, "pg_dash: checking followed pages", NULL);
	/* what this transaction took in is read now */
	page_ws_dirty = false;
	nsp = get_namespace_oid("pg_dash", true);
	pages_relid = OidIsValid(nsp) ? get_relname_relid("pages", nsp) : InvalidOid;
	queries_relid = OidIsValid(nsp) ? get_relname_relid("queries", nsp) : InvalidOid;
	if (OidIsValid(pages_relid) && OidIsValid(queries_relid) &&
		SPI_execute_with_args("SELECT DISTINCT s.path, "
							  "  (SELECT p.xmin::text || ':' || coalesce("
							  "     (SELECT string_agg(q.name || '@' || q.xmin::text, ',' ORDER BY q.name) "
							  "      FROM pg_dash.queries q WHERE q.name = ANY (p.bindings)), '') "
							  "   FROM pg_dash.pages p WHERE p.path = s.path) "
							  "FROM pg_catalog.unnest($1) AS s(path)",
							  1, argtypes, values, NULL, true, 0) == SPI_OK_SELECT)
	{
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	row = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;

			page_ws_apply(SPI_getvalue(row, desc, 1), SPI_getvalue(row, desc, 2));
		}
	}
	request_commit(txn);
}

/*
 * After a pass of the loop, outside any transaction: when pages or queries
 * may have changed, tells the subscribers of the pages that did.  A failed
 * check is logged and tried again a second later.
 */
void
page_ws_check(void)
{
	MemoryContext oldcxt;
	RequestTxn	txn;
	QueryFailure failure;

	if (!page_ws_dirty || page_subscriptions == NIL || IsTransactionOrTransactionBlock())
		return;
	if (page_ws_failed_at != 0 &&
		!TimestampDifferenceExceeds(page_ws_failed_at, GetCurrentTimestamp(), PAGE_WS_RETRY_MS))
		return;
	oldcxt = MemoryContextSwitchTo(worker_request_context);
	request_init(&txn);
	PG_TRY();
	{
		page_ws_read_versions(&txn);
		page_ws_failed_at = 0;
	}
	PG_CATCH();
	{
		/* logged there; clients keep their pages until the next check */
		request_catch(&txn, "checking followed pages", &failure);
		page_ws_dirty = true;
		page_ws_failed_at = GetCurrentTimestamp();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}

/* Forgets a closing connection's page subscriptions. */
void
page_ws_forget(Conn *conn)
{
	ListCell   *lc;

	foreach(lc, page_subscriptions)
	{
		PageSubscription *sub = (PageSubscription *) lfirst(lc);

		if (sub->conn == conn)
		{
			page_subscriptions = foreach_delete_current(page_subscriptions, lc);
			if (sub->version)
				pfree(sub->version);
			pfree(sub);
		}
	}
}
