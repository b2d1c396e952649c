/*
 * session.c
 *		Per-browser session state: the cookie, the UNLOGGED table
 *		pg_dash.session_state, the SQL functions pg_dash.state() and
 *		pg_dash.set_state(), and the sweep of expired sessions.
 *
 * A browser holds a 256-bit random token (cookie pg_dash_session, base64url);
 * the table stores only the hex SHA-256 of the token, so whoever can read the
 * table or the pg_dash_state notifications learns nothing that lets them act
 * as the browser.  An absent, malformed, unknown or expired token is no
 * session, never an error: reads see an empty state, and a session (row and
 * cookie) is created only when state is first written, within the budgets
 * of session_budget.c (pg_dash.max_sessions, pg_dash.max_new_sessions_per_ip),
 * so that cookie-less requests cannot fill the table.
 *
 * Expiry slides with use: a request refreshes last_seen and expires_at (and
 * the cookie's Max-Age) only once more than a tenth of pg_dash.session_ttl has
 * passed since the last refresh, so most requests only read the row.
 *
 * SQL learns the request's session only through the state functions: the
 * request pipeline binds the session for the current transaction with
 * session_bind() (a C variable, never a setting SQL could read or set), and
 * the state functions mark that they used it, so the pipeline knows from
 * what the request actually did whether its result depends on the session.
 * A superuser can bind a session by hand with pg_dash.bind_session(), which
 * is how the regression tests simulate a request.
 *
 * Worker 0 deletes expired sessions every pg_dash.session_sweep_interval, in
 * batches of SESSION_SWEEP_BATCH rows, one short transaction per batch, with
 * SKIP LOCKED so that it never waits for a request.
 */
#include "postgres.h"

#include <openssl/sha.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base64.h"
#include "headers.h"
#include "metrics.h"
#include "bearer.h"
#include "primary_state.h"
#include "request_failure.h"
#include "session.h"
#include "session_buffer.h"
#include "transport.h"
#include "worker_state.h"

PG_FUNCTION_INFO_V1(pg_dash_state);
PG_FUNCTION_INFO_V1(pg_dash_state_key);
PG_FUNCTION_INFO_V1(pg_dash_set_state);
PG_FUNCTION_INFO_V1(pg_dash_bind_session);

/* Random bytes in a token, and the length of their base64url form. */
#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_LEN BASE64URL_ENCODED_LEN(SESSION_TOKEN_BYTES)

/* Rows deleted per sweep statement, and statements per sweep at most. */
#define SESSION_SWEEP_BATCH 1000
#define SESSION_SWEEP_MAX_BATCHES 20

int			session_ttl = 7 * 86400;
int			session_sweep_interval = 60;
int			session_max_bytes = 1024 * 1024;

/*
 * The session bound to the current top-level transaction, and whether the
 * state functions used it.  Valid only while MyProc->lxid equals lxid, so a
 * binding never outlives its transaction, however that ends.
 */
static struct
{
	LocalTransactionId lxid;
	char		id[65];
	bool		used;
}			bound;

/* Prepared statements, kept for the life of the worker (or backend). */
static SPIPlanPtr plan_lookup = NULL;
static SPIPlanPtr plan_touch = NULL;
static SPIPlanPtr plan_expire = NULL;
static SPIPlanPtr plan_insert = NULL;
static SPIPlanPtr plan_exists = NULL;
static SPIPlanPtr plan_read = NULL;
static SPIPlanPtr plan_rotate = NULL;
static SPIPlanPtr plan_set = NULL;
static SPIPlanPtr plan_delete = NULL;
static SPIPlanPtr plan_merge = NULL;
static SPIPlanPtr plan_clear = NULL;
static SPIPlanPtr plan_upsert = NULL;
static SPIPlanPtr plan_sweep = NULL;

/*
 * The state read by pg_dash.state() in the current transaction, so that a
 * query calling it once per row reads the table once.  Valid only for the
 * same top-level transaction, subtransaction and session id; set_state()
 * replaces it with what it wrote.
 */
static struct
{
	LocalTransactionId lxid;
	SubTransactionId subid;
	char		id[65];
	Jsonb	   *data;			/* in TopTransactionContext */
}			state_cache;

