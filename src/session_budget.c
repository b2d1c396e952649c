/*
 * session_budget.c
 *		How many sessions may be created: pg_dash.max_sessions in all, and
 *		pg_dash.max_new_sessions_per_ip per client address and minute.
 *
 * Sessions are created only when state is first written (session.c); this
 * bounds how many a client, or all clients together, can make the UNLOGGED
 * table hold.  Both budgets live in shared memory, shared by every worker,
 * under one LWLock held only for a few comparisons:
 *
 * - Per address: a table of SESSION_BUDGET_SLOTS fixed one-minute windows,
 *	 keyed by the client's IPv4 address or IPv6 /64 (one host owns a whole
 *	 /64), found by hashing and probing a few neighbouring slots.  A slot
 *	 whose window is over is reused; when all probed slots are in use the
 *	 oldest window is replaced, so a flood from many addresses can reset
 *	 others' windows but never make the table grow.  The total cap still
 *	 holds then.  Behind a proxy every client shares the proxy's address.
 * - In all: the unexpired sessions counted by the last count (worker 0's
 *	 sweep, every pg_dash.session_sweep_interval) plus those created since.
 *	 That estimate only ever overshoots (expiry is not subtracted), so when
 *	 it reaches the cap session.c counts again, at most once a second, before
 *	 refusing.
 */
#include "postgres.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include "common/hashfn.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "metrics.h"
#include "request_failure.h"
#include "session.h"

/* Address windows kept, slots probed per address, length of a window. */
#define SESSION_BUDGET_SLOTS 4096
#define SESSION_BUDGET_PROBES 8
#define SESSION_BUDGET_WINDOW_S 60

/* A total over the cap is counted again at most this often. */
#define SESSION_BUDGET_RECOUNT_MS 1000

/* Seconds a client refused by pg_dash.max_sessions is told to wait. */
#define SESSION_BUDGET_FULL_RETRY_S 60

/* The sessions one client address created in its current window. */
typedef struct BudgetSlot
{
	uint8		addr[16];		/* IPv6, or IPv4 mapped into it; /64 for IPv6 */
	TimestampTz window_start;	/* 0: unused */
	int32		created;
} BudgetSlot;

typedef struct SessionBudget
{
	LWLock	   *lock;
	uint64		counted;		/* unexpired sessions at the last count */
	uint64		created_since;	/* sessions created since that count */
	TimestampTz counted_at;
	BudgetSlot	slots[SESSION_BUDGET_SLOTS];
} SessionBudget;

static SessionBudget *budget = NULL;

int			session_max_sessions = 100000;
int			session_max_new_per_ip = 60;

/* Asks for the shared memory and lock of the budgets. */
void
session_budget_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(SessionBudget)));
	RequestNamedLWLockTranche("pg_dash sessions", 1);
}

