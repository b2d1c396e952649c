/*
 * query_hit.c
 *		Cache hits answered by a serving worker without a transaction.
 *
 * A GET of a named query whose result is in the shared cache needs no SQL:
 * only the query's definition (its version is part of the cache key), the
 * role the request runs as (also part of the key) and the assurance that
 * neither changed.  A serving worker answers such a hit in its event loop
 * from what it learnt in its last transaction, instead of handing the
 * request to an executor, which would open a transaction to find out the
 * same.
 *
 * Only requests served as pg_dash.role take this path: with sign-in on, a
 * request that carries a session cookie may be a person's, whose role only
 * a transaction can tell, so it goes to an executor.
 *
 * What it knows, and how it stays true: definitions are those of the
 * worker's query registry (query_registry_peek), dropped by the relcache
 * callback of pg_dash.queries; the role is pg_dash.role as resolved by the
 * request pipeline's own checks (request_resolve_role); rights changes
 * (GRANT, REVOKE, policies, roles) bump the cache's shared rights epoch,
 * which is part of every entry's generation.  Invalidations are only read
 * when a transaction starts, so the worker starts one once a second
 * (query_hit_catch_up): it reads the epoch, resolves the role again and
 * loads the definitions that hits asked for.  A hit is answered here only
 * while the epoch is the one read then; otherwise the request goes to an
 * executor as any other.  So a drop_query, REVOKE or policy change is
 * honoured by these hits within a second.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "auth.h"
#include "guc.h"
#include "metrics.h"
#include "query_cache.h"
#include "query_hit.h"
#include "query_http.h"
#include "query_registry.h"
#include "query_run.h"
#include "session.h"
#include "worker_state.h"

/* The most definitions one catch-up loads for hits that missed them. */
#define HIT_MAX_WANTED 16

/* What the last catch-up learnt: the role, and the rights epoch then. */
static bool hit_role_ok = false;
static char hit_role[NAMEDATALEN];
static char *hit_role_setting = NULL;	/* pg_dash.role when it was resolved */
static int	hit_auth_mode = -1;		/* pg_dash.auth then */
static bool hit_anonymous = false;	/* pg_dash.anonymous then */
static uint64 hit_epoch = 0;

/* Named queries asked for whose definitions this worker has not loaded. */
static List *hit_wanted = NIL;

/* Remembers a query whose definition the next catch-up should load. */
static void
query_hit_want(const char *name)
{
	ListCell   *lc;
	MemoryContext oldcxt;

	if (list_length(hit_wanted) >= HIT_MAX_WANTED || strlen(name) >= NAMEDATALEN)
		return;
	foreach(lc, hit_wanted)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return;
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	hit_wanted = lappend(hit_wanted, pstrdup(name));
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Answers GET or HEAD /api/query/<name> from the cache when this worker
 * knows enough to do so without a transaction; false to let the request go
 * on (to an executor), which then also answers every error.
 */
bool
query_hit_answer(Conn *conn, HttpRequest *req)
{
	const char *name;
	QueryDef   *def;
	QueryOptions opts;
	QueryFailure failure;
	const char *session_id;
	unsigned char shared_key[QUERY_CACHE_KEY_LEN];
	unsigned char session_key[QUERY_CACHE_KEY_LEN];
	uint64		generation;
	StringInfoData body;
	char		etag[40];
	int			ttl;
	instr_time	started;

	if (strncmp(req->path, "/api/query/", 11) != 0 || !query_cache_enabled())
		return false;
	INSTR_TIME_SET_CURRENT(started);
	name = req->path + 11;
	def = query_registry_peek(name);
	if (def == NULL)
	{
		query_hit_want(name);
		return false;
	}
	if (!hit_role_ok || hit_epoch != query_cache_rights_epoch() ||
		hit_role_setting == NULL || pg_dash_role == NULL || strcmp(hit_role_setting, pg_dash_role) != 0 ||
		hit_auth_mode != auth_mode || hit_anonymous != auth_anonymous)
		return false;
	session_id = session_id_from_cookie(req);
	if (auth_mode == AUTH_PASSWORD && session_id != NULL)
		return false;
	ttl = def->cache_ttl >= 0 ? def->cache_ttl : pg_dash_cache_ttl;
	if (ttl <= 0 || !query_parse_request(req, &opts, &failure) || query_is_series(&opts))
		return false;
	query_result_keys(def, &opts, hit_role, session_id ? session_id : "", shared_key, session_key);
	generation = query_cache_generation(def->refresh_on);
	initStringInfo(&body);
	if (!query_cache_peek(shared_key, generation, &body, etag, sizeof(etag)) &&
		!query_cache_peek(session_key, generation, &body, etag, sizeof(etag)))
		return false;
	query_reply_cached(conn, req, &opts, ttl, def->name, &body, etag, started);
	metrics_count(METRIC_CACHE_LOCAL_HITS, 1);
	return true;
}

/*
 * Once a second, in the serving worker's loop: a transaction of its own,
 * which reads the invalidations that arrived (definitions, rights), then
 * the rights epoch, the role and the definitions hits asked for.
 */
void
query_hit_catch_up(void)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(worker_request_context);
	RequestTxn	txn;
	QueryFailure failure;

	hit_role_ok = false;
	PG_TRY();
	{
		uint64		epoch;
		bool		role_ok;

		request_begin(&txn, "pg_dash: catching up with definitions and rights", NULL);
		epoch = query_cache_rights_epoch();
		role_ok = request_resolve_role(&txn, &failure);
		while (hit_wanted != NIL)
		{
			char	   *name = linitial(hit_wanted);

			hit_wanted = list_delete_first(hit_wanted);
			(void) query_registry_lookup(name);
			pfree(name);
		}
		if (role_ok)
			strlcpy(hit_role, txn.role_name, sizeof(hit_role));
		request_commit(&txn);
		if (hit_role_setting != NULL)
			pfree(hit_role_setting);
		hit_role_setting = MemoryContextStrdup(TopMemoryContext, pg_dash_role ? pg_dash_role : "");
		hit_epoch = epoch;
		hit_auth_mode = auth_mode;
		hit_anonymous = auth_anonymous;
		hit_role_ok = role_ok;
	}
	PG_CATCH();
	{
		ErrorData  *edata = worker_catch_error();

		ereport(LOG,
				(errmsg("pg_dash worker %d: could not catch up with definitions and rights: %s",
						worker_number, edata->message)));
		list_free_deep(hit_wanted);
		hit_wanted = NIL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(worker_request_context);
}
