/*
 * guard.c
 *		What a connection and a request must pass before they are served:
 *		the Host names pg_dash answers to, the same-origin rule for requests
 *		that change state, and the per-address connection and request caps.
 *
 * Host.  A page on an attacker's site can have the victim's browser talk to
 * pg_dash under the attacker's name by rebinding that name to pg_dash's
 * address (DNS rebinding); the browser then treats pg_dash as the
 * attacker's own origin.  What it cannot change is the Host it sends, so
 * every request's Host must be a name pg_dash answers to, or it gets 421:
 * any IP address (a rebinding needs a name), localhost and *.localhost, the
 * machine's name (gethostname), the names in pg_dash.listen_addresses and
 * those in pg_dash.hosts ("*" there allows any Host).
 *
 * Origin.  Browsers let any page open a WebSocket to any server and send it
 * POST, PUT, PATCH and DELETE requests, cookies included; they never let a
 * page choose the Origin header.  So a WebSocket upgrade, and every request
 * whose method is not GET, HEAD or OPTIONS, that carries an Origin must come
 * from this very server: an http or https origin whose host and port are
 * the request's Host (which was checked above), or it gets 403.  A request
 * without Origin comes from a client that is not a browser (browsers always
 * send Origin on WebSocket handshakes and on those methods) and passes; one
 * that the browser marks "Sec-Fetch-Site: cross-site" does not.
 *
 * Per address.  Each worker counts the open connections of every client
 * address (an IPv6 client by its /64) against pg_dash.max_connections_per_ip,
 * and meters its requests with a token bucket of pg_dash.rate_limit_burst
 * tokens refilled at pg_dash.rate_limit_per_ip a second.  The counts are per
 * worker: SO_REUSEPORT spreads one client's connections over all of them.
 * An address's entry is kept while it has connections or its bucket is
 * still refilling, so reconnecting does not refill a bucket.
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "guard.h"
#include "guc.h"
#include "http_response.h"
#include "metrics.h"

/* One client address of this worker. */
typedef struct GuardPeer
{
	ConnPeer	key;
	int			connections;	/* open connections counted */
	double		tokens;			/* requests it may make now */
	TimestampTz refilled;		/* when tokens was last brought up to date */
} GuardPeer;

/* pg_dash.hosts */
static char *pg_dash_hosts = NULL;

/* The allowed host names: lower-case names and ".domain" patterns. */
static MemoryContext guard_context = NULL;
static List *guard_hosts = NIL;
static bool guard_any_host = false;

static HTAB *guard_peers = NULL;

/*
 * Check hook of pg_dash.hosts: every entry is "*", a host name, or a host
 * name after a dot (a domain and its subdomains); no ports.
 */
static bool
guard_check_hosts(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names = NIL;
	ListCell   *lc;
	bool		ok = true;

	if (!SplitGUCList(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		ok = false;
	}
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *host = name[0] == '.' ? name + 1 : name;
		HttpAuthority parsed;

		if (!ok || strcmp(name, "*") == 0)
			continue;
		if (!http_parse_authority(host, strlen(host), &parsed) || parsed.port >= 0)
		{
			GUC_check_errdetail("\"%s\" is not a host name.", name);
			GUC_check_errhint("List names without a port; \".example.com\" allows a domain and its subdomains, \"*\" any name.");
			ok = false;
		}
	}
	list_free(names);
	pfree(raw);
	return ok;
}

/*
 * Adds the host names of a comma-separated setting to the allowed ones;
 * with star_is_any, "*" allows every Host.  IP addresses need no entry.
 */
static void
guard_add_hosts(const char *setting, bool star_is_any)
{
	char	   *raw = pstrdup(setting ? setting : "");
	List	   *names = NIL;
	ListCell   *lc;

	(void) SplitGUCList(raw, ',', &names);
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *host = name[0] == '.' ? name + 1 : name;
		HttpAuthority parsed;

		if (strcmp(name, "*") == 0)
			guard_any_host |= star_is_any;
		else if (http_parse_authority(host, strlen(host), &parsed) &&
				 parsed.port < 0 && !parsed.is_ip)
			guard_hosts = lappend(guard_hosts, pstrdup(name));
	}
	list_free(names);
}

/*
 * Computes the allowed host names from the settings; called at start and
 * after every reload.
 */
