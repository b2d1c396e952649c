/*-------------------------------------------------------------------------
 *
 * m4_grid.c
 *		M4 buckets on a grid that grows with the data, pure C (libc only);
 *		see m4_grid.h.
 *
 * src/lib/m4_grid.c
 *
 *-------------------------------------------------------------------------
 */
#include "m4_grid.h"

#include <math.h>
#include <string.h>

#include "m4.h"

/*
 * floor() without a call into libm: this runs for every row.  Doubles of at
 * least 2^52 in magnitude (and infinities, NaN) are integers already.
 */
static inline double
grid_floor(double v)
{
	double		t;

	if (!(fabs(v) < 4503599627370496.0))
		return v;
	t = (double) (long long) v;
	return t > v ? t - 1 : t;
}

/*
 * The cell of x on the grid of width 2^e (also: cell k coarsened by e).
 * For the usual widths x is multiplied by 2^-e, made from its bits, which is
 * exact (and rounds as ldexp does when the product is subnormal).
 */
static inline double
grid_cell(double x, int e)
{
	double		k;

	if (e >= -1022 && e <= 1022)
	{
		union
		{
			unsigned long long bits;
			double		d;
		}			scale;

		scale.bits = (unsigned long long) (1023 - e) << 52;
		k = grid_floor(x * scale.d);
	}
	else
		k = grid_floor(ldexp(x, -e));
	/* a tiny negative x whose scaled value rounded to -0 is in cell -1 */
	if (k >= 0 && x < 0)
		k = -1;
	return k + 0.0;				/* never -0 */
}

/* The cells of a grid. */
static double *
grid_cells(double *g)
{
	return g + M4_GRID_HEADER;
}

/* The slot that holds cell k, which lies within lo .. lo + n - 1. */
static size_t
grid_slot(const double *g, double k)
{
	size_t		n = (size_t) g[M4G_CELLS];
	size_t		s = (size_t) (k - g[M4G_LO]) + (size_t) g[M4G_OFF];

	return s >= n ? s - n : s;
}

/* Swaps two cells. */
static void
grid_swap(double *a, double *b)
{
	double		t[M4_FIELDS];

	memcpy(t, a, sizeof(t));
	memcpy(a, b, sizeof(t));
	memcpy(b, t, sizeof(t));
}

/* Reverses the cells from .. to - 1. */
static void
grid_reverse(double *cells, size_t from, size_t to)
{
	while (from + 1 < to)
	{
		to--;
		grid_swap(cells + from * M4_FIELDS, cells + to * M4_FIELDS);
		from++;
	}
}

/*
 * Coarsens a grid by d (d >= 1) doublings of its width and then widens its
 * range to nlo .. nhi, cells of the new width that include the old range and
 * number at most n.  With d = 0 only the range is widened.
 */
static void
grid_rescale(double *g, int d, double nlo, double nhi)
{
	size_t		n = (size_t) g[M4G_CELLS];
	double	   *cells = grid_cells(g);
	size_t		off;

	if (d > 0)
	{
		double		lo = g[M4G_LO];
		size_t		span = (size_t) (g[M4G_HI] - lo) + 1;
		double		clo = grid_cell(lo, d);
		size_t		j;

		/* rotate the slots so that cell lo is in slot 0 */
		off = (size_t) g[M4G_OFF];
		if (off > 0)
		{
			grid_reverse(cells, 0, off);
			grid_reverse(cells, off, n);
			grid_reverse(cells, 0, n);
		}

		/*
		 * Cell lo + j goes to slot j' <= j of the coarser grid: in increasing
		 * j every slot below j is already final, so the merge is in place.
		 * lo + j is exact for an occupied cell (it is a cell of some x).
		 */
		for (j = 0; j < span; j++)
		{
			double		t[M4_FIELDS];
			size_t		to;

			if (cells[j * M4_FIELDS + M4_POINTS] == 0)
				continue;
			to = (size_t) (grid_cell(lo + (double) j, d) - clo);
			if (to == j)
				continue;
			memcpy(t, cells + j * M4_FIELDS, sizeof(t));
			memset(cells + j * M4_FIELDS, 0, sizeof(t));
			m4_merge(cells + to * M4_FIELDS, t);
		}
		g[M4G_EXP] += d;
		g[M4G_LO] = clo;
		g[M4G_HI] = grid_cell(g[M4G_HI], d);
		g[M4G_OFF] = 0;
	}

	/* the new first cell's slot, keeping every cell where it is */
	off = (size_t) g[M4G_OFF];
	if (nlo < g[M4G_LO])
	{
		size_t		shift = (size_t) (g[M4G_LO] - nlo);

		off = off >= shift ? off - shift : off + n - shift;
		g[M4G_LO] = nlo;
		g[M4G_OFF] = (double) off;
	}
	if (nhi > g[M4G_HI])
		g[M4G_HI] = nhi;
}

