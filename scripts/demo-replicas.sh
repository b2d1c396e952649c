#!/bin/sh
# pg_dash scaled out: a primary, two streaming hot standbys, each with its
# own pg_dash workers, and HAProxy spreading HTTP and WebSocket over the
# three (docs/replicas.md).  One command:
#
#   sh scripts/demo-replicas.sh start   (make demo-replicas)       everything, then the URL
#   sh scripts/demo-replicas.sh stop    (make demo-replicas-stop)  HAProxy, standbys, primary
#   sh scripts/demo-replicas.sh status
#
# The primary is scripts/demo.sh's cluster (same examples, same generator)
# with the WAL standbys need.  Settings (environment), besides demo.sh's:
#   DEMO_PORT=8080        HAProxy's port; pg_dash listens on the next three
#                         (primary, standby 1, standby 2)
#   DEMO_PGPORT=54329     the primary's PostgreSQL port; the standbys take the next two
#   DEMO_DIR=./demo-replicas
#   DEMO_SCALE=1          as for demo.sh (0.01 for a quick look)
#
# Needs haproxy (Debian's package; scripts/deps.sh demo installs it).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DEMO_PORT=${DEMO_PORT:-8080}
DEMO_PGPORT=${DEMO_PGPORT:-54329}
DEMO_DIR=${DEMO_DIR:-$ROOT/demo-replicas}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
LINK_ROLE=dash_link

