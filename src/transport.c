/*
 * transport.c
 *		How a request reached pg_dash, and what may be believed about it.
 *
 * A connection is TLS when pg_dash terminated TLS itself (tls.c).  Behind a
 * reverse proxy the socket's peer is the proxy, and only the proxy knows
 * whether the browser used HTTPS, which address it came from and which Host
 * it asked for.  Any client can send X-Forwarded-Proto, -For and -Host, so
 * they are believed only from the addresses in pg_dash.trusted_proxies (a
 * list of CIDR blocks); from any other peer they are ignored.  The same
 * proxies may send the PROXY protocol header (v1 or v2, HAProxy's
 * send-proxy) before the first request when pg_dash.proxy_protocol is on:
 * the client it names then counts for the per-address limits (guard.c),
 * which are applied once the header has arrived.
 *
 * The connection whose responses are being built is "current"
 * (transport_enter): its HTTPS-ness decides the Secure attribute of cookies
 * and the Strict-Transport-Security header.  An executor gets the serving
 * worker's view with the request and makes it current in the same way.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "tls.h"
#include "transport.h"
#include "worker_state.h"

/* The most entries pg_dash.trusted_proxies may have. */
#define TRANSPORT_MAX_PROXIES 64

/* One CIDR block of pg_dash.trusted_proxies. */
typedef struct TrustedNet
{
	int			family;			/* AF_INET or AF_INET6 */
	uint8		addr[16];
	int			bits;
} TrustedNet;

static char *pg_dash_trusted_proxies = NULL;
static bool pg_dash_proxy_protocol = false;
char	   *pg_dash_base_path = NULL;

static TrustedNet trusted[TRANSPORT_MAX_PROXIES];
static int	ntrusted = 0;

/* The connection whose responses are being built. */
static ConnTransport current;

/*
 * Parses "address" or "address/bits" (IPv4 or IPv6) into net; false when it
 * is neither.
 */
static bool
transport_parse_net(const char *text, TrustedNet *net)
{
	char		buf[64];
	char	   *slash;
	int			max;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = AF_INET6;
	else
		return false;
	max = net->family == AF_INET ? 32 : 128;
	net->bits = max;
	if (slash)
	{
		char	   *end;
		long		bits = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > max)
			return false;
		net->bits = (int) bits;
	}
	return true;
}

/* Splits the setting into its entries and parses them; false at the first bad one. */
static bool
transport_parse_list(const char *value, TrustedNet *nets, int *n, const char **bad)
{
	char	   *raw = pstrdup(value ? value : "");
	List	   *items = NIL;
	ListCell   *lc;
	bool		ok = true;

	*n = 0;
	*bad = NULL;
	if (!SplitGUCList(raw, ',', &items))
		ok = false;
	foreach(lc, items)
	{
		const char *item = (const char *) lfirst(lc);

		if (!ok)
			break;
		if (*n >= TRANSPORT_MAX_PROXIES || !transport_parse_net(item, &nets[*n]))
		{
			*bad = pstrdup(item);
			ok = false;
			break;
		}
		(*n)++;
	}
	list_free(items);
	return ok;
}

/* check_hook of pg_dash.trusted_proxies: addresses or CIDR blocks, comma-separated. */
static bool
transport_check_proxies(char **newval, void **extra, GucSource source)
{
	TrustedNet	nets[TRANSPORT_MAX_PROXIES];
	int			n;
	const char *bad;

	if (transport_parse_list(*newval, nets, &n, &bad))
		return true;
	if (bad)
		GUC_check_errdetail("\"%s\" is not an IP address or CIDR block (or there are more than %d).",
							bad, TRANSPORT_MAX_PROXIES);
	else
		GUC_check_errdetail("List syntax is invalid.");
	GUC_check_errhint("List the proxies' addresses, e.g. '127.0.0.1, 10.0.0.0/8, ::1'.");
	return false;
}

/*
 * check_hook of pg_dash.base_path: empty, or "/" and path segments of
 * letters, digits and -._~ without a trailing slash ("/dash", "/a/b"): it
 * is written into every page and URL, so nothing there may need escaping.
 */