/* Doubles of a grid of n cells; see m4_grid.h. */
size_t
m4_grid_size(size_t n)
{
	return M4_GRID_HEADER + n * M4_FIELDS;
}

/* Makes an empty grid; see m4_grid.h. */
void
m4_grid_init(double *g, size_t n)
{
	memset(g, 0, sizeof(double) * m4_grid_size(n));
	g[M4G_CELLS] = (double) n;
}

/*
 * Cells of finite x are integers of at most about 2^56 in magnitude: a
 * grid's first cell is below 2^55 (a quarter unit in the last place of its
 * x) and the others lie within n cells of it, coarsening only shrinks them.
 */
#define M4_GRID_MAX_CELL 4611686018427387904.0	/* 2^62 */

/* True when v is an integer of at most M4_GRID_MAX_CELL in magnitude. */
static inline int
grid_integer(double v)
{
	return fabs(v) <= M4_GRID_MAX_CELL && v == (double) (long long) v;
}

/* Checks a grid's header; see m4_grid.h.  This runs for every row. */
const char *
m4_grid_check(const double *g, size_t len, size_t max_cells)
{
	double		n;

	if (len < M4_GRID_HEADER)
		return "The state is shorter than its header.";
	n = g[M4G_CELLS];
	if (!(n >= 2 && n <= (double) max_cells) || !grid_integer(n))
		return "The number of cells is out of range.";
	if (len != m4_grid_size((size_t) n))
		return "The length of the state does not match its number of cells.";
	if (g[M4G_USED] == 0)
		return NULL;
	if (g[M4G_USED] != 1)
		return "The used flag is neither 0 nor 1.";
	if (!(g[M4G_EXP] >= M4_GRID_MIN_EXP && g[M4G_EXP] <= M4_GRID_MAX_EXP) || !grid_integer(g[M4G_EXP]))
		return "The cell width is out of range.";
	if (!grid_integer(g[M4G_LO]) || !grid_integer(g[M4G_HI]))
		return "The first or last cell is not a cell of a finite x.";
	if (!(g[M4G_LO] <= g[M4G_HI] && g[M4G_HI] - g[M4G_LO] < n))
		return "The range of cells is wider than the grid.";
	if (!(g[M4G_OFF] >= 0 && g[M4G_OFF] < n) || !grid_integer(g[M4G_OFF]))
		return "The slot of the first cell is out of range.";
	return NULL;
}

/* Adds a point; see m4_grid.h. */
int
m4_grid_add(double *g, double x, double y, double weight)
{
	int			e;
	double		k;

	if (!isfinite(x) || !isfinite(y))
		return 0;
	if (g[M4G_USED] == 0)
	{
		/* a quarter of x's unit in the last place: finer than any two x near it */
		e = x == 0 ? M4_GRID_MIN_EXP : ilogb(x) - 54;
		if (e < M4_GRID_MIN_EXP)
			e = M4_GRID_MIN_EXP;
		k = grid_cell(x, e);
		g[M4G_USED] = 1;
		g[M4G_EXP] = e;
		g[M4G_LO] = g[M4G_HI] = k;
		g[M4G_OFF] = 0;
		m4_add(grid_cells(g), x, y, weight);
		return 0;
	}
	e = (int) g[M4G_EXP];
	k = grid_cell(x, e);
	if (!(k >= g[M4G_LO] && k <= g[M4G_HI]))
	{
		double		n = g[M4G_CELLS];
		int			d;

		/* the finest width at which the cells seen and x's fit */
		for (d = 0;; d++)
		{
			double		kx;
			double		lo;
			double		hi;

			if (e + d > M4_GRID_MAX_EXP)
				return -1;
			kx = grid_cell(x, e + d);
			lo = fmin(grid_cell(g[M4G_LO], d), kx);
			hi = fmax(grid_cell(g[M4G_HI], d), kx);
			if (hi - lo < n)
			{
				grid_rescale(g, d, lo, hi);
				k = kx;
				break;
			}
		}
	}
	m4_add(grid_cells(g) + grid_slot(g, k) * M4_FIELDS, x, y, weight);
	return 0;
}

