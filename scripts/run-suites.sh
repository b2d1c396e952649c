#!/bin/sh
# Runs each suite, keeps going after a failure, and sums the results.
# Called by scripts/test.sh as a non-root user.
set -u
cd "$(dirname "$0")/.."
export PATH="/usr/lib/postgresql/15/bin:$PATH"
# the WebSocket load test holds 1,000 clients in one process
ulimit -n "$(ulimit -H -n)" 2>/dev/null || true
mkdir -p artifacts
passed=0
failed=0

# add "N passed, N failed" found in the last line of a log
tally() {
	line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	p=$(echo "$line" | awk '{print $1}')
	f=$(echo "$line" | awk '{print $3}')
	if [ -z "$p" ]; then failed=$((failed + 1)); echo "$2: no result line"; return; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "$2: exited $3"; fi
}

echo "=== unit tests (ASan/UBSan)"
make -s -C test/unit run > artifacts/unit.log 2>&1; rc=$?
cat artifacts/unit.log | tail -n 20
tally artifacts/unit.log unit $rc

echo "=== fuzz (short run of every target)"
if make -s -C test/unit fuzz-run FUZZ_SECONDS=${FUZZ_SECONDS:-10} > artifacts/fuzz.log 2>&1; then
	cat artifacts/fuzz.log; echo "fuzz: $(grep -c '^fuzzing' artifacts/fuzz.log) passed, 0 failed" | tee -a artifacts/fuzz.log
else
	tail -n 60 artifacts/fuzz.log; echo "fuzz: 0 passed, 1 failed" >> artifacts/fuzz.log
fi
tally artifacts/fuzz.log fuzz 0

echo "=== pg_regress"
make -s installcheck TAP_TESTS= > artifacts/regress.log 2>&1; rc=$?
cat artifacts/regress.log | grep -E '^(ok|not ok|test |     |=|#)|tests|failed' | tail -n 40
[ -f regression.diffs ] && head -n 80 regression.diffs
n_ok=$(grep -cE '^ok |^test .* \.\.\. ok|  ok  ' artifacts/regress.log || true)
n_bad=$(grep -cE '^not ok |FAILED|\.\.\. failed' artifacts/regress.log || true)
echo "regress: $n_ok passed, $n_bad failed" | tee -a artifacts/regress.log
tally artifacts/regress.log regress $rc

echo "=== TAP"
# two files at a time: each starts its own clusters on free ports, and most
# of a file's time is spent waiting, so the two cores stay busy
make -s tap PROVE_FLAGS="-I t --timer -j2" > artifacts/tap.log 2>&1; rc=$?
cat artifacts/tap.log | grep -vE '^\s*$' | tail -n 60
tp=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' artifacts/tap.log | tail -n 1)
tf=$(grep -cE '^not ok' tmp_check/log/regress_log_* 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')
[ -z "$tp" ] && tp=0
[ "$rc" -ne 0 ] && [ "$tf" -eq 0 ] && tf=1
echo "tap: $((tp - tf)) passed, $tf failed" | tee -a artifacts/tap.log
tally artifacts/tap.log tap 0

echo "=== demo command twice, then stop (1 % of the data)"
DEMO_TWICE=1 DEMO_SKIP_BUILD=1 sh test/demo_twice.sh > artifacts/demo.log 2>&1; rc=$?
tail -n 20 artifacts/demo.log
tally artifacts/demo.log demo $rc

if [ -d test/browser ]; then
	echo "=== browser (headless chromium)"
	sh scripts/run-browser-tests.sh > artifacts/browser.log 2>&1; rc=$?
	tail -n 70 artifacts/browser.log
	tally artifacts/browser.log browser $rc
fi

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
