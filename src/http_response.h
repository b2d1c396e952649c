/*
 * http_response.h
 *		Building HTTP responses onto a connection's output queue.  Every
 *		response header goes through a HeaderList (header_add), checked so
 *		that no value can break out of its header line.
 */
#ifndef PG_DASH_HTTP_RESPONSE_H
#define PG_DASH_HTTP_RESPONSE_H

#include "lib/stringinfo.h"

#include "conn.h"
#include "headers.h"

/* pg_dash.frame_ancestors */
extern char *http_frame_ancestors;

extern void http_response_define_gucs(void);
extern void http_csp_allow_eval(bool allow);
extern const char *http_status_text(int status);
extern const char *http_status_code_name(int status);
extern void http_append_head(StringInfo buf, const HttpRequest *req, int status,
							 const char *content_type, const HeaderList *headers,
							 const HeaderList *framing);
extern void http_reply(Conn *conn, const HttpRequest *req, int status,
					   const char *content_type, const HeaderList *headers,
					   const char *body, size_t len);
extern void http_reply_continue(Conn *conn, const HttpRequest *req);
extern void http_reply_json(Conn *conn, const HttpRequest *req, int status,
							const StringInfo json);
extern void http_reply_error(Conn *conn, const HttpRequest *req, int status,
							 const char *code, const char *message,
							 const char *detail, const char *hint);
extern void http_reply_error_with(Conn *conn, const HttpRequest *req, int status,
								  const HeaderList *extra_headers, const char *code,
								  const char *message, const char *detail,
								  const char *hint);
extern void http_write_chunk(Conn *conn, bool chunked, const char *data, size_t len);
extern bool http_method_is(const HttpRequest *req, const char *method);

#endif							/* PG_DASH_HTTP_RESPONSE_H */