/* Defines the pg_dash.session_* settings. */
void
session_define_gucs(void)
{
	DefineCustomIntVariable("pg_dash.session_ttl",
							"Seconds a browser session lives after its last use.",
							"Expiry slides with use; the cookie's Max-Age is the same.",
							&session_ttl,
							7 * 86400, 1, 10 * 365 * 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.session_sweep_interval",
							"Seconds between two deletions of expired sessions.",
							NULL,
							&session_sweep_interval,
							60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.session_max_bytes",
							"Largest session state, as JSON text; a change that would exceed it is refused.",
							NULL,
							&session_max_bytes,
							1024 * 1024, 16, 256 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_sessions",
							"Most sessions kept at once; creating more is refused with 503.",
							"Sessions are created when state is first written and expire after pg_dash.session_ttl unused.",
							&session_max_sessions,
							100000, 1, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.max_new_sessions_per_ip",
							"Most sessions one client address (IPv6: its /64) may create per minute; more are refused with 429.",
							NULL,
							&session_max_new_per_ip,
							60, 1, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

/*
 * Prepares a statement once and keeps it.  The plan cache re-analyzes it if
 * the extension's objects are dropped and created again.
 */
SPIPlanPtr
session_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "pg_dash could not prepare \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_dash could not keep the plan of \"%s\"", sql);
		*slot = plan;
	}
	return *slot;
}

/* Runs a prepared statement and checks that it succeeded. */
static void
session_exec(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, 0);

	if (rc < 0)
		elog(ERROR, "pg_dash session statement failed: %s", SPI_result_code_string(rc));
}

/*
 * Connects to SPI, failing loudly.  SPI needs an active snapshot: one is
 * pushed when the caller has none (session_spi_finish() pops it).
 */
bool
session_spi_connect(void)
{
	bool		pushed = !ActiveSnapshotSet();

	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return pushed;
}

/* Disconnects from SPI and pops a snapshot session_spi_connect() pushed. */
void
session_spi_finish(bool pushed)
{
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
}

/*
 * Copies column col of the first result row into context cxt as a
 * detoasted jsonb; NULL when there is no row or the value is NULL.
 */
