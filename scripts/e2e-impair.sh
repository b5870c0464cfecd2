#!/usr/bin/env bash
# Transfers through impaired paths, end to end with unmodified socat at both
# ends (both under the shim); each file must arrive byte-identical
# (corrupted datagrams are dropped by the CRC32c check, lost ones
# retransmitted, duplicates discarded). Prints "N passed, N failed".
#
#   1. the built-in impairment (SCTPSHIM_IMPAIR) in both peers, so each
#      direction is impaired twice: IMPAIR_MB MiB (default 4);
#   2. the standalone proxy (sctpshim-impair) between two unimpaired peers,
#      with issue 6's acceptance figures, 10% loss, 2% duplication, 2%
#      reordering, 0.1% corruption, each direction once: IMPAIR_PROXY_MB MiB
#      (default 256; `make soak` passes 1024).
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
size_mb=${IMPAIR_MB:-4}
proxy_mb=${IMPAIR_PROXY_MB:-256}
limit=${IMPAIR_TIMEOUT:-600}
command -v socat >/dev/null || { echo "socat missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
pass=0; fail=0
port=$(( 20000 + RANDOM % 20000 ))
# Loopback's RTT is well under a millisecond: an RTO floor of 20 ms (Linux
# allows down to 1 ms) keeps the rare timeout from costing a second.
export SCTPSHIM_RTO_MIN_MS=20

# transfer NAME MB SERVER_ENV CLIENT_ENV CONNECT_PORT [PROXY_SPEC]
transfer() {
  local name=$1 mb=$2 senv=$3 cenv=$4 to=$5 pspec=${6:-} px=
  head -c "${mb}M" /dev/urandom > "$work/in.bin"
  rm -f "$work/out.bin"
  env $senv LD_PRELOAD="$lib" timeout "$limit" \
    socat -u "SCTP-LISTEN:$port,reuseaddr,bind=127.0.0.1" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
  local srv=$!
  sleep 0.5
  if [ -n "$pspec" ]; then
    # The server's UDP port: the shared engine's (sctpshim stat), or with
    # SCTPSHIM_ENGINE=thread its SCTP port. The client sends to the proxy.
    local udp
    udp=$(bash "$(dirname "$0")/udp-port-of.sh" "$lib" "$port")
    timeout "$limit" "$proxy" --listen "127.0.0.1:$to" --to "127.0.0.1:$udp" --sctp-to "$port" \
      --impair "$pspec" 2>"$work/proxy.err" &
    px=$!
    cenv="$cenv SCTPSHIM_REMOTE_UDP_PORT=$to"
    sleep 0.3
  fi
  local start end rc
  start=$(date +%s%N)
  env $cenv LD_PRELOAD="$lib" timeout "$limit" \
    socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:127.0.0.1:$to" 2>"$work/cli.err"
  rc=$?
  wait $srv
  end=$(date +%s%N)
  [ -n "$px" ] && { kill "$px" 2>/dev/null; wait "$px" 2>/dev/null; }
  local ms=$(( (end - start) / 1000000 ))
  if [ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin"; then
    pass=$((pass + 1))
    echo "ok   socat $mb MiB through $name ($ms ms, $(awk "BEGIN{printf \"%.1f\", $mb*1000/($ms+1)}") MiB/s)"
  else
    fail=$((fail + 1))
    echo "FAIL socat $mb MiB through $name (rc $rc, $ms ms)"
    tail -3 "$work/srv.err" "$work/cli.err" "$work/proxy.err" 2>/dev/null
  fi
  rm -f "$work/in.bin" "$work/out.bin"
  port=$((port + 2))
}

spec="loss=5%,dup=1%,reorder=2%,delay=1ms,jitter=1ms,corrupt=0.1%"
transfer "SCTPSHIM_IMPAIR=$spec on both ends" "$size_mb" \
  "SCTPSHIM_IMPAIR=$spec,seed=11" "SCTPSHIM_IMPAIR=$spec,seed=12" "$port"

proxy=$(dirname "$lib")/sctpshim-impair
pspec="loss=10%,dup=2%,reorder=2%,corrupt=0.1%"
if [ -x "$proxy" ]; then
  transfer "sctpshim-impair ($pspec)" "$proxy_mb" "" "" "$((port + 1))" "$pspec,seed=5"
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
