/*
 * delivery_stats.h
 *		Latency and burst-rate bookkeeping shared by the notification load
 *		clients (wsload.c, pglisten.c).  Header-only: each client is one
 *		translation unit.
 */
#ifndef BENCH_DELIVERY_STATS_H
#define BENCH_DELIVERY_STATS_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct Lat
{
	uint32_t   *v;
	size_t		n, cap;
} Lat;

static Lat	lat[2];

/* per burst (phase 1): first send, last arrival, deliveries */
#define MAX_BURSTS 64
static double b_first[MAX_BURSTS], b_last[MAX_BURSTS];
static long b_n[MAX_BURSTS];

/* Notes one delivery of burst b. */
static void
burst_note(long long b, double sent, double t_recv)
{
	if (b < 0 || b >= MAX_BURSTS)
		return;
	if (b_first[b] == 0 || sent < b_first[b])
		b_first[b] = sent;
	if (t_recv > b_last[b])
		b_last[b] = t_recv;
	b_n[b]++;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double		x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/*
 * Median over bursts of deliveries per second: a burst's deliveries over
 * the time from its first send to its last arrival.  Resets the bursts.
 */
static double
burst_rate_median(int *nbursts)
{
	double		r[MAX_BURSTS];
	int			n = 0, i;

	for (i = 0; i < MAX_BURSTS; i++)
	{
		if (b_n[i] > 0 && b_last[i] > b_first[i])
			r[n++] = b_n[i] / (b_last[i] - b_first[i]);
		b_first[i] = b_last[i] = 0;
		b_n[i] = 0;
	}
	*nbursts = n;
	if (n == 0)
		return 0;
	qsort(r, n, sizeof(double), cmp_dbl);
	return n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
}

/* Wall-clock time in seconds. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* Percentile of a sorted latency array, in milliseconds. */
static double
pct(Lat *l, double q)
{
	if (l->n == 0)
		return -1;
	return l->v[(size_t) (q * (l->n - 1) + 0.5)] / 1000.0;
}

#endif							/* BENCH_DELIVERY_STATS_H */