/* Merges two grids; see m4_grid.h. */
int
m4_grid_combine(double *into, const double *from)
{
	double		n = into[M4G_CELLS];
	int			ea;
	int			eb;
	int			e;
	size_t		span;
	size_t		off;
	size_t		j;

	if (from[M4G_CELLS] != n)
		return -1;
	if (from[M4G_USED] == 0)
		return 0;
	if (into[M4G_USED] == 0)
	{
		memcpy(into, from, sizeof(double) * m4_grid_size((size_t) n));
		return 0;
	}
	ea = (int) into[M4G_EXP];
	eb = (int) from[M4G_EXP];
	for (e = ea > eb ? ea : eb;; e++)
	{
		double		lo;
		double		hi;

		if (e > M4_GRID_MAX_EXP)
			return -1;
		lo = fmin(grid_cell(into[M4G_LO], e - ea), grid_cell(from[M4G_LO], e - eb));
		hi = fmax(grid_cell(into[M4G_HI], e - ea), grid_cell(from[M4G_HI], e - eb));
		if (hi - lo < n)
		{
			grid_rescale(into, e - ea, lo, hi);
			break;
		}
	}
	span = (size_t) (from[M4G_HI] - from[M4G_LO]) + 1;
	off = (size_t) from[M4G_OFF];
	for (j = 0; j < span; j++)
	{
		const double *cell = from + M4_GRID_HEADER + ((off + j) % (size_t) n) * M4_FIELDS;

		if (cell[M4_POINTS] == 0)
			continue;
		m4_merge(grid_cells(into) +
				 grid_slot(into, grid_cell(from[M4G_LO] + (double) j, e - eb)) * M4_FIELDS,
				 cell);
	}
	return 0;
}

/* Writes the points of every cell in x order; see m4_grid.h. */
size_t
m4_grid_emit(const double *g, double *out_x, double *out_y, double *out_w)
{
	size_t		n = (size_t) g[M4G_CELLS];
	size_t		count = 0;
	size_t		span;
	size_t		j;

	if (g[M4G_USED] == 0)
		return 0;
	span = (size_t) (g[M4G_HI] - g[M4G_LO]) + 1;
	for (j = 0; j < span; j++)
	{
		const double *cell = g + M4_GRID_HEADER + (((size_t) g[M4G_OFF] + j) % n) * M4_FIELDS;

		count += m4_emit(cell, out_x + count, out_y + count, out_w + count);
	}
	return count;
}

/* The width of the cells for a range of x; see m4_grid.h. */
int
m4_grid_exponent(double lo, double hi, size_t n)
{
	int			e = M4_GRID_MIN_EXP;
	double		range = hi / 2 - lo / 2;

	if (!(lo < hi))
		return M4_GRID_MIN_EXP;	/* one x fits any grid */
	/* start a little below the width at which the range spans n cells */
	if (range > 0 && n > 2)
	{
		e = ilogb(range) + 1 - ilogb((double) n) - 2;
		if (e < M4_GRID_MIN_EXP)
			e = M4_GRID_MIN_EXP;
	}
	while (e < M4_GRID_MAX_EXP && !(grid_cell(hi, e) - grid_cell(lo, e) < (double) n))
		e++;
	return e;
}
