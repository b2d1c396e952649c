/*
 * page_api.c
 *		HTTP endpoints of dashboard pages (docs/api.md, docs/pages.md):
 *
 *	GET		/api/pages				{"pages":[{"path","title","description","updated_at"}]}
 *	GET		/api/page/<path>		{"path","title","source","tree","updated_at","script_eval"}
 *	POST	/api/action/<name>		a registered action (action.c)
 *	GET		/p/<path>				the front end's index.html, which shows the page
 *
 * Pages are not data: they are read in a short read-only transaction as
 * the worker's own role, like the list of named queries.  The data a page
 * shows comes from named queries, which run as pg_dash.role.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "action.h"
#include "http_response.h"
#include "page_api.h"
#include "page_registry.h"
#include "request.h"
#include "static_files.h"

/*
 * True for a page with a 3-D chart, or a chart whose type is bound (it may
 * become one): echarts-gl compiles expressions with new Function, so the
 * document of such a page is served with 'unsafe-eval' and /api/page says
 * "script_eval": true (docs/api.md).  The front end's chart types are case
 * insensitive, hence the flag.
 */
#define PAGE_SCRIPT_EVAL_SQL \
	"(p.tree @? '$.** ? (@.control == \"chart\" && " \
	"(@.properties.type like_regex \"^scatter3d$\" flag \"i\" || " \
	"@.properties.type like_regex \"[{]\"))')"

/* A page's JSON, as GET /api/page/<path> answers it (p: pg_dash.pages). */
#define PAGE_JSON_SQL \
	"pg_catalog.jsonb_build_object('path', p.path, 'title', p.title, " \
	"'description', p.description, 'source', p.source, 'tree', p.tree, " \
	"'updated_at', p.updated_at, 'script_eval', " PAGE_SCRIPT_EVAL_SQL ")::text"

/* Answers 405 naming the methods a resource supports. */
static void
page_api_method_not_allowed(Conn *conn, HttpRequest *req, const char *allow)
{
	static const char body[] =
		"{\"error\":{\"status\":405,\"code\":\"method_not_allowed\","
		"\"message\":\"method not allowed for this resource\"}}";
	http_reply(conn, req, 405, "application/json; charset=utf-8", header_list_of("Allow", allow),
			   body, sizeof(body) - 1);
}

/*
 * Runs one read-only statement with an optional text argument in a
 * transaction of its own; returns the first column of the first row in the
 * caller's context, or NULL when there is no row.
 */
static char *
page_api_fetch(RequestTxn *txn, const char *sql, const char *arg)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char	   *result = NULL;

	if (arg)
		values[0] = CStringGetTextDatum(arg);
	request_begin(txn, "pg_dash pages", NULL);
	if (SPI_execute_with_args(sql, arg ? 1 : 0, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the pages");
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			result = MemoryContextStrdup(txn->cxt, v);
	}
	request_commit(txn);
	return result;
}

/*
 * Like page_api_fetch, but answers a database error as a JSON error and
 * returns false; *result is NULL when there is no row.
 */
static bool
page_api_fetch_or_reply(Conn *conn, HttpRequest *req, const char *sql, const char *arg,
						char **result)
{
	volatile bool ok = true;
	RequestTxn	txn;
	QueryFailure failure;

	*result = NULL;
	request_init(&txn);
	PG_TRY();
	{
		*result = page_api_fetch(&txn, sql, arg);
	}
	PG_CATCH();
	{
		request_catch(&txn, "reading pages", &failure);
		ok = false;
		http_reply_error(conn, req, 500, failure.code, failure.message, failure.detail, failure.hint);
	}
	PG_END_TRY();
	return ok;
}

/* Replies with a JSON body that must not be cached without revalidation. */
static void
page_api_reply_json(Conn *conn, HttpRequest *req, const char *json)
{
	http_reply(conn, req, 200, "application/json; charset=utf-8",
			   header_list_of("Cache-Control", "no-cache"), json, strlen(json));
}

/* The 404 of a page that does not exist. */
static void
page_api_not_found(Conn *conn, HttpRequest *req, const char *path)
{
	http_reply_error(conn, req, 404, "not_found",
					 psprintf("no page \"%.140s\"", path), NULL,
					 "GET /api/pages lists the pages; pg_dash.define_page() creates one.");
}

