/*
 * session_buffer.c
 *		Write-behind of the state API's writes (docs/session.md, "What is
 *		batched, and when").
 *
 * A PATCH (or PUT, or DELETE) of /api/state used to update the session's
 * row and NOTIFY in its own transaction: a commit, a wake-up of every
 * listening process and a serialization on PostgreSQL's notify queue per
 * keystroke, and a merge through pg_dash.jsonb_merge_patch(), an SQL
 * function planned again at every call (most of the cost, measured).  Now
 * the new state is computed in C from the session's current state and put
 * in shared memory, and the request is answered; the session writer
 * (session_writer.c; worker 0 while none runs) writes every buffered state
 * to pg_dash.session_state in one transaction once the oldest has waited
 * pg_dash.session_write_delay (and when it stops), and the table's trigger
 * tells the other tabs.
 *
 * What keeps the guarantees:
 *
 * - Read-your-writes: every reader of a session's state (pg_dash.state(),
 *	 GET /api/state, actions) asks the buffer first (session.c's
 *	 session_read()), in whichever process it runs.  An entry leaves the
 *	 buffer only after the table holds its state, committed; a reader that
 *	 misses it reads the table with a snapshot taken after that.
 * - Atomic merge: a write computes its state from the entry's version and
 *	 stores it only if that version is still current (or, from the table,
 *	 if no entry appeared and none left meanwhile: the epoch), else it
 *	 starts again; after a few tries it writes the table instead.
 * - Direct writers of the row (pg_dash.set_state(), actions, rotation, the
 *	 fallback above) call session_buffer_hold() first: it locks the row
 *	 (waiting for the flush or another direct writer), writes the buffered
 *	 state into it, and marks the entry held until the transaction ends.
 *	 Buffered writes of a held session go to the table too (and so wait for
 *	 the row), and the flush skips held entries and locked rows (SKIP
 *	 LOCKED), so a direct write and a buffered one never overwrite each
 *	 other.  At commit the entry goes (the row is current); at abort it
 *	 stays as it was.
 *
 * Locking: one LWLock over the shared hash, held for copies only, never
 * across SQL.  Entries hold up to SESSION_BUFFER_MAX_DATA bytes of jsonb:
 * a larger state is written to the table directly, and so is every write
 * when all SESSION_BUFFER_SLOTS entries wait to be written.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "session_buffer.h"
#include "worker_state.h"

/* Sessions whose state the buffer holds at most. */
#define SESSION_BUFFER_SLOTS 1024

/* The largest state (jsonb bytes) an entry holds. */
#define SESSION_BUFFER_MAX_DATA 4096

/* Tries of a buffered write that lost a race before it writes the table. */
#define SESSION_BUFFER_TRIES 4

/* Sessions written per statement of the flush. */
#define SESSION_BUFFER_BATCH 256

/* Sessions one transaction may hold at once. */
#define SESSION_BUFFER_MAX_HELD 4

/* One session's state in the buffer. */
typedef struct BufferedSession
{
	char		id[65];			/* hash key: the session id, zero-padded */
	uint64		version;		/* of data; 0: no data (only held) */
	uint64		flushed;		/* the version the table has */
	int			held_by;		/* pgprocno of a direct writer, or -1 */
	uint32		len;
	char		data[SESSION_BUFFER_MAX_DATA];	/* a Jsonb */
} BufferedSession;

typedef struct SessionBufferShared
{
	LWLock	   *lock;
	uint64		next_version;
	uint64		epoch;			/* bumped when an entry goes */
	int			stored;			/* entries with data */
	int			dirty;			/* entries whose version the table lacks */
	TimestampTz dirty_since;	/* the oldest unwritten write came after this */
	pid_t		writer;			/* the session writer, or 0 while none runs */
	pid_t		stand_in;		/* worker 0, which writes while no writer runs */
} SessionBufferShared;

int			session_write_delay = 20;

static SessionBufferShared *shared = NULL;
static HTAB *entries = NULL;

/* Whether this process is the session writer (session_writer.c). */
static bool am_writer = false;

/* The sessions this transaction holds. */
static char held[SESSION_BUFFER_MAX_HELD][65];
static int	nheld = 0;
static bool callback_registered = false;

