/*
 * wsload.c
 *		WebSocket load client for pg_dash's fan-out benchmark.
 *
 * Holds many WebSocket clients in one thread with epoll: each connects,
 * upgrades with subprotocol pg_dash.v1, subscribes to a channel and then
 * counts the "notify" messages it receives.  Each payload carries the time
 * it was sent ("t", microseconds since the epoch, CLOCK_REALTIME, same
 * machine) and a phase ("k"); the client records the latency of every
 * delivery by phase.
 *
 * Written in C rather than Python asyncio: at 10,000 clients a burst of 100
 * notifications is 1,000,000 frames to parse, ~1 us each here against
 * ~20-50 us in Python, so on a 2-core machine a Python client would measure
 * itself rather than the server.
 *
 * Protocol with the driver (bench/run.py), one line each:
 *	stdout: READY <subscribed> <failed>	all clients are connected and subscribed
 *	stdin:	ROUND <expected per client>	reset the counters, wait for a round
 *	stdout: {json}						the round's result (all delivered, or idle)
 *	stdin:	QUIT (or EOF)				close everything and exit
 *
 * Server frames are unmasked, so this has its own small frame reader;
 * client frames (subscribe, pong) are masked as RFC 6455 requires.
 *
 * Usage: wsload -h 127.0.0.1 -p 8080 -n 1000 -c bench [-i idle_seconds]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delivery_stats.h"

enum state
{
	S_CONNECTING, S_UPGRADING, S_SUBSCRIBING, S_SUBSCRIBED, S_DEAD
};

typedef struct Client
{
	int			fd;
	enum state	st;
	char	   *buf;			/* bytes read and not yet parsed */
	size_t		len, cap;
	char	   *msg;			/* a fragmented message being assembled */
	size_t		mlen, mcap;
	long		received;		/* notify messages this round */
} Client;

static const char *host = "127.0.0.1";
static int	port = 8080;
static int	nclients = 1000;
static const char *channel = "bench";
static double idle_seconds = 5.0;
static int	epfd;
static Client *clients;
static int	n_subscribed, n_failed, n_closed;
static long expected_per_client = -1;	/* -1: no round running */
static long total_received, bad_messages;
static double round_start, last_recv;

/* Appends to a growable byte buffer. */
static void
buf_append(char **b, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n > *cap)
	{
		size_t		c = *cap ? *cap : 4096;

		while (c < *len + n)
			c *= 2;
		*b = realloc(*b, c);
		if (!*b)
		{
			perror("realloc");
			exit(2);
		}
		*cap = c;
	}
	memcpy(*b + *len, data, n);
	*len += n;
}

