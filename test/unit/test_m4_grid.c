/*
 * test_m4_grid.c
 *		Unit tests of the growing M4 grid (src/lib/m4_grid.c).
 *
 * The expectation for a set of points is computed here by brute force: the
 * smallest width 2^e at which the points span at most n cells (tried one e
 * after another), each point put in the cell floor(x / 2^e), the cells
 * reduced with m4.c (tested on its own in test_m4.c) and written in cell
 * order.  The grid, which never sees the range in advance and grows and
 * merges as points arrive, must give exactly that, whatever the order of
 * the points and however they are split between grids that are combined.
 */
#include <math.h>
#include <stdlib.h>

#include "m4.h"
#include "m4_grid.h"
#include "unit.h"

#define MAX_CELLS 100000

/* A small deterministic generator (xorshift), so that runs repeat. */
static unsigned long long rng = 88172645463325252ULL;

static unsigned long long
next_u64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Points written by a grid or by the brute force. */
typedef struct Points
{
	size_t		n;
	double	   *x;
	double	   *y;
	double	   *w;
} Points;

static void
points_alloc(Points *p, size_t cells)
{
	p->n = 0;
	p->x = malloc(sizeof(double) * 4 * cells);
	p->y = malloc(sizeof(double) * 4 * cells);
	p->w = malloc(sizeof(double) * 4 * cells);
}

static void
points_free(Points *p)
{
	free(p->x);
	free(p->y);
	free(p->w);
}

static int
points_equal(const Points *a, const Points *b)
{
	size_t		i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->x[i] != b->x[i] || a->y[i] != b->y[i] || a->w[i] != b->w[i])
			return 0;
	return 1;
}

/* A new empty grid. */
static double *
grid_new(size_t cells)
{
	double	   *g = malloc(sizeof(double) * m4_grid_size(cells));

	m4_grid_init(g, cells);
	return g;
}

/* The points of a grid. */
static void
grid_points(const double *g, Points *p)
{
	p->n = m4_grid_emit(g, p->x, p->y, p->w);
}

/* Cell of x at width 2^e, independently of m4_grid.c. */
static double
brute_cell(double x, int e)
{
	return floor(x / exp2(e));
}

/* The brute-force expectation (finite points only; e within exp2's range). */
static int
brute_force(const double *x, const double *y, size_t count, size_t cells, Points *out)
{
	double		lo = INFINITY;
	double		hi = -INFINITY;
	double	   *bucket;
	size_t		i;
	size_t		k;
	int			e;
	int			any = 0;

	out->n = 0;
	for (i = 0; i < count; i++)
		if (isfinite(x[i]) && isfinite(y[i]))
		{
			lo = fmin(lo, x[i]);
			hi = fmax(hi, x[i]);
			any = 1;
		}
	if (!any)
		return M4_GRID_MIN_EXP;
	/* from the finest width whose cells are finite */
	for (e = -1022; !(brute_cell(hi, e) - brute_cell(lo, e) < (double) cells); e++)
		;
	bucket = calloc(cells * M4_FIELDS, sizeof(double));
	for (i = 0; i < count; i++)
		if (isfinite(x[i]) && isfinite(y[i]))
			m4_add(bucket + (size_t) (brute_cell(x[i], e) - brute_cell(lo, e)) * M4_FIELDS, x[i], y[i], 1);
	for (k = 0; k < cells; k++)
		out->n += m4_emit(bucket + k * M4_FIELDS, out->x + out->n, out->y + out->n, out->w + out->n);
	free(bucket);
	return e;
}

/* Fills a grid with points in an order. */
static void
grid_fill(double *g, const double *x, const double *y, const size_t *order, size_t from, size_t to)
{
	size_t		i;
	int			failed = 0;

	for (i = from; i < to; i++)
		if (m4_grid_add(g, x[order[i]], y[order[i]], 1) != 0)
			failed++;
	CHECK_INT(failed, 0);
}

/* A random permutation of 0 .. n - 1. */
static size_t *
shuffled(size_t n)
{
	size_t	   *order = malloc(sizeof(size_t) * n);
	size_t		i;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--)
	{
		size_t		j = next_u64() % i;
		size_t		t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	return order;
}

