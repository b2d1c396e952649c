/*
 * delivery_stats.h
 *		Latency and burst-rate bookkeeping shared by the notification load
 *		clients (wsload.c, pglisten.c).  Header-only: each client is one
 *		translation unit.
 */
#ifndef BENCH_DELIVERY_STATS_H
#define BENCH_DELIVERY_STATS_H

#include <stdint.h>
#include <stdio.h>
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

/* Per kind of message (0 spaced, 1 burst): first send, last send, last arrival. */
static double first_sent[2], last_sent[2], last_recv_k[2];

/*
 * Notes one delivery of a message of kind k (0 or 1), sent at "sent" and
 * received at t_recv (seconds); burst is its burst number, or -1.
 */
static void
delivery_note(long long k, long long burst, double sent, double t_recv)
{
	Lat		   *l;
	double		d;

	if (k < 0 || k > 1)
		k = 1;
	if (k == 1 && burst >= 0)
		burst_note(burst, sent, t_recv);
	if (first_sent[k] == 0 || sent < first_sent[k])
		first_sent[k] = sent;
	if (sent > last_sent[k])
		last_sent[k] = sent;
	if (t_recv > last_recv_k[k])
		last_recv_k[k] = t_recv;
	l = &lat[k];
	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 1 << 16;
		l->v = realloc(l->v, l->cap * sizeof(uint32_t));
		if (!l->v)
		{
			perror("realloc");
			exit(2);
		}
	}
	d = (t_recv - sent) * 1e6;
	l->v[l->n++] = d < 0 ? 0 : (d > 4e9 ? 4000000000u : (uint32_t) d);
}

/*
 * Prints the burst rate and per-kind latencies as JSON members (after the
 * round's own members, before its closing brace), and resets them.
 */
static void
delivery_print_and_reset(void)
{
	int			k;
	int			nb;
	double		rate = burst_rate_median(&nb);

	printf(",\"bursts\":%d,\"burst_msgs_per_s\":%.1f", nb, rate);
	for (k = 0; k < 2; k++)
	{
		Lat		   *l = &lat[k];
		double		span = last_recv_k[k] - first_sent[k];

		qsort(l->v, l->n, sizeof(uint32_t), cmp_u32);
		printf(",\"k%d\":{\"n\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
			   "\"span_s\":%.6f,\"send_span_s\":%.6f,\"msgs_per_s\":%.1f}",
			   k, l->n, pct(l, 0.5), pct(l, 0.99), pct(l, 1.0),
			   l->n ? span : 0, l->n ? last_sent[k] - first_sent[k] : 0,
			   (l->n && span > 0) ? l->n / span : 0);
		l->n = 0;
		first_sent[k] = last_sent[k] = last_recv_k[k] = 0;
	}
}

#endif							/* BENCH_DELIVERY_STATS_H */
