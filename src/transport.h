/*
 * transport.h
 *		How a request reached pg_dash: over TLS or not, directly or through
 *		a trusted proxy (X-Forwarded-*, the PROXY protocol), and whether the
 *		connection is secure enough for a password.
 */
#ifndef PG_DASH_TRANSPORT_H
#define PG_DASH_TRANSPORT_H

#include "conn.h"

/* pg_dash.base_path: "" or "/dash" */
extern char *pg_dash_base_path;

extern void transport_define_gucs(void);

/* Takes pg_dash.base_path off the front of the request's path, when it is there. */
extern void transport_strip_base_path(HttpRequest *req);
extern void transport_reload(void);

/* Records how an accepted connection came: its socket's peer, TLS, the redirect port. */
extern void transport_accept(Conn *conn, const struct sockaddr *addr, bool tls, bool redirect_only);

/*
 * Consumes the PROXY protocol header a trusted proxy sends first: *used is
 * set to the bytes of data that belonged to it.  Returns false when the
 * connection was answered and is closing (a malformed header); while the
 * header is incomplete every byte is used.
 */
extern bool transport_read_proxy_header(Conn *conn, const char *data, size_t len, size_t *used);

/*
 * Per request, before the guard: what a trusted proxy says (X-Forwarded-
 * Proto, -For, -Host) is believed, and only then; the request's Host
 * becomes the forwarded one.  Makes the connection current (transport_enter).
 */
extern void transport_begin_request(Conn *conn, HttpRequest *req);

/* Makes the connection the one whose responses are being built (HSTS, Secure cookies). */
extern void transport_enter(const Conn *conn);

/* True when the response being built goes to a browser over HTTPS. */
extern bool transport_current_https(void);

/* The Strict-Transport-Security max-age of the current response; 0 for none. */
extern int	transport_hsts_max_age(void);

/*
 * True when the connection is secure enough to carry a password or a
 * token: it reached pg_dash (or a trusted proxy) over TLS, or its client
 * is on this machine.  The sign-in code asks this.
 */
extern bool transport_connection_is_secure(const Conn *conn);

/* Answers a request on pg_dash.redirect_port: 308 to the same URL over HTTPS. */
extern void transport_redirect(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_TRANSPORT_H */