/*
 * The grid of the points in their order, in a shuffled order, and split in
 * parts combined in both directions, all equal to the brute force.
 */
static void
check_series(const char *what, const double *x, const double *y, size_t count, size_t cells)
{
	Points		want;
	Points		got;
	size_t	   *order = malloc(sizeof(size_t) * count);
	size_t	   *mixed = shuffled(count);
	double	   *g = grid_new(cells);
	size_t		i;
	int			e;
	int			ok = 1;

	points_alloc(&want, cells);
	points_alloc(&got, cells);
	e = brute_force(x, y, count, cells, &want);
	for (i = 0; i < count; i++)
		order[i] = i;

	/* in order: the same points and the smallest width that fits */
	grid_fill(g, x, y, order, 0, count);
	grid_points(g, &got);
	if (!points_equal(&got, &want))
	{
		fprintf(stderr, "%s: in order, %zu points, want %zu\n", what, got.n, want.n);
		ok = 0;
	}
	if (want.n > 0 && (int) g[M4G_EXP] != e)
	{
		fprintf(stderr, "%s: e = %d, want %d\n", what, (int) g[M4G_EXP], e);
		ok = 0;
	}
	CHECK(m4_grid_check(g, m4_grid_size(cells), MAX_CELLS) == NULL);

	/* shuffled */
	m4_grid_init(g, cells);
	grid_fill(g, x, y, mixed, 0, count);
	grid_points(g, &got);
	if (!points_equal(&got, &want))
	{
		fprintf(stderr, "%s: shuffled, %zu points, want %zu\n", what, got.n, want.n);
		ok = 0;
	}

	/* split at a few places, combined either way round */
	for (i = 0; i < 3; i++)
	{
		size_t		cut = count == 0 ? 0 : (size_t) (next_u64() % (count + 1));
		double	   *a = grid_new(cells);
		double	   *b = grid_new(cells);
		double	   *c = grid_new(cells);

		grid_fill(a, x, y, i == 0 ? order : mixed, 0, cut);
		grid_fill(b, x, y, i == 0 ? order : mixed, cut, count);
		memcpy(c, b, sizeof(double) * m4_grid_size(cells));
		CHECK_INT(m4_grid_combine(a, b), 0);
		grid_points(a, &got);
		if (!points_equal(&got, &want))
		{
			fprintf(stderr, "%s: split at %zu, %zu points, want %zu\n", what, cut, got.n, want.n);
			ok = 0;
		}
		m4_grid_init(a, cells);
		grid_fill(a, x, y, i == 0 ? order : mixed, 0, cut);
		CHECK_INT(m4_grid_combine(c, a), 0);
		grid_points(c, &got);
		if (!points_equal(&got, &want))
		{
			fprintf(stderr, "%s: split at %zu, combined the other way, %zu points, want %zu\n",
					what, cut, got.n, want.n);
			ok = 0;
		}
		CHECK(m4_grid_check(c, m4_grid_size(cells), MAX_CELLS) == NULL);
		free(a);
		free(b);
		free(c);
	}
	if (!ok)
		fprintf(stderr, "%s: failed\n", what);
	CHECK(ok);
	points_free(&want);
	points_free(&got);
	free(order);
	free(mixed);
	free(g);
}

/* Growth over rising, falling, outward and random x, of every sign. */
static void
test_growth(void)
{
	size_t		count = 20000;
	double	   *x = malloc(sizeof(double) * count);
	double	   *y = malloc(sizeof(double) * count);
	size_t		i;

	for (i = 0; i < count; i++)
	{
		x[i] = (double) i + 1;
		y[i] = (double) ((i * 7919) % 1000);
	}
	check_series("rising integers", x, y, count, 1000);
	check_series("rising integers, many cells", x, y, count, 32768);
	check_series("rising integers, two cells", x, y, count, 2);
	for (i = 0; i < count; i++)
		x[i] = 1e6 - 0.25 * (double) i;
	check_series("falling quarters", x, y, count, 777);
	for (i = 0; i < count; i++)
		x[i] = (i % 2 ? -1.0 : 1.0) * (double) i * 0.001;
	check_series("outward from zero", x, y, count, 100);
	for (i = 0; i < count; i++)
		x[i] = -5000.0 - (double) (next_u64() % 100000) / 7.0;
	check_series("negative random", x, y, count, 300);
	for (i = 0; i < count; i++)
		x[i] = ((double) (next_u64() % 2000001) - 1000000.0) / 3.0;
	check_series("random across zero", x, y, count, 4096);

	/* one cell per x: every row is a point */
	{
		double	   *g = grid_new(50);
		Points		got;

		points_alloc(&got, 50);
		for (i = 0; i < 50; i++)
			m4_grid_add(g, (double) (49 - i), (double) i, 1);
		grid_points(g, &got);
		CHECK_INT(got.n, 50);
		CHECK(got.x[0] == 0 && got.x[49] == 49 && got.y[0] == 49);
		CHECK_INT(g[M4G_EXP], 0);
		points_free(&got);
		free(g);
	}
	free(x);
	free(y);
}

