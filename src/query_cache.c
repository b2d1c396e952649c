/*
 * query_cache.c
 *		Query results cached in shared memory, shared by all workers.
 *
 * Bodies live in one arena of pg_dash.cache_size megabytes written as a
 * ring: each new body is appended at the head, and the oldest bodies are
 * overwritten when the ring wraps, which bounds memory and evicts the
 * oldest first.  A shared hash maps a key (SHA-256 of the query, its
 * parameters, options, role and, for queries that read session state, the
 * session) to the body's position, its expiry and ETag.  An entry whose
 * bytes were overwritten is simply gone.
 *
 * Invalidation: every channel has a generation counter in shared memory,
 * bumped by the workers when a notification on it arrives.  An entry keeps
 * the sum of its query's refresh_on generations at the time it was stored;
 * a different sum at lookup means a refresh channel fired, and the entry is
 * stale.  Workers LISTEN on the refresh channels of a cached query before
 * running it, so no notification committed after the data was read is
 * missed.
 *
 * Rights: a result was computed with the rights its role had then.  Every
 * pg_dash process counts the catalog invalidations that can change what a
 * role may read (roles and memberships, schemas, functions; and of a
 * relation, its privileges, row-level security, policies, owner and
 * options) into one shared epoch, which is part of every generation, so a
 * result stored before such a change is never served after it.  A
 * relation's invalidation says only which relation: most (ANALYZE, VACUUM,
 * an index) change none of that, so the relation is only noted, and at the
 * next transaction start its rights are read and compared with what the
 * last look recorded (a shared map of fingerprints); the epoch moves when
 * they differ, or when the relation was not known.  A process only reads
 * invalidations when it starts a transaction; serving workers start one at
 * least once a second (query_hit.c), so a REVOKE is honoured within a
 * second even by hits that need no transaction.
 *
 * One LWLock guards the hash and the arena: readers share it while copying
 * a body out, writers take it exclusively while copying one in.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "metrics.h"
#include "notify.h"
#include "query_cache.h"
#include "server.h"

#define CACHE_MAX_ENTRIES 8192
#define CACHE_MAX_CHANNELS 1024
#define CACHE_MAX_RELATIONS 4096	/* rights fingerprints kept */
#define CACHE_MAX_PENDING 64		/* relations noted per process */

/* What a relation's rights looked like last time (see the file header). */
typedef struct RightsPrint
{
	Oid			relid;			/* hash key */
	uint64		print;
} RightsPrint;

typedef struct CacheEntry
{
	unsigned char key[QUERY_CACHE_KEY_LEN];	/* hash key */
	uint64		start;			/* logical position of the body in the ring */
	uint32		len;
	uint64		generation;
	TimestampTz expires;
	char		etag[40];
} CacheEntry;

typedef struct ChannelGeneration
{
	char		name[NAMEDATALEN];	/* hash key */
	pg_atomic_uint64 generation;
} ChannelGeneration;

typedef struct CacheShared
{
	LWLock	   *lock;
	uint64		head;			/* logical bytes written so far */
	Size		size;			/* bytes in the arena */
	pg_atomic_uint64 rights_epoch;	/* bumped by invalidations of rights */
} CacheShared;

static CacheShared *cache = NULL;
static char *arena = NULL;
static HTAB *entries = NULL;
static HTAB *channel_gens = NULL;
static HTAB *rights_prints = NULL;

/* Relations invalidated since this process last compared rights. */
static Oid	pending_relids[CACHE_MAX_PENDING];
static int	npending = 0;
static bool pending_overflow = false;

/* Bytes of the arena. */
static Size
query_cache_arena_size(void)
{
	return (Size) pg_dash_cache_size * 1024 * 1024;
}

/* Asks for the arena, the hashes and the lock. */
void
query_cache_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(CacheShared)) + query_cache_arena_size() +
						   hash_estimate_size(CACHE_MAX_ENTRIES, sizeof(CacheEntry)) +
						   hash_estimate_size(CACHE_MAX_CHANNELS, sizeof(ChannelGeneration)) +
						   hash_estimate_size(CACHE_MAX_RELATIONS, sizeof(RightsPrint)));
	RequestNamedLWLockTranche("pg_dash cache", 1);
}

