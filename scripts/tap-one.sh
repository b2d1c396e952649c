#!/bin/sh
# Runs TAP test files on their own, with logs under /tmp/tap-<name>, as the
# postgres user when started as root.  Usage: scripts/tap-one.sh t/010_query.pl ...
set -eu
cd "$(dirname "$0")/.."
name=$(basename "${1:-all}" .pl)
dir=/tmp/tap-$name-$$
pgxs=$(pg_config --pgxs | sed 's|/src/makefiles/pgxs.mk||')
cmd="ulimit -n \$(ulimit -Hn); ulimit -c unlimited; mkdir -p $dir/tmp_check/log && TESTDIR=$dir PATH=$(pg_config --bindir):\$PATH \
PG_REGRESS=$pgxs/src/test/regress/pg_regress prove -I $pgxs/src/test/perl -I t $*"
if [ "$(id -u)" -eq 0 ]; then
	exec su postgres -s /bin/sh -c "cd '$(pwd)' && $cmd"
fi
exec sh -c "$cmd"
