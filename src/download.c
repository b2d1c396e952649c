/*
 * download.c
 *		Large query results produced by a dynamic background worker, so that
 *		the worker serving HTTP keeps answering its other clients.
 *
 * When a result turns out larger than one batch, the serving worker starts
 * a download worker (RegisterDynamicBackgroundWorker) and hands it the
 * request through a DSM segment: the query, its options and parameters, the
 * session and the role.  The download worker runs the query from the start
 * in its own transaction and sends the serialized body through a shm_mq;
 * shm_mq_send blocks while the queue is full, so a slow client slows the
 * query down instead of growing anyone's memory.  The serving worker reads
 * the queue without blocking whenever the client's socket can take more,
 * and frames what it reads as HTTP chunks.
 *
 * The download worker sends SIGUSR1 to the serving worker after each
 * message: its handler wakes the event loop (worker.c), which then asks lws
 * for a writeable callback on every connection with a download.
 *
 * Messages start with one byte: 'D' data, 'E' an error (SQLSTATE and
 * message follow), 'Z' the end.  When no background worker slot is free,
 * the caller falls back to a holdable cursor (query_http.c).
 *
 * Both kinds of stream are admitted here first: at most pg_dash.max_downloads
 * run at once over all workers (a shared counter; more are answered 503
 * with Retry-After), and each has a deadline pg_dash.download_timeout after
 * it was admitted, waiting for the client included.  At the deadline the
 * download worker cancels itself wherever it is (running the query or
 * blocked on a full queue), which ends its transaction, and exits; the
 * serving worker closes the connection (download_tick), which also ends a
 * holdable-cursor stream.  A slow reader thus never holds a transaction, a
 * snapshot, locks or a worker slot for longer than the limit.
 */
#include "postgres.h"

#include <signal.h>

#include <libwebsockets.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "download.h"
#include "guc.h"
#include "http_response.h"
#include "metrics.h"
#include "query_run.h"
#include "query_registry.h"
#include "worker_state.h"

/* Bytes of the queue between the two workers. */
#define DOWNLOAD_QUEUE_SIZE (1024 * 1024)

/* Seconds a client refused by pg_dash.max_downloads is told to wait. */
#define DOWNLOAD_RETRY_AFTER 5

/* Serving workers whose admitted streams are counted apart (pg_dash.workers' maximum). */
#define DOWNLOAD_MAX_WORKERS 64

/*
 * Streams in progress over all workers, and each serving worker's share of
 * them, so that a worker that exited without releasing its own gives them
 * back when it starts again (download_worker_init).
 */
typedef struct DownloadSlots
{
	pg_atomic_uint32 active;
	pg_atomic_uint32 by_worker[DOWNLOAD_MAX_WORKERS];
} DownloadSlots;

static DownloadSlots *slots = NULL;

/* A stream admitted on a connection of this worker. */
typedef struct DownloadAdmission
{
	Conn	   *conn;
	TimestampTz deadline;		/* pg_dash.download_timeout after admission */
	bool		expired;		/* the connection is being closed for it */
} DownloadAdmission;

/* Streams admitted in this worker (DownloadAdmission *), in TopMemoryContext. */
static List *admissions = NIL;

/* What the serving worker hands the download worker, at the start of the DSM. */
typedef struct DownloadShared
{
	Oid			database;
	pid_t		receiver;		/* the serving worker, signalled after each send */
	TimestampTz deadline;		/* the download ends here, finished or not */
	Size		request_len;	/* serialized request after this struct */
	Size		queue_offset;	/* where the shm_mq starts */
} DownloadShared;

/* The serving worker's side of one download. */
typedef struct Download
{
	Conn	   *conn;
	dsm_segment *seg;
	shm_mq_handle *mqh;
	char	   *head;			/* the response head, sent with the first data */
	bool		chunked;
	bool		keep_alive;
	bool		started;		/* head sent */
	bool		finished;
} Download;

/* Downloads in progress in this worker (Download *). */
static List *downloads = NIL;