/* Extreme ranges: huge, tiny, subnormal, from zero to huge. */
static void
test_ranges(void)
{
	double		huge[] = {1e308, -1e308, 1.7e308, -1.7e308, 0, 5e307, -3e300};
	double		hy[] = {1, 2, 3, 4, 5, 6, 7};
	double		tiny[] = {1.0, 1.0 + 0x1p-52, 1.0 + 0x1p-51, 1.0 - 0x1p-53, 1.0 + 0x1p-40, 1.0 - 0x1p-45};
	double		ty[] = {1, 2, 3, 4, 5, 6};
	double		sub[] = {0x1p-1074, 3 * 0x1p-1074, -0x1p-1074, 0x1p-1060, 0, -0x1p-1050};
	double		sy[] = {1, 2, 3, 4, 5, 6};
	double		grow[] = {0, 1e300, -1e-300, 7};
	double		gy[] = {1, 2, 3, 4};
	double	   *g = grid_new(4);
	Points		got;

	points_alloc(&got, 64);

	/* the whole range of doubles fits in a few cells, never overflowing */
	m4_grid_init(g, 4);
	grid_fill(g, huge, hy, (size_t[]) {0, 1, 2, 3, 4, 5, 6}, 0, 7);
	CHECK(m4_grid_check(g, m4_grid_size(4), MAX_CELLS) == NULL);
	grid_points(g, &got);
	CHECK(got.n >= 2 && got.x[0] == -1.7e308 && got.x[got.n - 1] == 1.7e308);
	CHECK_INT(g[M4G_EXP], m4_grid_exponent(-1.7e308, 1.7e308, 4));
	CHECK(g[M4G_EXP] >= 1020 && g[M4G_EXP] <= M4_GRID_MAX_EXP);
	{
		double	   *two = grid_new(2);

		grid_fill(two, huge, hy, (size_t[]) {0, 1, 2, 3, 4, 5, 6}, 0, 7);
		grid_points(two, &got);
		CHECK(got.n >= 2 && got.x[0] == -1.7e308 && got.x[got.n - 1] == 1.7e308);
		CHECK_INT(two[M4G_EXP], M4_GRID_MAX_EXP);
		free(two);
	}

	/* x a unit in the last place apart: each its own cell, any order */
	check_series("ulps around 1", tiny, ty, 6, 64);
	m4_grid_init(g, 4);
	grid_fill(g, tiny, ty, (size_t[]) {0, 1, 2, 3, 4, 5}, 0, 4);
	grid_points(g, &got);
	CHECK_INT(got.n, 4);		/* four distinct x in four cells */

	/* subnormal x */
	{
		double	   *s = grid_new(8);
		Points		want;

		points_alloc(&want, 8);
		grid_fill(s, sub, sy, (size_t[]) {0, 1, 2, 3, 4, 5}, 0, 6);
		grid_points(s, &got);
		CHECK(got.x[0] == -0x1p-1050 && got.x[got.n - 1] == 0x1p-1060);
		m4_grid_init(s, 8);
		grid_fill(s, sub, sy, (size_t[]) {5, 3, 1, 0, 2, 4}, 0, 6);
		grid_points(s, &want);
		CHECK(points_equal(&got, &want));
		CHECK(m4_grid_check(s, m4_grid_size(8), MAX_CELLS) == NULL);
		CHECK_INT(s[M4G_EXP], m4_grid_exponent(-0x1p-1050, 0x1p-1060, 8));
		/* tiny negative x and a coarse grid: cell -1, never -0 */
		m4_grid_init(s, 8);
		m4_grid_add(s, 100, 1, 1);
		m4_grid_add(s, -0x1p-1074, 2, 1);
		CHECK(s[M4G_LO] == -1 && !signbit(s[M4G_HI]));
		grid_points(s, &got);
		CHECK(got.n == 2 && got.x[0] == -0x1p-1074);
		points_free(&want);
		free(s);
	}

	/* from zero (the finest grid) to huge in one step */
	m4_grid_init(g, 4);
	grid_fill(g, grow, gy, (size_t[]) {0, 1, 2, 3}, 0, 4);
	grid_points(g, &got);
	CHECK(got.x[0] == -1e-300 && got.x[got.n - 1] == 1e300);
	CHECK(m4_grid_check(g, m4_grid_size(4), MAX_CELLS) == NULL);
	CHECK_INT(g[M4G_EXP], m4_grid_exponent(-1e-300, 1e300, 4));

	/* zero first: the finest grid, a valid one */
	m4_grid_init(g, 4);
	m4_grid_add(g, 0, 1, 1);
	CHECK_INT(g[M4G_EXP], M4_GRID_MIN_EXP);
	CHECK(m4_grid_check(g, m4_grid_size(4), MAX_CELLS) == NULL);
	m4_grid_add(g, -0.0, 2, 1);
	CHECK(m4_grid_check(g, m4_grid_size(4), MAX_CELLS) == NULL);
	grid_points(g, &got);
	CHECK(got.n == 2 && got.w[0] == 2);

	/* one x many times: one cell, one point standing for every row */
	m4_grid_init(g, 4);
	m4_grid_add(g, 42, 1, 1);
	m4_grid_add(g, 42, 1, 1);
	m4_grid_add(g, 42, 1, 2);
	grid_points(g, &got);
	CHECK(got.n == 1 && got.x[0] == 42 && got.w[0] == 4);
	points_free(&got);
	free(g);
}

