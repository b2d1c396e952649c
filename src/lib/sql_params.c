/*
 * sql_params.c
 *		Rewrites named parameters (:name) in SQL text into positional ones
 *		($1, $2, ...), the same name getting the same number.
 *
 * Named queries are written with :region, :since; PostgreSQL binds $n.  The
 * scanner skips everything where a colon is not a parameter: string
 * literals ('...', E'...' with backslash escapes), quoted identifiers,
 * dollar-quoted strings, comments (-- and nested block comments), and :: casts.  A
 * parameter is a colon directly followed by an identifier.  Positional $n
 * in the text is refused, so that every parameter has a name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_params.h"

/* True for a character that may start an identifier. */
static bool
ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

/* True for a character that may continue an identifier. */
static bool
ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Records an error at a byte offset; returns false for convenience. */
static bool
params_error(SqlParams *out, size_t offset, const char *msg)
{
	out->error_offset = (int) offset;
	snprintf(out->error, sizeof(out->error), "%s", msg);
	free(out->sql);
	out->sql = NULL;
	return false;
}

/* Appends to the output buffer, growing it; false when out of memory. */
static bool
params_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap)
	{
		size_t		ncap = (*cap ? *cap : 64);
		char	   *nbuf;

		while (ncap < *len + n + 1)
			ncap *= 2;
		nbuf = realloc(*buf, ncap);
		if (nbuf == NULL)
			return false;
		*buf = nbuf;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

/*
 * Length of a dollar-quote tag ($tag$ or $$) starting at s[i], or 0 when
 * s[i] does not start one.
 */
static size_t
dollar_tag_len(const char *s, size_t len, size_t i)
{
	size_t		j = i + 1;

	if (j < len && s[j] == '$')
		return 2;
	if (j >= len || !ident_start((unsigned char) s[j]) || isdigit((unsigned char) s[j]))
		return 0;
	while (j < len && ident_char((unsigned char) s[j]) && s[j] != '$')
		j++;
	if (j < len && s[j] == '$')
		return j - i + 1;
	return 0;
}

/*
 * Rewrites sql into out; false with out->error and out->error_offset set on
 * an unterminated literal or comment, a positional parameter, a name that
 * is too long, or too many parameters.
 */
bool
sql_params_rewrite(const char *s, size_t len, SqlParams *out)
{
	size_t		i = 0;
	size_t		olen = 0;
	size_t		ocap = 0;

	memset(out, 0, sizeof(*out));
	out->error_offset = -1;
	if (!params_append(&out->sql, &olen, &ocap, "", 0))
		return params_error(out, 0, "out of memory");

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		size_t		start = i;

		if (c == '\0')
			return params_error(out, i, "query text contains a NUL byte");
		if (c == '\'' || c == '"')
		{
			/* string literal or quoted identifier; E'' allows \' */
			bool		backslash = (c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
									 (i < 2 || !ident_char((unsigned char) s[i - 2])));

			i++;
			for (;;)
			{
				if (i >= len)
					return params_error(out, start, c == '"' ? "unterminated quoted identifier"
										: "unterminated string literal");
				if (backslash && s[i] == '\\' && i + 1 < len)
				{
					i += 2;
					continue;
				}
				if ((unsigned char) s[i] == c)
				{
					if (i + 1 < len && (unsigned char) s[i + 1] == c)
					{
						i += 2;
						continue;
					}
					i++;
					break;
				}
				i++;
			}
		}
		else if (c == '-' && i + 1 < len && s[i + 1] == '-')
		{
			while (i < len && s[i] != '\n')
				i++;
		}
		else if (c == '/' && i + 1 < len && s[i + 1] == '*')
		{
			int			depth = 1;

			i += 2;
			while (depth > 0)
			{
				if (i + 1 >= len)
					return params_error(out, start, "unterminated comment");
				if (s[i] == '/' && s[i + 1] == '*')
				{
					depth++;
					i += 2;
				}
				else if (s[i] == '*' && s[i + 1] == '/')
				{
					depth--;
					i += 2;
				}
				else
					i++;
			}
		}
		else if (c == '$')
		{
			size_t		tag = dollar_tag_len(s, len, i);

			if (i + 1 < len && isdigit((unsigned char) s[i + 1]) &&
				(i == 0 || !ident_char((unsigned char) s[i - 1])))
				return params_error(out, i, "positional parameters ($1) are not allowed; name them (:name)");
			if (tag > 0 && (i == 0 || !ident_char((unsigned char) s[i - 1])))
			{
				const char *end;

				i += tag;
				end = NULL;
				while (i + tag <= len)
				{
					if (memcmp(s + i, s + start, tag) == 0)
					{
						end = s + i;
						break;
					}
					i++;
				}
				if (end == NULL)
					return params_error(out, start, "unterminated dollar-quoted string");
				i += tag;
			}
			else
				i++;
		}
		else if (c == ':' && i + 1 < len && s[i + 1] == ':')
			i += 2;
		else if (c == ':' && i + 1 < len && ident_start((unsigned char) s[i + 1]) &&
				 (i == 0 || s[i - 1] != ':'))
		{
			size_t		n;
			int			p;
			char		num[16];

			i++;
			while (i < len && ident_char((unsigned char) s[i]))
				i++;
			n = i - start - 1;
			if (n > SQL_PARAMS_NAME_MAX)
				return params_error(out, start, "parameter name is longer than 63 bytes");
			for (p = 0; p < out->count; p++)
				if (strlen(out->names[p]) == n && memcmp(out->names[p], s + start + 1, n) == 0)
					break;
			if (p == out->count)
			{
				if (out->count == SQL_PARAMS_MAX)
					return params_error(out, start, "more than 100 distinct parameters");
				memcpy(out->names[p], s + start + 1, n);
				out->names[p][n] = '\0';
				out->count++;
			}
			snprintf(num, sizeof(num), "$%d", p + 1);
			if (!params_append(&out->sql, &olen, &ocap, num, strlen(num)))
				return params_error(out, start, "out of memory");
			continue;
		}
		else
			i++;

		if (!params_append(&out->sql, &olen, &ocap, s + start, i - start))
			return params_error(out, start, "out of memory");
	}
	return true;
}

/* Frees the rewritten text. */
void
sql_params_free(SqlParams *p)
{
	free(p->sql);
	p->sql = NULL;
}
