/*
 * http_parser.c
 *		Incremental HTTP/1.1 request parser (RFC 9110 / RFC 9112 subset).
 *
 * Received bytes are appended to one buffer.  The header section stays in
 * the buffer until its final empty line arrives; it is then copied into a
 * private allocation (p->head) that the HttpRequest pointers refer to, and
 * dropped from the buffer, so that later appends (which may move the buffer)
 * never invalidate a finished request.  Body bytes are decoded straight into
 * req.body as they arrive and dropped from the buffer too, which keeps the
 * buffer no larger than about one header section plus one read.
 *
 * The parser is strict where leniency lets a proxy and a server read one
 * byte stream as different requests (request smuggling): every line must
 * end with CRLF, and an HTTP/1.1 request must carry exactly one valid Host
 * header (RFC 9112 2.2 and 3.2).
 *
 * The result must not depend on how the input is split.  Errors that are
 * reported before a line is complete (414, 431, a too-long method) are
 * therefore computed from the bytes received so far only, and the same
 * checks run first when the whole line is present, so that feeding one byte
 * at a time and feeding everything at once report the same error.
 */
#include "http_parser.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where in the request the parser is. */
enum
{
	PHASE_START,				/* skipping empty lines before a request */
	PHASE_REQUEST_LINE,
	PHASE_HEADERS,
	PHASE_BODY,					/* Content-Length body */
	PHASE_CHUNK_SIZE,
	PHASE_CHUNK_DATA,
	PHASE_CHUNK_CRLF,
	PHASE_TRAILERS,
	PHASE_DONE,
	PHASE_ERROR
};

/* Header positions relative to the start of the header section. */
typedef struct HttpHeaderOffsets
{
	size_t		name_off;
	size_t		name_len;
	size_t		value_off;
	size_t		value_len;
} HttpHeaderOffsets;

static void http_parse(HttpParser *p);

/* Mark the parser failed with a status and a static reason. */
static void
http_set_error(HttpParser *p, int status, const char *reason)
{
	p->state = HTTP_PARSE_ERROR;
	p->phase = PHASE_ERROR;
	p->error_status = status;
	p->error_reason = reason;
}

/* Fail for lack of memory. */
static void
http_set_oom(HttpParser *p)
{
	http_set_error(p, 500, "out of memory while parsing the request");
}

/* Fail with 414: the request-target is longer than allowed. */
static void
http_error_url(HttpParser *p)
{
	snprintf(p->reason_buf, sizeof(p->reason_buf),
			 "request-target exceeds %zu bytes", p->limits.max_url);
	http_set_error(p, 414, p->reason_buf);
}

/* Fail with 431: the header section is larger than allowed. */
static void
http_error_header_bytes(HttpParser *p)
{
	snprintf(p->reason_buf, sizeof(p->reason_buf),
			 "request header fields exceed %zu bytes",
			 p->limits.max_header_bytes);
	http_set_error(p, 431, p->reason_buf);
}

/* Fail with 413: the body is larger than allowed. */
static void
http_error_body(HttpParser *p)
{
	snprintf(p->reason_buf, sizeof(p->reason_buf),
			 "request body exceeds %zu bytes", p->limits.max_body);
	http_set_error(p, 413, p->reason_buf);
}

/* ASCII lower-casing, independent of the locale. */
static inline unsigned char
http_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/* Case-insensitive comparison of two byte strings of equal length. */
static bool
http_equal_ci(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		if (http_lower((unsigned char) a[i]) != http_lower((unsigned char) b[i]))
			return false;
	}
	return true;
}

/* Is c a tchar (RFC 9110 token character)? */
static inline bool
http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Is c allowed in a method: a token character that is not lowercase. */
static inline bool
http_is_method_char(unsigned char c)
{
	return http_is_tchar(c) && !(c >= 'a' && c <= 'z');
}

/* Is c allowed in a field value (VCHAR, obs-text, SP, HTAB)? */
static inline bool
http_is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* True when name (len bytes) is an RFC 9110 field name: one or more token characters. */
bool
http_field_name_valid(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!http_is_tchar((unsigned char) name[i]))
			return false;
	}
	return true;
}

/* True when value (len bytes) is a field value without surrounding whitespace or control characters. */
bool
http_field_value_valid(const char *value, size_t len)
{
	if (len > 0 && (value[0] == ' ' || value[0] == '\t' ||
					value[len - 1] == ' ' || value[len - 1] == '\t'))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!http_is_value_char((unsigned char) value[i]))
			return false;
	}
	return true;
}

/* Value of a hex digit, or -1. */
static inline int
http_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Start a fresh request, keeping buffered bytes and allocations' owner. */
static void
http_reset_request(HttpParser *p)
{
	free(p->head);
	free(p->req.path);
	free(p->req.headers);
	free(p->req.body);
	p->head = NULL;
	memset(&p->req, 0, sizeof(p->req));
	p->req.content_length = -1;
	p->state = HTTP_PARSE_INCOMPLETE;
	p->phase = PHASE_START;
	p->headers_done = false;
	p->line_off = 0;
	p->scan_off = 0;
	p->head_bytes = 0;
	p->target_off = 0;
	p->query_off = 0;
	p->body_cap = 0;
	p->remaining = 0;
}

