/*
 * test_lttb.c
 *		Unit tests of lttb_select (src/lib/lttb.c).
 *
 * The expected indices were computed with the reference implementations in
 * node 20: the npm package downsample-lttb 0.0.1 (Sveinn Steinarsson's own
 * JavaScript from the thesis, as a module) and the LTTB of the npm package
 * downsample 1.4.0, which agree on every case below.  The series is
 *
 *	x[i] = i * 3 + (i % 4) * 0.5
 *	y[i] = ((i * 37 + 11) % 101) - 50 + (i % 7) * 2.5
 *
 * (every value exact in binary floating point, so both sides see the same
 * numbers), and the script was:
 *
 *	const lttb = require('downsample-lttb');
 *	const d = [...Array(n).keys()].map(i => [x(i), y(i)]);
 *	console.log(lttb.processData(d, t).map(p => d.indexOf(p)));
 */
#include <math.h>
#include <stdlib.h>

#include "lttb.h"
#include "unit.h"

/* Fills the fixed series of the reference cases. */
static void
make_series(double *x, double *y, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		x[i] = (double) i * 3 + (double) (i % 4) * 0.5;
		y[i] = (double) ((i * 37 + 11) % 101) - 50 + (double) (i % 7) * 2.5;
	}
}

/* Runs one reference case and compares every index. */
static void
check_case(size_t n, size_t threshold, const size_t *want, size_t want_len)
{
	double	   *x = malloc(n * sizeof(double));
	double	   *y = malloc(n * sizeof(double));
	size_t	   *out = malloc(n * sizeof(size_t));
	size_t		got;
	size_t		i;
	int			same = 1;

	make_series(x, y, n);
	got = lttb_select(x, y, n, threshold, out);
	CHECK_INT(got, want_len);
	for (i = 0; i < want_len && i < got; i++)
		if (out[i] != want[i])
		{
			fprintf(stderr, "n=%zu threshold=%zu: index %zu is %zu, want %zu\n",
					n, threshold, i, out[i], want[i]);
			same = 0;
		}
	CHECK(same);
	free(x);
	free(y);
	free(out);
}

#define CASE(n, t, ...) \
	do { \
		static const size_t want_[] = {__VA_ARGS__}; \
		check_case((n), (t), want_, sizeof(want_) / sizeof(want_[0])); \
	} while (0)

int
main(void)
{
	double		x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	double		y[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	size_t		out[8];
	size_t		i;

	/* the reference cases */
	CASE(100, 10, 0, 5, 14, 32, 38, 54, 63, 76, 95, 99);
	CASE(100, 17, 0, 5, 8, 16, 22, 32, 38, 40, 49, 54, 60, 71, 76, 79, 87, 93, 99);
	CASE(100, 3, 0, 5, 99);
	CASE(57, 8, 0, 5, 11, 24, 30, 40, 49, 56);
	CASE(1000, 25, 0, 5, 49, 87, 169, 188, 221, 278, 311, 349, 401, 439, 483, 521,
		 573, 622, 655, 712, 745, 783, 835, 873, 917, 955, 999);
	CASE(20, 19, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19);

	/* nothing to do: every point is kept */
	CHECK_INT(lttb_select(x, y, 8, 8, out), 8);
	CHECK_INT(out[7], 7);
	CHECK_INT(lttb_select(x, y, 8, 100, out), 8);
	CHECK_INT(lttb_select(x, y, 8, 2, out), 8);
	CHECK_INT(lttb_select(x, y, 8, 0, out), 8);
	for (i = 0; i < 8; i++)
		CHECK_INT(out[i], i);
	CHECK_INT(lttb_select(x, y, 0, 5, out), 0);
	CHECK_INT(lttb_select(NULL, NULL, 0, 0, NULL), 0);

	/* a flat line keeps the first point of each bucket */
	CHECK_INT(lttb_select(x, y, 8, 4, out), 4);
	CHECK_INT(out[0], 0);
	CHECK_INT(out[1], 1);
	CHECK_INT(out[2], 4);
	CHECK_INT(out[3], 7);

	/* a spike is always kept */
	y[5] = 100;
	CHECK_INT(lttb_select(x, y, 8, 3, out), 3);
	CHECK_INT(out[1], 5);

	/* NaN never breaks the order */
	y[2] = NAN;
	y[3] = NAN;
	x[4] = NAN;
	CHECK_INT(lttb_select(x, y, 8, 5, out), 5);
	for (i = 1; i < 5; i++)
		CHECK(out[i] > out[i - 1]);
	CHECK_INT(out[4], 7);

	UNIT_DONE();
}
