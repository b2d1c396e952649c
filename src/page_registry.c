/*
 * page_registry.c
 *		pg_dash.define_page(): parses, validates and stores a dashboard page.
 *
 * The page text is parsed by src/lib/page_parser.c; the first problem is
 * reported as an SQL error with its line and column, the parser's detail
 * and its hint (the valid controls or properties).  A valid page is stored
 * in pg_dash.pages with its JSON tree, the names it binds and the actions
 * it calls; the table's statement trigger invalidates its relcache entry,
 * which tells the workers (of standbys too) that browsers showing the page
 * must reload (page_ws.c).  pg_dash.drop_page() is SQL
 * (sql/parts/40_pages.sql).
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "page_parser.h"
#include "page_registry.h"

PG_FUNCTION_INFO_V1(pg_dash_define_page);

/* True for the characters of a path segment. */
static bool
page_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* True when path is a valid page path (see page_registry.h). */
bool
page_path_valid(const char *path)
{
	const char *p;
	bool		segment_start = true;

	if (path == NULL || path[0] == '\0' || strlen(path) > PAGE_PATH_MAX_LEN)
		return false;
	for (p = path; *p; p++)
	{
		if (*p == '/')
		{
			if (segment_start)
				return false;	/* leading or double slash */
			segment_start = true;
			continue;
		}
		if (!page_path_char(*p))
			return false;
		if (segment_start && (*p == '_' || *p == '-'))
			return false;
		segment_start = false;
	}
	return !segment_start;		/* no trailing slash */
}

/*
 * The text of the first ATX heading ("# Title") in a markdown text, outside
 * fenced code; NULL when there is none.  *in_fence carries the fence state
 * from one markdown node to the next.
 */
