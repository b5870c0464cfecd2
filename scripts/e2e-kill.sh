#!/usr/bin/env bash
# Random kills (make soak): programs of six kinds killed at random times and
# in random order (scripts/py/kill_torture.py), over the engine's own
# loopback and over real UDP; afterwards the daemon must hold no socket,
# endpoint or association within 5 s (nothing leaks from a process that
# dies, whatever it was doing). Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
bin=$(dirname "$lib")
here=$(cd "$(dirname "$0")" && pwd)
rounds=${KILL_ROUNDS:-10}
pass=0; fail=0
result() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
if [ "${SCTPSHIM_ENGINE:-daemon}" != daemon ]; then
  echo "e2e-kill: skipped (SCTPSHIM_ENGINE=${SCTPSHIM_ENGINE}: no shared engine)"; exit 0
fi
for mode in engine udp; do
  export SCTPSHIM_INSTANCE="e2e-kill-$$-$mode"
  if [ $mode = udp ]; then export SCTPSHIM_LOOPBACK=udp; else unset SCTPSHIM_LOOPBACK; fi
  base=$(( 20000 + RANDOM % 20000 ))
  seed=$RANDOM
  out=$(LD_PRELOAD=$lib timeout 600 python3 "$here/py/kill_torture.py" "$base" "$rounds" "$seed" 2>&1)
  left=""
  for _ in $(seq 50); do
    st=$("$bin/sctpshim" stat)
    left=$(echo "$st" | awk '/^SOCKETS/ {s=$2} /^ENDPOINTS|^ASSOCIATIONS|^TOTALS|^SOCKETS/ {sec=$1; next} sec=="ENDPOINTS" && $1 ~ /^[0-9]+$/ {e++} sec=="ASSOCIATIONS" && $1 ~ /^[0-9]+$/ {a++} END {if (e+a+s > 0) printf "%d endpoints, %d associations, %d sockets", e, a, s}')
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ "$out" = done ] && [ -z "$left" ]
  result "$rounds rounds of random kills ($mode, seed $seed): ${left:-nothing} left in the daemon" $?
  [ "$out" = done ] || echo "$out" | tail -5
done
echo "e2e-kill: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
