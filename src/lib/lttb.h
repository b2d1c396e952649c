/*-------------------------------------------------------------------------
 *
 * lttb.h
 *		Largest-Triangle-Three-Buckets downsampling of a series, pure C
 *		(libc only).
 *
 * LTTB (Sveinn Steinarsson, "Downsampling Time Series for Visual
 * Representation", 2013) picks "threshold" points out of "count" so that a
 * line chart of the picked points looks like the chart of all of them.  The
 * first and the last point are always kept; the points in between are split
 * into threshold - 2 buckets of (nearly) equal size and from each bucket the
 * point forming the largest triangle with the point chosen in the previous
 * bucket and the average point of the next bucket is kept.
 *
 * x must be ascending (ties are allowed); x and y must be finite for the
 * result to be meaningful (NaN or infinite values never crash the routine,
 * but the choice inside a bucket holding one is arbitrary).
 *
 * src/lib/lttb.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_LTTB_H
#define PGDASH_LTTB_H

#include <stddef.h>

/*
 * Choose the points to keep.  Writes the indices of the chosen points, in
 * ascending order, to out_idx (room for min(count, threshold) entries; when
 * count <= threshold or threshold < 3 that is count entries) and returns
 * how many were written: count when count <= threshold or threshold < 3
 * (every point is kept: out_idx[i] = i), threshold otherwise.
 */
extern size_t lttb_select(const double *x, const double *y, size_t count,
						  size_t threshold, size_t *out_idx);

#endif							/* PGDASH_LTTB_H */
