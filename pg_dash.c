/*
 * pg_dash.c
 *		Entry point of the pg_dash extension: defines the settings and
 *		registers the background workers that serve HTTP and WebSocket.
 *
 * pg_dash only works when loaded through shared_preload_libraries, because
 * background workers and shared memory can only be set up by the postmaster.
 * _PG_init refuses clearly anywhere else.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "miscadmin.h"

#include "storage/ipc.h"
#include "utils/guc.h"

#include "access.h"
#include "auth.h"
#include "bearer.h"
#include "download.h"
#include "executor.h"
#include "guard.h"
#include "guc.h"
#include "http_response.h"
#include "listener.h"
#include "metrics.h"
#include "primary_link.h"
#include "primary_listen.h"
#include "query_cache.h"
#include "query_stats.h"
#include "request.h"
#include "session.h"
#include "session_buffer.h"
#include "session_writer.h"
#include "tls.h"
#include "transport.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Requests the shared memory of every module. */
static void
pg_dash_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	metrics_shmem_request();
	executor_shmem_request();
	query_stats_shmem_request();
	query_cache_shmem_request();
	download_shmem_request();
	session_budget_shmem_request();
	auth_shmem_request();
	access_log_shmem_request();
	session_buffer_shmem_request();
}

/* Attaches every module to its shared memory. */
static void
pg_dash_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	metrics_shmem_startup();
	executor_shmem_startup();
	query_stats_shmem_startup();
	query_cache_shmem_startup();
	download_shmem_startup();
	session_budget_shmem_startup();
	auth_shmem_startup();
	access_log_shmem_startup();
	session_buffer_shmem_startup();
}

/* cJSON's allocator: palloc in the current memory context (an ERROR when out of memory). */
static void *
pg_dash_cjson_alloc(size_t size)
{
	return palloc(size);
}

/* cJSON's deallocator: pfree, which finds the chunk's context itself. */
static void
pg_dash_cjson_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * Points cJSON's allocation at memory contexts, in every process (the
 * postmaster's hooks are inherited by the processes it forks).  A JSON tree
 * then belongs to the context current when it was built, the request's in a
 * worker, and is freed with it when the request ends or an ERROR unwinds; a
 * tree must not be deleted after its context was reset.
 */
static void
pg_dash_cjson_init(void)
{
	cJSON_Hooks hooks = {pg_dash_cjson_alloc, pg_dash_cjson_free};

	cJSON_InitHooks(&hooks);
}

/*
 * Module load callback: refuses unless preloaded, then lets each module set
 * itself up.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash must be loaded via shared_preload_libraries"),
				 errdetail("pg_dash runs background workers, which can only be started by the postmaster."),
				 errhint("Add pg_dash to shared_preload_libraries in postgresql.conf and restart the server.")));

	pg_dash_cjson_init();
	guc_define();
	guard_define_gucs();
	http_response_define_gucs();
	session_define_gucs();
	session_buffer_define_gucs();
	request_define_gucs();
	auth_define_gucs();
	executor_define_gucs();
	tls_define_gucs();
	bearer_define_gucs();
	transport_define_gucs();
	primary_link_define_gucs();
	primary_listen_define_gucs();
	MarkGUCPrefixReserved("pg_dash");
	if (listener_claim_port(pg_dash_port) &&
		(tls_https_port() == 0 || tls_https_port() == pg_dash_port ||
		 listener_claim_port(tls_https_port())) &&
		(tls_redirect_port() == 0 || listener_claim_port(tls_redirect_port())))
	{
		worker_register_all();
		session_writer_register();
		executor_register_all();
	}
	metrics_add_source(executor_metrics);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pg_dash_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pg_dash_shmem_startup;
}
