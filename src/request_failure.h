/*
 * request_failure.h
 *		Why a request cannot be run, as its client is told: the status,
 *		SQLSTATE-like code, message, detail and hint of an HTTP or WebSocket
 *		error.  Kept apart from the request pipeline (request.h) so that the
 *		registries and stores below the pipeline can report failures too.
 */
#ifndef PG_DASH_REQUEST_FAILURE_H
#define PG_DASH_REQUEST_FAILURE_H

/* Why a request cannot be run: answered as an HTTP or WebSocket error. */
typedef struct QueryFailure
{
	int			status;
	const char *code;
	const char *message;
	const char *detail;
	const char *hint;
} QueryFailure;

/* Records a failure; returns false for convenience. */
extern bool request_fail(QueryFailure *f, int status, const char *code, const char *message,
						 const char *detail, const char *hint);

#endif							/* PG_DASH_REQUEST_FAILURE_H */
