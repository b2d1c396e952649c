/*
 * http_parser.h
 *		Incremental HTTP/1.1 request parser used by the pg_dash workers.
 *
 * The parser is independent of PostgreSQL (plain C, libc only) so that it can
 * be unit-tested and fuzzed on its own.  Bytes are appended with
 * http_parser_feed() as they arrive, in pieces of any size; the parser keeps
 * what it has not consumed yet, enforces the configured limits as early as
 * possible and reports a finished request (or an HTTP error status) through
 * HttpParser.state.
 *
 * Ownership and lifetimes:
 *	- Everything an HttpRequest points to (target, query, headers, path,
 *	  body) is owned by the parser.  The caller must not free it.
 *	- Once state is HTTP_PARSE_DONE, the request and all of its pointers stay
 *	  valid, unchanged, until http_parser_next() or http_parser_free(), even
 *	  if more bytes are fed in the meantime (they are only buffered).
 *	- Strings returned by http_query_next() and http_percent_decode() are
 *	  malloc'd and belong to the caller, who must free() them.
 *	- Allocation failure never crashes: the parser reports status 500, the
 *	  helper functions return NULL / false with *error set.
 */
#ifndef PGDASH_HTTP_PARSER_H
#define PGDASH_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>

/* Defaults used by http_parser_init() when no limits are given. */
#define HTTP_DEFAULT_MAX_URL			8192
#define HTTP_DEFAULT_MAX_HEADER_BYTES	16384
#define HTTP_DEFAULT_MAX_HEADERS		100
#define HTTP_DEFAULT_MAX_BODY			(1024 * 1024)

/* A chunk-size line (size plus extensions) longer than this is a 400. */
#define HTTP_MAX_CHUNK_LINE				4096

typedef struct HttpLimits
{
	size_t		max_url;		/* request-target bytes; over -> 414 */
	size_t		max_header_bytes;	/* request line + all header lines
									 * (terminators and the final empty line
									 * included), plus trailers; over -> 431 */
	int			max_headers;	/* number of header fields; over -> 431 */
	size_t		max_body;		/* decoded body bytes; over -> 413 */
} HttpLimits;

/*
 * A host and optional port, as in a Host header ("example.com:8080",
 * "[::1]") or the authority of an Origin.  host points into the parsed text
 * and is not NUL-terminated; an IPv6 address keeps its brackets.
 */
typedef struct HttpAuthority
{
	const char *host;			/* NULL when there is none */
	size_t		host_len;
	int			port;			/* -1 when absent */
	bool		is_ip;			/* an IPv4 address or a bracketed IPv6 one */
} HttpAuthority;

typedef struct HttpHeader
{
	const char *name;			/* as sent, not NUL-terminated */
	size_t		name_len;
	const char *value;			/* surrounding whitespace removed, not
								 * NUL-terminated */
	size_t		value_len;
} HttpHeader;

typedef enum
{
	HTTP_PARSE_INCOMPLETE,
	HTTP_PARSE_DONE,
	HTTP_PARSE_ERROR
} HttpParseState;

typedef struct HttpRequest
{
	char		method[16];		/* "GET", "POST", ... NUL-terminated */
	const char *target;			/* raw request-target as sent */
	size_t		target_len;
	char	   *path;			/* percent-decoded path without the query,
								 * NUL-terminated; "*" for OPTIONS * */
	const char *query;			/* raw query string without '?', may be
								 * empty (never NULL once parsed) */
	size_t		query_len;
	int			version_minor;	/* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	HttpHeader *headers;		/* in the order received; NULL when none */
	int			nheaders;
	long long	content_length; /* -1 when absent */
	bool		chunked;		/* Transfer-Encoding: chunked */
	bool		keep_alive;		/* from version and Connection header */
	bool		upgrade_websocket;	/* Upgrade: websocket and Connection:
									 * upgrade */
	HttpAuthority host;			/* the Host header; host.host is NULL only
								 * for an HTTP/1.0 request without one */
	char	   *body;			/* decoded body, NUL-terminated, never NULL
								 * once DONE */
	size_t		body_len;
} HttpRequest;

