/*
 * access.c
 *		The access lists of pages, named queries, actions and channels, and
 *		the access log (pg_dash.access_log).
 *
 * An access list holds role names and PUBLIC (sql/parts/50_access.sql).  A
 * viewer may use a definition when the list holds PUBLIC or a role whose
 * privileges the viewer has (has_privs_of_role: membership with INHERIT,
 * the way GRANTs reach members).  Names, not OIDs, so that a dump carries
 * the lists; a name that no longer exists matches nobody.
 *
 * The access log is a ring of the last ACCESS_LOG_SIZE events in shared
 * memory under one LWLock; the server log has
 * every event, the ring the recent ones for pg_dash.access_log.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "access.h"
#include "request.h"

/* Events the ring keeps. */
#define ACCESS_LOG_SIZE 1024

typedef struct AccessEvent
{
	TimestampTz at;				/* 0: unused */
	char		event[16];
	char		role[NAMEDATALEN];
	char		address[64];
	char		detail[128];
} AccessEvent;

typedef struct AccessLog
{
	LWLock	   *lock;
	uint64		next;			/* events recorded so far */
	AccessEvent events[ACCESS_LOG_SIZE];
} AccessLog;

static AccessLog *access_log = NULL;

PG_FUNCTION_INFO_V1(pg_dash_access_allows);
PG_FUNCTION_INFO_V1(pg_dash_access_events);

/* True when the list lets the role in: PUBLIC, or a role it has the privileges of. */
bool
access_allows(List *access, Oid viewer)
{
	ListCell   *lc;

	foreach(lc, access)
	{
		const char *entry = lfirst(lc);
		Oid			role;

		if (strcmp(entry, "PUBLIC") == 0)
			return true;
		if (!OidIsValid(viewer))
			continue;
		role = get_role_oid(entry, true);
		if (OidIsValid(role) && has_privs_of_role(viewer, role))
			return true;
	}
	return false;
}

/* SQL pg_dash.access_allows(access text[], viewer oid). */
Datum
pg_dash_access_allows(PG_FUNCTION_ARGS)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *access = NIL;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			access = lappend(access, TextDatumGetCString(elems[i]));
	PG_RETURN_BOOL(access_allows(access, PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1)));
}

/* "viewer ($param) may use alias" as SQL; true when the table has no access column yet. */
char *
access_filter_sql(const char *relname, const char *alias, int param)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("pg_dash", false));

	if (!OidIsValid(relid) || get_attnum(relid, "access") == InvalidAttrNumber)
		return pstrdup("true");
	return psprintf("pg_dash.access_allows(%s.access, $%d)", alias, param);
}

/* The refusal of something the viewer may not use: 401 when signing in could help. */
bool
access_refuse(const AuthViewer *viewer, const char *what, QueryFailure *f)
{
	if (auth_mode == AUTH_PASSWORD && !viewer->signed_in)
		return request_fail(f, 401, "sign_in_required",
							psprintf("sign in to use %s", what),
							"Signed-out viewers may not use it.",
							"POST /api/login with a username and password.");
	return request_fail(f, 403, "forbidden",
						psprintf("you may not use %s", what),
						viewer->role_name ?
						psprintf("Its access list does not include role \"%s\" or a role it belongs to.",
								 viewer->role_name) : NULL,
						"The administrator can grant it with pg_dash.grant_access().");
}

/* Whether the request's resolved role may use a definition; false with *f filled when not. */
bool
access_request_allows(const RequestTxn *r, List *access, const char *what, QueryFailure *f)
{
	return access_allows(access, r->roleid) || access_request_refuse(r, what, f);
}

/* The refusal of the request's resolved role; returns false. */
bool
access_request_refuse(const RequestTxn *r, const char *what, QueryFailure *f)
{
	AuthViewer	viewer;

	viewer.roleid = r->roleid;
	viewer.role_name = r->role_name;
	viewer.signed_in = r->signed_in;
	return access_refuse(&viewer, what, f);
}

/* Reserves the ring of the access log. */
void
access_log_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(AccessLog)));
	RequestNamedLWLockTranche("pg_dash access log", 1);
}

/* Attaches to (or creates) the ring of the access log. */
void
access_log_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	access_log = ShmemInitStruct("pg_dash access log", sizeof(AccessLog), &found);
	if (!found)
	{
		memset(access_log, 0, sizeof(AccessLog));
		access_log->lock = &(GetNamedLWLockTranche("pg_dash access log"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Records one event in the ring. */
void
access_log_event(const char *event, const char *role, const ConnPeer *peer, const char *detail)
{
	AccessEvent e;
	char	   *address = peer ? conn_peer_text(peer) : NULL;

	if (access_log == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.at = GetCurrentTimestamp();
	strlcpy(e.event, event, sizeof(e.event));
	strlcpy(e.role, role ? role : "", sizeof(e.role));
	strlcpy(e.address, address ? address : "", sizeof(e.address));
	strlcpy(e.detail, detail ? detail : "", sizeof(e.detail));
	LWLockAcquire(access_log->lock, LW_EXCLUSIVE);
	access_log->events[access_log->next % ACCESS_LOG_SIZE] = e;
	access_log->next++;
	LWLockRelease(access_log->lock);
}

/* A text datum, NULL for "". */
static Datum
access_text_or_null(const char *s, bool *isnull)
{
	*isnull = s[0] == '\0';
	return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* SQL pg_dash.access_events(): the ring, newest first. */
Datum
pg_dash_access_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AccessEvent *copy;
	uint64		next;
	int			n;

	if (access_log == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash must be loaded via shared_preload_libraries"),
				 errhint("Add pg_dash to shared_preload_libraries in postgresql.conf and restart the server.")));
	InitMaterializedSRF(fcinfo, 0);

	copy = palloc(sizeof(access_log->events));
	LWLockAcquire(access_log->lock, LW_SHARED);
	memcpy(copy, access_log->events, sizeof(access_log->events));
	next = access_log->next;
	LWLockRelease(access_log->lock);

	n = next < ACCESS_LOG_SIZE ? (int) next : ACCESS_LOG_SIZE;
	for (int i = 0; i < n; i++)
	{
		AccessEvent *e = &copy[(next - 1 - i) % ACCESS_LOG_SIZE];
		Datum		values[5];
		bool		nulls[5] = {false};

		values[0] = TimestampTzGetDatum(e->at);
		values[1] = CStringGetTextDatum(e->event);
		values[2] = access_text_or_null(e->role, &nulls[2]);
		values[3] = access_text_or_null(e->address, &nulls[3]);
		values[4] = access_text_or_null(e->detail, &nulls[4]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