static SPIPlanPtr plan_read = NULL;
static SPIPlanPtr plan_lock = NULL;
static SPIPlanPtr plan_settle = NULL;
static SPIPlanPtr plan_exist = NULL;
static SPIPlanPtr plan_lock_many = NULL;
static SPIPlanPtr plan_flush = NULL;

/* Defines pg_dash.session_write_delay. */
void
session_buffer_define_gucs(void)
{
	DefineCustomIntVariable("pg_dash.session_write_delay",
							"How long state API writes wait in shared memory before they are written to pg_dash.session_state.",
							"Writes that come meanwhile are written in the same transaction; 0 writes each at once.",
							&session_write_delay,
							20, 0, 10000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* Entries the hash is sized for: the buffered ones and those only held. */
static long
session_buffer_capacity(void)
{
	return SESSION_BUFFER_SLOTS + 2L * MaxBackends;
}

/* Asks for the shared memory and the lock of the buffer. */
void
session_buffer_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(SessionBufferShared)),
									hash_estimate_size(session_buffer_capacity(),
													   sizeof(BufferedSession))));
	RequestNamedLWLockTranche("pg_dash session buffer", 1);
}

/* Attaches to (and in the first process, initializes) the buffer. */
void
session_buffer_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pg_dash session buffer", sizeof(SessionBufferShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(SessionBufferShared));
		shared->lock = &(GetNamedLWLockTranche("pg_dash session buffer"))->lock;
		shared->next_version = 1;
	}
	info.keysize = 65;
	info.entrysize = sizeof(BufferedSession);
	entries = ShmemInitHash("pg_dash buffered sessions", session_buffer_capacity(),
							session_buffer_capacity(), &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* Finds (or with HASH_ENTER_NULL, makes) a session's entry; caller holds the lock. */
static BufferedSession *
session_buffer_entry(const char *id, HASHACTION action, bool *found)
{
	char		key[65];

	memset(key, 0, sizeof(key));
	strlcpy(key, id, sizeof(key));
	return (BufferedSession *) hash_search(entries, key, action, found);
}

/* Removes an entry, keeping the counts; caller holds the lock exclusively. */
static void
session_buffer_remove(BufferedSession *e)
{
	if (e->version != 0)
		shared->stored--;
	if (e->version > e->flushed)
		shared->dirty--;
	shared->epoch++;
	hash_search(entries, e->id, HASH_REMOVE, NULL);
}

/* Runs a prepared statement with the newest snapshot, so that it sees every committed flush. */
static void
session_buffer_exec(SPIPlanPtr plan, Datum *values, bool read_only)
{
	int			rc = SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(),
										  InvalidSnapshot, read_only, true, 0);

	if (rc < 0)
		elog(ERROR, "pg_dash session buffer statement failed: %s", SPI_result_code_string(rc));
}

/* The state of an unexpired session as the table has it; NULL when there is none. */
static Jsonb *
session_buffer_read_table(const char *id, MemoryContext cxt)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(id);
	session_buffer_exec(session_plan(&plan_read,
											"SELECT s.data FROM pg_dash.session_state s "
											"WHERE s.id = $1 AND s.expires_at > pg_catalog.now()",
											1, types),
						values, true);
	return session_result_jsonb(1, cxt);
}

/* Pushes a jsonb value as the value of an object member. */
static void
session_buffer_push_value(JsonbParseState **st, Jsonb *value)
{
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(value))
		(void) JsonbExtractScalar(&value->root, &v);
	else
	{
		v.type = jbvBinary;
		v.val.binary.data = &value->root;
		v.val.binary.len = VARSIZE(value) - VARHDRSZ;
	}
	(void) pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * Pushes, as one object, the members of target (an object container, or
 * NULL) except those named in drop (an object container, or NULL) and
 * except skip_key (or NULL); the caller adds what replaces them.
 */
static void
session_buffer_push_kept(JsonbParseState **st, JsonbContainer *target, JsonbContainer *drop,
						 const char *skip_key)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbValue	found;
	JsonbIteratorToken r;

	if (target == NULL || !JsonContainerIsObject(target))
		return;
	it = JsonbIteratorInit(target);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		if (skip_key != NULL && strlen(skip_key) == (size_t) k.val.string.len &&
			memcmp(skip_key, k.val.string.val, k.val.string.len) == 0)
			continue;
		if (drop != NULL &&
			getKeyJsonValueFromContainer(drop, k.val.string.val, k.val.string.len, &found) != NULL)
			continue;
		(void) pushJsonbValue(st, WJB_KEY, &k);
		(void) pushJsonbValue(st, WJB_VALUE, &v);
	}
}