Jsonb *
session_result_jsonb(int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d;
	MemoryContext old;
	Jsonb	   *result;

	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);
	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	result = DatumGetJsonbPCopy(d);
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * Hex SHA-256 (libcrypto's) of prefix followed by data: with no prefix and
 * the raw token bytes, the session id; with SESSION_CSRF_PREFIX and the
 * cookie's value, the CSRF token.
 */
static void
session_hash(const char *prefix, const uint8 *data, size_t len, char *out)
{
	size_t		prefix_len = strlen(prefix);
	uint8	   *input = palloc(prefix_len + len);
	uint8		digest[SHA256_DIGEST_LENGTH];

	memcpy(input, prefix, prefix_len);
	memcpy(input + prefix_len, data, len);
	if (SHA256(input, prefix_len + len, digest) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SHA-256 of a session token")));
	pfree(input);
	out[hex_encode((const char *) digest, sizeof(digest), out)] = '\0';
}

/* Hex SHA-256 of the raw token bytes: the session id. */
static void
session_hash_token(const uint8 *token, size_t len, char *id)
{
	session_hash("", token, len, id);
}

/* The CSRF token of a session whose cookie holds token (base64url). */
static void
session_csrf_of(const char *token, char *csrf)
{
	session_hash(SESSION_CSRF_PREFIX, (const uint8 *) token, strlen(token), csrf);
}

/*
 * Iterates over the values of the cookies called name in the request's
 * Cookie headers.  *h and *pos start at 0 and NULL; each call returns the
 * next value (not NUL-terminated, its length in *len) or NULL at the end.
 */
static const char *
session_cookie_next(const HttpRequest *req, const char *name, int *h,
					const char **pos, size_t *len)
{
	const size_t name_len = strlen(name);

	for (; req != NULL && *h < req->nheaders; (*h)++, *pos = NULL)
	{
		const HttpHeader *hdr = &req->headers[*h];
		const char *end = hdr->value + hdr->value_len;

		if (hdr->name_len != 6 || pg_strncasecmp(hdr->name, "cookie", 6) != 0)
			continue;
		if (*pos == NULL)
			*pos = hdr->value;
		while (*pos < end)
		{
			const char *p = *pos;
			const char *pair_end = memchr(p, ';', end - p);
			const char *eq;

			if (pair_end == NULL)
				pair_end = end;
			*pos = pair_end + 1;
			while (p < pair_end && (*p == ' ' || *p == '\t'))
				p++;
			eq = memchr(p, '=', pair_end - p);
			if (eq != NULL && (size_t) (eq - p) == name_len && memcmp(p, name, name_len) == 0)
			{
				const char *val = eq + 1;
				size_t		val_len = pair_end - val;

				while (val_len > 0 && (val[val_len - 1] == ' ' || val[val_len - 1] == '\t'))
					val_len--;
				*len = val_len;
				return val;
			}
		}
	}
	return NULL;
}

/*
 * Finds a well-formed pg_dash_session token in the request's Cookie headers:
 * fills raw (SESSION_TOKEN_BYTES) and token (SESSION_TOKEN_LEN + 1) and
 * returns true.  Malformed values are skipped.
 */
static bool
session_cookie_token(const HttpRequest *req, uint8 *raw, char *token)
{
	int			h = 0;
	const char *pos = NULL;
	const char *val;
	size_t		val_len;

	/* a request with a bearer token has no cookie session (bearer.c) */
	if (bearer_request_role() != NULL)
		return false;
	while ((val = session_cookie_next(req, SESSION_COOKIE_NAME, &h, &pos, &val_len)) != NULL)
	{
		unsigned char buf[64];
		size_t		n;

		if (val_len == SESSION_TOKEN_LEN &&
			base64url_decode(val, val_len, buf, &n) &&
			n == SESSION_TOKEN_BYTES)
		{
			memcpy(raw, buf, SESSION_TOKEN_BYTES);
			memcpy(token, val, SESSION_TOKEN_LEN);
			token[SESSION_TOKEN_LEN] = '\0';
			return true;
		}
	}
	return false;
}

/* True when a and b (each len bytes) are equal, in time independent of where they differ. */
static bool
session_equal_const_time(const char *a, const char *b, size_t len)
{
	unsigned char diff = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		diff |= (unsigned char) a[i] ^ (unsigned char) b[i];
	return diff == 0;
}

/* True when the request carries the pg_dash_csrf cookie that belongs to token. */
static bool
session_csrf_cookie_matches(const HttpRequest *req, const char *token)
{
	char		csrf[65];
	int			h = 0;
	const char *pos = NULL;
	const char *val;
	size_t		val_len;

	session_csrf_of(token, csrf);
	while ((val = session_cookie_next(req, SESSION_CSRF_COOKIE_NAME, &h, &pos, &val_len)) != NULL)
		if (val_len == 64 && session_equal_const_time(val, csrf, 64))
			return true;
	return false;
}

/*
 * Checks the CSRF token of a request that changes something.  A request
 * without a well-formed session cookie has no ambient authority and passes;
 * one with it must send the session's token in X-CSRF-Token.  On refusal
 * *code and *detail say why.
 */
bool
session_csrf_check(HttpRequest *req, const char **code, const char **detail)
{
	uint8		raw[SESSION_TOKEN_BYTES];
	char		token[SESSION_TOKEN_LEN + 1];
	char		csrf[65];
	size_t		len;
	const char *sent;

	if (!session_cookie_token(req, raw, token))
		return true;
	sent = http_request_header(req, SESSION_CSRF_HEADER, &len);
	if (sent == NULL || len == 0)
	{
		*code = "csrf_token_missing";
		*detail = "The request carries the " SESSION_COOKIE_NAME " cookie but no "
			SESSION_CSRF_HEADER " header.";
		return false;
	}
	session_csrf_of(token, csrf);
	if (len != 64 || !session_equal_const_time(sent, csrf, 64))
	{
		*code = "csrf_token_invalid";
		*detail = "The " SESSION_CSRF_HEADER " header does not belong to the session of the "
			SESSION_COOKIE_NAME " cookie.";
		return false;
	}
	return true;
}

/* The session id of a request's cookie, without touching the table; NULL when none. */
char *
session_id_from_cookie(HttpRequest *req)
{
	uint8		raw[SESSION_TOKEN_BYTES];
	char		token[SESSION_TOKEN_LEN + 1];
	char	   *id;

	if (!session_cookie_token(req, raw, token))
		return NULL;
	id = palloc(65);
	session_hash_token(raw, sizeof(raw), id);
	return id;
}

/*
 * True when the browser reached us over TLS, so the cookie gets Secure: the
 * connection is pg_dash's own TLS, or a trusted proxy says the browser used
 * HTTPS (transport.c); a client's own X-Forwarded-Proto counts for nothing.
 */
static bool
session_request_is_tls(const HttpRequest *req)
{
	return transport_current_https();
}

/*
 * Appends the Set-Cookie lines that store token in the browser: the session
 * cookie, and before it the CSRF token that the front end reads (so not
 * HttpOnly) and sends back in X-CSRF-Token.
 */
static void
session_append_cookie(HeaderList *headers, const HttpRequest *req, const char *token)
{
	char		csrf[65];
	const char *secure = session_request_is_tls(req) ? "; Secure" : "";

	if (headers == NULL)
		return;
	session_csrf_of(token, csrf);
	header_addf(headers, "Set-Cookie", "%s=%s; Path=/; Max-Age=%d; SameSite=Strict%s",
				SESSION_CSRF_COOKIE_NAME, csrf, session_ttl, secure);
	header_addf(headers, "Set-Cookie", "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
				SESSION_COOKIE_NAME, token, session_ttl, secure);
}

/* Draws a new random token and computes its session id. */
static void
session_new_token(char *token, char *id)
{
	uint8		raw[SESSION_TOKEN_BYTES];

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random session token")));
	base64url_encode(raw, sizeof(raw), token);
	session_hash_token(raw, sizeof(raw), id);
}

/* A fresh session that is not stored yet: a new token and its id. */
Session *
session_new(void)
{
	Session    *session = palloc0(sizeof(Session));

	StaticAssertStmt(sizeof(session->token) == SESSION_TOKEN_LEN + 1, "token size");
	session_new_token(session->token, session->id);
	session->is_new = true;
	return session;
}

/* The unexpired sessions, counted now in the caller's transaction. */
static uint64
session_count_unexpired(void)
{
	bool		pushed = session_spi_connect();
	uint64		n = 0;

	if (SPI_execute("SELECT count(*) FROM pg_dash.session_state WHERE expires_at > pg_catalog.now()",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		n = isnull ? 0 : (uint64) DatumGetInt64(d);
	}
	session_spi_finish(pushed);
	return n;
}

/*
 * Stores a new session's row and appends its Set-Cookie line, if the
 * budgets allow one more session.  The row may exist already when an
 * action's pg_dash.set_state() wrote it; it is then kept as it is.
 */
bool
session_save(Session *session, const Conn *conn, HttpRequest *req, HeaderList *headers,
			 QueryFailure *why, int *retry_after)
{
	bool		pushed;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];

	if (session->saved)
		return true;
	/* nor does it get one: nothing is stored, no cookie is set */
	if (bearer_request_role() != NULL)
		return true;
	if (!session_budget_admit(conn, why, retry_after))
	{
		uint64		start;

		if (why->status != 0)
			return false;
		/* the estimate says full: count, then ask again */
		start = session_budget_count_start();
		session_budget_counted(session_count_unexpired(), start);
		if (!session_budget_admit(conn, why, retry_after))
		{
			if (why->status == 0)
				elog(ERROR, "pg_dash session budget asked for a second count");
			return false;
		}
	}
	values[0] = CStringGetTextDatum(session->id);
	values[1] = Int32GetDatum(session_ttl);
	pushed = session_spi_connect();
	session_exec(session_plan(&plan_insert,
							  "INSERT INTO pg_dash.session_state (id, expires_at) "
							  "VALUES ($1, pg_catalog.now() + $2 * interval '1 second') "
							  "ON CONFLICT (id) DO NOTHING",
							  2, types),
				 values, NULL, false);
	session_spi_finish(pushed);
	metrics_count(METRIC_SESSIONS_CREATED, 1);
	session->saved = true;
	session_append_cookie(headers, req, session->token);
	return true;
}

/* True when a session has a row, expired or not. */
bool
session_exists(const char *id)
{
	bool		pushed;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		found;

	values[0] = CStringGetTextDatum(id);
	pushed = session_spi_connect();
	session_exec(session_plan(&plan_exists,
							  "SELECT 1 FROM pg_dash.session_state WHERE id = $1",
							  1, types),
				 values, NULL, false);	/* sees what this transaction wrote */
	found = SPI_processed == 1;
	session_spi_finish(pushed);
	return found;
}

/*
 * Finds the request's session from its cookie; NULL when there is none.
 * Refreshes the expiry (and the cookie) once a tenth of the TTL has passed
 * since the last refresh.  An expired row is deleted.
 */
Session *
session_find(HttpRequest *req, HeaderList *headers)
{
	bool		pushed;
	uint8		raw[SESSION_TOKEN_BYTES];
	char		token[SESSION_TOKEN_LEN + 1];
	Session    *session;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	bool		live = false;
	bool		stale = false;
	bool		found = false;

	if (!session_cookie_token(req, raw, token))
		return NULL;

	session = palloc0(sizeof(Session));
	session->saved = true;
	session_hash_token(raw, sizeof(raw), session->id);
	values[0] = CStringGetTextDatum(session->id);
	values[1] = Int32GetDatum(session_ttl);

	pushed = session_spi_connect();
	session_exec(session_plan(&plan_lookup,
							  "SELECT s.expires_at > pg_catalog.now(), "
							  "       s.last_seen < pg_catalog.now() - $2 * interval '100 milliseconds' "
							  "FROM pg_dash.session_state s WHERE s.id = $1",
							  2, types),
				 values, NULL, false);
	if (SPI_processed == 1)
	{
		bool		isnull;

		found = true;
		live = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		stale = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (live && stale)
	{
		session_exec(session_plan(&plan_touch,
								  "UPDATE pg_dash.session_state "
								  "SET last_seen = pg_catalog.now(), "
								  "    expires_at = pg_catalog.now() + $2 * interval '1 second' "
								  "WHERE id = $1",
								  2, types),
					 values, NULL, false);
		/* gone in the meantime (rotated or swept): start afresh */
		live = SPI_processed == 1;
	}
	else if (found && !live)
		session_exec(session_plan(&plan_expire,
								  "DELETE FROM pg_dash.session_state "
								  "WHERE id = $1 AND expires_at <= pg_catalog.now()",
								  1, types),
					 values, NULL, false);
	session_spi_finish(pushed);

	if (!live)
	{
		pfree(session);
		return NULL;
	}
	/* a browser that lost its CSRF cookie gets both again */
	if (stale || !session_csrf_cookie_matches(req, token))
		session_append_cookie(headers, req, token);
	return session;
}

/* True when id is a session id: 64 lowercase hexadecimal digits. */
static bool
session_id_valid(const char *id)
{
	int			n = 0;

	for (; *id; id++, n++)
		if (!((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'f')))
			return false;
	return n == 64;
}

/*
 * Makes a session known to SQL for the rest of the current transaction.
 * NULL or "" binds "no session" for a request whose client has none yet:
 * no token hashes to SESSION_NONE_ID and pg_dash.set_state() refuses it, so
 * it never has a row and pg_dash.state() reads {}.
 */
void
session_bind(const char *id)
{
	Assert(id == NULL || id[0] == '\0' || session_id_valid(id));
	bound.lxid = MyProc->lxid;
	strlcpy(bound.id, id && id[0] ? id : SESSION_NONE_ID, sizeof(bound.id));
	bound.used = false;
}

/* The session id of the last session_bind(), without marking it used. */
const char *
session_bound_id(void)
{
	return bound.id;
}

/*
 * Whether the state functions used the session of the last session_bind(),
 * asked after its transaction ended (a holdable cursor may call them during
 * COMMIT).
 */
bool
session_bound_used(void)
{
	return bound.used;
}

/*
 * SQL pg_dash.bind_session(id): binds a session to the current transaction
 * by hand, as a request would.  Superusers only: a request's SQL runs as the
 * served role and so can never choose another session.
 */
Datum
pg_dash_bind_session(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to bind a session"),
				 errdetail("Only superusers can choose the session of a transaction.")));
	if (!session_id_valid(id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid session id \"%s\"", id),
				 errdetail("A session id is 64 lowercase hexadecimal digits.")));
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("pg_dash.bind_session() outside a transaction block lasts only for this statement")));
	session_bind(id);
	PG_RETURN_VOID();
}

