/*
 * fuzz_lttb.c
 *		libFuzzer target for lttb_select (src/lib/lttb.c).
 *
 * The first two bytes choose the threshold; the rest are pairs of doubles
 * (any bit pattern: NaN, infinities, unsorted x).  The selection must
 * always have the documented size, start at 0, end at count - 1 and be
 * strictly ascending.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lttb.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One run over the input; aborts on a broken invariant. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		threshold;
	size_t		count;
	double	   *x;
	double	   *y;
	size_t	   *out;
	size_t		got;
	size_t		i;

	if (size < 2)
		return 0;
	threshold = (size_t) data[0] | ((size_t) data[1] << 8);
	data += 2;
	size -= 2;
	count = size / (2 * sizeof(double));
	x = malloc((count ? count : 1) * sizeof(double));
	y = malloc((count ? count : 1) * sizeof(double));
	out = malloc((count ? count : 1) * sizeof(size_t));
	for (i = 0; i < count; i++)
	{
		memcpy(&x[i], data + i * 2 * sizeof(double), sizeof(double));
		memcpy(&y[i], data + i * 2 * sizeof(double) + sizeof(double), sizeof(double));
	}
	/* half the runs with sorted finite x, as real series are */
	if (threshold & 0x8000)
		for (i = 0; i < count; i++)
			x[i] = (double) i;

	threshold &= 0x7fff;
	got = lttb_select(x, y, count, threshold, out);
	if (count <= threshold || threshold < 3)
	{
		if (got != count)
			abort();
	}
	else
	{
		if (got != threshold || out[0] != 0 || out[got - 1] != count - 1)
			abort();
	}
	for (i = 1; i < got; i++)
		if (out[i] <= out[i - 1] || out[i] >= count)
			abort();
	free(x);
	free(y);
	free(out);
	return 0;
}
