/*
 * dispatch.c
 *		The table of handlers through which the transport reaches the layers
 *		above it (see dispatch.h).
 */
#include "postgres.h"

#include "dispatch.h"

const Dispatch *dispatch = NULL;

/* Installs the handlers of this process; called once, before serving. */
void
dispatch_install(const Dispatch *table)
{
	dispatch = table;
}
