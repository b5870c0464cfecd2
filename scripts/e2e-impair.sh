#!/usr/bin/env bash
# The built-in impairment (SCTPSHIM_IMPAIR) end to end: unmodified socat
# moves a random file through loss, duplication, reordering, delay with
# jitter and corruption applied by both ends (so each direction is impaired
# twice); it must arrive byte-identical (corrupted datagrams are dropped by
# the CRC32c check, lost ones retransmitted). Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
size_mb=${IMPAIR_MB:-4}
command -v socat >/dev/null || { echo "socat missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
head -c "${size_mb}M" /dev/urandom > "$work/in.bin"
pass=0; fail=0
port=$(( 20000 + RANDOM % 20000 ))
spec="loss=5%,dup=1%,reorder=2%,delay=1ms,jitter=1ms,corrupt=0.1%"
export SCTPSHIM_RTO_MIN_MS=100
LD_PRELOAD=$lib SCTPSHIM_IMPAIR="$spec,seed=11" timeout 120 \
  socat -u "SCTP-LISTEN:$port,reuseaddr,bind=127.0.0.1" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
srv=$!
sleep 0.5
start=$(date +%s%N)
LD_PRELOAD=$lib SCTPSHIM_IMPAIR="$spec,seed=12" timeout 120 \
  socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:127.0.0.1:$port" 2>"$work/cli.err"
rc=$?
end=$(date +%s%N)
wait $srv
if [ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin"; then
  pass=$((pass + 1))
  echo "ok   socat ${size_mb} MiB through SCTPSHIM_IMPAIR=$spec on both ends ($(( (end - start) / 1000000 )) ms)"
else
  fail=$((fail + 1))
  echo "FAIL socat ${size_mb} MiB through SCTPSHIM_IMPAIR=$spec (rc $rc)"
  tail -3 "$work/srv.err" "$work/cli.err"
fi
# The standalone proxy: unimpaired peers, the proxy impairs both ways and
# rewrites the SCTP port (the client connects to the proxy's port).
proxy=$(dirname "$lib")/sctpshim-impair
if [ -x "$proxy" ]; then
  port=$((port + 2))
  rm -f "$work/out.bin"
  unset SCTPSHIM_IMPAIR
  LD_PRELOAD=$lib timeout 120 socat -u "SCTP-LISTEN:$port,reuseaddr,bind=127.0.0.1" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
  srv=$!
  timeout 120 "$proxy" --listen "127.0.0.1:$((port + 1))" --to "127.0.0.1:$port" --impair "$spec,seed=5" 2>"$work/proxy.err" &
  px=$!
  sleep 0.5
  start=$(date +%s%N)
  LD_PRELOAD=$lib timeout 120 socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:127.0.0.1:$((port + 1))" 2>"$work/cli.err"
  rc=$?
  end=$(date +%s%N)
  wait $srv
  kill $px 2>/dev/null; wait $px 2>/dev/null
  if [ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin"; then
    pass=$((pass + 1))
    echo "ok   socat ${size_mb} MiB through sctpshim-impair ($spec) ($(( (end - start) / 1000000 )) ms)"
  else
    fail=$((fail + 1))
    echo "FAIL socat ${size_mb} MiB through sctpshim-impair (rc $rc)"
    tail -3 "$work/srv.err" "$work/cli.err" "$work/proxy.err"
  fi
else
  fail=$((fail + 1)); echo "FAIL $proxy not built"
fi

# A malformed value is reported and ignored, never fatal.
out=$(LD_PRELOAD=$lib SCTPSHIM_IMPAIR="loss=lots" checksctp 2>&1)
if echo "$out" | grep -q "SCTPSHIM_IMPAIR ignored" && echo "$out" | grep -q "SCTP supported"; then
  pass=$((pass + 1)); echo "ok   malformed SCTPSHIM_IMPAIR is reported and ignored"
else
  fail=$((fail + 1)); echo "FAIL malformed SCTPSHIM_IMPAIR: $out"
fi
echo "e2e-impair: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
