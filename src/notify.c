/*
 * notify.c
 *		Receives LISTEN/NOTIFY notifications inside a background worker.
 *
 * PostgreSQL hands notifications to a backend's frontend as protocol 'A'
 * messages through PqCommMethods, which a background worker does not have.
 * notify_collect() points PqCommMethods at a table whose putmessage keeps
 * the 'A' messages and drops everything else (log messages arrive there
 * too while it is installed), sets whereToSendOutput to DestRemote, and
 * lets ProcessNotifyInterrupt() read the queue.  Both are restored before
 * anything else runs.  The capture function must never elog: the log
 * message would come straight back to it.
 *
 * LISTEN and UNLISTEN take effect at commit, so each runs in a short
 * transaction of its own.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"
#include "libpq/libpq.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"

#include "notify.h"
#include "primary_listen.h"

/* Where captured notifications go, in the caller's memory context. */
static List *captured = NIL;
static MemoryContext capture_context = NULL;

/* Nothing to reset, flush or wait for: the capture never buffers. */
static void
capture_comm_reset(void)
{
}

/* No-op flush. */
static int
capture_flush(void)
{
	return 0;
}

/* Nothing is ever pending. */
static bool
capture_is_send_pending(void)
{
	return false;
}

/* Keeps 'A' (notification) messages: int32 pid, channel, payload. */
static int
capture_putmessage(char msgtype, const char *s, size_t len)
{
	Notification *n;
	MemoryContext oldcxt;
	const char *channel;
	const char *payload;
	size_t		chan_len;
	uint32		pid;

	if (msgtype != 'A' || len < 6)
		return 0;
	memcpy(&pid, s, 4);
	channel = s + 4;
	chan_len = strnlen(channel, len - 4);
	if (4 + chan_len + 1 >= len)
		return 0;
	payload = channel + chan_len + 1;
	if (strnlen(payload, len - 4 - chan_len - 1) == len - 4 - chan_len - 1)
		return 0;				/* payload not terminated */

	/* the list too: this runs inside a transaction that ends before we read it */
	oldcxt = MemoryContextSwitchTo(capture_context);
	n = palloc(sizeof(Notification));
	n->pid = (int32) pg_ntoh32(pid);
	n->channel = pstrdup(channel);
	n->payload = pstrdup(payload);
	captured = lappend(captured, n);
	MemoryContextSwitchTo(oldcxt);
	return 0;
}

/* Non-blocking variant: same capture. */
static void
capture_putmessage_noblock(char msgtype, const char *s, size_t len)
{
	(void) capture_putmessage(msgtype, s, len);
}

static const PQcommMethods capture_methods = {
	capture_comm_reset,
	capture_flush,
	capture_flush,
	capture_is_send_pending,
	capture_putmessage,
	capture_putmessage_noblock
};

/*
 * Starts listening on a channel; on a hot standby also on the primary
 * (primary_listen.c), where the notifications are sent.  The local LISTEN
 * works during recovery too, and receives the server's own NOTIFYs once
 * it is promoted.
 */
void
notify_listen(const char *channel)
{
	StartTransactionCommand();
	Async_Listen(channel);
	CommitTransactionCommand();
	primary_listen_want(channel);
}

/* Stops listening on a channel. */
void
notify_unlisten(const char *channel)
{
	StartTransactionCommand();
	Async_Unlisten(channel);
	CommitTransactionCommand();
	primary_listen_unwant(channel);
}

/*
 * Returns the notifications that arrived since the last call, in commit
 * order, allocated in the current memory context: the server's own, then,
 * on a hot standby, those of the primary whose replay is done.  The
 * server's own are read only when no transaction is open (else on a later
 * call).
 */
List *
notify_collect(void)
{
	const PQcommMethods *saved_methods;
	CommandDest saved_dest;
	List	   *result;

	if (!notifyInterruptPending || IsTransactionOrTransactionBlock())
		return primary_listen_collect();

	captured = NIL;
	capture_context = CurrentMemoryContext;
	saved_methods = PqCommMethods;
	saved_dest = whereToSendOutput;
	PG_TRY();
	{
		PqCommMethods = &capture_methods;
		whereToSendOutput = DestRemote;
		ProcessNotifyInterrupt(false);
	}
	PG_FINALLY();
	{
		PqCommMethods = saved_methods;
		whereToSendOutput = saved_dest;
		/*
		 * ProcessNotifyInterrupt reads in a transaction of its own, whose
		 * commit leaves CurrentMemoryContext at TopMemoryContext.
		 */
		MemoryContextSwitchTo(capture_context);
	}
	PG_END_TRY();
	result = captured;
	captured = NIL;
	return list_concat(result, primary_listen_collect());
}