static char *
page_heading_in(const char *text, bool *in_fence)
{
	const char *line = text;

	while (line && *line)
	{
		const char *eol = strchr(line, '\n');
		size_t		len = eol ? (size_t) (eol - line) : strlen(line);
		const char *p = line;
		const char *end = line + len;
		int			indent = 0;
		int			hashes = 0;

		while (p < end && *p == ' ' && indent < 4)
		{
			p++;
			indent++;
		}
		if (indent < 4 && end - p >= 3 &&
			(strncmp(p, "```", 3) == 0 || strncmp(p, "~~~", 3) == 0))
			*in_fence = !*in_fence;
		else if (!*in_fence && indent < 4)
		{
			while (p < end && *p == '#' && hashes < 7)
			{
				p++;
				hashes++;
			}
			if (hashes >= 1 && hashes <= 6 && (p == end || *p == ' ' || *p == '\t'))
			{
				/* trim, and drop an optional closing sequence of #s */
				while (p < end && (*p == ' ' || *p == '\t'))
					p++;
				while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
					end--;
				{
					const char *q = end;

					while (q > p && q[-1] == '#')
						q--;
					if (q == p || q[-1] == ' ' || q[-1] == '\t')
					{
						end = q;
						while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
							end--;
					}
				}
				if (end > p)
					return pnstrdup(p, end - p);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* The first markdown heading of a list of tree nodes, depth first; or NULL. */
static char *
page_first_heading(const cJSON *children, bool *in_fence)
{
	const cJSON *node;

	cJSON_ArrayForEach(node, children)
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
		char	   *title = NULL;

		if (!cJSON_IsString(type))
			continue;
		if (strcmp(type->valuestring, "markdown") == 0)
		{
			const cJSON *text = cJSON_GetObjectItemCaseSensitive(node, "text");

			if (cJSON_IsString(text))
				title = page_heading_in(text->valuestring, in_fence);
		}
		else if (strcmp(type->valuestring, "block") == 0)
			title = page_first_heading(cJSON_GetObjectItemCaseSensitive(node, "children"), in_fence);
		if (title)
			return title;
	}
	return NULL;
}

/* A JSON array of strings from the tree as a text[] datum (server encoding). */
static Datum
page_text_array(const cJSON *array)
{
	const cJSON *item;
	int			n = 0;
	Datum	   *elems;

	elems = palloc(sizeof(Datum) * (cJSON_GetArraySize(array) + 1));
	cJSON_ArrayForEach(item, array)
	{
		if (cJSON_IsString(item))
			elems[n++] = CStringGetTextDatum(pg_any_to_server(item->valuestring,
															  strlen(item->valuestring),
															  PG_UTF8));
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The string member key of a warning in the server encoding, or NULL. */
static char *
page_warning_text(const cJSON *w, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, key);

	if (!cJSON_IsString(v))
		return NULL;
	return pg_any_to_server(v->valuestring, strlen(v->valuestring), PG_UTF8);
}

/*
 * Reports each warning of a parsed page (what Taipy accepts with a warning,
 * such as an unknown property) as a NOTICE with its line and column.
 */
static void
page_report_warnings(const char *path, const cJSON *warnings)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, warnings)
	{
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(w, "line");
		const cJSON *column = cJSON_GetObjectItemCaseSensitive(w, "column");
		char	   *message = page_warning_text(w, "message");
		char	   *detail = page_warning_text(w, "detail");
		char	   *hint = page_warning_text(w, "hint");

		if (message == NULL || !cJSON_IsNumber(line) || !cJSON_IsNumber(column))
			continue;
		ereport(NOTICE,
				(errmsg("page \"%s\": %s at line %d, column %d",
						path, message, line->valueint, column->valueint),
				 detail ? errdetail("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0));
	}
}

/*
 * SQL: pg_dash.define_page(path, source, title, description) validates and
 * stores a page.
 */
Datum
pg_dash_define_page(PG_FUNCTION_ARGS)
{
	char	   *path;
	text	   *source_text;
	char	   *source_utf8;
	int			source_len;
	char	   *json;
	char	   *tree_text;
	PageError	err;
	cJSON	   *tree;
	char	   *title = NULL;
	bool		in_fence = false;
	Oid			argtypes[8] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTARRAYOID, TEXTARRAYOID,
								TEXTARRAYOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			relid;
	bool		access;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("page path and source must not be null")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!page_path_valid(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid page path \"%s\"", path),
				 errdetail("A page path is 1 to %d bytes: segments of lower-case letters, digits, \"_\" and \"-\", each starting with a letter or digit, separated by single \"/\".",
						   PAGE_PATH_MAX_LEN),
				 errhint("For example \"sales\" or \"ops/disk-usage\"; the page is shown at /p/<path>.")));

	/* the parser reads UTF-8 */
	source_text = PG_GETARG_TEXT_PP(1);
	source_len = VARSIZE_ANY_EXHDR(source_text);
	source_utf8 = pg_server_to_any(VARDATA_ANY(source_text), source_len, PG_UTF8);
	if (source_utf8 != VARDATA_ANY(source_text))
		source_len = strlen(source_utf8);

	json = page_parse_to_json(source_utf8, source_len, &err);
	if (json == NULL)
	{
		bool		oom = strcmp(err.message, "out of memory") == 0;

		ereport(ERROR,
				(errcode(oom ? ERRCODE_OUT_OF_MEMORY : ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid page \"%s\": %s at line %d, column %d",
						path, err.message, err.line, err.column),
				 err.detail[0] ? errdetail("%s", err.detail) : 0,
				 err.hint[0] ? errhint("%s", err.hint) : 0));
	}
	tree = cJSON_Parse(json);
	tree_text = pg_any_to_server(json, strlen(json), PG_UTF8);
	if (tree_text == json)
		tree_text = pstrdup(json);
	free(json);
	if (tree == NULL)
		elog(ERROR, "the page parser produced invalid JSON");
	page_report_warnings(path, cJSON_GetObjectItemCaseSensitive(tree, "warnings"));

	if (PG_ARGISNULL(2))
	{
		char	   *heading = page_first_heading(cJSON_GetObjectItemCaseSensitive(tree, "children"),
												 &in_fence);

		if (heading)
		{
			page_heading_plain(heading);
			if (heading[0])
				title = pg_any_to_server(heading, strlen(heading), PG_UTF8);
		}
	}
	else
		title = text_to_cstring(PG_GETARG_TEXT_PP(2));

	values[0] = CStringGetTextDatum(path);
	if (title)
		values[1] = CStringGetTextDatum(title);
	else
		nulls[1] = 'n';
	if (PG_ARGISNULL(3))
		nulls[2] = 'n';
	else
		values[2] = PG_GETARG_DATUM(3);
	values[3] = PointerGetDatum(source_text);
	values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(tree_text));
	values[5] = page_text_array(cJSON_GetObjectItemCaseSensitive(tree, "bindings"));
	values[6] = page_text_array(cJSON_GetObjectItemCaseSensitive(tree, "actions"));
	cJSON_Delete(tree);
	/* who may open it: NULL keeps the current list (PUBLIC for a new page) */
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		values[7] = PG_GETARG_DATUM(4);
	else
		nulls[7] = 'n';
	/* a 0.1.0 table (before ALTER EXTENSION UPDATE) has no access column */
	relid = get_relname_relid("pages", get_namespace_oid("pg_dash", false));
	access = OidIsValid(relid) && get_attnum(relid, "access") != InvalidAttrNumber;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("INSERT INTO pg_dash.pages AS p "
									   "(path, title, description, source, tree, bindings, actions%s) "
									   "VALUES ($1, $2, $3, $4, $5, $6, $7%s) "
									   "ON CONFLICT (path) DO UPDATE SET title = EXCLUDED.title, "
									   "description = EXCLUDED.description, source = EXCLUDED.source, "
									   "tree = EXCLUDED.tree, bindings = EXCLUDED.bindings, "
									   "actions = EXCLUDED.actions, updated_at = pg_catalog.now()%s",
									   access ? ", access" : "",
									   access ? ", coalesce(pg_dash.access_normalize($8), '{PUBLIC}')" : "",
									   access ? ", access = coalesce(pg_dash.access_normalize($8), p.access)" : ""),
							  access ? 8 : 7, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store page \"%s\"", path);
	SPI_finish();
	PG_RETURN_VOID();
}
