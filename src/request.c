/*
 * request.c
 *		The request pipeline: begin a request transaction, run as the served
 *		role, end or abort it, capture its errors (request.h says why each
 *		step is done the way it is).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"

#include "auth.h"
#include "bearer.h"
#include "guc.h"
#include "query_cache.h"
#include "request.h"
#include "session.h"
#include "worker_state.h"

bool		request_drop_stray_cancels = true;
int			request_stall_limit_ms = 0;
char		request_process[32] = "";
bool		request_allow_privileged_role = false;
bool		request_client_error_detail = false;

/* Defines the settings of the request pipeline. */
void
request_define_gucs(void)
{
	DefineCustomBoolVariable("pg_dash.allow_privileged_role",
							 "Lets pg_dash.role have BYPASSRLS, CREATEROLE or membership in a role that reads or writes server files or all data.",
							 "A superuser is refused whatever this says.",
							 &request_allow_privileged_role,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_dash.client_error_detail",
							 "Sends database error messages, details and hints to clients.",
							 "When off, clients get the SQLSTATE and a generic message; the server log always has everything.",
							 &request_client_error_detail,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
}

/* Maps an SQLSTATE to the HTTP status of the error response. */
int
request_http_status(int sqlerrcode)
{
	char	   *state = unpack_sql_state(sqlerrcode);

	switch (sqlerrcode)
	{
		case ERRCODE_INSUFFICIENT_PRIVILEGE:
		case ERRCODE_READ_ONLY_SQL_TRANSACTION:
		case ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION:
			return 403;
		case ERRCODE_UNDEFINED_OBJECT:
			return 404;
		case ERRCODE_QUERY_CANCELED:
			return 504;
		case ERRCODE_T_R_SERIALIZATION_FAILURE:
		case ERRCODE_T_R_DEADLOCK_DETECTED:
		case ERRCODE_LOCK_NOT_AVAILABLE:
			return 409;
		case ERRCODE_RAISE_EXCEPTION:
			return 400;
		default:
			break;
	}
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "42", 2) == 0 ||
		strncmp(state, "23", 2) == 0)
		return 400;
	if (strncmp(state, "28", 2) == 0)
		return 403;
	if (strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0 ||
		strncmp(state, "08", 2) == 0)
		return 503;
	return 500;
}

/* Makes r ready for request_catch(): errors are captured in the current context. */
void
request_init(RequestTxn *r)
{
	memset(r, 0, sizeof(*r));
	r->cxt = CurrentMemoryContext;
}

/* Begins a request transaction with its snapshot, SPI and activity report. */
void
request_begin(RequestTxn *r, const char *activity, const char *session_id)
{
	MemoryContext cxt = CurrentMemoryContext;

	request_init(r);
	/* a cancel that arrived before this request began was not meant for it */
	if (request_drop_stray_cancels)
		QueryCancelPending = false;
	INSTR_TIME_SET_CURRENT(r->started);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	r->open = true;
	pgstat_report_activity(STATE_RUNNING, activity);
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* rights changes the invalidations just read may carry (query_cache.c) */
	query_cache_settle_rights();
	session_bind(session_id);
	MemoryContextSwitchTo(cxt);
}

/* The attribute or membership of a role that escapes GRANTs or RLS; NULL when none. */
const char *
request_role_privilege(Oid roleid)
{
	static const struct
	{
		Oid			role;
		const char *name;
	}			dangerous[] =
	{
		{ROLE_PG_READ_SERVER_FILES, "pg_read_server_files"},
		{ROLE_PG_WRITE_SERVER_FILES, "pg_write_server_files"},
		{ROLE_PG_EXECUTE_SERVER_PROGRAM, "pg_execute_server_program"},
		{ROLE_PG_READ_ALL_DATA, "pg_read_all_data"},
		{ROLE_PG_WRITE_ALL_DATA, "pg_write_all_data"},
	};
	HeapTuple	tup;
	Form_pg_authid form;
	const char *what = NULL;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return "a role that no longer exists";
	form = (Form_pg_authid) GETSTRUCT(tup);
	if (form->rolbypassrls)
		what = "the BYPASSRLS attribute";
	else if (form->rolcreaterole)
		what = "the CREATEROLE attribute";
	ReleaseSysCache(tup);
	if (what)
		return what;
	for (int i = 0; i < lengthof(dangerous); i++)
		if (is_member_of_role(roleid, dangerous[i].role))
			return psprintf("membership in %s", dangerous[i].name);
	return NULL;
}

/*
 * Checks the role a bearer token names: it exists, may sign in as a
 * password could (auth_role_refusal: LOGIN, no superuser,
 * pg_dash.login_group), and holds nothing that bypasses GRANTs or RLS
 * (unless pg_dash.allow_privileged_role).  403 otherwise: the token is valid, its
 * role may not be served.
 */
