/*
 * result_writer.c
 *		Serializes query results as JSON, CSV (RFC 4180) or NDJSON straight
 *		from the tuples, without building JSON in SQL.
 *
 * Each column's kind is decided once from its type; a row is deformed once
 * and each value written by its kind.  Type mapping (docs/api.md): integers
 * and floats are JSON numbers, NaN and infinities the strings "NaN",
 * "Infinity", "-Infinity"; numeric keeps every digit; json/jsonb are
 * inlined; date and time types are ISO 8601; arrays and composites become
 * JSON arrays and objects; everything else is its text form in a string.
 * CSV uses the same text forms, quoted only where RFC 4180 requires it, and
 * an empty field for NULL.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "result_writer.h"

/* Parses ?format=; false for an unknown name. */
bool
result_format_parse(const char *name, ResultFormat *format)
{
	if (strcmp(name, "json") == 0)
		*format = RESULT_JSON;
	else if (strcmp(name, "csv") == 0)
		*format = RESULT_CSV;
	else if (strcmp(name, "ndjson") == 0 || strcmp(name, "jsonl") == 0)
		*format = RESULT_NDJSON;
	else
		return false;
	return true;
}

/* The Content-Type of a format. */
const char *
result_content_type(ResultFormat format)
{
	switch (format)
	{
		case RESULT_CSV:
			return "text/csv; charset=utf-8; header=present";
		case RESULT_NDJSON:
			return "application/x-ndjson; charset=utf-8";
		default:
			return "application/json; charset=utf-8";
	}
}

/* Decides how values of a type are written. */
static ColumnKind
result_column_kind(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
			return COL_INTEGER;
		case FLOAT4OID:
		case FLOAT8OID:
			return COL_FLOAT;
		case NUMERICOID:
			return COL_NUMERIC;
		case BOOLOID:
			return COL_BOOL;
		case JSONOID:
		case JSONBOID:
			return COL_JSON;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return COL_DATETIME;
		default:
			break;
	}
	if (OidIsValid(get_element_type(typid)))
		return COL_ARRAY;
	if (type_is_rowtype(typid))
		return COL_COMPOSITE;
	return COL_TEXT;
}

/* Prepares a writer for a result of the given shape. */
void
result_writer_init(ResultWriter *w, TupleDesc desc, ResultFormat format, bool objects)
{
	int			i;

	w->format = format;
	w->objects = objects || format == RESULT_NDJSON;
	w->natts = desc->natts;
	w->cols = palloc0(sizeof(ResultColumn) * Max(desc->natts, 1));
	w->values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	w->nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	w->rows = 0;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ResultColumn *col = &w->cols[i];
		Oid			outfunc;
		bool		varlena;
		StringInfoData name;

		col->name = pstrdup(NameStr(att->attname));
		initStringInfo(&name);
		escape_json(&name, col->name);
		col->json_name = name.data;
		col->type_name = format_type_with_typemod(att->atttypid, att->atttypmod);
		col->typid = getBaseType(att->atttypid);
		col->kind = result_column_kind(col->typid);
		getTypeOutputInfo(att->atttypid, &outfunc, &varlena);
		fmgr_info(outfunc, &col->output);
	}
}

/* Appends [{"name":...,"type":...},...] for a result's columns. */
void
result_columns_json(TupleDesc desc, StringInfo out)
{
	int			i;

	appendStringInfoChar(out, '[');
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i > 0)
			appendStringInfoChar(out, ',');
		appendStringInfoString(out, "{\"name\":");
		escape_json(out, NameStr(att->attname));
		appendStringInfoString(out, ",\"type\":");
		escape_json(out, format_type_with_typemod(att->atttypid, att->atttypmod));
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

/* Appends a CSV field, quoted when it contains a separator, quote or newline. */
static void
csv_append(StringInfo out, const char *s)
{
	const char *p;
	bool		quote = (*s == '\0');

	for (p = s; *p && !quote; p++)
		if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r')
			quote = true;
	/* leading or trailing spaces survive a round trip only when quoted */
	if (!quote && (s[0] == ' ' || (p > s && p[-1] == ' ')))
		quote = true;
	if (!quote)
	{
		appendStringInfoString(out, s);
		return;
	}
	appendStringInfoChar(out, '"');
	for (p = s; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(out, '"');
		appendStringInfoChar(out, *p);
	}
	appendStringInfoChar(out, '"');
}