/*
 * Pushes the JSON merge patch (RFC 7386) of target with patch, both object
 * containers (target may be NULL or not an object: then {}), as one object:
 * members of patch that are null remove, objects merge, anything else
 * replaces.  The same result as pg_dash.jsonb_merge_patch(), without SQL.
 */
static JsonbValue *
session_buffer_push_merge(JsonbParseState **st, JsonbContainer *target, JsonbContainer *patch)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbValue	old;
	JsonbIteratorToken r;

	(void) pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	session_buffer_push_kept(st, target, patch, NULL);
	it = JsonbIteratorInit(patch);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		if (v.type == jbvNull)
			continue;
		(void) pushJsonbValue(st, WJB_KEY, &k);
		if (v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
		{
			JsonbContainer *inner = NULL;

			if (target != NULL && JsonContainerIsObject(target) &&
				getKeyJsonValueFromContainer(target, k.val.string.val, k.val.string.len, &old) != NULL &&
				old.type == jbvBinary)
				inner = old.val.binary.data;
			(void) session_buffer_push_merge(st, inner, v.val.binary.data);
		}
		else
			(void) pushJsonbValue(st, WJB_VALUE, &v);
	}
	return pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/*
 * A write applied to a state, in C: the same result as the statements
 * session_write() runs on the row (||, -, pg_dash.jsonb_merge_patch()).
 */
