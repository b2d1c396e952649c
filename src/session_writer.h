/*
 * session_writer.h
 *		The background worker that writes buffered session states to the
 *		table (session_writer.c).
 */
#ifndef PG_DASH_SESSION_WRITER_H
#define PG_DASH_SESSION_WRITER_H

extern void session_writer_register(void);

#endif							/* PG_DASH_SESSION_WRITER_H */
