/*
 * fuzz_proxy_protocol.c
 *		libFuzzer target for the PROXY protocol parser: it never reads past
 *		what it was given, a parsed header is never longer than the input nor
 *		PROXY_MAX_HEADER, an error always has a reason, and a prefix of a
 *		parsed header is incomplete, never an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_protocol.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *copy = malloc(size ? size : 1);
	ProxyHeader h;
	ProxyParseState st;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	st = proxy_parse(copy, size, &h);
	if (st == PROXY_ERROR && (h.error == NULL || h.error[0] == '\0'))
		__builtin_trap();
	if (st == PROXY_DONE)
	{
		if (h.length == 0 || h.length > size || h.length > PROXY_MAX_HEADER)
			__builtin_trap();
		if (h.family != 0 && h.family != 4 && h.family != 6)
			__builtin_trap();
		for (size_t n = 1; n < h.length; n++)
			if (proxy_parse(copy, n, &h) != PROXY_INCOMPLETE)
				__builtin_trap();
	}
	free(copy);
	return 0;
}