/* Attaches to the cache. */
void
query_cache_shmem_startup(void)
{
	bool		found;
	HASHCTL		ctl;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cache = ShmemInitStruct("pg_dash cache", sizeof(CacheShared), &found);
	if (!found)
	{
		cache->lock = &(GetNamedLWLockTranche("pg_dash cache"))->lock;
		cache->head = 0;
		cache->size = query_cache_arena_size();
		pg_atomic_init_u64(&cache->rights_epoch, 1);
	}
	if (cache->size > 0)
		arena = ShmemInitStruct("pg_dash cache arena", cache->size, &found);
	ctl.keysize = QUERY_CACHE_KEY_LEN;
	ctl.entrysize = sizeof(CacheEntry);
	entries = ShmemInitHash("pg_dash cache entries", CACHE_MAX_ENTRIES, CACHE_MAX_ENTRIES,
							&ctl, HASH_ELEM | HASH_BLOBS);
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(ChannelGeneration);
	channel_gens = ShmemInitHash("pg_dash channel generations", CACHE_MAX_CHANNELS,
								 CACHE_MAX_CHANNELS, &ctl, HASH_ELEM | HASH_STRINGS);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RightsPrint);
	rights_prints = ShmemInitHash("pg_dash rights prints", CACHE_MAX_RELATIONS,
								  CACHE_MAX_RELATIONS, &ctl, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* True when the cache has memory to work with. */
bool
query_cache_enabled(void)
{
	return cache != NULL && cache->size > 0;
}

/* Finds (and optionally creates) a channel's generation counter. */
static ChannelGeneration *
query_cache_channel(const char *channel, bool create)
{
	char		key[NAMEDATALEN];
	ChannelGeneration *g;
	bool		found;

	memset(key, 0, sizeof(key));
	strlcpy(key, channel, sizeof(key));
	LWLockAcquire(cache->lock, LW_SHARED);
	g = hash_search(channel_gens, key, HASH_FIND, NULL);
	LWLockRelease(cache->lock);
	if (g != NULL || !create)
		return g;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	g = hash_search(channel_gens, key, HASH_ENTER_NULL, &found);
	if (g != NULL && !found)
		pg_atomic_init_u64(&g->generation, 1);
	LWLockRelease(cache->lock);
	return g;
}

/* The rights epoch: changes whenever what a role may read may have changed. */
uint64
query_cache_rights_epoch(void)
{
	return cache != NULL ? pg_atomic_read_u64(&cache->rights_epoch) : 0;
}

/*
 * The generation a result is stored and looked up under: the sum of the
 * generations of its query's refresh channels and of the rights epoch.
 * Each only grows, so any bump makes a different sum.
 */
uint64
query_cache_generation(List *channels)
{
	ListCell   *lc;
	uint64		sum;

	if (!query_cache_enabled())
		return 0;
	sum = query_cache_rights_epoch();
	foreach(lc, channels)
	{
		ChannelGeneration *g = query_cache_channel((char *) lfirst(lc), true);

		/* without a counter (table full) every lookup must miss */
		sum += g ? pg_atomic_read_u64(&g->generation) : (uint64) GetCurrentTimestamp();
	}
	return sum;
}

/* Marks the cached results that depend on a channel as stale. */
void
query_cache_bump(const char *channel)
{
	ChannelGeneration *g;

	if (!query_cache_enabled())
		return;
	g = query_cache_channel(channel, false);
	if (g != NULL)
		pg_atomic_fetch_add_u64(&g->generation, 1);
}

/* True when an entry's bytes have not been overwritten yet. */
static bool
query_cache_entry_intact(CacheEntry *e)
{
	return cache->head - e->start <= cache->size;
}

/*
 * Looks a result up; on a hit copies the body and ETag out and returns true.
 * Counts hits, and misses when asked to.
 */
static bool
query_cache_lookup(const unsigned char *key, uint64 generation,
				   StringInfo body, char *etag, size_t etag_size, bool count_miss)
{
	CacheEntry *e;
	bool		hit = false;
	bool		stale = false;

	if (!query_cache_enabled())
		return false;
	LWLockAcquire(cache->lock, LW_SHARED);
	e = hash_search(entries, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		if (e->generation == generation && GetCurrentTimestamp() < e->expires &&
			query_cache_entry_intact(e))
		{
			Size		off = e->start % cache->size;

			appendBinaryStringInfo(body, arena + off, e->len);
			strlcpy(etag, e->etag, etag_size);
			hit = true;
		}
		else
			stale = true;
	}
	LWLockRelease(cache->lock);
	if (stale)
	{
		LWLockAcquire(cache->lock, LW_EXCLUSIVE);
		if (hash_search(entries, key, HASH_REMOVE, NULL) != NULL)
			metrics_count(METRIC_CACHE_EVICTIONS, 1);
		LWLockRelease(cache->lock);
	}
	if (hit || count_miss)
		metrics_count(hit ? METRIC_CACHE_HITS : METRIC_CACHE_MISSES, 1);
	return hit;
}

/* Looks a result up (query_cache_lookup), counting a miss. */
bool
query_cache_get(const unsigned char *key, uint64 generation,
				StringInfo body, char *etag, size_t etag_size)
{
	return query_cache_lookup(key, generation, body, etag, etag_size, true);
}

/* Looks a result up without counting a miss: the request goes on to an executor. */
bool
query_cache_peek(const unsigned char *key, uint64 generation,
				 StringInfo body, char *etag, size_t etag_size)
{
	return query_cache_lookup(key, generation, body, etag, etag_size, false);
}

/* Removes entries that expired or were overwritten; lock held exclusively. */
static void
query_cache_sweep(void)
{
	HASH_SEQ_STATUS seq;
	CacheEntry *e;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&seq, entries);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (now >= e->expires || !query_cache_entry_intact(e))
		{
			hash_search(entries, e->key, HASH_REMOVE, NULL);
			metrics_count(METRIC_CACHE_EVICTIONS, 1);
		}
}

