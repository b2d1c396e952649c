/*
 * http_response.c
 *		Builds HTTP/1.1 responses: status line, the headers every response
 *		carries, and the JSON error format shared by every endpoint.
 *
 * Errors look like {"error":{"status":404,"code":"not_found","message":...,
 * "detail":...,"hint":...}}; "code" is the SQLSTATE when the error came from
 * the database, otherwise a short name for the HTTP status.
 */
#include "postgres.h"

#include <time.h>

#include "utils/guc.h"
#include "utils/json.h"

#include "csp.h"
#include "http_response.h"
#include "product.h"
#include "transport.h"

/*
 * The Content-Security-Policy of every response: script-src, the other
 * directives, then the frame-ancestors sources of pg_dash.frame_ancestors.
 * docs/api.md explains each directive and each exception the front end
 * needs.
 */
#define HTTP_CSP_SCRIPT "default-src 'self'; script-src 'self'"
#define HTTP_CSP_REST \
	"; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "

/* pg_dash.frame_ancestors: who may show pg_dash's pages in a frame. */
char	   *http_frame_ancestors = NULL;

/* Whether the responses being built allow 'unsafe-eval' (http_csp_allow_eval). */
static bool http_csp_eval = false;

/*
 * Adds 'unsafe-eval' to script-src in the responses built until it is called
 * again with false: only for the document of a page whose 3-D charts need it
 * (page_api.c).
 */
void
http_csp_allow_eval(bool allow)
{
	http_csp_eval = allow;
}

/* check_hook of pg_dash.frame_ancestors: a CSP source list that cannot break out of its directive. */
static bool
http_check_frame_ancestors(char **newval, void **extra, GucSource source)
{
	const char *reason;

	if (csp_ancestors_valid(*newval, &reason))
		return true;
	GUC_check_errdetail("%s", reason);
	GUC_check_errhint("Write 'none', or sources separated by spaces, e.g. 'self' https://portal.example.com.");
	return false;
}

/* Defines the settings of the response headers. */
void
http_response_define_gucs(void)
{
	DefineCustomStringVariable("pg_dash.frame_ancestors",
							   "Pages that may embed pg_dash in a frame: the CSP frame-ancestors sources.",
							   "'none' forbids every frame; e.g. 'self' https://portal.example.com allows those.",
							   &http_frame_ancestors,
							   "'none'",
							   PGC_SIGHUP, 0,
							   http_check_frame_ancestors, NULL, NULL);
}