/* Attaches to (and in the first process, initializes) the budgets. */
void
session_budget_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	budget = ShmemInitStruct("pg_dash session budget", sizeof(SessionBudget), &found);
	if (!found)
	{
		memset(budget, 0, sizeof(SessionBudget));
		budget->lock = &(GetNamedLWLockTranche("pg_dash sessions"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The address a connection comes from, as 16 bytes: IPv4 mapped into IPv6,
 * IPv6 cut to its /64.  All zeros when it cannot be known.
 */
static void
session_budget_address(const Conn *conn, uint8 *addr)
{
	/*
	 * The peer the serving worker recorded (guard.c), which an executor's
	 * connection carries too: IPv4 in 4 bytes, IPv6 cut to its /64.
	 */
	memset(addr, 0, 16);
	if (conn->peer.family == AF_INET)
	{
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, conn->peer.addr, 4);
	}
	else if (conn->peer.family == AF_INET6)
		memcpy(addr, conn->peer.addr, 8);
}

/*
 * The window of an address, found or (re)claimed; the lock is held
 * exclusively.
 */
static BudgetSlot *
session_budget_slot(const uint8 *addr, TimestampTz now)
{
	uint32		h = hash_bytes(addr, 16) % SESSION_BUDGET_SLOTS;
	BudgetSlot *free_slot = NULL;
	BudgetSlot *oldest = NULL;
	BudgetSlot *reuse;
	int			i;

	for (i = 0; i < SESSION_BUDGET_PROBES; i++)
	{
		BudgetSlot *s = &budget->slots[(h + i) % SESSION_BUDGET_SLOTS];
		bool		over = s->window_start == 0 ||
			TimestampDifferenceExceeds(s->window_start, now, SESSION_BUDGET_WINDOW_S * 1000);

		if (s->window_start != 0 && memcmp(s->addr, addr, 16) == 0)
		{
			if (over)
			{
				s->window_start = now;
				s->created = 0;
			}
			return s;
		}
		if (over)
		{
			if (free_slot == NULL)
				free_slot = s;
		}
		else if (oldest == NULL || s->window_start < oldest->window_start)
			oldest = s;
	}
	reuse = free_slot ? free_slot : oldest;
	memcpy(reuse->addr, addr, 16);
	reuse->window_start = now;
	reuse->created = 0;
	return reuse;
}

/*
 * Takes one new session from the budgets of the connection's address and
 * of all.  False with *why and *retry_after filled when one is spent;
 * why->status is 0 when only the estimate of all sessions is at
 * pg_dash.max_sessions and a count is due: the caller counts
 * (session_budget_counted) and asks again.
 */
bool
session_budget_admit(const Conn *conn, QueryFailure *why, int *retry_after)
{
	uint8		addr[16];
	TimestampTz now = GetCurrentTimestamp();
	BudgetSlot *slot;
	uint64		estimate;

	memset(why, 0, sizeof(*why));
	if (budget == NULL)
		return true;
	session_budget_address(conn, addr);

	LWLockAcquire(budget->lock, LW_EXCLUSIVE);
	estimate = budget->counted + budget->created_since;
	if (estimate >= (uint64) session_max_sessions)
	{
		bool		recount = TimestampDifferenceExceeds(budget->counted_at, now, SESSION_BUDGET_RECOUNT_MS);

		LWLockRelease(budget->lock);
		if (recount)
			return false;
		metrics_limit_hit(LIMIT_MAX_SESSIONS);
		*retry_after = SESSION_BUDGET_FULL_RETRY_S;
		return request_fail(why, 503, "too_many_sessions",
						  "no new session can be created now",
						  psprintf("pg_dash already keeps %d sessions (pg_dash.max_sessions); nothing was stored.",
								   session_max_sessions),
						  "Retry later: sessions unused for pg_dash.session_ttl expire. Or raise pg_dash.max_sessions.");
	}
	slot = session_budget_slot(addr, now);
	if (slot->created >= session_max_new_per_ip)
	{
		long		secs;
		int			usecs;

		TimestampDifference(now, TimestampTzPlusMilliseconds(slot->window_start, SESSION_BUDGET_WINDOW_S * 1000),
							&secs, &usecs);
		LWLockRelease(budget->lock);
		metrics_limit_hit(LIMIT_MAX_NEW_SESSIONS_PER_IP);
		*retry_after = Max((int) secs + (usecs > 0), 1);
		return request_fail(why, 429, "too_many_new_sessions",
						  "too many new sessions from this address",
						  psprintf("This address created %d sessions in the last minute (pg_dash.max_new_sessions_per_ip); nothing was stored.",
								   session_max_new_per_ip),
						  "Send the pg_dash_session cookie the server set, so that requests share one session.");
	}
	slot->created++;
	budget->created_since++;
	LWLockRelease(budget->lock);
	return true;
}

/* Sessions created since the last count: what a new count starts from. */
uint64
session_budget_count_start(void)
{
	uint64		n;

	if (budget == NULL)
		return 0;
	LWLockAcquire(budget->lock, LW_SHARED);
	n = budget->created_since;
	LWLockRelease(budget->lock);
	return n;
}

/*
 * Records a count of the unexpired sessions; created_at_start is what
 * session_budget_count_start() returned before counting, so that sessions
 * created while counting are not forgotten.
 */
void
session_budget_counted(uint64 unexpired, uint64 created_at_start)
{
	if (budget == NULL)
		return;
	LWLockAcquire(budget->lock, LW_EXCLUSIVE);
	budget->counted = unexpired;
	budget->created_since -= Min(created_at_start, budget->created_since);
	budget->counted_at = GetCurrentTimestamp();
	LWLockRelease(budget->lock);
}