/*
 * Prepare a parser; limits may be NULL for the defaults.
 */
void
http_parser_init(HttpParser *p, const HttpLimits *limits)
{
	memset(p, 0, sizeof(*p));
	if (limits)
		p->limits = *limits;
	else
	{
		p->limits.max_url = HTTP_DEFAULT_MAX_URL;
		p->limits.max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES;
		p->limits.max_headers = HTTP_DEFAULT_MAX_HEADERS;
		p->limits.max_body = HTTP_DEFAULT_MAX_BODY;
	}
	if (p->limits.max_headers < 0)
		p->limits.max_headers = 0;
	http_reset_request(p);
}

/*
 * Release everything the parser owns.
 */
void
http_parser_free(HttpParser *p)
{
	http_reset_request(p);
	free(p->buf);
	free(p->hdr_off);
	memset(p, 0, sizeof(*p));
}

/*
 * Append bytes to the buffer, moving unconsumed bytes to its start first.
 * Returns false when out of memory.
 */
static bool
http_buffer_append(HttpParser *p, const char *data, size_t len)
{
	size_t		used;

	if (len == 0)
		return true;
	if (p->rpos > 0)
	{
		/* Offsets are relative to rpos, so moving the data is harmless. */
		memmove(p->buf, p->buf + p->rpos, p->wpos - p->rpos);
		p->wpos -= p->rpos;
		p->rpos = 0;
	}
	used = p->wpos;
	if (len > SIZE_MAX - used)
		return false;
	if (used + len > p->cap)
	{
		size_t		newcap = p->cap < 1024 ? 1024 : p->cap;
		char	   *nb;

		while (newcap < used + len)
		{
			if (newcap > SIZE_MAX / 2)
			{
				newcap = used + len;
				break;
			}
			newcap *= 2;
		}
		nb = realloc(p->buf, newcap);
		if (nb == NULL)
			return false;
		p->buf = nb;
		p->cap = newcap;
	}
	memcpy(p->buf + used, data, len);
	p->wpos += len;
	return true;
}

/*
 * Append received bytes and parse as far as possible.
 */
HttpParseState
http_parser_feed(HttpParser *p, const char *data, size_t len)
{
	if (p->state == HTTP_PARSE_ERROR)
		return p->state;
	if (!http_buffer_append(p, data, len))
	{
		http_set_oom(p);
		return p->state;
	}
	if (p->state == HTTP_PARSE_INCOMPLETE)
		http_parse(p);
	return p->state;
}

/*
 * Drop a finished request and parse the next one from buffered bytes.
 */
HttpParseState
http_parser_next(HttpParser *p)
{
	if (p->state != HTTP_PARSE_DONE)
		return p->state;
	http_reset_request(p);
	http_parse(p);
	return p->state;
}

/*
 * Number of received bytes not consumed yet.
 */
size_t
http_parser_buffered(const HttpParser *p)
{
	return p->wpos - p->rpos;
}

/*
 * Make room in req.body for extra more bytes plus a NUL, growing
 * geometrically but never beyond limit bytes, so that a large announced
 * length costs memory only as the data actually arrives.
 */
static bool
http_body_reserve(HttpParser *p, size_t extra, size_t limit)
{
	size_t		need = p->req.body_len + extra + 1;
	size_t		newcap;
	char	   *nb;

	if (need <= p->body_cap)
		return true;
	newcap = p->body_cap < 256 ? 256 : p->body_cap;
	while (newcap < need && newcap <= SIZE_MAX / 2)
		newcap *= 2;
	if (newcap > limit)
		newcap = limit;
	if (newcap < need)
		newcap = need;
	nb = realloc(p->req.body, newcap);
	if (nb == NULL)
		return false;
	p->req.body = nb;
	p->body_cap = newcap;
	return true;
}

/*
 * Percent-decode s into out (which has room for len bytes).  Returns the
 * decoded length, or -1 on a bad escape or a NUL byte.
 */
static long long
http_decode_into(const char *s, size_t len, bool plus_is_space, char *out)
{
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '%')
		{
			int			hi,
						lo;

			if (len - i < 3)
				return -1;
			hi = http_hex_value((unsigned char) s[i + 1]);
			lo = http_hex_value((unsigned char) s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char) (hi * 16 + lo);
			i += 2;
		}
		else if (c == '+' && plus_is_space)
			c = ' ';
		if (c == '\0')
			return -1;
		out[o++] = (char) c;
	}
	return (long long) o;
}

/*
 * Percent-decode into a malloc'd NUL-terminated string.
 */
char *
http_percent_decode(const char *s, size_t len, bool plus_is_space)
{
	char	   *out;

	if (s == NULL && len > 0)
		return NULL;
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	if (len > 0)
	{
		long long	n = http_decode_into(s, len, plus_is_space, out);

		if (n < 0)
		{
			free(out);
			return NULL;
		}
		out[n] = '\0';
	}
	else
		out[0] = '\0';
	return out;
}

