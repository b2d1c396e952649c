/*-------------------------------------------------------------------------
 *
 * m4.h
 *		M4 reduction of a series for line charts, pure C (libc only).
 *
 * M4 (Jugel et al., "M4: A Visualization-Oriented Time Series Data
 * Aggregation", VLDB 2014) splits the x range of a chart into one bucket
 * per pixel column and keeps, of each bucket, the point with the smallest x
 * (first), the largest x (last), the smallest y and the largest y: at most
 * four points per pixel, and a line chart of them draws the same pixels as
 * a line chart of every point.
 *
 * A bucket is M4_FIELDS doubles (the m4_field offsets below), all zero
 * when empty.  Buckets
 * merge exactly (the first of two buckets is the first of their firsts, and
 * so on), which is what lets PostgreSQL compute them in parallel and what
 * lets a fine level of buckets be reduced again to a coarser one.  Ties are
 * broken by a total order, so the result never depends on the order the
 * points came in: first is the smallest (x, y), last the largest (x, y),
 * the smallest and largest y each take the smallest x among equals.
 *
 * A point may stand for several rows (its weight): a bucket counts the
 * rows it holds, and m4_emit() puts that count on the bucket's first
 * point, so that summing the weights of points gives the rows they stand
 * for.
 *
 * src/lib/m4.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_M4_H
#define PGDASH_M4_H

#include <stddef.h>

/* The doubles of one bucket. */
enum m4_field
{
	M4_POINTS,					/* points added; 0: the bucket is empty */
	M4_ROWS,					/* rows they stand for */
	M4_FIRST_X,
	M4_FIRST_Y,
	M4_LAST_X,
	M4_LAST_Y,
	M4_MIN_Y,
	M4_MIN_Y_X,
	M4_MAX_Y,
	M4_MAX_Y_X,
	M4_FIELDS
};

/*
 * The bucket (0 .. nbuckets - 1) of nbuckets equal ones spanning [lo, hi]
 * that holds x; -1 when x is outside [lo, hi] or any of them is not a
 * finite number.  hi itself
 * belongs to the last bucket; when lo == hi every bucket is that one x and
 * it is bucket 0.
 */
extern long m4_bucket_of(double x, double lo, double hi, size_t nbuckets);

/* Adds a point standing for weight rows to a bucket (empty ones included). */
extern void m4_add(double *bucket, double x, double y, double weight);

/* Merges bucket src into bucket dst. */
extern void m4_merge(double *dst, const double *src);

/*
 * Writes the distinct points of a bucket in x order (the first point,
 * then the smallest and largest y by x, then the last point), at most 4;
 * the bucket's rows go to out_w of the first point written, 0 to the
 * others.  Returns how many were written (0 for an empty bucket).
 */
extern size_t m4_emit(const double *bucket, double *out_x, double *out_y, double *out_w);

/*
 * Reduces count weighted points (any order; points outside [lo, hi] or not
 * finite are left out) to the M4 points of nbuckets buckets over [lo, hi],
 * in x order.  scratch has room for nbuckets * M4_FIELDS doubles (its
 * content does not matter); out_x, out_y and out_w room for 4 * nbuckets.
 * w may be NULL: every point is then one row.  Returns the points written;
 * *rows (unless NULL) receives the rows they stand for.
 */
extern size_t m4_reduce(const double *x, const double *y, const double *w, size_t count,
						double lo, double hi, size_t nbuckets, double *scratch,
						double *out_x, double *out_y, double *out_w, double *rows);

#endif							/* PGDASH_M4_H */