/*
 * Stores a result for ttl seconds.  Bodies over a quarter of the arena are
 * not cached: they would evict everything else.
 */
void
query_cache_put(const unsigned char *key, uint64 generation, int ttl,
				const char *body, size_t len, const char *etag)
{
	CacheEntry *e;
	bool		found;
	Size		off;

	if (!query_cache_enabled() || ttl <= 0 || len == 0 || len > cache->size / 4)
		return;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	e = hash_search(entries, key, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		query_cache_sweep();
		e = hash_search(entries, key, HASH_ENTER_NULL, &found);
	}
	if (e != NULL)
	{
		/* a body never wraps around the end of the ring */
		off = cache->head % cache->size;
		if (off + len > cache->size)
			cache->head += cache->size - off;
		off = cache->head % cache->size;
		memcpy(arena + off, body, len);
		e->start = cache->head;
		e->len = len;
		e->generation = generation;
		e->expires = GetCurrentTimestamp() + (TimestampTz) ttl * USECS_PER_SEC;
		strlcpy(e->etag, etag, sizeof(e->etag));
		cache->head += len;
	}
	LWLockRelease(cache->lock);
}

/*
 * The refresh channels of cached queries this worker LISTENs on (a set of
 * names), and those it is to LISTEN on once the request at hand is over.
 * Results are only stored once their channels are heard: one read before
 * the LISTEN took effect might miss the notification that outdates it.
 */
static HTAB *heard_channels = NULL;
static List *pending_listens = NIL;

