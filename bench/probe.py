#!/usr/bin/python3
"""Paced latency probe for bench/run.py (figure 8, "the loop stays free").

Sends GET requests at a fixed rate over keep-alive connections and reports
each path's latency percentiles as one JSON line.  A request's latency is
counted from the time it was due, not from when it could be sent: if the
server stalls for a second, every request that fell due in that second
counts the wait (closed-loop tools like wrk send nothing while they wait,
so a stall is one slow sample among many fast ones).

One thread, one selector, its own small HTTP/1.1 reader (Content-Length or
chunked), so the probe's own jitter is small and no GIL is shared with the
benchmark driver's CPU sampler.

    probe.py PORT SECONDS RATE CONNS PATH [PATH ...]

RATE is requests per second per connection; each PATH gets CONNS
connections.  "{id}" in a path is replaced by a random id in 1..BENCH_IDS
(default 100).
"""
import json
import os
import random
import selectors
import socket
import sys
import time


class Conn:
    """One keep-alive connection and the request it has in flight."""

    def __init__(self, port, path, first, interval):
        self.port = port
        self.path = path
        self.first = first      # when the first request is due
        self.interval = interval
        self.k = 0              # the next request is the k-th
        self.sent_due = None    # the due time of the request in flight
        self.sock = None
        self.buf = b""

    def connect(self, sel):
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        sel.register(self.sock, selectors.EVENT_READ, self)

    def close(self, sel):
        if self.sock:
            sel.unregister(self.sock)
            self.sock.close()
            self.sock = None
        self.buf = b""

    def send(self, ids):
        path = self.path.replace("{id}", str(random.randint(1, ids)))
        req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n\r\n" % (path, self.port)
        self.sock.sendall(req.encode())     # small: fits the socket buffer
        self.sent_due = self.due()
        self.k += 1

    def due(self):
        return self.first + self.k * self.interval

    def response_end(self):
        """Length of the first complete response in buf, or None."""
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = self.buf[:head_end].decode("latin-1").lower()
        status = int(head.split(None, 2)[1])
        pos = head_end + 4
        if "transfer-encoding: chunked" in head:
            while True:
                line_end = self.buf.find(b"\r\n", pos)
                if line_end < 0:
                    return None
                size = int(self.buf[pos:line_end].split(b";")[0], 16)
                pos = line_end + 2 + size + 2
                if len(self.buf) < pos:
                    return None
                if size == 0:
                    return pos, status
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if len(self.buf) < pos + length:
            return None
        return pos + length, status


def pct(sorted_ms, q):
    if not sorted_ms:
        return None
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def main():
    port, seconds, rate, nconns = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    paths = sys.argv[5:]
    ids = int(os.environ.get("BENCH_IDS", "100"))
    interval = 1.0 / rate
    sel = selectors.DefaultSelector()
    t0 = time.monotonic() + 0.05
    conns = []
    for path in paths:
        for i in range(nconns):
            c = Conn(port, path, t0 + interval * i / nconns, interval)
            c.connect(sel)
            conns.append(c)
    lat = {p: [] for p in paths}
    errors = {p: 0 for p in paths}
    unsent = {p: 0 for p in paths}
    status = {p: {} for p in paths}
    end = t0 + seconds
    total = int(round(seconds * rate))     # requests per connection
    while True:
        now = time.monotonic()
        for c in conns:
            # a request due before the end is sent late rather than not at
            # all, up to a second after the end (a backlog behind a stall)
            if c.sent_due is None and c.k < total and c.due() <= now and now < end + 1:
                try:
                    c.send(ids)
                except OSError:
                    errors[c.path] += 1
                    c.close(sel)
                    c.connect(sel)
                    c.send(ids)
        busy = [c for c in conns if c.sent_due is not None]
        if not busy and (now >= end + 1 or all(c.k >= total for c in conns)):
            # requests that fell due while their connection still waited for
            # an answer were never sent: they count with the time they waited
            for c in conns:
                for k in range(c.k, total):
                    lat[c.path].append((now - c.first - k * interval) * 1000.0)
                    unsent[c.path] += 1
            break
        if now >= end + 30:
            # an answer that never came counts with the time waited so far
            for c in busy:
                lat[c.path].append((now - c.sent_due) * 1000.0)
                errors[c.path] += 1
            break
        waits = [c.due() - now for c in conns if c.sent_due is None and c.k < total]
        timeout = max(0.0, min(waits)) if waits else 0.05
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                # the server closed: count it and resend on a new connection
                errors[c.path] += 1
                c.close(sel)
                c.connect(sel)
                if c.sent_due is not None:
                    c.k -= 1
                    c.sent_due = None
                continue
            c.buf += data
            done = c.response_end()
            if done is None:
                continue
            n, st = done
            c.buf = c.buf[n:]
            t = time.monotonic()
            lat[c.path].append((t - c.sent_due) * 1000.0)
            status[c.path][st] = status[c.path].get(st, 0) + 1
            if st >= 400:
                errors[c.path] += 1
            c.sent_due = None
    out = {}
    for p in paths:
        s = sorted(lat[p])
        out[p] = {"n": len(s), "errors": errors[p], "unsent": unsent[p], "status": {str(k): v for k, v in status[p].items()},
                  "p50_ms": pct(s, 0.50), "p99_ms": pct(s, 0.99), "max_ms": s[-1] if s else None}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