typedef struct HttpParser
{
	/* public results */
	HttpParseState state;
	HttpRequest req;			/* valid when state == HTTP_PARSE_DONE */
	bool		headers_done;	/* request line and headers of req are valid
								 * (body may still be arriving), e.g. to
								 * answer "Expect: 100-continue" */
	int			error_status;	/* 400, 413, 414, 431, 500 (out of memory),
								 * 501 or 505 when state == HTTP_PARSE_ERROR */
	const char *error_reason;	/* English sentence; static or pointing into
								 * reason_buf */

	/* private */
	HttpLimits	limits;
	char	   *buf;			/* received bytes not consumed yet live in
								 * buf[rpos, wpos) */
	size_t		cap;
	size_t		rpos;
	size_t		wpos;
	int			phase;			/* where in the request we are */
	size_t		line_off;		/* start of the current line, from rpos */
	size_t		scan_off;		/* where to resume searching for LF, from
								 * rpos */
	size_t		head_bytes;		/* header section (and trailer) bytes */
	size_t		target_off;		/* offsets into the header section */
	size_t		query_off;
	struct HttpHeaderOffsets *hdr_off;	/* header positions while the header
										 * section is still in buf */
	int			hdr_cap;
	char	   *head;			/* private copy of the header section that
								 * req's pointers refer to */
	size_t		body_cap;
	size_t		remaining;		/* body or chunk bytes still expected */
	char		reason_buf[96];
} HttpParser;

/* Prepare a parser; limits may be NULL for the defaults above. */
extern void http_parser_init(HttpParser *p, const HttpLimits *limits);

/* Release everything the parser owns; it may be initialized again. */
extern void http_parser_free(HttpParser *p);

/*
 * Append received bytes and parse as far as possible.  Returns the new
 * state.  Bytes beyond the end of the current request (pipelining) are kept
 * for the next request.  While DONE, fed bytes are only buffered; while
 * ERROR, they are discarded.
 */
extern HttpParseState http_parser_feed(HttpParser *p, const char *data, size_t len);

/*
 * After a DONE request has been handled: drop it and start parsing the next
 * one from any leftover bytes already buffered (may immediately return DONE
 * again).  In any other state this changes nothing and returns the state.
 */
extern HttpParseState http_parser_next(HttpParser *p);

/* Number of received bytes buffered but not yet consumed by a request. */
extern size_t http_parser_buffered(const HttpParser *p);

/*
 * Case-insensitive header lookup; returns the first value (not
 * NUL-terminated) and its length, or NULL.  len may be NULL.
 */
extern const char *http_request_header(const HttpRequest *r, const char *name, size_t *len);

/*
 * True when a comma-separated header value contains the token
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade; Accept-Encoding:
 * gzip;q=0.5 ("gzip;q=0" means NOT accepted).
 */
extern bool http_header_has_token(const char *value, size_t len, const char *token);

/* http_header_has_token() over every header field called name. */
extern bool http_request_has_token(const HttpRequest *r, const char *name, const char *token);

/* True when name (len bytes) is an RFC 9110 field name: one or more token characters. */
extern bool http_field_name_valid(const char *name, size_t len);

/*
 * True when value (len bytes) is an RFC 9110 field value as a sender must
 * write it: visible characters and obs-text, with spaces or tabs only
 * between them; never CR, LF, NUL or another control character.
 */
extern bool http_field_value_valid(const char *value, size_t len);

/*
 * Iterate a query string: decodes one key=value pair per call
 * (percent-decoding and '+' as space), writes malloc'd NUL-terminated
 * key/value (value "" when there is no '='); empty pairs are skipped.
 * Returns false at the end; on a bad escape, an embedded NUL or out of
 * memory it returns false with *error set and *key, *value NULL.
 */
extern bool http_query_next(const char **cursor, const char *end,
							char **key, char **value, bool *error);

/*
 * Percent-decode into a malloc'd NUL-terminated string; NULL on a bad
 * escape, %00 or a raw NUL byte (or out of memory).
 */
extern char *http_percent_decode(const char *s, size_t len, bool plus_is_space);

/*
 * Parse "host[:port]" strictly: a DNS name (letters, digits, "-", "_",
 * dot-separated labels, one trailing dot allowed), an IPv4 address or a
 * bracketed IPv6 address, and an optional port of 1 to 5 digits up to
 * 65535.  Returns false for anything else (an empty string included).
 */
extern bool http_parse_authority(const char *s, size_t len, HttpAuthority *out);

/*
 * Parse a serialized Origin ("http://host[:port]" or "https://...", as
 * browsers send it: no path, no user info).  Returns false for anything
 * else, "null" included; *https tells the scheme.
 */
extern bool http_parse_origin(const char *s, size_t len, bool *https, HttpAuthority *out);

/*
 * True when two authorities name the same host (ASCII case-insensitive) and
 * port, an absent port counting as default_port.
 */
extern bool http_same_authority(const HttpAuthority *a, const HttpAuthority *b,
								int default_port);

/*
 * True when a host name matches a pattern: the same name (ASCII
 * case-insensitive; one trailing dot ignored on either), or, for a pattern
 * starting with ".", that domain or any name under it (".example.com"
 * matches "example.com" and "a.example.com").
 */
extern bool http_host_matches(const char *host, size_t len, const char *pattern);

#endif							/* PGDASH_HTTP_PARSER_H */