/*
 * The state of a session, in the caller's context; NULL when the session
 * does not exist or has expired (the sweep may not have removed it yet).
 */
Jsonb *
session_read(const char *id)
{
	bool		pushed;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	Jsonb	   *result;

	/* writes not in the table yet (session_buffer.c) */
	if (session_buffer_read(id, &result))
		return result;
	values[0] = CStringGetTextDatum(id);
	pushed = session_spi_connect();
	session_exec(session_plan(&plan_read,
							  "SELECT s.data FROM pg_dash.session_state s "
							  "WHERE s.id = $1 AND s.expires_at > pg_catalog.now()",
							  1, types),
				 values, NULL, false);
	result = session_result_jsonb(1, cxt);
	session_spi_finish(pushed);
	return result;
}

/* Changes a session's state in one statement; false when the session does not exist. */
bool
session_write(const char *id, SessionWriteOp op, const char *key,
			  Jsonb *value, Jsonb **state, Jsonb **changes)
{
	bool		pushed;
	MemoryContext cxt = CurrentMemoryContext;
	Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	SPIPlanPtr	plan;
	bool		found;

	session_buffer_hold(id);
	values[0] = CStringGetTextDatum(id);
	values[1] = key ? CStringGetTextDatum(key) : (Datum) 0;
	values[2] = value ? JsonbPGetDatum(value) : (Datum) 0;

	pushed = session_spi_connect();
	switch (op)
	{
		case SESSION_WRITE_SET:
			plan = session_plan(&plan_set,
								"UPDATE pg_dash.session_state s "
								"SET data = s.data || pg_catalog.jsonb_build_object($2::text, $3::jsonb) "
								"WHERE s.id = $1 "
								"RETURNING s.data, pg_catalog.jsonb_build_object($2::text, $3::jsonb)",
								3, types);
			break;
		case SESSION_WRITE_DELETE:
			plan = session_plan(&plan_delete,
								"UPDATE pg_dash.session_state s "
								"SET data = s.data - $2::text "
								"WHERE s.id = $1 "
								"RETURNING s.data, pg_catalog.jsonb_build_object($2::text, NULL::jsonb)",
								2, types);
			break;
		case SESSION_WRITE_MERGE:
			types[1] = JSONBOID;
			values[1] = values[2];
			plan = session_plan(&plan_merge,
								"UPDATE pg_dash.session_state s "
								"SET data = pg_dash.jsonb_merge_patch(s.data, $2) "
								"WHERE s.id = $1 "
								"RETURNING s.data, "
								"  (SELECT pg_catalog.jsonb_object_agg(k, s.data -> k) "
								"   FROM pg_catalog.jsonb_object_keys($2) AS k)",
								2, types);
			break;
		case SESSION_WRITE_CLEAR:
			plan = session_plan(&plan_clear,
								"WITH old AS (SELECT o.id, o.data FROM pg_dash.session_state o "
								"             WHERE o.id = $1 FOR UPDATE) "
								"UPDATE pg_dash.session_state s SET data = '{}' "
								"FROM old WHERE s.id = old.id "
								"RETURNING s.data, "
								"  (SELECT pg_catalog.jsonb_object_agg(k, NULL::jsonb) "
								"   FROM pg_catalog.jsonb_object_keys(old.data) AS k)",
								1, types);
			break;
		default:
			elog(ERROR, "unknown session write %d", (int) op);
			plan = NULL;		/* keep the compiler quiet */
	}
	session_exec(plan, values, nulls, false);
	found = SPI_processed == 1;
	*state = session_result_jsonb(1, cxt);
	*changes = session_result_jsonb(2, cxt);
	session_spi_finish(pushed);

	if (found && strcmp(id, state_cache.id) == 0)
		state_cache.lxid = InvalidLocalTransactionId;
	return found;
}

