#!/usr/bin/env python3
"""pg_dash scaled out (make bench-replicas): a primary and two hot standbys
behind HAProxy (scripts/demo-replicas.sh), measured beside the primary alone.

  1. point query (random id of 100k rows) through HAProxy over the three
     nodes, and on the primary alone: req/s, p50, p99 (wrk, 64 connections)
  2. an aggregate over 200k rows, the same way (8 connections: each request
     keeps an executor busy for tens of milliseconds)
  3. NOTIFY-to-client latency: a row and pg_dash.publish() committed on the
     primary (synchronous_commit = on), received by a WebSocket client of the
     primary and by one of a standby, which delivers it once it replayed the
     commit (p50, p99 of 200 notifications, sent one at a time)

Every node runs on this machine: on 2 cores the standbys compete with the
primary for the same CPUs, so the figures show what the topology costs, not
what it gains; on separate machines each standby adds its own cores.
Prints a table; BENCH_JSON=path also writes the figures as JSON.

Settings (environment): BENCH_DIR (/tmp/pg_dash-bench-replicas), BENCH_PORT
(18280: HAProxy; pg_dash on the next three), BENCH_PGPORT (26429), BENCH_DUR
(10 s per wrk run), PGBIN.
"""
import base64
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.environ.get("BENCH_DIR", "/tmp/pg_dash-bench-replicas")
PORT = int(os.environ.get("BENCH_PORT", "18280"))
PGPORT = int(os.environ.get("BENCH_PGPORT", "26429"))
DUR = int(os.environ.get("BENCH_DUR", "10"))
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
SOCK = os.path.join(DIR, "primary", "run")
if len(SOCK) > 80:
    SOCK = "/tmp"
ENV = dict(os.environ, DEMO_DIR=DIR, DEMO_PORT=str(PORT), DEMO_PGPORT=str(PGPORT),
           DEMO_SCALE="0.01", DEMO_NO_GENERATOR="1", PGBIN=PGBIN)


def log(*a):
    print("[bench-replicas]", *a, file=sys.stderr, flush=True)


def psql(sql, port=PGPORT):
    """Runs SQL as postgres on a node (as the postgres user when root)."""
    cmd = [os.path.join(PGBIN, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
           "-h", SOCK, "-p", str(port), "-U", "postgres", "-d", "postgres", "-c", sql]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def topology(action):
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "demo-replicas.sh"), action],
                   check=True, env=ENV, stdout=sys.stderr)


def setup():
    psql("""
        CREATE TABLE IF NOT EXISTS public.bench_items AS
            SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 100000) g;
        CREATE UNIQUE INDEX IF NOT EXISTS bench_items_id ON public.bench_items (id);
        CREATE TABLE IF NOT EXISTS public.bench_sales AS
            SELECT g AS id, (g % 97) AS region, (g % 1000) / 10.0 AS amount
            FROM generate_series(1, 200000) g;
        GRANT SELECT ON public.bench_items, public.bench_sales TO dash_demo;
        SELECT pg_dash.define_query('bench_point', 'SELECT id, name FROM public.bench_items WHERE id = :id');
        SELECT pg_dash.define_query('bench_agg',
            'SELECT region, count(*) AS n, sum(amount) AS total FROM public.bench_sales GROUP BY region ORDER BY region');
        SELECT pg_dash.define_channel('bench_tick');
        CREATE TABLE IF NOT EXISTS public.bench_ticks (i int);
    """)
    lsn = psql("SELECT pg_current_wal_lsn()")
    deadline = time.time() + 60
    while time.time() < deadline:
        if psql("SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '%s'" % lsn) == "2":
            return
        time.sleep(0.2)
    raise SystemExit("the standbys did not replay the bench tables")


def wrk(port, path, env=None, conns=64):
    cmd = ["wrk", "-t", "2", "-c", str(conns), "-d", "%ds" % DUR, "--latency",
           "http://127.0.0.1:%d%s" % (port, path)]
    if env:
        cmd[1:1] = ["-s", os.path.join(ROOT, "bench", "wrk", "random_id.lua")]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {}))).stdout
    rps = float(out.split("Requests/sec:")[1].split()[0])

    def pct(p):
        line = [l for l in out.splitlines() if l.strip().startswith(p + "%")][0]
        v = line.split()[1]
        scale = {"us": 0.001, "ms": 1, "s": 1000}
        for unit in ("us", "ms", "s"):
            if v.endswith(unit):
                return float(v[:-len(unit)]) * scale[unit]
    errors = 0
    for l in out.splitlines():
        if "Non-2xx" in l or "Socket errors" in l:
            errors += sum(int(x) for x in l.replace(",", " ").split() if x.isdigit())
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"), "errors": errors}


