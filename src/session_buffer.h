/*
 * session_buffer.h
 *		Write-behind of session state writes: shared memory in front of
 *		pg_dash.session_state (docs/session.md, "What is batched, and when").
 */
#ifndef PG_DASH_SESSION_BUFFER_H
#define PG_DASH_SESSION_BUFFER_H

#include "utils/jsonb.h"

#include "session.h"

/* pg_dash.session_write_delay, in milliseconds; 0 writes the table at once. */
extern int	session_write_delay;

extern void session_buffer_define_gucs(void);
extern void session_buffer_shmem_request(void);
extern void session_buffer_shmem_startup(void);

/*
 * A write of the state API: applied to the session's state in shared memory
 * and written to the table later, or to the table now when it cannot be
 * buffered.  False when the session has no row.  *state is the new state;
 * one larger than pg_dash.session_max_bytes is returned but not stored by
 * the buffer (the caller refuses it and rolls back).
 */
extern bool session_buffer_write(const char *id, SessionWriteOp op, const char *key,
								 Jsonb *value, Jsonb **state);

/*
 * The state of a session while its latest writes are only buffered (a copy,
 * in the caller's context); false when the table is up to date.
 */
extern bool session_buffer_read(const char *id, Jsonb **state);

/*
 * Before a statement writes a session's row directly: waits for the row,
 * writes the session's buffered state into it, and keeps the buffer out of
 * that session until the transaction ends.
 */
extern void session_buffer_hold(const char *id);

/* Makes this process the one that writes the buffer (session_writer.c). */
extern void session_buffer_become_writer(void);

/*
 * The session writer's work, and worker 0's after every pass of its loop
 * while no writer runs: writes the buffered states when the oldest has
 * waited pg_dash.session_write_delay.  Returns the milliseconds until the
 * next write is due, or 0 when nothing waits (or this process does not
 * write).
 */
extern int	session_buffer_flush_due(void);

/*
 * Before a process acts on a stop request (ProcDiePending): writes every
 * buffered state, since the writer may have stopped before this process
 * answered its last writes.
 */
extern void session_buffer_flush_if_stopping(void);

#endif							/* PG_DASH_SESSION_BUFFER_H */
