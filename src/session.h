/*
 * session.h
 *		Per-browser session state (Streamlit's session_state, kept in the
 *		UNLOGGED table pg_dash.session_state; pg_dash.sessions is the admin
 *		view of it, without tokens).
 */
#ifndef PG_DASH_SESSION_H
#define PG_DASH_SESSION_H

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "conn.h"
#include "header_list.h"

struct QueryFailure;

/*
 * The internal channel on which state changes are announced to all workers
 * (by a trigger on pg_dash.session_state; the payload is the row's notify_id).
 */
#define SESSION_STATE_CHANNEL "pg_dash_state"

/* The cookie that carries the session token. */
#define SESSION_COOKIE_NAME "pg_dash_session"

/*
 * The CSRF token of a session: hex SHA-256 of SESSION_CSRF_PREFIX and the
 * session cookie's value, computed when needed and never stored.  It is set
 * in a cookie the front end can read and must come back in the header on
 * every cookie-authenticated request that changes something (docs/api.md).
 */
#define SESSION_CSRF_COOKIE_NAME "pg_dash_csrf"
#define SESSION_CSRF_HEADER "X-CSRF-Token"
#define SESSION_CSRF_PREFIX "pg_dash csrf:"

typedef struct Session
{
	char		id[65];			/* hex SHA-256 of the cookie token: the key in pg_dash.session_state */
	bool		is_new;			/* created by this request */
	bool		saved;			/* has its row; a new session gets one when state is first written */
	char		token[44];		/* a new session's cookie token, "" otherwise */
} Session;

/* Settings (pg_dash.session_ttl, ...), defined by session_define_gucs(). */
extern int	session_ttl;
extern int	session_sweep_interval;
extern int	session_max_bytes;
extern int	session_max_sessions;
extern int	session_max_new_per_ip;

/*
 * Finds the request's session from its cookie; NULL when the cookie is
 * absent, malformed, unknown or expired (nothing is created: reads see an
 * empty state, and the first write creates the session).  Appends a
 * Set-Cookie header line to headers when the browser must refresh its
 * cookie.  Must run inside a transaction the caller started, before any SET
 * ROLE.  Never errors for a bad cookie.
 */
extern Session *session_find(HttpRequest *req, HeaderList *headers);

/* A fresh session (token and id) that is not stored yet: see session_save(). */
extern Session *session_new(void);

/*
 * Stores a new session's row (unless SQL already did) and appends its
 * Set-Cookie line, within the budgets of session_budget_admit(); when
 * refused, false with *why filled (429 when the client's address is over
 * pg_dash.max_new_sessions_per_ip, 503 at pg_dash.max_sessions) and the
 * seconds for Retry-After.  Inside the caller's transaction.
 */
extern bool session_save(Session *session, const Conn *conn, HttpRequest *req,
						 HeaderList *headers, struct QueryFailure *why, int *retry_after);

/* True when a session has a row (e.g. pg_dash.set_state() created it). */
extern bool session_exists(const char *id);

/* The per-address and total budgets of new sessions (session_budget.c). */
extern void session_budget_shmem_request(void);
extern void session_budget_shmem_startup(void);
extern bool session_budget_admit(const Conn *conn, struct QueryFailure *why, int *retry_after);
extern uint64 session_budget_count_start(void);
extern void session_budget_counted(uint64 unexpired, uint64 created_at_start);

/*
 * Makes the session (NULL or "": none, SESSION_NONE_ID) known to SQL
 * (pg_dash.state(), pg_dash.set_state()) for the rest of the current
 * transaction.  Only the request pipeline calls it.
 */
extern void session_bind(const char *id);

/* The session id of the last session_bind() (SESSION_NONE_ID when none), without marking it used. */
extern const char *session_bound_id(void);

/* Whether the state functions used the session of the last session_bind(), even after its transaction. */
extern bool session_bound_used(void);

/*
 * False (with an error code and a sentence) when a request that changes
 * something carries the session cookie without the session's CSRF token.
 */
extern bool session_csrf_check(HttpRequest *req, const char **code, const char **detail);

/* The id bound for a request without a session: reads see {}, writes are refused. */
#define SESSION_NONE_ID "0000000000000000000000000000000000000000000000000000000000000000"

/* The session id of a request's cookie, without creating or touching anything; NULL when none. */
extern char *session_id_from_cookie(HttpRequest *req);

/* Handles /api/state... and /api/session/rotate; false when the path is not one of them. */
extern bool session_api_dispatch(Conn *conn, HttpRequest *req);

/* Defines the pg_dash.session_* settings (called from guc_define). */
extern void session_define_gucs(void);

/* Called once a second by every worker; worker 0 deletes expired sessions every session_sweep_interval. */
extern void session_sweep_tick(void);

/*
 * Lower-level operations used by session_api.c; all run inside the caller's
 * transaction and return results allocated in the caller's memory context.
 */

/* Kinds of change session_write() makes. */
typedef enum SessionWriteOp
{
	SESSION_WRITE_SET,			/* key := value */
	SESSION_WRITE_DELETE,		/* remove key */
	SESSION_WRITE_MERGE,		/* apply a JSON merge patch (RFC 7386) */
	SESSION_WRITE_CLEAR			/* remove every key */
} SessionWriteOp;

/* The state of a session; NULL when the session does not exist. */
extern Jsonb *session_read(const char *id);

/*
 * Changes a session's state in one statement (atomic against concurrent
 * writers of the same session).  Returns false when the session does not
 * exist; otherwise sets *state to the new state and *changes to the changed
 * keys with their new values (null for removed keys), or NULL when nothing
 * changed.  Does not check the size limit nor notify.
 */
extern bool session_write(const char *id, SessionWriteOp op, const char *key,
						  Jsonb *value, Jsonb **state, Jsonb **changes);

/*
 * Gives a session a new token (same data, old token stops working) and
 * appends the new Set-Cookie line; false when the session does not exist.
 */
extern bool session_rotate(Session *session, HttpRequest *req, HeaderList *headers,
						   Jsonb **state);

/* A jsonb value as JSON text. */
extern char *session_jsonb_text(Jsonb *value);

/*
 * The SPI steps of the session store's statements (session.c,
 * session_buffer.c): a statement prepared once and kept, a connection with
 * an active snapshot, and a jsonb column of the first row copied into cxt.
 */
extern SPIPlanPtr session_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes);
extern bool session_spi_connect(void);
extern void session_spi_finish(bool pushed);
extern Jsonb *session_result_jsonb(int col, MemoryContext cxt);

#endif							/* PG_DASH_SESSION_H */
