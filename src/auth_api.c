/*
 * auth_api.c
 *		The sign-in endpoints and the password check
 *
 *	POST	/api/login		{"username","password"} or a form post: signs in
 *	POST	/api/logout		signs out (the session ends)
 *	GET		/api/me			the signed-in role, or 401
 *
 * The password is checked in process the way PostgreSQL's password
 * authentication checks it: get_role_password() (no role, no password or an
 * expired rolvaliduntil give none) and plain_crypt_verify() against the
 * stored SCRAM-SHA-256 or MD5 secret.  A role that does not exist is checked
 * against a dummy SCRAM secret, so that it costs the same time as a wrong
 * password.  Like every /api request this runs in an executor, never in a
 * serving loop.  The delays after failed attempts are auth.c's.
 */
#include "postgres.h"

#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "libpq/crypt.h"
#include "libpq/scram.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "access.h"
#include "auth.h"
#include "guc.h"
#include "http_response.h"
#include "query_http.h"
#include "request.h"
#include "session.h"
#include "transport.h"

/* Longest user name and password accepted, in bytes. */
#define AUTH_MAX_PASSWORD 1024

/* This process's dummy SCRAM secret, built at its first sign-in attempt. */
static char *auth_dummy_secret = NULL;

/* Replies with a JSON object and no caching. */
static void
auth_reply_json(Conn *conn, HttpRequest *req, int status, HeaderList *headers, const char *json)
{
	header_add(headers, "Cache-Control", "no-store");
	http_reply(conn, req, status, "application/json; charset=utf-8", headers, json, strlen(json));
}

/* The credentials of a sign-in: a JSON object or a form post. */
static bool
auth_parse_credentials(HttpRequest *req, char **username, char **password, bool *form,
					   QueryFailure *f)
{
	size_t		ctlen;
	const char *ctype = http_request_header(req, "Content-Type", &ctlen);

	*username = *password = NULL;
	*form = ctype != NULL && ctlen >= 33 &&
		pg_strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
	if (*form)
	{
		const char *cursor = req->body;
		char	   *key;
		char	   *value;
		bool		error = false;

		while (http_query_next(&cursor, req->body + req->body_len, &key, &value, &error))
		{
			if (strcmp(key, "username") == 0 && *username == NULL)
				*username = pstrdup(value);
			else if (strcmp(key, "password") == 0 && *password == NULL)
				*password = pstrdup(value);
			free(key);
			free(value);
		}
		if (error)
			return request_fail(f, 400, "bad_request", "the form is not valid",
								"A field has a bad percent escape or a NUL byte.", NULL);
	}
	else
	{
		cJSON	   *body = cJSON_ParseWithLength(req->body, req->body_len);
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(body, "username");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "password");

		if (!cJSON_IsObject(body))
			return request_fail(f, 400, "invalid_json", "the body is not a JSON object",
								NULL, "Send {\"username\":\"...\",\"password\":\"...\"}.");
		if (cJSON_IsString(u))
			*username = pstrdup(u->valuestring);
		if (cJSON_IsString(p))
			*password = pstrdup(p->valuestring);
	}
	if (*username == NULL || *password == NULL || (*username)[0] == '\0')
		return request_fail(f, 400, "bad_request", "a sign-in needs a username and a password",
							NULL, "Send {\"username\":\"...\",\"password\":\"...\"}.");
	if (strlen(*username) >= NAMEDATALEN || strlen(*password) > AUTH_MAX_PASSWORD ||
		!pg_verifymbstr(*username, strlen(*username), true) ||
		!pg_verifymbstr(*password, strlen(*password), true))
		return request_fail(f, 400, "bad_request", "the username or password is not valid",
							psprintf("A username is at most %d bytes and a password at most %d, in UTF-8.",
									 NAMEDATALEN - 1, AUTH_MAX_PASSWORD), NULL);
	return true;
}

/*
 * Checks a password as PostgreSQL's password authentication does.  A role
 * without a usable secret (none, no password, expired) is checked against
 * the dummy secret, so that every failure costs one SCRAM verification.
 * Returns true when it matches; *logdetail says why not.
 */
static bool
auth_check_password(const char *username, const char *password, const char **logdetail)
{
	char	   *secret;
	const char *ignored;

	if (auth_dummy_secret == NULL)
	{
		char	   *s = pg_be_scram_build_secret("pg_dash: no such role");

		auth_dummy_secret = MemoryContextStrdup(TopMemoryContext, s);
	}
	*logdetail = NULL;
	secret = get_role_password(username, logdetail);
	if (secret == NULL)
	{
		(void) plain_crypt_verify(username, auth_dummy_secret, password, &ignored);
		if (*logdetail == NULL)
			*logdetail = psprintf("Role \"%s\" has no usable password.", username);
		return false;
	}
	return plain_crypt_verify(username, secret, password, logdetail) == STATUS_OK;
}