/*
 * Check a request line, complete or not, for the errors that can be known
 * before its end: a bad or too long method, a too long target, too many
 * header bytes.  n is the number of bytes of the line received (with its
 * terminator when complete).  Each check reports its error from the first
 * byte position at which it becomes certain, and the earliest position wins,
 * so the outcome is the same however the line was split.  Returns true when
 * an error was set.
 */
static bool
http_request_line_early(HttpParser *p, const char *line, size_t n)
{
	size_t		best_pos = SIZE_MAX;
	int			best_status = 0;
	const char *best_reason = NULL;
	size_t		scan = n < 16 ? n : 16;
	const char *sp = memchr(line, ' ', scan);

	/* The method: fully known at its SP, or too long at byte 16. */
	if (sp)
	{
		size_t		mlen = (size_t) (sp - line);
		bool		ok = mlen > 0;

		for (size_t i = 0; i < mlen && ok; i++)
			ok = http_is_method_char((unsigned char) line[i]);
		if (!ok)
		{
			best_pos = mlen + 1;
			best_status = 400;
			best_reason = "invalid request method";
		}
	}
	else if (n >= 16)
	{
		bool		ok = true;

		for (size_t i = 0; i < 16 && ok; i++)
			ok = http_is_method_char((unsigned char) line[i]);
		best_pos = 16;
		best_status = ok ? 501 : 400;
		best_reason = ok ? "request method is too long" : "invalid request method";
	}

	/* The target: too long as soon as it has max_url + 1 bytes. */
	if (sp && best_status == 0)
	{
		size_t		start = (size_t) (sp - line) + 1;
		size_t		tlen = 0;

		while (start + tlen < n && tlen <= p->limits.max_url)
		{
			char		c = line[start + tlen];

			if (c == ' ' || c == '\r' || c == '\n')
				break;
			tlen++;
		}
		if (tlen > p->limits.max_url)
		{
			best_pos = start + p->limits.max_url + 1;
			best_status = 414;
		}
	}

	/* The header section: too long at byte max_header_bytes + 1. */
	if (n > p->limits.max_header_bytes &&
		p->limits.max_header_bytes + 1 < best_pos)
	{
		best_pos = p->limits.max_header_bytes + 1;
		best_status = 431;
	}

	if (best_status == 414)
		http_error_url(p);
	else if (best_status == 431)
		http_error_header_bytes(p);
	else if (best_status != 0)
		http_set_error(p, best_status, best_reason);
	return best_status != 0;
}

/*
 * Parse a complete request line (without its terminator) that passed
 * http_request_line_early().  Returns false when an error was set.
 */
static bool
http_parse_request_line(HttpParser *p, const char *line, size_t len)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2;
	const char *target;
	const char *version;
	size_t		mlen,
				tlen,
				vlen,
				plen;
	const char *qmark;

	if (sp1 == NULL)
	{
		http_set_error(p, 400, "malformed request line");
		return false;
	}
	mlen = (size_t) (sp1 - line);
	/* Already checked early; repeated so this function stands alone. */
	if (mlen == 0 || mlen >= sizeof(p->req.method))
	{
		http_set_error(p, 400, "invalid request method");
		return false;
	}
	for (size_t i = 0; i < mlen; i++)
	{
		if (!http_is_method_char((unsigned char) line[i]))
		{
			http_set_error(p, 400, "invalid request method");
			return false;
		}
	}

	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - mlen - 1);
	if (sp2 == NULL)
	{
		http_set_error(p, 400, "malformed request line");
		return false;
	}
	tlen = (size_t) (sp2 - target);
	if (tlen > p->limits.max_url)
	{
		http_error_url(p);
		return false;
	}
	if (tlen == 0)
	{
		http_set_error(p, 400, "malformed request line");
		return false;
	}
	for (size_t i = 0; i < tlen; i++)
	{
		unsigned char c = (unsigned char) target[i];

		if (c <= 0x20 || c >= 0x7f)
		{
			http_set_error(p, 400, "invalid character in request-target");
			return false;
		}
	}

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT; another major is a 505. */
	version = sp2 + 1;
	vlen = len - (size_t) (version - line);
	if (vlen < 6 || memcmp(version, "HTTP/", 5) != 0 ||
		version[5] < '0' || version[5] > '9')
	{
		http_set_error(p, 400, "malformed HTTP version");
		return false;
	}
	if (version[5] != '1')
	{
		bool		wellformed = vlen == 6 ||
			(vlen == 8 && version[6] == '.' && version[7] >= '0' && version[7] <= '9');

		if (wellformed)
			http_set_error(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
		else
			http_set_error(p, 400, "malformed HTTP version");
		return false;
	}
	if (vlen != 8 || version[6] != '.' || version[7] < '0' || version[7] > '9')
	{
		http_set_error(p, 400, "malformed HTTP version");
		return false;
	}
	/* RFC 9110: a higher 1.x minor version is answered as 1.1. */
	p->req.version_minor = version[7] == '0' ? 0 : 1;

	/* origin-form, or asterisk-form for OPTIONS. */
	if (target[0] == '*' && tlen == 1)
	{
		if (!(mlen == 7 && memcmp(line, "OPTIONS", 7) == 0))
		{
			http_set_error(p, 400, "request-target \"*\" is only allowed with OPTIONS");
			return false;
		}
	}
	else if (target[0] != '/')
	{
		http_set_error(p, 400, "request-target must start with \"/\"");
		return false;
	}

	memcpy(p->req.method, line, mlen);
	p->req.method[mlen] = '\0';
	p->target_off = (size_t) (target - line);
	p->req.target_len = tlen;

	qmark = memchr(target, '?', tlen);
	plen = qmark ? (size_t) (qmark - target) : tlen;
	p->query_off = p->target_off + (qmark ? plen + 1 : tlen);
	p->req.query_len = qmark ? tlen - plen - 1 : 0;

	p->req.path = malloc(plen + 1);
	if (p->req.path == NULL)
	{
		http_set_oom(p);
		return false;
	}
	{
		long long	n = http_decode_into(target, plen, false, p->req.path);

		if (n < 0)
		{
			http_set_error(p, 400, "invalid percent-encoding in request path");
			return false;
		}
		p->req.path[n] = '\0';
	}
	return true;
}