/* Appends a NUL-terminated string, or a marker for NULL, to a buffer. */
static void
download_put_string(StringInfo buf, const char *s)
{
	appendStringInfoChar(buf, s ? 'v' : 'n');
	if (s)
		appendBinaryStringInfo(buf, s, strlen(s) + 1);
}

/* Reads back what download_put_string wrote; NULL for the marker. */
static char *
download_get_string(const char **p)
{
	char		tag = **p;
	char	   *s;

	(*p)++;
	if (tag == 'n')
		return NULL;
	s = pstrdup(*p);
	*p += strlen(s) + 1;
	return s;
}

/* Asks for the shared counter of streams in progress. */
void
download_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(DownloadSlots)));
}

/* Attaches to (and in the first process, initializes) the counter. */
void
download_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("pg_dash downloads", sizeof(DownloadSlots), &found);
	if (!found)
	{
		int			i;

		pg_atomic_init_u32(&slots->active, 0);
		for (i = 0; i < DOWNLOAD_MAX_WORKERS; i++)
			pg_atomic_init_u32(&slots->by_worker[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Gives back the slots a previous run of this serving worker held when it
 * exited; called once when the worker starts.
 */
void
download_worker_init(void)
{
	uint32		held;

	if (slots == NULL || worker_number < 0 || worker_number >= DOWNLOAD_MAX_WORKERS)
		return;
	held = pg_atomic_exchange_u32(&slots->by_worker[worker_number], 0);
	if (held > 0)
		pg_atomic_sub_fetch_u32(&slots->active, held);
}

/* This worker's admission of a connection's stream, or NULL. */
static DownloadAdmission *
download_admission(Conn *conn)
{
	ListCell   *lc;

	foreach(lc, admissions)
		if (((DownloadAdmission *) lfirst(lc))->conn == conn)
			return (DownloadAdmission *) lfirst(lc);
	return NULL;
}

/*
 * Admits a result larger than one batch on a connection: takes one of
 * pg_dash.max_downloads and starts its pg_dash.download_timeout.  Over the
 * limit, answers 503 with Retry-After and returns false.
 */
bool
download_admit(Conn *conn, HttpRequest *req)
{
	DownloadAdmission *a;
	MemoryContext oldcxt;

	if (slots != NULL)
	{
		if (pg_atomic_add_fetch_u32(&slots->active, 1) > (uint32) pg_dash_max_downloads)
		{
			pg_atomic_sub_fetch_u32(&slots->active, 1);
			metrics_limit_hit(LIMIT_MAX_DOWNLOADS);
			http_reply_error_with(conn, req, 503,
								  header_list_of("Retry-After", CppAsString2(DOWNLOAD_RETRY_AFTER)),
								  "too_many_downloads", "too many results are being streamed at once",
								  psprintf("This result is larger than one batch, and %d are already being streamed (pg_dash.max_downloads).",
										   pg_dash_max_downloads),
								  "Retry after a few seconds, ask for fewer rows (limit, offset), or raise pg_dash.max_downloads.");
			return false;
		}
		if (worker_number >= 0 && worker_number < DOWNLOAD_MAX_WORKERS)
			pg_atomic_add_fetch_u32(&slots->by_worker[worker_number], 1);
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	a = palloc0(sizeof(DownloadAdmission));
	a->conn = conn;
	a->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  (int64) pg_dash_download_timeout * 1000);
	admissions = lappend(admissions, a);
	MemoryContextSwitchTo(oldcxt);
	return true;
}

/* When a connection's admitted stream must end (pg_dash.download_timeout); 0 when none. */
TimestampTz
download_deadline(Conn *conn)
{
	DownloadAdmission *a = download_admission(conn);

	return a ? a->deadline : 0;
}

/* Ends the admission of a connection's stream, if it has one. */
void
download_done(Conn *conn)
{
	DownloadAdmission *a = download_admission(conn);

	if (a == NULL)
		return;
	admissions = list_delete_ptr(admissions, a);
	pfree(a);
	if (slots != NULL)
	{
		pg_atomic_sub_fetch_u32(&slots->active, 1);
		if (worker_number >= 0 && worker_number < DOWNLOAD_MAX_WORKERS)
			pg_atomic_sub_fetch_u32(&slots->by_worker[worker_number], 1);
	}
}

/*
 * Once a second: closes the connections whose stream has passed
 * pg_dash.download_timeout.  Closing them ends the stream (its cleanup
 * detaches the queue or closes the cursor) and its admission.
 */
void
download_tick(void)
{
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;

	foreach(lc, admissions)
	{
		DownloadAdmission *a = (DownloadAdmission *) lfirst(lc);

		if (a->expired || now < a->deadline)
			continue;
		a->expired = true;
		metrics_limit_hit(LIMIT_DOWNLOAD_TIMEOUT);
		ereport(LOG,
				(errmsg("pg_dash worker %d: closing a download that passed pg_dash.download_timeout (%d s)",
						worker_number, pg_dash_download_timeout)));
		if (a->conn->wsi)
			lws_set_timeout(a->conn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

/* Frees a download's queue and forgets it. */
static void
download_release(Download *d)
{
	download_done(d->conn);
	downloads = list_delete_ptr(downloads, d);
	if (d->seg)
		dsm_detach(d->seg);
	d->seg = NULL;
	d->mqh = NULL;
}

/* The connection went away: detaching stops the download worker. */
static void
download_cleanup(Conn *conn, void *arg)
{
	download_release((Download *) arg);
}

/* Ends the response after the last message, or after a failure. */
static void
download_finish(Download *d, bool ok)
{
	d->finished = true;
	if (ok && d->chunked)
		conn_write(d->conn, "0\r\n\r\n", 5);
	/* a failed body cannot be told apart from a whole one except by closing */
	if (!ok || !d->keep_alive)
		conn_close_when_flushed(d->conn);
}

/*
 * Producer: moves what the download worker sent to the client's queue.
 * Returns false once the response is complete.
 */
static bool
download_produce(Conn *conn, void *arg)
{
	Download   *d = (Download *) arg;

	while (!d->finished && conn->out_bytes < CONN_LOW_WATER)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result res = shm_mq_receive(d->mqh, &nbytes, &data, true);
		const char *msg = (const char *) data;

		if (res == SHM_MQ_WOULD_BLOCK)
			return true;
		if (res == SHM_MQ_DETACHED || nbytes == 0)
		{
			ereport(LOG,
					(errmsg("pg_dash worker %d: a download worker ended before its result did",
							worker_number)));
			if (!d->started)
				http_reply_error(conn, NULL, 500, "XX000", "the download worker failed", NULL, NULL);
			download_finish(d, false);
			break;
		}
		if (msg[0] == 'D')
		{
			if (!d->started)
			{
				conn_write(conn, d->head, strlen(d->head));
				d->started = true;
			}
			http_write_chunk(d->conn, d->chunked, msg + 1, nbytes - 1);
		}
		else if (msg[0] == 'Z')
			download_finish(d, true);
		else
		{
			/* 'E': SQLSTATE, NUL, message, NUL */
			const char *code = msg + 1;
			const char *text = code + strlen(code) + 1;

			if (!d->started)
			{
				/* nothing sent yet: the client still gets a proper error */
				http_reply_error(conn, NULL, request_http_status(MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4])),
								 code, text, NULL, NULL);
				d->finished = true;
			}
			else
				download_finish(d, false);
		}
	}
	if (d->finished)
	{
		download_release(d);
		conn->producer_cleanup = NULL;
		return false;
	}
	return true;
}

/*
 * Starts a download worker for a request whose result is larger than one
 * batch, and streams its result on the connection.  False when no worker
 * could be started (the caller streams the result itself).
 */
bool
download_start(Conn *conn, HttpRequest *req, const char *name, const char *free_sql,
			   List *pairs, const char *session_id, const char *content_type,
			   const HeaderList *headers)
{
	StringInfoData request;
	StringInfoData head;
	HeaderList	framing;
	ListCell   *lc;
	dsm_segment *seg;
	DownloadShared *shared;
	shm_mq	   *mq;
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	Download   *d;
	MemoryContext oldcxt;
	Size		offset;

	initStringInfo(&request);
	download_put_string(&request, name);
	download_put_string(&request, free_sql);
	download_put_string(&request, session_id);
	appendStringInfo(&request, "%d", list_length(pairs));
	appendStringInfoChar(&request, '\0');
	foreach(lc, pairs)
	{
		List	   *pair = (List *) lfirst(lc);

		download_put_string(&request, linitial(pair));
		download_put_string(&request, lsecond(pair));
	}

	offset = MAXALIGN(sizeof(DownloadShared) + request.len);
	seg = dsm_create(offset + DOWNLOAD_QUEUE_SIZE, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		return false;
	/* it outlives the request's transaction: detached explicitly */
	dsm_pin_mapping(seg);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->receiver = MyProcPid;
	{
		DownloadAdmission *a = download_admission(conn);

		shared->deadline = a ? a->deadline :
			TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) pg_dash_download_timeout * 1000);
	}
	shared->request_len = request.len;
	shared->queue_offset = offset;
	memcpy((char *) shared + sizeof(DownloadShared), request.data, request.len);
	mq = shm_mq_create((char *) shared + offset, DOWNLOAD_QUEUE_SIZE);
	shm_mq_set_receiver(mq, MyProc);

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_ConsistentState;	/* standbys serve downloads too */
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "pg_dash");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "pg_dash_download_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "pg_dash download for worker %d", worker_number);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "pg_dash download");
	bgw.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	bgw.bgw_notify_pid = MyProcPid;
	/* the handle is used as long as the queue: it lives with the connection */
	oldcxt = MemoryContextSwitchTo(conn->ctx);
	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		MemoryContextSwitchTo(oldcxt);
		dsm_detach(seg);
		return false;
	}

	d = palloc0(sizeof(Download));
	d->conn = conn;
	d->seg = seg;
	/* the handle lets a receive notice a worker that died before attaching */
	d->mqh = shm_mq_attach(mq, seg, handle);
	d->chunked = req->version_minor >= 1;
	/* without chunked framing only the close ends the body */
	d->keep_alive = req->keep_alive && d->chunked;
	initStringInfo(&head);
	conn->last_status = 200;
	header_list_init(&framing);
	if (d->chunked)
		header_add(&framing, "Transfer-Encoding", "chunked");
	http_append_head(&head, req, 200, content_type, headers, &framing);
	d->head = head.data;
	downloads = lappend(downloads, d);
	MemoryContextSwitchTo(oldcxt);

	conn_set_producer(conn, download_produce, download_cleanup, d, false);
	return true;
}