/* Gives a session a new token, same data; false when the session does not exist. */
bool
session_rotate(Session *session, HttpRequest *req, HeaderList *headers, Jsonb **state)
{
	bool		pushed;
	MemoryContext cxt = CurrentMemoryContext;
	char		token[SESSION_TOKEN_LEN + 1];
	char		new_id[65];
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	bool		found;

	session_buffer_hold(session->id);
	session_new_token(token, new_id);
	values[0] = CStringGetTextDatum(session->id);
	values[1] = CStringGetTextDatum(new_id);
	values[2] = Int32GetDatum(session_ttl);

	pushed = session_spi_connect();
	session_exec(session_plan(&plan_rotate,
							  "UPDATE pg_dash.session_state "
							  "SET id = $2, last_seen = pg_catalog.now(), "
							  "    expires_at = pg_catalog.now() + $3 * interval '1 second' "
							  "WHERE id = $1 RETURNING data",
							  3, types),
				 values, NULL, false);
	found = SPI_processed == 1;
	*state = session_result_jsonb(1, cxt);
	session_spi_finish(pushed);

	if (found)
	{
		memcpy(session->id, new_id, sizeof(new_id));
		session_append_cookie(headers, req, token);
	}
	return found;
}

/* A jsonb value as JSON text, in the current memory context. */
char *
session_jsonb_text(Jsonb *value)
{
	return JsonbToCString(NULL, &value->root, VARSIZE(value));
}

