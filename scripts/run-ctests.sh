#!/usr/bin/env bash
# Runs each C test program under LD_PRELOAD of the shim and prints a
# "N passed, N failed" summary line. Usage: run-ctests.sh LIB PROG...
# CTEST_TIMEOUT: seconds each program may take (default 120).
set -u
limit=${CTEST_TIMEOUT:-120}
lib=$(realpath "$1"); shift
pass=0; fail=0
for t in "$@"; do
  if timeout "$limit" env LD_PRELOAD="$lib" "$t" >"$t.log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $(basename "$t")"
  else
    fail=$((fail + 1)); echo "FAIL $(basename "$t")"; sed 's/^/    /' "$t.log" | tail -20
  fi
done
echo "c-tests (engine: ${SCTPSHIM_ENGINE:-daemon}): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
