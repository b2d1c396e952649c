#!/bin/sh
# The pg_dash demo: four live dashboards from one command.
#
#   sh scripts/demo.sh start    (make demo)       install what is missing, build and
#                                                 install pg_dash, start a throw-away
#                                                 cluster, load examples/, start the
#                                                 data generator, print the URL
#   sh scripts/demo.sh stop     (make demo-stop)  stop the generator and the cluster
#   sh scripts/demo.sh status                     is it running?
#
# Running start again is harmless: it finds the running cluster, reloads the
# demo definitions (tables that have rows are kept) and prints the URL.
#
# Settings (environment):
#   DEMO_PORT=8080         HTTP port of pg_dash
#   DEMO_LISTEN=localhost  pg_dash.listen_addresses
#   DEMO_PGPORT=54329      PostgreSQL port (unix socket only, in DEMO_DIR/run)
#   DEMO_DIR=./demo        where the cluster (data/), logs and pid files live
#   DEMO_SCALE=1           data size: 1 = 1M orders + 10M sensor readings; 0.01 for tests
#   DEMO_ROLE=dash_demo    the role pages' queries run as (pg_dash.role), created here
#   DEMO_AUTH=none         password: viewers may sign in as PostgreSQL roles; demo_north
#                          (password north) and demo_south (south) then see their own
#                          region on /p/demo/my-region (pg_dash.auth)
#   DEMO_TLS=              own: pg_dash serves HTTPS and WSS itself on DEMO_PORT with a
#                          self-signed certificate made here (pg_dash.ssl; takes effect
#                          when the cluster starts); nginx: Debian's nginx terminates
#                          TLS on DEMO_NGINX_PORT and forwards /dash/ to pg_dash
#                          (pg_dash.trusted_proxies, pg_dash.base_path), as the README's
#                          "Behind a reverse proxy" configuration
#   DEMO_NGINX_PORT=8443   the HTTPS port of nginx with DEMO_TLS=nginx
#   DEMO_PROXY_PROTOCOL_FROM=  an address (a balancer's) whose connections start with the
#                          PROXY protocol (pg_dash.trusted_proxies, pg_dash.proxy_protocol;
#                          make demo-replicas sets it for its HAProxy)
#   DEMO_SKIP_BUILD=1      do not install packages, build or install pg_dash
#   DEMO_NO_GENERATOR=1    do not start the data generator
#   DEMO_REPLICATION=1     keep the WAL that streaming standbys need (wal_level =
#                          replica); scripts/demo-replicas.sh sets it
#
# Needs root or sudo for the packages and `make install`.  initdb refuses
# root: as root the cluster runs as the postgres user.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DEMO_PORT=${DEMO_PORT:-8080}
DEMO_LISTEN=${DEMO_LISTEN:-localhost}
DEMO_PGPORT=${DEMO_PGPORT:-54329}
DEMO_DIR=${DEMO_DIR:-$ROOT/demo}
DEMO_SCALE=${DEMO_SCALE:-1}
DEMO_ROLE=${DEMO_ROLE:-dash_demo}
DEMO_AUTH=${DEMO_AUTH:-none}
DEMO_TLS=${DEMO_TLS:-}
DEMO_NGINX_PORT=${DEMO_NGINX_PORT:-8443}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