/*
 * The session bound to this transaction, marked as used; a clear error
 * outside a request.
 */
static const char *
session_require_bound(const char *function)
{
	if (bound.lxid != MyProc->lxid || bound.id[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s can only be used while pg_dash serves a request", function),
				 errdetail("No browser session is bound to the current transaction."),
				 errhint("Call it from a named query, page or action served by pg_dash. "
						 "To try it by hand, a superuser can run SELECT pg_dash.bind_session('<id>') in a transaction.")));
	bound.used = true;
	return bound.id;
}

/* The bound session's whole state, read once per transaction. */
static Jsonb *
session_cached_state(const char *id)
{
	Jsonb	   *data;

	if (state_cache.lxid == MyProc->lxid &&
		state_cache.subid == GetCurrentSubTransactionId() &&
		strcmp(state_cache.id, id) == 0)
		return state_cache.data;

	/* a hot standby cannot read the UNLOGGED table: the primary has it */
	data = RecoveryInProgress() ? primary_state_read(id) : session_read(id);
	if (data == NULL)
		data = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	state_cache.data = MemoryContextAlloc(TopTransactionContext, VARSIZE(data));
	memcpy(state_cache.data, data, VARSIZE(data));
	strlcpy(state_cache.id, id, sizeof(state_cache.id));
	state_cache.lxid = MyProc->lxid;
	state_cache.subid = GetCurrentSubTransactionId();
	return state_cache.data;
}

