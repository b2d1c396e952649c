/*
 * auth.c
 *		Sign-in's core: the settings, the delays after failed attempts, whether
 *		a connection is secure enough, and who a request is served for (the
 *		signed-in role of its session, or pg_dash.role).  The endpoints and the
 *		password check are in auth_api.c.
 *
 * Failed attempts slow down the next ones for the same client address and
 * role: the first AUTH_FREE_FAILURES cost nothing, then each failure doubles
 * the wait before the next attempt is checked (from AUTH_FIRST_DELAY_MS up
 * to AUTH_MAX_DELAY_MS), answered 429 with Retry-After meanwhile; a success
 * or AUTH_FAILURE_MEMORY_S without failures forgets them.  No lock-out: the
 * right password is accepted once the wait is over, and an attacker at
 * another address delays nobody but himself.  The waits live in a table of
 * shared memory (hashed, probed, the oldest entry replaced when full) so that
 * all executors see them.
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

#include "auth.h"
#include "guc.h"
#include "request_failure.h"
#include "session.h"

int			auth_mode = AUTH_NONE;
char	   *auth_login_group = NULL;
bool		auth_anonymous = false;
int			auth_signin_lifetime = 8 * 3600;

static const struct config_enum_entry auth_mode_options[] = {
	{"none", AUTH_NONE, false},
	{"password", AUTH_PASSWORD, false},
	{NULL, 0, false}
};

/* The delays after failed attempts (see the file header). */
#define AUTH_FREE_FAILURES 2
#define AUTH_FIRST_DELAY_MS 500
#define AUTH_MAX_DELAY_MS 60000
#define AUTH_FAILURE_MEMORY_S 900
#define AUTH_DELAY_SLOTS 4096
#define AUTH_DELAY_PROBES 8

/* The failures of one client address and role. */
typedef struct AuthDelaySlot
{
	uint64		key;			/* hash of address and role; 0: unused */
	int32		failures;
	TimestampTz last_failure;
	TimestampTz not_before;		/* the next attempt is checked from then */
} AuthDelaySlot;

typedef struct AuthShared
{
	slock_t		mutex;
	AuthDelaySlot slots[AUTH_DELAY_SLOTS];
} AuthShared;

static AuthShared *auth_shared = NULL;

/* Kept plans of the session lookups. */
static SPIPlanPtr auth_plan_viewer = NULL;

/* Defines pg_dash.auth, pg_dash.login_group, pg_dash.anonymous and pg_dash.signin_lifetime. */
void
auth_define_gucs(void)
{
	DefineCustomEnumVariable("pg_dash.auth",
							 "How viewers are identified: none (everyone is pg_dash.role) or password (PostgreSQL roles sign in).",
							 NULL,
							 &auth_mode,
							 AUTH_NONE, auth_mode_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_dash.login_group",
							   "When set, only members of this role may sign in.",
							   "Empty: any role with LOGIN and CONNECT on the database.",
							   &auth_login_group,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_dash.anonymous",
							 "With pg_dash.auth = password, still serves signed-out viewers as pg_dash.role.",
							 NULL,
							 &auth_anonymous,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.signin_lifetime",
							"How long a sign-in lasts before the viewer must sign in again.",
							NULL,
							&auth_signin_lifetime,
							8 * 3600, 60, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Reserves the table of delays. */
void
auth_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(AuthShared)));
}

