/*-------------------------------------------------------------------------
 *
 * page_expr.c
 *		Parses the binding templates and expressions of pages into the JSON
 *		form that the browser evaluates (see page_expr.h).
 *
 * A recursive-descent parser over the bytes of one line, following
 * Python's grammar and operator precedence for the supported subset.  The
 * JSON is written as the parse goes; when an operator shows that what was
 * just written is the left operand, the operator's opening "[tag," is
 * inserted in front of it once per precedence level, and chains of the
 * same level are kept flat (["ops", a, "+", b, "-", c]), so long chains
 * neither recurse nor get rewritten again and again.  Every recursion goes
 * through ex_enter(), which bounds the depth.
 *
 * Expression forms (JSON arrays):
 *	["c", value]						constant (number, string, bool, null)
 *	["n", name]							a name: a state key or a named query
 *	["get", base, [".", name] | ["[]", index] | ["[:]", lo, hi, step] ...]
 *	["call", builtin, args...]			len str int float round abs min max sum bool
 *	["u", "-" | "+", x]  ["not", x]
 *	["pow", base, exponent]
 *	["ops", x, "*", y, "//", z ...]	  one precedence level, left to right
 *	["cmp", x, "<", y, "not in", z ...]	chained comparison
 *	["and", x, y ...]  ["or", x, y ...]
 *	["if", body, condition, orelse]
 *	["list", items...] ["tuple", items...] ["dict", k1, v1, k2, v2 ...]
 *	["f", parts]						f-string; parts as for a template
 *
 * src/lib/page_expr.c
 *
 *-------------------------------------------------------------------------
 */
#include "page_expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the advice for a refused construct says. */
#define EX_HINT_COMPUTE "Compute the value in a named query (pg_dash.define_query) or set a state key from a SQL action, then bind to it with {name}."

typedef struct ExprParser
{
	const char *pos;			/* the next byte to read */
	const char *end;			/* end of the current text */
	StrBuf	   *out;
	StrBuf		tmp;			/* a decoded string literal */
	PageExprNameFn name_fn;
	void	   *arg;
	PageExprError *err;
	bool		failed;
	int			depth;
} ExprParser;

/* A builtin that expressions may call, with its number of arguments. */
typedef struct ExprBuiltin
{
	const char *name;
	int			min_args;
	int			max_args;		/* -1: any number */
} ExprBuiltin;

static const ExprBuiltin ex_builtins[] = {
	{"abs", 1, 1}, {"bool", 0, 1}, {"float", 0, 1}, {"int", 0, 1},
	{"len", 1, 1}, {"list", 0, 1}, {"max", 1, -1}, {"min", 1, -1}, {"round", 1, 2},
	{"str", 0, 1}, {"sum", 1, 2},
};

#define EX_NBUILTINS (sizeof(ex_builtins) / sizeof(ex_builtins[0]))

/* Python keywords that cannot be names. */
static const char *const ex_keywords[] = {
	"False", "None", "True", "and", "as", "assert", "async", "await",
	"break", "class", "continue", "def", "del", "elif", "else", "except",
	"finally", "for", "from", "global", "if", "import", "in", "is",
	"lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
	"while", "with", "yield", NULL
};

static bool ex_testlist(ExprParser *x, bool allow_tuple);
static bool ex_test(ExprParser *x);
static bool ex_factor(ExprParser *x);
static int	ex_template(ExprParser *x, const char *s, const char *e,
						bool in_string, bool raw);

/* ----------------------------------------------------------------
 * Helpers
 * ----------------------------------------------------------------
 */

