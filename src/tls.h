/*
 * tls.h
 *		HTTPS and WSS served by pg_dash itself: the settings, the listening
 *		ports, and the certificate of the TLS vhost (libwebsockets' OpenSSL).
 */
#ifndef PG_DASH_TLS_H
#define PG_DASH_TLS_H

/* pg_dash.ssl, pg_dash.ssl_port, pg_dash.redirect_port (restart) */
extern bool pg_dash_ssl;
extern int	pg_dash_ssl_port;
extern int	pg_dash_redirect_port;

/* pg_dash.hsts_max_age (reload) */
extern int	pg_dash_hsts_max_age;

extern void tls_define_gucs(void);

/* The port that serves HTTPS (pg_dash.ssl_port, or pg_dash.port); 0 when TLS is off. */
extern int	tls_https_port(void);

/* The port that only redirects to HTTPS (pg_dash.redirect_port); 0 for none. */
extern int	tls_redirect_port(void);

/* True when pg_dash.port itself serves plain HTTP. */
extern bool tls_plain_port_open(void);

/*
 * Sets up the OpenSSL context of the TLS vhost (lws hands it over while it
 * creates the vhost): TLS 1.2 or later, the certificate and key.  FATAL when
 * they cannot be loaded.
 */
extern void tls_setup_context(void *ssl_ctx);

/* Loads the certificate and key again (SIGHUP); the old ones stay when the new ones fail. */
extern void tls_reload(void);

#endif							/* PG_DASH_TLS_H */
