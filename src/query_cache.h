/*
 * query_cache.h
 *		Query results cached in shared memory for all workers.
 */
#ifndef PG_DASH_QUERY_CACHE_H
#define PG_DASH_QUERY_CACHE_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* A key is the SHA-256 of what identifies a result (query_run.c). */
#define QUERY_CACHE_KEY_LEN 32

extern void query_cache_shmem_request(void);
extern void query_cache_shmem_startup(void);
extern bool query_cache_enabled(void);
extern uint64 query_cache_generation(List *channels);
extern uint64 query_cache_rights_epoch(void);
extern void query_cache_watch_rights(void);
extern void query_cache_settle_rights(void);
extern void query_cache_bump(const char *channel);
extern bool query_cache_get(const unsigned char *key, uint64 generation,
							StringInfo body, char *etag, size_t etag_size);
extern bool query_cache_peek(const unsigned char *key, uint64 generation,
							 StringInfo body, char *etag, size_t etag_size);
extern void query_cache_put(const unsigned char *key, uint64 generation, int ttl,
							const char *body, size_t len, const char *etag);

/* The refresh channels this worker LISTENs on for the cache. */
extern bool query_cache_hears(const char *channel);
extern bool query_cache_listens(const char *channel);
extern void query_cache_start_listens(void);

#endif							/* PG_DASH_QUERY_CACHE_H */