/* Attaches to (or creates) the table of delays. */
void
auth_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	auth_shared = ShmemInitStruct("pg_dash sign-in delays", sizeof(AuthShared), &found);
	if (!found)
	{
		memset(auth_shared, 0, sizeof(AuthShared));
		SpinLockInit(&auth_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The key of a client address and role in the table of delays (never 0). */
static uint64
auth_delay_key(const ConnPeer *peer, const char *role)
{
	uint64		key;

	key = hash_bytes_extended((const unsigned char *) peer, sizeof(ConnPeer), 0x5167);
	key = hash_bytes_extended((const unsigned char *) role, strlen(role), key);
	return key == 0 ? 1 : key;
}

/* When a slot's failures happened, for choosing one to replace: 0 when unused or forgotten. */
static TimestampTz
auth_delay_age(const AuthDelaySlot *s, TimestampTz now)
{
	if (s->key == 0 ||
		TimestampDifferenceExceeds(s->last_failure, now, AUTH_FAILURE_MEMORY_S * 1000))
		return 0;
	return s->last_failure;
}

/*
 * The slot of key; with create, the slot to take for it when it has none:
 * an unused or forgotten one, else the one whose last failure is oldest.
 * NULL when the key has no slot (or only a forgotten one) and create is
 * false.  Under the mutex.
 */
static AuthDelaySlot *
auth_delay_slot(uint64 key, TimestampTz now, bool create)
{
	AuthDelaySlot *victim = NULL;

	for (int i = 0; i < AUTH_DELAY_PROBES; i++)
	{
		AuthDelaySlot *s = &auth_shared->slots[(key + i) % AUTH_DELAY_SLOTS];

		if (s->key == key)
			return create || auth_delay_age(s, now) != 0 ? s : NULL;
		if (victim == NULL || auth_delay_age(s, now) < auth_delay_age(victim, now))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	return victim;
}

/* Milliseconds before the next attempt of this address and role is checked; 0: now. */
long
auth_delay_remaining(const ConnPeer *peer, const char *role)
{
	uint64		key = auth_delay_key(peer, role);
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz not_before = 0;
	AuthDelaySlot *s;

	SpinLockAcquire(&auth_shared->mutex);
	s = auth_delay_slot(key, now, false);
	if (s != NULL)
		not_before = s->not_before;
	SpinLockRelease(&auth_shared->mutex);
	if (not_before <= now)
		return 0;
	return (long) ((not_before - now + 999) / 1000);
}

/* Counts a failed attempt; returns the wait before the next one, in ms. */
long
auth_delay_failed(const ConnPeer *peer, const char *role)
{
	uint64		key = auth_delay_key(peer, role);
	TimestampTz now = GetCurrentTimestamp();
	AuthDelaySlot *s;
	long		delay = 0;

	SpinLockAcquire(&auth_shared->mutex);
	s = auth_delay_slot(key, now, true);
	if (TimestampDifferenceExceeds(s->last_failure, now, AUTH_FAILURE_MEMORY_S * 1000))
		s->failures = 0;
	s->failures++;
	s->last_failure = now;
	if (s->failures > AUTH_FREE_FAILURES)
	{
		int			doublings = Min(s->failures - AUTH_FREE_FAILURES - 1, 16);

		delay = Min((long) AUTH_FIRST_DELAY_MS << doublings, (long) AUTH_MAX_DELAY_MS);
	}
	s->not_before = now + delay * 1000;
	SpinLockRelease(&auth_shared->mutex);
	return delay;
}

/* Forgets the failures of an address and role after a successful sign-in. */
void
auth_delay_clear(const ConnPeer *peer, const char *role)
{
	uint64		key = auth_delay_key(peer, role);
	AuthDelaySlot *s;

	SpinLockAcquire(&auth_shared->mutex);
	s = auth_delay_slot(key, GetCurrentTimestamp(), false);
	if (s != NULL)
		memset(s, 0, sizeof(*s));
	SpinLockRelease(&auth_shared->mutex);
}

/* The signed-in role of a session, if its sign-in is still valid; NULL otherwise. */
static char *
auth_session_role(const char *session_id)
{
	Oid			relid;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	char	   *role = NULL;

	if (session_id == NULL || session_id[0] == '\0' ||
		strcmp(session_id, SESSION_NONE_ID) == 0)
		return NULL;
	/* a 0.1.0 table (before ALTER EXTENSION UPDATE) has no sign-ins */
	relid = get_relname_relid("session_state", get_namespace_oid("pg_dash", false));
	if (!OidIsValid(relid) || get_attnum(relid, "signed_in_at") == InvalidAttrNumber)
		return NULL;
	if (auth_plan_viewer == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT s.role FROM pg_dash.session_state s "
									   "WHERE s.id = $1 AND s.expires_at > pg_catalog.now() "
									   "AND s.signed_in_at > pg_catalog.now() - $2 * interval '1 second'",
									   2, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the sign-in lookup: %s", SPI_result_code_string(SPI_result));
		auth_plan_viewer = plan;
	}
	values[0] = CStringGetTextDatum(session_id);
	values[1] = Int32GetDatum(auth_signin_lifetime);
	if (SPI_execute_plan(auth_plan_viewer, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the signed-in role");
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			role = pstrdup(v);
	}
	return role;
}

/*
 * Why a role may not be signed in as (rolcanlogin, superuser,
 * pg_dash.login_group); NULL when it may.  Checked at sign-in and again on
 * every request, so that taking LOGIN or the group membership away ends
 * the role's sign-ins at once.
 */
const char *
auth_role_refusal(Oid roleid, const char *name)
{
	HeapTuple	tup;
	bool		canlogin;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return psprintf("Role \"%s\" does not exist.", name);
	canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	if (!canlogin)
		return psprintf("Role \"%s\" is not permitted to log in.", name);
	if (superuser_arg(roleid))
		return psprintf("Role \"%s\" is a superuser; pg_dash never serves data as a superuser.", name);
	if (auth_login_group != NULL && auth_login_group[0] != '\0')
	{
		Oid			group = get_role_oid(auth_login_group, true);

		if (!OidIsValid(group) || !is_member_of_role(roleid, group))
			return psprintf("Role \"%s\" is not a member of pg_dash.login_group \"%s\".",
							name, auth_login_group);
	}
	return NULL;
}

/* The viewer of a request; false with *f filled (401) when signed-out viewers are not served. */
bool
auth_resolve_viewer(const char *session_id, AuthViewer *viewer, QueryFailure *f)
{
	memset(viewer, 0, sizeof(*viewer));
	if (auth_mode == AUTH_PASSWORD)
	{
		char	   *role = auth_session_role(session_id);
		Oid			roleid = role ? get_role_oid(role, true) : InvalidOid;

		if (OidIsValid(roleid) && auth_role_refusal(roleid, role) == NULL)
		{
			viewer->roleid = roleid;
			viewer->role_name = role;
			viewer->signed_in = true;
			return true;
		}
		if (!auth_anonymous)
			return request_fail(f, 401, "sign_in_required", "sign in to use pg_dash",
								"pg_dash.auth is password and signed-out viewers are not served.",
								"POST /api/login with a username and password.");
	}
	if (pg_dash_role != NULL && pg_dash_role[0] != '\0')
	{
		viewer->roleid = get_role_oid(pg_dash_role, true);
		if (OidIsValid(viewer->roleid))
			viewer->role_name = pstrdup(pg_dash_role);
	}
	return true;
}
