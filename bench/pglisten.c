/*
 * pglisten.c
 *		PostgreSQL's own ceiling for notification delivery: one libpq
 *		connection that LISTENs on a channel and records, for every
 *		notification, the time from the send time in its payload ("t",
 *		microseconds since the epoch) to its arrival.
 *
 * Speaks the same line protocol with bench/run.py as wsload.c (READY,
 * ROUND <expected>, one JSON line per round, QUIT), with one "client".
 *
 * Usage: pglisten "conninfo" channel
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "delivery_stats.h"


static long received, bad;


/* Reads an integer after "key": in a JSON text. */
static int
json_int(const char *s, const char *key, long long *out)
{
	const char *p = strstr(s, key);

	if (!p)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == ':')
		p++;
	*out = strtoll(p, NULL, 10);
	return 1;
}

/* Prints a round's result and resets. */
static void
report(const char *why, long expected)
{
	printf("{\"end\":\"%s\",\"clients\":1,\"subscribed\":1,\"closed\":0,\"failed\":0,"
		   "\"expected_per_client\":%ld,\"received\":%ld,\"clients_complete\":%d,\"bad_messages\":%ld",
		   why, expected, received, received >= expected, bad);
	delivery_print_and_reset();
	printf("}\n");
	fflush(stdout);
	received = bad = 0;
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	char		sql[256];
	long		expected = -1;
	double		round_start = 0, last_recv = 0;
	char		line[256];
	size_t		ll = 0;

	if (argc != 3)
	{
		fprintf(stderr, "usage: pglisten conninfo channel\n");
		return 2;
	}
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "pglisten: %s", PQerrorMessage(conn));
		return 1;
	}
	snprintf(sql, sizeof(sql), "LISTEN %s", argv[2]);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "pglisten: %s", PQerrorMessage(conn));
		return 1;
	}
	PQclear(res);
	printf("READY 1 0\n");
	fflush(stdout);

	for (;;)
	{
		struct pollfd pfd[2];
		PGnotify   *n;
		double		t;

		pfd[0].fd = PQsocket(conn);
		pfd[0].events = POLLIN;
		pfd[1].fd = 0;
		pfd[1].events = POLLIN;
		poll(pfd, 2, 100);
		if (pfd[1].revents)
		{
			ssize_t		r = read(0, line + ll, sizeof(line) - 1 - ll);
			char	   *nl;

			if (r <= 0)
				break;
			ll += r;
			line[ll] = '\0';
			while ((nl = strchr(line, '\n')) != NULL)
			{
				*nl = '\0';
				if (strncmp(line, "ROUND ", 6) == 0)
				{
					expected = atol(line + 6);
					round_start = now_s();
					last_recv = 0;
				}
				else if (strcmp(line, "QUIT") == 0)
					goto done;
				memmove(line, nl + 1, ll - (nl + 1 - line) + 1);
				ll -= nl + 1 - line;
			}
		}
		if (pfd[0].revents)
		{
			t = now_s();
			if (!PQconsumeInput(conn))
			{
				fprintf(stderr, "pglisten: %s", PQerrorMessage(conn));
				return 1;
			}
			while ((n = PQnotifies(conn)) != NULL)
			{
				long long	ts = 0, k = 0, b = 0;

				received++;
				last_recv = t;
				if (json_int(n->extra, "\"t\"", &ts))
				{
					json_int(n->extra, "\"k\"", &k);
					if (!json_int(n->extra, "\"b\"", &b))
						b = -1;
					delivery_note(k, b, ts / 1e6, t);
				}
				else
					bad++;
				PQfreemem(n);
			}
		}
		t = now_s();
		if (expected >= 0)
		{
			if (received >= expected)
			{
				report("complete", expected);
				expected = -1;
			}
			else if ((last_recv > 0 && t - last_recv > 5) || (last_recv == 0 && t - round_start > 30))
			{
				report("idle", expected);
				expected = -1;
			}
		}
	}
done:
	PQfinish(conn);
	return 0;
}
