/*-------------------------------------------------------------------------
 *
 * page_expr.h
 *		Parser for the binding expressions of pages: the Python-expression
 *		subset that Taipy pages write between braces ("{x:.2f}",
 *		"{len(rows) > 0}", "{'on' if flag else 'off'}").
 *
 * A property value is a template: literal text with replacement fields
 * "{expression[!conversion][:format_spec]}", "{{" and "}}" standing for
 * literal braces, as in a Python f-string.  The parser turns a template
 * into a JSON array of parts that the browser evaluates (www/js/expr.js)
 * without eval: strings, and objects {"e": <expression>, "c": "r",
 * "f": "<spec>"}.  An expression is a JSON array whose first element names
 * its kind; docs/page-syntax.md section 2 lists them.  Every name an
 * expression reads is reported through a callback, so that a control
 * re-renders exactly when one of them changes.
 *
 * Lambdas, comprehensions, method calls and calls of anything but a fixed
 * set of builtins are refused with a hint; so are names starting with "__".
 * Pure C (libc only); linear in the input; nesting is bounded.
 *
 * src/lib/page_expr.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_PAGE_EXPR_H
#define PGDASH_PAGE_EXPR_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of brackets, unary operators and conditionals. */
#define PAGE_EXPR_MAX_DEPTH 48

/* A problem in a template, at a position of the text given to the parser. */
typedef struct PageExprError
{
	const char *at;				/* where in the text (never past its end) */
	char		message[256];	/* lower case, no final period */
	char		detail[256];	/* optional sentence, or "" */
	char		hint[512];		/* optional sentence(s), or "" */
} PageExprError;

/* Called with every free name an expression reads; returns false if out of memory. */
typedef bool (*PageExprNameFn) (void *arg, const char *name, size_t len);

/*
 * Parses the template s[0..n) (a property value, "\|" standing for "|") and
 * appends its parts as a JSON array to out.  Returns the number of
 * replacement fields, or -1 with *err filled.  Allocation failures set
 * out->failed and are not reported in *err.
 */
extern int	page_template_parse(const char *s, size_t n, StrBuf *out,
								PageExprNameFn name_fn, void *arg,
								PageExprError *err);

/* Whether spec is a valid Python format specification (or a strftime one). */
extern bool page_format_spec_valid(const char *spec, size_t n);

#endif							/* PGDASH_PAGE_EXPR_H */