T0=$(date +%s)
say() { printf '[demo %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
SUDO=""
[ $IS_ROOT -eq 1 ] || SUDO=sudo

# Runs a command as the owner of the cluster (postgres when we are root).
as_pg() {
	if [ $IS_ROOT -eq 1 ]; then
		su postgres -s /bin/sh -c "cd / && $*"
	else
		sh -c "$*"
	fi
}

# The paths, made absolute; the socket directory falls back to /tmp when
# the path would be too long for a unix socket.
resolve_paths() {
	mkdir -p "$DEMO_DIR"
	DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
	DATA=$DEMO_DIR/data
	SOCK=$DEMO_DIR/run
	[ ${#SOCK} -gt 80 ] && SOCK=/tmp
	GEN_PID=$DEMO_DIR/generator.pid
	GEN_LOG=$DEMO_DIR/generator.log
	PG_LOG=$DEMO_DIR/postgres.log
	TLS_DIR=$DEMO_DIR/tls
	NGINX_DIR=$DEMO_DIR/nginx
}

# A self-signed certificate for localhost, made once (DEMO_TLS).
make_certificate() {
	[ -f "$TLS_DIR/server.crt" ] && return
	command -v openssl >/dev/null 2>&1 || $SUDO apt-get install -y -qq openssl >/dev/null
	mkdir -p "$TLS_DIR"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.crt" >/dev/null 2>&1 ||
		die "openssl could not make a certificate in $TLS_DIR"
	chmod 600 "$TLS_DIR/server.key"
	if [ $IS_ROOT -eq 1 ]; then chown -R postgres "$TLS_DIR"; fi
}

# Debian's nginx in front (DEMO_TLS=nginx): TLS on DEMO_NGINX_PORT, /dash/ forwarded.
start_nginx() {
	stop_nginx
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || sh "$ROOT/scripts/deps.sh" test
	mkdir -p "$NGINX_DIR"
	cat >"$NGINX_DIR/nginx.conf" <<NGINX
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  server {
    listen $DEMO_NGINX_PORT ssl;
    ssl_certificate $TLS_DIR/server.crt;
    ssl_certificate_key $TLS_DIR/server.key;
    location /dash/ {
      proxy_pass http://127.0.0.1:$DEMO_PORT;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }
  }
}
NGINX
	/usr/sbin/nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" 2>>"$NGINX_DIR/error.log" ||
		die "nginx did not start (see $NGINX_DIR/error.log)"
}

stop_nginx() {
	[ -f "$NGINX_DIR/nginx.pid" ] || return 0
	kill "$(cat "$NGINX_DIR/nginx.pid")" 2>/dev/null || true
	i=0
	while [ -f "$NGINX_DIR/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	rm -f "$NGINX_DIR/nginx.pid"
}

psql_demo() {
	PGAPPNAME=${PGAPPNAME:-pg_dash_demo} "$PGBIN/psql" -X -q -h "$SOCK" -p "$DEMO_PGPORT" -U postgres -d postgres "$@"
}

cluster_running() {
	[ -f "$DATA/postmaster.pid" ] && as_pg "'$PGBIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1
}

# Whether pid is the generator's loop (a process that exited may linger as
# a zombie when nothing reaps it; its cmdline is then empty).
is_generator() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null && grep -q "demo.generate" "/proc/$1/cmdline" 2>/dev/null
}

generator_running() {
	[ -f "$GEN_PID" ] || return 1
	is_generator "$(cat "$GEN_PID" 2>/dev/null)"
}

stop_generator() {
	# First the loop that restarts the session, then the session itself
	# (its psql exits when the session ends).
	if [ -f "$GEN_PID" ]; then
		pid=$(cat "$GEN_PID" 2>/dev/null || true)
		if is_generator "$pid"; then
			kill "$pid" 2>/dev/null || true
			i=0
			while is_generator "$pid" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
			if is_generator "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
		fi
		rm -f "$GEN_PID"
	fi
	if cluster_running; then
		psql_demo -Atc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		                WHERE application_name = 'pg_dash_demo_generator'" >/dev/null 2>&1 || true
	fi
}

start_generator() {
	if generator_running; then
		say "the data generator is running (pid $(cat "$GEN_PID"))"
		return
	fi
	# A background psql session: CALL demo.generate() loops until the
	# session ends.  A small shell loop starts it again if the session is
	# lost (say, the server restarted); its pid is in generator.pid.
	nohup sh -c "while :; do
		PGAPPNAME=pg_dash_demo_generator PGOPTIONS='-c synchronous_commit=off' \
			'$PGBIN/psql' -X -q -h '$SOCK' -p '$DEMO_PGPORT' -U postgres -d postgres -c 'CALL demo.generate()'
		sleep 2
	done" >"$GEN_LOG" 2>&1 </dev/null &
	echo $! >"$GEN_PID"
	sleep 0.5
	generator_running || { cat "$GEN_LOG" >&2; die "the data generator did not start (see $GEN_LOG)"; }
	say "data generator started (pid $(cat "$GEN_PID")): new orders, events, metrics and 1 000 sensor readings a second"
}

install_and_build() {
	if [ "${DEMO_SKIP_BUILD:-}" = 1 ]; then
		say "DEMO_SKIP_BUILD=1: using the installed pg_dash"
		return
	fi
	say "checking the Debian packages (scripts/deps.sh build)..."
	sh scripts/deps.sh build
	say "building pg_dash (make)..."
	make -s >"$DEMO_DIR/build.log" 2>&1 || { tail -n 30 "$DEMO_DIR/build.log" >&2; die "make failed (see $DEMO_DIR/build.log)"; }
	say "installing pg_dash (${SUDO:+sudo }make install)..."
	$SUDO make -s install >>"$DEMO_DIR/build.log" 2>&1 || { tail -n 30 "$DEMO_DIR/build.log" >&2; die "make install failed (see $DEMO_DIR/build.log)"; }
}

# The demo's settings, rewritten on every start (included by postgresql.conf).
write_conf() {
	cat >"$DEMO_DIR/pg_dash_demo.conf.tmp" <<CONF
# Written by scripts/demo.sh on every start; edit the script, not this file.
listen_addresses = ''
port = $DEMO_PGPORT
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'pg_dash'
pg_dash.port = $DEMO_PORT
pg_dash.listen_addresses = '$DEMO_LISTEN'
pg_dash.database = 'postgres'
pg_dash.role = '$DEMO_ROLE'
pg_dash.auth = '$DEMO_AUTH'
pg_dash.login_group = 'demo_team'
pg_dash.anonymous = on
$(case "$DEMO_TLS" in
	own) printf "pg_dash.ssl = on\npg_dash.ssl_cert_file = '%s'\npg_dash.ssl_key_file = '%s'\n" "$TLS_DIR/server.crt" "$TLS_DIR/server.key" ;;
	nginx) printf "pg_dash.trusted_proxies = '127.0.0.1, ::1'\npg_dash.base_path = '/dash'\n" ;;
esac)
$([ -n "${DEMO_PROXY_PROTOCOL_FROM:-}" ] &&
	printf "pg_dash.trusted_proxies = '%s'\npg_dash.proxy_protocol = on\n" "$DEMO_PROXY_PROTOCOL_FROM")
pg_dash.workers = 2
pg_dash.statement_timeout = '30s'
timezone = 'UTC'
shared_buffers = '256MB'
maintenance_work_mem = '512MB'
work_mem = '64MB'
max_wal_size = '4GB'
# A throw-away cluster: speed over durability.  With wal_level = minimal a
# table created and filled in one transaction is written without WAL.
$(if [ "${DEMO_REPLICATION:-}" = 1 ]; then echo "wal_level = replica
max_wal_senders = 10"; else echo "wal_level = minimal
max_wal_senders = 0"; fi)
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
	if [ $IS_ROOT -eq 1 ]; then chown postgres "$DEMO_DIR/pg_dash_demo.conf.tmp"; fi
	mv "$DEMO_DIR/pg_dash_demo.conf.tmp" "$DATA/pg_dash_demo.conf"
}

start() {
	resolve_paths
	case "$DEMO_TLS" in
		'') ;;
		own|nginx) make_certificate ;;
		*) die "DEMO_TLS is own or nginx, not $DEMO_TLS" ;;
	esac
	if cluster_running; then
		say "the demo cluster is running ($DATA); reloading its settings"
		write_conf
		as_pg "'$PGBIN/pg_ctl' -D '$DATA' reload" >/dev/null
	else
		install_and_build
		[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb is missing (install postgresql-15)"
		if [ $IS_ROOT -eq 1 ]; then
			chown postgres "$DEMO_DIR"
			as_pg "test -w '$DEMO_DIR'" ||
				die "the postgres user cannot write $DEMO_DIR (a parent folder is closed to it); set DEMO_DIR to a folder it can reach, e.g. DEMO_DIR=/var/tmp/pg_dash-demo"
		fi
		if [ "$SOCK" != /tmp ]; then
			mkdir -p "$SOCK"
			if [ $IS_ROOT -eq 1 ]; then chown postgres "$SOCK"; fi
		fi
		if [ ! -f "$DATA/PG_VERSION" ]; then
			say "creating a throw-away cluster in $DATA..."
			rm -rf "$DATA"
			as_pg "'$PGBIN/initdb' -D '$DATA' -A trust -U postgres -E UTF8 --locale=C.UTF-8" >"$DEMO_DIR/initdb.log" 2>&1 ||
				{ cat "$DEMO_DIR/initdb.log" >&2; die "initdb failed"; }
			echo "include_if_exists = 'pg_dash_demo.conf'" | as_pg "cat >> '$DATA/postgresql.conf'"
		fi
		write_conf
		say "starting PostgreSQL (port $DEMO_PGPORT, socket $SOCK) with pg_dash on $DEMO_LISTEN:$DEMO_PORT..."
		touch "$PG_LOG"
		if [ $IS_ROOT -eq 1 ]; then chown postgres "$PG_LOG"; fi
		as_pg "'$PGBIN/pg_ctl' -D '$DATA' -l '$PG_LOG' -w -t 60 start" >/dev/null ||
			{ tail -n 30 "$PG_LOG" >&2; die "the cluster did not start (see $PG_LOG)"; }
	fi

	psql_demo -v ON_ERROR_STOP=1 -v role="$DEMO_ROLE" >/dev/null <<'SQL' || die "cannot create the role or the extension"
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I NOLOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
CREATE EXTENSION IF NOT EXISTS pg_dash;
SQL

	first=$(psql_demo -Atc "SELECT to_regclass('demo.sensor_readings') IS NULL")
	if [ "$first" = f ]; then
		first=$(psql_demo -Atc "SELECT NOT EXISTS (SELECT 1 FROM demo.sensor_readings)")
	fi
	# The generator pauses while the definitions are reloaded (reloading takes
	# table locks that would otherwise wait for, or deadlock with, its ticks).
	if generator_running; then
		say "pausing the data generator while the demo is reloaded"
		stop_generator
	fi
	if [ "$first" = t ]; then
		say "loading the demo (examples/demo.sql, scale $DEMO_SCALE): 1M orders and 10M sensor readings at scale 1, about a minute..."
	else
		say "reloading the demo definitions (examples/demo.sql; the data is kept)..."
	fi
	rc_file=$DEMO_DIR/load.rc
	rm -f "$rc_file"
	{
		PGAPPNAME=pg_dash_demo_load psql_demo -v ON_ERROR_STOP=1 -v scale="$DEMO_SCALE" -f "$ROOT/examples/demo.sql" 2>&1
		echo $? >"$rc_file"
	} | while IFS= read -r line; do [ -n "$line" ] && say "  $line"; done
	[ "$(cat "$rc_file" 2>/dev/null)" = 0 ] || die "loading the demo failed (the error is above)"

	if [ "${DEMO_NO_GENERATOR:-}" = 1 ]; then
		say "DEMO_NO_GENERATOR=1: no live data"
	else
		start_generator
	fi

	# pg_dash answers once its workers are up.
	url_host=$DEMO_LISTEN
	case "$url_host" in ''|'*'|0.0.0.0) url_host=localhost ;; esac
	URL="http://$url_host:$DEMO_PORT"
	[ "$DEMO_TLS" = own ] && URL="https://$url_host:$DEMO_PORT"
	i=0
	until curl -kfs -o /dev/null "$URL/healthz"; do
		i=$((i + 1))
		[ $i -gt 100 ] && { tail -n 20 "$PG_LOG" >&2; die "pg_dash does not answer at $URL/healthz (see $PG_LOG)"; }
		sleep 0.2
	done
	if [ "$DEMO_TLS" = nginx ]; then
		start_nginx
		URL="https://$url_host:$DEMO_NGINX_PORT/dash"
		i=0
		until curl -kfs -o /dev/null "$URL/healthz"; do
			i=$((i + 1))
			[ $i -gt 50 ] && die "nginx does not forward $URL/healthz to pg_dash (see $NGINX_DIR/error.log)"
			sleep 0.2
		done
	fi

	cat <<EOF

  pg_dash demo: $URL/

    Sales, live        $URL/p/demo/sales
    User retention     $URL/p/demo/retention
    System monitoring  $URL/p/demo/monitoring
    IoT sensors        $URL/p/demo/iot
    My region          $URL/p/demo/my-region   (DEMO_AUTH=password: sign in as demo_north / north or demo_south / south)

  SQL:   psql -h $SOCK -p $DEMO_PGPORT -U postgres     (the demo is in schema demo; examples/*.sql)
  Logs:  $PG_LOG, $GEN_LOG
  Stop:  make demo-stop   (or: sh scripts/demo.sh stop)

EOF
	say "ready"
}

stop() {
	resolve_paths
	stop_nginx
	stop_generator
	if cluster_running; then
		say "stopping the demo cluster..."
		as_pg "'$PGBIN/pg_ctl' -D '$DATA' -m fast -w -t 60 stop" >/dev/null ||
			die "pg_ctl stop failed (see $PG_LOG)"
	fi
	# Nothing of ours may be left: the postmaster's pid file is gone once it exited.
	[ ! -f "$DATA/postmaster.pid" ] || die "the cluster is still running ($DATA/postmaster.pid)"
	say "the demo is stopped (data kept in $DATA; delete $DEMO_DIR to start afresh)"
}

status() {
	resolve_paths
	if cluster_running; then echo "cluster: running ($DATA)"; else echo "cluster: stopped"; fi
	if generator_running; then echo "generator: running (pid $(cat "$GEN_PID"))"; else echo "generator: stopped"; fi
}

case "${1:-start}" in
	start) start ;;
	stop) stop ;;
	status) status ;;
	*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
