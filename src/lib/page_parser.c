/*-------------------------------------------------------------------------
 *
 * page_parser.c
 *		Parses and validates a dashboard page written in Taipy's markdown
 *		control syntax and streams out the JSON tree the browser renders.
 *
 * The page is processed line by line in a single pass.  A line may close
 * the innermost block ("|>" at its start), hold elements "<|...|>" among
 * markdown text, and end with a block opener "<|...|".  Markdown text is
 * not interpreted: consecutive lines of it become one "markdown" node.
 * Nodes are written to the output as soon as they are complete; open
 * blocks live on a fixed-size stack, so nothing recurses.  Every scan moves
 * forward over the line, so the time is linear in the size of the page.
 * Bindings and property names are deduplicated with small hash sets.
 *
 * Pure C (libc only), independent of PostgreSQL.  See docs/page-syntax.md.
 *
 * src/lib/page_parser.c
 *
 *-------------------------------------------------------------------------
 */
#include "page_parser.h"
#include "page_expr.h"
#include "strbuf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_NONE ((size_t) -1)

/* Longest piece of page text quoted in an error message, in bytes. */
#define PAGE_QUOTE_MAX 60

/* Most warnings a page keeps; further ones are only counted. */
#define PAGE_MAX_WARNINGS 100

/* A set of names (open addressing; slots hold offset + 1 into names). */
typedef struct PageNameSet
{
	StrBuf		names;			/* the names, each NUL-terminated */
	size_t	   *slots;
	size_t		nslots;
	size_t		count;
} PageNameSet;

/* A fragment of an element: byte offsets in the line, whitespace trimmed. */
typedef struct PageFrag
{
	size_t		start;
	size_t		end;
} PageFrag;

/* A property of the element being parsed. */
typedef struct PageProp
{
	size_t		ns;				/* where its name (or default value) starts */
	const char *name;			/* the name as written, with any path or index */
	size_t		nlen;
	size_t		vs;				/* its value line[vs..ve), or PAGE_NONE ... */
	size_t		ve;
	bool		flag;			/* ... for a flag: true or false */
	bool		is_default;		/* set by the value before the control name */
	bool		dropped;		/* set again later: not written */
} PageProp;

/* A piece of a line: markdown text, or an element "<|...|>". */
typedef struct PageItem
{
	bool		is_element;
	size_t		start;			/* offset of the text, or of the '<' */
	size_t		end;			/* one past the text, or past the '>' */
} PageItem;

/* The page or an open block. */
typedef struct PageFrame
{
	const PageControl *ctl;		/* NULL for the page itself */
	int			line;			/* where the opener is */
	int			column;
	const char *ident;			/* identifier of "<ident|", or NULL */
	size_t		ident_len;
	bool		has_children;	/* a child was written (comma needed) */
} PageFrame;

typedef struct PageParser
{
	PageError  *err;
	bool		failed;
	StrBuf		out;			/* the page's children, as JSON */
	StrBuf		md;				/* the pending run of markdown lines */
	int			md_line;
	PageFrame	stack[PAGE_MAX_DEPTH + 1];
	int			depth;
	PageNameSet bindings;		/* of the whole page */
	StrBuf		bindings_json;
	PageNameSet actions;		/* on_* values of the whole page */
	StrBuf		actions_json;
	StrBuf		warnings;		/* JSON objects, comma-separated */
	int			nwarnings;
	bool		in_comment;		/* inside "<!-- ... -->" */
	const char *raw_tag;		/* inside <style> or <script>: "style" or "script" */
	/* the current line */
	const char *line;
	size_t		line_len;
	int			lineno;
	size_t		col_off;		/* column cursor: byte offset ... */
	int			col_col;		/* ... and its column */
	/* scratch space, reused */
	PageItem   *items;
	size_t		nitems;
	size_t		items_cap;
	PageFrag   *frags;
	size_t		nfrags;
	size_t		frags_cap;
	PageProp   *props;
	size_t		nprops;
	size_t		props_cap;
	StrBuf		value;
	StrBuf		tpl;			/* a parsed template */
	StrBuf		node_exprs;		/* "exprs" of the current element */
	StrBuf		node_bindings;
	PageNameSet node_set;		/* bindings of the current element */
	PageNameSet prop_set;		/* property names of the current element */
} PageParser;

/* ----------------------------------------------------------------
 * Small helpers
 * ----------------------------------------------------------------
 */

/* Whether c may start an identifier. */
static bool
page_is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Whether c may continue an identifier. */
static bool
page_is_ident_char(char c)
{
	return page_is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Whether c is a space or a tab. */
static bool
page_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether s[0..n) holds only whitespace. */
static bool
page_all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	}
	return true;
}

/* Whether s[0..n) equals the NUL-terminated word. */
static bool
page_equals(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && (n == 0 || memcmp(s, word, n) == 0);
}

/* How many bytes of s[0..n) to quote in a message: whole characters only. */
static int
page_quote_len(const char *s, size_t n)
{
	size_t		k;

	if (n <= PAGE_QUOTE_MAX)
		return (int) n;
	k = PAGE_QUOTE_MAX;
	while (k > 0 && ((unsigned char) s[k] & 0xC0) == 0x80)
		k--;
	return (int) k;
}

/* "..." when s[0..n) is longer than what page_quote_len quotes, else "". */
static const char *
page_quote_more(size_t n)
{
	return n > PAGE_QUOTE_MAX ? "..." : "";
}

/* ----------------------------------------------------------------
 * Errors
 * ----------------------------------------------------------------
 */

