/*
 * primary_forward.c
 *		A hot standby forwards what lives on the primary (session state,
 *		actions) to it, and the primary's side of that: the SQL function
 *		pg_dash.forward_request().
 *
 * Session state is an UNLOGGED table, which a standby cannot read, and an
 * action writes, which a standby cannot do.  So a standby's executor sends
 * such a request, as the HTTP bytes it received (re-serialized), with the
 * client's address, to pg_dash.forward_request() on the primary over its
 * link (primary_link.c).  That function hands the bytes to the primary's
 * executor pool, exactly as a serving worker there would, and returns the
 * whole answer; the standby relays it to its client.  How the client reached
 * the standby goes with it: over TLS or not (Secure cookies, HSTS), from the
 * standby's machine or not, so that the primary accepts a bearer token
 * exactly when the standby did.  The request is therefore handled by the
 * primary's own code: the session cookie, the CSRF token, the session
 * budgets (by the client's address), the action run as pg_dash.role (or a
 * bearer token's role) through the request pipeline.  The link's role only
 * needs EXECUTE on this function; it never switches roles over the wire,
 * and it can only have the primary do what any HTTPS client of the primary
 * could: the function refuses every other route.
 *
 * The primary unreachable: 503 primary_unreachable with Retry-After, while
 * the standby keeps serving reads.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "access/xlog.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "executor.h"
#include "guc.h"
#include "http_response.h"
#include "primary_forward.h"
#include "primary_link.h"
#include "replica.h"
#include "worker_state.h"

PG_FUNCTION_INFO_V1(pg_dash_forward_request);

/* Time the primary may take beyond pg_dash.statement_timeout (milliseconds). */
#define FORWARD_MARGIN_MS 5000

/* True for the paths whose requests live on the primary. */
static bool
primary_forward_path(const char *path)
{
	return strcmp(path, "/api/state") == 0 ||
		strncmp(path, "/api/state/", 11) == 0 ||
		strncmp(path, "/api/session/", 13) == 0 ||
		strncmp(path, "/api/action/", 12) == 0;
}

/* True for the requests a standby forwards: session state and actions. */
bool
primary_forward_wanted(const HttpRequest *req)
{
	return primary_forward_path(req->path) && replica_is_standby();
}

/* 503 for a request that needs the primary, which this standby cannot reach. */
static void
primary_forward_unavailable(Conn *conn, HttpRequest *req, const char *code,
							const char *message, const char *detail, const char *hint)
{
	http_reply_error_with(conn, req, 503, header_list_of("Retry-After", "5"), code,
						  message, detail, hint);
}

/*
 * Relays the primary's answer: a flag byte ('C': close the connection after
 * it, 'K': keep it) and the HTTP response bytes.
 */
static void
primary_forward_relay(Conn *conn, HttpRequest *req, const char *data, int len)
{
	const char *answer = data + 1;
	int			answer_len = len - 1;

	if (len < 13 || strncmp(answer, "HTTP/1.", 7) != 0)
	{
		http_reply_error(conn, req, 502, "primary_bad_answer",
						 "the primary's answer to a forwarded request is not an HTTP response",
						 NULL, "Check that the primary runs the same version of pg_dash.");
		return;
	}
	conn->last_status = atoi(answer + 9);
	conn_write(conn, answer, answer_len);
	if (data[0] == 'C' || !req->keep_alive)
		conn_close_when_flushed(conn);
}

/* Standby: runs a request on the primary and relays its answer. */
void
primary_forward(Conn *conn, HttpRequest *req)
{
	StringInfoData request;
	const char *values[4];
	int			lengths[4] = {0, 0, 0, 0};
	int			formats[4] = {1, 0, 0, 0};
	char	   *error = NULL;
	PGresult   *res;

	if (!primary_link_configured())
	{
		primary_forward_unavailable(conn, req, "no_primary_link",
									"this server is a hot standby: session state and actions live on the primary",
									"pg_dash.primary_conninfo is not set on this standby.",
									"Set pg_dash.primary_conninfo (docs/replicas.md), or send these requests to the primary.");
		return;
	}
	initStringInfo(&request);
	executor_serialize(req, &request);
	values[0] = request.data;
	lengths[0] = request.len;
	values[1] = conn->peer.family != 0 ? conn_peer_text(&conn->peer) : NULL;
	values[2] = conn->transport.https ? "true" : "false";
	values[3] = conn->transport.client_loopback ? "true" : "false";
	res = primary_link_exec("SELECT pg_dash.forward_request($1::bytea, $2::text, $3::boolean, $4::boolean)",
							4, values, lengths,
							formats, pg_dash_statement_timeout + FORWARD_MARGIN_MS, &error);
	if (res == NULL)
	{
		ereport(LOG,
				(errmsg("pg_dash %s could not reach the primary: %s",
						worker_number >= 0 ? psprintf("worker %d", worker_number) : "executor", error)));
		primary_forward_unavailable(conn, req, "primary_unreachable",
									"the primary cannot be reached",
									"Session state and actions live on the primary; this standby keeps serving reads.",
									"Retry shortly.");
		return;
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		!PQgetisnull(res, 0, 0) && PQfformat(res, 0) == 1)
		primary_forward_relay(conn, req, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		bool		denied = state && strcmp(state, "42501") == 0;

		ereport(LOG,
				(errmsg("pg_dash: the primary refused a forwarded %s %s: %s",
						req->method, req->path, message ? message : PQresStatus(PQresultStatus(res)))));
		http_reply_error_with(conn, req, 503, header_list_of("Retry-After", "5"), "primary_refused",
							  "the primary refused the forwarded request",
							  psprintf("SQLSTATE %s; the server log of this standby has the primary's message.",
									   state ? state : "unknown"),
							  denied ?
							  "Run SELECT pg_dash.grant_link('<role>') on the primary for the role of pg_dash.primary_conninfo." :
							  "Retry shortly; check that pg_dash runs on the primary with executors.");
	}
	PQclear(res);
}

