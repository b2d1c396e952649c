/*
 * sendfloor.c
 *		The machine's floor for fan-out latency: what delivering one small
 *		message to each of N loopback TCP clients costs when nothing but the
 *		kernel stands between sender and receiver.
 *
 * pg_dash's fan-out ends in one send() per client per notification
 * (docs/architecture.md, "Fan-out"), made by its serving workers.  This
 * does the same with no PostgreSQL, no libwebsockets and no parsing: W
 * sender processes (as many as pg_dash.workers), each holding N/W accepted
 * sockets, are told "go" at the same moment and send a frame of the size
 * of a notify frame, carrying the time of "go", to each of their sockets
 * in turn; one receiver process reads all N sockets with epoll, as
 * bench/wsload.c does, and records each delivery's latency.  Its p99 is
 * the lowest NOTIFY-to-client p99 any server of this design could reach
 * on this machine with its clients on the same machine.
 *
 * Usage: sendfloor -n 10000 -w 2 -r 20 -g 250 [-s 160]
 *	(clients, senders, rounds, milliseconds between rounds, frame bytes)
 * Prints one JSON line: {"clients":..,"p50_ms":..,"p99_ms":..,"max_ms":..}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* A sender: on each byte from go, sends a frame to each of its sockets. */
static void
sender(int go, const int *fds, int n, int size)
{
	char	   *frame = calloc(1, size);
	char		b;

	memset(frame, 'x', size);
	while (read(go, &b, 1) == 1)
	{
		double		t = now_us();

		memcpy(frame, &t, sizeof(t));
		for (int i = 0; i < n; i++)
			if (send(fds[i], frame, size, MSG_NOSIGNAL) != size)
				die("send");
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	int			n = 10000, w = 2, rounds = 20, gap_ms = 250, size = 160;
	int			opt, ep, *cfd, *port, (*go)[2];
	pid_t	   *pids;
	struct sockaddr_in a;
	socklen_t	alen = sizeof(a);
	struct rlimit rl;
	uint32_t   *lat;
	size_t		nlat = 0;
	char	   *buf;

	while ((opt = getopt(argc, argv, "n:w:r:g:s:")) != -1)
	{
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'w')
			w = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'g')
			gap_ms = atoi(optarg);
		else if (opt == 's')
			size = atoi(optarg);
		else
			return 2;
	}
	if (n < 1 || w < 1 || rounds < 1 || size < (int) sizeof(double) || size > 65536)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/*
	 * Each sender listens on a port of its own and accepts its share of the
	 * N loopback connections (TCP_NODELAY, as lws sets), so that no process
	 * holds more than N descriptors
	 */
	go = malloc(sizeof(*go) * w);
	pids = malloc(sizeof(pid_t) * w);
	port = malloc(sizeof(int) * w);
	for (int s = 0; s < w; s++)
	{
		int			from = (int) ((long) n * s / w), to = (int) ((long) n * (s + 1) / w);
		int			lfd = socket(AF_INET, SOCK_STREAM, 0);

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		alen = sizeof(a);
		if (lfd < 0 || bind(lfd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(lfd, 4096) != 0 ||
			getsockname(lfd, (struct sockaddr *) &a, &alen) != 0)
			die("listen");
		port[s] = a.sin_port;
		if (pipe(go[s]) != 0)
			die("pipe");
		pids[s] = fork();
		if (pids[s] < 0)
			die("fork");
		if (pids[s] == 0)
		{
			int		   *sfd = malloc(sizeof(int) * (to - from + 1));

			for (int j = 0; j <= s; j++)
				close(go[j][1]);
			for (int i = 0; i < to - from; i++)
			{
				int			one = 1;

				sfd[i] = accept(lfd, NULL, NULL);
				if (sfd[i] < 0)
					die("accept");
				setsockopt(sfd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			}
			close(lfd);
			sender(go[s][0], sfd, to - from, size);
		}
		close(go[s][0]);
		close(lfd);
	}
	cfd = malloc(sizeof(int) * n);
	for (int s = 0; s < w; s++)
	{
		int			from = (int) ((long) n * s / w), to = (int) ((long) n * (s + 1) / w);

		a.sin_port = port[s];
		for (int i = from; i < to; i++)
		{
			cfd[i] = socket(AF_INET, SOCK_STREAM, 0);
			if (cfd[i] < 0 || connect(cfd[i], (struct sockaddr *) &a, sizeof(a)) != 0)
				die("connect");
		}
	}

	ep = epoll_create1(0);
	for (int i = 0; i < n; i++)
	{
		struct epoll_event ev = {.events = EPOLLIN,.data.u32 = (uint32_t) i};

		if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd[i], &ev) != 0)
			die("epoll_ctl");
	}
	lat = malloc(sizeof(uint32_t) * (size_t) n * rounds);
	buf = malloc(65536);
	for (int r = 0; r < rounds; r++)
	{
		long		got = 0;
		long		want = (long) n * size;

		usleep(gap_ms * 1000);
		for (int s = 0; s < w; s++)
			if (write(go[s][1], "g", 1) != 1)
				die("go");
		while (got < want)
		{
			struct epoll_event evs[1024];
			int			k = epoll_wait(ep, evs, 1024, 10000);

			if (k <= 0)
				die("epoll_wait: nothing arrived");
			for (int e = 0; e < k; e++)
			{
				ssize_t		m = read(cfd[evs[e].data.u32], buf, 65536);
				double		t = now_us();
				double		sent;

				if (m < (ssize_t) sizeof(double))
					die("read");
				memcpy(&sent, buf, sizeof(sent));
				lat[nlat++] = (uint32_t) (t - sent);
				got += m;
			}
		}
	}
	for (int s = 0; s < w; s++)
	{
		kill(pids[s], SIGTERM);
		waitpid(pids[s], NULL, 0);
	}
	qsort(lat, nlat, sizeof(uint32_t), cmp_u32);
	printf("{\"clients\":%d,\"senders\":%d,\"deliveries\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
		   n, w, nlat, lat[nlat / 2] / 1e3, lat[nlat * 99 / 100] / 1e3, lat[nlat - 1] / 1e3);
	return 0;
}
