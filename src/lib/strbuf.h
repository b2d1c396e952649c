/*-------------------------------------------------------------------------
 *
 * strbuf.h
 *		A growable, NUL-terminated string buffer with JSON string escaping,
 *		pure C (libc only).
 *
 * A StrBuf starts empty (strbuf_init) and grows with malloc/realloc.  An
 * allocation failure (or a size overflow) is sticky: the buffer sets
 * "failed", frees nothing the caller still needs, and ignores every later
 * append, so callers may append freely and check sb->failed once at the end.
 * Whenever data is not NULL it is NUL-terminated at data[len].
 *
 * src/lib/strbuf.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_STRBUF_H
#define PGDASH_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct StrBuf
{
	char	   *data;			/* NULL until the first append */
	size_t		len;			/* bytes used, excluding the NUL */
	size_t		cap;			/* bytes allocated */
	bool		failed;			/* an allocation failed; appends are ignored */
} StrBuf;

/* Makes sb an empty buffer that owns no memory. */
extern void strbuf_init(StrBuf *sb);

/* Frees the buffer's memory and makes it empty again (failed is cleared). */
extern void strbuf_free(StrBuf *sb);

/* Empties the buffer, keeping its memory (and its failed flag). */
extern void strbuf_reset(StrBuf *sb);

/* Makes room for extra more bytes plus the NUL; false (and failed) on failure. */
extern bool strbuf_reserve(StrBuf *sb, size_t extra);

/* Appends n bytes of s (which may contain NUL bytes). */
extern void strbuf_append_len(StrBuf *sb, const char *s, size_t n);

/* Appends the NUL-terminated string s. */
extern void strbuf_append(StrBuf *sb, const char *s);

/* Appends one byte. */
extern void strbuf_append_char(StrBuf *sb, char c);

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes), or 0; sets *cp. */
extern size_t strbuf_utf8_seq_len(const unsigned char *s, size_t n, uint32_t *cp);

/* Appends the decimal text of v. */
extern void strbuf_append_int(StrBuf *sb, long long v);

/*
 * Appends n bytes of UTF-8 text s as a quoted JSON string.  Escapes '"', '\\'
 * and control characters, and also '<', '>', '&', U+2028 and U+2029 (as
 * \uXXXX) so that the JSON can be embedded in HTML and JavaScript safely.
 * Invalid UTF-8 bytes are replaced by U+FFFD.
 */
extern void strbuf_append_json_string(StrBuf *sb, const char *s, size_t n);

/*
 * Returns the malloc'd NUL-terminated contents (an empty string if nothing
 * was appended) and leaves sb empty; the caller frees the result.  Returns
 * NULL (and frees the buffer) if an allocation failed at any point.
 */
extern char *strbuf_detach(StrBuf *sb);

#endif							/* PGDASH_STRBUF_H */
