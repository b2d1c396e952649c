/*
 * request.h
 *		The request pipeline: every transaction pg_dash runs for a request,
 *		and every piece of SQL a request runs, goes through here.
 *
 * A request transaction is begun (statement start time, transaction,
 * snapshot, SPI, pg_stat_activity), may switch to the served role, and is
 * committed or aborted.  The switch is PostgreSQL's own security-definer
 * mechanism: SetUserIdAndSecContext() with SECURITY_LOCAL_USERID_CHANGE, so
 * SQL cannot undo it (SET ROLE, RESET ROLE, set_config('role', ...) and SET
 * SESSION AUTHORIZATION fail inside), kept through COMMIT (a holdable cursor
 * computes its remaining rows there).  Everything the request's SQL sets
 * lives in its own GUC nest level and is undone before pg_dash's own SQL runs
 * again.  Errors are captured into a RequestFailure; the server log always
 * has the whole error, a client gets its details only when
 * pg_dash.client_error_detail allows.
 */
#ifndef PG_DASH_REQUEST_H
#define PG_DASH_REQUEST_H

#include "portability/instr_time.h"

#include "request_failure.h"

/* One request transaction; zero it (or use request_begin) before use. */
typedef struct RequestTxn
{
	bool		open;			/* a transaction is in progress */
	bool		switched;		/* running as the served role */
	bool		read_state;		/* the request's SQL read or wrote session
								 * state (known after commit) */
	Oid			roleid;			/* the served role, once resolved */
	char	   *role_name;
	bool		signed_in;		/* the role is a signed-in person's, not
								 * pg_dash.role */
	Oid			save_userid;
	int			save_sec_context;
	int			guc_nestlevel;
	bool		timeout_on;
	MemoryContext cxt;			/* the caller's context, current again after
								 * every call */
	instr_time	started;
} RequestTxn;

/*
 * Whether request_begin() drops a cancel that arrived before the request
 * began (serving workers: it was meant for an earlier request).  Executors
 * turn it off: a cancel they see is always for the job they run.
 */
extern bool request_drop_stray_cancels;

/*
 * When above 0, the most milliseconds a statement of the request at hand may
 * run, below pg_dash.statement_timeout: a serving worker's inline run.
 */
extern int	request_stall_limit_ms;

/* Whether a failure is the cancel of a run at request_stall_limit_ms. */
extern bool request_over_stall_limit(const QueryFailure *f);

/* What the server log calls this process ("executor 1"); "" for a serving worker. */
extern char request_process[32];

/* Settings (pg_dash.allow_privileged_role, pg_dash.client_error_detail). */
extern bool request_allow_privileged_role;
extern bool request_client_error_detail;

extern void request_define_gucs(void);

/*
 * Makes r ready for request_catch() before PG_TRY: errors are captured in
 * the current memory context.
 */
extern void request_init(RequestTxn *r);

/*
 * Begins a transaction for a request: activity names it in
 * pg_stat_activity, session_id ("" or NULL: none) is the browser session
 * the state functions see.
 */
extern void request_begin(RequestTxn *r, const char *activity, const char *session_id);

/*
 * Resolves the role the request runs as: the role its bearer token names
 * (bearer.c; it must be one that may sign in), else the signed-in person's
 * role of the bound session (pg_dash.auth = password), else pg_dash.role,
 * which must exist, be no superuser and hold no privilege that bypasses
 * GRANTs or RLS unless pg_dash.allow_privileged_role; false with *f filled
 * otherwise (401 when signed-out viewers are not served, 403 for a token's
 * or a person's role that may not be served, 503 for pg_dash.role).  Needs
 * an open transaction.
 */
extern bool request_resolve_role(RequestTxn *r, QueryFailure *f);

/*
 * The attribute or membership of a role that escapes GRANTs or RLS, as a
 * phrase ("the BYPASSRLS attribute"); NULL when it has none.
 */
extern const char *request_role_privilege(Oid roleid);

/* What the server log calls this process: "executor 1" or "worker 0". */
extern const char *request_process_name(void);

/*
 * Runs the rest of the request as the resolved role, read-only or not,
 * under pg_dash.statement_timeout, in a GUC nest level of its own.
 */
extern void request_enter_role(RequestTxn *r, bool read_only);

/* Stops the statement timeout for a caller that counts its own budget. */
extern void request_disarm_timeout(RequestTxn *r);

/* Back to pg_dash's own identity and settings inside the transaction. */
extern void request_leave_role(RequestTxn *r);

/* Ends the request: commits (the role stays switched through COMMIT). */
extern void request_commit(RequestTxn *r);

/* Ends the request: aborts; harmless when no transaction is open. */
extern void request_abort(RequestTxn *r);

/*
 * In a PG_CATCH block: captures the error into *f (status from its
 * SQLSTATE), logs it when it is the server's fault, and aborts.  what names
 * the request in the log.
 */
extern void request_catch(RequestTxn *r, const char *what, QueryFailure *f);

/* Milliseconds since request_begin(). */
extern double request_elapsed_ms(RequestTxn *r);

/* Maps an SQLSTATE to the HTTP status of its error response. */
extern int	request_http_status(int sqlerrcode);

#endif							/* PG_DASH_REQUEST_H */