static Jsonb *
session_buffer_apply(Jsonb *base, SessionWriteOp op, const char *key, Jsonb *value)
{
	JsonbParseState *st = NULL;
	JsonbValue *result;

	switch (op)
	{
		case SESSION_WRITE_MERGE:
			result = session_buffer_push_merge(&st, &base->root, &value->root);
			break;
		case SESSION_WRITE_SET:
		case SESSION_WRITE_DELETE:
			(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			session_buffer_push_kept(&st, &base->root, NULL, key);
			if (op == SESSION_WRITE_SET)
			{
				JsonbValue	k;

				k.type = jbvString;
				k.val.string.val = unconstify(char *, key);
				k.val.string.len = strlen(key);
				(void) pushJsonbValue(&st, WJB_KEY, &k);
				session_buffer_push_value(&st, value);
			}
			result = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
			break;
		default:
			(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			result = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
			break;
	}
	return JsonbValueToJsonb(result);
}

/*
 * Stores a computed state if the entry is still as it was read: at version
 * base_version, or absent with the epoch unchanged when the base came from
 * the table.  Returns false when it changed meanwhile (try again), and sets
 * *direct when the write must go to the table instead (held, or no room).
 */
static bool
session_buffer_store(const char *id, uint64 base_version, uint64 epoch, Jsonb *state,
					 bool *direct)
{
	BufferedSession *e;
	bool		found;
	bool		wake = false;
	pid_t		flusher = 0;

	*direct = false;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = session_buffer_entry(id, HASH_FIND, &found);
	if (e != NULL && e->held_by >= 0)
	{
		*direct = true;
		LWLockRelease(shared->lock);
		return false;
	}
	if (base_version != 0 ? (e == NULL || e->version != base_version)
		: (e != NULL || shared->epoch != epoch))
	{
		LWLockRelease(shared->lock);
		return false;
	}
	if (e == NULL)
	{
		if (shared->stored >= SESSION_BUFFER_SLOTS)
		{
			/* every entry waits to be written: this one goes to the table */
			*direct = true;
			LWLockRelease(shared->lock);
			return false;
		}
		e = session_buffer_entry(id, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			*direct = true;
			LWLockRelease(shared->lock);
			return false;
		}
		e->version = 0;
		e->flushed = 0;
		e->held_by = -1;
		shared->stored++;
	}
	if (e->version == e->flushed)
	{
		/* the entry has something to write now */
		if (shared->dirty++ == 0)
		{
			shared->dirty_since = GetCurrentTimestamp();
			wake = true;
			flusher = shared->writer != 0 ? shared->writer : shared->stand_in;
		}
	}
	memcpy(e->data, state, VARSIZE(state));
	e->len = VARSIZE(state);
	e->version = shared->next_version++;
	LWLockRelease(shared->lock);

	/* the writer sleeps on its latch, worker 0 in its loop: SIGUSR1 wakes either */
	if (wake && flusher != 0 && flusher != MyProcPid)
		(void) kill(flusher, SIGUSR1);
	return true;
}

/* Applies a state API write, buffered when it can be. */
bool
session_buffer_write(const char *id, SessionWriteOp op, const char *key,
					 Jsonb *value, Jsonb **state)
{
	MemoryContext cxt = CurrentMemoryContext;
	Jsonb	   *changes;

	for (int tries = 0; session_write_delay > 0 && shared != NULL && tries < SESSION_BUFFER_TRIES; tries++)
	{
		BufferedSession *e;
		Jsonb	   *base = NULL;
		Jsonb	   *result;
		uint64		base_version = 0;
		uint64		epoch;
		bool		held_now;
		bool		direct;
		bool		pushed;

		LWLockAcquire(shared->lock, LW_SHARED);
		e = session_buffer_entry(id, HASH_FIND, NULL);
		held_now = e != NULL && e->held_by >= 0;
		if (e != NULL && !held_now && e->version != 0)
		{
			base = palloc(e->len);
			memcpy(base, e->data, e->len);
			base_version = e->version;
		}
		epoch = shared->epoch;
		LWLockRelease(shared->lock);
		if (held_now)
			break;

		if (base == NULL)
		{
			pushed = session_spi_connect();
			base = session_buffer_read_table(id, cxt);
			session_spi_finish(pushed);
		}
		if (base == NULL)
			return false;		/* no such session: the caller makes one */
		result = session_buffer_apply(base, op, key, value);

		if (VARSIZE(result) > SESSION_BUFFER_MAX_DATA)
			break;
		if (strlen(session_jsonb_text(result)) > (size_t) session_max_bytes)
		{
			/* refused by the caller: nothing is stored */
			*state = result;
			return true;
		}
		if (session_buffer_store(id, base_version, epoch, result, &direct))
		{
			*state = result;
			return true;
		}
		if (direct)
			break;
	}
	/* session_write() holds the session first */
	return session_write(id, op, key, value, state, &changes);
}

/* The buffered state of a session, unless the table has it or this transaction holds it. */
bool
session_buffer_read(const char *id, Jsonb **state)
{
	BufferedSession *e;
	Jsonb	   *copy = NULL;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	e = session_buffer_entry(id, HASH_FIND, NULL);
	if (e != NULL && e->version > e->flushed && e->held_by != MyProc->pgprocno)
	{
		copy = palloc(e->len);
		memcpy(copy, e->data, e->len);
	}
	LWLockRelease(shared->lock);
	*state = copy;
	return copy != NULL;
}

/* At the end of a transaction: lets go of the sessions it held. */
static void
session_buffer_xact_callback(XactEvent event, void *arg)
{
	if (nheld == 0 || (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT))
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nheld; i++)
	{
		BufferedSession *e = session_buffer_entry(held[i], HASH_FIND, NULL);

		if (e == NULL || e->held_by != MyProc->pgprocno)
			continue;
		/* committed: the row has it all; aborted: the buffer keeps its state */
		if (event == XACT_EVENT_COMMIT || e->version == 0)
			session_buffer_remove(e);
		else
			e->held_by = -1;
	}
	LWLockRelease(shared->lock);
	nheld = 0;
}

/* Holds a session for a direct write of its row (see the file's comment). */
void
session_buffer_hold(const char *id)
{
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2];
	BufferedSession *e;
	Jsonb	   *pending = NULL;
	bool		found;
	bool		pushed;

	if (shared == NULL)
		return;
	for (int i = 0; i < nheld; i++)
		if (strcmp(held[i], id) == 0)
			return;
	if (nheld >= SESSION_BUFFER_MAX_HELD)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a transaction can write at most %d sessions", SESSION_BUFFER_MAX_HELD),
				 errhint("Write each session's state in a transaction of its own.")));
	if (!callback_registered)
	{
		RegisterXactCallback(session_buffer_xact_callback, NULL);
		callback_registered = true;
	}

	/* the row first: the flush and other direct writers hold it while they write */
	values[0] = CStringGetTextDatum(id);
	pushed = session_spi_connect();
	session_buffer_exec(session_plan(&plan_lock,
											"SELECT 1 FROM pg_dash.session_state WHERE id = $1 FOR UPDATE",
											1, types),
						values, false);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	e = session_buffer_entry(id, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		LWLockRelease(shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("too many sessions are being written at once"),
				 errhint("Retry shortly.")));
	}
	if (!found)
	{
		e->version = 0;
		e->flushed = 0;
		e->held_by = -1;
		e->len = 0;
	}
	if (e->held_by < 0)
	{
		e->held_by = MyProc->pgprocno;
		strlcpy(held[nheld++], id, sizeof(held[0]));
		if (e->version > e->flushed)
		{
			pending = palloc(e->len);
			memcpy(pending, e->data, e->len);
		}
	}
	LWLockRelease(shared->lock);

	/* what only the buffer had goes into the row before the direct write */
	if (pending != NULL)
	{
		values[1] = JsonbPGetDatum(pending);
		session_buffer_exec(session_plan(&plan_settle,
												"UPDATE pg_dash.session_state SET data = $2 WHERE id = $1",
												2, types),
							values, false);
	}
	session_spi_finish(pushed);
}