/* The reason phrase of a status code. */
const char *
http_status_text(int status)
{
	switch (status)
	{
		case 101:
			return "Switching Protocols";
		case 200:
			return "OK";
		case 204:
			return "No Content";
		case 304:
			return "Not Modified";
		case 308:
			return "Permanent Redirect";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 406:
			return "Not Acceptable";
		case 408:
			return "Request Timeout";
		case 409:
			return "Conflict";
		case 411:
			return "Length Required";
		case 413:
			return "Content Too Large";
		case 414:
			return "URI Too Long";
		case 415:
			return "Unsupported Media Type";
		case 421:
			return "Misdirected Request";
		case 422:
			return "Unprocessable Content";
		case 426:
			return "Upgrade Required";
		case 429:
			return "Too Many Requests";
		case 431:
			return "Request Header Fields Too Large";
		case 500:
			return "Internal Server Error";
		case 501:
			return "Not Implemented";
		case 503:
			return "Service Unavailable";
		case 504:
			return "Gateway Timeout";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

/* The "code" of an error that did not come from the database. */
const char *
http_status_code_name(int status)
{
	switch (status)
	{
		case 400:
			return "bad_request";
		case 401:
			return "unauthorized";
		case 403:
			return "forbidden";
		case 404:
			return "not_found";
		case 405:
			return "method_not_allowed";
		case 408:
			return "request_timeout";
		case 413:
			return "body_too_large";
		case 414:
			return "uri_too_long";
		case 421:
			return "misdirected_request";
		case 429:
			return "too_many_requests";
		case 431:
			return "headers_too_large";
		case 501:
			return "not_implemented";
		case 503:
			return "unavailable";
		case 505:
			return "http_version_not_supported";
		default:
			return status < 500 ? "bad_request" : "internal_error";
	}
}

/* True when the request used the given method. */
bool
http_method_is(const HttpRequest *req, const char *method)
{
	return req != NULL && strcmp(req->method, method) == 0;
}

/* Formats the current time as an IMF-fixdate, cached for a second. */
static const char *
http_date_now(void)
{
	static char date[64];
	static time_t cached = 0;
	time_t		now = time(NULL);

	if (now != cached)
	{
		struct tm	tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached = now;
	}
	return date;
}

/*
 * Appends the head of a response: the status line, the headers common to
 * every response, Content-Type, headers, Connection, framing (the body's
 * Content-Length or Transfer-Encoding) and the blank line that ends it.
 * This is the one place that writes response headers, and the security
 * headers, so no response lacks them.  An interim (1xx) response has only
 * its status line and headers.  headers and framing may be NULL.
 */
void
http_append_head(StringInfo buf, const HttpRequest *req, int status, const char *content_type,
				 const HeaderList *headers, const HeaderList *framing)
{
	appendStringInfo(buf, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
	if (status >= 200)
	{
		appendStringInfo(buf, "Server: pg_dash/%s\r\nDate: %s\r\n"
						 "X-Content-Type-Options: nosniff\r\n"
						 "Referrer-Policy: same-origin\r\n"
						 "Content-Security-Policy: " HTTP_CSP_SCRIPT "%s" HTTP_CSP_REST "%s\r\n",
						 PG_DASH_VERSION, http_date_now(),
						 http_csp_eval ? " 'unsafe-eval'" : "",
						 http_frame_ancestors ? http_frame_ancestors : "'none'");
		/* over HTTPS only: browsers ignore it on plain HTTP anyway */
		if (transport_hsts_max_age() > 0)
			appendStringInfo(buf, "Strict-Transport-Security: max-age=%d\r\n",
							 transport_hsts_max_age());
		if (content_type)
			appendStringInfo(buf, "Content-Type: %s\r\n", content_type);
	}
	if (headers)
		appendBinaryStringInfo(buf, headers->text, headers->len);
	if (status >= 200)
	{
		if (req == NULL || !req->keep_alive)
			appendStringInfoString(buf, "Connection: close\r\n");
		else if (req->version_minor == 0)
			appendStringInfoString(buf, "Connection: keep-alive\r\n");
	}
	if (framing)
		appendBinaryStringInfo(buf, framing->text, framing->len);
	appendStringInfoString(buf, "\r\n");
}

/*
 * Queues a complete response with a Content-Length.  A NULL request (the
 * request could not be parsed) or one without keep-alive closes the
 * connection afterwards; HEAD gets the headers only.
 */
void
http_reply(Conn *conn, const HttpRequest *req, int status,
		   const char *content_type, const HeaderList *headers,
		   const char *body, size_t len)
{
	StringInfoData buf;
	HeaderList	framing;

	conn->last_status = status;
	header_list_init(&framing);
	if (status != 304 && status != 204)
		header_addf(&framing, "Content-Length", "%zu", len);
	initStringInfo(&buf);
	http_append_head(&buf, req, status, content_type, headers, &framing);
	conn_write(conn, buf.data, buf.len);
	pfree(buf.data);
	if (body != NULL && len > 0 && status != 304 && status != 204 &&
		!http_method_is(req, "HEAD"))
		conn_write(conn, body, len);
	if (req == NULL || !req->keep_alive)
		conn_close_when_flushed(conn);
}

/* Queues the interim 100 Continue that a client sending Expect: 100-continue waits for. */
void
http_reply_continue(Conn *conn, const HttpRequest *req)
{
	StringInfoData buf;

	initStringInfo(&buf);
	http_append_head(&buf, req, 100, NULL, NULL, NULL);
	conn_write(conn, buf.data, buf.len);
	pfree(buf.data);
}

/* Queues a JSON response. */
void
http_reply_json(Conn *conn, const HttpRequest *req, int status, const StringInfo json)
{
	HeaderList	headers;

	header_list_init(&headers);
	header_add(&headers, "Cache-Control", "no-store");
	http_reply(conn, req, status, "application/json; charset=utf-8", &headers,
			   json->data, json->len);
}

/* Appends "name":"value" to a JSON object when value is not NULL. */
static void
json_append_field(StringInfo buf, const char *name, const char *value)
{
	if (value == NULL)
		return;
	appendStringInfo(buf, ",\"%s\":", name);
	escape_json(buf, value);
}

/*
 * Queues an error response in pg_dash's JSON error format, with extra
 * headers (or NULL) such as Allow or Retry-After.
 */
void
http_reply_error_with(Conn *conn, const HttpRequest *req, int status,
					  const HeaderList *extra_headers, const char *code, const char *message,
					  const char *detail, const char *hint)
{
	StringInfoData buf;
	HeaderList	headers;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"error\":{\"status\":%d", status);
	json_append_field(&buf, "code", code);
	json_append_field(&buf, "message", message);
	json_append_field(&buf, "detail", detail);
	json_append_field(&buf, "hint", hint);
	appendStringInfoString(&buf, "}}");
	header_list_init(&headers);
	header_add(&headers, "Cache-Control", "no-store");
	if (extra_headers)
		header_append(&headers, extra_headers);
	http_reply(conn, req, status, "application/json; charset=utf-8", &headers,
			   buf.data, buf.len);
	pfree(buf.data);
}

/* Queues an error response in pg_dash's JSON error format. */
void
http_reply_error(Conn *conn, const HttpRequest *req, int status,
				 const char *code, const char *message,
				 const char *detail, const char *hint)
{
	http_reply_error_with(conn, req, status, NULL, code, message, detail, hint);
}

/* Writes a chunk in chunked transfer encoding (or raw for HTTP/1.0). */
void
http_write_chunk(Conn *conn, bool chunked, const char *data, size_t len)
{
	char		head[32];

	if (len == 0)
		return;
	if (chunked)
	{
		snprintf(head, sizeof(head), "%zx\r\n", len);
		conn_write(conn, head, strlen(head));
		conn_write(conn, data, len);
		conn_write(conn, "\r\n", 2);
	}
	else
		conn_write(conn, data, len);
}
