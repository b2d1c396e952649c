#!/bin/sh
# Browser tests of the front end (test/browser/*.test.mjs) in headless
# chromium driven by playwright-core, against a throw-away cluster.
#
# Creates a cluster under /tmp (initdb refuses root: run as a normal user;
# as root it re-runs itself as postgres), starts it with
# shared_preload_libraries = 'pg_dash' on free ports, loads
# test/browser/setup.sql, runs the tests with PG_DASH_URL set, saves
# screenshots in artifacts/screenshots/, stops the cluster and prints
# "N passed, N failed" last.  BROWSER_TESTS="test/browser/x.test.mjs ..."
# runs only those files.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" = 0 ]; then
	chown -R postgres "$ROOT" 2>/dev/null || true
	exec su postgres -c "sh '$ROOT/scripts/run-browser-tests.sh'"
fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PATH="$PGBIN:$PATH"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

fail_setup() {
	echo "browser: $1"
	echo "0 passed, 1 failed"
	exit 1
}

[ -x "$CHROMIUM" ] || fail_setup "$CHROMIUM is missing (apt-get install chromium)"
{ [ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ]; } || npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
	fail_setup "npm install failed"
[ -d node_modules/playwright-core ] || fail_setup "node_modules/playwright-core is missing (npm install)"

# A free TCP port (asks the kernel, then checks it is not taken).
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

WORK=$(mktemp -d /tmp/pg_dash-browser.XXXXXX)
DATA="$WORK/data"
PGPORT=$(free_port)
HTTPPORT=$(free_port)
while [ "$HTTPPORT" = "$PGPORT" ]; do HTTPPORT=$(free_port); done
export PGPORT PGHOST="$WORK" PGDATABASE=postgres

cleanup() {
	if [ -f "$DATA/postmaster.pid" ]; then
		pg_ctl -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
	fi
	[ -f "$DATA/log" ] && cp "$DATA/log" "$ROOT/artifacts/browser-postgres.log" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p artifacts/screenshots
# The front end under test is this tree's (www/ plus the npm libraries).
sh scripts/build-www.sh >"$WORK/build-www.log" 2>&1 || { cat "$WORK/build-www.log"; fail_setup "scripts/build-www.sh failed"; }
initdb -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
	{ cat "$WORK/initdb.log"; fail_setup "initdb failed"; }
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PGPORT
shared_preload_libraries = 'pg_dash'
pg_dash.port = $HTTPPORT
pg_dash.listen_addresses = '127.0.0.1'
pg_dash.database = 'postgres'
pg_dash.role = 'dash_web'
pg_dash.workers = 2
pg_dash.max_rows = 200000
pg_dash.statement_timeout = '30s'
pg_dash.www_dir = '$ROOT/build/www'
fsync = off
max_wal_size = 4GB
CONF
pg_ctl -D "$DATA" -l "$DATA/log" -w -t 60 start >/dev/null || { tail -n 40 "$DATA/log"; fail_setup "the cluster did not start"; }

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE dash_web NOLOGIN" -c "CREATE EXTENSION pg_dash" >"$WORK/setup.log" 2>&1 ||
	{ cat "$WORK/setup.log"; fail_setup "CREATE EXTENSION pg_dash failed"; }
# setup.sql goes on past errors so that the parts whose server side exists
# are there; what failed is shown here.
psql -X -q -f test/browser/setup.sql >>"$WORK/setup.log" 2>&1
grep -E 'ERROR|FATAL' "$WORK/setup.log" | sed 's/^/setup.sql: /' | head -n 20

# The fixture pages as they are now (setup.sql holds copies as a fallback).
FIXTURES=${PG_DASH_FIXTURES:-}
for d in /work/shared/fixtures/pages "$ROOT/../shared/fixtures/pages"; do
	[ -z "$FIXTURES" ] && [ -d "$d" ] && FIXTURES=$d
done
if [ -n "$FIXTURES" ]; then
	for f in "$FIXTURES"/*.md; do
		name=$(basename "$f" .md)
		[ "$name" = README ] && continue
		echo "SELECT pg_dash.define_page(:'name', :'src');" |
			psql -X -q -v ON_ERROR_STOP=1 -v name="$name" -v src="$(cat "$f")" >/dev/null 2>>"$WORK/setup.log" ||
			echo "fixture $name: define_page failed"
	done
	export PG_DASH_FIXTURES="$FIXTURES"
fi

export PG_DASH_URL="http://127.0.0.1:$HTTPPORT"
export PG_DASH_PSQL="psql -X -q -h $WORK -p $PGPORT -d postgres"
export PG_DASH_SCREENSHOTS="$ROOT/artifacts/screenshots"
export CHROMIUM

# The HTTP server is up when /healthz answers.
i=0
until curl -fs "$PG_DASH_URL/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { tail -n 40 "$DATA/log"; fail_setup "pg_dash does not answer on $PG_DASH_URL"; }
	sleep 0.1
done

node --test --test-concurrency=1 --test-timeout=120000 ${BROWSER_TESTS:-test/browser/} >"$WORK/node-test.log" 2>&1
rc=$?
cat "$WORK/node-test.log"
# Each failure again at the end, with its reason, where a log's tail shows it.
awk '/^ *not ok /{n=1; print "FAILED:"; sub(/^ */, ""); print; next}
	n && /^ *\.\.\.$/{n=0; next}
	n && n++ < 25 {print}' "$WORK/node-test.log"
pass=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$WORK/node-test.log" | tail -n 1)
fail=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$WORK/node-test.log" | tail -n 1)
[ -z "$pass" ] && pass=0
[ -z "$fail" ] && fail=1
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