static bool
transport_check_base_path(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || p[0] == '\0')
		return true;
	if (p[0] != '/' || p[strlen(p) - 1] == '/')
	{
		GUC_check_errdetail("A base path starts with \"/\" and does not end with one.");
		GUC_check_errhint("For example '/dash'; '' serves pg_dash at the root.");
		return false;
	}
	for (; *p; p++)
	{
		if (*p == '/')
		{
			if (p[1] == '/' || p[1] == '.')
			{
				GUC_check_errdetail("A base path has no empty segment and no segment starting with a dot.");
				return false;
			}
		}
		else if (!isalnum((unsigned char) *p) && strchr("-._~", *p) == NULL)
		{
			GUC_check_errdetail("A base path holds only letters, digits, \"-\", \".\", \"_\", \"~\" and \"/\".");
			return false;
		}
	}
	return true;
}

/* Defines the settings of proxies. */
void
transport_define_gucs(void)
{
	DefineCustomStringVariable("pg_dash.trusted_proxies",
							   "Addresses (CIDR blocks) of reverse proxies whose X-Forwarded-Proto, -For and -Host are believed.",
							   "From other addresses those headers are ignored.",
							   &pg_dash_trusted_proxies,
							   "",
							   PGC_SIGHUP, 0,
							   transport_check_proxies, NULL, NULL);

	DefineCustomStringVariable("pg_dash.base_path",
							   "Path prefix pg_dash is served under behind a proxy, e.g. /dash; empty: the root.",
							   "Pages, the API, the WebSocket and the front end's files answer under it (and without it).",
							   &pg_dash_base_path,
							   "",
							   PGC_SIGHUP, 0,
							   transport_check_base_path, NULL, NULL);

	DefineCustomBoolVariable("pg_dash.proxy_protocol",
							 "Connections from pg_dash.trusted_proxies start with a PROXY protocol header (v1 or v2).",
							 "The client it names counts for the per-address limits.",
							 &pg_dash_proxy_protocol,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

/* Reads pg_dash.trusted_proxies again (start and SIGHUP). */
void
transport_reload(void)
{
	const char *bad;

	if (!transport_parse_list(pg_dash_trusted_proxies, trusted, &ntrusted, &bad))
		ntrusted = 0;			/* the check hook refused it: cannot happen */
}

/* True when the 4 or 16 bytes of an address of the family lie in a trusted block. */
static bool
transport_trusted(int family, const uint8 *addr)
{
	for (int i = 0; i < ntrusted; i++)
	{
		const TrustedNet *net = &trusted[i];
		int			full = net->bits / 8;
		int			rest = net->bits % 8;

		if (net->family != family)
			continue;
		if (memcmp(net->addr, addr, full) != 0)
			continue;
		if (rest && ((net->addr[full] ^ addr[full]) & (0xFF << (8 - rest))) != 0)
			continue;
		return true;
	}
	return false;
}

/* True for 127.0.0.0/8 and ::1. */
static bool
transport_loopback(int family, const uint8 *addr)
{
	static const uint8 v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	if (family == AF_INET)
		return addr[0] == 127;
	return family == AF_INET6 && memcmp(addr, v6_loopback, 16) == 0;
}

/*
 * The address of a sockaddr as family and bytes; an IPv4 address mapped
 * into IPv6 is IPv4.  False for other families.
 */
bool
transport_sockaddr(const struct sockaddr *sa, int *family, uint8 *addr)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
	{
		*family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
		{
			*family = AF_INET;
			memcpy(addr, a->s6_addr + 12, 4);
		}
		else
		{
			*family = AF_INET6;
			memcpy(addr, a->s6_addr, 16);
		}
		return true;
	}
	return false;
}

/* Records how an accepted connection came. */
void
transport_accept(ConnTransport *t, const struct sockaddr *addr, bool tls, bool redirect_only)
{
	int			family;
	uint8		bytes[16];

	memset(t, 0, sizeof(*t));
	t->tls = tls;
	t->redirect_only = redirect_only;
	if (transport_sockaddr(addr, &family, bytes))
	{
		t->from_proxy = transport_trusted(family, bytes);
		t->peer_loopback = transport_loopback(family, bytes);
	}
	t->proxy_header = t->from_proxy && pg_dash_proxy_protocol;
	t->https = tls;
	t->client_loopback = t->peer_loopback;
}

/*
 * The client a PROXY header names (family AF_INET or AF_INET6, its address
 * bytes) is the connection's client from now on.
 */
void
transport_proxy_client(ConnTransport *t, int family, const uint8 *addr)
{
	t->peer_loopback = transport_loopback(family, addr);
	t->client_loopback = t->peer_loopback;
}

/*
 * The client X-Forwarded-For names: its rightmost address that is not a
 * trusted proxy (the ones to its left were written by the client itself).
 * True with *loopback set when there is one that parses.
 */
static bool
transport_forwarded_for(const HttpRequest *req, bool *loopback)
{
	size_t		len;
	const char *value = http_request_header(req, "X-Forwarded-For", &len);
	size_t		end = len;

	if (value == NULL)
		return false;
	while (end > 0)
	{
		size_t		start = end;
		size_t		next;
		char		text[64];
		size_t		n;
		uint8		addr[16];
		int			family;

		while (start > 0 && value[start - 1] != ',')
			start--;
		n = end - start;
		/* the next entry ends at this one's comma */
		next = start > 0 ? start - 1 : 0;
		/* trim spaces and IPv6 brackets */
		while (n > 0 && value[start] == ' ')
			start++, n--;
		while (n > 0 && value[start + n - 1] == ' ')
			n--;
		if (n >= 2 && value[start] == '[' && value[start + n - 1] == ']')
			start++, n -= 2;
		end = next;
		if (n == 0 || n >= sizeof(text))
			return false;
		memcpy(text, value + start, n);
		text[n] = '\0';
		if (inet_pton(AF_INET, text, addr) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, text, addr) == 1)
			family = AF_INET6;
		else
			return false;		/* "unknown", an obfuscated name: not local */
		if (transport_trusted(family, addr) && end > 0)
			continue;
		*loopback = transport_loopback(family, addr);
		return true;
	}
	return false;
}

