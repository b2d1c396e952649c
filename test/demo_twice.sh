#!/bin/sh
# The demo command run twice, then stopped: the second start must find the
# running cluster and only reload the definitions, and stop must leave no
# process behind.  Heavy (builds and installs pg_dash, starts a cluster),
# so opt-in:
#
#   DEMO_TWICE=1 sh test/demo_twice.sh
#
# It uses its own folder, ports and a small data set (DEMO_SCALE=0.01);
# DEMO_SKIP_BUILD=1 skips the package/build/install step.  Prints
# "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "${DEMO_TWICE:-}" != 1 ]; then
	echo "test/demo_twice.sh: skipped (set DEMO_TWICE=1 to run it)"
	echo "0 passed, 0 failed"
	exit 0
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

export DEMO_DIR=$(mktemp -d /tmp/pg_dash-demo-twice.XXXXXX)
chmod 755 "$DEMO_DIR"
export DEMO_PORT=$(free_port) DEMO_PGPORT=$(free_port) DEMO_SCALE=${DEMO_SCALE:-0.01}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

# Whether a process runs (a zombie, waiting for an init that does not reap
# it, has ended).
alive() {
	st=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ')
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# Every process that belongs to this demo: the cluster's and the generator.
leftovers() {
	pgrep -f "$DEMO_DIR" 2>/dev/null | grep -v "^$$\$" || true
}

cleanup() {
	sh scripts/demo.sh stop >/dev/null 2>&1 || true
	rm -rf "$DEMO_DIR"
}
trap cleanup EXIT INT TERM

t0=$(date +%s)
sh scripts/demo.sh start >"$DEMO_DIR/start1.log" 2>&1
rc=$?
check "first start succeeds ($(($(date +%s) - t0)) s)" '[ $rc -eq 0 ]' || true
[ $rc -eq 0 ] || tail -n 30 "$DEMO_DIR/start1.log"
check "first start prints the URL" "grep -q 'http://localhost:$DEMO_PORT/' '$DEMO_DIR/start1.log'"
check "the pages are served" "curl -fs 'http://localhost:$DEMO_PORT/api/pages' | grep -q '\"demo/sales\"'"
gen1=$(cat "$DEMO_DIR/generator.pid" 2>/dev/null || echo none)
check "the generator runs" "alive $gen1"

t0=$(date +%s)
sh scripts/demo.sh start >"$DEMO_DIR/start2.log" 2>&1
rc=$?
check "second start succeeds ($(($(date +%s) - t0)) s)" '[ $rc -eq 0 ]'
check "second start finds the running cluster" "grep -q 'cluster is running' '$DEMO_DIR/start2.log'"
check "second start reloads the definitions" "grep -q 'reloading the demo definitions' '$DEMO_DIR/start2.log'"
gen2=$(cat "$DEMO_DIR/generator.pid" 2>/dev/null || echo none)
check "the second start restarts the generator" "alive $gen2 && ! alive $gen1"
check "only one generator session" "[ \"\$(psql -X -h '$DEMO_DIR/run' -p $DEMO_PGPORT -U postgres -d postgres -Atc \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dash_demo_generator'\")\" = 1 ]"
check "second start prints the URL" "grep -q 'http://localhost:$DEMO_PORT/' '$DEMO_DIR/start2.log'"
n1=$(curl -fs "http://localhost:$DEMO_PORT/api/query/iot_stats" | sed -n 's/.*"rows":\[\[\([0-9]*\)\]\].*/\1/p')
check "live data arrives (readings in the last minute: ${n1:-none})" "[ -n '$n1' ] && [ '$n1' -gt 0 ]"

sh scripts/demo.sh stop >"$DEMO_DIR/stop.log" 2>&1
check "stop succeeds" '[ $? -eq 0 ]'
sleep 0.5
check "the generator is gone" "! alive $gen1 && ! alive $gen2"
check "no process of the demo is left" "[ -z \"\$(leftovers)\" ]"
check "the HTTP port is closed" "! curl -fs -m 2 'http://localhost:$DEMO_PORT/healthz' >/dev/null 2>&1"
check "stop twice is harmless" "sh scripts/demo.sh stop >/dev/null 2>&1"

# The HTTPS variants (README): pg_dash's own TLS, then nginx at /dash/ in front.
DEMO_TLS=own DEMO_NO_GENERATOR=1 DEMO_SKIP_BUILD=1 sh scripts/demo.sh start >"$DEMO_DIR/tls.log" 2>&1
check "DEMO_TLS=own starts and prints an https URL" "grep -q 'https://localhost:$DEMO_PORT/' '$DEMO_DIR/tls.log'"
check "the pages are served over HTTPS, with HSTS" "curl -fsk -D - -o /dev/null 'https://localhost:$DEMO_PORT/api/pages' | grep -qi '^strict-transport-security'"
check "plain HTTP is not served on the TLS port" "! curl -fs -m 2 'http://localhost:$DEMO_PORT/healthz' >/dev/null 2>&1"
sh scripts/demo.sh stop >/dev/null 2>&1
export DEMO_NGINX_PORT=$(free_port)
DEMO_TLS=nginx DEMO_NO_GENERATOR=1 DEMO_SKIP_BUILD=1 sh scripts/demo.sh start >"$DEMO_DIR/nginx.log" 2>&1
check "DEMO_TLS=nginx starts and prints the URL under /dash/" "grep -q 'https://localhost:$DEMO_NGINX_PORT/dash/' '$DEMO_DIR/nginx.log'"
check "a page is served through nginx at /dash/" "curl -fsk 'https://localhost:$DEMO_NGINX_PORT/dash/p/demo/sales' | grep -q 'content=\"/dash\"'"
check "its API answers under /dash/" "curl -fsk 'https://localhost:$DEMO_NGINX_PORT/dash/api/pages' | grep -q '\"demo/sales\"'"
sh scripts/demo.sh stop >/dev/null 2>&1
sleep 0.5
check "stop ends nginx too" "[ -z \"\$(leftovers)\" ] && ! curl -fsk -m 2 'https://localhost:$DEMO_NGINX_PORT/dash/healthz' >/dev/null 2>&1"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