/* How many unexpired sign-ins a role has now (for rolconnlimit). */
static int64
auth_count_signins(const char *role)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	bool		isnull;

	values[0] = CStringGetTextDatum(role);
	values[1] = Int32GetDatum(auth_signin_lifetime);
	if (SPI_execute_with_args("SELECT count(*) FROM pg_dash.session_state s "
							  "WHERE s.role = $1 AND s.expires_at > pg_catalog.now() "
							  "AND s.signed_in_at > pg_catalog.now() - $2 * interval '1 second'",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count the sign-ins of a role");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * What refuses a role whose password was right: the checks of every
 * request (auth_role_refusal), what the request pipeline refuses
 * (privileges that bypass GRANTs or RLS), CONNECT on the database and
 * rolconnlimit counted over its sign-ins.  NULL when it may sign in.
 */
static const char *
auth_signin_refusal(const char *username)
{
	Oid			roleid = get_role_oid(username, false);
	const char *why = auth_role_refusal(roleid, username);
	const char *privilege;
	HeapTuple	tup;
	int			connlimit;

	if (why != NULL)
		return why;
	privilege = request_role_privilege(roleid);
	if (privilege != NULL && !request_allow_privileged_role)
		return psprintf("Role \"%s\" has %s, which would bypass GRANTs or row-level security.",
						username, privilege);
	if (pg_database_aclcheck(MyDatabaseId, roleid, ACL_CONNECT) != ACLCHECK_OK)
		return psprintf("Role \"%s\" does not have CONNECT privilege on database \"%s\".",
						username, get_database_name(MyDatabaseId));
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return psprintf("Role \"%s\" does not exist.", username);
	connlimit = ((Form_pg_authid) GETSTRUCT(tup))->rolconnlimit;
	ReleaseSysCache(tup);
	if (connlimit >= 0 && auth_count_signins(username) >= connlimit)
		return psprintf("Role \"%s\" has its rolconnlimit of %d sign-ins already.",
						username, connlimit);
	return NULL;
}

/* Logs a failed or refused sign-in, in the server log and the access log. */
static void
auth_log_failure(Conn *conn, const char *username, const char *what, const char *logdetail)
{
	char	   *address = conn_peer_text(&conn->peer);

	ereport(LOG,
			(errmsg("pg_dash %s: %s for user \"%s\" from %s", request_process_name(), what, username, address),
			 logdetail ? errdetail_log("%s", logdetail) : 0));
	access_log_event("signin_failed", username, &conn->peer, logdetail ? logdetail : what);
}

/*
 * Signs the browser in as username: rotates its session (or creates one)
 * and records the role.  False with *f filled when the session budgets
 * refuse a new session.
 */
static bool
auth_start_session(Conn *conn, HttpRequest *req, const char *username, HeaderList *headers,
				   QueryFailure *f, int *retry_after)
{
	Session    *session = session_find(req, headers);
	Jsonb	   *state;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	/* the pre-sign-in id stops working (fixation); the data stays */
	header_list_init(headers);
	if (session == NULL || !session_rotate(session, req, headers, &state))
	{
		header_list_init(headers);
		session = session_new();
		if (!session_save(session, conn, req, headers, f, retry_after))
			return false;
	}
	values[0] = CStringGetTextDatum(session->id);
	values[1] = CStringGetTextDatum(username);
	if (SPI_execute_with_args("UPDATE pg_dash.session_state "
							  "SET role = $2, signed_in_at = pg_catalog.now() WHERE id = $1",
							  2, types, values, NULL, false, 0) != SPI_OK_UPDATE ||
		SPI_processed != 1)
		elog(ERROR, "pg_dash session vanished while signing in");
	return true;
}

/* Answers a sign-in: JSON, or for a form post a redirect to the start page. */
static void
auth_reply_signin(Conn *conn, HttpRequest *req, bool form, HeaderList *headers, const char *role)
{
	StringInfoData buf;

	if (form)
	{
		header_add(headers, "Location", "/");
		header_add(headers, "Cache-Control", "no-store");
		http_reply(conn, req, 303, "text/plain; charset=utf-8", headers, "signed in\n", 10);
		return;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"role\":");
	escape_json(&buf, role);
	appendStringInfoString(&buf, ",\"signed_in\":true}");
	auth_reply_json(conn, req, 200, headers, buf.data);
}

/* POST /api/login. */
static void
auth_login(Conn *conn, HttpRequest *req)
{
	MemoryContext reqcxt = CurrentMemoryContext;
	char	   *username;
	char	   *password;
	bool		form;
	long		wait_ms;
	QueryFailure failure;
	HeaderList	headers;
	RequestTxn	txn;
	volatile bool ok = false;
	volatile int retry_after = 0;
	const char *volatile refusal = NULL;
	const char *volatile logdetail = NULL;

	memset(&failure, 0, sizeof(failure));
	if (auth_mode != AUTH_PASSWORD)
	{
		http_reply_error(conn, req, 404, "sign_in_off", "sign-in is not enabled",
						 "pg_dash.auth is none: every viewer is served as pg_dash.role.",
						 "Set pg_dash.auth = password in postgresql.conf and reload.");
		return;
	}
	if (!transport_connection_is_secure(&conn->transport))
	{
		http_reply_error(conn, req, 403, "insecure_connection",
						 "sign-in over plain HTTP is only allowed from the server itself",
						 "A password sent over plain HTTP can be read on the way.",
						 "Sign in through a TLS-terminating proxy on the server, or from the server itself.");
		return;
	}
	if (!auth_parse_credentials(req, &username, &password, &form, &failure))
	{
		query_reply_failure(conn, req, &failure);
		return;
	}
	wait_ms = auth_delay_remaining(&conn->peer, username);
	if (wait_ms > 0)
	{
		http_reply_error_with(conn, req, 429,
							  header_list_of("Retry-After", psprintf("%ld", (wait_ms + 999) / 1000)),
							  "too_many_attempts", "too many failed sign-ins; wait before trying again",
							  psprintf("The next attempt for this user from this address is checked in %ld ms.", wait_ms),
							  "Failed sign-ins slow down the next ones; a right password is accepted after the wait.");
		return;
	}

	header_list_init(&headers);
	request_init(&txn);
	PG_TRY();
	{
		const char *detail = NULL;

		request_begin(&txn, "pg_dash: sign-in", NULL);
		if (!auth_check_password(username, password, &detail))
			logdetail = detail;
		else
		{
			refusal = auth_signin_refusal(username);
			if (refusal == NULL)
			{
				int			retry = 0;

				ok = auth_start_session(conn, req, username, &headers, &failure, &retry);
				retry_after = retry;
			}
		}
		if (ok)
			request_commit(&txn);
		else
			request_abort(&txn);
	}
	PG_CATCH();
	{
		request_catch(&txn, "sign-in", &failure);
		ok = false;
		query_reply_failure(conn, req, &failure);
		return;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(reqcxt);
	memset(password, 0, strlen(password));

	if (ok)
	{
		auth_delay_clear(&conn->peer, username);
		ereport(LOG,
				(errmsg("pg_dash %s: user \"%s\" signed in from %s", request_process_name(), username,
						conn_peer_text(&conn->peer))));
		access_log_event("signin", username, &conn->peer, NULL);
		auth_reply_signin(conn, req, form, &headers, username);
	}
	else if (refusal != NULL)
	{
		auth_log_failure(conn, username, "sign-in refused", refusal);
		http_reply_error(conn, req, 403, "sign_in_refused", "this role may not sign in to pg_dash",
						 refusal, "Ask the administrator.");
	}
	else if (retry_after > 0)
		http_reply_error_with(conn, req, failure.status,
							  header_list_of("Retry-After", psprintf("%d", retry_after)),
							  failure.code, failure.message, failure.detail, failure.hint);
	else
	{
		long		delay = auth_delay_failed(&conn->peer, username);

		auth_log_failure(conn, username, "password authentication failed", logdetail);
		http_reply_error(conn, req, 401, "sign_in_failed", "wrong username or password",
						 delay > 0 ? psprintf("The next attempt is checked in %ld ms.", delay) : NULL,
						 NULL);
	}
}

/* Appends the Set-Cookie lines that remove both session cookies from the browser. */
static void
auth_clear_cookies(HeaderList *headers)
{
	header_add(headers, "Set-Cookie", SESSION_CSRF_COOKIE_NAME "=; Path=/; Max-Age=0; SameSite=Strict");
	header_add(headers, "Set-Cookie", SESSION_COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

/*
 * POST /api/logout: ends the session (its row and state go, the cookies are
 * removed), so the next use starts a new, signed-out session.
 */
static void
auth_logout(Conn *conn, HttpRequest *req)
{
	char	   *session_id = session_id_from_cookie(req);
	char	   *volatile role = NULL;
	HeaderList	headers;
	RequestTxn	txn;
	QueryFailure failure;

	request_init(&txn);
	PG_TRY();
	{
		request_begin(&txn, "pg_dash: sign-out", NULL);
		if (session_id != NULL)
		{
			Oid			types[1] = {TEXTOID};
			Datum		values[1];

			values[0] = CStringGetTextDatum(session_id);
			if (SPI_execute_with_args("DELETE FROM pg_dash.session_state s WHERE s.id = $1 "
									  "RETURNING s.role",
									  1, types, values, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
				elog(ERROR, "could not end the session");
			if (SPI_processed == 1)
			{
				char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

				if (v != NULL)
					role = MemoryContextStrdup(txn.cxt, v);
			}
		}
		request_commit(&txn);
	}
	PG_CATCH();
	{
		request_catch(&txn, "sign-out", &failure);
		query_reply_failure(conn, req, &failure);
		return;
	}
	PG_END_TRY();

	if (role != NULL)
	{
		ereport(LOG,
				(errmsg("pg_dash %s: user \"%s\" signed out from %s", request_process_name(), role,
						conn_peer_text(&conn->peer))));
		access_log_event("signout", role, &conn->peer, NULL);
	}
	header_list_init(&headers);
	auth_clear_cookies(&headers);
	auth_reply_json(conn, req, 200, &headers,
					role != NULL ? "{\"signed_in\":false,\"signed_out\":true}" :
					"{\"signed_in\":false,\"signed_out\":false}");
}

/* GET /api/me: the signed-in role, or 401 saying whether signing in is possible or needed. */
static void
auth_me(Conn *conn, HttpRequest *req)
{
	AuthViewer viewer;
	QueryFailure failure;
	RequestTxn	txn;
	volatile bool known = false;
	HeaderList	headers;
	StringInfoData buf;

	if (auth_mode != AUTH_PASSWORD)
	{
		http_reply_error(conn, req, 401, "sign_in_off", "nobody is signed in: sign-in is not enabled",
						 "pg_dash.auth is none: every viewer is served as pg_dash.role.", NULL);
		return;
	}
	memset(&viewer, 0, sizeof(viewer));
	request_init(&txn);
	PG_TRY();
	{
		request_begin(&txn, "pg_dash: who am I", NULL);
		known = auth_resolve_viewer(session_id_from_cookie(req), &viewer, &failure);
		if (viewer.role_name)
			viewer.role_name = MemoryContextStrdup(txn.cxt, viewer.role_name);
		request_commit(&txn);
	}
	PG_CATCH();
	{
		request_catch(&txn, "who am I", &failure);
		query_reply_failure(conn, req, &failure);
		return;
	}
	PG_END_TRY();

	if (!known)
	{
		http_reply_error(conn, req, 401, "sign_in_required", "nobody is signed in",
						 "Signed-out viewers are not served.",
						 "POST /api/login with a username and password.");
		return;
	}
	if (!viewer.signed_in)
	{
		http_reply_error(conn, req, 401, "not_signed_in", "nobody is signed in",
						 "Signed-out viewers are served as pg_dash.role.",
						 "POST /api/login with a username and password to see what your role may see.");
		return;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"role\":");
	escape_json(&buf, viewer.role_name);
	appendStringInfoString(&buf, ",\"signed_in\":true}");
	header_list_init(&headers);
	auth_reply_json(conn, req, 200, &headers, buf.data);
}

/* Handles /api/login, /api/logout and /api/me; false for other paths. */
bool
auth_api_dispatch(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;
	bool		post = http_method_is(req, "POST");

	if (strcmp(path, "/api/login") == 0 || strcmp(path, "/api/logout") == 0)
	{
		if (!post)
			http_reply_error_with(conn, req, 405, header_list_of("Allow", "POST"),
								  "method_not_allowed", "use POST", NULL, NULL);
		else if (strcmp(path, "/api/login") == 0)
			auth_login(conn, req);
		else
			auth_logout(conn, req);
		return true;
	}
	if (strcmp(path, "/api/me") == 0)
	{
		if (http_method_is(req, "GET") || http_method_is(req, "HEAD"))
			auth_me(conn, req);
		else
			http_reply_error_with(conn, req, 405, header_list_of("Allow", "GET, HEAD"),
								  "method_not_allowed", "use GET", NULL, NULL);
		return true;
	}
	return false;
}