T0=$(date +%s)
say() { printf '[replicas %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf 'demo-replicas: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

as_pg() {
	if [ $IS_ROOT -eq 1 ]; then
		su postgres -s /bin/sh -c "cd / && $*"
	else
		sh -c "$*"
	fi
}

mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
PRIMARY_DIR=$DEMO_DIR/primary
SOCK=$PRIMARY_DIR/run
[ ${#SOCK} -gt 80 ] && SOCK=/tmp
HAPROXY_CFG=$DEMO_DIR/haproxy.cfg
HAPROXY_PID=$DEMO_DIR/haproxy.pid
# HAProxy connects to the nodes from this loopback address and sends the
# PROXY protocol, so that per-client limits count real clients; the nodes
# believe it from there only (a browser or curl on 127.0.0.1 still reaches
# a node directly).
HAPROXY_SOURCE=127.0.0.2

# The primary: demo.sh with replication on, pg_dash on DEMO_PORT + 1.
primary() {
	DEMO_DIR=$PRIMARY_DIR DEMO_PORT=$((DEMO_PORT + 1)) DEMO_PGPORT=$DEMO_PGPORT \
		DEMO_REPLICATION=1 DEMO_PROXY_PROTOCOL_FROM=$HAPROXY_SOURCE PGBIN=$PGBIN sh scripts/demo.sh "$1"
}

psql_primary() {
	"$PGBIN/psql" -X -q -h "$SOCK" -p "$DEMO_PGPORT" -U postgres -d postgres "$@"
}

standby_running() {
	[ -f "$DEMO_DIR/standby$1/data/postmaster.pid" ] &&
		as_pg "'$PGBIN/pg_ctl' -D '$DEMO_DIR/standby$1/data' status" >/dev/null 2>&1
}

# Standby n: a base backup of the primary, streaming from it, pg_dash on
# DEMO_PORT + 1 + n with a link to the primary as LINK_ROLE.
start_standby() {
	n=$1
	dir=$DEMO_DIR/standby$n
	data=$dir/data
	if standby_running "$n"; then
		say "standby $n is running ($data)"
		return
	fi
	mkdir -p "$dir"
	if [ $IS_ROOT -eq 1 ]; then chown postgres "$dir"; fi
	if [ ! -f "$data/PG_VERSION" ]; then
		say "standby $n: base backup of the primary into $data..."
		as_pg "'$PGBIN/pg_basebackup' -h '$SOCK' -p $DEMO_PGPORT -U postgres -D '$data' -R -X stream -c fast" \
			>"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
	fi
	# the primary's demo settings, then this standby's own (later lines win)
	as_pg "cat > '$data/pg_dash_standby.conf'" <<CONF
# Written by scripts/demo-replicas.sh on every start.
port = $((DEMO_PGPORT + n))
pg_dash.port = $((DEMO_PORT + 1 + n))
pg_dash.primary_conninfo = 'host=$SOCK port=$DEMO_PGPORT dbname=postgres user=$LINK_ROLE'
CONF
	grep -q pg_dash_standby.conf "$data/postgresql.conf" ||
		echo "include_if_exists = 'pg_dash_standby.conf'" | as_pg "cat >> '$data/postgresql.conf'"
	say "standby $n: starting (PostgreSQL port $((DEMO_PGPORT + n)), pg_dash port $((DEMO_PORT + 1 + n)))..."
	as_pg "'$PGBIN/pg_ctl' -D '$data' -l '$dir/postgres.log' -w -t 120 start" >/dev/null ||
		{ tail -n 30 "$dir/postgres.log" >&2; die "standby $n did not start (see $dir/postgres.log)"; }
}

# HAProxy: every request and WebSocket to any of the three, by health.
start_haproxy() {
	command -v haproxy >/dev/null 2>&1 || die "haproxy is missing: apt-get install haproxy (or scripts/deps.sh demo)"
	cat >"$HAPROXY_CFG" <<CFG
# Written by scripts/demo-replicas.sh: pg_dash on a primary and two hot
# standbys.  No sticky sessions: session state lives on the primary, and a
# standby forwards what needs it.  /healthz answers on every node.
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h            # WebSockets
frontend pg_dash
    bind 127.0.0.1:$DEMO_PORT
    default_backend nodes
backend nodes
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
    default-server source $HAPROXY_SOURCE send-proxy-v2 check-send-proxy check inter 1s
    server primary  127.0.0.1:$((DEMO_PORT + 1))
    server standby1 127.0.0.1:$((DEMO_PORT + 2))
    server standby2 127.0.0.1:$((DEMO_PORT + 3))
CFG
	stop_haproxy
	haproxy -f "$HAPROXY_CFG" -D -p "$HAPROXY_PID" || die "haproxy did not start ($HAPROXY_CFG)"
}

stop_haproxy() {
	if [ -f "$HAPROXY_PID" ]; then
		for pid in $(cat "$HAPROXY_PID"); do kill "$pid" 2>/dev/null || true; done
		rm -f "$HAPROXY_PID"
	fi
}

start() {
	[ "${DEMO_SKIP_BUILD:-}" = 1 ] || sh scripts/deps.sh demo
	primary start
	say "the link role $LINK_ROLE on the primary..."
	psql_primary -v ON_ERROR_STOP=1 -v role="$LINK_ROLE" >/dev/null <<'SQL' || die "cannot create the link role"
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT pg_dash.grant_link(:'role');
SQL
	start_standby 1
	start_standby 2
	start_haproxy
	URL="http://localhost:$DEMO_PORT"
	i=0
	until curl -fs -o /dev/null "$URL/healthz"; do
		i=$((i + 1))
		[ $i -gt 100 ] && die "HAProxy does not answer at $URL/healthz"
		sleep 0.2
	done
	cat <<EOF

  pg_dash on a primary and two hot standbys behind HAProxy: $URL/

    Sales, live        $URL/p/demo/sales
    IoT sensors        $URL/p/demo/iot
    each node          http://localhost:$((DEMO_PORT + 1))/healthz (primary),
                       :$((DEMO_PORT + 2)) and :$((DEMO_PORT + 3)) (standbys: role, replay lag)

  Stop:  make demo-replicas-stop   (or: sh scripts/demo-replicas.sh stop)


EOF
	say "ready"
}

stop() {
	stop_haproxy
	for n in 2 1; do
		if standby_running "$n"; then
			say "stopping standby $n..."
			as_pg "'$PGBIN/pg_ctl' -D '$DEMO_DIR/standby$n/data' -m fast -w -t 60 stop" >/dev/null || die "pg_ctl stop failed"
		fi
	done
	primary stop
}

status() {
	primary status
	for n in 1 2; do
		if standby_running "$n"; then echo "standby $n: running"; else echo "standby $n: stopped"; fi
	done
	if [ -f "$HAPROXY_PID" ] && kill -0 "$(head -1 "$HAPROXY_PID")" 2>/dev/null; then
		echo "haproxy: running"
	else
		echo "haproxy: stopped"
	fi
}

case "${1:-start}" in
	start) start ;;
	stop) stop ;;
	status) status ;;
	*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
