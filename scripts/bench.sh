#!/bin/sh
# Runs pg_dash's benchmarks (make bench): installs what they need, builds and
# installs the extension, starts a throw-away cluster with demo-sized data,
# runs bench/run.py (which prints the table and writes bench/results/*.json),
# then stops the cluster and leaves no process behind.
#
#   BENCH_QUICK=1   a ~2 minute smoke run (fewer clients, rows and seconds)
#   BENCH_ONLY=a,b  run only some benchmarks (point,agg,export,ws,state,browser,zoom,
#                   loop,concurrency,small,executors; pool = the last four; tls)
#   BENCH_NO_BUILD=1  skip make && make install (measure what is installed)
#   PG_CONFIG=/path/to/pg_config  build, install and run with that PostgreSQL
#                   (default: pg_config from PATH, Debian's postgresql-15)
#
# Needs root (packages, make install, and su to the postgres user, since
# initdb refuses root).  Load generators run on the same machine.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "bench.sh: run as root (it installs packages and the extension)" >&2
	exit 1
fi

sh scripts/deps.sh bench
PG_CONFIG=${PG_CONFIG:-pg_config}
if [ -z "${BENCH_NO_BUILD:-}" ]; then
	make -s PG_CONFIG="$PG_CONFIG"
	make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
else
	echo "BENCH_NO_BUILD: measuring the pg_dash already installed"
fi

PGBIN=$("$PG_CONFIG" --bindir)
export PATH="$PGBIN:$PATH"	# psql and pgbench of the same PostgreSQL
PY=/usr/bin/python3	# Debian's python: tornado, asyncpg, websockets
# Free ports only: pg_dash listens with SO_REUSEPORT, so a second cluster of
# the same user on the same port would silently take half the connections.
free_port() {
	p=$1
	while ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || \
		{ [ -n "${2:-}" ] && [ "$p" = "$2" ]; } || { [ -n "${3:-}" ] && [ "$p" = "$3" ]; }; do
		p=$((p + 1))
	done
	echo "$p"
}
export BENCH_PGPORT=$(free_port "${BENCH_PGPORT:-54329}")
export BENCH_HTTP_PORT=$(free_port "${BENCH_HTTP_PORT:-28080}")
export BENCH_PEER_PORT=$(free_port "${BENCH_PEER_PORT:-28081}" "$BENCH_HTTP_PORT")
tmp=$top/bench/tmp
data=$tmp/data
mkdir -p "$tmp" bench/results

# Many sockets: the WebSocket benchmark holds 10,000 clients (and the server
# side as many).  Root may raise the hard limit; fall back to what we have.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# the postgres user must be able to reach the checkout
d="$top"; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
chown -R postgres "$tmp"

aspg() { su postgres -s /bin/sh -c "ulimit -n $(ulimit -n) 2>/dev/null; $1"; }

stop_cluster() {
	if [ -f "$data/postmaster.pid" ]; then
		aspg "$PGBIN/pg_ctl -D '$data' -m fast -w stop" >/dev/null 2>&1 || \
			aspg "$PGBIN/pg_ctl -D '$data' -m immediate -w stop" >/dev/null 2>&1 || true
	fi
}
trap 'stop_cluster' EXIT
trap 'exit 130' INT TERM

stop_cluster
rm -rf "$data"
aspg "$PGBIN/initdb -D '$data' -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8" >/dev/null
cat >> "$data/postgresql.conf" <<EOF
# pg_dash benchmark cluster (throw-away: durability is off)
listen_addresses = '127.0.0.1'
port = $BENCH_PGPORT
unix_socket_directories = '$tmp'
max_connections = 200
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
log_min_messages = warning
logging_collector = off
jit = off
shared_preload_libraries = 'pg_dash'
pg_dash.port = $BENCH_HTTP_PORT
pg_dash.listen_addresses = '127.0.0.1'
pg_dash.workers = 2
pg_dash.database = 'postgres'
pg_dash.max_connections = 20000
EOF
# settings that exist only once their module has landed are added when the
# installed extension defines them (an unknown pg_dash.* name is an error)
strings "$("$PG_CONFIG" --pkglibdir)/pg_dash.so" > "$tmp/gucs.txt" 2>/dev/null || true
addguc() { grep -qx "$1" "$tmp/gucs.txt" && echo "$1 = $2" >> "$data/postgresql.conf" || true; }
addguc pg_dash.role "'bench_anon'"
addguc pg_dash.max_rows 100000000
addguc pg_dash.statement_timeout 0
addguc pg_dash.cache_size "'256MB'"
addguc pg_dash.ws_max_queue "'256MB'"
# section 5 creates its sessions from one address
addguc pg_dash.max_new_sessions_per_ip 1000000

aspg "ulimit -n 65536 2>/dev/null; $PGBIN/pg_ctl -D '$data' -l '$tmp/postgres.log' -w start" >/dev/null

BENCH_PGBIN=$PGBIN $PY bench/run.py "$@"
