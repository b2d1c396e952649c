/*
 * tls.c
 *		HTTPS and WSS served by pg_dash itself.
 *
 * With pg_dash.ssl = on, the worker's libwebsockets context gets a second
 * vhost whose adopted sockets speak TLS (LWS_ADOPT_ALLOW_SSL): lws's OpenSSL
 * layer wraps exactly the reads, lws_write() calls and closes that every
 * byte of pg_dash already goes through, so nothing bypasses it.  HTTPS is
 * served on pg_dash.port, or on pg_dash.ssl_port beside plain HTTP on
 * pg_dash.port; pg_dash.redirect_port adds a plain listener that only
 * redirects to HTTPS.
 *
 * The vhost is created without certificate paths: lws hands over its
 * SSL_CTX (LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS), and this
 * file sets TLS 1.2 as the minimum and loads the certificate chain and key,
 * by default PostgreSQL's own ssl_cert_file and ssl_key_file, so that a
 * failure gets a message that says which file and why.  On SIGHUP the files
 * are loaded again into a scratch context first; only when they load and
 * match are they put into the vhost's context, which new connections use
 * (a connection keeps the certificate it was accepted with).
 */
#include "postgres.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "utils/guc.h"

#include "guc.h"
#include "tls.h"
#include "worker_state.h"

bool		pg_dash_ssl = false;
int			pg_dash_ssl_port = 0;
int			pg_dash_redirect_port = 0;
int			pg_dash_hsts_max_age = 31536000;
static char *pg_dash_ssl_cert_file = NULL;
static char *pg_dash_ssl_key_file = NULL;

/* The TLS vhost's context, owned by lws; NULL when TLS is off. */
static SSL_CTX *tls_ctx = NULL;

/* Defines the settings of pg_dash's own TLS. */
void
tls_define_gucs(void)
{
	DefineCustomBoolVariable("pg_dash.ssl",
							 "Serves HTTPS and WSS with the server's certificate.",
							 "On pg_dash.port, or on pg_dash.ssl_port when that is set.",
							 &pg_dash_ssl,
							 false,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.ssl_port",
							"TCP port of HTTPS when pg_dash.port stays plain HTTP; 0 serves HTTPS on pg_dash.port.",
							NULL,
							&pg_dash_ssl_port,
							0, 0, 65535,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.redirect_port",
							"TCP port of a plain HTTP listener that only redirects to HTTPS; 0 for none.",
							"Needs pg_dash.ssl = on.",
							&pg_dash_redirect_port,
							0, 0, 65535,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.ssl_cert_file",
							   "Certificate chain (PEM) of pg_dash's HTTPS; empty uses PostgreSQL's ssl_cert_file.",
							   "Relative paths are relative to the data directory.",
							   &pg_dash_ssl_cert_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.ssl_key_file",
							   "Private key (PEM) of pg_dash's HTTPS; empty uses PostgreSQL's ssl_key_file.",
							   "Relative paths are relative to the data directory.",
							   &pg_dash_ssl_key_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.hsts_max_age",
							"max-age of the Strict-Transport-Security header sent over HTTPS; 0 sends none.",
							NULL,
							&pg_dash_hsts_max_age,
							31536000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* The port that serves HTTPS; 0 when TLS is off. */
int
tls_https_port(void)
{
	if (!pg_dash_ssl)
		return 0;
	return pg_dash_ssl_port > 0 ? pg_dash_ssl_port : pg_dash_port;
}

/*
 * The port that only redirects to HTTPS; 0 when there is none (TLS off, or
 * the setting names a port that already serves something else).
 */
int
tls_redirect_port(void)
{
	if (!pg_dash_ssl || pg_dash_redirect_port == pg_dash_port ||
		pg_dash_redirect_port == tls_https_port())
		return 0;
	return pg_dash_redirect_port;
}

/* True when pg_dash.port serves plain HTTP. */
bool
tls_plain_port_open(void)
{
	return !pg_dash_ssl || (pg_dash_ssl_port > 0 && pg_dash_ssl_port != pg_dash_port);
}

/* The certificate and key files in use: pg_dash's settings, else PostgreSQL's. */
static void
tls_files(const char **cert, const char **key)
{
	*cert = pg_dash_ssl_cert_file && pg_dash_ssl_cert_file[0] ?
		pg_dash_ssl_cert_file : GetConfigOption("ssl_cert_file", false, false);
	*key = pg_dash_ssl_key_file && pg_dash_ssl_key_file[0] ?
		pg_dash_ssl_key_file : GetConfigOption("ssl_key_file", false, false);
}

/* OpenSSL's latest error as text (palloc'd), and the queue emptied. */
static char *
tls_openssl_error(void)
{
	unsigned long code = ERR_get_error();
	char		buf[256];

	ERR_clear_error();
	if (code == 0)
		return pstrdup("no reason given");
	ERR_error_string_n(code, buf, sizeof(buf));
	return pstrdup(buf);
}

/*
 * Loads the certificate chain and key into ctx and checks that they match;
 * false with *why set when they do not load.
 */
static bool
tls_load_files(SSL_CTX *ctx, const char *cert, const char *key, char **why)
{
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
	{
		*why = psprintf("could not load the certificate file \"%s\": %s", cert, tls_openssl_error());
		return false;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
	{
		*why = psprintf("could not load the private key file \"%s\": %s", key, tls_openssl_error());
		return false;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
	{
		*why = psprintf("the private key \"%s\" does not match the certificate \"%s\": %s",
						key, cert, tls_openssl_error());
		return false;
	}
	return true;
}

/* Sets up the TLS vhost's context: TLS 1.2+, the certificate and key. */
void
tls_setup_context(void *ssl_ctx)
{
	const char *cert;
	const char *key;
	char	   *why;

	tls_ctx = (SSL_CTX *) ssl_ctx;
	if (SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION) != 1)
		ereport(FATAL,
				(errmsg("pg_dash worker %d could not require TLS 1.2: %s",
						worker_number, tls_openssl_error())));
	tls_files(&cert, &key);
	if (!tls_load_files(tls_ctx, cert, key, &why))
		ereport(FATAL,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pg_dash worker %d cannot serve HTTPS: %s", worker_number, why),
				 errhint("Set pg_dash.ssl_cert_file and pg_dash.ssl_key_file (or ssl_cert_file and ssl_key_file) "
						 "to a PEM certificate chain and its key, or turn pg_dash.ssl off.")));
}

/*
 * Loads the certificate and key again: first into a scratch context, so a
 * missing or mismatched file leaves the served ones in place, then into the
 * vhost's context.
 */
void
tls_reload(void)
{
	const char *cert;
	const char *key;
	char	   *why;
	SSL_CTX    *scratch;
	bool		ok;

	if (tls_ctx == NULL)
		return;
	tls_files(&cert, &key);
	scratch = SSL_CTX_new(TLS_server_method());
	if (scratch == NULL)
	{
		ereport(WARNING,
				(errmsg("pg_dash worker %d could not reload its certificate: %s",
						worker_number, tls_openssl_error())));
		return;
	}
	ok = tls_load_files(scratch, cert, key, &why);
	SSL_CTX_free(scratch);
	if (ok)
		ok = tls_load_files(tls_ctx, cert, key, &why);
	if (!ok)
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pg_dash worker %d keeps its previous certificate: %s", worker_number, why),
				 errhint("Fix the files named by pg_dash.ssl_cert_file and pg_dash.ssl_key_file and reload.")));
		return;
	}
	ereport(DEBUG1,
			(errmsg("pg_dash worker %d loaded its certificate \"%s\"", worker_number, cert)));
}
