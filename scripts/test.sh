#!/bin/sh
# Runs every test suite of pg_dash: C unit tests and a short fuzz run of the
# parsers, pg_regress (SQL surface), TAP (HTTP, WebSocket, workers) and the
# browser tests.  Installs what the tests need first.  As root it builds and
# installs the extension, then runs the suites as the postgres user, since
# initdb refuses root.  Ends with one line: "total: N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

sh scripts/deps.sh test
if [ "$(id -u)" -eq 0 ]; then
	make -s
	make -s install >/dev/null
	chown -R postgres "$top"
	# the postgres user must be able to reach the checkout
	d="$top"; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
	exec su postgres -s /bin/sh -c "cd '$top' && sh scripts/run-suites.sh"
fi
make -s
sudo make -s install >/dev/null
exec sh scripts/run-suites.sh