/*
 * Validate a field line (header or trailer, without terminator) and find its
 * name and trimmed value.  Returns false when an error was set.
 */
static bool
http_parse_field_line(HttpParser *p, const char *line, size_t len,
					  size_t *name_len, size_t *value_start, size_t *value_len)
{
	const char *colon;
	size_t		nlen,
				vs,
				ve;

	if (line[0] == ' ' || line[0] == '\t')
	{
		http_set_error(p, 400, "obsolete header line folding is not allowed");
		return false;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL)
	{
		http_set_error(p, 400, "header line without a colon");
		return false;
	}
	nlen = (size_t) (colon - line);
	if (nlen == 0)
	{
		http_set_error(p, 400, "empty header field name");
		return false;
	}
	if (!http_field_name_valid(line, nlen))
	{
		http_set_error(p, 400, "invalid character in header field name");
		return false;
	}
	vs = nlen + 1;
	ve = len;
	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	/* trimmed, so only its characters can make it invalid */
	if (!http_field_value_valid(line + vs, ve - vs))
	{
		http_set_error(p, 400, "invalid character in header field value");
		return false;
	}
	*name_len = nlen;
	*value_start = vs;
	*value_len = ve - vs;
	return true;
}

/*
 * Parse a Content-Length value.  Returns -1 when it is not a plain
 * non-negative decimal number that fits a long long.
 */
