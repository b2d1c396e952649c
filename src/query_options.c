/*
 * query_options.c
 *		Parses and checks the options of a named-query request (format,
 *		shape, paging, ordering, counts, series) and collects its
 *		parameters as text; nothing here touches the database.
 */
#include "postgres.h"

#include <ctype.h>

#include <cjson/cJSON.h>

#include "utils/builtins.h"

#include "http_response.h"
#include "query_options.h"
#include "query_registry.h"
#include "query_series.h"

/* Records a 400 for a bad request option or parameter. */
bool
query_bad_request(QueryFailure *f, const char *message, const char *detail, const char *hint)
{
	return request_fail(f, 400, "22023", message, detail, hint);
}


/* Parses a non-negative integer option; false when it is not one. */
static bool
query_parse_count(const char *s, int64 *out)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return false;
	*out = v;
	return true;
}

/*
 * Records one option or parameter from the query string or the JSON body;
 * false after answering 400.
 */
bool
query_take_option(QueryOptions *opts, const char *key, const char *value, QueryFailure *f)
{
	if (strcmp(key, "format") == 0)
	{
		if (value == NULL || !result_format_parse(value, &opts->format))
		{
			return query_bad_request(f, psprintf("unknown format \"%s\"", value ? value : "null"),
									 NULL, "Valid formats are: json, csv, ndjson.");
		}
	}
	else if (strcmp(key, "shape") == 0)
	{
		if (value != NULL && strcmp(value, "objects") == 0)
			opts->objects = true;
		else if (value != NULL && strcmp(value, "arrays") == 0)
			opts->objects = false;
		else
		{
			return query_bad_request(f, psprintf("unknown shape \"%s\"", value ? value : "null"),
									 NULL, "Valid shapes are: arrays, objects.");
		}
	}
	else if (strcmp(key, "limit") == 0 || strcmp(key, "offset") == 0)
	{
		int64		v;

		if (value == NULL || !query_parse_count(value, &v))
		{
			return query_bad_request(f, psprintf("invalid %s \"%s\"", key, value ? value : "null"),
									 psprintf("%s must be a whole number of zero or more.", key), NULL);
		}
		if (key[0] == 'l')
			opts->limit = v;
		else
			opts->offset = v;
	}
	else if (strcmp(key, "count") == 0)
	{
		if (value == NULL || strcmp(value, "exact") != 0)
		{
			return query_bad_request(f, "invalid count option", NULL, "Use count=exact.");
		}
		opts->count_exact = true;
	}
	else if (strcmp(key, "order") == 0)
	{
		char	   *dot;

		if (value == NULL || value[0] == '\0')
		{
			return query_bad_request(f, "empty order option", NULL, "Use order=column or order=column.desc.");
		}
		opts->order_column = pstrdup(value);
		dot = strrchr(opts->order_column, '.');
		if (dot && (strcmp(dot, ".desc") == 0 || strcmp(dot, ".asc") == 0))
		{
			opts->order_desc = strcmp(dot, ".desc") == 0;
			*dot = '\0';
		}
	}
	else if (strcmp(key, "filename") == 0)
		opts->filename = value ? pstrdup(value) : NULL;
	else if (strcmp(key, "downsample") == 0)
	{
		if (value == NULL || !query_parse_count(value, &opts->downsample) ||
			opts->downsample < 3 || opts->downsample > 1000000)
			return query_bad_request(f, psprintf("invalid downsample \"%s\"", value ? value : "null"),
									 "downsample is the number of points wanted, from 3 to 1000000.", NULL);
	}
	else if (strcmp(key, "width") == 0)
	{
		if (value == NULL || !query_parse_count(value, &opts->width) ||
			opts->width < 1 || opts->width > SERIES_MAX_WIDTH)
			return query_bad_request(f, psprintf("invalid width \"%s\"", value ? value : "null"),
									 psprintf("width is the chart's width in pixels, from 1 to %d.", SERIES_MAX_WIDTH),
									 NULL);
	}
	else if (strcmp(key, "x") == 0 || strcmp(key, "y") == 0)
	{
		if (value == NULL || value[0] == '\0')
			return query_bad_request(f, psprintf("empty %s option", key), NULL,
									 "Name the result column of the series.");
		if (key[0] == 'x')
			opts->x_column = pstrdup(value);
		else
			opts->y_column = pstrdup(value);
	}
	else if (strcmp(key, "x_from") == 0 || strcmp(key, "x_to") == 0)
	{
		if (value == NULL || value[0] == '\0')
			return query_bad_request(f, psprintf("empty %s option", key), NULL,
									 "Give a value of the x column's type, or leave the option out.");
		if (key[2] == 'f')
			opts->x_from = pstrdup(value);
		else
			opts->x_to = pstrdup(value);
	}
	else if (query_param_name_reserved(key))
	{
		return query_bad_request(f, psprintf("option \"%s\" is not supported by this endpoint", key),
								 NULL, NULL);
	}
	else
	{
		if (list_member(opts->names, makeString((char *) key)))
		{
			return query_bad_request(f, psprintf("parameter \"%s\" is given more than once", key),
									 NULL, NULL);
		}
		opts->names = lappend(opts->names, makeString(pstrdup(key)));
		opts->values = lappend(opts->values, value ? pstrdup(value) : NULL);
	}
	return true;
}

