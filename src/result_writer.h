/*
 * result_writer.h
 *		Serializes query results as JSON, CSV or NDJSON straight from tuples.
 */
#ifndef PG_DASH_RESULT_WRITER_H
#define PG_DASH_RESULT_WRITER_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

typedef enum ResultFormat
{
	RESULT_JSON,
	RESULT_CSV,
	RESULT_NDJSON
} ResultFormat;

/* How a column's values are written. */
typedef enum ColumnKind
{
	COL_INTEGER,				/* JSON number as PostgreSQL prints it */
	COL_FLOAT,					/* JSON number; NaN and infinities as strings */
	COL_NUMERIC,				/* JSON number with every digit */
	COL_BOOL,
	COL_JSON,					/* inlined */
	COL_DATETIME,				/* ISO 8601 string */
	COL_ARRAY,					/* JSON array (array_to_json) */
	COL_COMPOSITE,				/* JSON object (row_to_json) */
	COL_TEXT					/* JSON string of the text form */
} ColumnKind;

typedef struct ResultColumn
{
	char	   *name;
	char	   *json_name;		/* name as an escaped JSON string */
	char	   *type_name;
	Oid			typid;			/* domains resolved to their base type */
	ColumnKind	kind;
	FmgrInfo	output;
} ResultColumn;

typedef struct ResultWriter
{
	ResultFormat format;
	bool		objects;		/* rows as objects instead of arrays */
	int			natts;
	ResultColumn *cols;
	Datum	   *values;
	bool	   *nulls;
	uint64		rows;
} ResultWriter;

extern bool result_format_parse(const char *name, ResultFormat *format);
extern const char *result_content_type(ResultFormat format);
extern void result_writer_init(ResultWriter *w, TupleDesc desc, ResultFormat format, bool objects);
extern void result_writer_begin(ResultWriter *w, StringInfo out, const char *prefix);
extern void result_writer_row(ResultWriter *w, StringInfo out, HeapTuple tuple, TupleDesc desc);
extern void result_writer_values(ResultWriter *w, StringInfo out, Datum *values, bool *nulls);
extern void result_writer_end(ResultWriter *w, StringInfo out, bool truncated, int64 total);
extern void result_columns_json(TupleDesc desc, StringInfo out);

#endif							/* PG_DASH_RESULT_WRITER_H */
