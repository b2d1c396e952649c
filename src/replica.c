/*
 * replica.c
 *		Whether this server is a primary or a hot standby, and how far a
 *		standby's replay is behind what it received.
 *
 * pg_dash's workers start once a standby is consistent and serve reads
 * there; whatever writes (the session sweep, LISTEN-driven bookkeeping that
 * needs NOTIFY) asks replica_is_standby() first.  RecoveryInProgress() is
 * read from shared memory each time, so a promoted standby is seen as a
 * primary at once, without a restart.  Everything here reads shared memory
 * only: /healthz answers without a transaction.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "replication/walreceiver.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "replica.h"

/* True while this server is a hot standby (in recovery). */
bool
replica_is_standby(void)
{
	return RecoveryInProgress();
}

/*
 * The replay lag of a standby: bytes received from the primary and not yet
 * replayed, and the seconds since the last replayed commit when there are
 * such bytes (0 when everything received is replayed).
 */
static void
replica_lag(uint64 *bytes, double *seconds)
{
	XLogRecPtr	received = GetWalRcvFlushRecPtr(NULL, NULL);
	XLogRecPtr	replayed = GetXLogReplayRecPtr(NULL);
	TimestampTz last_commit;

	*bytes = 0;
	*seconds = 0;
	if (XLogRecPtrIsInvalid(received) || received <= replayed)
		return;
	*bytes = received - replayed;
	last_commit = GetLatestXTime();
	if (last_commit != 0)
	{
		long		secs;
		int			usecs;

		TimestampDifference(last_commit, GetCurrentTimestamp(), &secs, &usecs);
		*seconds = secs + usecs / 1000000.0;
	}
}

/* True when this standby's WAL receiver is streaming from its primary. */
static bool
replica_streaming(void)
{
	WalRcvData *walrcv = WalRcv;
	WalRcvState state;

	SpinLockAcquire(&walrcv->mutex);
	state = walrcv->walRcvState;
	SpinLockRelease(&walrcv->mutex);
	return state == WALRCV_STREAMING;
}

/*
 * Appends the replication members of /healthz to a JSON object being
 * built: ,"role":"primary"|"standby", and on a standby the replay lag and
 * whether WAL is streaming from the primary.
 */
void
replica_append_health(StringInfo buf)
{
	uint64		bytes;
	double		seconds;

	if (!replica_is_standby())
	{
		appendStringInfoString(buf, ",\"role\":\"primary\"");
		return;
	}
	replica_lag(&bytes, &seconds);
	appendStringInfo(buf,
					 ",\"role\":\"standby\",\"replay_lag_bytes\":" UINT64_FORMAT
					 ",\"replay_lag_seconds\":%.3f,\"streaming\":%s",
					 bytes, seconds, replica_streaming() ? "true" : "false");
}
