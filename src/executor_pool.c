/*
 * executor_pool.c
 *		The executor pool's shared memory (executor_pool.h has the locking
 *		rules): settings, registration, the slots, the figures.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "replication/logicallauncher.h"
#include "utils/guc.h"

#include "executor_pool.h"
#include "guc.h"
#include "worker_state.h"

int			pg_dash_executors = 0;
int			pg_dash_executor_queue = 64;
bool		executor_am_executor = false;
bool		executor_job_internal = false;

ExecShared *exec_shared = NULL;
LWLock	   *exec_lock = NULL;
int			exec_nslots = 0;

/* Bytes of one slot with its queue. */
static Size
executor_slot_size(void)
{
	return MAXALIGN(sizeof(ExecSlot)) + MAXALIGN(EXEC_QUEUE_SIZE);
}

/*
 * The number of slots: two per executor (the job it runs, and the one it
 * has answered but not yet let go of), plus the run queue.
 */
static int
executor_slot_count(void)
{
	return 2 * pg_dash_executors + pg_dash_executor_queue;
}

/* Bytes of the shared state. */
static Size
executor_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(ExecShared));

	size = add_size(size, MAXALIGN(mul_size(sizeof(int), executor_slot_count())));
	return add_size(size, mul_size(executor_slot_size(), executor_slot_count()));
}

int *
executor_ring(void)
{
	return (int *) ((char *) exec_shared + MAXALIGN(sizeof(ExecShared)));
}

ExecSlot *
executor_slot(int i)
{
	char	   *base = (char *) executor_ring() + MAXALIGN(sizeof(int) * exec_nslots);

	return (ExecSlot *) (base + (Size) i * executor_slot_size());
}

shm_mq *
executor_slot_queue(ExecSlot *slot)
{
	return (shm_mq *) ((char *) slot + MAXALIGN(sizeof(ExecSlot)));
}

/*
 * The default number of executors: one per CPU, at least 2, at most 16, and
 * never so many that the workers, the session writer, the logical
 * replication launcher, the executors and two parallel workers would not
 * fit in max_worker_processes.
 */
static int
executor_default_count(void)
{
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int			n = (int) Min(Max(cpus, 2), 16);

	n = Min(n, max_worker_processes - pg_dash_workers - 1 - (max_logical_replication_workers > 0 ? 1 : 0) - 2);
	return Max(n, 1);
}

/*
 * Whether any executor runs.  None does when max_worker_processes left no
 * room for them (the postmaster logged "too many background workers"):
 * requests then run in the serving worker, as they did before the pool.
 */
bool
executor_available(void)
{
	bool		any = false;

	if (exec_shared == NULL || pg_dash_executors == 0)
		return false;
	for (int i = 0; i < EXEC_MAX_EXECUTORS && !any; i++)
		any = exec_shared->procs[i].pid != 0;
	return any;
}

