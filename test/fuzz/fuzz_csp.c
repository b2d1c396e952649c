/*
 * fuzz_csp.c
 *		libFuzzer target for the frame-ancestors check: whatever it accepts
 *		can be written into a header without ending the directive, the
 *		policy or the header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csp.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *value = malloc(size + 1);
	const char *reason;
	size_t		i;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	if (csp_ancestors_valid(value, &reason))
	{
		if (reason != NULL)
			__builtin_trap();
		for (i = 0; value[i]; i++)
			if (value[i] == ';' || value[i] == ',' || (unsigned char) value[i] < 0x20 ||
				(unsigned char) value[i] >= 0x7f)
				__builtin_trap();
	}
	else if (reason == NULL)
		__builtin_trap();
	free(value);
	return 0;
}
