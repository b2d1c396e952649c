/*-------------------------------------------------------------------------
 *
 * m4.c
 *		M4 reduction of a series for line charts, pure C (libc only); see
 *		m4.h.
 *
 * src/lib/m4.c
 *
 *-------------------------------------------------------------------------
 */
#include "m4.h"

#include <math.h>
#include <string.h>

/* Which bucket holds x; see m4.h. */
long
m4_bucket_of(double x, double lo, double hi, size_t nbuckets)
{
	double		b;

	if (nbuckets == 0 || !isfinite(x) || !isfinite(lo) || !isfinite(hi) || !(x >= lo && x <= hi))
		return -1;
	if (!(hi > lo))
		return 0;
	b = floor((x - lo) / (hi - lo) * (double) nbuckets);
	if (!(b >= 0))
		return 0;
	if (b >= (double) nbuckets)
		return (long) nbuckets - 1;
	return (long) b;
}

/* Adds a weighted point to a bucket; see m4.h. */
void
m4_add(double *bucket, double x, double y, double weight)
{
	if (bucket[M4_POINTS] == 0)
	{
		bucket[M4_POINTS] = 1;
		bucket[M4_FIRST_X] = bucket[M4_LAST_X] = bucket[M4_MIN_Y_X] = bucket[M4_MAX_Y_X] = x;
		bucket[M4_FIRST_Y] = bucket[M4_LAST_Y] = bucket[M4_MIN_Y] = bucket[M4_MAX_Y] = y;
		bucket[M4_ROWS] = weight;
		return;
	}
	bucket[M4_POINTS] += 1;
	bucket[M4_ROWS] += weight;
	if (x < bucket[M4_FIRST_X] || (x == bucket[M4_FIRST_X] && y < bucket[M4_FIRST_Y]))
	{
		bucket[M4_FIRST_X] = x;
		bucket[M4_FIRST_Y] = y;
	}
	if (x > bucket[M4_LAST_X] || (x == bucket[M4_LAST_X] && y > bucket[M4_LAST_Y]))
	{
		bucket[M4_LAST_X] = x;
		bucket[M4_LAST_Y] = y;
	}
	if (y < bucket[M4_MIN_Y] || (y == bucket[M4_MIN_Y] && x < bucket[M4_MIN_Y_X]))
	{
		bucket[M4_MIN_Y] = y;
		bucket[M4_MIN_Y_X] = x;
	}
	if (y > bucket[M4_MAX_Y] || (y == bucket[M4_MAX_Y] && x < bucket[M4_MAX_Y_X]))
	{
		bucket[M4_MAX_Y] = y;
		bucket[M4_MAX_Y_X] = x;
	}
}

/* Merges two buckets; see m4.h. */
void
m4_merge(double *dst, const double *src)
{
	if (src[M4_POINTS] == 0)
		return;
	if (dst[M4_POINTS] == 0)
	{
		memcpy(dst, src, sizeof(double) * M4_FIELDS);
		return;
	}
	/* each extreme of src is a point of src: adding all four is exact */
	m4_add(dst, src[M4_FIRST_X], src[M4_FIRST_Y], 0);
	m4_add(dst, src[M4_LAST_X], src[M4_LAST_Y], 0);
	m4_add(dst, src[M4_MIN_Y_X], src[M4_MIN_Y], 0);
	m4_add(dst, src[M4_MAX_Y_X], src[M4_MAX_Y], 0);
	dst[M4_POINTS] += src[M4_POINTS] - 4;
	dst[M4_ROWS] += src[M4_ROWS];
}

/* Writes a bucket's points in x order; see m4.h. */
size_t
m4_emit(const double *bucket, double *out_x, double *out_y, double *out_w)
{
	/* the candidates in the order they are drawn among equal x */
	double		cx[4];
	double		cy[4];
	size_t		n = 0;
	int			i;
	int			j;

	if (bucket[M4_POINTS] == 0)
		return 0;
	cx[0] = bucket[M4_FIRST_X];
	cy[0] = bucket[M4_FIRST_Y];
	cx[1] = bucket[M4_MIN_Y_X];
	cy[1] = bucket[M4_MIN_Y];
	cx[2] = bucket[M4_MAX_Y_X];
	cy[2] = bucket[M4_MAX_Y];
	cx[3] = bucket[M4_LAST_X];
	cy[3] = bucket[M4_LAST_Y];
	if (cx[2] < cx[1] || (cx[2] == cx[1] && cy[2] < cy[1]))
	{
		double		t;

		t = cx[1], cx[1] = cx[2], cx[2] = t;
		t = cy[1], cy[1] = cy[2], cy[2] = t;
	}
	for (i = 0; i < 4; i++)
	{
		int			seen = 0;

		for (j = 0; j < (int) n; j++)
			if (out_x[j] == cx[i] && out_y[j] == cy[i])
				seen = 1;
		if (seen)
			continue;
		/* first <= extremes <= last by x: already in x order */
		out_x[n] = cx[i];
		out_y[n] = cy[i];
		out_w[n] = 0;
		n++;
	}
	out_w[0] = bucket[M4_ROWS];
	return n;
}

/* Reduces weighted points to the M4 points of nbuckets buckets; see m4.h. */
size_t
m4_reduce(const double *x, const double *y, const double *w, size_t count,
		  double lo, double hi, size_t nbuckets, double *scratch,
		  double *out_x, double *out_y, double *out_w, double *rows)
{
	size_t		i;
	size_t		n = 0;
	double		total = 0;

	memset(scratch, 0, sizeof(double) * M4_FIELDS * nbuckets);
	for (i = 0; i < count; i++)
	{
		long		b;

		if (!isfinite(y[i]))
			continue;
		b = m4_bucket_of(x[i], lo, hi, nbuckets);
		if (b < 0)
			continue;
		m4_add(scratch + (size_t) b * M4_FIELDS, x[i], y[i], w ? w[i] : 1);
	}
	for (i = 0; i < nbuckets; i++)
	{
		total += scratch[i * M4_FIELDS + M4_ROWS];
		n += m4_emit(scratch + i * M4_FIELDS, out_x + n, out_y + n, out_w + n);
	}
	if (rows)
		*rows = total;
	return n;
}