/* Records the first error at position at; returns false. */
static bool
ex_fail(ExprParser *x, const char *at, const char *hint, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static bool
ex_fail(ExprParser *x, const char *at, const char *hint, const char *fmt,...)
{
	va_list		ap;

	if (x->failed)
		return false;
	x->failed = true;
	x->err->at = at;
	va_start(ap, fmt);
	vsnprintf(x->err->message, sizeof(x->err->message), fmt, ap);
	va_end(ap);
	x->err->detail[0] = '\0';
	snprintf(x->err->hint, sizeof(x->err->hint), "%s", hint ? hint : "");
	return false;
}

/* Sets the detail sentence of the error just recorded; returns false. */
static bool
ex_detail(ExprParser *x, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static bool
ex_detail(ExprParser *x, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(x->err->detail, sizeof(x->err->detail), fmt, ap);
	va_end(ap);
	return false;
}

/* Whether c may start a name. */
static bool
ex_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Whether c may continue a name. */
static bool
ex_ident_char(char c)
{
	return ex_ident_start(c) || (c >= '0' && c <= '9');
}

/* Skips spaces and tabs. */
static void
ex_ws(ExprParser *x)
{
	while (x->pos < x->end && (*x->pos == ' ' || *x->pos == '\t'))
		x->pos++;
}

/* Whether the text at pos starts with s. */
static bool
ex_at(ExprParser *x, const char *s)
{
	size_t		n = strlen(s);

	return (size_t) (x->end - x->pos) >= n && memcmp(x->pos, s, n) == 0;
}

/* Length of the name at p (up to end), or 0. */
static size_t
ex_ident_len(const char *p, const char *end)
{
	const char *q = p;

	if (q >= end || !ex_ident_start(*q))
		return 0;
	while (q < end && ex_ident_char(*q))
		q++;
	return (size_t) (q - p);
}

/* Whether the keyword kw is at pos (a whole word). */
static bool
ex_kw(ExprParser *x, const char *kw)
{
	size_t		n = ex_ident_len(x->pos, x->end);

	return n == strlen(kw) && memcmp(x->pos, kw, n) == 0;
}

/* Whether name[0..n) is a Python keyword. */
static bool
ex_is_keyword(const char *name, size_t n)
{
	for (const char *const *k = ex_keywords; *k; k++)
	{
		if (strlen(*k) == n && memcmp(*k, name, n) == 0)
			return true;
	}
	return false;
}

/* Counts one level of nesting; false (and error) past the limit. */
static bool
ex_enter(ExprParser *x)
{
	if (++x->depth > PAGE_EXPR_MAX_DEPTH)
		return ex_fail(x, x->pos, "Split the expression, or compute it in a named query.",
					   "expression is nested too deeply");
	return true;
}

/* Inserts s into the output at byte offset mark. */
static void
ex_insert(ExprParser *x, size_t mark, const char *s)
{
	size_t		n = strlen(s);
	StrBuf	   *out = x->out;

	if (out->failed || !strbuf_reserve(out, n))
		return;
	memmove(out->data + mark + n, out->data + mark, out->len - mark);
	memcpy(out->data + mark, s, n);
	out->len += n;
	out->data[out->len] = '\0';
}

/* Appends a JSON string of s[0..n) to the output. */
static void
ex_json(ExprParser *x, const char *s, size_t n)
{
	strbuf_append_json_string(x->out, s, n);
}

/* Length of the token at p to quote in a message: a name or number, or one character. */
static int
ex_quote_len(const char *p, const char *end)
{
	int			n = 0;

	if (p >= end)
		return 0;
	while (p + n < end && n < 30 && ex_ident_char(p[n]))
		n++;
	if (n > 0)
		return n;
	n = 1;
	while (p + n < end && ((unsigned char) p[n] & 0xC0) == 0x80)
		n++;
	return n;
}

/* Reports what is at pos as unexpected. */
static bool
ex_unexpected(ExprParser *x)
{
	if (x->pos >= x->end)
		return ex_fail(x, x->end, "Complete the expression, and close every bracket and brace.",
					   "expression is incomplete");
	if (*x->pos == '}')
		return ex_fail(x, x->pos, "Write a name, a number, a string or a bracket here.",
					   "unexpected \"}\" in expression: an operand is missing");
	return ex_fail(x, x->pos, NULL, "unexpected \"%.*s\" in expression",
				   ex_quote_len(x->pos, x->end), x->pos);
}

/* Expects the byte c at pos (after spaces) and skips it. */
static bool
ex_expect(ExprParser *x, char c)
{
	ex_ws(x);
	if (x->pos < x->end && *x->pos == c)
	{
		x->pos++;
		return true;
	}
	if (x->pos >= x->end)
		return ex_fail(x, x->end, "Close every bracket and brace.",
					   "expression is incomplete: \"%c\" expected", c);
	return ex_fail(x, x->pos, NULL, "unexpected \"%.*s\" in expression: \"%c\" expected",
				   ex_quote_len(x->pos, x->end), x->pos, c);
}

/* Refuses a comprehension at a "for" keyword. */
static bool
ex_refuse_comprehension(ExprParser *x)
{
	ex_fail(x, x->pos, EX_HINT_COMPUTE, "comprehensions are not supported");
	return ex_detail(x, "Expressions cannot loop; \"for\" is only valid in Python code.");
}

/* ----------------------------------------------------------------
 * Literals
 * ----------------------------------------------------------------
 */

/* Appends code point cp as UTF-8 to sb. */
static void
ex_utf8(StrBuf *sb, uint32_t cp)
{
	if (cp < 0x80)
		strbuf_append_char(sb, (char) cp);
	else if (cp < 0x800)
	{
		strbuf_append_char(sb, (char) (0xC0 | (cp >> 6)));
		strbuf_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	}
	else if (cp < 0x10000)
	{
		strbuf_append_char(sb, (char) (0xE0 | (cp >> 12)));
		strbuf_append_char(sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
		strbuf_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	}
	else
	{
		strbuf_append_char(sb, (char) (0xF0 | (cp >> 18)));
		strbuf_append_char(sb, (char) (0x80 | ((cp >> 12) & 0x3F)));
		strbuf_append_char(sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
		strbuf_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	}
}

/* Value of the hex digit c, or -1. */
static int
ex_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the escape sequence at *p (a backslash, p + 1 < end) into sb and
 * advances *p past it; false (and error) for a NUL or an invalid code point.
 */
static bool
ex_escape(ExprParser *x, const char **p, const char *end, StrBuf *sb)
{
	const char *q = *p + 1;
	uint32_t	cp = 0;
	int			digits = 0;

	switch (*q)
	{
		case 'n': strbuf_append_char(sb, '\n'); break;
		case 't': strbuf_append_char(sb, '\t'); break;
		case 'r': strbuf_append_char(sb, '\r'); break;
		case 'a': strbuf_append_char(sb, '\a'); break;
		case 'b': strbuf_append_char(sb, '\b'); break;
		case 'f': strbuf_append_char(sb, '\f'); break;
		case 'v': strbuf_append_char(sb, '\v'); break;
		case '\\': case '\'': case '"': case '|':
			strbuf_append_char(sb, *q);
			break;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default:
			if (*q >= '0' && *q <= '7')
			{
				const char *r = q;

				while (r < end && r < q + 3 && *r >= '0' && *r <= '7')
					cp = cp * 8 + (uint32_t) (*r++ - '0');
				q = r - 1;
				goto codepoint;
			}
			/* an unknown escape keeps its backslash, as in Python */
			strbuf_append_char(sb, '\\');
			*p = q;
			return true;
	}
	if (digits > 0)
	{
		for (int i = 1; i <= digits; i++)
		{
			int			h = q + i < end ? ex_hex(q[i]) : -1;

			if (h < 0)
				return ex_fail(x, *p, NULL, "invalid escape \"\\%c\" in string: %d hex digits expected",
							   *q, digits);
			cp = cp * 16 + (uint32_t) h;
		}
		q += digits;
		goto codepoint;
	}
	*p = q + 1;
	return true;

codepoint:
	if (cp == 0)
		return ex_fail(x, *p, "Remove the NUL character: PostgreSQL text cannot hold it.",
					   "string contains a NUL character");
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return ex_fail(x, *p, NULL, "invalid code point in string escape");
	ex_utf8(sb, cp);
	*p = q + 1;
	return true;
}

/* Appends the shortest JSON text that reads back as v. */
static void
ex_number_json(StrBuf *out, double v)
{
	char		buf[40];

	if (v == floor(v) && fabs(v) < 1e15)
	{
		snprintf(buf, sizeof(buf), "%.0f", v);
		strbuf_append(out, buf);
		return;
	}
	for (int prec = 1; prec <= 17; prec++)
	{
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	strbuf_append(out, buf);
}

/* Parses a number literal at pos into ["c", n]. */
static bool
ex_number(ExprParser *x)
{
	const char *start = x->pos;
	const char *p = x->pos;
	char		buf[130];
	size_t		n = 0;
	int			base = 10;
	double		v;

	if (p + 1 < x->end && p[0] == '0' && strchr("xXoObB", p[1]) != NULL)
	{
		base = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
		p += 2;
		while (p < x->end && (ex_hex(*p) >= 0 || *p == '_'))
		{
			if (*p != '_' && (ex_hex(*p) >= base || n >= sizeof(buf) - 1))
				return ex_fail(x, start, NULL, "invalid number \"%.*s\"",
							   ex_quote_len(start, x->end), start);
			if (*p != '_')
				buf[n++] = *p;
			p++;
		}
	}
	else
	{
		bool		exp = false;

		while (p < x->end && ((*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
							  ((*p == 'e' || *p == 'E') && !exp) ||
							  ((*p == '+' || *p == '-') && exp && (p[-1] == 'e' || p[-1] == 'E'))))
		{
			if (*p == 'e' || *p == 'E')
				exp = true;
			if (*p != '_')
			{
				if (n >= sizeof(buf) - 1)
					return ex_fail(x, start, NULL, "number is too long");
				buf[n++] = *p;
			}
			p++;
		}
	}
	buf[n] = '\0';
	if (n == 0 || (p < x->end && ex_ident_char(*p)))
	{
		if (p < x->end && (*p == 'j' || *p == 'J'))
			return ex_fail(x, start, NULL, "complex numbers are not supported");
		return ex_fail(x, start, NULL, "invalid number \"%.*s\"",
					   ex_quote_len(start, x->end), start);
	}
	if (base != 10)
		v = (double) strtoull(buf, NULL, base);
	else
	{
		char	   *e;

		v = strtod(buf, &e);
		if (*e != '\0')
			return ex_fail(x, start, NULL, "invalid number \"%.*s\"", (int) (p - start), start);
	}
	if (!isfinite(v))
		return ex_fail(x, start, NULL, "number is too large");
	strbuf_append(x->out, "[\"c\",");
	ex_number_json(x->out, v);
	strbuf_append_char(x->out, ']');
	x->pos = p;
	return true;
}

/*
 * Finds the end of the string literal whose opening quote is at q: sets
 * *cs and *ce to its content and returns the position after the closing quote,
 * or NULL (and error).
 */
static const char *
ex_string_bounds(ExprParser *x, const char *q, const char **cs, const char **ce)
{
	char		quote = *q;
	bool		triple = q + 2 < x->end && q[1] == quote && q[2] == quote;
	const char *p = q + (triple ? 3 : 1);

	*cs = p;
	while (p < x->end)
	{
		if (*p == '\\' && p + 1 < x->end)
		{
			p += 2;
			continue;
		}
		if (*p == quote &&
			(!triple || (p + 2 < x->end && p[1] == quote && p[2] == quote)))
		{
			*ce = p;
			return p + (triple ? 3 : 1);
		}
		p++;
	}
	ex_fail(x, q, "Close the string with the same quote it starts with.",
			"unterminated string");
	return NULL;
}

/* Decodes the content cs..ce of a plain string literal into tmp. */
static bool
ex_decode_string(ExprParser *x, const char *cs, const char *ce, bool raw)
{
	for (const char *p = cs; p < ce;)
	{
		if (*p == '\\' && p + 1 < ce)
		{
			if (raw)
			{
				/* "\|" is the page's own escape, also in raw strings */
				if (p[1] != '|')
					strbuf_append_char(&x->tmp, '\\');
				strbuf_append_char(&x->tmp, p[1]);
				p += 2;
			}
			else if (!ex_escape(x, &p, ce, &x->tmp))
				return false;
			continue;
		}
		strbuf_append_char(&x->tmp, *p++);
	}
	return true;
}

/* Reads a string prefix at pos (r, f, b, u, rf, fr...); false if none is there. */
static bool
ex_string_prefix(ExprParser *x, size_t *len, bool *raw, bool *fstr, bool *bytes)
{
	size_t		i = 0;

	*raw = *fstr = *bytes = false;
	while (i < 2 && x->pos + i < x->end && strchr("rRfFbBuU", x->pos[i]) != NULL &&
		   x->pos[i] != '\0')
	{
		char		c = x->pos[i];

		if (c == 'r' || c == 'R')
			*raw = true;
		else if (c == 'f' || c == 'F')
			*fstr = true;
		else if (c == 'b' || c == 'B')
			*bytes = true;
		i++;
	}
	if (x->pos + i < x->end && (x->pos[i] == '\'' || x->pos[i] == '"'))
	{
		*len = i;
		return true;
	}
	return false;
}

/* Parses string literals at pos (adjacent plain ones concatenated). */
static bool
ex_string(ExprParser *x)
{
	const char *start = x->pos;
	bool		first = true;

	strbuf_reset(&x->tmp);
	for (;;)
	{
		size_t		plen;
		bool		raw;
		bool		fstr;
		bool		bytes;
		const char *cs;
		const char *ce;
		const char *after;

		ex_ws(x);
		if (!ex_string_prefix(x, &plen, &raw, &fstr, &bytes))
			break;
		if (bytes)
			return ex_fail(x, x->pos, "Write a plain string: \"...\".",
						   "bytes literals are not supported");
		after = ex_string_bounds(x, x->pos + plen, &cs, &ce);
		if (after == NULL)
			return false;
		if (fstr)
		{
			if (!first)
				return ex_fail(x, x->pos, "Write a single f-string.",
							   "an f-string cannot follow another string");
			strbuf_append(x->out, "[\"f\",");
			if (ex_template(x, cs, ce, true, raw) < 0)
				return false;
			strbuf_append_char(x->out, ']');
			x->pos = after;
			ex_ws(x);
			if (ex_string_prefix(x, &plen, &raw, &fstr, &bytes))
				return ex_fail(x, x->pos, "Write a single f-string.",
							   "a string cannot follow an f-string");
			return true;
		}
		if (!ex_decode_string(x, cs, ce, raw))
			return false;
		x->pos = after;
		first = false;
	}
	if (first)
		return ex_fail(x, start, NULL, "invalid string");
	strbuf_append(x->out, "[\"c\",");
	ex_json(x, x->tmp.data ? x->tmp.data : "", x->tmp.len);
	strbuf_append_char(x->out, ']');
	return true;
}

/* ----------------------------------------------------------------
 * Expressions
 * ----------------------------------------------------------------
 */

/* Checks that name[0..n) at position at may be used; false (and error) if not. */
static bool
ex_check_name(ExprParser *x, const char *at, size_t n)
{
	if (n >= 2 && at[0] == '_' && at[1] == '_')
	{
		ex_fail(x, at, "Use a name without leading underscores.",
				"name \"%.*s\" is not allowed", (int) n, at);
		return ex_detail(x, "Names starting with \"__\" reach Python's internals; pages cannot use them.");
	}
	return true;
}

/* The builtin named name[0..n), or NULL. */
static const ExprBuiltin *
ex_builtin(const char *name, size_t n)
{
	for (size_t i = 0; i < EX_NBUILTINS; i++)
	{
		if (strlen(ex_builtins[i].name) == n && memcmp(ex_builtins[i].name, name, n) == 0)
			return &ex_builtins[i];
	}
	return NULL;
}

/* Parses the arguments of a call of builtin b (pos after the "("). */
static bool
ex_call(ExprParser *x, const ExprBuiltin *b, const char *at)
{
	int			nargs = 0;

	strbuf_append(x->out, "[\"call\",");
	ex_json(x, b->name, strlen(b->name));
	for (;;)
	{
		size_t		idn;
		const char *q;

		ex_ws(x);
		if (x->pos < x->end && *x->pos == ')')
			break;
		if (x->pos < x->end && *x->pos == '*')
			return ex_fail(x, x->pos, NULL, "unpacking arguments with \"*\" is not supported");
		idn = ex_ident_len(x->pos, x->end);
		q = x->pos + idn;
		while (q < x->end && (*q == ' ' || *q == '\t'))
			q++;
		if (idn > 0 && q < x->end && *q == '=' && !(q + 1 < x->end && q[1] == '='))
			return ex_fail(x, x->pos, "Pass the arguments by position.",
						   "keyword arguments are not supported");
		strbuf_append_char(x->out, ',');
		if (!ex_test(x))
			return false;
		nargs++;
		ex_ws(x);
		if (ex_kw(x, "for"))
			return ex_refuse_comprehension(x);
		if (x->pos < x->end && *x->pos == ',')
		{
			x->pos++;
			continue;
		}
		break;
	}
	if (!ex_expect(x, ')'))
		return false;
	if (nargs < b->min_args || (b->max_args >= 0 && nargs > b->max_args))
	{
		if (b->max_args < 0)
			return ex_fail(x, at, NULL, "%s() takes at least %d argument%s (%d given)",
						   b->name, b->min_args, b->min_args == 1 ? "" : "s", nargs);
		if (b->min_args == b->max_args)
			return ex_fail(x, at, NULL, "%s() takes %d argument%s (%d given)",
						   b->name, b->min_args, b->min_args == 1 ? "" : "s", nargs);
		return ex_fail(x, at, NULL, "%s() takes %d to %d arguments (%d given)",
					   b->name, b->min_args, b->max_args, nargs);
	}
	strbuf_append_char(x->out, ']');
	return true;
}

/* Parses a name, a keyword constant or a call of a builtin at pos. */
static bool
ex_name(ExprParser *x)
{
	const char *at = x->pos;
	size_t		n = ex_ident_len(x->pos, x->end);
	const char *q;

	x->pos += n;
	if (n == 4 && memcmp(at, "True", 4) == 0)
	{
		strbuf_append(x->out, "[\"c\",true]");
		return true;
	}
	if (n == 5 && memcmp(at, "False", 5) == 0)
	{
		strbuf_append(x->out, "[\"c\",false]");
		return true;
	}
	if (n == 4 && memcmp(at, "None", 4) == 0)
	{
		strbuf_append(x->out, "[\"c\",null]");
		return true;
	}
	if (n == 6 && memcmp(at, "lambda", 6) == 0)
	{
		ex_fail(x, at, EX_HINT_COMPUTE, "lambda expressions are not supported");
		return ex_detail(x, "A page cannot define functions; its expressions are evaluated in the browser.");
	}
	if (ex_is_keyword(at, n))
		return ex_fail(x, at, NULL, "unexpected keyword \"%.*s\" in expression", (int) n, at);
	if (!ex_check_name(x, at, n))
		return false;
	q = x->pos;
	while (q < x->end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < x->end && *q == '(')
	{
		const ExprBuiltin *b = ex_builtin(at, n);

		if (b == NULL)
		{
			ex_fail(x, at, EX_HINT_COMPUTE, "function \"%.*s\" is not available", (int) n, at);
			return ex_detail(x, "Expressions may call only abs, bool, float, int, len, list, max, min, round, str and sum.");
		}
		x->pos = q + 1;
		return ex_call(x, b, at);
	}
	strbuf_append(x->out, "[\"n\",");
	ex_json(x, at, n);
	strbuf_append_char(x->out, ']');
	if (x->name_fn && !x->name_fn(x->arg, at, n))
		x->out->failed = true;
	return true;
}

/* Parses the items of a list, tuple or dict up to the closing bracket. */
static bool
ex_items(ExprParser *x, char close, bool dict)
{
	bool		first = true;

	for (;;)
	{
		ex_ws(x);
		if (x->pos < x->end && *x->pos == close)
			break;
		if (!first)
		{
			if (!ex_expect(x, ','))
				return false;
			ex_ws(x);
			if (x->pos < x->end && *x->pos == close)
				break;
		}
		if (x->pos < x->end && *x->pos == '*')
			return ex_fail(x, x->pos, NULL, "unpacking with \"*\" is not supported");
		strbuf_append_char(x->out, ',');
		if (!ex_test(x))
			return false;
		ex_ws(x);
		if (ex_kw(x, "for"))
			return ex_refuse_comprehension(x);
		if (dict)
		{
			if (x->pos < x->end && *x->pos == ',' && first)
				return ex_fail(x, x->pos, "Use a list [...] instead.",
							   "set literals are not supported");
			if (!ex_expect(x, ':'))
				return false;
			strbuf_append_char(x->out, ',');
			if (!ex_test(x))
				return false;
			ex_ws(x);
			if (ex_kw(x, "for"))
				return ex_refuse_comprehension(x);
		}
		first = false;
	}
	x->pos++;
	return true;
}

/* Parses an atom: a literal, a name, a call, or a bracketed expression. */
static bool
ex_atom(ExprParser *x)
{
	size_t		plen;
	bool		raw;
	bool		fstr;
	bool		bytes;
	char		c;

	ex_ws(x);
	if (x->pos >= x->end)
		return ex_unexpected(x);
	c = *x->pos;
	if (ex_string_prefix(x, &plen, &raw, &fstr, &bytes))
		return ex_string(x);
	if (ex_ident_start(c))
		return ex_name(x);
	if ((c >= '0' && c <= '9') ||
		(c == '.' && x->pos + 1 < x->end && x->pos[1] >= '0' && x->pos[1] <= '9'))
		return ex_number(x);
	if (c == '(')
	{
		size_t		mark;

		x->pos++;
		ex_ws(x);
		if (x->pos < x->end && *x->pos == ')')
		{
			x->pos++;
			strbuf_append(x->out, "[\"tuple\"]");
			return true;
		}
		mark = x->out->len;
		if (!ex_test(x))
			return false;
		ex_ws(x);
		if (ex_kw(x, "for"))
			return ex_refuse_comprehension(x);
		if (x->pos < x->end && *x->pos == ',')
		{
			ex_insert(x, mark, "[\"tuple\",");
			x->pos++;
			if (!ex_items(x, ')', false))
				return false;
			strbuf_append_char(x->out, ']');
			return true;
		}
		return ex_expect(x, ')');
	}
	if (c == '[' || c == '{')
	{
		x->pos++;
		strbuf_append(x->out, c == '[' ? "[\"list\"" : "[\"dict\"");
		if (!ex_items(x, c == '[' ? ']' : '}', c == '{'))
			return false;
		strbuf_append_char(x->out, ']');
		return true;
	}
	if (c == '*')
		return ex_fail(x, x->pos, NULL, "unpacking with \"*\" is not supported");
	return ex_unexpected(x);
}

/* Parses what is inside "[...]" after a value: an index or a slice. */
static bool
ex_subscript(ExprParser *x)
{
	size_t		mark = x->out->len;

	strbuf_append(x->out, ",[\"[]\",");
	ex_ws(x);
	if (x->pos < x->end && *x->pos == ':')
		strbuf_append(x->out, "null");
	else if (!ex_test(x))
		return false;
	ex_ws(x);
	if (x->pos < x->end && *x->pos == ',')
		return ex_fail(x, x->pos, "Index with a single value.",
					   "tuple indexes are not supported");
	if (x->pos < x->end && *x->pos == ':')
	{
		/* ",["[]", lo" becomes ",["[:]", lo, hi, step" */
		ex_insert(x, mark + 4, ":");
		for (int part = 0; part < 2; part++)
		{
			strbuf_append_char(x->out, ',');
			if (x->pos < x->end && *x->pos == ':')
			{
				x->pos++;
				ex_ws(x);
				if (x->pos < x->end && *x->pos != ':' && *x->pos != ']')
				{
					if (!ex_test(x))
						return false;
					ex_ws(x);
					continue;
				}
			}
			strbuf_append(x->out, "null");
		}
	}
	strbuf_append_char(x->out, ']');
	return ex_expect(x, ']');
}

/* Parses an atom and its trailers: ".name", "[index]", "[lo:hi]". */
static bool
ex_primary(ExprParser *x)
{
	const char *start;
	size_t		mark;
	bool		wrapped = false;

	ex_ws(x);
	start = x->pos;
	mark = x->out->len;
	if (!ex_atom(x))
		return false;
	for (;;)
	{
		ex_ws(x);
		if (x->pos >= x->end)
			break;
		if (*x->pos == '.')
		{
			const char *at;
			size_t		n;

			x->pos++;
			ex_ws(x);
			at = x->pos;
			n = ex_ident_len(x->pos, x->end);
			if (n == 0)
				return ex_fail(x, x->pos, NULL, "a name is expected after \".\"");
			if (!ex_check_name(x, at, n))
				return false;
			if ((n == 4 && memcmp(at, "iloc", 4) == 0) || (n == 3 && memcmp(at, "loc", 3) == 0) ||
				(n == 3 && memcmp(at, "iat", 3) == 0))
			{
				ex_fail(x, at, EX_HINT_COMPUTE, "\".%.*s\" is not supported", (int) n, at);
				return ex_detail(x, "Data frame indexers belong to Python; a query result is read with result.column (first row) or result[i] (a row).");
			}
			x->pos += n;
			if (!wrapped)
				ex_insert(x, mark, "[\"get\",");
			wrapped = true;
			strbuf_append(x->out, ",[\".\",");
			ex_json(x, at, n);
			strbuf_append_char(x->out, ']');
		}
		else if (*x->pos == '[')
		{
			x->pos++;
			if (!wrapped)
				ex_insert(x, mark, "[\"get\",");
			wrapped = true;
			if (!ex_enter(x) || !ex_subscript(x))
				return false;
			x->depth--;
		}
		else if (*x->pos == '(')
		{
			int			n = (int) (x->pos - start);

			while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
				n--;
			ex_fail(x, start, EX_HINT_COMPUTE, "cannot call \"%.*s\"", n > 40 ? 40 : n, start);
			return ex_detail(x, "Expressions cannot call methods or library functions (np.mean, df.max(), ...); only abs, bool, float, int, len, list, max, min, round, str and sum.");
		}
		else
			break;
	}
	if (wrapped)
		strbuf_append_char(x->out, ']');
	return true;
}

/* Parses a power: primary ["**" factor]. */
static bool
ex_power(ExprParser *x)
{
	size_t		mark = x->out->len;

	if (!ex_primary(x))
		return false;
	ex_ws(x);
	if (ex_at(x, "**"))
	{
		x->pos += 2;
		ex_insert(x, mark, "[\"pow\",");
		strbuf_append_char(x->out, ',');
		if (!ex_factor(x))
			return false;
		strbuf_append_char(x->out, ']');
	}
	return true;
}

/* Parses a factor: ("+" | "-") factor, or a power. */
static bool
ex_factor(ExprParser *x)
{
	bool		ok;

	if (!ex_enter(x))
		return false;
	ex_ws(x);
	if (x->pos < x->end && (*x->pos == '-' || *x->pos == '+'))
	{
		strbuf_append(x->out, *x->pos == '-' ? "[\"u\",\"-\"," : "[\"u\",\"+\",");
		x->pos++;
		ok = ex_factor(x);
		strbuf_append_char(x->out, ']');
	}
	else if (x->pos < x->end && *x->pos == '~')
		ok = ex_fail(x, x->pos, NULL, "operator \"~\" is not supported");
	else
		ok = ex_power(x);
	x->depth--;
	return ok;
}

/* The arithmetic operator at pos for the level (terms or sums), or NULL. */
static const char *
ex_arith_op(ExprParser *x, bool term)
{
	static const char *const term_ops[] = {"//", "*", "/", "%", NULL};
	static const char *const sum_ops[] = {"+", "-", NULL};

	ex_ws(x);
	if (term && ex_at(x, "**"))
		return NULL;
	for (const char *const *op = term ? term_ops : sum_ops; *op; op++)
	{
		if (ex_at(x, *op))
			return *op;
	}
	return NULL;
}

/* Parses a chain of one arithmetic level: terms (* / // %) or sums (+ -). */
static bool
ex_arith(ExprParser *x, bool term)
{
	size_t		mark = x->out->len;
	bool		wrapped = false;
	const char *op;

	if (!(term ? ex_factor(x) : ex_arith(x, true)))
		return false;
	while ((op = ex_arith_op(x, term)) != NULL)
	{
		/* "x -= 1", "x //= 2": assignments are not expressions */
		if (x->pos + strlen(op) < x->end && x->pos[strlen(op)] == '=')
			return ex_unexpected(x);
		x->pos += strlen(op);
		if (!wrapped)
			ex_insert(x, mark, "[\"ops\",");
		wrapped = true;
		strbuf_append_char(x->out, ',');
		ex_json(x, op, strlen(op));
		strbuf_append_char(x->out, ',');
		if (!(term ? ex_factor(x) : ex_arith(x, true)))
			return false;
	}
	if (term && x->pos < x->end && *x->pos == '@')
		return ex_fail(x, x->pos, NULL, "operator \"@\" is not supported");
	if (wrapped)
		strbuf_append_char(x->out, ']');
	return true;
}

/* Reads a comparison operator at pos into op (advancing); false if none. */
static bool
ex_cmp_op(ExprParser *x, const char **op)
{
	static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", NULL};

	ex_ws(x);
	if (ex_at(x, "<<") || ex_at(x, ">>"))
		return false;
	for (const char *const *o = ops; *o; o++)
	{
		if (ex_at(x, *o))
		{
			*op = *o;
			x->pos += strlen(*o);
			return true;
		}
	}
	if (ex_kw(x, "in"))
	{
		*op = "in";
		x->pos += 2;
		return true;
	}
	if (ex_kw(x, "not"))
	{
		const char *save = x->pos;

		x->pos += 3;
		ex_ws(x);
		if (ex_kw(x, "in"))
		{
			*op = "not in";
			x->pos += 2;
			return true;
		}
		x->pos = save;
		return false;
	}
	if (ex_kw(x, "is"))
	{
		x->pos += 2;
		ex_ws(x);
		if (ex_kw(x, "not"))
		{
			*op = "is not";
			x->pos += 3;
		}
		else
			*op = "is";
		return true;
	}
	return false;
}

/* Parses a comparison chain: sum (op sum)*. */
static bool
ex_comparison(ExprParser *x)
{
	size_t		mark = x->out->len;
	bool		wrapped = false;
	const char *op;

	if (!ex_arith(x, false))
		return false;
	while (ex_cmp_op(x, &op))
	{
		if (!wrapped)
			ex_insert(x, mark, "[\"cmp\",");
		wrapped = true;
		strbuf_append_char(x->out, ',');
		ex_json(x, op, strlen(op));
		strbuf_append_char(x->out, ',');
		if (!ex_arith(x, false))
			return false;
	}
	ex_ws(x);
	if (x->pos < x->end && (*x->pos == '&' || *x->pos == '^' || ex_at(x, "<<") || ex_at(x, ">>")))
		return ex_fail(x, x->pos, "Use and, or and not for conditions.",
					   "operator \"%.*s\" is not supported",
					   (*x->pos == '<' || *x->pos == '>') ? 2 : 1, x->pos);
	if (x->pos < x->end && *x->pos == '=' && !(x->pos + 1 < x->end && x->pos[1] == '='))
	{
		if (x->pos + 1 < x->end && x->pos[1] == '}')
			return ex_fail(x, x->pos, "Remove the \"=\".",
						   "self-documenting expressions \"{x=}\" are not supported");
		return ex_fail(x, x->pos, "Compare with \"==\".", "assignments are not supported");
	}
	if (wrapped)
		strbuf_append_char(x->out, ']');
	return true;
}

/* Parses "not" test: "not" not_test | comparison. */
static bool
ex_not(ExprParser *x)
{
	bool		ok;

	ex_ws(x);
	if (!ex_kw(x, "not"))
		return ex_comparison(x);
	if (!ex_enter(x))
		return false;
	x->pos += 3;
	strbuf_append(x->out, "[\"not\",");
	ok = ex_not(x);
	strbuf_append_char(x->out, ']');
	x->depth--;
	return ok;
}

/* Parses a chain of "and" (is_or false) or "or" (is_or true). */
static bool
ex_bool_chain(ExprParser *x, bool is_or)
{
	const char *kw = is_or ? "or" : "and";
	size_t		mark = x->out->len;
	bool		wrapped = false;

	if (!(is_or ? ex_bool_chain(x, false) : ex_not(x)))
		return false;
	for (;;)
	{
		ex_ws(x);
		if (!ex_kw(x, kw))
			break;
		x->pos += strlen(kw);
		if (!wrapped)
			ex_insert(x, mark, is_or ? "[\"or\"," : "[\"and\",");
		wrapped = true;
		strbuf_append_char(x->out, ',');
		if (!(is_or ? ex_bool_chain(x, false) : ex_not(x)))
			return false;
	}
	if (wrapped)
		strbuf_append_char(x->out, ']');
	return true;
}

/* Parses a test: or_test ["if" or_test "else" test]. */
static bool
ex_test(ExprParser *x)
{
	size_t		mark = x->out->len;
	bool		ok = true;

	if (!ex_enter(x))
		return false;
	if (!ex_bool_chain(x, true))
		ok = false;
	else
	{
		ex_ws(x);
		if (ex_kw(x, "if"))
		{
			x->pos += 2;
			ex_insert(x, mark, "[\"if\",");
			strbuf_append_char(x->out, ',');
			if (!ex_bool_chain(x, true))
				ok = false;
			else
			{
				ex_ws(x);
				if (!ex_kw(x, "else"))
					ok = ex_fail(x, x->pos, "Write \"a if condition else b\".",
								 "conditional expression without \"else\"");
				else
				{
					x->pos += 4;
					strbuf_append_char(x->out, ',');
					ok = ex_test(x);
					strbuf_append_char(x->out, ']');
				}
			}
		}
	}
	x->depth--;
	return ok;
}

/* Parses a test or a tuple of tests ("a, b"). */
static bool
ex_testlist(ExprParser *x, bool allow_tuple)
{
	size_t		mark = x->out->len;

	if (!ex_test(x))
		return false;
	ex_ws(x);
	if (allow_tuple && x->pos < x->end && *x->pos == ',')
	{
		ex_insert(x, mark, "[\"tuple\",");
		for (;;)
		{
			x->pos++;
			ex_ws(x);
			if (x->pos >= x->end || strchr("}!:", *x->pos) != NULL)
				break;
			strbuf_append_char(x->out, ',');
			if (!ex_test(x))
				return false;
			ex_ws(x);
			if (x->pos >= x->end || *x->pos != ',')
				break;
		}
		strbuf_append_char(x->out, ']');
	}
	return true;
}

/* ----------------------------------------------------------------
 * Templates and format specifications
 * ----------------------------------------------------------------
 */

/* Length of the UTF-8 character at s (at least 1, at most n). */
static size_t
ex_char_len(const char *s, size_t n)
{
	size_t		k = 1;

	while (k < n && ((unsigned char) s[k] & 0xC0) == 0x80)
		k++;
	return k;
}

/* Whether spec is a valid Python format specification (or a strftime one). */
bool
page_format_spec_valid(const char *spec, size_t n)
{
	size_t		i = 0;
	size_t		fill = n > 0 ? ex_char_len(spec, n) : 0;

	if (n == 0)
		return true;
	/* [[fill]align][sign][z][#][0][width][grouping][.precision][type] */
	if (fill < n && strchr("<>=^", spec[fill]) != NULL)
		i = fill + 1;
	else if (strchr("<>=^", spec[0]) != NULL)
		i = 1;
	if (i < n && strchr("+- ", spec[i]) != NULL)
		i++;
	if (i < n && spec[i] == 'z')
		i++;
	if (i < n && spec[i] == '#')
		i++;
	while (i < n && spec[i] >= '0' && spec[i] <= '9')
		i++;
	if (i < n && (spec[i] == ',' || spec[i] == '_'))
		i++;
	if (i < n && spec[i] == '.')
	{
		size_t		d = ++i;

		while (i < n && spec[i] >= '0' && spec[i] <= '9')
			i++;
		if (i == d)
			goto strftime;
	}
	if (i < n && spec[i] != '\0' && strchr("bcdeEfFgGnosxX%", spec[i]) != NULL)
		i++;
	if (i == n)
		return true;

strftime:
	/* a date format: every "%" is followed by a known directive */
	if (memchr(spec, '%', n) == NULL)
		return false;
	for (i = 0; i < n; i++)
	{
		if (spec[i] == '%' &&
			(i + 1 >= n || spec[i + 1] == '\0' || strchr("aAbBcdfHIjmMpSUwWyYzZxXGuV%", spec[i + 1]) == NULL))
			return false;
		if (spec[i] == '%')
			i++;
	}
	return true;
}

/* Writes the pending literal text of a template as a part. */
static void
ex_flush_literal(ExprParser *x, StrBuf *lit, bool *first)
{
	if (lit->len == 0)
		return;
	if (!*first)
		strbuf_append_char(x->out, ',');
	*first = false;
	ex_json(x, lit->data, lit->len);
	strbuf_reset(lit);
}

/* Parses the replacement field whose "{" is at open; returns the position after its "}". */
static const char *
ex_field(ExprParser *x, const char *open, const char *e)
{
	const char *spec = NULL;
	size_t		spec_len = 0;
	char		conv = 0;

	x->pos = open + 1;
	x->end = e;
	strbuf_append(x->out, "{\"e\":");
	ex_ws(x);
	if (x->pos < x->end && *x->pos == '}')
	{
		ex_fail(x, open, "Write a name or an expression between the braces, or {{ for a literal brace.",
				"empty expression \"{}\"");
		return NULL;
	}
	if (!ex_testlist(x, true))
		return NULL;
	ex_ws(x);
	if (x->pos + 1 < x->end && *x->pos == '!')
	{
		conv = x->pos[1];
		if (conv != 'r' && conv != 's' && conv != 'a')
		{
			ex_fail(x, x->pos, "Write !r, !s or !a.", "invalid conversion \"!%c\"", conv);
			return NULL;
		}
		x->pos += 2;
	}
	if (x->pos < x->end && *x->pos == ':')
	{
		spec = ++x->pos;
		while (x->pos < x->end && *x->pos != '}')
		{
			if (*x->pos == '{')
			{
				ex_fail(x, x->pos, "Write the format specification literally.",
						"nested fields in a format specification are not supported");
				return NULL;
			}
			x->pos++;
		}
		spec_len = (size_t) (x->pos - spec);
		if (!page_format_spec_valid(spec, spec_len))
		{
			int			q = spec_len > 40 ? 40 : (int) spec_len;

			while (q > 0 && q < (int) spec_len && ((unsigned char) spec[q] & 0xC0) == 0x80)
				q--;
			ex_fail(x, spec, "For example {x:.2f}, {x:,}, {x:.1%} or {d:%Y-%m-%d}.",
					"invalid format specification \"%.*s\"", q, spec);
			return NULL;
		}
	}
	ex_ws(x);
	if (x->pos >= x->end)
	{
		ex_fail(x, open, "Close the expression with \"}\"; write {{ for a literal brace.",
				"expression has no closing \"}\"");
		return NULL;
	}
	if (*x->pos != '}')
	{
		ex_unexpected(x);
		return NULL;
	}
	if (conv)
	{
		char		c[2] = {conv, '\0'};

		strbuf_append(x->out, ",\"c\":");
		ex_json(x, c, 1);
	}
	if (spec_len > 0)
	{
		strbuf_append(x->out, ",\"f\":");
		ex_json(x, spec, spec_len);
	}
	strbuf_append_char(x->out, '}');
	return x->pos + 1;
}

/*
 * Parses the template s..e into a JSON array of parts; in_string for the
 * content of an f-string (escapes decoded unless raw), otherwise a page
 * value ("\|" is "|").  Returns the number of fields, or -1.
 */
static int
ex_template(ExprParser *x, const char *s, const char *e, bool in_string, bool raw)
{
	StrBuf		lit;
	bool		first = true;
	int			fields = 0;
	const char *save_pos = x->pos;
	const char *save_end = x->end;
	const char *i = s;

	strbuf_init(&lit);
	strbuf_append_char(x->out, '[');
	while (i < e && !x->failed)
	{
		if (*i == '{' && i + 1 < e && i[1] == '{')
		{
			strbuf_append_char(&lit, '{');
			i += 2;
		}
		else if (*i == '}' && i + 1 < e && i[1] == '}')
		{
			strbuf_append_char(&lit, '}');
			i += 2;
		}
		else if (*i == '{')
		{
			ex_flush_literal(x, &lit, &first);
			if (!first)
				strbuf_append_char(x->out, ',');
			first = false;
			i = ex_field(x, i, e);
			if (i == NULL)
				break;
			fields++;
		}
		else if (*i == '\\' && i + 1 < e && (in_string ? !raw : i[1] == '|'))
		{
			if (!in_string)
			{
				strbuf_append_char(&lit, '|');
				i += 2;
			}
			else if (!ex_escape(x, &i, e, &lit))
				break;
		}
		else if (*i == '\\' && i + 1 < e && raw && i[1] == '|')
		{
			strbuf_append_char(&lit, '|');
			i += 2;
		}
		else
			strbuf_append_char(&lit, *i++);
	}
	if (!x->failed)
		ex_flush_literal(x, &lit, &first);
	if (lit.failed)
		x->out->failed = true;
	strbuf_free(&lit);
	strbuf_append_char(x->out, ']');
	x->pos = save_pos;
	x->end = save_end;
	return x->failed ? -1 : fields;
}

/* Parses a page value's template into JSON parts (see page_expr.h). */
int
page_template_parse(const char *s, size_t n, StrBuf *out,
					PageExprNameFn name_fn, void *arg, PageExprError *err)
{
	ExprParser	x;
	int			r;

	memset(&x, 0, sizeof(x));
	x.pos = s;
	x.end = s + n;
	x.out = out;
	x.name_fn = name_fn;
	x.arg = arg;
	x.err = err;
	strbuf_init(&x.tmp);
	r = ex_template(&x, s, s + n, false, false);
	if (x.tmp.failed)
		out->failed = true;
	strbuf_free(&x.tmp);
	return r;
}