static bool
request_resolve_token_role(RequestTxn *r, QueryFailure *f, const char *name)
{
	const char *hint = "Name a role with LOGIN and only the privileges dashboards need in the token's role claim (pg_dash.jwt_role_claim).";
	Oid			roleid = get_role_oid(name, true);
	const char *why;
	const char *privilege;

	if (!OidIsValid(roleid))
		return request_fail(f, 403, "forbidden", psprintf("the token's role \"%s\" does not exist", name),
							NULL, hint);
	why = auth_role_refusal(roleid, name);
	if (why != NULL)
		return request_fail(f, 403, "forbidden", psprintf("the token's role \"%s\" may not sign in", name),
							why, hint);
	privilege = request_role_privilege(roleid);
	if (privilege != NULL && !request_allow_privileged_role)
		return request_fail(f, 403, "forbidden", psprintf("the token's role \"%s\" has %s", name, privilege),
							"It would let request SQL bypass GRANTs or row-level security, or reach the server's files.",
							hint);
	r->roleid = roleid;
	r->role_name = MemoryContextStrdup(r->cxt, name);
	return true;
}

/*
 * Resolves the role of the request: the role a bearer token names, else the
 * signed-in person's, else pg_dash.role; false with *f filled.
 */
bool
request_resolve_role(RequestTxn *r, QueryFailure *f)
{
	Oid			roleid;
	const char *privilege;
	AuthViewer	viewer;

	if (bearer_request_role() != NULL)
		return request_resolve_token_role(r, f, bearer_request_role());
	if (!auth_resolve_viewer(session_bound_id(), &viewer, f))
		return false;
	if (viewer.signed_in)
	{
		/* a person's role that gained such a privilege after signing in */
		privilege = request_role_privilege(viewer.roleid);
		if (privilege != NULL && !request_allow_privileged_role)
			return request_fail(f, 403, "forbidden",
								psprintf("role \"%s\" has %s", viewer.role_name, privilege),
								"It would let request SQL bypass GRANTs or row-level security, or reach the server's files.",
								"Ask the administrator to take it away, or to set pg_dash.allow_privileged_role = on.");
		r->roleid = viewer.roleid;
		r->role_name = MemoryContextStrdup(r->cxt, viewer.role_name);
		r->signed_in = true;
		return true;
	}
	if (pg_dash_role == NULL || pg_dash_role[0] == '\0')
		return request_fail(f, 503, "unavailable", "pg_dash.role is not set",
							"pg_dash serves data as pg_dash.role, never as a superuser.",
							"Create a role without superuser rights, GRANT it what dashboards may read, "
							"set pg_dash.role to it in postgresql.conf and reload.");
	roleid = get_role_oid(pg_dash_role, true);
	if (!OidIsValid(roleid))
		return request_fail(f, 503, "unavailable",
							psprintf("pg_dash.role \"%s\" does not exist", pg_dash_role), NULL,
							"Create the role, or set pg_dash.role to an existing role and reload.");
	if (superuser_arg(roleid))
		return request_fail(f, 503, "unavailable",
							psprintf("pg_dash.role \"%s\" is a superuser", pg_dash_role),
							"pg_dash never serves data as a superuser.",
							"Set pg_dash.role to a role without superuser rights and reload.");
	privilege = request_role_privilege(roleid);
	if (privilege != NULL && !request_allow_privileged_role)
		return request_fail(f, 503, "unavailable",
							psprintf("pg_dash.role \"%s\" has %s", pg_dash_role, privilege),
							"It would let request SQL bypass GRANTs or row-level security, or reach the server's files.",
							"Serve data as a role without it (ALTER ROLE ... NOBYPASSRLS NOCREATEROLE, REVOKE the membership), "
							"or set pg_dash.allow_privileged_role = on and reload if that is really meant.");
	r->roleid = roleid;
	r->role_name = MemoryContextStrdup(r->cxt, pg_dash_role);
	return true;
}

/*
 * Switches to the resolved role the way PostgreSQL runs security-definer
 * code, so SQL cannot switch back; opens the request's GUC nest level and
 * arms the statement timeout.
 */