/* Sends all of a small buffer (the socket buffer is empty enough). */
static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0)
	{
		ssize_t		w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
			{
				usleep(100);
				continue;
			}
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* Sends one masked client frame. */
static int
send_frame(Client *c, int opcode, const char *payload, size_t n)
{
	char		f[16 + 256];
	size_t		h = 0;
	unsigned char mask[4];
	size_t		i;

	if (n > 256)
		return -1;
	f[h++] = (char) (0x80 | opcode);
	if (n < 126)
		f[h++] = (char) (0x80 | n);
	else
	{
		f[h++] = (char) (0x80 | 126);
		f[h++] = (char) (n >> 8);
		f[h++] = (char) (n & 0xff);
	}
	for (i = 0; i < 4; i++)
		mask[i] = (unsigned char) rand();
	memcpy(f + h, mask, 4);
	h += 4;
	for (i = 0; i < n; i++)
		f[h + i] = payload[i] ^ mask[i % 4];
	return send_all(c->fd, f, h + n);
}

/* Marks a client dead and closes its socket. */
static void
client_kill(Client *c)
{
	if (c->st == S_DEAD)
		return;
	if (c->st == S_SUBSCRIBED)
	{
		n_subscribed--;
		n_closed++;
	}
	else
		n_failed++;
	c->st = S_DEAD;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
}

/* Starts a non-blocking connect. */
static void
client_connect(Client *c)
{
	struct sockaddr_in sa;
	struct epoll_event ev;
	int			one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
	{
		perror("socket");
		c->st = S_DEAD;
		n_failed++;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->st = S_CONNECTING;
	if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
	{
		close(c->fd);
		c->st = S_DEAD;
		n_failed++;
		return;
	}
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Reads an integer after "key" : in a JSON text (no nesting awareness). */
static int
json_int(const char *s, size_t n, const char *key, long long *out)
{
	size_t		kl = strlen(key);
	const char *end = s + n;
	const char *p = s;

	while ((p = memmem(p, end - p, key, kl)) != NULL)
	{
		const char *q = p + kl;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q == ':')
		{
			q++;
			while (q < end && *q == ' ')
				q++;
			*out = strtoll(q, NULL, 10);
			return 1;
		}
		p += kl;
	}
	return 0;
}

/* Records one delivered notification. */
static void
on_notify(Client *c, const char *m, size_t n, double t_recv)
{
	long long	t = 0, k = 0, b = 0;

	c->received++;
	total_received++;
	last_recv = t_recv;
	if (!json_int(m, n, "\"t\"", &t))
	{
		bad_messages++;
		return;
	}
	json_int(m, n, "\"k\"", &k);
	if (!json_int(m, n, "\"b\"", &b))
		b = -1;
	delivery_note(k, b, t / 1e6, t_recv);
}

/* Handles one complete text message. */
static void
on_message(Client *c, const char *m, size_t n, double t_recv)
{
	if (memmem(m, n, "\"notify\"", 8))
		on_notify(c, m, n, t_recv);
	else if (c->st == S_SUBSCRIBING && memmem(m, n, "\"subscribed\"", 12))
	{
		c->st = S_SUBSCRIBED;
		n_subscribed++;
	}
	else if (c->st == S_SUBSCRIBING && memmem(m, n, "\"error\"", 7))
	{
		fprintf(stderr, "wsload: subscribe refused: %.*s\n", (int) (n > 300 ? 300 : n), m);
		client_kill(c);
	}
}

/* Parses the frames in a client's buffer; returns -1 when it must close. */
static int
parse_frames(Client *c, double t_recv)
{
	size_t		off = 0;

	for (;;)
	{
		unsigned char *p = (unsigned char *) c->buf + off;
		size_t		avail = c->len - off;
		size_t		h = 2;
		uint64_t	plen;
		int			fin, op;

		if (avail < 2)
			break;
		fin = p[0] & 0x80;
		op = p[0] & 0x0f;
		plen = p[1] & 0x7f;
		if (plen == 126)
		{
			if (avail < 4)
				break;
			plen = ((uint64_t) p[2] << 8) | p[3];
			h = 4;
		}
		else if (plen == 127)
		{
			int			i;

			if (avail < 10)
				break;
			plen = 0;
			for (i = 0; i < 8; i++)
				plen = (plen << 8) | p[2 + i];
			h = 10;
		}
		if (p[1] & 0x80)
			h += 4;				/* a masked server frame is wrong, but skip it */
		if (avail < h + plen)
			break;
		{
			const char *pl = (const char *) p + h;

			if (op == 0x8)
				return -1;
			else if (op == 0x9)
				send_frame(c, 0xA, pl, plen > 125 ? 125 : plen);
			else if (op == 0x1 || op == 0x2 || op == 0x0)
			{
				if (fin && op != 0 && c->mlen == 0)
					on_message(c, pl, plen, t_recv);
				else
				{
					buf_append(&c->msg, &c->mlen, &c->mcap, pl, plen);
					if (fin)
					{
						on_message(c, c->msg, c->mlen, t_recv);
						c->mlen = 0;
					}
				}
			}
		}
		off += h + plen;
	}
	if (off > 0)
	{
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return 0;
}

/* Handles readable data on a client's socket. */
static void
client_read(Client *c)
{
	char		tmp[65536];
	double		t_recv = 0;

	for (;;)
	{
		ssize_t		r = recv(c->fd, tmp, sizeof(tmp), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0)
		{
			client_kill(c);
			return;
		}
		if (t_recv == 0)
			t_recv = now_s();
		buf_append(&c->buf, &c->len, &c->cap, tmp, r);
		if ((size_t) r < sizeof(tmp))
			break;
	}
	if (c->st == S_UPGRADING)
	{
		char	   *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
		char		sub[128];
		int			n;

		if (!e)
			return;
		if (c->len < 12 || memcmp(c->buf + 9, "101", 3) != 0)
		{
			fprintf(stderr, "wsload: upgrade refused: %.*s\n", (int) (e - c->buf), c->buf);
			client_kill(c);
			return;
		}
		e += 4;
		memmove(c->buf, e, c->len - (e - c->buf));
		c->len -= e - c->buf;
		n = snprintf(sub, sizeof(sub), "{\"type\":\"subscribe\",\"channel\":\"%s\"}", channel);
		if (send_frame(c, 0x1, sub, n) < 0)
		{
			client_kill(c);
			return;
		}
		c->st = S_SUBSCRIBING;
	}
	if (parse_frames(c, t_recv) < 0)
		client_kill(c);
}

/* Sends the upgrade request once the connect completed. */
static void
client_writable(Client *c)
{
	struct epoll_event ev;
	int			err = 0;
	socklen_t	el = sizeof(err);
	char		req[512];
	int			n;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err != 0)
	{
		client_kill(c);
		return;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	n = snprintf(req, sizeof(req),
				 "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
				 "Sec-WebSocket-Protocol: pg_dash.v1\r\nOrigin: http://%s:%d\r\n\r\n",
				 host, port, host, port);
	if (send_all(c->fd, req, n) < 0)
	{
		client_kill(c);
		return;
	}
	c->st = S_UPGRADING;
}

/* Prints the result of a round as one JSON line and resets the counters. */
static void
round_report(const char *why)
{
	long		complete = 0;
	int			i;

	for (i = 0; i < nclients; i++)
		if (clients[i].st == S_SUBSCRIBED && clients[i].received >= expected_per_client)
			complete++;
	printf("{\"end\":\"%s\",\"clients\":%d,\"subscribed\":%d,\"closed\":%d,\"failed\":%d,"
		   "\"expected_per_client\":%ld,\"received\":%ld,\"clients_complete\":%ld,"
		   "\"bad_messages\":%ld",
		   why, nclients, n_subscribed, n_closed, n_failed, expected_per_client,
		   total_received, complete, bad_messages);
	delivery_print_and_reset();
	printf("}\n");
	fflush(stdout);
	for (i = 0; i < nclients; i++)
		clients[i].received = 0;
	total_received = 0;
	bad_messages = 0;
	expected_per_client = -1;
}

/* Reads a command line from the driver. */
static int
handle_stdin(void)
{
	static char line[256];
	static size_t ll;
	ssize_t		r = read(0, line + ll, sizeof(line) - 1 - ll);
	char	   *nl;

	if (r <= 0)
		return -1;
	ll += r;
	line[ll] = '\0';
	while ((nl = strchr(line, '\n')) != NULL)
	{
		*nl = '\0';
		if (strncmp(line, "ROUND ", 6) == 0)
		{
			expected_per_client = atol(line + 6);
			round_start = now_s();
			last_recv = 0;
		}
		else if (strcmp(line, "QUIT") == 0)
			return -1;
		memmove(line, nl + 1, ll - (nl + 1 - line) + 1);
		ll -= nl + 1 - line;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int			opt;
	int			next = 0;
	int			ready_printed = 0;
	struct epoll_event ev;
	struct epoll_event *evs;
	double		start;
	int			max_inflight = 256;

	while ((opt = getopt(argc, argv, "h:p:n:c:i:")) != -1)
	{
		switch (opt)
		{
			case 'h':
				host = optarg;
				break;
			case 'p':
				port = atoi(optarg);
				break;
			case 'n':
				nclients = atoi(optarg);
				break;
			case 'c':
				channel = optarg;
				break;
			case 'i':
				idle_seconds = atof(optarg);
				break;
			default:
				fprintf(stderr, "usage: wsload -h host -p port -n clients -c channel [-i idle_s]\n");
				return 2;
		}
	}
	srand(getpid());
	clients = calloc(nclients, sizeof(Client));
	evs = calloc(1024, sizeof(*evs));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
	start = now_s();

	for (;;)
	{
		int			n, i, inflight;
		double		t;

		/* connect in waves so that the listen backlog never overflows */
		inflight = next - n_subscribed - n_failed - n_closed;
		while (next < nclients && inflight < max_inflight)
		{
			client_connect(&clients[next++]);
			inflight++;
		}
		n = epoll_wait(epfd, evs, 1024, 100);
		for (i = 0; i < n; i++)
		{
			Client	   *c = evs[i].data.ptr;

			if (c == NULL)
			{
				if (handle_stdin() < 0)
					goto done;
				continue;
			}
			if (c->st == S_DEAD)
				continue;
			if (evs[i].events & (EPOLLERR | EPOLLHUP) && c->st == S_CONNECTING)
				client_kill(c);
			else if (c->st == S_CONNECTING && (evs[i].events & EPOLLOUT))
				client_writable(c);
			else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				client_read(c);
		}
		t = now_s();
		if (!ready_printed &&
			((next == nclients && n_subscribed + n_failed + n_closed >= nclients) ||
			 t - start > 120))
		{
			printf("READY %d %d\n", n_subscribed, n_failed + n_closed);
			fflush(stdout);
			ready_printed = 1;
		}
		if (expected_per_client >= 0)
		{
			if (total_received >= expected_per_client * (long) n_subscribed)
			{
				int			all = 1;

				for (i = 0; i < nclients && all; i++)
					if (clients[i].st == S_SUBSCRIBED && clients[i].received < expected_per_client)
						all = 0;
				if (all)
					round_report("complete");
			}
			if (expected_per_client >= 0 &&
				((last_recv > 0 && t - last_recv > idle_seconds) ||
				 (last_recv == 0 && t - round_start > 30)))
				round_report("idle");
		}
	}
done:
	return 0;
}
