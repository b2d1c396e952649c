/*
 * fuzz_sql_params.c
 *		libFuzzer target for the :name rewriting of named queries.
 */
#include <stdint.h>
#include <string.h>

#include "sql_params.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SqlParams	p;

	if (sql_params_rewrite((const char *) data, size, &p))
	{
		/* every parameter number written must be in range */
		if (p.count < 0 || p.count > SQL_PARAMS_MAX)
			__builtin_trap();
		sql_params_free(&p);
	}
	return 0;
}
