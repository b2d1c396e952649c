/*
 * test_m4.c
 *		Unit tests of the M4 reduction (src/lib/m4.c).
 *
 * The expectations are computed here by brute force over every point of a
 * bucket (the smallest x, the largest x, the smallest y, the largest y,
 * with the documented tie rules), independently of m4.c's incremental
 * updates; the order-independence and merge cases compare m4.c with
 * itself over shuffled and split inputs.
 */
#include <math.h>
#include <stdlib.h>

#include "m4.h"
#include "unit.h"

/* A small deterministic generator (xorshift), so that runs repeat. */
static unsigned long long rng = 88172645463325252ULL;

static double
next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double) (rng % 1000000) / 1000.0;
}

/* Fills one bucket with points (no weights) in the given order. */
static void
fill(double *bucket, const double *x, const double *y, const size_t *order, size_t n)
{
	size_t		i;

	for (i = 0; i < M4_FIELDS; i++)
		bucket[i] = 0;
	for (i = 0; i < n; i++)
		m4_add(bucket, x[order[i]], y[order[i]], 1);
}

/* The edges of the buckets. */
static void
test_bucket_of(void)
{
	CHECK_INT(m4_bucket_of(0, 0, 10, 10), 0);
	CHECK_INT(m4_bucket_of(0.999, 0, 10, 10), 0);
	CHECK_INT(m4_bucket_of(1, 0, 10, 10), 1);
	CHECK_INT(m4_bucket_of(9.999, 0, 10, 10), 9);
	CHECK_INT(m4_bucket_of(10, 0, 10, 10), 9);	/* hi is in the last bucket */
	CHECK_INT(m4_bucket_of(-0.001, 0, 10, 10), -1);
	CHECK_INT(m4_bucket_of(10.001, 0, 10, 10), -1);
	CHECK_INT(m4_bucket_of(NAN, 0, 10, 10), -1);
	CHECK_INT(m4_bucket_of(INFINITY, 0, INFINITY, 10), -1);
	CHECK_INT(m4_bucket_of(5, 0, NAN, 10), -1);
	CHECK_INT(m4_bucket_of(5, 5, 5, 10), 0);	/* a single x */
	CHECK_INT(m4_bucket_of(5, 0, 10, 0), -1);
	/* integers over [a, b] with b - a + 1 buckets: one bucket each */
	{
		long		k;
		int			distinct = 1;

		for (k = 1; k <= 100; k++)
			if (m4_bucket_of(100 + k, 100, 200, 101) != m4_bucket_of(100 + k - 1, 100, 200, 101) + 1)
				distinct = 0;
		CHECK(distinct);
	}
}

/* The extremes of a bucket, ties broken as documented. */
static void
test_extremes(void)
{
	/* x:  3   1   2   1   5   5 */
	/* y:  7  -2   9   4   0   9 */
	double		x[] = {3, 1, 2, 1, 5, 5};
	double		y[] = {7, -2, 9, 4, 0, 9};
	size_t		order[] = {0, 1, 2, 3, 4, 5};
	double		b[M4_FIELDS];
	double		ox[4],
				oy[4],
				ow[4];
	size_t		n;

	fill(b, x, y, order, 6);
	CHECK(b[M4_POINTS] == 6);
	CHECK(b[M4_ROWS] == 6);
	CHECK(b[M4_FIRST_X] == 1 && b[M4_FIRST_Y] == -2);	/* smallest (x, y) */
	CHECK(b[M4_LAST_X] == 5 && b[M4_LAST_Y] == 9);	/* largest (x, y) */
	CHECK(b[M4_MIN_Y] == -2 && b[M4_MIN_Y_X] == 1);
	CHECK(b[M4_MAX_Y] == 9 && b[M4_MAX_Y_X] == 2);	/* smallest x of y = 9 */

	/* (1,-2) is both first and lowest: written once */
	n = m4_emit(b, ox, oy, ow);
	CHECK_INT(n, 3);
	CHECK(ox[0] == 1 && oy[0] == -2 && ow[0] == 6);
	CHECK(ox[1] == 2 && oy[1] == 9 && ow[1] == 0);
	CHECK(ox[2] == 5 && oy[2] == 9 && ow[2] == 0);

	/* an empty bucket writes nothing */
	fill(b, x, y, order, 0);
	CHECK_INT(m4_emit(b, ox, oy, ow), 0);

	/* one point */
	fill(b, x, y, order, 1);
	n = m4_emit(b, ox, oy, ow);
	CHECK_INT(n, 1);
	CHECK(ox[0] == 3 && oy[0] == 7 && ow[0] == 1);

	/* four distinct extremes come out in x order: first, low, high, last */
	{
		double		x4[] = {0, 1, 2, 3, 4};
		double		y4[] = {5, 9, 5, 0, 5};
		size_t		o4[] = {4, 2, 0, 3, 1};

		fill(b, x4, y4, o4, 5);
		n = m4_emit(b, ox, oy, ow);
		CHECK_INT(n, 4);
		CHECK(ox[0] == 0 && ox[1] == 1 && ox[2] == 3 && ox[3] == 4);
		CHECK(oy[0] == 5 && oy[1] == 9 && oy[2] == 0 && oy[3] == 5);
	}
}