/* SQL pg_dash.state(): the whole state of the request's session. */
Datum
pg_dash_state(PG_FUNCTION_ARGS)
{
	const char *id = session_require_bound("pg_dash.state()");
	Jsonb	   *data = session_cached_state(id);
	Jsonb	   *copy = palloc(VARSIZE(data));

	memcpy(copy, data, VARSIZE(data));
	PG_RETURN_JSONB_P(copy);
}

/* SQL pg_dash.state(key): one value of the request's session state, NULL when unset. */
Datum
pg_dash_state_key(PG_FUNCTION_ARGS)
{
	const char *id = session_require_bound("pg_dash.state(key)");
	text	   *key = PG_GETARG_TEXT_PP(0);
	Jsonb	   *data = session_cached_state(id);
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(data) ||
		getKeyJsonValueFromContainer(&data->root, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), &v) == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&v));
}

/*
 * SQL pg_dash.set_state(key, value): sets one key of the request's session
 * state (a NULL value removes it) and returns the new state; the table's
 * trigger announces the change.  Refused when the state would exceed pg_dash.session_max_bytes.
 */
Datum
pg_dash_set_state(PG_FUNCTION_ARGS)
{
	bool		pushed;
	const char *id = session_require_bound("pg_dash.set_state()");
	Oid			types[4] = {TEXTOID, TEXTOID, JSONBOID, INT4OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *state;
	size_t		bytes;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("session state key must not be null")));
	if (strcmp(id, SESSION_NONE_ID) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this request has no session to write to"),
				 errdetail("The browser has no session yet, and a query does not create one."),
				 errhint("Write state from an action or the state API, which create the session.")));
	values[0] = CStringGetTextDatum(id);
	values[1] = PG_GETARG_DATUM(0);
	values[2] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[2] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[3] = Int32GetDatum(session_ttl);

	session_buffer_hold(id);
	pushed = session_spi_connect();
	session_exec(session_plan(&plan_upsert,
							  "INSERT INTO pg_dash.session_state AS s (id, data, expires_at) "
							  "VALUES ($1, CASE WHEN $3 IS NULL THEN '{}'::jsonb "
							  "                 ELSE pg_catalog.jsonb_build_object($2, $3) END, "
							  "        pg_catalog.now() + $4 * interval '1 second') "
							  "ON CONFLICT (id) DO UPDATE "
							  "SET data = CASE WHEN $3 IS NULL THEN s.data - $2 "
							  "                ELSE s.data || pg_catalog.jsonb_build_object($2, $3) END "
							  "RETURNING s.data, pg_catalog.jsonb_build_object($2, $3)",
							  4, types),
				 values, nulls, false);
	state = session_result_jsonb(1, cxt);
	session_spi_finish(pushed);

	bytes = strlen(session_jsonb_text(state));
	if (bytes > (size_t) session_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("session state would exceed pg_dash.session_max_bytes"),
				 errdetail("The state would take %zu bytes; the limit is %d.", bytes, session_max_bytes),
				 errhint("Keep large data in tables and only keys or choices in the session state.")));

	/* what this transaction now sees */
	state_cache.data = MemoryContextAlloc(TopTransactionContext, VARSIZE(state));
	memcpy(state_cache.data, state, VARSIZE(state));
	strlcpy(state_cache.id, id, sizeof(state_cache.id));
	state_cache.lxid = MyProc->lxid;
	state_cache.subid = GetCurrentSubTransactionId();

	PG_RETURN_JSONB_P(state);
}