/* The set of heard channels, created on first use. */
static HTAB *
query_cache_heard(void)
{
	if (heard_channels == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = NAMEDATALEN;
		heard_channels = hash_create("pg_dash cache channels", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	return heard_channels;
}

/* Whether this worker LISTENs on a channel for the cache. */
bool
query_cache_listens(const char *channel)
{
	return hash_search(query_cache_heard(), channel, HASH_FIND, NULL) != NULL;
}

/*
 * True when this worker already hears a channel.  Otherwise arranges to
 * LISTEN on it for good once the request is over (LISTEN needs a
 * transaction of its own) and returns false.
 */
bool
query_cache_hears(const char *channel)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	if (query_cache_listens(channel))
		return true;
	foreach(lc, pending_listens)
		if (strcmp((char *) lfirst(lc), channel) == 0)
			return false;
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	pending_listens = lappend(pending_listens, pstrdup(channel));
	MemoryContextSwitchTo(oldcxt);
	server_wake_after(1);
	return false;
}

/* Starts the LISTENs asked for during the last requests; between requests. */
void
query_cache_start_listens(void)
{
	while (pending_listens != NIL)
	{
		char	   *name = linitial(pending_listens);

		notify_listen(name);
		(void) hash_search(query_cache_heard(), name, HASH_ENTER, NULL);
		pending_listens = list_delete_first(pending_listens);
		pfree(name);
	}
}

/* Outdates every cached result: rights may have changed. */
static void
query_cache_bump_rights(void)
{
	if (cache != NULL)
		pg_atomic_fetch_add_u64(&cache->rights_epoch, 1);
}

/* A relation's invalidation: noted, compared at the next transaction start. */
static void
query_cache_relation_changed(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || npending >= CACHE_MAX_PENDING)
	{
		pending_overflow = true;
		return;
	}
	for (int i = 0; i < npending; i++)
		if (pending_relids[i] == relid)
			return;
	pending_relids[npending++] = relid;
}

/* The catalog caches of roles, memberships, schemas, functions: outdate at once. */
static void
query_cache_rights_syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	query_cache_bump_rights();
}

/*
 * A fingerprint of what decides who may read a relation, and what: its
 * privileges and its columns', owner, options, row-level security and
 * policies.  0 when it no longer exists; 1 for a relation that is not read
 * by queries (an index, a sequence, a TOAST table): nothing to compare.
 * Needs a transaction with SPI.
 */
static uint64
query_cache_rights_print(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *text;

	if (SPI_execute_with_args("SELECT CASE WHEN c.relkind NOT IN ('r', 'v', 'm', 'f', 'p') THEN NULL ELSE "
							  "concat_ws('|', c.relacl, c.relowner, c.reloptions, "
							  "c.relrowsecurity, c.relforcerowsecurity, "
							  "(SELECT array_agg(a.attnum || ':' || a.attacl::text ORDER BY a.attnum) "
							  "   FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), "
							  "(SELECT array_agg(concat_ws(',', p.polname, p.polcmd, p.polpermissive, p.polroles, "
							  "        pg_catalog.pg_get_expr(p.polqual, p.polrelid), "
							  "        pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname) "
							  "   FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)) END "
							  "FROM pg_catalog.pg_class c WHERE c.oid = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rights of relation %u", relid);
	if (SPI_processed == 0)
		return 0;
	text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return text ? hash_bytes_extended((const unsigned char *) text, strlen(text), 0) | 2 : 1;
}

/*
 * Compares the rights of the relations invalidated since the last call
 * with their last fingerprints, and outdates every cached result when one
 * differs or was not known.  Called at the start of every request
 * transaction (request_begin), before the epoch is read, with SPI connected.
 */
void
query_cache_settle_rights(void)
{
	bool		changed = pending_overflow;

	if (cache == NULL || (npending == 0 && !pending_overflow))
		return;
	for (int i = 0; i < npending && !changed; i++)
	{
		uint64		print = query_cache_rights_print(pending_relids[i]);
		RightsPrint *e;
		bool		found;

		if (print == 1)
			continue;
		LWLockAcquire(cache->lock, LW_EXCLUSIVE);
		e = hash_search(rights_prints, &pending_relids[i], HASH_ENTER_NULL, &found);
		if (e == NULL || !found || e->print != print)
			changed = true;
		if (e != NULL)
			e->print = print;
		LWLockRelease(cache->lock);
	}
	npending = 0;
	pending_overflow = false;
	if (changed)
		query_cache_bump_rights();
}

/*
 * Has this process count the invalidations that may change rights into the
 * shared epoch; called once at start by every process that serves requests.
 */
void
query_cache_watch_rights(void)
{
	static const int caches[] = {AUTHOID, AUTHMEMMEMROLE, AUTHMEMROLEMEM, NAMESPACEOID, PROCOID};

	CacheRegisterRelcacheCallback(query_cache_relation_changed, (Datum) 0);
	for (int i = 0; i < lengthof(caches); i++)
		CacheRegisterSyscacheCallback(caches[i], query_cache_rights_syscache_changed, (Datum) 0);
}