class Ws:
    """A minimal WebSocket client (text frames from the server only)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Protocol: pg_dash.v1\r\n\r\n" % (port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(4096)
        self.buf = self.buf.split(b"\r\n\r\n", 1)[1]

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        head = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else \
            bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(data))
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        while True:
            while len(self.buf) < 2 or len(self.buf) < self._frame_len():
                self.buf += self.s.recv(65536)
            n, off = self._frame_len(), self._payload_off()
            frame, self.buf = self.buf[:n], self.buf[n:]
            if frame[0] & 0x0f == 1:
                return json.loads(frame[off:])
            if frame[0] & 0x0f == 9:    # ping: pong with the same payload
                data = frame[off:]
                mask = os.urandom(4)
                self.s.sendall(bytes([0x8a, 0x80 | len(data)]) + mask +
                               bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _payload_off(self):
        l = self.buf[1] & 0x7f
        return 2 if l < 126 else 4 if l == 126 else 10

    def _frame_len(self):
        if len(self.buf) < 10:
            l = self.buf[1] & 0x7f
            if (l == 126 and len(self.buf) < 4) or l == 127:
                return 10 if l == 127 and len(self.buf) < 10 else self._full()
        return self._full()

    def _full(self):
        l = self.buf[1] & 0x7f
        if l < 126:
            return 2 + l
        if l == 126:
            return 4 + struct.unpack(">H", self.buf[2:4])[0]
        return 10 + struct.unpack(">Q", self.buf[2:10])[0]

    def recv_type(self, t):
        while True:
            m = self.recv()
            if m.get("type") == t:
                return m


def notify_latency(n=200):
    """p50/p99 of publish() on the primary to reception, per client."""
    clients = {"primary": Ws(PORT + 1), "standby": Ws(PORT + 2)}
    for c in clients.values():
        c.recv_type("hello")
        c.send({"type": "subscribe", "channel": "bench_tick"})
        c.recv_type("subscribed")
    time.sleep(1.5)     # the standby's link LISTENs
    sender = subprocess.Popen([os.path.join(PGBIN, "psql"), "-X", "-q", "-h", SOCK, "-p", str(PGPORT),
                               "-U", "postgres", "-d", "postgres"], stdin=subprocess.PIPE,
                              env=dict(os.environ, PGOPTIONS="-c synchronous_commit=on"),
                              stdout=subprocess.DEVNULL, text=True)
    lat = {k: [] for k in clients}
    for i in range(n):
        t0 = time.time()
        # a row and its notification in one transaction, committed synchronously
        sender.stdin.write("BEGIN; INSERT INTO public.bench_ticks VALUES (%d); "
                           "SELECT pg_dash.publish('bench_tick', '{\"i\": %d}'); COMMIT;\n" % (i, i))
        sender.stdin.flush()
        for k, c in clients.items():
            m = c.recv_type("notify")
            if m["payload"]["i"] != i:
                raise SystemExit("%s got notification %s, expected %d" % (k, m["payload"], i))
            lat[k].append((time.time() - t0) * 1000)
        time.sleep(0.02)
    sender.stdin.close()
    sender.wait()
    out = {}
    for k, v in lat.items():
        v.sort()
        out[k] = {"p50_ms": statistics.median(v), "p99_ms": v[int(len(v) * 0.99) - 1]}
    return out


def ports_free():
    """Refuses to start when a port of the topology is taken (pg_dash shares
    its port with SO_REUSEPORT, so another cluster there would take half the
    connections)."""
    for p in range(PORT, PORT + 4):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            raise SystemExit("port %d is taken: set BENCH_PORT to the first of four free ports" % p)
        finally:
            s.close()


def main():
    ports_free()
    try:
        topology("start")
        setup()
        fig = []
        point = {"BENCH_PATH": "/api/query/bench_point?id=", "BENCH_IDS": "100000"}
        for label, path, env, conns in (("point query, 64 connections", "/", point, 64),
                                        ("aggregate (200k rows), 8 connections", "/api/query/bench_agg", None, 8)):
            log(label)
            wrk(PORT, path, env, conns)     # warm every node's cache and plans
            through = wrk(PORT, path, env, conns)
            alone = wrk(PORT + 1, path, env, conns)
            fig.append((label, through, alone))
        log("NOTIFY latency")
        nl = notify_latency()
        rows = [("figure", "HAProxy, primary + 2 standbys", "primary alone", "ratio")]
        for label, t, a in fig:
            rows.append((label + ", req/s", "%.0f" % t["rps"], "%.0f" % a["rps"], "%.2fx" % (t["rps"] / a["rps"])))
            rows.append((label + ", p50 / p99 ms", "%.2f / %.2f" % (t["p50_ms"], t["p99_ms"]),
                         "%.2f / %.2f" % (a["p50_ms"], a["p99_ms"]), ""))
            if t["errors"] or a["errors"]:
                rows.append((label + ", errors", str(t["errors"]), str(a["errors"]), ""))
        rows.append(("NOTIFY to client, p50 / p99 ms", "standby %.2f / %.2f" % (nl["standby"]["p50_ms"], nl["standby"]["p99_ms"]),
                     "primary %.2f / %.2f" % (nl["primary"]["p50_ms"], nl["primary"]["p99_ms"]), ""))
        w = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
        if os.environ.get("BENCH_JSON"):
            with open(os.environ["BENCH_JSON"], "w") as f:
                json.dump({"throughput": fig, "notify": nl, "cores": os.cpu_count()}, f, indent=1)
    finally:
        topology("stop")


if __name__ == "__main__":
    main()
