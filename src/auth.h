/*
 * auth.h
 *		Sign-in and per-person data: who a request is served for, the
 *		password check, the access lists of definitions and the access log.
 *
 * With pg_dash.auth = password a browser signs in as a PostgreSQL role
 * (POST /api/login, checked in process the way PostgreSQL's password
 * authentication checks it), its session records the role, and every
 * request of that browser runs as the role through the request pipeline
 * (request.c).  Signed-out viewers are served as pg_dash.role only when
 * pg_dash.anonymous is on.  Pages, named queries, actions and channels each
 * carry an access list (role names or PUBLIC) checked against the viewer's
 * role by membership (access.c).
 */
#ifndef PG_DASH_AUTH_H
#define PG_DASH_AUTH_H

#include "nodes/pg_list.h"

#include "conn.h"

struct QueryFailure;
struct RequestTxn;

/* pg_dash.auth */
typedef enum AuthMode
{
	AUTH_NONE,					/* every viewer is pg_dash.role */
	AUTH_PASSWORD				/* viewers sign in as PostgreSQL roles */
} AuthMode;

/* Settings (auth_define_gucs). */
extern int	auth_mode;
extern char *auth_login_group;
extern bool auth_anonymous;
extern int	auth_signin_lifetime;

/* Who a request is served for. */
typedef struct AuthViewer
{
	Oid			roleid;			/* InvalidOid: no role known (pg_dash.role
								 * unset or missing) */
	const char *role_name;		/* NULL with roleid */
	bool		signed_in;		/* a person's role, not pg_dash.role */
} AuthViewer;

extern void auth_define_gucs(void);
extern void auth_shmem_request(void);
extern void auth_shmem_startup(void);

/*
 * The viewer of a request whose browser session is session_id (NULL or "":
 * none).  False with *f filled (401) when the viewer is signed out and
 * signed-out viewers are not served.  Needs an open transaction with SPI.
 */
extern bool auth_resolve_viewer(const char *session_id, AuthViewer *viewer,
								struct QueryFailure *f);

/* The delays after failed sign-ins of a client address and role (ms; 0: none). */
extern long auth_delay_remaining(const ConnPeer *peer, const char *role);
extern long auth_delay_failed(const ConnPeer *peer, const char *role);
extern void auth_delay_clear(const ConnPeer *peer, const char *role);

/*
 * Why a role may not be signed in as (rolcanlogin, superuser,
 * pg_dash.login_group); NULL when it may.
 */
extern const char *auth_role_refusal(Oid roleid, const char *name);

/* auth_api.c: handles /api/login, /api/logout and /api/me; false for other paths. */
extern bool auth_api_dispatch(Conn *conn, HttpRequest *req);

#endif							/* PG_DASH_AUTH_H */
