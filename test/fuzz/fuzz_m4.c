/*
 * fuzz_m4.c
 *		libFuzzer target for m4_reduce (src/lib/m4.c).
 *
 * The first two bytes choose the number of buckets, the next sixteen the
 * range [lo, hi]; the rest are pairs of doubles (any bit pattern: NaN,
 * infinities, unsorted x).  The result must have at most four points per
 * bucket, in x order, inside [lo, hi], each one an input point, and count
 * every row that was kept.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m4.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One run over the input; aborts on a broken invariant. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		nbuckets;
	size_t		count;
	double		lo;
	double		hi;
	double	   *x;
	double	   *y;
	double	   *scratch;
	double	   *ox;
	double	   *oy;
	double	   *ow;
	double		rows;
	double		weights = 0;
	size_t		kept = 0;
	size_t		n;
	size_t		i;
	size_t		j;

	if (size < 18)
		return 0;
	nbuckets = ((size_t) data[0] | ((size_t) data[1] << 8)) % 512;
	memcpy(&lo, data + 2, sizeof(double));
	memcpy(&hi, data + 10, sizeof(double));
	data += 18;
	size -= 18;
	count = size / (2 * sizeof(double));
	x = malloc((count ? count : 1) * sizeof(double));
	y = malloc((count ? count : 1) * sizeof(double));
	scratch = malloc((nbuckets ? nbuckets : 1) * M4_FIELDS * sizeof(double));
	ox = malloc((nbuckets ? nbuckets : 1) * 4 * sizeof(double));
	oy = malloc((nbuckets ? nbuckets : 1) * 4 * sizeof(double));
	ow = malloc((nbuckets ? nbuckets : 1) * 4 * sizeof(double));
	for (i = 0; i < count; i++)
	{
		memcpy(&x[i], data + i * 2 * sizeof(double), sizeof(double));
		memcpy(&y[i], data + i * 2 * sizeof(double) + sizeof(double), sizeof(double));
		if (isfinite(x[i]) && isfinite(y[i]) && m4_bucket_of(x[i], lo, hi, nbuckets) >= 0)
			kept++;
	}
	n = m4_reduce(x, y, NULL, count, lo, hi, nbuckets, scratch, ox, oy, ow, &rows);
	if (n > 4 * nbuckets || rows != (double) kept)
		abort();
	for (i = 0; i < n; i++)
	{
		int			found = 0;

		weights += ow[i];
		if (!(ox[i] >= lo && ox[i] <= hi) || (i > 0 && ox[i] < ox[i - 1]))
			abort();
		for (j = 0; j < count && !found; j++)
			if (memcmp(&x[j], &ox[i], sizeof(double)) == 0 && memcmp(&y[j], &oy[i], sizeof(double)) == 0)
				found = 1;
		if (!found)
			abort();
	}
	if (weights != rows)
		abort();
	free(x);
	free(y);
	free(scratch);
	free(ox);
	free(oy);
	free(ow);
	return 0;
}