/* The client's address as forward_request's second argument gives it. */
static void
primary_forward_peer(text *client, ConnPeer *peer)
{
	char	   *s;
	char	   *slash;
	uint8		addr[16];

	memset(peer, 0, sizeof(*peer));
	if (client == NULL)
		return;
	s = text_to_cstring(client);
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, s, addr) == 1)
	{
		peer->family = AF_INET;
		memcpy(peer->addr, addr, 4);
	}
	else if (inet_pton(AF_INET6, s, addr) == 1)
	{
		peer->family = AF_INET6;
		memcpy(peer->addr, addr, 8);	/* clients are counted by their /64 */
	}
}

/*
 * SQL pg_dash.forward_request(request bytea, client text, client_https
 * boolean, client_local boolean) RETURNS bytea, on the primary: runs a
 * standby's session-state or action request in the executor pool and
 * returns the flag byte and the HTTP answer.  EXECUTE is revoked from
 * PUBLIC: the administrator grants it to the link's role, which is believed
 * on the client's address and transport as a trusted proxy is; a NULL fact
 * is the cautious one (plain HTTP, another machine).  Until ALTER EXTENSION
 * UPDATE the function has the first two arguments only (PG_NARGS).
 */
Datum
pg_dash_forward_request(PG_FUNCTION_ARGS)
{
	bytea	   *request;
	HttpParser	parser;
	HttpLimits	limits = {
		.max_url = 64 * 1024,
		.max_header_bytes = 1024 * 1024,
		.max_headers = 1000,
		.max_body = 64L * 1024 * 1024,
	};
	bool		allowed;
	ConnPeer	peer;
	ConnTransport transport;
	StringInfoData answer;
	bool		close;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the forwarded request must not be null")));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("pg_dash.forward_request() runs on the primary only"),
				 errhint("Point pg_dash.primary_conninfo at the primary, not at another standby.")));
	if (!executor_available())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no pg_dash executor runs on the primary"),
				 errhint("Forwarded requests run in the primary's executor pool: check pg_dash.executors and max_worker_processes there.")));
	request = PG_GETARG_BYTEA_PP(0);

	/* only the routes that live on the primary: nothing a standby serves itself */
	http_parser_init(&parser, &limits);
	allowed = http_parser_feed(&parser, VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request)) == HTTP_PARSE_DONE &&
		primary_forward_path(parser.req.path);
	http_parser_free(&parser);
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pg_dash.forward_request() only forwards session state and action requests"),
				 errdetail("The request is not a complete HTTP request for /api/state, /api/session or /api/action.")));

	primary_forward_peer(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), &peer);
	memset(&transport, 0, sizeof(transport));
	transport.https = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	transport.client_loopback = PG_NARGS() > 3 && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	initStringInfo(&answer);
	appendStringInfoChar(&answer, 'K');
	if (!executor_run_blocking(VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request), &peer,
							   &transport, &answer, &close))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the primary's executor pool could not run the forwarded request"),
				 errdetail("Its run queue is full, or the executor ended before answering."),
				 errhint("Retry shortly; the administrator can raise pg_dash.executors or pg_dash.executor_queue.")));
	if (close)
		answer.data[0] = 'C';
	result = (bytea *) palloc(VARHDRSZ + answer.len);
	SET_VARSIZE(result, VARHDRSZ + answer.len);
	memcpy(VARDATA(result), answer.data, answer.len);
	PG_RETURN_BYTEA_P(result);
}