/* m4_grid_exponent is the smallest e that fits, as the brute force finds. */
static void
test_exponent(void)
{
	double		ranges[][2] = {{1, 10000000}, {0, 1}, {-1, 1}, {-1e9, -1e6}, {5, 5}, {0.1, 0.3},
	{1.7e9, 1.7e9 + 86400}, {-3, 1e-3}};
	size_t		cells[] = {2, 3, 1200, 32768, 100000};
	size_t		i;
	size_t		j;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		for (j = 0; j < sizeof(cells) / sizeof(cells[0]); j++)
		{
			double		lo = ranges[i][0];
			double		hi = ranges[i][1];
			int			e;

			for (e = -1022; !(brute_cell(hi, e) - brute_cell(lo, e) < (double) cells[j]); e++)
				;
			if (lo == hi)
				e = M4_GRID_MIN_EXP;
			CHECK_INT(m4_grid_exponent(lo, hi, cells[j]), e);
		}
}

/* Rows with NaN or infinite x or y are left out. */
static void
test_not_finite(void)
{
	double	   *g = grid_new(10);
	Points		got;

	points_alloc(&got, 10);
	m4_grid_add(g, NAN, 1, 1);
	m4_grid_add(g, INFINITY, 1, 1);
	m4_grid_add(g, 1, NAN, 1);
	m4_grid_add(g, 1, -INFINITY, 1);
	CHECK(g[M4G_USED] == 0);
	grid_points(g, &got);
	CHECK_INT(got.n, 0);
	m4_grid_add(g, 3, 4, 1);
	m4_grid_add(g, -INFINITY, 4, 1);
	m4_grid_add(g, 1e308 * 10, 4, 1);
	grid_points(g, &got);
	CHECK(got.n == 1 && got.x[0] == 3 && got.w[0] == 1);
	CHECK(g[M4G_LO] == g[M4G_HI]);
	points_free(&got);
	free(g);
}