/* Believes the X-Forwarded-* headers of a trusted proxy, and only of one. */
void
transport_begin_request(ConnTransport *t, HttpRequest *req)
{
	size_t		len;
	const char *value;

	t->https = t->tls;
	t->client_loopback = t->peer_loopback;
	if (t->from_proxy)
	{
		bool		loopback;
		HttpAuthority host;

		value = http_request_header(req, "X-Forwarded-Proto", &len);
		if (value != NULL)
		{
			size_t		n = 0;

			/* the first entry: the scheme the browser used */
			while (n < len && value[n] != ',' && value[n] != ' ')
				n++;
			t->https = n == 5 && pg_strncasecmp(value, "https", 5) == 0;
		}
		if (transport_forwarded_for(req, &loopback))
			t->client_loopback = loopback;
		else if (http_request_header(req, "X-Forwarded-For", &len) != NULL)
			t->client_loopback = false;
		value = http_request_header(req, "X-Forwarded-Host", &len);
		if (value != NULL && http_parse_authority(value, len, &host))
			req->host = host;
	}
	transport_enter(t);
}

/*
 * Takes pg_dash.base_path off the front of the request's path, in place:
 * "/dash/api/pages" is "/api/pages", "/dash" is "/".  A path without the
 * prefix stays as it is, so a proxy may strip it or pass it on.
 */
void
transport_strip_base_path(HttpRequest *req)
{
	size_t		n = pg_dash_base_path ? strlen(pg_dash_base_path) : 0;
	size_t		len;

	if (n == 0 || req->path == NULL || strncmp(req->path, pg_dash_base_path, n) != 0 ||
		(req->path[n] != '/' && req->path[n] != '\0'))
		return;
	len = strlen(req->path + n);
	if (len == 0)
		strcpy(req->path, "/");
	else
		memmove(req->path, req->path + n, len + 1);
}

/* Makes the connection the one whose responses are being built. */
void
transport_enter(const ConnTransport *t)
{
	current = *t;
}

/* True when the response being built goes over HTTPS. */
bool
transport_current_https(void)
{
	return current.https;
}

/* The Strict-Transport-Security max-age of the current response; 0 for none. */
int
transport_hsts_max_age(void)
{
	return current.https ? pg_dash_hsts_max_age : 0;
}

/* True when the connection may carry a password or a token. */
bool
transport_connection_is_secure(const ConnTransport *t)
{
	return t->https || t->client_loopback;
}
