/*
 * request_failure.c
 *		Why a request cannot be run, as its client is told.
 */
#include "postgres.h"

#include "request_failure.h"

/* Records a failure; returns false for convenience. */
bool
request_fail(QueryFailure *f, int status, const char *code, const char *message,
			 const char *detail, const char *hint)
{
	f->status = status;
	f->code = code;
	f->message = message;
	f->detail = detail;
	f->hint = hint;
	return false;
}