/* Headers that no grid has are refused; odd but valid ones are safe. */
static void
test_garbage(void)
{
	size_t		len = m4_grid_size(4);
	double	   *g = grid_new(4);
	double	   *h = grid_new(4);
	double	   *other = grid_new(5);
	Points		got;

	points_alloc(&got, 4);
	CHECK(m4_grid_check(g, len, MAX_CELLS) == NULL);
	CHECK(m4_grid_check(g, 3, MAX_CELLS) != NULL);
	CHECK(m4_grid_check(g, len - 1, MAX_CELLS) != NULL);
	CHECK(m4_grid_check(g, len, 3) != NULL);	/* more cells than allowed */

#define BAD(field, value) \
	do { \
		m4_grid_init(g, 4); \
		m4_grid_add(g, 1, 1, 1); \
		m4_grid_add(g, 2, 1, 1); \
		g[field] = (value); \
		CHECK(m4_grid_check(g, len, MAX_CELLS) != NULL); \
	} while (0)

	BAD(M4G_CELLS, 1);
	BAD(M4G_CELLS, 4.5);
	BAD(M4G_CELLS, NAN);
	BAD(M4G_CELLS, -4);
	BAD(M4G_USED, 2);
	BAD(M4G_USED, NAN);
	BAD(M4G_EXP, 0.5);
	BAD(M4G_EXP, 1025);
	BAD(M4G_EXP, -1075);
	BAD(M4G_EXP, NAN);
	BAD(M4G_LO, 5);				/* after hi (the cells are 2 .. 4) */
	BAD(M4G_LO, -10);			/* wider than the grid */
	BAD(M4G_LO, 0.5);
	BAD(M4G_LO, NAN);
	BAD(M4G_LO, -INFINITY);
	BAD(M4G_HI, INFINITY);
	BAD(M4G_OFF, 4);
	BAD(M4G_OFF, -1);
	BAD(M4G_OFF, 1.5);
	BAD(M4G_OFF, NAN);
#undef BAD

	/* a cell beyond any finite x: refused rather than looped over */
	m4_grid_init(g, 4);
	m4_grid_add(g, 1, 1, 1);
	g[M4G_LO] = g[M4G_HI] = ldexp(1, 70);
	CHECK(m4_grid_check(g, len, MAX_CELLS) != NULL);

	/* valid headers over garbage cells: no crash, whatever comes out */
	m4_grid_init(g, 4);
	m4_grid_add(g, 1, 1, 1);
	m4_grid_add(g, 2, 1, 1);
	{
		size_t		i;

		for (i = M4_GRID_HEADER; i < len; i++)
			g[i] = (i % 3) ? NAN : -1e300;
	}
	CHECK(m4_grid_check(g, len, MAX_CELLS) == NULL);
	m4_grid_add(g, 1e9, 1, 1);
	m4_grid_emit(g, got.x, got.y, got.w);
	CHECK(m4_grid_check(g, len, MAX_CELLS) == NULL);

	/* the largest cell a check accepts at the coarsest width still fits two cells */
	m4_grid_init(h, 4);
	h[M4G_USED] = 1;
	h[M4G_EXP] = M4_GRID_MAX_EXP;
	h[M4G_LO] = -1;
	h[M4G_HI] = 1;
	CHECK(m4_grid_check(h, len, MAX_CELLS) == NULL);
	CHECK_INT(m4_grid_add(h, 5, 1, 1), 0);
	h[M4G_CELLS] = 2;			/* now -1 .. 1 can never fit: refused, not looped */
	CHECK(m4_grid_check(h, m4_grid_size(2), MAX_CELLS) != NULL);

	/* a header check accepts, yet no width fits its cell and x's: refused */
	m4_grid_init(other, 2);
	other[M4G_USED] = 1;
	other[M4G_EXP] = M4_GRID_MAX_EXP;
	other[M4G_LO] = other[M4G_HI] = 1;
	CHECK(m4_grid_check(other, m4_grid_size(2), MAX_CELLS) == NULL);
	CHECK_INT(m4_grid_add(other, -1, 1, 1), -1);

	/* grids of different sizes do not combine */
	m4_grid_init(other, 5);
	m4_grid_add(other, 1, 1, 1);
	CHECK_INT(m4_grid_combine(g, other), -1);
	points_free(&got);
	free(g);
	free(h);
	free(other);
}

int
main(void)
{
	test_growth();
	test_ranges();
	test_exponent();
	test_not_finite();
	test_garbage();
	UNIT_DONE();
}
