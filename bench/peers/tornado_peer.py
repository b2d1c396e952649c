#!/usr/bin/python3
"""The stack pg_dash replaces, as a benchmark peer: a Tornado server with an
asyncpg pool (min 5, max 20 connections) serving the same named queries as
pg_dash (GET /api/query/<name>?p=v, JSON in pg_dash's shape or
&format=csv) and a WebSocket /ws (subprotocol pg_dash.v1) that forwards
LISTEN/NOTIFY to subscribed clients, in pg_dash's message format.

Written the way such a service is usually written: one process, rows
fetched with asyncpg and serialised with the standard json/csv modules.

Usage: tornado_peer.py --port 18081 --dsn postgresql://... [--big N]
"""
import argparse
import asyncio
import csv
import datetime
import decimal
import io
import json
import os
import re
import sys
import time

import asyncpg
import tornado.ioloop
import tornado.web
import tornado.websocket

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from queries import QUERIES, sql_of  # noqa: E402

RESERVED = {"format", "shape", "limit", "offset", "count", "order", "filename"}
INT_TYPES = {"int2", "int4", "int8", "oid"}
FLOAT_TYPES = {"float4", "float8", "numeric"}


def to_positional(sql):
    """Rewrites :name parameters as $1, $2, ...; returns (sql, names)."""
    names = []

    def repl(m):
        n = m.group(1)
        if n not in names:
            names.append(n)
        return "$%d" % (names.index(n) + 1)
    return re.sub(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", repl, sql), names


def json_default(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    return str(v)


class Catalog:
    """The named queries with their parameter names and types."""

    def __init__(self, big):
        self.q = {}
        self.big = big

    async def load(self, pool):
        async with pool.acquire() as conn:
            for name in QUERIES:
                sql, _, _ = sql_of(name, self.big)
                psql, names = to_positional(sql)
                stmt = await conn.prepare(psql)
                types = [t.name for t in stmt.get_parameters()]
                cols = [{"name": a.name, "type": a.type.name} for a in stmt.get_attributes()]
                self.q[name] = (psql, names, types, cols)


class QueryHandler(tornado.web.RequestHandler):
    def initialize(self, pool, catalog):
        self.pool = pool
        self.catalog = catalog

    async def get(self, name):
        if name not in self.catalog.q:
            self.set_status(404)
            self.finish({"error": {"status": 404, "code": "not_found", "message": "no query " + name}})
            return
        sql, names, types, cols = self.catalog.q[name]
        args = []
        try:
            for n, t in zip(names, types):
                v = self.get_query_argument(n)
                args.append(int(v) if t in INT_TYPES else float(v) if t in FLOAT_TYPES else v)
        except (tornado.web.MissingArgumentError, ValueError) as e:
            self.set_status(400)
            self.finish({"error": {"status": 400, "code": "bad_request", "message": str(e)}})
            return
        rows = await self.pool.fetch(sql, *args)
        fmt = self.get_query_argument("format", "json")
        if fmt == "csv":
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow([c["name"] for c in cols])
            for i, r in enumerate(rows):
                w.writerow(r)
                if i % 10000 == 9999:
                    self.write(buf.getvalue())
                    buf.seek(0)
                    buf.truncate()
            self.write(buf.getvalue())
            self.finish()
            return
        body = json.dumps({"columns": cols, "rows": [list(r) for r in rows],
                           "row_count": len(rows), "truncated": False},
                          default=json_default, separators=(",", ":"))
        self.set_header("Content-Type", "application/json")
        self.finish(body)


class Hub:
    """Channel subscriptions and the LISTEN connection that feeds them."""

    def __init__(self, pool):
        self.pool = pool
        self.conn = None
        self.subs = {}

    async def subscribe(self, client, channel):
        allowed = await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_dash.channels WHERE name = $1)", channel)
        if not allowed:
            return False
        if channel not in self.subs:
            self.subs[channel] = set()
            if self.conn is None:
                self.conn = await asyncpg.connect(self.pool._connect_args[0])
            await self.conn.add_listener(channel, self.on_notify)
        self.subs[channel].add(client)
        return True

    def unsubscribe(self, client, channel):
        s = self.subs.get(channel)
        if s:
            s.discard(client)

    def on_notify(self, conn, pid, channel, payload):
        try:
            p = json.loads(payload)
        except ValueError:
            p = payload
        msg = json.dumps({"type": "notify", "channel": channel, "payload": p,
                          "ts": int(time.time() * 1000)}, separators=(",", ":"))
        for c in list(self.subs.get(channel, ())):
            try:
                c.write_message(msg)
            except tornado.websocket.WebSocketClosedError:
                self.unsubscribe(c, channel)


class WsHandler(tornado.websocket.WebSocketHandler):
    def initialize(self, hub):
        self.hub = hub
        self.channels = set()

    def check_origin(self, origin):
        return True

    def select_subprotocol(self, subprotocols):
        return "pg_dash.v1" if "pg_dash.v1" in subprotocols else None

    def open(self):
        self.write_message(json.dumps({"type": "hello", "version": "peer",
                                       "protocol": "pg_dash.v1", "pid": os.getpid()}))

    async def on_message(self, message):
        try:
            m = json.loads(message)
        except ValueError:
            self.close(1007)
            return
        t = m.get("type")
        if t == "subscribe":
            ch = m.get("channel", "")
            try:
                ok = await self.hub.subscribe(self, ch)
            except Exception as e:  # the error goes to the client, as pg_dash does
                self.write_message(json.dumps({"type": "error", "error": {
                    "status": 500, "code": "internal", "message": str(e)}}))
                return
            if ok:
                self.channels.add(ch)
                self.write_message(json.dumps({"type": "subscribed", "channel": ch}))
            else:
                self.write_message(json.dumps({"type": "error", "error": {
                    "status": 403, "code": "forbidden", "message": "channel not allowed"}}))
        elif t == "unsubscribe":
            ch = m.get("channel", "")
            self.hub.unsubscribe(self, ch)
            self.channels.discard(ch)
            self.write_message(json.dumps({"type": "unsubscribed", "channel": ch}))
        elif t == "ping":
            self.write_message(json.dumps({"type": "pong", "id": m.get("id")}))

    def on_close(self):
        for ch in self.channels:
            self.hub.unsubscribe(self, ch)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18081)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--big", type=int, default=10_000_000)
    a = ap.parse_args()
    pool = await asyncpg.create_pool(a.dsn, min_size=5, max_size=20)
    catalog = Catalog(a.big)
    await catalog.load(pool)
    hub = Hub(pool)
    app = tornado.web.Application([
        (r"/api/query/([A-Za-z0-9_]+)", QueryHandler, {"pool": pool, "catalog": catalog}),
        (r"/ws", WsHandler, {"hub": hub}),
        (r"/healthz", tornado.web.RedirectHandler, {"url": "/api/query/point?id=1"}),
    ], websocket_max_message_size=65536)
    app.listen(a.port, address="127.0.0.1", backlog=4096)
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