/* Writes the start of the result: JSON envelope, CSV header, or nothing. */
void
result_writer_begin(ResultWriter *w, StringInfo out, const char *prefix)
{
	int			i;

	switch (w->format)
	{
		case RESULT_JSON:
			appendStringInfoChar(out, '{');
			if (prefix)
				appendStringInfoString(out, prefix);
			appendStringInfoString(out, "\"columns\":[");
			for (i = 0; i < w->natts; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				appendStringInfo(out, "{\"name\":%s,\"type\":", w->cols[i].json_name);
				escape_json(out, w->cols[i].type_name);
				appendStringInfoChar(out, '}');
			}
			appendStringInfoString(out, "],\"rows\":[");
			break;
		case RESULT_CSV:
			for (i = 0; i < w->natts; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				csv_append(out, w->cols[i].name);
			}
			appendStringInfoString(out, "\r\n");
			break;
		case RESULT_NDJSON:
			break;
	}
}

/* Appends one value as JSON. */
static void
json_append_value(StringInfo out, ResultColumn *col, Datum value)
{
	char	   *s;
	char		buf[MAXDATELEN + 1];

	switch (col->kind)
	{
		case COL_INTEGER:
			appendStringInfoString(out, OutputFunctionCall(&col->output, value));
			return;
		case COL_FLOAT:
		case COL_NUMERIC:
			s = OutputFunctionCall(&col->output, value);
			/* NaN, Infinity and -Infinity are not JSON numbers */
			if (s[0] == 'N' || s[0] == 'I' || (s[0] == '-' && s[1] == 'I'))
				escape_json(out, s);
			else
				appendStringInfoString(out, s);
			return;
		case COL_BOOL:
			appendStringInfoString(out, DatumGetBool(value) ? "true" : "false");
			return;
		case COL_JSON:
			appendStringInfoString(out, OutputFunctionCall(&col->output, value));
			return;
		case COL_DATETIME:
			appendStringInfoChar(out, '"');
			appendStringInfoString(out, JsonEncodeDateTime(buf, value, col->typid, NULL));
			appendStringInfoChar(out, '"');
			return;
		case COL_ARRAY:
			s = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(array_to_json, value)));
			appendStringInfoString(out, s);
			return;
		case COL_COMPOSITE:
			s = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(row_to_json, value)));
			appendStringInfoString(out, s);
			return;
		case COL_TEXT:
			escape_json(out, OutputFunctionCall(&col->output, value));
			return;
	}
}

/* The text form of a value for CSV. */
static const char *
csv_value(ResultColumn *col, Datum value)
{
	char		buf[MAXDATELEN + 1];

	switch (col->kind)
	{
		case COL_BOOL:
			return DatumGetBool(value) ? "true" : "false";
		case COL_DATETIME:
			return pstrdup(JsonEncodeDateTime(buf, value, col->typid, NULL));
		default:
			return OutputFunctionCall(&col->output, value);
	}
}

/* Appends one row. */
void
result_writer_row(ResultWriter *w, StringInfo out, HeapTuple tuple, TupleDesc desc)
{
	int			i;

	heap_deform_tuple(tuple, desc, w->values, w->nulls);
	switch (w->format)
	{
		case RESULT_JSON:
		case RESULT_NDJSON:
			if (w->format == RESULT_JSON && w->rows > 0)
				appendStringInfoChar(out, ',');
			appendStringInfoChar(out, w->objects ? '{' : '[');
			for (i = 0; i < w->natts; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				if (w->objects)
				{
					appendStringInfoString(out, w->cols[i].json_name);
					appendStringInfoChar(out, ':');
				}
				if (w->nulls[i])
					appendStringInfoString(out, "null");
				else
					json_append_value(out, &w->cols[i], w->values[i]);
			}
			appendStringInfoChar(out, w->objects ? '}' : ']');
			if (w->format == RESULT_NDJSON)
				appendStringInfoChar(out, '\n');
			break;
		case RESULT_CSV:
			for (i = 0; i < w->natts; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				if (!w->nulls[i])
					csv_append(out, csv_value(&w->cols[i], w->values[i]));
			}
			appendStringInfoString(out, "\r\n");
			break;
	}
	w->rows++;
}

/* Writes the end of the result: counts and truncation for JSON. */
void
result_writer_end(ResultWriter *w, StringInfo out, bool truncated, int64 total)
{
	if (w->format != RESULT_JSON)
		return;
	appendStringInfo(out, "],\"row_count\":" UINT64_FORMAT ",\"truncated\":%s",
					 w->rows, truncated ? "true" : "false");
	if (total >= 0)
		appendStringInfo(out, ",\"total\":" INT64_FORMAT, total);
	appendStringInfoChar(out, '}');
}
