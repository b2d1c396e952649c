/*-------------------------------------------------------------------------
 *
 * strbuf.c
 *		A growable string buffer with JSON string escaping.
 *
 * Pure C (libc only), independent of PostgreSQL.  See strbuf.h for the
 * failure model (sticky "failed" flag, appends ignored afterwards).
 *
 * src/lib/strbuf.c
 *
 *-------------------------------------------------------------------------
 */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes sb an empty buffer that owns no memory. */
void
strbuf_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->failed = false;
}

/* Frees the buffer's memory and makes it empty again (failed is cleared). */
void
strbuf_free(StrBuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

/* Empties the buffer, keeping its memory (and its failed flag). */
void
strbuf_reset(StrBuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL; false (and failed) on failure. */
bool
strbuf_reserve(StrBuf *sb, size_t extra)
{
	size_t		need;
	size_t		newcap;
	char	   *newdata;

	if (sb->failed)
		return false;
	if (extra > SIZE_MAX - 1 - sb->len)
	{
		sb->failed = true;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	newcap = sb->cap ? sb->cap : 64;
	while (newcap < need)
	{
		if (newcap > SIZE_MAX / 2)
		{
			newcap = need;
			break;
		}
		newcap *= 2;
	}
	newdata = realloc(sb->data, newcap);
	if (newdata == NULL)
	{
		sb->failed = true;
		return false;
	}
	sb->data = newdata;
	sb->cap = newcap;
	return true;
}

/* Appends n bytes of s (which may contain NUL bytes). */
void
strbuf_append_len(StrBuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n))
		return;
	if (n > 0)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

/* Appends the NUL-terminated string s. */
void
strbuf_append(StrBuf *sb, const char *s)
{
	strbuf_append_len(sb, s, strlen(s));
}

/* Appends one byte. */
void
strbuf_append_char(StrBuf *sb, char c)
{
	strbuf_append_len(sb, &c, 1);
}

/* Appends the decimal text of v. */
void
strbuf_append_int(StrBuf *sb, long long v)
{
	char		tmp[32];
	int			n = snprintf(tmp, sizeof(tmp), "%lld", v);

	if (n > 0 && (size_t) n < sizeof(tmp))
		strbuf_append_len(sb, tmp, (size_t) n);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), or 0
 * if invalid (overlong, surrogate, over U+10FFFF, truncated); sets *cp.
 */
size_t
strbuf_utf8_seq_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t		need;
	uint32_t	v;
	uint32_t	min;

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		need = 2;
		v = c & 0x1F;
		min = 0x80;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		need = 3;
		v = c & 0x0F;
		min = 0x800;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		need = 4;
		v = c & 0x07;
		min = 0x10000;
	}
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return need;
}

/* Appends a \uXXXX escape for a code point of the basic multilingual plane. */
static void
strbuf_append_u_escape(StrBuf *sb, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char		esc[6];

	esc[0] = '\\';
	esc[1] = 'u';
	esc[2] = hex[(cp >> 12) & 0xF];
	esc[3] = hex[(cp >> 8) & 0xF];
	esc[4] = hex[(cp >> 4) & 0xF];
	esc[5] = hex[cp & 0xF];
	strbuf_append_len(sb, esc, sizeof(esc));
}

/* Appends n bytes of UTF-8 text s as a quoted, HTML-safe JSON string. */
void
strbuf_append_json_string(StrBuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;
	size_t		run = 0;		/* start of the pending run of plain bytes */

	/* the output is at least as long as the input: reserve it once */
	if (!strbuf_reserve(sb, n + 2))
		return;
	strbuf_append_char(sb, '"');
	while (i < n)
	{
		unsigned char c = u[i];
		uint32_t	cp = 0;
		size_t		seq;
		const char *simple = NULL;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' &&
			c != '<' && c != '>' && c != '&')
		{
			i++;
			continue;
		}
		if (c >= 0x80)
		{
			seq = strbuf_utf8_seq_len(u + i, n - i, &cp);
			if (seq != 0 && cp != 0x2028 && cp != 0x2029)
			{
				i += seq;
				continue;
			}
		}
		else
			seq = 1;
		/* this character needs escaping: flush the plain run first */
		strbuf_append_len(sb, s + run, i - run);
		switch (c)
		{
			case '"':
				simple = "\\\"";
				break;
			case '\\':
				simple = "\\\\";
				break;
			case '\n':
				simple = "\\n";
				break;
			case '\r':
				simple = "\\r";
				break;
			case '\t':
				simple = "\\t";
				break;
			case '\b':
				simple = "\\b";
				break;
			case '\f':
				simple = "\\f";
				break;
			default:
				break;
		}
		if (simple)
			strbuf_append(sb, simple);
		else if (c < 0x80)
			strbuf_append_u_escape(sb, c);
		else if (seq == 0)
		{
			strbuf_append_u_escape(sb, 0xFFFD);
			seq = 1;
		}
		else
			strbuf_append_u_escape(sb, cp);
		i += seq;
		run = i;
	}
	strbuf_append_len(sb, s + run, i - run);
	strbuf_append_char(sb, '"');
}

/* Returns the malloc'd contents and leaves sb empty; NULL if anything failed. */
char *
strbuf_detach(StrBuf *sb)
{
	char	   *result;

	if (sb->failed)
	{
		strbuf_free(sb);
		return NULL;
	}
	if (sb->data == NULL && !strbuf_reserve(sb, 0))
	{
		strbuf_free(sb);
		return NULL;
	}
	sb->data[sb->len] = '\0';
	result = sb->data;
	strbuf_init(sb);
	return result;
}