static long long
http_parse_content_length(const char *v, size_t len)
{
	long long	n = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		int			d;

		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = v[i] - '0';
		if (n > (LLONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	return n;
}

/*
 * Interpret Transfer-Encoding and Content-Length once all headers are in.
 * Returns false when an error was set.
 */
static bool
http_check_framing(HttpParser *p)
{
	HttpRequest *r = &p->req;
	bool		have_te = false;
	int			nchunked = 0;
	bool		other = false;

	for (int i = 0; i < r->nheaders; i++)
	{
		const HttpHeader *h = &r->headers[i];

		if (h->name_len == 17 && http_equal_ci(h->name, "Transfer-Encoding", 17))
		{
			const char *s = h->value;
			const char *end = h->value + h->value_len;

			have_te = true;
			/* Split the coding list; parameters make a coding unknown. */
			while (s < end)
			{
				const char *comma = memchr(s, ',', (size_t) (end - s));
				const char *e = comma ? comma : end;
				const char *b = s;

				while (b < e && (*b == ' ' || *b == '\t'))
					b++;
				while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
					e--;
				/* Only chunked is supported; it must appear exactly once. */
				if (e - b == 7 && http_equal_ci(b, "chunked", 7))
					nchunked++;
				else if (e > b)
					other = true;
				s = comma ? comma + 1 : end;
			}
		}
	}
	if (have_te)
	{
		for (int i = 0; i < r->nheaders; i++)
		{
			if (r->headers[i].name_len == 14 &&
				http_equal_ci(r->headers[i].name, "Content-Length", 14))
			{
				http_set_error(p, 400, "both Content-Length and Transfer-Encoding are present");
				return false;
			}
		}
		if (other)
		{
			http_set_error(p, 501, "unsupported transfer coding");
			return false;
		}
		if (nchunked != 1)
		{
			http_set_error(p, 400, "invalid Transfer-Encoding");
			return false;
		}
		r->chunked = true;
		return true;
	}

	for (int i = 0; i < r->nheaders; i++)
	{
		const HttpHeader *h = &r->headers[i];
		long long	n;

		if (h->name_len != 14 || !http_equal_ci(h->name, "Content-Length", 14))
			continue;
		n = http_parse_content_length(h->value, h->value_len);
		if (n < 0)
		{
			http_set_error(p, 400, "invalid Content-Length");
			return false;
		}
		if (r->content_length >= 0 && r->content_length != n)
		{
			http_set_error(p, 400, "conflicting Content-Length headers");
			return false;
		}
		r->content_length = n;
	}
	if (r->content_length >= 0 &&
		(unsigned long long) r->content_length > (unsigned long long) p->limits.max_body)
	{
		http_error_body(p);
		return false;
	}
	return true;
}

/*
 * RFC 9112 3.2: an HTTP/1.1 request has exactly one Host header, and a
 * present one must be valid; an HTTP/1.0 request may have none.  Records
 * the parsed Host.  Returns false when an error was set.
 */
static bool
http_check_host(HttpParser *p)
{
	HttpRequest *r = &p->req;
	const HttpHeader *host = NULL;

	for (int i = 0; i < r->nheaders; i++)
	{
		const HttpHeader *h = &r->headers[i];

		if (h->name_len == 4 && http_equal_ci(h->name, "Host", 4))
		{
			if (host != NULL)
			{
				http_set_error(p, 400, "more than one Host header");
				return false;
			}
			host = h;
		}
	}
	if (host == NULL)
	{
		if (r->version_minor == 0)
			return true;
		http_set_error(p, 400, "missing Host header");
		return false;
	}
	if (!http_parse_authority(host->value, host->value_len, &r->host))
	{
		http_set_error(p, 400, "invalid Host header");
		return false;
	}
	return true;
}

/*
 * The request is complete: terminate the body and report DONE.
 */
static void
http_finish_request(HttpParser *p)
{
	if (!http_body_reserve(p, 0, SIZE_MAX))
	{
		http_set_oom(p);
		return;
	}
	p->req.body[p->req.body_len] = '\0';
	p->phase = PHASE_DONE;
	p->state = HTTP_PARSE_DONE;
}

/*
 * The empty line ending the header section arrived; total is the size of
 * the section in the buffer.  Move it into p->head, point the request at it
 * and decide how the body is framed.
 */
static void
http_finish_head(HttpParser *p, size_t total)
{
	HttpRequest *r = &p->req;
	int			n = r->nheaders;

	p->head = malloc(total);
	if (p->head == NULL)
	{
		http_set_oom(p);
		return;
	}
	memcpy(p->head, p->buf + p->rpos, total);
	p->rpos += total;
	p->head_bytes = total;
	p->line_off = 0;
	p->scan_off = 0;

	r->target = p->head + p->target_off;
	r->query = p->head + p->query_off;
	if (n > 0)
	{
		r->headers = malloc(sizeof(HttpHeader) * (size_t) n);
		if (r->headers == NULL)
		{
			http_set_oom(p);
			return;
		}
		for (int i = 0; i < n; i++)
		{
			r->headers[i].name = p->head + p->hdr_off[i].name_off;
			r->headers[i].name_len = p->hdr_off[i].name_len;
			r->headers[i].value = p->head + p->hdr_off[i].value_off;
			r->headers[i].value_len = p->hdr_off[i].value_len;
		}
	}

	if (!http_check_framing(p) || !http_check_host(p))
		return;

	if (r->version_minor == 0)
		r->keep_alive = http_request_has_token(r, "Connection", "keep-alive") &&
			!http_request_has_token(r, "Connection", "close");
	else
		r->keep_alive = !http_request_has_token(r, "Connection", "close");
	/* RFC 9112 6.1: chunked framing from an HTTP/1.0 client is suspect. */
	if (r->version_minor == 0 && r->chunked)
		r->keep_alive = false;
	r->upgrade_websocket = http_request_has_token(r, "Upgrade", "websocket") &&
		http_request_has_token(r, "Connection", "upgrade");
	p->headers_done = true;

	if (r->chunked)
		p->phase = PHASE_CHUNK_SIZE;
	else if (r->content_length > 0)
	{
		p->remaining = (size_t) r->content_length;
		p->phase = PHASE_BODY;
	}
	else
		http_finish_request(p);
}

/*
 * Record a header field found in the header section.
 */
static bool
http_add_header(HttpParser *p, size_t name_off, size_t name_len,
				size_t value_off, size_t value_len)
{
	HttpRequest *r = &p->req;

	if (r->nheaders >= p->hdr_cap)
	{
		int			newcap = p->hdr_cap < 16 ? 16 : p->hdr_cap * 2;
		HttpHeaderOffsets *na;

		if (newcap > p->limits.max_headers)
			newcap = p->limits.max_headers;
		na = realloc(p->hdr_off, sizeof(HttpHeaderOffsets) * (size_t) newcap);
		if (na == NULL)
		{
			http_set_oom(p);
			return false;
		}
		p->hdr_off = na;
		p->hdr_cap = newcap;
	}
	p->hdr_off[r->nheaders].name_off = name_off;
	p->hdr_off[r->nheaders].name_len = name_len;
	p->hdr_off[r->nheaders].value_off = value_off;
	p->hdr_off[r->nheaders].value_len = value_len;
	r->nheaders++;
	return true;
}

/*
 * Find the end of the line starting at line_off (relative to rpos),
 * resuming the search where the last call stopped.  Returns the line length
 * including its LF, or 0 when the LF has not arrived yet.
 */
static size_t
http_find_line(HttpParser *p)
{
	size_t		avail = p->wpos - p->rpos;
	const char *d = p->buf + p->rpos;
	const char *lf;

	if (p->scan_off < p->line_off)
		p->scan_off = p->line_off;
	if (p->scan_off >= avail)
		return 0;
	lf = memchr(d + p->scan_off, '\n', avail - p->scan_off);
	if (lf == NULL)
	{
		p->scan_off = avail;
		return 0;
	}
	return (size_t) (lf - (d + p->line_off)) + 1;
}

/* A line ended with LF alone. */
static void
http_error_bare_lf(HttpParser *p)
{
	http_set_error(p, 400, "line ends with a bare LF; HTTP requires CRLF");
}

/*
 * Find the content length of a complete line of n bytes (LF included):
 * without its CRLF.  A bare LF is an error; returns false once it is set.
 */
static bool
http_line_content(HttpParser *p, const char *line, size_t n, size_t *clen)
{
	if (n < 2 || line[n - 2] != '\r')
	{
		http_error_bare_lf(p);
		return false;
	}
	*clen = n - 2;
	return true;
}

/*
 * Parse a chunk-size line (without terminator).  Returns false when an error
 * was set.
 */
static bool
http_parse_chunk_size(HttpParser *p, const char *line, size_t len)
{
	size_t		i = 0;
	size_t		size = 0;
	bool		too_big = false;
	size_t		room = p->limits.max_body - p->req.body_len;

	while (i < len && http_hex_value((unsigned char) line[i]) >= 0)
	{
		/* Saturate: anything beyond the room left is a 413 anyway. */
		if (!too_big)
		{
			size = size * 16 + (size_t) http_hex_value((unsigned char) line[i]);
			if (size > room)
				too_big = true;
		}
		i++;
	}
	if (i == 0)
	{
		http_set_error(p, 400, "invalid chunk size");
		return false;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
	{
		http_set_error(p, 400, "invalid chunk size");
		return false;
	}
	/* Chunk extensions are ignored, but must not hide control bytes. */
	for (; i < len; i++)
	{
		if (!http_is_value_char((unsigned char) line[i]))
		{
			http_set_error(p, 400, "invalid chunk extension");
			return false;
		}
	}
	if (too_big)
	{
		http_error_body(p);
		return false;
	}
	p->remaining = size;
	return true;
}

/*
 * Copy up to p->remaining buffered body bytes into req.body.
 */
static bool
http_take_body(HttpParser *p, size_t limit)
{
	size_t		avail = p->wpos - p->rpos;
	size_t		take = avail < p->remaining ? avail : p->remaining;

	if (take == 0)
		return true;
	if (!http_body_reserve(p, take, limit))
	{
		http_set_oom(p);
		return false;
	}
	memcpy(p->req.body + p->req.body_len, p->buf + p->rpos, take);
	p->req.body_len += take;
	p->rpos += take;
	p->remaining -= take;
	return true;
}

/*
 * Parse buffered bytes until the request is complete, failed, or more input
 * is needed.
 */
static void
http_parse(HttpParser *p)
{
	while (p->state == HTTP_PARSE_INCOMPLETE && p->buf != NULL)
	{
		size_t		avail = p->wpos - p->rpos;
		const char *d = p->buf + p->rpos;
		size_t		n;
		size_t		clen;

		switch (p->phase)
		{
			case PHASE_START:
				/* RFC 9112 2.2: ignore empty lines (CRLF) before a request. */
				while (avail >= 2 && d[0] == '\r' && d[1] == '\n')
				{
					d += 2;
					avail -= 2;
					p->rpos += 2;
				}
				if (avail == 0 || (avail == 1 && d[0] == '\r'))
					return;
				if (d[0] == '\n')
				{
					http_error_bare_lf(p);
					return;
				}
				p->phase = PHASE_REQUEST_LINE;
				p->line_off = 0;
				p->scan_off = 0;
				break;

			case PHASE_REQUEST_LINE:
				n = http_find_line(p);
				if (n == 0)
				{
					http_request_line_early(p, d, avail);
					return;
				}
				if (http_request_line_early(p, d, n))
					return;
				if (!http_line_content(p, d, n, &clen) ||
					!http_parse_request_line(p, d, clen))
					return;
				p->line_off = n;
				p->phase = PHASE_HEADERS;
				break;

			case PHASE_HEADERS:
				{
					const char *line = d + p->line_off;
					size_t		nlen,
								vs,
								vlen;

					n = http_find_line(p);
					if (n == 0)
					{
						if (avail > p->limits.max_header_bytes)
							http_error_header_bytes(p);
						return;
					}
					if (p->line_off + n > p->limits.max_header_bytes)
					{
						http_error_header_bytes(p);
						return;
					}
					if (!http_line_content(p, line, n, &clen))
						return;
					if (clen == 0)
					{
						http_finish_head(p, p->line_off + n);
						break;
					}
					if (p->req.nheaders >= p->limits.max_headers)
					{
						snprintf(p->reason_buf, sizeof(p->reason_buf),
								 "more than %d request header fields",
								 p->limits.max_headers);
						http_set_error(p, 431, p->reason_buf);
						return;
					}
					if (!http_parse_field_line(p, line, clen, &nlen, &vs, &vlen))
						return;
					if (!http_add_header(p, p->line_off, nlen, p->line_off + vs, vlen))
						return;
					p->line_off += n;
				}
				break;

			case PHASE_BODY:
				if (!http_take_body(p, (size_t) p->req.content_length + 1))
					return;
				if (p->remaining > 0)
					return;
				http_finish_request(p);
				break;

			case PHASE_CHUNK_SIZE:
				n = http_find_line(p);
				if (n == 0)
				{
					if (avail > HTTP_MAX_CHUNK_LINE)
						http_set_error(p, 400, "chunk size line is too long");
					return;
				}
				if (n > HTTP_MAX_CHUNK_LINE)
				{
					http_set_error(p, 400, "chunk size line is too long");
					return;
				}
				if (!http_line_content(p, d, n, &clen) ||
					!http_parse_chunk_size(p, d, clen))
					return;
				p->rpos += n;
				p->line_off = 0;
				p->scan_off = 0;
				p->phase = p->remaining > 0 ? PHASE_CHUNK_DATA : PHASE_TRAILERS;
				break;

			case PHASE_CHUNK_DATA:
				if (!http_take_body(p, p->limits.max_body + 1))
					return;
				if (p->remaining > 0)
					return;
				p->phase = PHASE_CHUNK_CRLF;
				break;

			case PHASE_CHUNK_CRLF:
				if (avail == 0)
					return;
				if (d[0] == '\n')
				{
					http_error_bare_lf(p);
					return;
				}
				else if (d[0] == '\r')
				{
					if (avail < 2)
						return;
					if (d[1] != '\n')
					{
						http_set_error(p, 400, "missing line break after chunk data");
						return;
					}
					p->rpos += 2;
				}
				else
				{
					http_set_error(p, 400, "missing line break after chunk data");
					return;
				}
				p->phase = PHASE_CHUNK_SIZE;
				p->line_off = 0;
				p->scan_off = 0;
				break;

			case PHASE_TRAILERS:
				{
					size_t		nlen,
								vs,
								vlen;

					/* Trailers count toward the header section limit. */
					n = http_find_line(p);
					if (n == 0)
					{
						if (avail > p->limits.max_header_bytes - p->head_bytes)
							http_error_header_bytes(p);
						return;
					}
					if (n > p->limits.max_header_bytes - p->head_bytes)
					{
						http_error_header_bytes(p);
						return;
					}
					p->head_bytes += n;
					if (!http_line_content(p, d, n, &clen))
						return;
					if (clen > 0 &&
						!http_parse_field_line(p, d, clen, &nlen, &vs, &vlen))
						return;
					p->rpos += n;
					p->line_off = 0;
					p->scan_off = 0;
					if (clen == 0)
						http_finish_request(p);
				}
				break;

			default:
				return;
		}
	}
}

/*
 * Case-insensitive header lookup.
 */
const char *
http_request_header(const HttpRequest *r, const char *name, size_t *len)
{
	size_t		nlen = strlen(name);

	for (int i = 0; i < r->nheaders; i++)
	{
		const HttpHeader *h = &r->headers[i];

		if (h->name_len == nlen && http_equal_ci(h->name, name, nlen))
		{
			if (len)
				*len = h->value_len;
			return h->value;
		}
	}
	if (len)
		*len = 0;
	return NULL;
}

/*
 * Is a qvalue ("0", "0.0", "0.000", ...) zero?
 */
static bool
http_qvalue_is_zero(const char *s, size_t len)
{
	if (len == 0 || s[0] != '0')
		return false;
	if (len == 1)
		return true;
	if (s[1] != '.')
		return false;
	for (size_t i = 2; i < len; i++)
	{
		if (s[i] != '0')
			return false;
	}
	return true;
}

/*
 * Does a comma-separated header value list the token (not with q=0)?
 */
bool
http_header_has_token(const char *value, size_t len, const char *token)
{
	size_t		tlen = strlen(token);
	const char *s;
	const char *end;

	if (value == NULL)
		return false;
	s = value;
	end = value + len;
	while (s < end)
	{
		const char *comma = memchr(s, ',', (size_t) (end - s));
		const char *e = comma ? comma : end;
		const char *semi = memchr(s, ';', (size_t) (e - s));
		const char *b = s;
		const char *te = semi ? semi : e;

		while (b < te && (*b == ' ' || *b == '\t'))
			b++;
		while (te > b && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t) (te - b) == tlen && http_equal_ci(b, token, tlen))
		{
			bool		refused = false;

			/* Look for a q parameter of zero among the parameters. */
			while (semi)
			{
				const char *ps = semi + 1;
				const char *pe;
				const char *eq;

				semi = memchr(ps, ';', (size_t) (e - ps));
				pe = semi ? semi : e;
				while (ps < pe && (*ps == ' ' || *ps == '\t'))
					ps++;
				while (pe > ps && (pe[-1] == ' ' || pe[-1] == '\t'))
					pe--;
				eq = memchr(ps, '=', (size_t) (pe - ps));
				if (eq)
				{
					const char *ne = eq;
					const char *vs = eq + 1;

					while (ne > ps && (ne[-1] == ' ' || ne[-1] == '\t'))
						ne--;
					while (vs < pe && (*vs == ' ' || *vs == '\t'))
						vs++;
					if (ne - ps == 1 && (*ps == 'q' || *ps == 'Q') &&
						http_qvalue_is_zero(vs, (size_t) (pe - vs)))
						refused = true;
				}
			}
			if (!refused)
				return true;
		}
		s = comma ? comma + 1 : end;
	}
	return false;
}

/*
 * http_header_has_token() over every header field of that name.
 */
bool
http_request_has_token(const HttpRequest *r, const char *name, const char *token)
{
	size_t		nlen = strlen(name);

	for (int i = 0; i < r->nheaders; i++)
	{
		const HttpHeader *h = &r->headers[i];

		if (h->name_len == nlen && http_equal_ci(h->name, name, nlen) &&
			http_header_has_token(h->value, h->value_len, token))
			return true;
	}
	return false;
}

/*
 * Decode the next key=value pair of a query string.
 */
bool
http_query_next(const char **cursor, const char *end, char **key, char **value,
				bool *error)
{
	const char *s = *cursor;
	const char *e;
	const char *eq;

	*key = NULL;
	*value = NULL;
	*error = false;
	if (s == NULL)
		return false;
	while (s < end && *s == '&')
		s++;
	if (s >= end)
	{
		*cursor = end;
		return false;
	}
	e = memchr(s, '&', (size_t) (end - s));
	if (e == NULL)
		e = end;
	eq = memchr(s, '=', (size_t) (e - s));
	*cursor = e;
	*key = http_percent_decode(s, (size_t) ((eq ? eq : e) - s), true);
	*value = eq ? http_percent_decode(eq + 1, (size_t) (e - eq - 1), true)
		: http_percent_decode("", 0, true);
	if (*key == NULL || *value == NULL)
	{
		free(*key);
		free(*value);
		*key = NULL;
		*value = NULL;
		*error = true;
		return false;
	}
	return true;
}

/* Is c allowed in a label of a host name? */
static inline bool
http_is_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Is s a host name: dot-separated labels of 1 to 63 label characters, 253
 * bytes at most, one trailing dot allowed?
 */
static bool
http_valid_host_name(const char *s, size_t len)
{
	size_t		label = 0;

	if (len == 0 || len > 254 || (len == 254 && s[253] != '.'))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (label == 0)
				return false;
			label = 0;
		}
		else if (!http_is_label_char((unsigned char) s[i]) || ++label > 63)
			return false;
	}
	return true;
}

