/*
 * transport.h
 *		How a request reached pg_dash: over TLS or not, directly or through
 *		a trusted proxy (X-Forwarded-*, the PROXY protocol), and whether the
 *		connection is secure enough for a password.
 */
#ifndef PG_DASH_TRANSPORT_H
#define PG_DASH_TRANSPORT_H

#include "http_parser.h"

struct sockaddr;

/*
 * How a connection reached pg_dash and what it may be believed about: set
 * at accept, refined per request (transport.c), and handed to an executor
 * with the request.
 */
typedef struct ConnTransport
{
	bool		tls;			/* TLS terminated by pg_dash itself */
	bool		redirect_only;	/* accepted on pg_dash.redirect_port */
	bool		from_proxy;		/* the socket's peer is a trusted proxy */
	bool		peer_loopback;	/* the socket's peer (or the client a PROXY
								 * header named) is on this machine */
	bool		proxy_header;	/* a PROXY protocol header is awaited */
	bool		client_loopback;	/* the client (the one a trusted proxy
									 * names) is on this machine */
	bool		https;			/* the current request reached pg_dash, or
								 * the trusted proxy, over TLS */
} ConnTransport;

/* pg_dash.base_path: "" or "/dash" */
extern char *pg_dash_base_path;

extern void transport_define_gucs(void);

/* Takes pg_dash.base_path off the front of the request's path, when it is there. */
extern void transport_strip_base_path(HttpRequest *req);
extern void transport_reload(void);

/* Records how an accepted connection came: its socket's peer, TLS, the redirect port. */
extern void transport_accept(ConnTransport *t, const struct sockaddr *addr, bool tls, bool redirect_only);

/*
 * The address of a sockaddr as family (AF_INET, AF_INET6) and bytes (4 or
 * 16); an IPv4 address mapped into IPv6 is IPv4.  False for other families.
 */
extern bool transport_sockaddr(const struct sockaddr *sa, int *family, uint8 *addr);

/* The client a PROXY header names is the connection's client from now on. */
extern void transport_proxy_client(ConnTransport *t, int family, const uint8 *addr);

/*
 * Per request, before the guard: what a trusted proxy says (X-Forwarded-
 * Proto, -For, -Host) is believed, and only then; the request's Host
 * becomes the forwarded one.  Makes the connection current (transport_enter).
 */
extern void transport_begin_request(ConnTransport *t, HttpRequest *req);

/* Makes the connection the one whose responses are being built (HSTS, Secure cookies). */
extern void transport_enter(const ConnTransport *t);

/* True when the response being built goes to a browser over HTTPS. */
extern bool transport_current_https(void);

/* The Strict-Transport-Security max-age of the current response; 0 for none. */
extern int	transport_hsts_max_age(void);

/*
 * True when the connection is secure enough to carry a password or a
 * token: it reached pg_dash (or a trusted proxy) over TLS, or its client
 * is on this machine.  The sign-in code asks this.
 */
extern bool transport_connection_is_secure(const ConnTransport *t);

#endif							/* PG_DASH_TRANSPORT_H */