void
guard_reload(void)
{
	MemoryContext oldcxt;
	char		name[256];

	if (guard_context == NULL)
		guard_context = AllocSetContextCreate(TopMemoryContext, "pg_dash allowed hosts",
											  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(guard_context);
	oldcxt = MemoryContextSwitchTo(guard_context);
	guard_hosts = NIL;
	guard_any_host = false;
	guard_add_hosts("localhost, .localhost", false);
	if (gethostname(name, sizeof(name)) == 0)
	{
		name[sizeof(name) - 1] = '\0';
		guard_add_hosts(name, false);
	}
	guard_add_hosts(pg_dash_listen_addresses, false);
	guard_add_hosts(pg_dash_hosts, true);
	MemoryContextSwitchTo(oldcxt);
}

/* True when pg_dash answers to the request's Host. */
static bool
guard_host_allowed(const HttpAuthority *host)
{
	ListCell   *lc;

	if (guard_any_host || host->is_ip)
		return true;
	foreach(lc, guard_hosts)
	{
		if (http_host_matches(host->host, host->host_len, (const char *) lfirst(lc)))
			return true;
	}
	return false;
}

/* True for the methods that only read: GET, HEAD and OPTIONS. */
static bool
guard_safe_method(const HttpRequest *req)
{
	return http_method_is(req, "GET") || http_method_is(req, "HEAD") ||
		http_method_is(req, "OPTIONS");
}

/*
 * Why a request that must come from this server's own pages does not, or
 * NULL when it does (or comes from a client that is not a browser).
 */
static const char *
guard_cross_origin(const HttpRequest *req)
{
	size_t		len;
	const char *site = http_request_header(req, "Sec-Fetch-Site", &len);
	const char *origin = NULL;
	size_t		origin_len = 0;
	int			norigins = 0;
	HttpAuthority parsed;
	bool		https;
	int			i;

	if (site != NULL && len == 10 && pg_strncasecmp(site, "cross-site", 10) == 0)
		return "The browser marked the request as coming from another site (Sec-Fetch-Site: cross-site).";
	for (i = 0; i < req->nheaders; i++)
	{
		if (req->headers[i].name_len == 6 &&
			pg_strncasecmp(req->headers[i].name, "Origin", 6) == 0)
		{
			origin = req->headers[i].value;
			origin_len = req->headers[i].value_len;
			norigins++;
		}
	}
	if (norigins == 0)
		return NULL;
	if (norigins > 1)
		return "The request has more than one Origin header.";
	if (!http_parse_origin(origin, origin_len, &https, &parsed))
		return psprintf("The Origin \"%.*s\" is not the http or https origin of a host.",
						(int) Min(origin_len, 200), origin);
	if (req->host.host == NULL)
		return "The request has an Origin but no Host header.";
	if (!http_same_authority(&parsed, &req->host, https ? 443 : 80))
	{
		const char *host = http_request_header(req, "Host", &len);

		return psprintf("The page at \"%.*s\" is not on this server, \"%.*s\".",
						(int) Min(origin_len, 200), origin, (int) Min(len, 200), host);
	}
	return NULL;
}

/* The per-address entries, created on first use. */
static void
guard_init_peers(void)
{
	HASHCTL		ctl;

	if (guard_peers != NULL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ConnPeer);
	ctl.entrysize = sizeof(GuardPeer);
	ctl.hcxt = TopMemoryContext;
	guard_peers = hash_create("pg_dash client addresses", 256, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Brings an address's token bucket up to date. */
static void
guard_refill(GuardPeer *peer, TimestampTz now)
{
	double		elapsed = now > peer->refilled ? (now - peer->refilled) / 1e6 : 0;

	peer->tokens = Min((double) pg_dash_rate_limit_burst,
					   peer->tokens + elapsed * pg_dash_rate_limit_per_ip);
	peer->refilled = now;
}

/* True when an address's entry holds nothing worth keeping. */
static bool
guard_peer_idle(GuardPeer *peer, TimestampTz now)
{
	if (peer->connections > 0)
		return false;
	if (pg_dash_rate_limit_per_ip <= 0)
		return true;
	guard_refill(peer, now);
	return peer->tokens >= pg_dash_rate_limit_burst;
}

/* The most connections one address may have: -1 means half the worker's. */
static int
guard_connection_cap(void)
{
	if (pg_dash_max_connections_per_ip < 0)
		return Max(1, pg_dash_max_connections / 2);
	return pg_dash_max_connections_per_ip;
}

/*
 * Counts a new connection against its address; one over
 * pg_dash.max_connections_per_ip is answered 429 and closed (false).
 */
bool
guard_admit_connection(Conn *conn)
{
	GuardPeer  *peer;
	bool		found;
	int			cap = guard_connection_cap();

	if (conn->peer.family == 0)
		return true;
	guard_init_peers();
	peer = hash_search(guard_peers, &conn->peer, HASH_ENTER, &found);
	if (!found)
	{
		peer->connections = 0;
		peer->tokens = pg_dash_rate_limit_burst;
		peer->refilled = GetCurrentTimestamp();
	}
	if (cap > 0 && peer->connections >= cap)
	{
		metrics_count(METRIC_IP_CONNECTIONS_REFUSED, 1);
		http_reply_error_with(conn, NULL, 429, header_list_of("Retry-After", "1"), "too_many_connections",
							  "too many connections from your address",
							  psprintf("This pg_dash worker already serves %d connections from %s.",
									   peer->connections, conn_peer_text(&conn->peer)),
							  "Close idle connections, or raise pg_dash.max_connections_per_ip.");
		return false;
	}
	peer->connections++;
	conn->peer_counted = true;
	return true;
}

/* Uncounts a closed connection. */
void
guard_release_connection(Conn *conn)
{
	GuardPeer  *peer;

	if (!conn->peer_counted || guard_peers == NULL)
		return;
	conn->peer_counted = false;
	peer = hash_search(guard_peers, &conn->peer, HASH_FIND, NULL);
	if (peer == NULL)
		return;
	peer->connections--;
	if (guard_peer_idle(peer, GetCurrentTimestamp()))
		(void) hash_search(guard_peers, &conn->peer, HASH_REMOVE, NULL);
}

/*
 * Takes a token from the address's bucket; without one the request is
 * answered 429 with Retry-After (false).
 */
static bool
guard_take_token(Conn *conn, HttpRequest *req)
{
	GuardPeer  *peer;
	int			wait;

	if (pg_dash_rate_limit_per_ip <= 0 || !conn->peer_counted)
		return true;
	peer = hash_search(guard_peers, &conn->peer, HASH_FIND, NULL);
	if (peer == NULL)
		return true;
	guard_refill(peer, GetCurrentTimestamp());
	if (peer->tokens >= 1)
	{
		peer->tokens -= 1;
		return true;
	}
	wait = Max(1, (int) ceil((1 - peer->tokens) / pg_dash_rate_limit_per_ip));
	metrics_count(METRIC_IP_RATE_LIMITED, 1);
	http_reply_error_with(conn, req, 429, header_list_of("Retry-After", psprintf("%d", wait)),
						  "too_many_requests", "too many requests from your address",
						  psprintf("This pg_dash worker takes %d requests a second from one address, %d at once.",
								   pg_dash_rate_limit_per_ip, pg_dash_rate_limit_burst),
						  "Retry after the seconds in Retry-After, or raise pg_dash.rate_limit_per_ip.");
	return false;
}

/*
 * Admits a parsed request: the address's request rate, the Host, and the
 * Origin of a WebSocket upgrade or a state-changing request.  A refused
 * request is answered here (429, 421 or 403) and false returned.
 */
bool
guard_admit_request(Conn *conn, HttpRequest *req)
{
	const char *why;

	if (!guard_take_token(conn, req))
		return false;
	if (req->host.host != NULL && !guard_host_allowed(&req->host))
	{
		metrics_count(METRIC_HOST_REFUSED, 1);
		http_reply_error(conn, req, 421, "misdirected_request",
						 "this server does not answer to that host name",
						 psprintf("The request was sent to \"%.*s\", which is not a name of this server.",
								  (int) Min(req->host.host_len, 200), req->host.host),
						 "Add the name to pg_dash.hosts; pg_dash answers to IP addresses, localhost, the machine's name and the names in pg_dash.listen_addresses.");
		return false;
	}
	if ((req->upgrade_websocket || !guard_safe_method(req)) &&
		(why = guard_cross_origin(req)) != NULL)
	{
		metrics_count(METRIC_ORIGIN_REFUSED, 1);
		http_reply_error(conn, req, 403, "forbidden", "cross-origin request refused", why,
						 "Open the dashboard from this server's own address: WebSocket connections and requests that change state must come from its pages.");
		return false;
	}
	return true;
}

/* Once a second: forgets addresses with no connection and a full bucket. */
void
guard_tick(void)
{
	HASH_SEQ_STATUS status;
	GuardPeer  *peer;
	TimestampTz now = GetCurrentTimestamp();

	if (guard_peers == NULL)
		return;
	hash_seq_init(&status, guard_peers);
	while ((peer = hash_seq_search(&status)) != NULL)
	{
		if (guard_peer_idle(peer, now))
			(void) hash_search(guard_peers, &peer->key, HASH_REMOVE, NULL);
	}
}

/* Defines the settings this module owns: pg_dash.hosts. */
void
guard_define_gucs(void)
{
	DefineCustomStringVariable("pg_dash.hosts",
							   "Host names pg_dash answers to, besides IP addresses, localhost, the machine's name and pg_dash.listen_addresses.",
							   "Comma-separated; \".example.com\" allows a domain and its subdomains; * allows any Host. Other Host headers get 421.",
							   &pg_dash_hosts,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   guard_check_hosts, NULL, NULL);
}