/* Is s[0..len) an address of the family, as inet_pton reads it? */
static bool
http_is_address(int family, const char *s, size_t len)
{
	char		text[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(family, text, addr) == 1;
}

/*
 * Parse "host[:port]" strictly.
 */
bool
http_parse_authority(const char *s, size_t len, HttpAuthority *out)
{
	size_t		hlen;

	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (s == NULL || len == 0)
		return false;
	if (s[0] == '[')
	{
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return false;
		hlen = (size_t) (close - s) + 1;
		if (!http_is_address(AF_INET6, s + 1, hlen - 2))
			return false;
		out->is_ip = true;
	}
	else
	{
		const char *colon = memchr(s, ':', len);

		hlen = colon ? (size_t) (colon - s) : len;
		if (!http_valid_host_name(s, hlen))
			return false;
		out->is_ip = http_is_address(AF_INET, s, hlen);
	}
	if (hlen < len)
	{
		size_t		plen = len - hlen - 1;
		long		port = 0;

		if (s[hlen] != ':' || plen == 0 || plen > 5)
			return false;
		for (size_t i = hlen + 1; i < len; i++)
		{
			if (s[i] < '0' || s[i] > '9')
				return false;
			port = port * 10 + (s[i] - '0');
		}
		if (port > 65535)
			return false;
		out->port = (int) port;
	}
	out->host = s;
	out->host_len = hlen;
	return true;
}

/*
 * Parse a serialized Origin.
 */
bool
http_parse_origin(const char *s, size_t len, bool *https, HttpAuthority *out)
{
	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (s != NULL && len > 7 && http_equal_ci(s, "http://", 7))
	{
		*https = false;
		return http_parse_authority(s + 7, len - 7, out);
	}
	if (s != NULL && len > 8 && http_equal_ci(s, "https://", 8))
	{
		*https = true;
		return http_parse_authority(s + 8, len - 8, out);
	}
	return false;
}

/*
 * Do two authorities name the same host and port?
 */
bool
http_same_authority(const HttpAuthority *a, const HttpAuthority *b, int default_port)
{
	int			pa = a->port >= 0 ? a->port : default_port;
	int			pb = b->port >= 0 ? b->port : default_port;

	return a->host != NULL && b->host != NULL && pa == pb &&
		a->host_len == b->host_len && http_equal_ci(a->host, b->host, a->host_len);
}

/*
 * Does a host name match an allowed-host pattern?
 */
bool
http_host_matches(const char *host, size_t len, const char *pattern)
{
	size_t		plen = strlen(pattern);
	bool		domain = plen > 0 && pattern[0] == '.';

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (plen > 0 && pattern[plen - 1] == '.')
		plen--;
	if (domain)
	{
		/* ".example.com": the domain itself, or a name ending in it */
		if (len == plen - 1 && http_equal_ci(host, pattern + 1, len))
			return true;
		return len > plen && http_equal_ci(host + len - plen, pattern, plen);
	}
	return len == plen && len > 0 && http_equal_ci(host, pattern, len);
}