/* Brute-force extremes of the points of a bucket. */
static void
brute(const double *x, const double *y, size_t n, double *want)
{
	size_t		i;

	want[M4_FIRST_X] = want[M4_LAST_X] = x[0];
	want[M4_FIRST_Y] = want[M4_LAST_Y] = y[0];
	want[M4_MIN_Y] = want[M4_MAX_Y] = y[0];
	want[M4_MIN_Y_X] = want[M4_MAX_Y_X] = x[0];
	for (i = 1; i < n; i++)
	{
		if (x[i] < want[M4_FIRST_X] || (x[i] == want[M4_FIRST_X] && y[i] < want[M4_FIRST_Y]))
			want[M4_FIRST_X] = x[i], want[M4_FIRST_Y] = y[i];
		if (x[i] > want[M4_LAST_X] || (x[i] == want[M4_LAST_X] && y[i] > want[M4_LAST_Y]))
			want[M4_LAST_X] = x[i], want[M4_LAST_Y] = y[i];
		if (y[i] < want[M4_MIN_Y] || (y[i] == want[M4_MIN_Y] && x[i] < want[M4_MIN_Y_X]))
			want[M4_MIN_Y] = y[i], want[M4_MIN_Y_X] = x[i];
		if (y[i] > want[M4_MAX_Y] || (y[i] == want[M4_MAX_Y] && x[i] < want[M4_MAX_Y_X]))
			want[M4_MAX_Y] = y[i], want[M4_MAX_Y_X] = x[i];
	}
}

