#!/usr/bin/python3
"""pg_dash benchmark driver (make bench; see bench/README.md).

Expects a running throw-away cluster with pg_dash (scripts/bench.sh starts
it): loads the data, defines the named queries, starts the peer, runs every
benchmark, prints a table and writes bench/results/<time>.json.  Every figure
is the median of at least 3 runs.  Load generators run on this machine too:
the CPU that each side used is recorded beside each figure.

Environment: BENCH_PGPORT, BENCH_HTTP_PORT, BENCH_PEER_PORT, BENCH_QUICK=1,
BENCH_ONLY=point,agg,export,ws,state,browser,zoom,signin,loop,concurrency,small,
executors (pool = the last four), tls, BENCH_PGBIN (the PostgreSQL programs of the
cluster; default Debian's)
"""
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import select
import socket
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
TMP = os.path.join(HERE, "tmp")
sys.path.insert(0, HERE)
from queries import QUERIES, sql_of  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

PGPORT = os.environ.get("BENCH_PGPORT", "54329")
HTTP = int(os.environ.get("BENCH_HTTP_PORT", "18080"))
PEER = int(os.environ.get("BENCH_PEER_PORT", "18081"))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
PY = "/usr/bin/python3"
PGBIN = os.environ.get("BENCH_PGBIN", "/usr/lib/postgresql/15/bin")
TICK = os.sysconf("SC_CLK_TCK")
RUNS = 3

if QUICK:
    CFG = dict(items=100_000, sales=200_000, big=2_000_000, zoom=2_000_000, dur=3, warm=1, cached_ids=10_000,
               ws=[(200, 50, 0.01, 3, 50, 0.01), (1000, 20, 0.05, 2, 20, 0.01)],
               sessions=200)
else:
    # ws: (clients, spaced notifications, spacing s, bursts, notifications per burst, gap s)
    CFG = dict(items=100_000, sales=1_000_000, big=10_000_000, zoom=10_000_000, dur=10, warm=2, cached_ids=10_000,
               ws=[(1000, 100, 0.05, 5, 100, 0.01), (10000, 20, 0.25, 3, 20, 0.01)],
               sessions=1000)

CHILDREN = []          # long-running processes we started (peer, ws clients)
RESULTS = {"figures": [], "raw": {}}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# figure 8, the executor pool (issue 12): BENCH_ONLY=pool runs all of them
POOL = ("loop", "concurrency", "small", "executors")


def want(name):
    return not ONLY or name in ONLY or (name in POOL and "pool" in ONLY)


# ---------------------------------------------------------------- database

