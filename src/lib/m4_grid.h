/*-------------------------------------------------------------------------
 *
 * m4_grid.h
 *		M4 buckets on a grid that grows with the data, pure C (libc only):
 *		a chart's points in one pass without knowing the x range first.
 *
 * The buckets (cells) are the intervals [k * 2^e, (k + 1) * 2^e) of a grid
 * anchored at 0, for integers k and a power-of-two width 2^e.  A grid keeps
 * at most n consecutive cells, from the first occupied one (lo) to the last
 * (hi).  A point outside them extends the range; when the range would
 * exceed n cells, e grows until it fits and the cells merge in place: each
 * cell of the finer grid lies wholly in one cell of the coarser one, and M4
 * buckets merge exactly (m4.h), so growing loses nothing a grid of the new
 * width would have kept.  For the same reason two grids of different
 * widths combine exactly (the finer one is coarsened first), which lets
 * PostgreSQL build them in parallel.
 *
 * e is always the smallest width at which every point seen fits in n cells,
 * or finer widths than any two distinct points can tell apart (a new grid
 * starts at a quarter of its first point's unit in the last place), so the
 * points a grid keeps do not depend on the order of the rows nor on how
 * they were split between workers.  m4_grid_exponent() gives that e from
 * the smallest and largest x alone.
 *
 * A grid is a flat array of doubles: the M4_GRID_HEADER fields below, then
 * M4_FIELDS doubles per cell (m4.h), cell k in slot (k - lo + off) mod n.
 * Cell numbers are kept as doubles: they are integers, exact as long as
 * they come from finite x, and differences of at most n are computed
 * exactly.
 *
 * src/lib/m4_grid.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGDASH_M4_GRID_H
#define PGDASH_M4_GRID_H

#include <stddef.h>

/* The header fields of a grid. */
enum m4_grid_field
{
	M4G_CELLS,					/* n: cells kept, at least 2 */
	M4G_USED,					/* 1 once a point was added, else 0 */
	M4G_EXP,					/* e: a cell is 2^e wide */
	M4G_LO,						/* the first and last occupied cells */
	M4G_HI,
	M4G_OFF,					/* the slot of cell lo, 0 .. n - 1 */
	M4_GRID_HEADER
};

/* The finest and coarsest widths (2^e) a grid may have. */
#define M4_GRID_MIN_EXP (-1074)
#define M4_GRID_MAX_EXP 1024

/* Doubles of a grid of n cells. */
extern size_t m4_grid_size(size_t n);

/* Makes an empty grid of n cells (n >= 2) in g (m4_grid_size(n) doubles). */
extern void m4_grid_init(double *g, size_t n);

/*
 * Checks the header of a grid of len doubles: NULL when it is a grid, else
 * what is wrong.  The cells' contents are not checked (any doubles are safe
 * to read).
 */
extern const char *m4_grid_check(const double *g, size_t len, size_t max_cells);

/*
 * Adds a point standing for weight rows (points with a non-finite x or y
 * are left out).  Returns 0, or -1 when the grid's header cannot hold the
 * point (only for a header m4_grid_check accepts but no data could make).
 */
extern int	m4_grid_add(double *g, double x, double y, double weight);

/*
 * Merges grid from into grid into (both checked).  Returns 0, or -1 when
 * they have different numbers of cells or no width fits both.
 */
extern int	m4_grid_combine(double *into, const double *from);

/*
 * Writes the points of every cell in x order as m4_emit() does (out_x,
 * out_y and out_w have room for 4 * n points); returns how many.
 */
extern size_t m4_grid_emit(const double *g, double *out_x, double *out_y, double *out_w);

/*
 * The e of the cells of a grid of n cells whose smallest and largest x are
 * lo and hi (finite, lo <= hi): the smallest e >= M4_GRID_MIN_EXP at which
 * they fit.
 */
extern int	m4_grid_exponent(double lo, double hi, size_t n);

#endif							/* PGDASH_M4_GRID_H */