/* After a wake-up: give every download a chance to move data. */
void
download_poll(void)
{
	ListCell   *lc;

	foreach(lc, downloads)
	{
		Download   *d = (Download *) lfirst(lc);

		if (d->conn->wsi)
			lws_callback_on_writable(d->conn->wsi);
	}
}

/* Set in the download worker once its deadline has passed. */
static volatile sig_atomic_t download_deadline_passed = false;

/*
 * Timeout handler of the download worker's deadline: cancels whatever it is
 * doing, as a statement timeout would, including waiting on a full queue.
 */
static void
download_deadline_reached(void)
{
	download_deadline_passed = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* Download worker: the queue and who to signal. */
typedef struct DownloadSender
{
	shm_mq_handle *mqh;
	pid_t		receiver;
} DownloadSender;

/* Sends one message; a receiver that went away ends the download. */
static void
download_send(DownloadSender *s, char type, const char *data, size_t len)
{
	shm_mq_iovec iov[2];

	iov[0].data = &type;
	iov[0].len = 1;
	iov[1].data = data;
	iov[1].len = len;
	if (shm_mq_sendv(s->mqh, iov, 2, false, true) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the client of a pg_dash download went away")));
	(void) kill(s->receiver, SIGUSR1);
}

/* QueryEmit for the download worker: each piece of the body is a message. */
static void
download_emit(const char *data, size_t len, void *arg)
{
	if (len > 0)
		download_send((DownloadSender *) arg, 'D', data, len);
}

/* A request as the download worker reads it from the DSM segment. */
typedef struct DownloadRequest
{
	char	   *name;
	char	   *free_sql;
	char	   *session_id;
	List	   *pairs;
} DownloadRequest;

/* Reads the request the serving worker serialized. */
static void
download_read_request(const char *p, DownloadRequest *r)
{
	int			npairs;
	int			i;

	r->name = download_get_string(&p);
	r->free_sql = download_get_string(&p);
	r->session_id = download_get_string(&p);
	npairs = atoi(p);
	p += strlen(p) + 1;
	r->pairs = NIL;
	for (i = 0; i < npairs; i++)
	{
		char	   *key = download_get_string(&p);
		char	   *value = download_get_string(&p);

		r->pairs = lappend(r->pairs, list_make2(key, value));
	}
}

/* Runs the request and sends its body, then 'Z'; or 'E' and the error. */
static void
download_run(DownloadRequest *r, DownloadSender *sender, MemoryContext cxt)
{
	QueryFailure failure;
	StringInfoData msg;

	PG_TRY();
	{
		if (query_run_download(r->name, r->free_sql, r->pairs, r->session_id,
							   download_emit, sender, &failure))
			download_send(sender, 'Z', "", 0);
		else
		{
			initStringInfo(&msg);
			appendBinaryStringInfo(&msg, failure.code, strlen(failure.code) + 1);
			appendBinaryStringInfo(&msg, failure.message, strlen(failure.message) + 1);
			download_send(sender, 'E', msg.data, msg.len);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		if (download_deadline_passed)
		{
			/* the cancel was ours: say so, and let nothing cancel the cleanup */
			QueryCancelPending = false;
			edata->sqlerrcode = ERRCODE_QUERY_CANCELED;
			edata->message = psprintf("download exceeded pg_dash.download_timeout (%d s)",
									  pg_dash_download_timeout);
		}
		initStringInfo(&msg);
		appendStringInfoChar(&msg, 'E');
		appendStringInfoString(&msg, unpack_sql_state(edata->sqlerrcode));
		appendStringInfoChar(&msg, '\0');
		appendBinaryStringInfo(&msg, edata->message, strlen(edata->message) + 1);
		/* best effort: the receiver may be gone, which is why we failed */
		(void) shm_mq_send(sender->mqh, msg.len, msg.data, true, true);
		ereport(LOG,
				(errmsg("pg_dash download of \"%s\" ended: %s",
						r->name ? r->name : "(sql)", edata->message)));
	}
	PG_END_TRY();
}

/*
 * Entry point of a download worker: runs the request described in the DSM
 * segment and sends its body to the serving worker.
 */
void
pg_dash_download_main(Datum arg)
{
	dsm_segment *seg;
	DownloadShared *shared;
	shm_mq	   *mq;
	DownloadSender sender;
	DownloadRequest request;
	MemoryContext cxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dash download worker could not attach to its request")));
	shared = dsm_segment_address(seg);
	mq = (shm_mq *) ((char *) shared + shared->queue_offset);
	shm_mq_set_sender(mq, MyProc);
	sender.mqh = shm_mq_attach(mq, seg, NULL);
	sender.receiver = shared->receiver;

	BackgroundWorkerInitializeConnectionByOid(shared->database, InvalidOid, 0);
	pgstat_report_appname("pg_dash download");
	enable_timeout_at(RegisterTimeout(USER_TIMEOUT, download_deadline_reached), shared->deadline);
	query_registry_init();

	cxt = AllocSetContextCreate(TopMemoryContext, "pg_dash download", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	download_read_request((const char *) shared + sizeof(DownloadShared), &request);
	download_run(&request, &sender, cxt);
	shm_mq_detach(sender.mqh);
	dsm_detach(seg);
	proc_exit(0);
}