def psql(sql, check=True, user="postgres", vars=None):
    cmd = ["psql", "-h", "127.0.0.1", "-p", PGPORT, "-U", user, "-d", "postgres", "-XAtq",
           "-v", "ON_ERROR_STOP=1"]
    for k, v in (vars or {}).items():
        cmd += ["-v", "%s=%s" % (k, v)]
    p = subprocess.run(cmd, input=sql, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed: " + p.stderr.strip())
    return p.stdout.strip() if p.returncode == 0 else None


def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


def postmaster_pid():
    with open(os.path.join(TMP, "data", "postmaster.pid")) as f:
        return int(f.readline())


def proc_stat(pid):
    """(ppid, utime+stime seconds) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def server_pids():
    """The postmaster and its children."""
    pm = postmaster_pid()
    pids = [pm]
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] == pm:
                pids.append(int(d))
    return pids


def worker_pids():
    out = psql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_dash'", check=False)
    return [int(x) for x in (out or "").split()]


def machine_busy():
    """CPU seconds the whole machine has been busy (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / TICK


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Cpu:
    """CPU seconds used during a measurement by the server side (the
    cluster's processes, plus the peer when it is measured) and by the
    load generators (waited-for children, plus given long-running pids);
    also the load average when it started and the cores that everything
    else on the machine used meanwhile (other people's work: the machine's
    busy time less the server, the load generators and this driver)."""

    def __init__(self, extra_server=(), gen_pids=()):
        self.extra = list(extra_server)
        self.gen_pids = list(gen_pids)
        self.load1 = os.getloadavg()[0]
        self.busy0 = machine_busy()
        self.self0 = self_cpu()
        self.t0 = time.time()
        self.srv0 = self._snap(server_pids() + self.extra)
        self.gen0 = self._snap(self.gen_pids)
        self.ru0 = self._ru()
        # backends that exit during the measurement (pgbench's, COPY's) are
        # seen by a sampler; their last reading counts
        self.seen = dict(self.srv0)
        self.born = set()
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._sample, daemon=True)
        self.th.start()

    def _sample(self):
        while not self.stop_ev.wait(0.1):
            for p, v in self._snap(server_pids() + self.extra).items():
                if p not in self.srv0:
                    self.born.add(p)
                self.seen[p] = v

    @staticmethod
    def _snap(pids):
        d = {}
        for p in pids:
            st = proc_stat(p)
            if st:
                d[p] = st[1]
        return d

    @staticmethod
    def _ru():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def stop(self):
        wall = time.time() - self.t0
        self.stop_ev.set()
        self.th.join()
        self.seen.update(self._snap(server_pids() + self.extra))
        srv = sum(v - self.srv0.get(p, 0) for p, v in self.seen.items())
        gen1 = self._snap(self.gen_pids)
        gen = sum(v - self.gen0.get(p, 0) for p, v in gen1.items()) + self._ru() - self.ru0
        others = machine_busy() - self.busy0 - srv - gen - (self_cpu() - self.self0)
        return {"wall_s": round(wall, 3), "server_cpu_s": round(srv, 3), "gen_cpu_s": round(gen, 3),
                "load1": self.load1, "others_cores": round(max(others, 0) / wall, 2) if wall else None}


# ---------------------------------------------------------------- HTTP helpers

def http_get(port, path, headers=None, method="GET", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
    except OSError as e:
        return 0, {}, str(e).encode()
    finally:
        c.close()


def parse_dur(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[m.group(2)]


def wrk(url, conns=64, dur=None, script=None, env=None, headers=()):
    dur = dur or CFG["dur"]
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % dur, "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", os.path.join(HERE, "wrk", script)]
    cmd.append(url)
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, capture_output=True, text=True, env=e)
    out = p.stdout
    r = {"rps": None, "p50_ms": None, "p99_ms": None, "errors": 0, "non2xx": 0, "socket_errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    if m:
        r["p50_ms"] = parse_dur(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if m:
        r["p99_ms"] = parse_dur(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["socket_errors"] = sum(int(x) for x in m.groups())
    r["errors"] = r["non2xx"] + r["socket_errors"]
    if r["rps"] is None:
        r["error"] = (p.stderr or out).strip()[-300:]
    return r


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def measure(label, fn, runs=RUNS, extra_server=(), gen_pids=()):
    """Runs fn() runs times, each inside a CPU meter; returns the median of
    every numeric field and the raw runs."""
    raw = []
    for i in range(runs):
        raw.append(metered(label, i, fn, extra_server, gen_pids))
    return summarise(label, raw)


def metered(label, i, fn, extra_server=(), gen_pids=()):
    """One run of fn() inside a CPU meter, logged."""
    cpu = Cpu(extra_server, gen_pids)
    r = fn()
    r.update(cpu.stop())
    log("  %s run %d: %s" % (label, i + 1, json.dumps(r)))
    return r


def summarise(label, raw):
    """The median of every numeric field of some runs, and the runs."""
    med = {}
    for k in raw[0]:
        if isinstance(raw[0][k], (int, float)) and not isinstance(raw[0][k], bool):
            med[k] = median_of(raw, k)
    med["runs"] = raw
    RESULTS["raw"][label] = raw
    return med


def interleaved(label, sides, runs=RUNS):
    """Measures two or more sides in turns, A B A B A B, so that each side
    sees the same load from the rest of the machine.  sides: (name, fn,
    extra_server pids, prepare[, gen_pids]) where prepare() (or None) runs
    before the meter starts (a restart with other settings) and gen_pids
    are long-running load generators whose CPU counts as the generator's.
    Returns name -> what measure() returns."""
    raw = {s[0]: [] for s in sides}
    for i in range(runs):
        for side in sides:
            name, fn, extra, prepare = side[:4]
            if prepare:
                prepare()
            raw[name].append(metered("%s.%s" % (label, name), i, fn, extra, side[4] if len(side) > 4 else ()))
    return {name: summarise("%s.%s" % (label, name), r) for name, r in raw.items()}


def spread(m, key):
    """[min, max] of a field over a measurement's runs."""
    vals = [r[key] for r in (m or {}).get("runs", []) if isinstance(r.get(key), (int, float))]
    return [min(vals), max(vals)] if vals else None


def errors_note(**ms):
    """'name: non-2xx answers and socket errors per run; ' for each
    measurement that had any."""
    per_run = lambda m, k: "/".join(str(r.get(k, 0)) for r in m["runs"])  # noqa: E731
    return "".join("%s: %s non-2xx, %s socket errors per run; " % (k, per_run(m, "non2xx"), per_run(m, "socket_errors"))
                   for k, m in ms.items() if m and any(r.get("errors") for r in m["runs"]))


def load_note(*ms):
    """The machine's load during some measurements: the 1-minute load
    average when each run started and the cores other processes used."""
    runs = [r for m in ms if m for r in m.get("runs", [])]
    la = [r["load1"] for r in runs if r.get("load1") is not None]
    oc = [r["others_cores"] for r in runs if r.get("others_cores") is not None]
    if not la:
        return ""
    return "load average %.1f (%.1f-%.1f), other processes %.2f cores (%.2f-%.2f)" % (
        statistics.median(la), min(la), max(la), statistics.median(oc or [0]), min(oc or [0]), max(oc or [0]))


# ---------------------------------------------------------------- figures

def fig(section, figure, ours, other_label, other, unit, target="", higher_better=True,
        ours_m=None, other_m=None, ratio=None, note="", key=None):
    """Records one row of the table.  ours/other: numbers or 'n/a: why'.
    With key, ours_m and other_m's runs give the [min, max] beside each
    median, and the ratio's own min and max over the pairs of runs."""
    if ratio is None and isinstance(ours, (int, float)) and isinstance(other, (int, float)) and other:
        ratio = ours / other if higher_better else other / ours if ours else None
    ratio_range = None
    # key: one field of both sides' runs, or (ours, other) when they differ
    okey, xkey = (key, key) if not isinstance(key, tuple) else key
    if key and ratio != "" and ours_m and other_m and len(ours_m["runs"]) == len(other_m["runs"]):
        rs = [(a[okey] / b[xkey] if higher_better else b[xkey] / a[okey])
              for a, b in zip(ours_m["runs"], other_m["runs"])
              if isinstance(a.get(okey), (int, float)) and isinstance(b.get(xkey), (int, float))
              and a[okey] and b[xkey]]
        ratio_range = [min(rs), max(rs)] if rs else None
    RESULTS["figures"].append(dict(section=section, figure=figure, unit=unit, pg_dash=ours,
                                   other_label=other_label, other=other, ratio=ratio,
                                   target=target, note=note,
                                   pg_dash_range=spread(ours_m, okey) if key else None,
                                   other_range=spread(other_m, xkey) if key else None,
                                   ratio_range=ratio_range, load=load_note(ours_m, other_m),
                                   pg_dash_cpu=cpu_str(ours_m), other_cpu=cpu_str(other_m)))


def cpu_str(m):
    if not m or not m.get("wall_s"):
        return ""
    return "%.2f/%.2f" % (m["server_cpu_s"] / m["wall_s"], m["gen_cpu_s"] / m["wall_s"])


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        s = "{:,.0f}".format(v)
    elif abs(v) >= 100:
        s = "%.0f" % v
    elif abs(v) >= 10:
        s = "%.1f" % v
    else:
        s = "%.2f" % v
    return s + (" " + unit if unit else "")


def fmt_range(r, unit=""):
    """' (min-max unit)' of a figure."""
    return " (%s-%s%s)" % (fmt(r[0]), fmt(r[1]), " " + unit if unit else "")


def print_table():
    rows = [("figure", "pg_dash", "peer or limit", "ratio", "target", "cpu srv/gen (pg_dash | other)")]
    for f in RESULTS["figures"]:
        ours = fmt(f["pg_dash"], f["unit"])
        other = "%s %s" % (f["other_label"], fmt(f["other"], f["unit"])) if f["other_label"] else "-"
        if f.get("pg_dash_range"):
            ours = fmt(f["pg_dash"]) + fmt_range(f["pg_dash_range"], f["unit"])
        if f.get("other_range"):
            other = "%s %s%s" % (f["other_label"], fmt(f["other"]), fmt_range(f["other_range"], f["unit"]))
        ratio = ("%.2fx" % f["ratio"]) if isinstance(f["ratio"], (int, float)) else (f["ratio"] or "-")
        if f.get("ratio_range"):
            ratio += " (%.2f-%.2f)" % tuple(f["ratio_range"])
        cpu = (f["pg_dash_cpu"] or "-") + " | " + (f["other_cpu"] or "-")
        rows.append((f["figure"], ours, other, ratio, f["target"] or "", cpu if cpu != "- | -" else ""))
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    notes = [f for f in RESULTS["figures"] if f["note"]]
    if notes:
        print()
        for f in notes:
            print("  * %s: %s" % (f["figure"], f["note"]))


# ---------------------------------------------------------------- setup

def setup():
    log("loading data (items=%d, sales=%d)" % (CFG["items"], CFG["sales"]))
    t = time.time()
    psql(open(os.path.join(HERE, "setup.sql")).read(),
         vars={"items": CFG["items"], "sales": CFG["sales"]})
    subprocess.run(["pgbench", "-i", "-q", "-s", "1", "-h", "127.0.0.1", "-p", PGPORT, "-U",
                    "postgres", "postgres"], check=True, capture_output=True)
    log("  %.1f s" % (time.time() - t))
    have_define = psql("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                       "WHERE n.nspname = 'pg_dash' AND p.proname = 'define_query'") != "0"
    RESULTS["pg_dash_query_api"] = None
    if have_define:
        errs = []
        for name in QUERIES:
            sql, ttl, desc = sql_of(name, CFG["big"])
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", PGPORT, "-U", "postgres", "-XAtq",
                                "-v", "ON_ERROR_STOP=1", "-c",
                                "SELECT pg_dash.define_query(%s, %s, %s, %d)" % (
                                    sql_literal(name), sql_literal(sql), sql_literal(desc), ttl)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                errs.append("%s: %s" % (name, r.stderr.strip()))
        if errs:
            RESULTS["pg_dash_query_api"] = "define_query failed: " + "; ".join(errs)[:200]
    else:
        RESULTS["pg_dash_query_api"] = "pg_dash.define_query does not exist yet"
    restart_cluster()
    if RESULTS["pg_dash_query_api"] is None:
        st, _, body = http_get(HTTP, "/api/query/point?id=1")
        if st != 200:
            RESULTS["pg_dash_query_api"] = "GET /api/query/point answered %d %s" % (
                st, body[:120].decode("utf-8", "replace"))
    if RESULTS["pg_dash_query_api"]:
        log("  pg_dash query API unavailable: " + RESULTS["pg_dash_query_api"])


def restart_cluster():
    """Restarts the cluster so that the workers start on the loaded database
    with the extension created, as in production (and with fresh memory
    figures).  The workers inherit a raised open-files limit."""
    data = os.path.join(TMP, "data")
    subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c",
                    "ulimit -n 65536 2>/dev/null; %s/pg_ctl -D '%s' -l '%s' "
                    "-m fast -w restart >/dev/null" % (PGBIN, data, os.path.join(TMP, "postgres.log"))], check=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if len(worker_pids()) >= 2 and http_get(HTTP, "/healthz")[0] == 200:
            return
        time.sleep(0.2)
    raise RuntimeError("pg_dash workers did not come up after the restart")


def start_peer():
    dsn = "postgresql://bench_anon@127.0.0.1:%s/postgres" % PGPORT
    p = subprocess.Popen([PY, os.path.join(HERE, "peers", "tornado_peer.py"), "--port", str(PEER),
                          "--dsn", dsn, "--big", str(CFG["big"])],
                         stdout=subprocess.PIPE, stderr=open(os.path.join(TMP, "peer.log"), "w"),
                         text=True)
    CHILDREN.append(p)
    r, _, _ = select.select([p.stdout], [], [], 30)
    line = p.stdout.readline() if r else ""
    if "READY" not in line:
        raise RuntimeError("the tornado peer did not start; see bench/tmp/peer.log")
    return p


def na(why):
    return "n/a: " + why


# ---------------------------------------------------------------- 1. point

def bench_point(peer):
    api = RESULTS["pg_dash_query_api"]
    url = "http://127.0.0.1:%d/" % HTTP
    env = {"BENCH_PATH": "/api/query/point?id=", "BENCH_IDS": str(CFG["items"])}
    envc = {"BENCH_PATH": "/api/query/point_cached?id=", "BENCH_IDS": str(CFG["cached_ids"])}
    purl = "http://127.0.0.1:%d/" % PEER
    log("1. point query")
    # warm-ups once; the cached ids' answers (cache_ttl 300 s) outlast the rounds
    sides = []
    if not api:
        wrk(url, dur=CFG["warm"], script="random_id.lua", env=env)
        wrk(url, dur=CFG["warm"] * 2, script="random_id.lua", env=envc)
        sides += [("pg_dash.uncached", lambda: wrk(url, script="random_id.lua", env=env), (), None),
                  ("pg_dash.cached", lambda: wrk(url, script="random_id.lua", env=envc), (), None)]
    wrk(purl, dur=CFG["warm"], script="random_id.lua", env=env)
    sides += [("peer", lambda: wrk(purl, script="random_id.lua", env=env), (peer.pid,), None),
              ("pgbench_S", pgbench_S, (), None)]
    r = interleaved("point", sides)
    un, ca, pe, pg = r.get("pg_dash.uncached"), r.get("pg_dash.cached"), r["peer"], r["pgbench_S"]

    def v(m, k):
        return na(api) if m is None else m[k]
    fig(1, "1 point query uncached, req/s", v(un, "rps"), "pgbench -S", pg["rps"], "",
        ">= 0.8x", ours_m=un, other_m=pg, key="rps")
    fig(1, "1 point query cached, req/s", v(ca, "rps"), "pgbench -S", pg["rps"], "",
        ">= 1.5x", ours_m=ca, other_m=pg, key="rps")
    fig(1, "1 point query uncached, req/s", v(un, "rps"), "peer", pe["rps"], "",
        ">= 8x", ours_m=un, other_m=pe, key="rps")
    fig(1, "1 point query uncached p50", v(un, "p50_ms"), "peer", pe["p50_ms"], "ms",
        higher_better=False, ours_m=un, other_m=pe, key="p50_ms")
    fig(1, "1 point query uncached p99", v(un, "p99_ms"), "peer", pe["p99_ms"], "ms",
        "< 10 ms", higher_better=False, ours_m=un, other_m=pe, key="p99_ms")
    fig(1, "1 point query cached p99", v(ca, "p99_ms"), "pgbench avg", pg["avg_ms"], "ms",
        "< 10 ms", ratio="", ours_m=ca, other_m=pg, key=("p99_ms", "avg_ms"),
        note="" if ca is None else "cached p50 %.2f ms; " % (ca["p50_ms"] or -1))
    for m, who in ((un, "pg_dash uncached"), (ca, "pg_dash cached"), (pe, "peer")):
        if m and m.get("errors"):
            RESULTS["figures"][-1]["note"] += "%s: %d errors/non-2xx per run; " % (who, m["errors"])


def pgbench(args):
    """One pgbench run of CFG['dur'] seconds over TCP: tps and the
    average latency."""
    p = subprocess.run(["pgbench", "-n"] + args + ["-T", str(CFG["dur"]), "-h", "127.0.0.1", "-p", PGPORT,
                                                   "-U", "postgres", "postgres"],
                       capture_output=True, text=True)
    m = re.search(r"tps = ([\d.]+)", p.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", p.stdout)
    r = {"rps": float(m.group(1)) if m else None, "avg_ms": float(lat.group(1)) if lat else None}
    if r["rps"] is None:
        r["error"] = (p.stderr or p.stdout).strip()[-300:]
    return r


def pgbench_S():
    """PostgreSQL's ceiling for small queries: pgbench -S, 8 clients."""
    return pgbench(["-S", "-c", "8", "-j", "2"])


# ---------------------------------------------------------------- 2. aggregate

def bench_agg(peer):
    api = RESULTS["pg_dash_query_api"]
    log("2. aggregate query")
    sides = []
    if not api:
        u = "http://127.0.0.1:%d/api/query/agg" % HTTP
        wrk(u, dur=CFG["warm"])
        sides.append(("pg_dash", lambda: wrk(u), (), None))
    up = "http://127.0.0.1:%d/api/query/agg" % PEER
    wrk(up, dur=CFG["warm"])
    sides.append(("peer", lambda: wrk(up), (peer.pid,), None))
    r = interleaved("agg", sides)
    ours, pe = r.get("pg_dash"), r["peer"]
    fig(2, "2 aggregate (last day of %s rows), req/s" % short(CFG["sales"]),
        na(api) if ours is None else ours["rps"], "peer", pe["rps"], "", "", ours_m=ours, other_m=pe, key="rps")
    fig(2, "2 aggregate p99", na(api) if ours is None else ours["p99_ms"], "peer", pe["p99_ms"], "ms",
        higher_better=False, ours_m=ours, other_m=pe, key="p99_ms")


def short(n):
    return "%gM" % (n / 1e6) if n >= 1e6 else "%gk" % (n / 1e3)


# ---------------------------------------------------------------- 3. exports

class RssSampler(threading.Thread):
    """Peak VmHWM/VmRSS of some pids while a download runs (VmHWM is reset
    first through /proc/<pid>/clear_refs when we may)."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = 0
        self.stop_ev = threading.Event()
        self.base = self._rss("RssAnon")
        for p in pids:
            try:
                with open("/proc/%d/clear_refs" % p, "w") as f:
                    f.write("5")
            except OSError:
                pass

    def _rss(self, field):
        best = 0
        for p in self.pids:
            try:
                with open("/proc/%d/status" % p) as f:
                    for line in f:
                        if line.startswith(field + ":"):
                            best = max(best, int(line.split()[1]))
            except OSError:
                pass
        return best

    def run(self):
        while not self.stop_ev.wait(0.02):
            self.peak = max(self.peak, self._rss("RssAnon"))

    def finish(self):
        """(peak private RSS, private RSS before, VmHWM) in MB.  Private
        (RssAnon) because VmRSS/VmHWM also count the shared_buffers pages
        a worker touched, which are not its memory."""
        self.stop_ev.set()
        self.join()
        self.peak = max(self.peak, self._rss("RssAnon"))
        return self.peak / 1024.0, self.base / 1024.0, self._rss("VmHWM") / 1024.0


def download(port, path, pids):
    s = RssSampler(pids)
    s.start()
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
                        "--max-time", "600", "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True)
    peak, base, hwm = s.finish()
    code, secs, size = p.stdout.split()
    secs, size = float(secs), int(size)
    return {"status": int(code), "seconds": secs, "mb": size / 1e6, "mb_per_s": size / 1e6 / secs if secs else None,
            "peak_rss_mb": peak, "base_rss_mb": base, "vmhwm_mb": hwm}


def copy_out(sql):
    t = time.time()
    p = subprocess.run("psql -h 127.0.0.1 -p %s -U postgres -XAtq -c %s | wc -c" % (
        PGPORT, sh_quote("COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER)" % sql)),
        shell=True, capture_output=True, text=True)
    secs = time.time() - t
    size = int(p.stdout.strip() or 0)
    return {"status": 200 if size else 0, "seconds": secs, "mb": size / 1e6, "mb_per_s": size / 1e6 / secs}


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def bench_export(peer):
    api = RESULTS["pg_dash_query_api"]
    log("3. exports")
    n1 = short(CFG["sales"])
    wp = [] if api else worker_pids()
    path = lambda q, f: "/api/query/%s%s" % (q, "?format=csv" if f == "csv" else "")  # noqa: E731
    # every side of a size in turns: COPY, pg_dash JSON and CSV, the peer's JSON and CSV
    sides = [("copy.rows_all", lambda: copy_out(sql_of("rows_all")[0]), (), None)]
    for f in ("json", "csv"):
        if not api:
            sides.append(("pg_dash.%s" % f, lambda f=f: download(HTTP, path("rows_all", f), wp), (), None))
    for f in ("json", "csv"):
        sides.append(("peer.%s" % f, lambda f=f: download(PEER, path("rows_all", f), [peer.pid]), (peer.pid,), None))
    r = interleaved("export", sides)
    copy1 = r["copy.rows_all"]
    for fmtn, tgt in (("json", ">= 0.67x (1.5x COPY)"), ("csv", ">= 0.83x (1.2x COPY)")):
        ours = r.get("pg_dash." + fmtn)
        pe = r["peer." + fmtn]
        o = na(api) if ours is None else ours["seconds"]
        fig(3, "3 %s rows as %s, seconds" % (n1, fmtn.upper()), o, "COPY csv", copy1["seconds"], "s",
            tgt, higher_better=False, ours_m=ours, other_m=copy1, key="seconds")
        fig(3, "3 %s rows as %s, seconds" % (n1, fmtn.upper()), o, "peer", pe["seconds"], "s",
            higher_better=False, ours_m=ours, other_m=pe, key="seconds")
        fig(3, "3 %s rows as %s, MB/s" % (n1, fmtn.upper()), na(api) if ours is None else ours["mb_per_s"],
            "COPY csv", copy1["mb_per_s"], "MB/s", ours_m=ours, other_m=copy1, key="mb_per_s")
        fig(3, "3 %s rows as %s, peak private RSS" % (n1, fmtn.upper()),
            na(api) if ours is None else ours["peak_rss_mb"], "peer", pe["peak_rss_mb"], "MB",
            higher_better=False, ratio="", ours_m=ours, other_m=pe, key="peak_rss_mb")
    if not api:
        fig(3, "3 %s rows as CSV vs as JSON, seconds" % n1, r["pg_dash.csv"]["seconds"], "JSON",
            r["pg_dash.json"]["seconds"], "s", ">= 1.0x", higher_better=False,
            ours_m=r["pg_dash.csv"], other_m=r["pg_dash.json"], key="seconds")
    # the big series: memory stays flat; the peer is not run (it holds every row)
    nb = short(CFG["big"])
    sides = [("copy.series_big", lambda: copy_out(sql_of("series_big", CFG["big"])[0]), (), None)]
    for f in ("json", "csv"):
        if not api:
            sides.append(("pg_dash.big.%s" % f, lambda f=f: download(HTTP, path("series_big", f), wp), (), None))
    rb = interleaved("export", sides)
    copyb = rb["copy.series_big"]
    for fmtn, tgt in (("json", ""), ("csv", ">= 0.91x (1.1x COPY)")):
        ours = rb.get("pg_dash.big." + fmtn)
        o = na(api) if ours is None else ours["seconds"]
        fig(3, "3 %s rows as %s, seconds" % (nb, fmtn.upper()), o, "COPY csv", copyb["seconds"], "s", tgt,
            higher_better=False, ours_m=ours, other_m=copyb, key="seconds")
        small = r.get("pg_dash." + fmtn)
        if ours and small:
            g_small = small["peak_rss_mb"] - small["base_rss_mb"]
            g_big = ours["peak_rss_mb"] - ours["base_rss_mb"]
            flat = g_big <= max(2 * g_small, g_small + 32)
            fig(3, "3 %s rows as %s, peak private RSS" % (nb, fmtn.upper()), ours["peak_rss_mb"],
                "at %s" % n1, small["peak_rss_mb"], "MB", "flat", ratio="", ours_m=ours, other_m=small,
                key="peak_rss_mb", note="growth over the idle worker: %.0f MB at %s, %.0f MB at %s: %s" % (
                    g_small, n1, g_big, nb, "flat" if flat else "NOT flat"))
        else:
            fig(3, "3 %s rows as %s, peak private RSS" % (nb, fmtn.upper()),
                na(api) if ours is None else ours["peak_rss_mb"], "", None, "MB", "flat", ratio="")
    if not api:
        fig(3, "3 %s rows as CSV vs as JSON, seconds" % nb, rb["pg_dash.big.csv"]["seconds"], "JSON",
            rb["pg_dash.big.json"]["seconds"], "s", ">= 1.0x", higher_better=False,
            ours_m=rb["pg_dash.big.csv"], other_m=rb["pg_dash.big.json"], key="seconds")


# ---------------------------------------------------------------- 4. WebSocket

def sender_script(channel, spaced, spacing, bursts, per_burst, burst_gap):
    """Phase 0: single notifications on channel, spaced (latency).  Phase 1:
    bursts, each one transaction of per_burst notifications (throughput);
    the pause between bursts lets a burst drain, so each burst's rate is its
    own."""
    pay = "json_build_object('k',%d,'b',%d,'s',%s,'t',(extract(epoch from clock_timestamp())*1e6)::bigint)::text"
    lines = []
    for i in range(spaced):
        lines.append("SELECT pg_notify(%s, %s);" % (sql_literal(channel), pay % (0, 0, i)))
        lines.append("SELECT pg_sleep(%g);" % spacing)
    for b in range(bursts):
        lines.append("SELECT pg_notify(%s, %s) FROM generate_series(1, %d) g;" % (
            sql_literal(channel), pay % (1, b, "g"), per_burst))
        lines.append("SELECT pg_sleep(%g);" % burst_gap)
    return "\n".join(lines) + "\n"


class LoadClient:
    """wsload or pglisten: READY, then ROUND/result lines."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(TMP, "wsload.log"), "a"), text=True, bufsize=1)
        CHILDREN.append(self.p)

    def line(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        return self.p.stdout.readline().strip() if r else ""

    def ready(self, timeout=240):
        ln = self.line(timeout)
        if not ln.startswith("READY"):
            return None
        _, ok, bad = ln.split()
        return int(ok), int(bad)

    def round(self, expected, script, timeout):
        self.p.stdin.write("ROUND %d\n" % expected)
        self.p.stdin.flush()
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", PGPORT, "-U", "postgres", "-XAtq", "-o", "/dev/null"],
                       input=script, text=True, check=True)
        ln = self.line(timeout)
        return json.loads(ln) if ln else None

    def close(self):
        try:
            self.p.stdin.write("QUIT\n")
            self.p.stdin.close()
        except OSError:
            pass
        end_process(self.p, 30, terminate=False)


def ws_round(client, channel, spaced, spacing, bursts, per_burst, burst_gap):
    """A function running one round of notifications on channel through a
    held load client: what it delivered, its latencies and rates."""
    expected = spaced + bursts * per_burst
    script = sender_script(channel, spaced, spacing, bursts, per_burst, burst_gap)

    def one():
        r = client.round(expected, script, timeout=300)
        if r is None:
            return {"error": "no result"}
        return {"delivered": r["received"], "expected_total": expected * r["subscribed"],
                "subscribed": r["subscribed"], "closed": r["closed"],
                "p50_ms": r["k0"]["p50_ms"], "p99_ms": r["k0"]["p99_ms"],
                "burst_p99_ms": r["k1"]["p99_ms"], "msgs_per_s": r["k1"]["msgs_per_s"],
                "per_burst_msgs_per_s": r["burst_msgs_per_s"],
                "end": r["end"]}
    return one


def ws_finish(m):
    """Per-run server CPU per delivered message, and whether every run
    delivered everything."""
    for r in m["runs"]:
        if r.get("delivered"):
            r["server_us_per_msg"] = round(r["server_cpu_s"] * 1e6 / r["delivered"], 2)
    m["server_us_per_msg"] = median_of(m["runs"], "server_us_per_msg")
    m["all_delivered"] = all(r.get("delivered") == r.get("expected_total") for r in m["runs"])
    return m


FLOOR_SENDERS = 2      # as pg_dash.workers in scripts/bench.sh
FLOOR_FRAME = 160      # bytes, about a notify frame of these payloads


def bare_sends(n, spaced, spacing):
    """A function running bench/sendfloor.c once for n clients and the
    round's spaced notifications: the latency of one send() per client from
    as many processes as pg_dash has workers, with nothing else in the way."""
    def one():
        p = subprocess.run([os.path.join(TMP, "sendfloor"), "-n", str(n), "-w", str(FLOOR_SENDERS),
                            "-r", str(spaced), "-g", str(int(spacing * 1000)), "-s", str(FLOOR_FRAME)],
                           capture_output=True, text=True, timeout=300)
        try:
            r = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"error": (p.stderr or "no output").strip()[:150]}
        return {"p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "max_ms": r["max_ms"]}
    return one


def bench_ws(peer):
    """pg_dash's clients, the peer's and a libpq listener are all held at
    once, each on its own channel, and their rounds run in turns."""
    log("4. WebSocket fan-out")
    wsload = os.path.join(TMP, "wsload")
    for n, spaced, spacing, bursts, per_burst, gap in CFG["ws"]:
        held = {}
        res = {}
        sides = []
        for who, port, channel, extra in (("pg_dash", HTTP, "bench", ()), ("peer", PEER, "bench_peer", (peer.pid,))):
            log("  %s, %d clients" % (who, n))
            c = LoadClient([wsload, "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-c", channel,
                            "-i", "20"])  # a round ends after 20 s without a message
            t = time.time()
            rd = c.ready()
            if rd is None or rd[0] == 0:
                res[who] = na("the load client did not report READY" if rd is None else "no client could subscribe")
                c.close()
                continue
            log("    %d subscribed, %d failed, in %.1f s" % (rd[0], rd[1], time.time() - t))
            held[who] = (c, rd[0], time.time() - t)
            sides.append((who, ws_round(c, channel, spaced, spacing, bursts, per_burst, gap), extra, None, [c.p.pid]))
        lc = LoadClient([os.path.join(TMP, "pglisten"),
                         "host=127.0.0.1 port=%s user=postgres dbname=postgres" % PGPORT, "bench_listen"])
        if lc.ready(30) is not None:
            held["libpq"] = (lc, 1, 0)
            sides.append(("libpq_listener", ws_round(lc, "bench_listen", spaced, spacing, bursts, per_burst, gap),
                          (), None, [lc.p.pid]))
        else:
            lc.close()
        sides.append(("bare_sends", bare_sends(n, spaced, spacing), (), None))
        r = interleaved("ws.%d" % n, sides)
        for who, m in r.items():
            ws_finish(m)
            if who in held:
                m["held"] = held[who][1]
                m["connect_s"] = held[who][2]
            res[who] = m
        for c, _, _ in held.values():
            c.close()
        pg, pe, lm, fl = res.get("pg_dash"), res.get("peer"), res.get("libpq_listener"), res.get("bare_sends")

        def g(m, k):
            return m if isinstance(m, str) else m[k]

        def mm(m):
            return None if isinstance(m, str) else m
        tag = "4 %s clients" % format(n, ",")
        fig(4, tag + ": clients held", g(pg, "held"), "peer", g(pe, "held"), "",
            "%d held" % n, ratio="", ours_m=mm(pg), other_m=mm(pe))
        dv = lambda m: m if isinstance(m, str) else "%d/%d%s" % (  # noqa: E731
            m["delivered"], m["expected_total"], "" if m["all_delivered"] else " LOST")
        fig(4, tag + ": delivered (median run)", dv(pg), "peer", dv(pe), "", "all", ratio="")
        fig(4, tag + ": burst messages/s", g(pg, "msgs_per_s"), "peer", g(pe, "msgs_per_s"), "",
            ours_m=mm(pg), other_m=mm(pe), key="msgs_per_s")
        fig(4, tag + ": NOTIFY-to-client p50", g(pg, "p50_ms"), "peer", g(pe, "p50_ms"), "ms",
            higher_better=False, ours_m=mm(pg), other_m=mm(pe), key="p50_ms")
        fig(4, tag + ": NOTIFY-to-client p99", g(pg, "p99_ms"), "peer", g(pe, "p99_ms"), "ms",
            "< 50 ms" if n <= 1000 else "", higher_better=False, ours_m=mm(pg), other_m=mm(pe), key="p99_ms")
        if lm:
            fig(4, tag + ": p99 vs libpq listener", g(pg, "p99_ms"), "libpq LISTEN", lm["p99_ms"], "ms",
                higher_better=False, ours_m=mm(pg), other_m=lm, key="p99_ms",
                note="one libpq connection, the same notifications: p50 %.3f ms, a burst at %s msgs/s; "
                     "all delivered: %s" % (lm["p50_ms"], fmt(lm["per_burst_msgs_per_s"]), lm["all_delivered"]))
        if fl and fl.get("p99_ms") is not None:
            fig(4, tag + ": p99 vs bare sends (the machine's floor)", g(pg, "p99_ms"), "bare sends", fl["p99_ms"],
                "ms", higher_better=False, ours_m=mm(pg), other_m=fl, key="p99_ms",
                note="bench/sendfloor.c: %d processes send a %d-byte frame to each of %s loopback TCP clients "
                     "read by one epoll process, no PostgreSQL or libwebsockets; p50 %.1f ms" % (
                         FLOOR_SENDERS, FLOOR_FRAME, format(n, ","), fl["p50_ms"]))
        fig(4, tag + ": server CPU per delivered msg", g(pg, "server_us_per_msg"), "peer",
            g(pe, "server_us_per_msg"), "us", higher_better=False, ours_m=mm(pg), other_m=mm(pe),
            key="server_us_per_msg")


# ---------------------------------------------------------------- 5. session state

def bench_state():
    log("5. session_state")
    # a session is created by its first state write
    new_session = {"method": "PATCH", "body": "{}", "headers": {"Content-Type": "application/json"}}
    st, hdr, body = http_get(HTTP, "/api/state", **new_session)
    m = re.search(r"pg_dash_session=([^;]+)", hdr.get("set-cookie", ""))
    if st != 200 or not m:
        why = na("PATCH /api/state answered %d%s" % (st, "" if st != 200 else " without a pg_dash_session cookie"))
        fig(5, "5 session_state PATCH, req/s", why, "", None, "", ratio="")
        fig(5, "5 session_state GET, req/s", why, "", None, "", ratio="")
        return
    cookies = [m.group(1)]
    c = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
    for _ in range(CFG["sessions"] - 1):
        c.request("PATCH", "/api/state", body=new_session["body"], headers=new_session["headers"])
        r = c.getresponse()
        r.read()
        mm = re.search(r"pg_dash_session=([^;]+)", r.getheader("set-cookie") or "")
        if mm:
            cookies.append(mm.group(1))
    c.close()
    # each line: the session token and its CSRF token (docs/api.md), which
    # a PATCH must send in X-CSRF-Token
    path = os.path.join(TMP, "cookies.txt")
    with open(path, "w") as f:
        f.write("".join("%s %s\n" % (c, hashlib.sha256(b"pg_dash csrf:" + c.encode()).hexdigest())
                        for c in cookies))
    url = "http://127.0.0.1:%d/" % HTTP
    env = {m: {"BENCH_METHOD": m, "BENCH_COOKIES": path} for m in ("PATCH", "GET")}
    for meth in ("PATCH", "GET"):
        wrk(url, dur=CFG["warm"], script="state.lua", env=env[meth])
    # writes and reads in turns
    res = interleaved("state", [(m, lambda m=m: wrk(url, script="state.lua", env=env[m]), (), None)
                                for m in ("PATCH", "GET")])
    for meth in ("PATCH", "GET"):
        r = res[meth]
        fig(5, "5 session_state %s (%d sessions), req/s" % (meth, len(cookies)), r["rps"], "", None, "",
            ours_m=r, ratio="", key="rps", note="%d errors/non-2xx per run" % r["errors"] if r["errors"] else "")
        fig(5, "5 session_state %s p50" % meth, r["p50_ms"], "", None, "ms", ratio="", ours_m=r, key="p50_ms")
        fig(5, "5 session_state %s p99" % meth, r["p99_ms"], "", None, "ms", ratio="", ours_m=r, key="p99_ms")


# ---------------------------------------------------------------- 9. sign-in

def bench_signin():
    """Figure 9: whole sign-ins per second (each a SCRAM check in an
    executor and a new session), and the point query run by two signed-in
    roles taking turns beside one role (what per-role cache keys and
    per-role RLS replanning cost when nothing is cached)."""
    log("9. sign-in")
    if psql("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'pg_dash' AND p.proname = 'access_allows'") == "0":
        fig(9, "9 sign-ins, per second", na("pg_dash has no sign-in"), "", None, "", ratio="")
        return
    psql("DO $$ BEGIN "
         "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_ann') THEN "
         "CREATE ROLE bench_ann LOGIN PASSWORD 'ann-pw' IN ROLE bench_anon; "
         "CREATE ROLE bench_ben LOGIN PASSWORD 'ben-pw' IN ROLE bench_anon; END IF; END $$")
    settings = {"pg_dash.auth": "password", "pg_dash.max_new_sessions_per_ip": "1000000",
                "pg_dash.max_sessions": "10000000"}
    for k, v in settings.items():
        psql("ALTER SYSTEM SET %s = %s" % (k, sql_literal(v)))
    psql("SELECT pg_reload_conf()")
    try:
        deadline = time.time() + 10
        while http_get(HTTP, "/api/me")[2].find(b"sign_in_required") < 0 and time.time() < deadline:
            time.sleep(0.1)
        url = "http://127.0.0.1:%d/" % HTTP
        env = {"BENCH_MODE": "login", "BENCH_USER": "bench_ann", "BENCH_PASSWORD": "ann-pw"}
        wrk(url, conns=16, dur=CFG["warm"], script="signin.lua", env=env)
        si = measure("signin.login", lambda: wrk(url, conns=16, script="signin.lua", env=env))
        fig(9, "9 sign-ins (16 connections), per second", si["rps"], "", None, "", ours_m=si, ratio="",
            note=errors_note(signin=si))
        psql("DELETE FROM pg_dash.session_state WHERE role = 'bench_ann'")

        tokens = {}
        for user, pw in (("bench_ann", "ann-pw"), ("bench_ben", "ben-pw")):
            st, hdr, _ = http_get(HTTP, "/api/login", method="POST",
                                  body=json.dumps({"username": user, "password": pw}).encode(),
                                  headers={"Content-Type": "application/json"})
            m = re.search(r"pg_dash_session=([^;]+)", hdr.get("set-cookie", ""))
            if st != 200 or not m:
                fig(9, "9 point query, two roles in turns, req/s", na("sign-in answered %d" % st), "", None, "",
                    ratio="")
                return
            tokens[user] = m.group(1)
        files = {}
        for name, users in (("one", ["bench_ann"]), ("two", ["bench_ann", "bench_ben"])):
            files[name] = os.path.join(TMP, "signin-%s.txt" % name)
            with open(files[name], "w") as f:
                f.write("".join(tokens[u] + "\n" for u in users))
        base = {"BENCH_MODE": "point", "BENCH_PATH": "/api/query/point?id=", "BENCH_IDS": str(CFG["items"])}
        sides = []
        for name in ("one", "two"):
            env = dict(base, BENCH_COOKIES=files[name])
            wrk(url, dur=CFG["warm"], script="signin.lua", env=env)
            sides.append((name, (lambda e: lambda: wrk(url, script="signin.lua", env=e))(env), (), None))
        res = interleaved("signin.point", sides)
        fig(9, "9 point query uncached, two roles in turns vs one role, req/s", res["two"]["rps"],
            "one role", res["one"]["rps"], "", ">= 0.9x", ours_m=res["two"], other_m=res["one"], key="rps",
            note=errors_note(two=res["two"], one=res["one"]) + load_note(res["two"], res["one"]))
    finally:
        for k in settings:
            psql("ALTER SYSTEM RESET %s" % k)
        psql("SELECT pg_reload_conf()")
        time.sleep(0.5)


# ---------------------------------------------------------------- 6. browser

def browser_run(path, *extra):
    """One run of bench/browser.mjs on /p/<path>: its JSON answer; raises
    RuntimeError with the reason when it drew no chart."""
    p = subprocess.run(["node", os.path.join(HERE, "browser.mjs"),
                        "http://127.0.0.1:%d/p/%s" % (HTTP, path), "60000"] + list(extra),
                       capture_output=True, text=True, timeout=180)
    try:
        r = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {"ok": False, "reason": (p.stderr or "no output").strip()[:150]}
    if not r.get("ok"):
        raise RuntimeError(r.get("reason"))
    return r


def bench_browser():
    log("6. browser")
    pages = {"sales": "# Sales\n\n<|{sales_by_hour}|chart|type=line|x=hour|y=total|>\n",
             "bench_series": "# Series\n\n<|{series_big}|chart|type=line|x=id|y=value|>\n"}
    sig = psql("SELECT string_agg(pg_get_function_arguments(p.oid), ' | ') FROM pg_proc p "
               "JOIN pg_namespace n ON n.oid = p.pronamespace "
               "WHERE n.nspname = 'pg_dash' AND p.proname = 'define_page'", check=False)
    why = None
    if not sig:
        # a page defined some other way (a demo) is still measured
        if http_get(HTTP, "/api/page/sales")[0] == 200:
            pages = {"sales": None}
        else:
            why = "pg_dash.define_page does not exist yet"
    else:
        for path, src in pages.items():
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", PGPORT, "-U", "postgres", "-XAtq",
                                "-v", "ON_ERROR_STOP=1", "-c", "SELECT pg_dash.define_page(%s, %s)" % (
                                    sql_literal(path), sql_literal(src))], capture_output=True, text=True)
            if r.returncode != 0:
                why = "define_page(%s): %s" % (sig, r.stderr.strip()[:150])
    shown = (("sales", "demo sales page"), ("bench_series", "%s-point series" % short(CFG["big"])))
    for path, label in shown:
        if why or path not in pages:
            fig(6, "6 browser: first chart with data, %s" % label,
                na(why or "pg_dash.define_page does not exist yet"), "", None, "ms", ratio="")
    if why:
        return

    def first_chart(path):
        r = browser_run(path)
        return {"ms": r["ms"], "how": r["how"]}
    # the pages in turns; the first run of each finds the query's result not
    # cached yet (sales_by_hour has cache_ttl 60), the others within its ttl
    try:
        res = interleaved("browser", [(path, lambda path=path: first_chart(path), (), None)
                                      for path, _ in shown if path in pages])
    except RuntimeError as e:
        for path, label in shown:
            if path in pages:
                fig(6, "6 browser: first chart with data, %s" % label, na(str(e)), "", None, "ms", ratio="")
        return
    for path, label in shown:
        if path in res:
            m = res[path]
            fig(6, "6 browser: first chart with data, %s" % label, m["ms"], "", None, "ms",
                "< 1 s" if path == "sales" else "< 2 s", ratio="", ours_m=m, key="ms",
                note="detected by %s" % m["runs"][0]["how"])


# ---------------------------------------------------------------- 7. zoom

ZOOM_WIDTH = 1200      # pixels of the chart the requests are for
ZOOM_STEPS = 17        # each halves the visible range: ten years to 40 minutes


def zoom_define(name, ttl):
    """(Re)defines a zoomable query over bench.zoom; a redefinition also
    makes its cached summary stale (the definition's time is in the key)."""
    psql("SELECT pg_dash.define_query(%s, 'SELECT t, v FROM bench.zoom ORDER BY t', "
         "'ten years of readings, index on t', %d, range_columns => ARRAY['t'])" % (sql_literal(name), ttl))


def zoom_ask(name, x_from=None, x_to=None):
    """One series request as a chart of ZOOM_WIDTH pixels makes it: the
    time, the rows it was chosen from, the points and the range."""
    body = {"width": ZOOM_WIDTH, "x": "t", "y": "v"}
    if x_from is not None:
        body.update(x_from=x_from, x_to=x_to)
    t0 = time.time()
    st, hdr, data = http_get(HTTP, "/api/query/" + name, method="POST", body=json.dumps(body),
                             headers={"Content-Type": "application/json"})
    ms = (time.time() - t0) * 1000
    if st != 200:
        raise RuntimeError("%s answered %d: %s" % (name, st, data[:200].decode("utf-8", "replace")))
    j = json.loads(data)
    return {"ms": round(ms, 1), "rows": j["downsampled_from"], "points": j["row_count"],
            "x_from": j["x_from"], "x_to": j["x_to"], "cache": hdr.get("x-pg-dash-cache", "")}


def zoom_steps(name, extent):
    """The requests of ZOOM_STEPS zoom steps into a point at 37 % of the
    range, each window half the last."""
    lo, hi = (datetime.fromisoformat(x).timestamp() for x in extent)
    centre = lo + 0.37 * (hi - lo)
    span = hi - lo
    out = []
    for _ in range(ZOOM_STEPS):
        span /= 2
        a = max(lo, centre - span / 2)
        iso = lambda s: datetime.fromtimestamp(s, timezone.utc).isoformat().replace("+00:00", "Z")
        out.append(zoom_ask(name, iso(a), iso(a + span)))
    return out


def bench_zoom():
    """A line chart over CFG['zoom'] rows with an index on x: first paint,
    and zoom steps at the chart's resolution, with the query's summary
    cached (cache_ttl) and without."""
    log("7. zoom (%s rows with an index on x)" % short(CFG["zoom"]))
    api = RESULTS["pg_dash_query_api"]
    if not api and psql("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname = 'pg_dash' AND p.proname = 'm4'") == "0":
        api = "pg_dash.m4 does not exist yet"
    if api:
        fig(7, "7 zoom", na(api), "", None, "ms", ratio="")
        return
    t = time.time()
    psql(open(os.path.join(HERE, "zoom.sql")).read(), vars={"rows": CFG["zoom"]})
    log("  loaded in %.1f s" % (time.time() - t))
    zoom_define("series_zoom", 300)
    zoom_define("series_zoom_fresh", 0)
    psql("SELECT pg_dash.define_page('bench_zoom', %s)" % sql_literal(
        "# Zoom\n\n<|{series_zoom}|chart|type=line|x=t|y=v|>\n"))
    label = "%s rows, index on x" % short(CFG["zoom"])

    # first paint, cold: a redefinition before each run leaves no summary;
    # warm: another visitor's request made it
    def first_paint(cold=True):
        if cold:
            zoom_define("series_zoom", 300)
        r = browser_run("bench_zoom", "zoom")
        return {"paint_ms": r["ms"], "zoom_ms": r["zoom_ms"]}

    def first_answer():
        zoom_define("series_zoom", 300)
        return zoom_ask("series_zoom")

    try:
        paint = measure("zoom.browser", first_paint)
        warm = measure("zoom.browser_warm", lambda: first_paint(False))
    except RuntimeError as e:
        paint = None
        fig(7, "7 series (%s): first paint in the browser, cold" % label, na(str(e)), "", None, "ms", ratio="")
    cold = measure("zoom.first_answer", first_answer)
    if paint:
        fig(7, "7 series (%s): first paint in the browser, cold" % label, paint["paint_ms"], "limit", 2000,
            "ms", "< 2 s", higher_better=False, ours_m=paint, key="paint_ms",
            note="from navigation; the first answer reads every row (parallel) and caches the summary")
        fig(7, "7 series: first paint in the browser, summary cached", warm["paint_ms"], "limit", 2000,
            "ms", "< 2 s", higher_better=False, ours_m=warm, key="paint_ms",
            note="the next visitor's, within the query's cache_ttl")
    fig(7, "7 series: its first answer (summary of every row)", cold["ms"], "limit", 2000, "ms",
        higher_better=False, ours_m=cold, key="ms")

    # zoom steps: the summary answers the wide windows, the index the narrow
    whole = zoom_ask("series_zoom")
    extent = (whole["x_from"], whole["x_to"])
    steps = {}
    for name in ("series_zoom", "series_zoom_fresh"):
        rounds = []
        for i in range(RUNS):
            cpu = Cpu()
            r = zoom_steps(name, extent)
            rounds.append({"steps": r, **cpu.stop()})
            log("  zoom.%s run %d: %s" % (name, i + 1, json.dumps([s["ms"] for s in r])))
        RESULTS["raw"]["zoom.steps." + name] = rounds
        per_step = [statistics.median(rd["steps"][k]["ms"] for rd in rounds) for k in range(ZOOM_STEPS)]
        steps[name] = {"slowest": max(per_step), "median": statistics.median(per_step),
                       "min": min(per_step), "points": max(s["points"] for rd in rounds for s in rd["steps"]),
                       "wall_s": sum(rd["wall_s"] for rd in rounds),
                       "server_cpu_s": sum(rd["server_cpu_s"] for rd in rounds),
                       "gen_cpu_s": sum(rd["gen_cpu_s"] for rd in rounds)}
    z = steps["series_zoom"]
    f = steps["series_zoom_fresh"]
    last = RESULTS["raw"]["zoom.steps.series_zoom"][0]["steps"][-1]
    span = "%d steps, each halving the range, ten years to %s rows" % (ZOOM_STEPS, last["rows"])
    fig(7, "7 zoom step, server answer, slowest of %s" % span, z["slowest"], "limit", 300, "ms", "< 300 ms",
        higher_better=False, ours_m=z, note="median step %.1f ms, fastest %.1f ms; cache_ttl 300" % (z["median"], z["min"]))
    if paint:
        fig(7, "7 zoom step in the browser (100 ms debounce, answer, drawing)", paint["zoom_ms"], "limit", 300,
            "ms", "< 300 ms", higher_better=False, ours_m=paint, key="zoom_ms")
    fig(7, "7 zoom step without a summary (cache_ttl 0), slowest", f["slowest"], "limit", 300, "ms",
        higher_better=False, ours_m=f, note="median step %.1f ms: wide windows read their rows" % f["median"])
    fig(7, "7 points per pixel of width, most in any answer", max(z["points"], f["points"]) / ZOOM_WIDTH,
        "limit", 4, "", "<= 4", higher_better=False)


# ---------------------------------------------------------------- 8. the executor pool

def pool_metrics():
    """The executor pool's figures from /metrics (name{labels} -> value)."""
    st, _, body = http_get(HTTP, "/metrics")
    out = {}
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("pg_dash_executor"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def pool_wait_idle(timeout=20):
    """Waits until no executor runs a request and the run queue is empty
    (the slow queries of the last run were cancelled)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = pool_metrics()
        if m.get('pg_dash_executors{state="busy"}', 0) == 0 and m.get("pg_dash_executor_queue_depth", 0) == 0:
            return True
        time.sleep(0.2)
    return False


def restart_with(settings):
    """ALTER SYSTEM SET (or RESET, for None) some settings, restarts the
    cluster and waits until every executor runs."""
    for k, v in settings.items():
        psql("ALTER SYSTEM RESET %s" % k if v is None else "ALTER SYSTEM SET %s = %s" % (k, v))
    restart_cluster()
    want_n = int(psql("SHOW pg_dash.executors"))
    deadline = time.time() + 30
    while time.time() < deadline:
        if pool_metrics().get('pg_dash_executors{state="running"}', 0) >= want_n:
            return want_n
        time.sleep(0.2)
    raise RuntimeError("%d executors did not come up after the restart" % want_n)


def pool_api_missing(figure, unit=""):
    """Records figure as n/a when the query API is missing; True then."""
    api = RESULTS["pg_dash_query_api"]
    if api:
        fig(8, figure, na(api), "", None, unit, ratio="")
    return bool(api)


def bench_loop():
    """8a: /healthz and a cache hit, paced (bench/probe.py), while 8
    clients keep a one-second query running, against the same without."""
    log("8a. the loop stays free")
    if pool_api_missing("8a /healthz p99, 8 clients running a 1 s query", "ms"):
        return
    psql("SELECT pg_dash.define_query('bench_sleep', 'SELECT pg_sleep(1) AS slept', 'one second of nothing', 0)")
    cached = "/api/query/point_cached?id={id}"
    for i in range(1, 101):          # the probe asks for these: all cached
        http_get(HTTP, cached.replace("{id}", str(i)))
    dur = CFG["dur"]

    def run(slow):
        sleepers = None
        m0 = pool_metrics()
        if slow:
            sleepers = subprocess.Popen(["wrk", "-t1", "-c8", "-d%ds" % (dur + 4), "--timeout", "60s",
                                         "http://127.0.0.1:%d/api/query/bench_sleep" % HTTP],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            CHILDREN.append(sleepers)
            time.sleep(2)        # each of the 8 has its query running or queued
        p = subprocess.run([PY, os.path.join(HERE, "probe.py"), str(HTTP), str(dur), "50", "4", "/healthz", cached],
                           capture_output=True, text=True, env=dict(os.environ, BENCH_IDS="100"))
        m1 = pool_metrics()
        try:
            pr = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pr = None
        out = {}
        if pr is None:
            out["error"] = (p.stderr or "no output").strip()[-300:]
        else:
            for who, path in (("healthz", "/healthz"), ("cached", cached)):
                for k in ("p50_ms", "p99_ms", "max_ms", "n", "errors", "unsent"):
                    out["%s_%s" % (who, k)] = pr[path][k]
        jobs = m1.get("pg_dash_executor_jobs_total", 0) - m0.get("pg_dash_executor_jobs_total", 0)
        wait = m1.get("pg_dash_executor_wait_seconds_total", 0) - m0.get("pg_dash_executor_wait_seconds_total", 0)
        out["queue_wait_ms_per_job"] = round(wait * 1000 / jobs, 2) if jobs else None
        if sleepers:
            txt = sleepers.communicate(timeout=dur + 120)[0]
            CHILDREN.remove(sleepers)
            mm = re.search(r"(\d+) requests in ([\d.]+)s", txt)
            out["slow_per_s"] = round(int(mm.group(1)) / float(mm.group(2)), 2) if mm else None
        if not pool_wait_idle():
            log("  the executors were still busy 20 s after the slow clients went away")
        return out

    r = interleaved("loop", [("slow", lambda: run(True), (), None), ("idle", lambda: run(False), (), None)])
    slow, idle = r["slow"], r["idle"]
    load = load_note(slow, idle)
    fig(8, "8a /healthz p99, 8 clients running a 1 s query", slow.get("healthz_p99_ms"), "no slow queries",
        idle.get("healthz_p99_ms"), "ms", "< 20 ms", higher_better=False, ours_m=slow, other_m=idle,
        key="healthz_p99_ms", note="p50 %s ms (no slow queries %s ms); %s" % (
            fmt(slow.get("healthz_p50_ms")), fmt(idle.get("healthz_p50_ms")), load))
    fig(8, "8a cached query p99, 8 clients running a 1 s query", slow.get("cached_p99_ms"), "no slow queries",
        idle.get("cached_p99_ms"), "ms", "< 20 ms", higher_better=False, ours_m=slow, other_m=idle,
        key="cached_p99_ms", note="p50 %s ms (no slow queries %s ms); run-queue wait %s ms per request; "
        "1 s queries finished %s/s (one per executor per second)" % (
            fmt(slow.get("cached_p50_ms")), fmt(idle.get("cached_p50_ms")),
            fmt(slow.get("queue_wait_ms_per_job")), fmt(slow.get("slow_per_s"))))


def agg_alone():
    """The aggregate's own time: EXPLAIN ANALYZE's execution time (median
    of 5) and the parallel workers its plan launched."""
    sql = sql_of("agg")[0]
    times, workers = [], 0
    for _ in range(5):
        j = json.loads(psql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql))[0]
        times.append(j["Execution Time"])
        workers = max(workers, max([int(w) for w in re.findall(r'"Workers Launched": (\d+)', json.dumps(j))] or [0]))
    return statistics.median(times), workers


def agg_pgbench():
    """The database-only ceiling of the aggregate: pgbench -M prepared -f
    with the same SQL, 64 clients."""
    path = os.path.join(TMP, "agg.sql")
    with open(path, "w") as f:
        f.write(sql_of("agg")[0] + ";\n")
    return pgbench(["-M", "prepared", "-f", path, "-c", "64", "-j", "2"])


def bench_concurrency():
    """8b: the ~20 ms aggregate at 64 connections vs its database ceiling."""
    log("8b. concurrency: the aggregate at 64 connections vs pgbench -M prepared -f")
    label = "8b aggregate, 64 connections, req/s"
    if pool_api_missing(label):
        return
    ms, workers = agg_alone()
    u = "http://127.0.0.1:%d/api/query/agg" % HTTP
    wrk(u, dur=CFG["warm"])
    r = interleaved("concurrency", [("pg_dash", lambda: wrk(u), (), None), ("pgbench", agg_pgbench, (), None)])
    ours, pg = r["pg_dash"], r["pgbench"]
    fig(8, label, ours["rps"], "pgbench -M prepared -f, 64 clients", pg["rps"], "", ">= 0.9x",
        ours_m=ours, other_m=pg, key="rps",
        note="the query alone: %.1f ms, %d parallel workers; pg_dash.executors = %s; pg_dash p99 %s ms, "
        "pgbench average latency %s ms; %s%s" % (ms, workers, psql("SHOW pg_dash.executors"),
                                                 fmt(ours["p99_ms"]), fmt(pg["avg_ms"]),
                                                 errors_note(pg_dash=ours), load_note(ours, pg)))


class Nginx:
    """nginx from Debian on a free loopback port, answering every request
    with a fixed body (the HTTP-only floor); its configuration and logs are
    in bench/tmp/nginx."""

    def __init__(self, body):
        self.dir = os.path.join(TMP, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # in a return text, $ starts a variable; ' and \\ need escapes: keep the size, drop them
        text = re.sub(r"[$'\\]", "x", body)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""# written by bench/run.py: the HTTP-only floor
worker_processes 2;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            default_type "application/json; charset=utf-8";
            return 200 '%(text)s';
        }
    }
}
""" % {"d": self.dir, "port": self.port, "text": text})
        self.p = subprocess.Popen(["nginx", "-p", self.dir, "-e", os.path.join(self.dir, "error.log"), "-c", conf],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr.log"), "w"))
        CHILDREN.append(self.p)
        deadline = time.time() + 10
        while time.time() < deadline:
            if http_get(self.port, "/")[0] == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start; see bench/tmp/nginx/stderr.log")

    def pids(self):
        """The master and its workers."""
        out = [self.p.pid]
        for d in os.listdir("/proc"):
            if d.isdigit():
                st = proc_stat(int(d))
                if st and st[0] == self.p.pid:
                    out.append(int(d))
        return out

    def stop(self):
        end_process(self.p, 10)


def head_bytes(port, path):
    """(header bytes, body bytes) of one answer, from a raw request."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (path, port)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    i = data.find(b"\r\n\r\n") + 4
    return i, len(data) - i


def bench_small():
    """8c: small queries keep their lead.  The uncached point query vs
    pgbench -S, and the cached one vs nginx returning a body of the same
    size (same wrk settings), each pair interleaved."""
    log("8c. small queries: point uncached vs pgbench -S, cached vs nginx")
    if pool_api_missing("8c point query uncached, req/s"):
        return
    url = "http://127.0.0.1:%d/" % HTTP
    env = {"BENCH_PATH": "/api/query/point?id=", "BENCH_IDS": str(CFG["items"])}
    envc = {"BENCH_PATH": "/api/query/point_cached?id=", "BENCH_IDS": str(CFG["cached_ids"])}
    wrk(url, dur=CFG["warm"], script="random_id.lua", env=env)
    r = interleaved("small.uncached", [
        ("pg_dash", lambda: wrk(url, script="random_id.lua", env=env), (), None),
        ("pgbench_S", pgbench_S, (), None)])
    ours, pg = r["pg_dash"], r["pgbench_S"]
    fig(8, "8c point query uncached, req/s", ours["rps"], "pgbench -S", pg["rps"], "", ">= 1.0x",
        ours_m=ours, other_m=pg, key="rps",
        note="p99 %s ms; %s%s" % (fmt(ours["p99_ms"]), errors_note(pg_dash=ours), load_note(ours, pg)))

    wrk(url, dur=CFG["warm"] * 2, script="random_id.lua", env=envc)    # fills the cache
    st, _, body = http_get(HTTP, "/api/query/point_cached?id=1")
    if st != 200:
        fig(8, "8c point query cached, req/s", na("point_cached answered %d" % st), "", None, "", ratio="")
        return
    try:
        ng = Nginx(body.decode("utf-8"))
    except (RuntimeError, OSError) as e:
        fig(8, "8c point query cached, req/s", "", "nginx", na(str(e)), "", ratio="")
        return
    try:
        ngurl = "http://127.0.0.1:%d/" % ng.port
        ours_h, ours_b = head_bytes(HTTP, "/api/query/point_cached?id=1")
        ng_h, ng_b = head_bytes(ng.port, "/api/query/point_cached?id=1")
        wrk(ngurl, dur=CFG["warm"], script="random_id.lua", env=envc)
        r = interleaved("small.cached", [
            ("pg_dash", lambda: wrk(url, script="random_id.lua", env=envc), (), None),
            ("nginx", lambda: wrk(ngurl, script="random_id.lua", env=envc), ng.pids(), None)])
    finally:
        ng.stop()
    ours, nx = r["pg_dash"], r["nginx"]
    fig(8, "8c point query cached, req/s", ours["rps"], "nginx, same body", nx["rps"], "", ">= 0.6x",
        ours_m=ours, other_m=nx, key="rps",
        note="body %d bytes each; headers %d bytes (pg_dash) and %d (nginx); nginx 2 worker processes; "
        "p99 %s ms, nginx %s ms; %s%s" % (ours_b, ours_h, ng_h, fmt(ours["p99_ms"]), fmt(nx["p99_ms"]),
                                           errors_note(pg_dash=ours, nginx=nx), load_note(ours, nx)))


def bench_executors():
    """8d: the aggregate with pg_dash.executors = 1, 2 and 4 (a restart
    each; max_worker_processes raised so that 4 executors leave room for
    parallel workers), interleaved with its pgbench ceiling."""
    log("8d. executors scale: the aggregate with 1, 2 and 4 executors")
    if pool_api_missing("8d aggregate by executors"):
        return
    u = "http://127.0.0.1:%d/api/query/agg" % HTTP
    counts = (1, 2, 4)

    def prepare(n):
        got = restart_with({"pg_dash.executors": n, "max_worker_processes": 16})
        if got != n:
            raise RuntimeError("pg_dash.executors is %d, not %d" % (got, n))
        wrk(u, dur=CFG["warm"])

    sides = [("exec%d" % n, lambda: wrk(u), (), lambda n=n: prepare(n)) for n in counts]
    sides.append(("pgbench", agg_pgbench, (), None))
    try:
        r = interleaved("executors", sides)
    finally:
        restart_with({"pg_dash.executors": None, "max_worker_processes": None})
    pg = r["pgbench"]
    base = r["exec1"]["rps"]
    for n in counts:
        m = r["exec%d" % n]
        fig(8, "8d aggregate, 64 connections, %d executor%s, req/s" % (n, "" if n == 1 else "s"), m["rps"],
            "pgbench -M prepared -f", pg["rps"], "", "", ours_m=m, other_m=pg, key="rps",
            note="%.2fx of 1 executor; p99 %s ms; %s%s" % (m["rps"] / base if base else 0, fmt(m["p99_ms"]),
                                                        errors_note(pg_dash=m), load_note(m)))


# ---------------------------------------------------------------- 9. TLS

def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bench_tls():
    """9: pg_dash's own TLS (pg_dash.ssl with pg_dash.ssl_port, a
    self-signed RSA-2048 certificate): the point query over HTTPS keep-alive
    beside plain HTTP, and new connections per second (Connection: close on
    /healthz, so a full handshake each, wrk resumes no sessions) beside the
    same over plain HTTP; each pair interleaved."""
    log("9. TLS: point query over HTTPS, handshakes per second")
    api = RESULTS["pg_dash_query_api"]
    if api:
        fig(10, "10a point query over HTTPS keep-alive", na(api), "", None, "", ratio="")
        return
    cert, key = os.path.join(TMP, "tls.crt"), os.path.join(TMP, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    subprocess.run(["chown", "postgres", cert, key], check=True)
    port = free_tcp_port()
    restart_with({"pg_dash.ssl": "on", "pg_dash.ssl_port": port, "pg_dash.ssl_cert_file": sql_literal(cert),
                  "pg_dash.ssl_key_file": sql_literal(key)})
    try:
        env = {"BENCH_PATH": "/api/query/point?id=", "BENCH_IDS": str(CFG["items"])}
        plain, tls = "http://127.0.0.1:%d/" % HTTP, "https://127.0.0.1:%d/" % port
        wrk(tls, dur=CFG["warm"], script="random_id.lua", env=env)
        r = interleaved("tls.point", [
            ("https", lambda: wrk(tls, script="random_id.lua", env=env), (), None),
            ("http", lambda: wrk(plain, script="random_id.lua", env=env), (), None)])
        fig(10, "10a point query, 64 keep-alive connections, HTTPS, req/s", r["https"]["rps"], "plain HTTP",
            r["http"]["rps"], "", "", ours_m=r["https"], other_m=r["http"], key="rps",
            note="p99 %s vs %s ms; %s%s" % (fmt(r["https"]["p99_ms"]), fmt(r["http"]["p99_ms"]),
                                           errors_note(https=r["https"], http=r["http"]), load_note(r["https"])))
        close = ("Connection: close",)
        c = interleaved("tls.connect", [
            ("https", lambda: wrk(tls + "healthz", conns=16, headers=close), (), None),
            ("http", lambda: wrk(plain + "healthz", conns=16, headers=close), (), None)])
        fig(10, "10b new connections/s (a TLS handshake each), /healthz, 16 clients", c["https"]["rps"],
            "plain HTTP connections/s", c["http"]["rps"], "", "", ours_m=c["https"], other_m=c["http"], key="rps",
            note="p99 %s vs %s ms; %s%s" % (fmt(c["https"]["p99_ms"]), fmt(c["http"]["p99_ms"]),
                                           errors_note(https=c["https"], http=c["http"]), load_note(c["https"])))
    finally:
        restart_with({"pg_dash.ssl": None, "pg_dash.ssl_port": None, "pg_dash.ssl_cert_file": None,
                      "pg_dash.ssl_key_file": None})


# ---------------------------------------------------------------- main

def end_process(p, timeout=5, terminate=True):
    """Ends one of the processes we started: SIGTERM (unless it was asked
    to quit another way), SIGKILL after timeout seconds."""
    if terminate and p.poll() is None:
        p.terminate()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if p in CHILDREN:
        CHILDREN.remove(p)


def cleanup(*_):
    for p in list(CHILDREN):
        end_process(p)


def main():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    t0 = time.time()
    for src, out, extra in (("wsload.c", "wsload", []), ("sendfloor.c", "sendfloor", []),
                            ("pglisten.c", "pglisten", ["-I/usr/include/postgresql", "-lpq"])):
        subprocess.run(["gcc", "-O2", "-Wall", "-o", os.path.join(TMP, out), os.path.join(HERE, src)] + extra,
                       check=True)
    setup()
    # the peer is compared with in the first four only
    peer = start_peer() if any(want(b) for b in ("point", "agg", "export", "ws")) else None
    cpu_model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    RESULTS["machine"] = {"cpus": os.cpu_count(), "cpu": cpu_model, "kernel": platform.release(),
                          "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)}
    RESULTS["config"] = dict(CFG, quick=QUICK, runs=RUNS)
    benches = (("point", lambda: bench_point(peer)), ("agg", lambda: bench_agg(peer)),
               ("export", lambda: bench_export(peer)), ("ws", lambda: bench_ws(peer)),
               ("state", bench_state), ("browser", bench_browser), ("zoom", bench_zoom),
               ("signin", bench_signin),
               ("loop", bench_loop), ("concurrency", bench_concurrency), ("small", bench_small),
               ("tls", bench_tls),                  # restarts the cluster with TLS, and back
               ("executors", bench_executors))      # last: it restarts the cluster with other settings
    try:
        for name, run in benches:
            if not want(name):
                continue
            # a benchmark that fails is recorded as such; the others' figures are kept
            try:
                run()
            except Exception as e:  # noqa: BLE001
                log("  %s failed: %s" % (name, traceback.format_exc()))
                fig(0, "%s: the benchmark failed" % name, na("%s: %s" % (type(e).__name__, e)), "", None, "",
                    ratio="")
    finally:
        cleanup()
    RESULTS["duration_s"] = round(time.time() - t0, 1)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS["run"] = "bench-%s%s" % (stamp, "-quick" if QUICK else "")
    RESULTS["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS["only"] = sorted(ONLY)
    g = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"], capture_output=True, text=True)
    RESULTS["commit"] = g.stdout.strip() if g.returncode == 0 else None
    out = os.path.join(HERE, "results", "bench-%s%s.json" % (stamp, "-quick" if QUICK else ""))
    with open(out, "w") as f:
        json.dump(RESULTS, f, indent=1, default=str)
    print()
    print("pg_dash benchmarks%s: %d CPUs (%s); %d runs per figure, pg_dash and its peer or limit in turns "
          "(A B A B A B); each figure is the median (min-max) of its runs, each ratio that of the medians "
          "(min-max over the pairs of runs)." % (" (BENCH_QUICK: smaller data, fewer clients, shorter runs)" if QUICK else "",
                                    os.cpu_count(), cpu_model, RUNS))
    print("Load generators (wrk, pgbench, curl, psql, wsload, chromium) run on the SAME machine as the "
          "server and compete with it for the CPUs.")
    print("ratio > 1 means pg_dash is better (for times and latencies: other / pg_dash).")
    print("cpu srv/gen = cores used by the server side (the cluster's processes, plus the Tornado "
          "peer when it is measured) / by the load generator, during the figure's runs.")
    if RESULTS["pg_dash_query_api"]:
        print("pg_dash query API unavailable: " + RESULTS["pg_dash_query_api"])
    print()
    print_table()
    print()
    print("raw runs: %s (%.0f s)" % (os.path.relpath(out, TOP), RESULTS["duration_s"]))


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