/* Any order and any split of the points give the same bucket. */
static void
test_order_and_merge(void)
{
	enum
	{
		N = 500
	};
	double		x[N],
				y[N];
	size_t		order[N];
	double		a[M4_FIELDS],
				b[M4_FIELDS],
				c[M4_FIELDS],
				want[M4_FIELDS];
	int			round;
	int			same_order = 1;
	int			same_merge = 1;
	int			same_brute = 1;
	size_t		i;
	int			f;

	for (round = 0; round < 50; round++)
	{
		size_t		split;

		/* few distinct values, so that ties are common */
		for (i = 0; i < N; i++)
		{
			x[i] = floor(next_random() / 50);
			y[i] = floor(next_random() / 100);
			order[i] = i;
		}
		fill(a, x, y, order, N);
		for (i = N - 1; i > 0; i--)
		{
			size_t		j = (size_t) next_random() % (i + 1);
			size_t		t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		fill(b, x, y, order, N);
		split = (size_t) next_random() % N;
		fill(c, x, y, order, split);
		{
			double		d[M4_FIELDS];

			fill(d, x, y, order + split, N - split);
			m4_merge(c, d);
		}
		brute(x, y, N, want);
		for (f = 0; f < M4_FIELDS; f++)
		{
			if (a[f] != b[f])
				same_order = 0;
			if (a[f] != c[f])
				same_merge = 0;
			if (f != M4_POINTS && f != M4_ROWS && a[f] != want[f])
				same_brute = 0;
		}
	}
	CHECK(same_order);
	CHECK(same_merge);
	CHECK(same_brute);

	/* merging into or from an empty bucket */
	for (f = 0; f < M4_FIELDS; f++)
		b[f] = 0;
	m4_merge(b, a);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	for (f = 0; f < M4_FIELDS; f++)
		c[f] = 0;
	m4_merge(a, c);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
}

/*
 * m4_reduce: at most four points per bucket, in x order, every one an
 * input point, the extremes of each bucket among them, every row counted.
 */
static void
test_reduce(void)
{
	enum
	{
		N = 20000, B = 37
	};
	double	   *x = malloc(sizeof(double) * N);
	double	   *y = malloc(sizeof(double) * N);
	double	   *scratch = malloc(sizeof(double) * M4_FIELDS * B);
	double		ox[4 * B],
				oy[4 * B],
				ow[4 * B];
	double		rows;
	size_t		n;
	size_t		i;
	size_t		j;
	int			sorted = 1;
	int			known = 1;
	int			extremes = 1;
	double		weights = 0;
	size_t		per_bucket[B] = {0};

	for (i = 0; i < N; i++)
	{
		x[i] = next_random();	/* 0 .. 999.999, any order */
		y[i] = (double) ((i * 37) % 201) - 100 + next_random() / 100;
	}
	x[7] = NAN;					/* left out */
	y[8] = INFINITY;			/* left out */
	x[9] = 2000;				/* outside [0, 1000] */
	n = m4_reduce(x, y, NULL, N, 0, 1000, B, scratch, ox, oy, ow, &rows);
	CHECK(rows == N - 3);
	CHECK(n <= 4 * B);
	CHECK(n >= 2 * B);			/* 540 points per bucket: most have 4 */
	for (i = 0; i < n; i++)
	{
		int			found = 0;

		weights += ow[i];
		if (i > 0 && ox[i] < ox[i - 1])
			sorted = 0;
		for (j = 0; j < N && !found; j++)
			if (x[j] == ox[i] && y[j] == oy[i])
				found = 1;
		if (!found)
			known = 0;
		per_bucket[m4_bucket_of(ox[i], 0, 1000, B)]++;
	}
	CHECK(sorted);
	CHECK(known);
	CHECK(weights == rows);
	for (i = 0; i < B; i++)
		if (per_bucket[i] > 4 || per_bucket[i] < 1)
			extremes = 0;
	/* the lowest and highest y overall are kept */
	{
		double		lo = INFINITY,
					hi = -INFINITY,
					olo = INFINITY,
					ohi = -INFINITY;

		for (i = 0; i < N; i++)
			if (isfinite(x[i]) && isfinite(y[i]) && x[i] <= 1000)
			{
				lo = y[i] < lo ? y[i] : lo;
				hi = y[i] > hi ? y[i] : hi;
			}
		for (i = 0; i < n; i++)
		{
			olo = oy[i] < olo ? oy[i] : olo;
			ohi = oy[i] > ohi ? oy[i] : ohi;
		}
		CHECK(lo == olo && hi == ohi);
	}
	CHECK(extremes);

	/*
	 * Reduced again to fewer buckets, with weights: the same as reducing
	 * every point (the coarse buckets are unions of the fine ones).
	 */
	{
		double		fx[4 * B],
					fy[4 * B],
					fw[4 * B];
		double		gx[4 * B],
					gy[4 * B],
					gw[4 * B];
		double		rows2;
		double		rows3;
		size_t		n2;
		size_t		n3;
		int			same = 1;

		/* 37 fine buckets over [0, 1000] do not nest into 5: use 35 and 5 */
		n = m4_reduce(x, y, NULL, N, 0, 1000, 35, scratch, fx, fy, fw, &rows);
		n2 = m4_reduce(fx, fy, fw, n, 0, 1000, 5, scratch, gx, gy, gw, &rows2);
		n3 = m4_reduce(x, y, NULL, N, 0, 1000, 5, scratch, ox, oy, ow, &rows3);
		CHECK(rows2 == rows && rows3 == rows);
		CHECK_INT(n2, n3);
		for (i = 0; i < n2 && i < n3; i++)
			if (gx[i] != ox[i] || gy[i] != oy[i] || gw[i] != ow[i])
				same = 0;
		CHECK(same);
	}

	/* weight-0 points still count as points */
	{
		double		wx[] = {1, 2, 3};
		double		wy[] = {5, 1, 5};
		double		ww[] = {0, 0, 7};

		n = m4_reduce(wx, wy, ww, 3, 0, 10, 1, scratch, ox, oy, ow, &rows);
		CHECK_INT(n, 3);
		CHECK(rows == 7);
		CHECK(ow[0] == 7 && ow[1] == 0 && ow[2] == 0);
	}
	free(x);
	free(y);
	free(scratch);
}

int
main(void)
{
	test_bucket_of();
	test_extremes();
	test_order_and_merge();
	test_reduce();
	UNIT_DONE();
}