/* GET /api/pages. */
static void
page_api_list(Conn *conn, HttpRequest *req)
{
	char	   *json;

	if (!page_api_fetch_or_reply(conn, req,
								 "SELECT pg_catalog.jsonb_build_object('pages', "
								 "coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
								 "'path', p.path, 'title', p.title, 'description', p.description, "
								 "'updated_at', p.updated_at) ORDER BY p.path), '[]'))::text "
								 "FROM pg_dash.pages p", NULL, &json))
		return;
	page_api_reply_json(conn, req, json);
}

/* GET /api/page/<path>. */
static void
page_api_get(Conn *conn, HttpRequest *req, const char *path)
{
	char	   *json;

	if (!page_path_valid(path))
	{
		page_api_not_found(conn, req, path);
		return;
	}
	if (!page_api_fetch_or_reply(conn, req,
								 "SELECT " PAGE_JSON_SQL " FROM pg_dash.pages p WHERE p.path = $1",
								 path, &json))
		return;
	if (json == NULL)
		page_api_not_found(conn, req, path);
	else
		page_api_reply_json(conn, req, json);
}

/*
 * GET /p/<path>: the front end, with 'unsafe-eval' in its CSP only when the
 * page's 3-D charts need it, and the page as /api/page/<path> gives it
 * embedded, so that the browser need not ask for it before drawing (one
 * round trip less on the way to the first chart).  A page that does not
 * exist gets a small HTML 404 instead.
 */
static void
page_api_view(Conn *conn, HttpRequest *req, const char *path)
{
	char	   *found = NULL;
	StringInfoData html;

	if (page_path_valid(path) &&
		!page_api_fetch_or_reply(conn, req,
								 "SELECT CASE WHEN " PAGE_SCRIPT_EVAL_SQL " THEN 'e' ELSE 's' END "
								 "|| " PAGE_JSON_SQL " FROM pg_dash.pages p WHERE p.path = $1",
								 path, &found))
		return;
	if (found != NULL)
	{
		/* 'e' (eval needed) or 's', then the page's JSON */
		http_csp_allow_eval(found[0] == 'e');
		PG_TRY();
		{
			static_serve_document(conn, req, "index.html", found + 1);
		}
		PG_FINALLY();
		{
			http_csp_allow_eval(false);
		}
		PG_END_TRY();
		return;
	}
	initStringInfo(&html);
	appendStringInfoString(&html,
						   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
						   "<title>Page not found</title></head>\n<body><h1>Page not found</h1>\n"
						   "<p>There is no dashboard page at this address. "
						   "<a href=\"/\">See the pages</a>.</p>\n</body></html>\n");
	http_reply(conn, req, 404, "text/html; charset=utf-8",
			   header_list_of("Cache-Control", "no-cache"), html.data, html.len);
}

/* Serves the page endpoints; false when the path is none of them. */
bool
page_api_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;
	bool		read = http_method_is(req, "GET") || http_method_is(req, "HEAD");

	if (strcmp(path, "/api/pages") == 0)
	{
		if (read)
			page_api_list(conn, req);
		else
			page_api_method_not_allowed(conn, req, "GET, HEAD");
		return true;
	}
	if (strncmp(path, "/api/page/", 10) == 0)
	{
		if (read)
			page_api_get(conn, req, path + 10);
		else
			page_api_method_not_allowed(conn, req, "GET, HEAD");
		return true;
	}
	if (strncmp(path, "/api/action/", 12) == 0)
	{
		action_http(conn, req, path + 12);
		return true;
	}
	if (strncmp(path, "/p/", 3) == 0)
	{
		char	   *page = pstrdup(path + 3);
		size_t		len = strlen(page);

		/* /p/sales/ is /p/sales */
		if (len > 0 && page[len - 1] == '/')
			page[len - 1] = '\0';
		if (read)
			page_api_view(conn, req, page);
		else
			page_api_method_not_allowed(conn, req, "GET, HEAD");
		return true;
	}
	return false;
}
