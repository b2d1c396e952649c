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
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
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

/*
 * Appends a CSV field, quoted when it contains a separator, quote or newline.
 * One scan finds both the length and whether quoting is needed (glibc's
 * strcspn is vectorized); most fields are copied as they are.
 */
static void
csv_append(StringInfo out, const char *s)
{
	size_t		plain = strcspn(s, ",\"\n\r");
	const char *p;

	/* leading or trailing spaces survive a round trip only when quoted */
	if (s[plain] == '\0' && plain > 0 && s[0] != ' ' && s[plain - 1] != ' ')
	{
		appendBinaryStringInfo(out, s, (int) plain);
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

/*
 * Appends an integer in the text form its output function gives, without
 * the function call and its allocation for the common types.
 */
static inline void
append_integer(StringInfo out, ResultColumn *col, Datum value)
{
	char		buf[MAXINT8LEN + 1];
	int			len;

	switch (col->typid)
	{
		case INT2OID:
			len = pg_itoa(DatumGetInt16(value), buf);
			break;
		case INT4OID:
			len = pg_ltoa(DatumGetInt32(value), buf);
			break;
		case INT8OID:
			len = pg_lltoa(DatumGetInt64(value), buf);
			break;
		default:
			appendStringInfoString(out, OutputFunctionCall(&col->output, value));
			return;
	}
	appendBinaryStringInfo(out, buf, len);
}

/*
 * The text form of a float or numeric value, as its output function gives
 * it: for float4/float8 at the default extra_float_digits (shortest exact
 * form) written straight into buf; otherwise the output function's string.
 * NaN and the infinities come out as "NaN", "Infinity", "-Infinity".
 */
static inline const char *
float_text(ResultColumn *col, Datum value, char *buf, int *len)
{
	const char *s;

	if (extra_float_digits > 0 && col->typid == FLOAT8OID)
	{
		*len = double_to_shortest_decimal_bufn(DatumGetFloat8(value), buf);
		return buf;
	}
	if (extra_float_digits > 0 && col->typid == FLOAT4OID)
	{
		*len = float_to_shortest_decimal_bufn(DatumGetFloat4(value), buf);
		return buf;
	}
	s = OutputFunctionCall(&col->output, value);
	*len = (int) strlen(s);
	return s;
}

/* Appends one value as JSON. */
static void
json_append_value(StringInfo out, ResultColumn *col, Datum value)
{
	char	   *s;
	char		buf[MAXDATELEN + 1];
	int			len;

	switch (col->kind)
	{
		case COL_INTEGER:
			append_integer(out, col, value);
			return;
		case COL_FLOAT:
		case COL_NUMERIC:
			s = (char *) float_text(col, value, buf, &len);
			/* NaN, Infinity and -Infinity are not JSON numbers */
			if (s[0] == 'N' || s[0] == 'I' || (s[0] == '-' && s[1] == 'I'))
			{
				appendStringInfoChar(out, '"');
				appendBinaryStringInfo(out, s, len);
				appendStringInfoChar(out, '"');
			}
			else
				appendBinaryStringInfo(out, s, len);
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

/*
 * Appends one value as a CSV field.  Numbers, booleans and ISO 8601 dates
 * never hold a separator, quote or space, so only the other kinds are
 * scanned for quoting.
 */
static void
csv_append_value(StringInfo out, ResultColumn *col, Datum value)
{
	char		buf[MAXDATELEN + 1];
	int			len;

	switch (col->kind)
	{
		case COL_INTEGER:
			append_integer(out, col, value);
			return;
		case COL_FLOAT:
		case COL_NUMERIC:
			{
				const char *s = float_text(col, value, buf, &len);

				appendBinaryStringInfo(out, s, len);
			}
			return;
		case COL_BOOL:
			appendStringInfoString(out, DatumGetBool(value) ? "true" : "false");
			return;
		case COL_DATETIME:
			appendStringInfoString(out, JsonEncodeDateTime(buf, value, col->typid, NULL));
			return;
		default:
			csv_append(out, OutputFunctionCall(&col->output, value));
			return;
	}
}

/* Appends one row given as a heap tuple. */
void
result_writer_row(ResultWriter *w, StringInfo out, HeapTuple tuple, TupleDesc desc)
{
	heap_deform_tuple(tuple, desc, w->values, w->nulls);
	result_writer_values(w, out, w->values, w->nulls);
}

/* Appends one row given as its deformed values (a slot's, say). */
void
result_writer_values(ResultWriter *w, StringInfo out, Datum *values, bool *nulls)
{
	int			i;

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
				if (nulls[i])
					appendStringInfoString(out, "null");
				else
					json_append_value(out, &w->cols[i], values[i]);
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
				if (!nulls[i])
					csv_append_value(out, &w->cols[i], values[i]);
			}
			appendBinaryStringInfo(out, "\r\n", 2);
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
