/*-------------------------------------------------------------------------
 *
 * lttb.c
 *		Largest-Triangle-Three-Buckets downsampling (Sveinn Steinarsson,
 *		2013), pure C (libc only).
 *
 * This follows the reference JavaScript implementation of the thesis step
 * by step, with the same double arithmetic for the bucket boundaries, so
 * that for finite data it picks exactly the same points.  Two guards make
 * it total: a bucket whose areas are all NaN keeps its first point (the
 * reference would repeat the previous pick), and empty ranges, which
 * rounding cannot produce for count > threshold >= 3, are clamped anyway.
 *
 * src/lib/lttb.c
 *
 *-------------------------------------------------------------------------
 */
#include "lttb.h"

#include <math.h>

/* Chooses the points to keep; see lttb.h. */
size_t
lttb_select(const double *x, const double *y, size_t count,
			size_t threshold, size_t *out_idx)
{
	double		every;
	size_t		a = 0;
	size_t		n = 0;
	size_t		i;

	if (count <= threshold || threshold < 3)
	{
		for (i = 0; i < count; i++)
			out_idx[i] = i;
		return count;
	}

	/* bucket size, leaving room for the first and the last point */
	every = (double) (count - 2) / (double) (threshold - 2);
	out_idx[n++] = 0;

	for (i = 0; i < threshold - 2; i++)
	{
		size_t		avg_start = (size_t) floor((double) (i + 1) * every) + 1;
		size_t		avg_end = (size_t) floor((double) (i + 2) * every) + 1;
		size_t		range_offs = (size_t) floor((double) i * every) + 1;
		size_t		range_to = (size_t) floor((double) (i + 1) * every) + 1;
		double		avg_x = 0.0;
		double		avg_y = 0.0;
		double		point_a_x = x[a];
		double		point_a_y = y[a];
		double		max_area = -1.0;
		size_t		next_a;
		size_t		j;

		/* the average point of the next bucket (the third corner) */
		if (avg_end > count)
			avg_end = count;
		if (avg_start >= avg_end)
			avg_start = avg_end - 1;
		for (j = avg_start; j < avg_end; j++)
		{
			avg_x += x[j];
			avg_y += y[j];
		}
		avg_x /= (double) (avg_end - avg_start);
		avg_y /= (double) (avg_end - avg_start);

		/* this bucket: the point making the largest triangle */
		if (range_offs <= a)
			range_offs = a + 1;
		if (range_to > count - 1)
			range_to = count - 1;
		if (range_to <= range_offs)
			range_to = range_offs + 1;
		next_a = range_offs;
		for (j = range_offs; j < range_to; j++)
		{
			double		area = fabs((point_a_x - avg_x) * (y[j] - point_a_y) -
									(point_a_x - x[j]) * (avg_y - point_a_y)) * 0.5;

			if (area > max_area)
			{
				max_area = area;
				next_a = j;
			}
		}
		out_idx[n++] = next_a;
		a = next_a;
	}

	out_idx[n++] = count - 1;
	return n;
}
