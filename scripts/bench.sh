#!/usr/bin/env bash
# make bench: bulk throughput over loopback, from one run, as ratios.
#   TCP            iperf3 (kernel TCP, no shim)
#   shim           iperf3 --sctp, both ends under the shim (one shared
#                  engine: packets pass from association to association)
#   shim (UDP)     the same with SCTPSHIM_LOOPBACK=udp (real UDP datagrams)
#   usrsctp        tsctp client -> tsctp server (usrsctp, UDP encapsulation)
#   usrsctp->shim  tsctp client -> socat under the shim
# BENCH_SECONDS sets each run's length (default 5). A benchmark, not a test:
# it fails only when a tool fails. Debian's tsctp turns usrsctp's debug
# output on (a line per packet event), which would handicap it: a small
# preloaded library makes that call do nothing.
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
secs=${BENCH_SECONDS:-5}
tsctp=${TSCTP:-/usr/lib/usrsctp/tsctp}
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
printf '#include <stdint.h>\nvoid usrsctp_sysctl_set_sctp_debug_on(uint32_t v) { (void)v; }\n' > "$work/nodebug.c"
cc -shared -fPIC -o "$work/nodebug.so" "$work/nodebug.c" || exit 1
quiet="env LD_PRELOAD=$work/nodebug.so"
port=$(( 20000 + RANDOM % 20000 ))

iperf() { # extra args...; prints receiver Mbit/s
  local p=$((port += 1))
  "$@" iperf3 -s -1 -p $p >/dev/null 2>&1 &
  sleep 0.5
  "$@" iperf3 -c 127.0.0.1 -p $p -t "$secs" -f m $IPERF_ARGS 2>/dev/null | awk '/receiver/ {print $(NF-2)}'
  wait
}

IPERF_ARGS="" tcp=$(iperf env)
IPERF_ARGS="--sctp" shim=$(iperf env LD_PRELOAD="$lib")
# The same through real UDP on loopback (no hand-over inside the engine).
IPERF_ARGS="--sctp" shim_udp=$(iperf env LD_PRELOAD="$lib" SCTPSHIM_LOOPBACK=udp)
usr=""; mixed=""
if [ -x "$tsctp" ]; then
  p=$((port += 1))
  $quiet "$tsctp" -E $p -p $p >/dev/null 2>&1 &
  sleep 0.5
  usr=$($quiet "$tsctp" -E $((p + 20000)) -U $p -p $p -l 8192 -T "$secs" 127.0.0.1 2>/dev/null |
    awk '/Throughput was/ {printf "%.0f", $3 * 8 / 1e6}')
  kill %% 2>/dev/null; wait 2>/dev/null
  p=$((port += 1))
  LD_PRELOAD=$lib socat -u "SCTP-LISTEN:$p,reuseaddr,bind=127.0.0.1" OPEN:/dev/null &
  sleep 0.5
  # tsctp sends to the UDP port that carries the shim's SCTP port p.
  u=$(bash "$(dirname "$0")/udp-port-of.sh" "$lib" $p)
  mixed=$($quiet "$tsctp" -E $((p + 20000)) -U $u -p $p -l 8192 -T "$secs" 127.0.0.1 2>/dev/null |
    awk '/Throughput was/ {printf "%.0f", $3 * 8 / 1e6}')
  wait 2>/dev/null
fi
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
printf '%-16s %10s %8s %10s\n' "path" "Mbit/s" "/TCP" "/usrsctp"
for row in "TCP:$tcp" "shim:$shim" "shim (UDP):$shim_udp" "usrsctp:$usr" "usrsctp->shim:$mixed"; do
  name=${row%%:*}; v=${row#*:}
  printf '%-16s %10s %8s %10s\n' "$name" "${v:--}" "$(ratio "$v" "$tcp")" "$(ratio "$v" "$usr")"
done
[ -n "$tcp" ] && [ -n "$shim" ]