static bool page_error_at(PageParser *p, int line, int column, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
static void page_error_detail(PageParser *p, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
static void page_error_hint(PageParser *p, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Records the first error at line/column; false if one was already recorded. */
static bool
page_error_at(PageParser *p, int line, int column, const char *fmt,...)
{
	va_list		ap;

	if (p->failed)
		return false;
	p->failed = true;
	p->err->line = line;
	p->err->column = column;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	p->err->detail[0] = '\0';
	p->err->hint[0] = '\0';
	return true;
}

/* Sets the detail sentence of the error just recorded. */
static void
page_error_detail(PageParser *p, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(p->err->detail, sizeof(p->err->detail), fmt, ap);
	va_end(ap);
}

/* Sets the hint of the error just recorded. */
static void
page_error_hint(PageParser *p, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(p->err->hint, sizeof(p->err->hint), fmt, ap);
	va_end(ap);
}

static void page_warn(PageParser *p, int line, int column, const char *detail,
					  const char *hint, const char *fmt,...)
			__attribute__((format(printf, 6, 7)));

/*
 * Records a warning: something accepted, as Taipy accepts it, that the
 * author should know about.  detail and hint may be NULL.
 */
static void
page_warn(PageParser *p, int line, int column, const char *detail,
		  const char *hint, const char *fmt,...)
{
	va_list		ap;
	char		message[256];

	if (p->failed)
		return;
	if (++p->nwarnings > PAGE_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (p->warnings.len > 0)
		strbuf_append_char(&p->warnings, ',');
	strbuf_append(&p->warnings, "{\"line\":");
	strbuf_append_int(&p->warnings, line);
	strbuf_append(&p->warnings, ",\"column\":");
	strbuf_append_int(&p->warnings, column);
	strbuf_append(&p->warnings, ",\"message\":");
	strbuf_append_json_string(&p->warnings, message, strlen(message));
	if (detail)
	{
		strbuf_append(&p->warnings, ",\"detail\":");
		strbuf_append_json_string(&p->warnings, detail, strlen(detail));
	}
	if (hint)
	{
		strbuf_append(&p->warnings, ",\"hint\":");
		strbuf_append_json_string(&p->warnings, hint, strlen(hint));
	}
	strbuf_append_char(&p->warnings, '}');
}

/* Records an out-of-memory error (replacing nothing: first error wins). */
static void
page_oom(PageParser *p)
{
	page_error_at(p, p->lineno > 0 ? p->lineno : 1, 1, "out of memory");
}

/* The column (1-based, in code points) of byte offset off in the current line. */
static int
page_column(PageParser *p, size_t off)
{
	if (off < p->col_off)
	{
		p->col_off = 0;
		p->col_col = 1;
	}
	while (p->col_off < off && p->col_off < p->line_len)
	{
		if (((unsigned char) p->line[p->col_off] & 0xC0) != 0x80)
			p->col_col++;
		p->col_off++;
	}
	return p->col_col;
}

/* ----------------------------------------------------------------
 * Name sets
 * ----------------------------------------------------------------
 */

/* Makes an empty set. */
static void
page_nameset_init(PageNameSet *s)
{
	strbuf_init(&s->names);
	s->slots = NULL;
	s->nslots = 0;
	s->count = 0;
}

/* Frees a set's memory. */
static void
page_nameset_free(PageNameSet *s)
{
	strbuf_free(&s->names);
	free(s->slots);
	page_nameset_init(s);
}

/* Empties a set cheaply: small tables are cleared, large ones freed. */
static void
page_nameset_reset(PageNameSet *s)
{
	if (s->nslots > 64)
		page_nameset_free(s);
	else
	{
		if (s->slots)
			memset(s->slots, 0, s->nslots * sizeof(size_t));
		strbuf_reset(&s->names);
		s->count = 0;
	}
}

/* FNV-1a hash of name[0..len). */
static size_t
page_hash(const char *name, size_t len)
{
	uint64_t	h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) name[i];
		h *= UINT64_C(1099511628211);
	}
	return (size_t) h;
}

/* Adds name[0..len): 1 if added, 0 if already present, -1 if out of memory. */
static int
page_nameset_add(PageNameSet *s, const char *name, size_t len)
{
	size_t		i;
	size_t		off;

	if (s->count + 1 > s->nslots / 2)
	{
		size_t		newn = s->nslots ? s->nslots * 2 : 16;
		size_t	   *newslots;

		if (newn > SIZE_MAX / sizeof(size_t) / 2)
			return -1;
		newslots = calloc(newn, sizeof(size_t));
		if (newslots == NULL)
			return -1;
		for (size_t j = 0; j < s->nslots; j++)
		{
			const char *old;

			if (s->slots[j] == 0)
				continue;
			old = s->names.data + s->slots[j] - 1;
			i = page_hash(old, strlen(old)) & (newn - 1);
			while (newslots[i] != 0)
				i = (i + 1) & (newn - 1);
			newslots[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = newslots;
		s->nslots = newn;
	}
	i = page_hash(name, len) & (s->nslots - 1);
	while (s->slots[i] != 0)
	{
		const char *old = s->names.data + s->slots[i] - 1;

		if (strncmp(old, name, len) == 0 && old[len] == '\0')
			return 0;
		i = (i + 1) & (s->nslots - 1);
	}
	off = s->names.len;
	strbuf_append_len(&s->names, name, len);
	strbuf_append_char(&s->names, '\0');
	if (s->names.failed)
		return -1;
	s->slots[i] = off + 1;
	s->count++;
	return 1;
}

/* ----------------------------------------------------------------
 * Output
 * ----------------------------------------------------------------
 */

/* Writes the comma before a new child of the innermost open container. */
static void
page_begin_node(PageParser *p)
{
	PageFrame  *f = &p->stack[p->depth];

	if (f->has_children)
		strbuf_append_char(&p->out, ',');
	f->has_children = true;
}

/* Writes the pending markdown run as a node, unless it is only whitespace. */
static void
page_flush_markdown(PageParser *p)
{
	size_t		n = p->md.len;

	/* trailing blank lines carry no meaning: keep one newline */
	while (n > 0 && (p->md.data[n - 1] == '\n' || page_is_blank(p->md.data[n - 1])))
		n--;
	if (n > 0)
	{
		page_begin_node(p);
		strbuf_append(&p->out, "{\"type\":\"markdown\",\"text\":");
		p->md.data[n] = '\n';	/* n < len: the run ends with a newline */
		strbuf_append_json_string(&p->out, p->md.data, n + 1);
		strbuf_append(&p->out, ",\"line\":");
		strbuf_append_int(&p->out, p->md_line);
		strbuf_append_char(&p->out, '}');
	}
	strbuf_reset(&p->md);
}

/* Adds line[start..end) and a newline to the pending markdown run. */
static void
page_add_markdown(PageParser *p, size_t start, size_t end)
{
	if (p->md.len == 0)
	{
		/* a run starts at its first non-blank line */
		if (page_all_space(p->line + start, end - start))
			return;
		p->md_line = p->lineno;
	}
	strbuf_append_len(&p->md, p->line + start, end - start);
	strbuf_append_char(&p->md, '\n');
}

/* Writes line[start..end) as an inline markdown node. */
static void
page_emit_inline_text(PageParser *p, size_t start, size_t end)
{
	page_begin_node(p);
	strbuf_append(&p->out, "{\"type\":\"markdown\",\"text\":");
	strbuf_append_json_string(&p->out, p->line + start, end - start);
	strbuf_append(&p->out, ",\"line\":");
	strbuf_append_int(&p->out, p->lineno);
	strbuf_append(&p->out, ",\"column\":");
	strbuf_append_int(&p->out, page_column(p, start));
	strbuf_append(&p->out, ",\"inline\":true}");
}

/* Adds a binding name to the current element and to the page. */
static void
page_add_binding(PageParser *p, const char *name, size_t len)
{
	int			r = page_nameset_add(&p->node_set, name, len);

	if (r > 0)
	{
		if (p->node_bindings.len > 0)
			strbuf_append_char(&p->node_bindings, ',');
		strbuf_append_json_string(&p->node_bindings, name, len);
	}
	if (r >= 0)
		r = page_nameset_add(&p->bindings, name, len);
	if (r > 0)
	{
		if (p->bindings_json.len > 0)
			strbuf_append_char(&p->bindings_json, ',');
		strbuf_append_json_string(&p->bindings_json, name, len);
	}
	if (r < 0)
		page_oom(p);
}

/* Adds the name of an action (callback) to the page's list. */
static void
page_add_action(PageParser *p, const char *name, size_t len)
{
	int			r = page_nameset_add(&p->actions, name, len);

	if (r > 0)
	{
		if (p->actions_json.len > 0)
			strbuf_append_char(&p->actions_json, ',');
		strbuf_append_json_string(&p->actions_json, name, len);
	}
	else if (r < 0)
		page_oom(p);
}

/* ----------------------------------------------------------------
 * Elements
 * ----------------------------------------------------------------
 */

/* Writes line[start..end) with "\|" turned into "|" as a JSON value. */
static void
page_write_value(PageParser *p, size_t start, size_t end)
{
	const char *s = p->line;

	strbuf_reset(&p->value);
	for (size_t j = start; j < end; j++)
	{
		if (s[j] == '\\' && j + 1 < end && s[j + 1] == '|')
			j++;
		strbuf_append_char(&p->value, s[j]);
	}
	if (!strbuf_reserve(&p->value, 0))
	{
		page_oom(p);
		return;
	}
	if (page_equals(p->value.data, p->value.len, "True") ||
		page_equals(p->value.data, p->value.len, "true"))
		strbuf_append(&p->out, "true");
	else if (page_equals(p->value.data, p->value.len, "False") ||
			 page_equals(p->value.data, p->value.len, "false"))
		strbuf_append(&p->out, "false");
	else
		strbuf_append_json_string(&p->out, p->value.data, p->value.len);
}

/* Adds a fragment line[start..end) of the current element, trimmed; skips blank ones. */
static bool
page_add_frag(PageParser *p, size_t start, size_t end)
{
	while (start < end && page_is_blank(p->line[start]))
		start++;
	while (end > start && page_is_blank(p->line[end - 1]))
		end--;
	if (start == end)
		return true;
	if (p->nfrags == p->frags_cap)
	{
		size_t		newcap = p->frags_cap ? p->frags_cap * 2 : 16;
		PageFrag   *nf;

		if (newcap > SIZE_MAX / sizeof(PageFrag))
			return false;
		nf = realloc(p->frags, newcap * sizeof(PageFrag));
		if (nf == NULL)
			return false;
		p->frags = nf;
		p->frags_cap = newcap;
	}
	p->frags[p->nfrags].start = start;
	p->frags[p->nfrags].end = end;
	p->nfrags++;
	return true;
}

/* Whether line[start..end) is a plain identifier (letters, digits, '_', '.'). */
static bool
page_is_word(PageParser *p, size_t start, size_t end, bool allow_dot)
{
	if (start >= end || !page_is_ident_start(p->line[start]))
		return false;
	for (size_t j = start + 1; j < end; j++)
	{
		if (!page_is_ident_char(p->line[j]) && !(allow_dot && p->line[j] == '.'))
			return false;
	}
	return true;
}

/* Reports an unknown control named line[start..end). */
static void
page_unknown_control(PageParser *p, size_t start, size_t end)
{
	const char *name = p->line + start;
	size_t		n = end - start;
	const char *suggestion = page_control_suggest(name, n);

	page_error_at(p, p->lineno, page_column(p, start),
				  "unknown control \"%.*s%s\"",
				  page_quote_len(name, n), name, page_quote_more(n));
	if (suggestion)
		page_error_detail(p, "Did you mean \"%s\"?", suggestion);
	page_controls_hint(p->err->hint, sizeof(p->err->hint));
}

/* Warns that the unknown property line[start..end) of control ctl is ignored. */
static void
page_unknown_property(PageParser *p, const PageControl *ctl,
					  size_t start, size_t end)
{
	const char *name = p->line + start;
	size_t		n = end - start;
	const char *suggestion = page_property_suggest(ctl, name, n);
	char		detail[64];
	char		hint[1024];

	if (suggestion)
		snprintf(detail, sizeof(detail), "Did you mean \"%s\"?", suggestion);
	page_control_properties_hint(ctl, hint, sizeof(hint));
	page_warn(p, p->lineno, page_column(p, start), suggestion ? detail : NULL, hint,
			  "unknown property \"%.*s%s\" for control \"%s\" is ignored",
			  page_quote_len(name, n), name, page_quote_more(n), ctl->canonical);
}

/* Length of a negation prefix ("not ", "no ", "dont ", "don't ") at line[s..e), or 0. */
static size_t
page_negation_len(PageParser *p, size_t s, size_t e)
{
	static const char *const words[] = {"not", "no", "dont", "don't", NULL};

	for (const char *const *w = words; *w; w++)
	{
		size_t		n = strlen(*w);
		size_t		k;

		if (e - s <= n || strncmp(p->line + s, *w, n) != 0 ||
			!page_is_blank(p->line[s + n]))
			continue;
		k = s + n;
		while (k < e && page_is_blank(p->line[k]))
			k++;
		if (k < e)
			return k - s;
	}
	return 0;
}

/* Whether the value line[vs..ve) is a boolean literal. */
static bool
page_is_bool_literal(PageParser *p, size_t vs, size_t ve)
{
	const char *v = p->line + vs;
	size_t		n = ve - vs;

	return page_equals(v, n, "True") || page_equals(v, n, "true") ||
		page_equals(v, n, "False") || page_equals(v, n, "false");
}

/* Adds a name read by an expression to the element's and the page's bindings. */
static bool
page_expr_name(void *arg, const char *name, size_t len)
{
	PageParser *p = arg;

	page_add_binding(p, name, len);
	return !p->failed;
}

/* Parses the template line[vs..ve) of property name into the element's "exprs". */
static bool
page_write_template(PageParser *p, const char *name, size_t nlen, size_t vs, size_t ve)
{
	PageExprError xerr;
	int			fields;

	if (memchr(p->line + vs, '{', ve - vs) == NULL &&
		memchr(p->line + vs, '}', ve - vs) == NULL)
		return true;
	strbuf_reset(&p->tpl);
	fields = page_template_parse(p->line + vs, ve - vs, &p->tpl, page_expr_name, p, &xerr);
	if (p->failed)
		return false;
	if (fields < 0)
	{
		page_error_at(p, p->lineno, page_column(p, (size_t) (xerr.at - p->line)),
					  "%s", xerr.message);
		if (xerr.detail[0])
			page_error_detail(p, "%s", xerr.detail);
		page_error_hint(p, "%s", xerr.hint[0] ? xerr.hint :
						"Braces in a value hold an expression, as in a Python f-string: {name}, {x:.2f}, {a + b}; write {{ for a literal brace.");
		return false;
	}
	if (fields == 0)
		return true;
	if (p->node_exprs.len > 0)
		strbuf_append_char(&p->node_exprs, ',');
	strbuf_append_json_string(&p->node_exprs, name, nlen);
	strbuf_append_char(&p->node_exprs, ':');
	strbuf_append_len(&p->node_exprs, p->tpl.data ? p->tpl.data : "", p->tpl.len);
	return true;
}

/* Writes one property: its name and its value line[vs..ve), or flag if vs is PAGE_NONE. */
static bool
page_write_property(PageParser *p, const PageProp *pr, bool first)
{
	if (!first)
		strbuf_append_char(&p->out, ',');
	strbuf_append_json_string(&p->out, pr->name, pr->nlen);
	strbuf_append_char(&p->out, ':');
	if (pr->vs == PAGE_NONE)
	{
		strbuf_append(&p->out, pr->flag ? "true" : "false");
		return !p->failed;
	}
	page_write_value(p, pr->vs, pr->ve);
	if (!page_write_template(p, pr->name, pr->nlen, pr->vs, pr->ve))
		return false;
	if (pr->nlen > 3 && strncmp(pr->name, "on_", 3) == 0 && !p->failed &&
		p->value.len > 0 && memchr(p->value.data, '{', p->value.len) == NULL &&
		!page_is_bool_literal(p, pr->vs, pr->ve))
		page_add_action(p, p->value.data, p->value.len);
	return !p->failed;
}

/* Appends a property to the element's list; false if out of memory. */
static bool
page_add_prop(PageParser *p, const PageProp *pr)
{
	if (p->nprops == p->props_cap)
	{
		size_t		newcap = p->props_cap ? p->props_cap * 2 : 16;
		PageProp   *np;

		if (newcap > SIZE_MAX / sizeof(PageProp))
			return false;
		np = realloc(p->props, newcap * sizeof(PageProp));
		if (np == NULL)
			return false;
		p->props = np;
		p->props_cap = newcap;
	}
	p->props[p->nprops++] = *pr;
	return true;
}

/* Warns that the fragment f is not a property and is ignored. */
static void
page_bad_fragment(PageParser *p, const PageFrag *f)
{
	const char *s = p->line + f->start;
	size_t		n = f->end - f->start;

	page_warn(p, p->lineno, page_column(p, f->start),
			  "A property is written name=value, name (true) or not name (false); a name starts with a letter or an underscore and may end with .field or an index such as y[2].",
			  "Write \\| for a \"|\" inside a value.",
			  "invalid property \"%.*s%s\" is ignored",
			  page_quote_len(s, n), s, page_quote_more(n));
}

/*
 * Parses fragment f as "name=value", "name" or "not name" and adds it to
 * the element's properties.  A name may have a dotted path
 * ("layout.xaxis.title") and an index ("y[2]"); it is valid when its base
 * name is.  Unknown and malformed properties are ignored with a warning;
 * but when cand (a bare first word, taken as text) is close to a control
 * name, the element was meant as that control and is refused.
 */
static bool
page_parse_property(PageParser *p, const PageControl *ctl,
					const PageFrag *f, const PageFrag *cand)
{
	const char *s = p->line;
	size_t		i = f->start;
	size_t		e = f->end;
	size_t		neg = page_negation_len(p, i, e);
	size_t		ns;
	size_t		base_end;
	PageProp	pr;

	i += neg;
	ns = i;
	if (!page_is_ident_start(s[i]))
		goto bad;
	while (i < e && page_is_ident_char(s[i]))
		i++;
	base_end = i;
	while (i + 1 < e && s[i] == '.' && page_is_ident_start(s[i + 1]))
	{
		i++;
		while (i < e && page_is_ident_char(s[i]))
			i++;
	}
	if (i < e && s[i] == '[')
	{
		size_t		q = i + 1;

		while (q < e && s[q] != ']')
			q++;
		if (q >= e || q == i + 1)
			goto bad;
		i = q + 1;
	}
	pr.ns = ns;
	pr.name = s + ns;
	pr.nlen = i - ns;
	pr.is_default = false;
	pr.dropped = false;
	while (i < e && page_is_blank(s[i]))
		i++;
	if (i < e && s[i] != '=')
		goto bad;
	if (!page_control_has_property(ctl, s + ns, base_end - ns))
	{
		if (cand && page_control_suggest(s + cand->start, cand->end - cand->start))
		{
			page_unknown_control(p, cand->start, cand->end);
			return false;
		}
		page_unknown_property(p, ctl, ns, base_end);
		return !p->failed;
	}
	if (strcmp(ctl->canonical, "chart") == 0 && base_end < pr.nlen + ns)
	{
		/* charts map Plotly's names to ECharts: say which they cannot */
		if (!page_chart_property_applied(pr.name, pr.nlen))
			page_warn(p, p->lineno, page_column(p, ns),
					  "pg_dash draws charts with ECharts and applies only the Plotly properties that have an equivalent there.",
					  "docs/page-syntax.md lists the layout, trace and indexed properties charts apply.",
					  "chart property \"%.*s%s\" has no equivalent in pg_dash's charts and is ignored",
					  page_quote_len(pr.name, pr.nlen), pr.name, page_quote_more(pr.nlen));
	}
	else if (base_end < pr.nlen + ns && s[base_end] == '.')
		page_warn(p, p->lineno, page_column(p, ns),
				  "Controls read the property under its full name; one that does not know it ignores it.",
				  NULL, "dotted property name \"%.*s%s\" is passed on as written",
				  page_quote_len(pr.name, pr.nlen), pr.name, page_quote_more(pr.nlen));
	if (i < e)
	{
		pr.vs = i + 1;
		pr.ve = e;
		pr.flag = false;
		while (pr.vs < e && page_is_blank(s[pr.vs]))
			pr.vs++;
		if (neg)
		{
			page_warn(p, p->lineno, page_column(p, f->start),
					  "The property is set to false.",
					  NULL, "negated property \"%.*s\" cannot have a value; the value is ignored",
					  page_quote_len(pr.name, pr.nlen), pr.name);
			pr.vs = pr.ve = PAGE_NONE;
		}
	}
	else
	{
		pr.vs = pr.ve = PAGE_NONE;
		pr.flag = (neg == 0);
	}
	if (page_equals(pr.name, pr.nlen, "properties"))
		page_warn(p, p->lineno, page_column(p, ns),
				  "The keys of the dictionary become properties of the element in the browser, after the ones written in the element; they are not checked here.",
				  NULL, "properties given by \"properties=\" are not checked");
	if (!page_add_prop(p, &pr))
	{
		page_oom(p);
		return false;
	}
	return !p->failed;

bad:
	if (cand && page_control_suggest(s + cand->start, cand->end - cand->start))
	{
		page_unknown_control(p, cand->start, cand->end);
		return false;
	}
	page_bad_fragment(p, f);
	return !p->failed;
}

/*
 * Drops every property set again later in the element: the last one
 * written by name wins, and a name beats the value before the control name
 * (the default property), as in Taipy.  Each dropped one is warned about.
 */
static bool
page_dedupe_props(PageParser *p, const PageControl *ctl)
{
	page_nameset_reset(&p->prop_set);
	for (size_t k = p->nprops; k-- > 0;)
	{
		PageProp   *pr = &p->props[k];
		int			r = page_nameset_add(&p->prop_set, pr->name, pr->nlen);

		if (r < 0)
		{
			page_oom(p);
			return false;
		}
		if (r > 0)
			continue;
		pr->dropped = true;
		if (pr->is_default)
			page_warn(p, p->lineno, page_column(p, pr->ns),
					  NULL, NULL,
					  "the value before the control name is ignored: \"%s\", the default property of \"%s\", is set by name",
					  ctl->default_property, ctl->canonical);
		else
			page_warn(p, p->lineno, page_column(p, pr->ns),
					  "The last value is used.", NULL,
					  "property \"%.*s%s\" is set more than once",
					  page_quote_len(pr->name, pr->nlen), pr->name,
					  page_quote_more(pr->nlen));
	}
	return !p->failed;
}

/*
 * Finds the control of an element among its fragments, as Taipy does: the
 * first fragment that is a control name; the first fragment before it, if
 * any, is the default value.  Sets *ctl_k to the control's fragment index
 * (or -1) and *def_k to the default value's (or -1).
 */
static const PageControl *
page_find_control(PageParser *p, int *ctl_k, int *def_k)
{
	const char *s = p->line;

	*ctl_k = -1;
	*def_k = -1;
	for (size_t k = 0; k < p->nfrags; k++)
	{
		const PageControl *ctl = page_control_lookup(s + p->frags[k].start,
													 p->frags[k].end - p->frags[k].start);

		if (ctl)
		{
			*ctl_k = (int) k;
			return ctl;
		}
		if (k == 0)
			*def_k = 0;
	}
	return NULL;
}

/* Parses the element at line offset lt, content line[cs..ce), and writes its node. */
static bool
page_emit_element(PageParser *p, size_t lt, size_t cs, size_t ce,
				  bool is_block, bool is_inline, const PageControl **opened)
{
	/*
	 * For a block opener the node is left open (inside its "children"
	 * array) and *opened receives the control.
	 */
	const char *s = p->line;
	const PageControl *ctl;
	const PageFrag *cand = NULL;
	int			ctl_k;
	int			def_k;
	size_t		fs = cs;
	int			line = p->lineno;
	int			column = page_column(p, lt);
	bool		first = true;

	/* split into fragments at unescaped pipes */
	p->nfrags = 0;
	for (size_t j = cs; j < ce; j++)
	{
		if (s[j] == '\\' && j + 1 < ce && s[j + 1] == '|')
		{
			j++;
			continue;
		}
		if (s[j] == '|')
		{
			if (!page_add_frag(p, fs, j))
				goto oom;
			fs = j + 1;
		}
	}
	if (!page_add_frag(p, fs, ce))
		goto oom;

	ctl = page_find_control(p, &ctl_k, &def_k);
	if (ctl == NULL)
	{
		ctl = page_control_lookup(is_block ? "part" : "text", 4);
		if (ctl == NULL)
			goto oom;			/* cannot happen: "text" and "part" exist */
		if (p->nfrags > 0)
		{
			const PageFrag *f0 = &p->frags[0];
			const char *dot;

			def_k = 0;
			/* "layout.colums" is not a class name: it is a misspelt control */
			if (page_is_word(p, f0->start, f0->end, true) &&
				(dot = memchr(s + f0->start, '.', f0->end - f0->start)) != NULL &&
				page_control_lookup(s + f0->start, (size_t) (dot - (s + f0->start))))
			{
				page_unknown_control(p, f0->start, f0->end);
				return false;
			}
			/* "<|{x}|chrt|...|>": a bare second word is a misspelt control */
			if (p->nfrags > 1 &&
				page_is_word(p, p->frags[1].start, p->frags[1].end, false) &&
				!page_control_has_property(ctl, s + p->frags[1].start,
										   p->frags[1].end - p->frags[1].start))
			{
				page_unknown_control(p, p->frags[1].start, p->frags[1].end);
				return false;
			}
			if (page_is_word(p, f0->start, f0->end, false))
				cand = f0;
		}
	}
	if (is_block && !ctl->is_block)
	{
		/*
		 * A control that cannot hold content, without "|>": the element ends
		 * with its line (Taipy shows the line as text, with a warning); a
		 * last ">" was meant as "|>".
		 */
		size_t		at = ctl_k >= 0 ? p->frags[ctl_k].start : lt;
		PageFrag   *last = &p->frags[p->nfrags - 1];

		page_warn(p, p->lineno, page_column(p, at),
				  "This element has no closing \"|>\" on its line; only dialog, expandable, layout, pane and part can open a block and hold other content.",
				  "End the element with \"|>\" on the same line.",
				  "control \"%s\" cannot open a block; the element ends at the end of its line",
				  ctl->canonical);
		if (p->nfrags > 1 && (int) p->nfrags - 1 != ctl_k && last->end > last->start &&
			s[last->end - 1] == '>')
		{
			last->end--;
			while (last->end > last->start && page_is_blank(s[last->end - 1]))
				last->end--;
		}
		is_block = false;
		opened = NULL;
	}

	/* collect the properties: the default value first, then the fragments */
	p->nprops = 0;
	if (def_k >= 0)
	{
		const PageFrag *dv = &p->frags[def_k];

		if (ctl->default_property)
		{
			PageProp	pr;

			pr.ns = dv->start;
			pr.name = ctl->default_property;
			pr.nlen = strlen(ctl->default_property);
			pr.vs = dv->start;
			pr.ve = dv->end;
			pr.flag = false;
			pr.is_default = true;
			pr.dropped = false;
			if (!page_add_prop(p, &pr))
				goto oom;
		}
		else if (!page_equals(s + dv->start, dv->end - dv->start, "{None}"))
		{
			size_t		n = dv->end - dv->start;

			page_error_at(p, p->lineno, page_column(p, dv->start),
						  "control \"%s\" takes no value before its name",
						  ctl->canonical);
			page_error_detail(p, "\"%.*s%s\" would set the default property, but \"%s\" has none.",
							  page_quote_len(s + dv->start, n), s + dv->start,
							  page_quote_more(n), ctl->canonical);
			page_error_hint(p, "Remove it (or write {None}), and set properties as name=value.");
			return false;
		}
	}
	for (size_t k = 0; k < p->nfrags; k++)
	{
		if ((int) k == ctl_k || (int) k == def_k)
			continue;
		if (!page_parse_property(p, ctl, &p->frags[k], cand))
			return false;
	}
	if (!page_dedupe_props(p, ctl))
		return false;
	if (ctl->foreign)
		page_warn(p, line, page_column(p, p->frags[ctl_k].start),
				  "pg_dash has no scenarios, data nodes or jobs: the page is shown with a labelled panel in the element's place.",
				  "Show the data with a named query (table, chart) and run work with a SQL action (button).",
				  "element \"%s\" belongs to Taipy's scenario management and is shown as a panel",
				  ctl->canonical);

	page_begin_node(p);
	strbuf_append(&p->out, is_block ? "{\"type\":\"block\"" : "{\"type\":\"control\"");
	strbuf_append(&p->out, ",\"control\":");
	strbuf_append_json_string(&p->out, ctl->canonical, strlen(ctl->canonical));
	strbuf_append(&p->out, ",\"line\":");
	strbuf_append_int(&p->out, line);
	strbuf_append(&p->out, ",\"column\":");
	strbuf_append_int(&p->out, column);
	if (is_inline)
		strbuf_append(&p->out, ",\"inline\":true");
	strbuf_append(&p->out, ",\"properties\":{");
	page_nameset_reset(&p->node_set);
	strbuf_reset(&p->node_bindings);
	strbuf_reset(&p->node_exprs);
	for (size_t k = 0; k < p->nprops; k++)
	{
		if (p->props[k].dropped)
			continue;
		if (!page_write_property(p, &p->props[k], first))
			return false;
		first = false;
	}
	strbuf_append_char(&p->out, '}');
	if (p->node_exprs.len > 0)
	{
		strbuf_append(&p->out, ",\"exprs\":{");
		strbuf_append_len(&p->out, p->node_exprs.data, p->node_exprs.len);
		strbuf_append_char(&p->out, '}');
	}
	strbuf_append(&p->out, ",\"bindings\":[");
	strbuf_append_len(&p->out, p->node_bindings.data ? p->node_bindings.data : "",
					  p->node_bindings.len);
	strbuf_append(&p->out, is_block ? "],\"children\":[" : "]}");
	if (opened)
		*opened = ctl;
	return !p->failed;

oom:
	page_oom(p);
	return false;
}

/* ----------------------------------------------------------------
 * Blocks and lines
 * ----------------------------------------------------------------
 */

/* Opens a block at line offset lt with content line[cs..ce). */
static void
page_open_block(PageParser *p, size_t lt, size_t cs, size_t ce,
				const char *ident, size_t ident_len)
{
	const PageControl *ctl = NULL;
	PageFrame  *f;
	int			column = page_column(p, lt);

	page_flush_markdown(p);
	if (p->depth >= PAGE_MAX_DEPTH)
	{
		page_error_at(p, p->lineno, column, "blocks are nested too deeply");
		page_error_detail(p, "A page may nest at most %d blocks.", PAGE_MAX_DEPTH);
		page_error_hint(p, "A line ending in \"<|...|\" opens a block; close blocks with \"|>\" at the start of a line.");
		return;
	}
	if (!page_emit_element(p, lt, cs, ce, true, false, &ctl))
		return;
	if (ctl == NULL)
		return;					/* a control that cannot open a block: one element */
	f = &p->stack[++p->depth];
	f->ctl = ctl;
	f->line = p->lineno;
	f->column = column;
	f->ident = ident;
	f->ident_len = ident_len;
	f->has_children = false;
}

/* Closes the innermost block at the "|" at line offset bar ("|ident>"). */
static void
page_close_block(PageParser *p, size_t bar, const char *ident, size_t ident_len)
{
	PageFrame  *f = &p->stack[p->depth];

	page_flush_markdown(p);
	if (p->depth == 0)
	{
		page_error_at(p, p->lineno, page_column(p, bar),
					  "closing tag \"|%.*s>\" has no open block",
					  page_quote_len(ident, ident_len), ident);
		page_error_detail(p, "A line starting with \"|>\" closes the innermost block, but no block is open here.");
		page_error_hint(p, "A block is opened by a line ending in \"<|...|\" (no \">\"); remove this \"|>\" or add the opener.");
		return;
	}
	if (ident_len > 0 &&
		(f->ident == NULL || f->ident_len != ident_len ||
		 memcmp(f->ident, ident, ident_len) != 0))
	{
		page_error_at(p, p->lineno, page_column(p, bar),
					  "closing tag \"|%.*s>\" does not match its block",
					  page_quote_len(ident, ident_len), ident);
		if (f->ident)
			page_error_detail(p, "The innermost open block, \"%s\" at line %d, was opened as \"<%.*s|\".",
							  f->ctl->canonical, f->line,
							  page_quote_len(f->ident, f->ident_len), f->ident);
		else
			page_error_detail(p, "The innermost open block, \"%s\" at line %d, has no identifier.",
							  f->ctl->canonical, f->line);
		page_error_hint(p, "Close it with \"|>\", or give the opener the same identifier.");
		return;
	}
	strbuf_append(&p->out, "]}");
	p->depth--;
}

/* Appends an item to the current line's list; false if out of memory. */
static bool
page_add_item(PageParser *p, bool is_element, size_t start, size_t end)
{
	if (p->nitems == p->items_cap)
	{
		size_t		newcap = p->items_cap ? p->items_cap * 2 : 16;
		PageItem   *ni;

		if (newcap > SIZE_MAX / sizeof(PageItem))
			return false;
		ni = realloc(p->items, newcap * sizeof(PageItem));
		if (ni == NULL)
			return false;
		p->items = ni;
		p->items_cap = newcap;
	}
	p->items[p->nitems].is_element = is_element;
	p->items[p->nitems].start = start;
	p->items[p->nitems].end = end;
	p->nitems++;
	return true;
}

/* Offset of the first unescaped "|>" in the current line at or after from, or PAGE_NONE. */
static size_t
page_find_close(PageParser *p, size_t from)
{
	for (size_t j = from; j + 1 < p->line_len; j++)
	{
		if (p->line[j] == '\\' && p->line[j + 1] == '|')
			j++;
		else if (p->line[j] == '|' && p->line[j + 1] == '>')
			return j;
	}
	return PAGE_NONE;
}

/* Writes the items collected from line[from..to), which is the whole line if whole. */
static void
page_emit_items(PageParser *p, size_t from, size_t to, bool whole)
{
	/* a whole blank line still counts as markdown (it separates paragraphs) */
	size_t		elements = 0;
	size_t		texts = 0;

	for (size_t i = 0; i < p->nitems; i++)
	{
		PageItem   *it = &p->items[i];

		if (it->is_element)
			elements++;
		else if (!page_all_space(p->line + it->start, it->end - it->start))
			texts++;
	}
	if (elements == 0)
	{
		if (whole || texts > 0)
			page_add_markdown(p, from, to);
		return;
	}
	page_flush_markdown(p);
	for (size_t i = 0; i < p->nitems && !p->failed; i++)
	{
		PageItem   *it = &p->items[i];
		bool		is_inline = elements + texts > 1;

		if (it->is_element)
			page_emit_element(p, it->start, it->start + 2, it->end - 2,
							  false, is_inline, NULL);
		else if (is_inline &&
				 !((i == 0 || i == p->nitems - 1) &&
				   page_all_space(p->line + it->start, it->end - it->start)))
			page_emit_inline_text(p, it->start, it->end);
	}
}

/* Offset of needle in line[from..), or PAGE_NONE; ci: ASCII case-insensitive. */
static size_t
page_find(PageParser *p, size_t from, const char *needle, bool ci)
{
	size_t		n = strlen(needle);

	for (size_t j = from; j + n <= p->line_len; j++)
	{
		size_t		k = 0;

		while (k < n && (ci ? (p->line[j + k] | 0x20) == needle[k] : p->line[j + k] == needle[k]))
			k++;
		if (k == n)
			return j;
	}
	return PAGE_NONE;
}

/* Processes line[from..len): elements, markdown, and a final block opener. */
static void
page_process_segment(PageParser *p, size_t from, bool whole)
{
	/*
	 * Elements inside HTML comments "<!-- ... -->" (which may span lines)
	 * are not elements: the comment stays markdown text, which the browser
	 * does not show.  scan is where the search for "<|" resumes.
	 */
	const char *s = p->line;
	size_t		n = p->line_len;
	size_t		i = from;
	size_t		scan = from;
	size_t		opener = PAGE_NONE;

	p->nitems = 0;
	while (i < n)
	{
		const char *q;
		size_t		lt;
		size_t		close;
		size_t		cm;

		if (p->in_comment)
		{
			size_t		ce = page_find(p, scan, "-->", false);

			if (ce == PAGE_NONE)
			{
				if (!page_add_item(p, false, i, n))
					goto oom;
				break;
			}
			p->in_comment = false;
			scan = ce + 3;
		}
		q = scan < n ? memchr(s + scan, '<', n - scan) : NULL;
		while (q && !(q + 1 < s + n && (q[1] == '|' || q[1] == '!')))
			q = memchr(q + 1, '<', (size_t) (s + n - q - 1));
		if (q && q[1] == '!')
		{
			cm = (size_t) (q - s);
			if (page_find(p, cm, "<!--", false) == cm)
			{
				p->in_comment = true;
				scan = cm + 4;
			}
			else
				scan = cm + 1;
			continue;
		}
		if (q == NULL)
		{
			if (!page_add_item(p, false, i, n))
				goto oom;
			break;
		}
		lt = (size_t) (q - s);
		if (lt > i && !page_add_item(p, false, i, lt))
			goto oom;
		close = page_find_close(p, lt + 2);
		if (close == PAGE_NONE)
		{
			opener = lt;
			break;
		}
		if (!page_add_item(p, true, lt, close + 2))
			goto oom;
		i = scan = close + 2;
	}
	page_emit_items(p, from, opener == PAGE_NONE ? n : opener,
					whole && opener == PAGE_NONE);
	if (opener != PAGE_NONE && !p->failed)
		page_open_block(p, opener, opener + 2, n, NULL, 0);
	return;

oom:
	page_oom(p);
}

/*
 * Drops <style> and <script> blocks: a page's CSS would restyle the whole
 * application and can send what the page shows elsewhere (url(), attribute
 * selectors), and pages run no scripts.  Returns true when the current line
 * was consumed; *from is where the rest of the line continues otherwise.
 */
static bool
page_skip_raw_block(PageParser *p, size_t *from)
{
	static const char *const tags[] = {"style", "script", NULL};
	size_t		i = 0;

	if (p->raw_tag == NULL)
	{
		while (i < p->line_len && page_is_blank(p->line[i]))
			i++;
		for (const char *const *t = tags; *t; t++)
		{
			size_t		n = strlen(*t);

			if (i + n + 1 < p->line_len && p->line[i] == '<' &&
				page_find(p, i + 1, *t, true) == i + 1 &&
				(p->line[i + 1 + n] == '>' || page_is_blank(p->line[i + 1 + n])))
			{
				p->raw_tag = *t;
				page_flush_markdown(p);
				page_warn(p, p->lineno, page_column(p, i),
						  strcmp(*t, "style") == 0 ?
						  "A page's CSS would apply to the whole application and could send what the page shows to other sites; the browser does not apply it." :
						  "Pages do not run scripts.",
						  strcmp(*t, "style") == 0 ?
						  "Style elements with class_name and the classes of the application's stylesheet." : NULL,
						  "<%s> block is dropped", *t);
				break;
			}
		}
		if (p->raw_tag == NULL)
			return false;
	}
	{
		char		end_tag[16];
		size_t		e;

		snprintf(end_tag, sizeof(end_tag), "</%s>", p->raw_tag);
		e = page_find(p, i, end_tag, true);
		if (e == PAGE_NONE)
			return true;
		p->raw_tag = NULL;
		*from = e + strlen(end_tag);
		return page_all_space(p->line + *from, p->line_len - *from);
	}
}

/* Processes the current line. */
static void
page_process_line(PageParser *p)
{
	const char *s = p->line;
	size_t		n = p->line_len;
	size_t		i = 0;
	size_t		j;
	bool		whole = true;

	if (!p->in_comment && page_skip_raw_block(p, &i))
		return;
	if (i > 0)
	{
		page_process_segment(p, i, false);
		return;
	}
	if (p->in_comment)
	{
		page_process_segment(p, 0, true);
		return;
	}

	/* a closing tag "|>" or "|ident>" at the start of the line */
	while (i < n && page_is_blank(s[i]))
		i++;
	if (i < n && s[i] == '|')
	{
		j = i + 1;
		while (j < n && (page_is_ident_char(s[j]) || s[j] == '.'))
			j++;
		if (j < n && s[j] == '>')
		{
			page_close_block(p, i, s + i + 1, j - i - 1);
			if (p->failed)
				return;
			i = j + 1;
			whole = false;
		}
	}

	/* an opener with an identifier "<ident|...", alone on its line */
	while (i < n && page_is_blank(s[i]))
		i++;
	if (i < n && s[i] == '<')
	{
		j = i + 1;
		while (j < n && (page_is_ident_char(s[j]) || s[j] == '.'))
			j++;
		if (j > i + 1 && j < n && s[j] == '|' &&
			page_find_close(p, j + 1) == PAGE_NONE)
		{
			page_open_block(p, i, j + 1, n, s + i + 1, j - i - 1);
			return;
		}
	}
	if (whole)
		i = 0;
	page_process_segment(p, i, whole);
}

/* ----------------------------------------------------------------
 * Entry point
 * ----------------------------------------------------------------
 */

/* Checks that text is valid UTF-8 without NUL bytes; false (and error) if not. */
static bool
page_check_utf8(PageParser *p, const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *) text;
	int			line = 1;
	int			column = 1;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = u[i];
		size_t		need;
		uint32_t	cp;

		if (c == '\n')
		{
			line++;
			column = 1;
			i++;
			continue;
		}
		if (c == 0)
		{
			page_error_at(p, line, column, "page contains a NUL character");
			return false;
		}
		need = strbuf_utf8_seq_len(u + i, len - i, &cp);
		if (need == 0)
		{
			page_error_at(p, line, column, "invalid UTF-8 byte sequence");
			page_error_detail(p, "The byte 0x%02x does not begin a valid UTF-8 character.", c);
			page_error_hint(p, "Save the page as UTF-8.");
			return false;
		}
		column++;
		i += need;
	}
	return true;
}

/* Frees everything the parser owns. */
static void
page_parser_free(PageParser *p)
{
	strbuf_free(&p->out);
	strbuf_free(&p->md);
	strbuf_free(&p->bindings_json);
	strbuf_free(&p->actions_json);
	strbuf_free(&p->warnings);
	strbuf_free(&p->value);
	strbuf_free(&p->tpl);
	strbuf_free(&p->node_exprs);
	strbuf_free(&p->node_bindings);
	page_nameset_free(&p->bindings);
	page_nameset_free(&p->actions);
	page_nameset_free(&p->node_set);
	page_nameset_free(&p->prop_set);
	free(p->items);
	free(p->frags);
	free(p->props);
}

/* Whether any output buffer ran out of memory. */
static bool
page_buffers_failed(PageParser *p)
{
	return p->out.failed || p->md.failed || p->bindings_json.failed ||
		p->actions_json.failed || p->value.failed || p->node_bindings.failed ||
		p->warnings.failed || p->tpl.failed || p->node_exprs.failed;
}

/* Parses a page; returns its malloc'd JSON tree, or NULL with *err filled. */
char *
page_parse_to_json(const char *text, size_t len, PageError *err)
{
	PageParser *p;
	StrBuf		result;
	size_t		pos = 0;
	char	   *json;

	memset(err, 0, sizeof(*err));
	if (text == NULL && len > 0)
	{
		err->line = 1;
		err->column = 1;
		snprintf(err->message, sizeof(err->message), "page text is missing");
		return NULL;
	}
	if (len > (size_t) INT_MAX)
	{
		err->line = 1;
		err->column = 1;
		snprintf(err->message, sizeof(err->message), "page is too large");
		snprintf(err->detail, sizeof(err->detail), "A page may have at most %d bytes.", INT_MAX);
		return NULL;
	}
	p = calloc(1, sizeof(PageParser));
	if (p == NULL)
	{
		err->line = 1;
		err->column = 1;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return NULL;
	}
	p->err = err;
	strbuf_init(&p->out);
	strbuf_init(&p->md);
	strbuf_init(&p->bindings_json);
	strbuf_init(&p->actions_json);
	strbuf_init(&p->warnings);
	strbuf_init(&p->value);
	strbuf_init(&p->tpl);
	strbuf_init(&p->node_exprs);
	strbuf_init(&p->node_bindings);
	page_nameset_init(&p->bindings);
	page_nameset_init(&p->actions);
	page_nameset_init(&p->node_set);
	page_nameset_init(&p->prop_set);

	if (page_check_utf8(p, text, len))
	{
		/* a leading byte order mark is not part of the page */
		if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
			pos = 3;
		while (pos < len && !p->failed)
		{
			const char *nl = memchr(text + pos, '\n', len - pos);
			size_t		end = nl ? (size_t) (nl - text) : len;

			p->line = text + pos;
			p->line_len = end - pos;
			if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
				p->line_len--;
			p->lineno++;
			p->col_off = 0;
			p->col_col = 1;
			page_process_line(p);
			if (!p->failed && page_buffers_failed(p))
				page_oom(p);
			pos = nl ? end + 1 : len;
		}
		if (!p->failed)
			page_flush_markdown(p);
		/* blocks left open are closed at the end, as Taipy does */
		while (!p->failed && p->depth > 0)
		{
			PageFrame  *f = &p->stack[p->depth];

			page_warn(p, f->line, f->column,
					  "The page ends before the block is closed; it is closed there.",
					  "Close each block with a line starting with \"|>\"; an element on one line must end with \"|>\".",
					  "block \"%s\" is not closed", f->ctl->canonical);
			strbuf_append(&p->out, "]}");
			p->depth--;
		}
		if (!p->failed && p->raw_tag)
			page_warn(p, p->lineno, 1, NULL, NULL,
					  "the page ends inside a <%s> block", p->raw_tag);
	}
	if (!p->failed && page_buffers_failed(p))
		page_oom(p);
	if (p->failed)
	{
		page_parser_free(p);
		free(p);
		return NULL;
	}

	strbuf_init(&result);
	strbuf_append(&result, "{\"type\":\"page\",\"bindings\":[");
	strbuf_append_len(&result, p->bindings_json.data ? p->bindings_json.data : "",
					  p->bindings_json.len);
	strbuf_append(&result, "],\"actions\":[");
	strbuf_append_len(&result, p->actions_json.data ? p->actions_json.data : "",
					  p->actions_json.len);
	strbuf_append_char(&result, ']');
	if (p->nwarnings > 0)
	{
		strbuf_append(&result, ",\"warnings\":[");
		strbuf_append_len(&result, p->warnings.data ? p->warnings.data : "",
						  p->warnings.len);
		if (p->nwarnings > PAGE_MAX_WARNINGS)
		{
			strbuf_append(&result, ",{\"line\":1,\"column\":1,\"message\":\"");
			strbuf_append_int(&result, p->nwarnings - PAGE_MAX_WARNINGS);
			strbuf_append(&result, " more warnings are not listed\"}");
		}
		strbuf_append_char(&result, ']');
	}
	strbuf_append(&result, ",\"children\":[");
	strbuf_append_len(&result, p->out.data ? p->out.data : "", p->out.len);
	strbuf_append(&result, "]}");
	page_parser_free(p);
	free(p);
	json = strbuf_detach(&result);
	if (json == NULL)
	{
		memset(err, 0, sizeof(*err));
		err->line = 1;
		err->column = 1;
		snprintf(err->message, sizeof(err->message), "out of memory");
	}
	return json;
}

/* Whether byte c is part of a word (letters, digits, any non-ASCII byte). */
static bool
page_is_word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/*
 * Turns the markdown of a heading into plain text, in place, for a page's
 * title: attribute lists ("{: .big}") go, links keep their text, code spans
 * their code, and emphasis markers ("**", "_") at the edge of a word go
 * ("snake_case" stays).  Spaces are collapsed and trimmed.
 */
void
page_heading_plain(char *s)
{
	char	   *w = s;
	bool		space = true;	/* drops leading spaces and repeats */

	for (char *r = s; *r;)
	{
		unsigned char c = (unsigned char) *r;

		if (c == '{' && r[1] == ':' && strchr(r, '}'))
		{
			r = strchr(r, '}') + 1;
			continue;
		}
		if (c == '`' || (c == '[' && strstr(r, "](")))
		{
			r++;
			continue;
		}
		if (c == ']' && r[1] == '(' && strchr(r, ')'))
		{
			r = strchr(r, ')') + 1;
			continue;
		}
		if (c == '*' || c == '_')
		{
			char	   *e = r;

			while (*e == (char) c)
				e++;
			if (r == s || !page_is_word_byte((unsigned char) r[-1]) ||
				!page_is_word_byte((unsigned char) *e))
			{
				r = e;
				continue;
			}
			while (r < e)
				*w++ = *r++;
			space = false;
			continue;
		}
		if (c == ' ' || c == '\t')
		{
			if (!space)
				*w++ = ' ';
			space = true;
			r++;
			continue;
		}
		*w++ = *r++;
		space = false;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}