/* Defines the settings of the pool. */
void
executor_define_gucs(void)
{
	DefineCustomIntVariable("pg_dash.executors",
							"Background workers that run user SQL for the serving workers.",
							"0 picks one per CPU (2 to 16) within max_worker_processes.",
							&pg_dash_executors,
							0, 0, EXEC_MAX_EXECUTORS,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_dash.executor_queue",
							"Requests that may wait for an executor; more get 503.",
							NULL,
							&pg_dash_executor_queue,
							64, 1, EXEC_MAX_QUEUE,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
}

/* Registers the executors (called from _PG_init, after the settings). */
void
executor_register_all(void)
{
	if (pg_dash_executors == 0)
		pg_dash_executors = executor_default_count();
	for (int i = 0; i < pg_dash_executors; i++)
		worker_register("pg_dash_executor_main", "pg_dash executor", "pg_dash executor", i, 1);
}

void
executor_shmem_request(void)
{
	RequestAddinShmemSpace(executor_shmem_size());
	RequestNamedLWLockTranche("pg_dash executors", 1);
}

void
executor_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	exec_nslots = executor_slot_count();
	exec_shared = ShmemInitStruct("pg_dash executors", executor_shmem_size(), &found);
	exec_lock = &(GetNamedLWLockTranche("pg_dash executors"))->lock;
	if (!found)
	{
		memset(exec_shared, 0, MAXALIGN(sizeof(ExecShared)));
		exec_shared->next_job_id = 1;
		for (int i = 0; i < EXEC_MAX_EXECUTORS; i++)
			exec_shared->procs[i].slot = -1;
		for (int i = 0; i < exec_nslots; i++)
		{
			ExecSlot   *slot = executor_slot(i);

			memset(slot, 0, sizeof(ExecSlot));
			slot->state = SLOT_FREE;
			slot->runner = -1;
			pg_atomic_init_u32(&slot->cancel, 0);
			pg_atomic_init_u64(&slot->sent, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Drops one side's hold on a slot; the last side frees it.  Lock held. */
void
executor_slot_unref(ExecSlot *slot)
{
	if (--slot->refs > 0)
		return;
	if (slot->request_dsm != DSM_HANDLE_INVALID)
	{
		/* the submitter's mapping kept it; it is gone with the last detach */
		slot->request_dsm = DSM_HANDLE_INVALID;
	}
	slot->state = SLOT_FREE;
	slot->runner = -1;
	slot->job_id = 0;
}

/* The pool's series for /metrics and pg_dash.stats. */
void
executor_metrics(MetricEmit emit, void *arg)
{
	static const MetricFamily fam_executors = {"pg_dash_executors", "gauge", "Executors running, and how many are running a request now."};
	static const MetricFamily fam_queue = {"pg_dash_executor_queue_depth", "gauge", "Requests waiting for an executor."};
	static const MetricFamily fam_jobs = {"pg_dash_executor_jobs_total", "counter", "Requests taken by executors."};
	static const MetricFamily fam_rejected = {"pg_dash_executor_rejected_total", "counter", "Requests refused with 503 because the run queue was full."};
	static const MetricFamily fam_wait = {"pg_dash_executor_wait_seconds_total", "counter", "Time requests waited in the run queue."};
	static const MetricFamily fam_busy = {"pg_dash_executor_busy_seconds_total", "counter", "Time executors spent running requests."};
	ExecutorFigures f;

	executor_figures(&f);
	emit(arg, &fam_executors, "", "state=\"running\"", f.executors);
	emit(arg, &fam_executors, "", "state=\"busy\"", f.busy);
	emit(arg, &fam_queue, "", "", f.queued);
	emit(arg, &fam_jobs, "", "", (double) f.jobs);
	emit(arg, &fam_rejected, "", "", (double) f.rejected);
	emit(arg, &fam_wait, "", "", f.wait_seconds);
	emit(arg, &fam_busy, "", "", f.busy_seconds);
}

/* Figures for /metrics. */
void
executor_figures(ExecutorFigures *out)
{
	memset(out, 0, sizeof(*out));
	if (exec_shared == NULL)
		return;
	LWLockAcquire(exec_lock, LW_SHARED);
	for (int i = 0; i < EXEC_MAX_EXECUTORS; i++)
		if (exec_shared->procs[i].pid != 0)
		{
			out->executors++;
			if (!exec_shared->procs[i].idle)
				out->busy++;
		}
	out->queued = exec_shared->queue_len;
	out->jobs = exec_shared->jobs;
	out->rejected = exec_shared->rejected;
	out->wait_seconds = exec_shared->wait_seconds;
	out->busy_seconds = exec_shared->busy_seconds;
	LWLockRelease(exec_lock);
}

/* Lets the executors tell a serving worker's cancel from anyone else's. */
void
executor_register_serving_worker(void)
{
	if (exec_shared == NULL || worker_number < 0 || worker_number >= EXEC_MAX_WORKERS)
		return;
	exec_shared->serving[worker_number] = MyProcPid;
}

