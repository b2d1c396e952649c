/*
 * query_stats.c
 *		Calls, time, rows, cache hits and errors per named query, summed over
 *		all workers in a shared hash table (pg_dash.query_stats).
 *
 * One LWLock guards the table: lookups of an existing entry take it shared
 * and update the counters under the entry's spinlock, so workers only
 * serialize when a query is seen for the first time.  The table holds at
 * most QUERY_STATS_MAX entries; past that, new names are not counted.
 *
 * Each entry also keeps what the serving workers need to decide whether a
 * query is cheap enough to run in their loop (query_stats_cheap): a moving
 * average of its recent computed runs, and a time before which it must not
 * run there because a run inline went over its bound.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "query_stats.h"

#define QUERY_STATS_MAX 1000

typedef struct QueryStatsEntry
{
	char		name[NAMEDATALEN];	/* hash key */
	slock_t		mutex;
	int64		calls;
	double		total_ms;
	double		max_ms;
	int64		rows;
	int64		cache_hits;
	int64		errors;
	int64		computed;		/* runs that computed a result */
	double		recent_ms;		/* their moving average (weight 1/8) */
	TimestampTz not_inline_until;	/* an inline run went over its bound */
} QueryStatsEntry;

/* Runs a query must have made before its average counts. */
#define QUERY_STATS_MIN_RUNS 8

/* How long a query that went over the inline bound stays out of the loop. */
#define QUERY_STATS_NOT_INLINE_SECS 10

static HTAB *stats_hash = NULL;
static LWLock *stats_lock = NULL;

/* Asks for the shared hash table and its lock. */
void
query_stats_shmem_request(void)
{
	RequestAddinShmemSpace(hash_estimate_size(QUERY_STATS_MAX, sizeof(QueryStatsEntry)));
	RequestNamedLWLockTranche("pg_dash query stats", 1);
}

/* Attaches to the shared hash table. */
void
query_stats_shmem_startup(void)
{
	HASHCTL		ctl;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(QueryStatsEntry);
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stats_hash = ShmemInitHash("pg_dash query stats", QUERY_STATS_MAX, QUERY_STATS_MAX,
							   &ctl, HASH_ELEM | HASH_STRINGS);
	stats_lock = &(GetNamedLWLockTranche("pg_dash query stats"))->lock;
	LWLockRelease(AddinShmemInitLock);
}

/* Adds one call of a query. */
void
query_stats_record(const char *name, double ms, uint64 rows, bool cache_hit, bool error)
{
	char		key[NAMEDATALEN];
	QueryStatsEntry *e;
	bool		found;

	if (stats_hash == NULL)
		return;
	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));
	LWLockAcquire(stats_lock, LW_SHARED);
	e = hash_search(stats_hash, key, HASH_FIND, NULL);
	if (e == NULL)
	{
		LWLockRelease(stats_lock);
		LWLockAcquire(stats_lock, LW_EXCLUSIVE);
		e = hash_search(stats_hash, key, HASH_ENTER_NULL, &found);
		if (e != NULL && !found)
		{
			SpinLockInit(&e->mutex);
			e->calls = e->rows = e->cache_hits = e->errors = e->computed = 0;
			e->total_ms = e->max_ms = e->recent_ms = 0;
			e->not_inline_until = 0;
		}
	}
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->calls++;
		e->total_ms += ms;
		if (ms > e->max_ms)
			e->max_ms = ms;
		e->rows += rows;
		if (cache_hit)
			e->cache_hits++;
		if (error)
			e->errors++;
		if (!cache_hit && !error)
		{
			e->recent_ms = e->computed == 0 ? ms : e->recent_ms + (ms - e->recent_ms) / 8;
			e->computed++;
		}
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(stats_lock);
}

/* The entry of a query, or NULL; stats_lock held shared by the caller. */
static QueryStatsEntry *
query_stats_find(const char *name)
{
	char		key[NAMEDATALEN];

	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));
	return hash_search(stats_hash, key, HASH_FIND, NULL);
}

/*
 * True when a query's recent computed runs took under below_ms on average
 * (after enough of them to tell) and none went over its inline bound lately.
 */
bool
query_stats_cheap(const char *name, double below_ms)
{
	QueryStatsEntry *e;
	bool		cheap = false;

	if (stats_hash == NULL || below_ms <= 0 || strlen(name) >= NAMEDATALEN)
		return false;
	LWLockAcquire(stats_lock, LW_SHARED);
	e = query_stats_find(name);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		cheap = e->computed >= QUERY_STATS_MIN_RUNS && e->recent_ms < below_ms &&
			GetCurrentTimestamp() >= e->not_inline_until;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(stats_lock);
	return cheap;
}

/*
 * A run in a serving worker's loop went over its bound (ms): the query is
 * not cheap any more, and stays out of the loop for a while.
 */
void
query_stats_not_inline(const char *name, double ms)
{
	QueryStatsEntry *e;

	if (stats_hash == NULL || strlen(name) >= NAMEDATALEN)
		return;
	LWLockAcquire(stats_lock, LW_SHARED);
	e = query_stats_find(name);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->recent_ms = Max(e->recent_ms, ms);
		e->not_inline_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  QUERY_STATS_NOT_INLINE_SECS * 1000);
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(stats_lock);
}

PG_FUNCTION_INFO_V1(pg_dash_query_stats);

/* SQL: pg_dash.query_stats_series() returns one row per query seen. */
Datum
pg_dash_query_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	QueryStatsEntry *e;

	if (stats_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash query statistics are not available"),
				 errhint("Add pg_dash to shared_preload_libraries and restart the server.")));
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(stats_lock, LW_SHARED);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[7];
		bool		nulls[7] = {0};

		SpinLockAcquire(&e->mutex);
		values[0] = CStringGetTextDatum(e->name);
		values[1] = Int64GetDatum(e->calls);
		values[2] = Float8GetDatum(e->total_ms);
		values[3] = Float8GetDatum(e->max_ms);
		values[4] = Int64GetDatum(e->rows);
		values[5] = Int64GetDatum(e->cache_hits);
		values[6] = Int64GetDatum(e->errors);
		SpinLockRelease(&e->mutex);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(stats_lock);
	return (Datum) 0;
}