/* The text values of column 1 of the last result. */
static List *
session_buffer_ids_of_result(void)
{
	List	   *ids = NIL;

	for (uint64 i = 0; i < SPI_processed; i++)
		ids = lappend(ids, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return ids;
}

/* A text[] of ids. */
static Datum
session_buffer_id_array(List *ids)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(list_length(ids), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, ids)
		d[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* True when a list of C strings has s. */
static bool
session_buffer_list_has(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * Writes one batch of buffered states in its own transaction; returns how
 * many sessions it took.  Rows a direct writer holds are left for the next
 * batch; entries whose row is gone (expired, rotated away) are dropped.
 */
static int
session_buffer_flush_batch(void)
{
	Oid			types[1] = {TEXTARRAYOID};
	List	   *ids = NIL;
	List	   *existing;
	List	   *locked;
	List	   *written = NIL;
	uint64	   *versions;
	Datum	   *data;
	Datum		values[2];
	HASH_SEQ_STATUS seq;
	BufferedSession *e;
	ListCell   *lc;
	int			n = 0;
	bool		pushed;
	MemoryContext cxt = CurrentMemoryContext;

	LWLockAcquire(shared->lock, LW_SHARED);
	hash_seq_init(&seq, entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->version > e->flushed && e->held_by < 0)
			ids = lappend(ids, pstrdup(e->id));
		if (list_length(ids) >= SESSION_BUFFER_BATCH)
		{
			hash_seq_term(&seq);
			break;
		}
	}
	LWLockRelease(shared->lock);
	if (ids == NIL)
		return 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_RUNNING, "pg_dash: writing buffered session states");
	pushed = session_spi_connect();
	values[0] = session_buffer_id_array(ids);
	session_buffer_exec(session_plan(&plan_exist,
											"SELECT id FROM pg_dash.session_state WHERE id = ANY ($1)",
											1, types),
						values, true);
	existing = session_buffer_ids_of_result();
	session_buffer_exec(session_plan(&plan_lock_many,
											"SELECT id FROM pg_dash.session_state WHERE id = ANY ($1) "
											"FOR UPDATE SKIP LOCKED",
											1, types),
						values, false);
	locked = session_buffer_ids_of_result();

	/* the states as they are now that the rows are ours (kept past SPI_finish) */
	versions = MemoryContextAlloc(cxt, sizeof(uint64) * Max(list_length(locked), 1));
	data = palloc(sizeof(Datum) * Max(list_length(locked), 1));
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	foreach(lc, ids)
	{
		const char *id = (const char *) lfirst(lc);

		e = session_buffer_entry(id, HASH_FIND, NULL);
		if (e == NULL || e->held_by >= 0)
			continue;
		if (!session_buffer_list_has(existing, id))
			session_buffer_remove(e);	/* the session is gone */
		else if (session_buffer_list_has(locked, id) && e->version > e->flushed)
		{
			Jsonb	   *copy = palloc(e->len);
			MemoryContext spi_cxt;

			memcpy(copy, e->data, e->len);
			spi_cxt = MemoryContextSwitchTo(cxt);
			data[n] = JsonbPGetDatum(copy);
			versions[n++] = e->version;
			written = lappend(written, (char *) id);
			MemoryContextSwitchTo(spi_cxt);
		}
	}
	LWLockRelease(shared->lock);

	if (n > 0)
	{
		Oid			flush_types[2] = {TEXTARRAYOID, JSONBARRAYOID};

		values[0] = session_buffer_id_array(written);
		values[1] = PointerGetDatum(construct_array(data, n, JSONBOID, -1, false, TYPALIGN_INT));
		session_buffer_exec(session_plan(&plan_flush,
												"UPDATE pg_dash.session_state s SET data = u.data "
												"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS u(id, data) "
												"WHERE s.id = u.id",
												2, flush_types),
							values, false);
	}
	session_spi_finish(pushed);
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);

	/* the table has these versions now: entries not written since go */
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	n = 0;
	foreach(lc, written)
	{
		e = session_buffer_entry((const char *) lfirst(lc), HASH_FIND, NULL);
		if (e != NULL && e->held_by < 0 && e->version == versions[n])
			session_buffer_remove(e);
		else if (e != NULL && e->flushed < versions[n])
			e->flushed = versions[n];
		n++;
	}
	LWLockRelease(shared->lock);
	return list_length(ids);
}