void
request_enter_role(RequestTxn *r, bool read_only)
{
	Assert(r->open && !r->switched && OidIsValid(r->roleid));
	r->guc_nestlevel = NewGUCNestLevel();
	GetUserIdAndSecContext(&r->save_userid, &r->save_sec_context);
	SetUserIdAndSecContext(r->roleid, r->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	r->switched = true;
	if (read_only)
		XactReadOnly = true;
	if (pg_dash_statement_timeout > 0 || request_stall_limit_ms > 0)
	{
		int			ms = pg_dash_statement_timeout;

		if (request_stall_limit_ms > 0 && (ms <= 0 || request_stall_limit_ms < ms))
			ms = request_stall_limit_ms;
		enable_timeout_after(STATEMENT_TIMEOUT, ms);
		r->timeout_on = true;
	}
}

/* Undoes every setting the request's SQL made (SET, set_config, even session-wide ones). */
static void
request_restore_settings(RequestTxn *r)
{
	if (r->guc_nestlevel > 0)
		AtEOXact_GUC(false, r->guc_nestlevel);
	r->guc_nestlevel = 0;
}

/* Disarms the statement timeout and takes back pg_dash's own identity. */
static void
request_restore_identity(RequestTxn *r)
{
	request_disarm_timeout(r);
	if (r->switched)
		SetUserIdAndSecContext(r->save_userid, r->save_sec_context);
	r->switched = false;
}

/* Whether a failure is the cancel of a run at request_stall_limit_ms. */
bool
request_over_stall_limit(const QueryFailure *f)
{
	return request_stall_limit_ms > 0 && f->code != NULL && strcmp(f->code, "57014") == 0;
}

/* Stops the statement timeout for a caller that counts its own budget. */
void
request_disarm_timeout(RequestTxn *r)
{
	if (r->timeout_on)
		disable_timeout(STATEMENT_TIMEOUT, false);
	r->timeout_on = false;
}

/* Back to pg_dash's own identity and settings inside the transaction. */
void
request_leave_role(RequestTxn *r)
{
	request_restore_settings(r);
	request_restore_identity(r);
}

/* Commits: settings are undone first, the role and timeout only after COMMIT. */
void
request_commit(RequestTxn *r)
{
	Assert(r->open);
	SPI_finish();
	PopActiveSnapshot();
	request_restore_settings(r);
	CommitTransactionCommand();
	r->open = false;
	request_restore_identity(r);
	r->read_state = session_bound_used();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(r->cxt);
}

/* Aborts: PostgreSQL restores the identity and every setting itself. */
void
request_abort(RequestTxn *r)
{
	AbortCurrentTransaction();
	r->open = false;
	r->guc_nestlevel = 0;
	request_restore_identity(r);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (r->cxt)
		MemoryContextSwitchTo(r->cxt);
}

/*
 * A message for a client that says what kind of error happened without
 * naming anything inside the database.
 */
static const char *
request_generic_message(const char *state)
{
	if (strcmp(state, "42501") == 0)
		return "permission denied";
	if (strncmp(state, "22", 2) == 0)
		return "invalid data or parameter value";
	if (strncmp(state, "23", 2) == 0)
		return "the change violates a constraint";
	if (strncmp(state, "25", 2) == 0)
		return "not allowed in this request's transaction (it is read-only)";
	if (strncmp(state, "40", 2) == 0)
		return "conflict with a concurrent request; try again";
	if (strncmp(state, "42", 2) == 0)
		return "the query is not valid for this database";
	if (strncmp(state, "53", 2) == 0)
		return "the server is out of resources";
	return "the request failed";
}

/* Captures the error being handled into *f and aborts the transaction. */
void
request_catch(RequestTxn *r, const char *what, QueryFailure *f)
{
	ErrorData  *edata;
	char	   *state;
	int			status;

	MemoryContextSwitchTo(r->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	request_abort(r);
	state = unpack_sql_state(edata->sqlerrcode);
	status = request_http_status(edata->sqlerrcode);

	/* the server log has everything, for every failure */
	if (request_stall_limit_ms > 0 && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ereport(LOG,
				(errmsg("pg_dash worker %d: %s took over %d ms in the serving loop; an executor runs it instead",
						worker_number, what, request_stall_limit_ms)));
	else
		ereport(LOG,
				(errmsg("pg_dash %s: %s failed: %s", request_process_name(), what, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				 edata->hint ? errhint("%s", edata->hint) : 0));

	/*
	 * Messages the dashboard's author raised for viewers, and cancellations
	 * (timeouts), carry no internal names; other database errors reach a
	 * client only as their SQLSTATE unless the administrator allows more.
	 */
	if (request_client_error_detail || edata->sqlerrcode == ERRCODE_RAISE_EXCEPTION)
		request_fail(f, status, state, edata->message, edata->detail, edata->hint);
	else if (strncmp(state, "57", 2) == 0)
		request_fail(f, status, state, edata->message, NULL, NULL);
	else
		request_fail(f, status, state, request_generic_message(state),
					 "The server log has the database's own message.",
					 "Set pg_dash.client_error_detail = on to send database error messages to clients.");
}

/* What the server log calls this process: "executor 1" or "worker 0". */
const char *
request_process_name(void)
{
	return request_process[0] ? request_process : psprintf("worker %d", worker_number);
}

/* Milliseconds since request_begin(). */
double
request_elapsed_ms(RequestTxn *r)
{
	instr_time	elapsed;

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, r->started);
	return INSTR_TIME_GET_MILLISEC(elapsed);
}
