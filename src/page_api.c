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
#include "access.h"
#include "auth.h"
#include "http_response.h"
#include "page_api.h"
#include "page_registry.h"
#include "request.h"
#include "session.h"
#include "static_files.h"
#include "transport.h"

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
 * Runs one read-only statement in a transaction of its own: $1 is arg (a
 * text, or NULL), $2 the OID of the viewer (pg_dash.auth: the signed-in
 * role of the request's session, else pg_dash.role) when as_viewer, else
 * none.  With as_viewer, sql is a format whose %s becomes "the viewer may
 * open page p" (access_filter_sql, which reads the catalog).  *result is
 * the first column of the first row in the caller's context, or NULL when
 * there is no row; a second column, when there is one, says whether the
 * viewer may see the row (*allowed, *f filled when not).  False with *f
 * filled when the viewer is not served at all (signed out).
 */
static bool
page_api_fetch(RequestTxn *txn, HttpRequest *req, bool as_viewer, const char *sql,
			   const char *arg, char **result, bool *allowed, QueryFailure *f)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	AuthViewer	viewer;

	*result = NULL;
	*allowed = true;
	if (arg)
		values[0] = CStringGetTextDatum(arg);
	else
		nulls[0] = 'n';
	request_begin(txn, "pg_dash pages", as_viewer ? session_id_from_cookie(req) : NULL);
	memset(&viewer, 0, sizeof(viewer));
	if (as_viewer && !auth_resolve_viewer(session_bound_id(), &viewer, f))
	{
		request_abort(txn);
		return false;
	}
	values[1] = ObjectIdGetDatum(viewer.roleid);
	if (as_viewer)
		sql = psprintf(sql, access_filter_sql("pages", "p", 2));
	if (SPI_execute_with_args(sql, 2, argtypes, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the pages");
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		bool		isnull;

		if (v)
			*result = MemoryContextStrdup(txn->cxt, v);
		if (SPI_tuptable->tupdesc->natts > 1)
			*allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) && !isnull;
	}
	if (!*allowed)
		access_refuse(&viewer, psprintf("page \"%s\"", arg), f);
	request_commit(txn);
	return true;
}

/*
 * Like page_api_fetch, but answers a database error, a signed-out viewer
 * or a page the viewer may not open as a JSON error and returns false;
 * *result is NULL when there is no row.
 */
static bool
page_api_fetch_or_reply(Conn *conn, HttpRequest *req, bool as_viewer, const char *sql,
						const char *arg, char **result)
{
	volatile bool ok = true;
	RequestTxn	txn;
	QueryFailure failure;
	volatile bool allowed = true;

	*result = NULL;
	memset(&failure, 0, sizeof(failure));
	request_init(&txn);
	PG_TRY();
	{
		bool		may = true;

		ok = page_api_fetch(&txn, req, as_viewer, sql, arg, result, &may, &failure);
		allowed = may;
	}
	PG_CATCH();
	{
		request_catch(&txn, "reading pages", &failure);
		ok = false;
		failure.status = 500;
	}
	PG_END_TRY();
	if (ok && !allowed)
		ok = false;
	if (!ok)
		http_reply_error(conn, req, failure.status, failure.code, failure.message,
						 failure.detail, failure.hint);
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

	if (!page_api_fetch_or_reply(conn, req, true,
								 "SELECT pg_catalog.jsonb_build_object('pages', "
								 "coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
								 "'path', p.path, 'title', p.title, 'description', p.description, "
								 "'updated_at', p.updated_at) ORDER BY p.path), '[]'))::text "
								 "FROM pg_dash.pages p WHERE %s", NULL, &json))
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
	if (!page_api_fetch_or_reply(conn, req, true,
								 "SELECT " PAGE_JSON_SQL ", %s FROM pg_dash.pages p WHERE p.path = $1",
								 path, &json))
		return;
	if (json == NULL)
		page_api_not_found(conn, req, path);
	else
		page_api_reply_json(conn, req, json);
}

/*
 * What the view of a page needs: 'e' (its 3-D charts need eval) or 's',
 * then the page as /api/page/<path> gives it, for a viewer who may open it
 * (nothing more for one who may not: the front end then asks /api/page and
 * shows its refusal).  *found is NULL when there is no such page; false
 * after answering a database error.
 */
static bool
page_api_view_lookup(Conn *conn, HttpRequest *req, const char *path, char **found)
{
	RequestTxn	txn;
	QueryFailure failure;
	bool		allowed;

	memset(&failure, 0, sizeof(failure));
	request_init(&txn);
	PG_TRY();
	{
		if (!page_api_fetch(&txn, req, true,
							"SELECT CASE WHEN " PAGE_SCRIPT_EVAL_SQL " THEN 'e' ELSE 's' END "
							"|| CASE WHEN %s THEN " PAGE_JSON_SQL " ELSE '' END "
							"FROM pg_dash.pages p WHERE p.path = $1",
							path, found, &allowed, &failure))
			/* a viewer who is not served at all still gets the sign-in form */
			(void) page_api_fetch(&txn, req, false,
								  "SELECT CASE WHEN " PAGE_SCRIPT_EVAL_SQL " THEN 'e' ELSE 's' END "
								  "FROM pg_dash.pages p WHERE p.path = $1",
								  path, found, &allowed, &failure);
	}
	PG_CATCH();
	{
		request_catch(&txn, "reading pages", &failure);
		http_reply_error(conn, req, 500, failure.code, failure.message, failure.detail, failure.hint);
		return false;
	}
	PG_END_TRY();
	return true;
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
		!page_api_view_lookup(conn, req, path, &found))
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
	/* the base path needs no escaping (transport.c checks it) */
	appendStringInfo(&html,
					 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
					 "<title>Page not found</title></head>\n<body><h1>Page not found</h1>\n"
					 "<p>There is no dashboard page at this address. "
					 "<a href=\"%s/\">See the pages</a>.</p>\n</body></html>\n",
					 pg_dash_base_path ? pg_dash_base_path : "");
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