/* True when the extension's session table exists in this database. */
static bool
session_table_exists(void)
{
	Oid			nsp = get_namespace_oid("pg_dash", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("session_state", nsp));
}

/*
 * Deletes one batch of expired sessions in its own transaction; returns the
 * number deleted.  Rows locked by requests are skipped, not waited for.
 */
static uint64
session_sweep_batch(void)
{
	bool		pushed;
	uint64		deleted = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (session_table_exists())
	{
		pgstat_report_activity(STATE_RUNNING, "pg_dash: deleting expired sessions");
		pushed = session_spi_connect();
		session_exec(session_plan(&plan_sweep,
								  "DELETE FROM pg_dash.session_state "
								  "WHERE ctid = ANY (ARRAY("
								  "    SELECT e.ctid FROM pg_dash.session_state e "
								  "    WHERE e.expires_at <= pg_catalog.now() "
								  "    LIMIT " CppAsString2(SESSION_SWEEP_BATCH)
								  "    FOR UPDATE SKIP LOCKED)) "
								  "AND expires_at <= pg_catalog.now()",
								  0, NULL),
					 NULL, NULL, false);
		deleted = SPI_processed;
		session_spi_finish(pushed);
	}
	CommitTransactionCommand();
	return deleted;
}

/* One sweep batch; an error is logged, not raised, and ends the sweep. */
static uint64
session_sweep_batch_logged(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile uint64 deleted = 0;

	PG_TRY();
	{
		deleted = session_sweep_batch();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("pg_dash worker %d could not delete expired sessions: %s",
						worker_number, edata->message)));
		FreeErrorData(edata);
		deleted = 0;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return deleted;
}

/*
 * Counts the unexpired sessions for /metrics and the budget of
 * pg_dash.max_sessions; a failure only logs.
 */
static void
session_count_active(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	PG_TRY();
	{
		uint64		start = session_budget_count_start();
		uint64		n;

		StartTransactionCommand();
		n = session_count_unexpired();
		CommitTransactionCommand();
		metrics_set_sessions_active(n);
		session_budget_counted(n, start);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
}

/* Deletes expired sessions, a batch per transaction, a bounded number of batches. */
static void
session_sweep(void)
{
	uint64		total = 0;
	int			batches;

	for (batches = 0; batches < SESSION_SWEEP_MAX_BATCHES; batches++)
	{
		uint64		deleted = session_sweep_batch_logged();

		total += deleted;
		if (deleted < SESSION_SWEEP_BATCH)
			break;
	}
	metrics_count(METRIC_SESSIONS_EXPIRED, total);
	session_count_active();
	pgstat_report_activity(STATE_IDLE, NULL);
	if (total > 0)
		ereport(DEBUG1,
				(errmsg_internal("pg_dash worker %d deleted " UINT64_FORMAT " expired sessions",
								 worker_number, total)));
}

/*
 * Once a second: worker 0 sweeps every pg_dash.session_sweep_interval
 * seconds, on a primary only (a hot standby cannot read the UNLOGGED table,
 * let alone delete from it).
 */
void
session_sweep_tick(void)
{
	static TimestampTz last_sweep = 0;
	TimestampTz now;

	if (worker_number != 0 || RecoveryInProgress())
		return;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(last_sweep, now, session_sweep_interval * 1000))
		return;
	/* a streamed response may hold a transaction open between batches */
	if (IsTransactionOrTransactionBlock())
		return;
	last_sweep = now;
	session_sweep();
}