/* The text form of a JSON value as a query parameter (NULL for null). */
char *
query_json_param_text(const cJSON *item)
{
	if (cJSON_IsNull(item))
		return NULL;
	if (cJSON_IsString(item))
		return pstrdup(item->valuestring);
	if (cJSON_IsBool(item))
		return pstrdup(cJSON_IsTrue(item) ? "true" : "false");
	if (cJSON_IsArray(item))
	{
		/* a JSON array becomes an array literal: {"a","b"} */
		StringInfoData buf;
		const cJSON *el;
		bool		first = true;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		cJSON_ArrayForEach(el, item)
		{
			char	   *t = query_json_param_text(el);
			const char *p;

			if (!first)
				appendStringInfoChar(&buf, ',');
			first = false;
			if (t == NULL)
			{
				appendStringInfoString(&buf, "NULL");
				continue;
			}
			appendStringInfoChar(&buf, '"');
			for (p = t; *p; p++)
			{
				if (*p == '"' || *p == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *p);
			}
			appendStringInfoChar(&buf, '"');
		}
		appendStringInfoChar(&buf, '}');
		return buf.data;
	}
	{
		char	   *printed = cJSON_PrintUnformatted(item);
		char	   *copy = printed ? pstrdup(printed) : NULL;

		cJSON_free(printed);
		return copy;
	}
}

/* True when a request asks for a chart's series (query_series.c). */
bool
query_is_series(QueryOptions *opts)
{
	return opts->downsample > 0 || opts->width > 0;
}

/* Checks the options of a series go together. */
bool
query_check_series(QueryOptions *opts, QueryFailure *f)
{
	if (!query_is_series(opts) && opts->x_column == NULL && opts->y_column == NULL &&
		opts->x_from == NULL && opts->x_to == NULL)
		return true;
	if (!query_is_series(opts) || opts->x_column == NULL || opts->y_column == NULL)
		return query_bad_request(f, "a series needs x, y and width or downsample", NULL,
								 "Use width=<pixels>&x=<column>&y=<column> (downsample=<points> for fewer points), "
								 "and x_from, x_to for a range of x.");
	if (opts->format != RESULT_JSON)
		return query_bad_request(f, "a series is only available as JSON", NULL, NULL);
	if (opts->limit >= 0 || opts->offset > 0 || opts->order_column != NULL || opts->count_exact)
		return query_bad_request(f, "a series takes no limit, offset, order or count", NULL,
								 "Its points are in x order, at most four per pixel of width.");
	return true;
}

/* Default options: JSON rows as arrays, no paging. */
void
query_options_init(QueryOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->format = RESULT_JSON;
	opts->limit = -1;
}

/*
 * Reads the options and parameters of a request: the query string, and for
 * POST a JSON object body.  False after answering 400.
 */
bool
query_parse_request(HttpRequest *req, QueryOptions *opts, QueryFailure *f)
{
	const char *cursor = req->query;
	const char *end = req->query + req->query_len;
	char	   *key;
	char	   *value;
	bool		error = false;
	size_t		accept_len;
	const char *accept;

	query_options_init(opts);
	accept = http_request_header(req, "Accept", &accept_len);
	if (accept != NULL && http_header_has_token(accept, accept_len, "text/csv"))
		opts->format = RESULT_CSV;
	else if (accept != NULL && http_header_has_token(accept, accept_len, "application/x-ndjson"))
		opts->format = RESULT_NDJSON;

	while (http_query_next(&cursor, end, &key, &value, &error))
	{
		bool		ok = query_take_option(opts, key, value, f);

		free(key);
		free(value);
		if (!ok)
			return false;
	}
	if (error)
	{
		return query_bad_request(f, "malformed query string",
								 "A percent escape is invalid or decodes to a NUL byte.", NULL);
	}

	if (http_method_is(req, "POST") && req->body_len > 0)
	{
		cJSON	   *body = cJSON_ParseWithLength(req->body, req->body_len);
		const cJSON *item;

		if (body == NULL || !cJSON_IsObject(body))
		{
			cJSON_Delete(body);
			return query_bad_request(f, "request body is not a JSON object",
									 NULL, "Send the parameters as {\"name\": value, ...}.");
		}
		cJSON_ArrayForEach(item, body)
		{
			if (!query_take_option(opts, item->string, query_json_param_text(item), f))
			{
				cJSON_Delete(body);
				return false;
			}
		}
		cJSON_Delete(body);
	}
	return query_check_series(opts, f);
}


/*
 * The options and parameters of a request as (key, value) pairs that
 * query_take_option() reads back: how a download worker gets the request.
 */
List *
query_options_pairs(QueryOptions *opts)
{
	static const char *const formats[] = {"json", "csv", "ndjson"};
	List	   *pairs = NIL;
	ListCell   *ln;
	ListCell   *lv;

	pairs = lappend(pairs, list_make2(pstrdup("format"), pstrdup(formats[opts->format])));
	pairs = lappend(pairs, list_make2(pstrdup("shape"), pstrdup(opts->objects ? "objects" : "arrays")));
	if (opts->limit >= 0)
		pairs = lappend(pairs, list_make2(pstrdup("limit"), psprintf(INT64_FORMAT, opts->limit)));
	if (opts->offset > 0)
		pairs = lappend(pairs, list_make2(pstrdup("offset"), psprintf(INT64_FORMAT, opts->offset)));
	if (opts->count_exact)
		pairs = lappend(pairs, list_make2(pstrdup("count"), pstrdup("exact")));
	if (opts->order_column)
		pairs = lappend(pairs, list_make2(pstrdup("order"),
										  psprintf("%s.%s", opts->order_column, opts->order_desc ? "desc" : "asc")));
	forboth(ln, opts->names, lv, opts->values)
		pairs = lappend(pairs, list_make2(pstrdup(strVal(lfirst(ln))), lfirst(lv)));
	return pairs;
}
