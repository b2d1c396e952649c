/*-------------------------------------------------------------------------
 *
 * page_parser.h
 *		Parser and validator for dashboard pages written in Taipy's markdown
 *		control syntax; produces the JSON tree that the browser renders.
 *
 * A page is UTF-8 markdown text with elements "<|...|>" inline anywhere,
 * and blocks opened by a line ending in "<|...|" and closed by a line
 * starting with "|>".  The parser checks every control and property name
 * against the table in page_controls.c and every "{binding}", and reports
 * the first problem with its line and column (both 1-based, columns count
 * code points).  docs/page-syntax.md describes the syntax and the JSON.
 *
 * Pure C (libc only), independent of PostgreSQL.  Linear in the input size;
 * nesting is limited to PAGE_MAX_DEPTH blocks.
 *
 * src/lib/page_parser.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_PAGE_PARSER_H
#define PGDASH_PAGE_PARSER_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of blocks a page may use. */
#define PAGE_MAX_DEPTH 32

/* The first problem found in a page. */
typedef struct PageError
{
	int			line;			/* 1-based line of the problem */
	int			column;			/* 1-based column, in code points */
	char		message[256];	/* lower case, no final period */
	char		detail[256];	/* optional full sentence, or "" */
	char		hint[1024];		/* optional full sentence(s), or "" */
} PageError;

/*
 * Parses and validates a page of len bytes (text need not be NUL-terminated).
 * Returns a malloc'd NUL-terminated JSON text of the page tree, which the
 * caller frees, or NULL with *err filled (allocation failure is reported as
 * the error "out of memory").
 */
extern char *page_parse_to_json(const char *text, size_t len, PageError *err);

/* Turns the markdown of a heading into plain text, in place (a page's title). */
extern void page_heading_plain(char *s);

/*
 * The table of known controls (page_controls.c), used by the parser.
 */

/* One known control (or an alias of one). */
typedef struct PageControl
{
	const char *name;			/* the name written in pages */
	const char *canonical;		/* the name in the JSON tree */
	const char *default_property;	/* set by a leading value, or NULL */
	bool		is_block;		/* may open a block "<|...|" */
	bool		listed;			/* named in the hint of valid controls */
	const char *const *properties;	/* NULL-terminated, control-specific */
	bool		foreign;		/* Taipy scenario management: shown as a panel */
} PageControl;

/* Properties valid on every control, NULL-terminated. */
extern const char *const page_common_properties[];

/* The control named exactly name[0..len), or NULL. */
extern const PageControl *page_control_lookup(const char *name, size_t len);

/* Whether the base property name name[0..len) is valid on control ctl. */
extern bool page_control_has_property(const PageControl *ctl,
									  const char *name, size_t len);

/* Whether the browser applies the chart property name[0..len) (dotted or indexed). */
extern bool page_chart_property_applied(const char *name, size_t len);

/* Writes "Valid controls are: ..." into buf (always NUL-terminated). */
extern void page_controls_hint(char *buf, size_t size);

/* Writes the valid properties of ctl into buf (always NUL-terminated). */
extern void page_control_properties_hint(const PageControl *ctl,
										 char *buf, size_t size);

/* The listed control name closest to name[0..len) if it is close, or NULL. */
extern const char *page_control_suggest(const char *name, size_t len);

/* The property of ctl closest to name[0..len) if it is close, or NULL. */
extern const char *page_property_suggest(const PageControl *ctl,
										 const char *name, size_t len);

#endif							/* PGDASH_PAGE_PARSER_H */
