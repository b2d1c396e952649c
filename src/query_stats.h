/*
 * query_stats.h
 *		Per named query statistics shared by all workers.
 */
#ifndef PG_DASH_QUERY_STATS_H
#define PG_DASH_QUERY_STATS_H

extern void query_stats_shmem_request(void);
extern void query_stats_shmem_startup(void);
extern void query_stats_record(const char *name, double ms, uint64 rows, bool cache_hit, bool error);
extern bool query_stats_cheap(const char *name, double below_ms);
extern void query_stats_not_inline(const char *name, double ms);

#endif							/* PG_DASH_QUERY_STATS_H */