/* Writes the buffered states, a batch per transaction; an error is logged. */
static void
session_buffer_flush(void)
{
	static MemoryContext flush_cxt = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;
	TimestampTz started = GetCurrentTimestamp();

	if (flush_cxt == NULL)
		flush_cxt = AllocSetContextCreate(TopMemoryContext, "pg_dash session flush",
										  ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		for (int batches = 0; batches < SESSION_BUFFER_SLOTS / SESSION_BUFFER_BATCH + 1; batches++)
		{
			MemoryContextSwitchTo(flush_cxt);
			if (session_buffer_flush_batch() < SESSION_BUFFER_BATCH)
				break;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* outside a transaction nothing else lets go of the buffer's lock */
		LWLockReleaseAll();
		AbortCurrentTransaction();
		ereport(LOG,
				(errcode(edata->sqlerrcode),
				 errmsg("%s could not write buffered session states: %s",
						MyBgworkerEntry ? MyBgworkerEntry->bgw_name : "pg_dash", edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(flush_cxt);
	pgstat_report_activity(STATE_IDLE, NULL);

	/* what came during this flush waits from its start at most */
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->dirty > 0)
		shared->dirty_since = started;
	LWLockRelease(shared->lock);
}

/* Clears the writer's pid when it exits, so that worker 0 stands in. */
static void
session_buffer_writer_exit(int code, Datum arg)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->writer == MyProcPid)
		shared->writer = 0;
	LWLockRelease(shared->lock);
}

/* Makes this process the one that writes the buffer (the session writer). */
void
session_buffer_become_writer(void)
{
	am_writer = true;
	before_shmem_exit(session_buffer_writer_exit, (Datum) 0);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->writer = MyProcPid;
	LWLockRelease(shared->lock);
}

/*
 * The session writer, or worker 0 while none runs: writes the buffered
 * states when the oldest is due.
 */
int
session_buffer_flush_due(void)
{
	long		waited_ms;

	if (shared == NULL)
		return 0;
	if (!am_writer)
	{
		if (worker_number != 0)
			return 0;
		if (shared->stand_in != MyProcPid)
			shared->stand_in = MyProcPid;
		if (shared->writer != 0)
			return 0;
	}
	/* a transaction of a streamed response is open between batches */
	if (shared->dirty == 0 || IsTransactionOrTransactionBlock())
		return shared->dirty == 0 ? 0 : 10;
	waited_ms = (GetCurrentTimestamp() - shared->dirty_since) / 1000;
	if (waited_ms < session_write_delay)
		return (int) (session_write_delay - waited_ms);
	session_buffer_flush();
	if (shared->dirty == 0)
		return 0;
	waited_ms = (GetCurrentTimestamp() - shared->dirty_since) / 1000;
	return (int) Max(1, session_write_delay - waited_ms);
}

/* Writes every buffered state now. */
static void
session_buffer_flush_all(void)
{
	if (shared == NULL || shared->dirty == 0 || IsTransactionOrTransactionBlock())
		return;
	HOLD_INTERRUPTS();
	session_buffer_flush();
	RESUME_INTERRUPTS();
}

/* Writes every buffered state when this process is asked to stop. */
void
session_buffer_flush_if_stopping(void)
{
	if (ProcDiePending)
		session_buffer_flush_all();
}
