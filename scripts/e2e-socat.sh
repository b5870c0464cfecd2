#!/usr/bin/env bash
# End to end with unmodified socat, both ends under the shim: a random file
# through SCTP-CONNECT → SCTP-LISTEN over 127.0.0.1 and ::1 must arrive
# byte-identical once the sending socat has exited. Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
size_mb=${E2E_MB:-50}
command -v socat >/dev/null || { echo "socat missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
head -c "${size_mb}M" /dev/urandom > "$work/in.bin"
pass=0; fail=0
port=$(( 20000 + RANDOM % 20000 ))
for addr in 127.0.0.1 '[::1]'; do
  port=$((port + 1))
  if [ "$addr" = 127.0.0.1 ]; then listen="SCTP-LISTEN:$port,reuseaddr,bind=127.0.0.1"; connect="SCTP-CONNECT:127.0.0.1:$port"
  else listen="SCTP6-LISTEN:$port,reuseaddr,bind=[::1]"; connect="SCTP6-CONNECT:[::1]:$port"; fi
  rm -f "$work/out.bin"
  LD_PRELOAD=$lib timeout 120 socat -u "$listen" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
  srv=$!
  sleep 0.5
  start=$(date +%s%N)
  LD_PRELOAD=$lib timeout 120 socat -u "OPEN:$work/in.bin" "$connect" 2>"$work/cli.err"
  rc=$?
  end=$(date +%s%N)
  wait $srv
  if [ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin"; then
    pass=$((pass + 1))
    echo "ok   socat ${size_mb} MiB over $addr ($(( (end - start) / 1000000 )) ms)"
  else
    fail=$((fail + 1))
    echo "FAIL socat ${size_mb} MiB over $addr (rc=$rc)"; cat "$work/srv.err" "$work/cli.err" | tail -5
  fi
done
echo "e2e-socat: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
