#!/usr/bin/env bash
# Multi-homing between two network namespaces this script creates, joined
# by two veth pairs on different subnets (10.202.0.0/24 and 10.202.1.0/24),
# both ends under the shim, cleaned up on exit:
#  1. scripts/c/mhstream.c streams 100 MiB (MHSTREAM_MIB) from A to B, both
#     bound with sctp_bindx to their two addresses; the first link is cut
#     (nftables drops everything on it) in the middle of the transfer and
#     restored later. The transfer must finish byte-identical, the client
#     must hear ADDR_UNREACHABLE for the cut path within Path.Max.Retrans x
#     RTO.Max plus a heartbeat, and ADDR_AVAILABLE once it is back;
#     sctp_getpaddrs lists both of the peer's addresses on both sides.
#     The second link has MTU 1280 (the first 1500): messages are cut for
#     the smaller one from the start (as Linux's sctp_assoc_sync_pmtu), so
#     after the failover no IP fragment crosses it.
#  2. The same with IPv6 sockets bound to an IPv4 address on the first
#     link and an IPv6 address on the second (dual-stack association).
# Needs root (ip netns, veth, nft); skips with a message otherwise.
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
root=$(cd "$(dirname "$0")/.." && pwd)
mib=${MHSTREAM_MIB:-100}
pass=0; fail=0
result() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
probe() {
  [ "$(id -u)" = 0 ] && command -v nft >/dev/null && command -v cc >/dev/null &&
    ip netns add sctpshim-mhprobe 2>/dev/null || return 1
  local ok=0
  ip netns exec sctpshim-mhprobe ip link add mp0 type veth peer name mp1 2>/dev/null &&
    ip netns exec sctpshim-mhprobe nft add table inet probe 2>/dev/null || ok=1
  ip netns del sctpshim-mhprobe
  return $ok
}
if ! probe; then
  echo "e2e-multihome: skipped (needs root, cc, ip netns, veth and nftables)"; exit 0
fi
A=sctpshim-ma$$; B=sctpshim-mb$$
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -I"$root/include" -o "$work/mhstream" "$root/scripts/c/mhstream.c" -L"$(dirname "$lib")" -lsctpshim \
  -Wl,-rpath,"$(dirname "$lib")" || { echo "FAIL build scripts/c/mhstream.c"; exit 1; }
ip netns add $A; ip netns add $B
ip link add ma0$$ netns $A type veth peer name mb0$$ netns $B
ip link add ma1$$ netns $A mtu 1280 type veth peer name mb1$$ netns $B mtu 1280
ip -n $A addr add 10.202.0.1/24 dev ma0$$; ip -n $B addr add 10.202.0.2/24 dev mb0$$
ip -n $A addr add 10.202.1.1/24 dev ma1$$; ip -n $B addr add 10.202.1.2/24 dev mb1$$
for n in $A $B; do ip -n $n link set lo up; done
for l in ma0$$ ma1$$; do ip -n $A link set $l up; done
for l in mb0$$ mb1$$; do ip -n $B link set $l up; done
port=$(( 20000 + RANDOM % 20000 ))
# The second link has IPv6 addresses too (no duplicate address detection
# to wait for), for the dual-stack run.
ip -n $A addr add fd00:202:1::1/64 dev ma1$$ nodad; ip -n $B addr add fd00:202:1::2/64 dev mb1$$ nodad
# B counts what arrives over the second link, before reassembly.
ip netns exec $B nft add table inet mhcount
ip netns exec $B nft add chain inet mhcount pre '{ type filter hook prerouting priority -450; }'
ip netns exec $B nft add rule inet mhcount pre ip saddr 10.202.1.1 'ip frag-off & 0x3fff != 0' counter
ip netns exec $B nft add rule inet mhcount pre ip saddr 10.202.1.1 counter
ip netns exec $B nft add rule inet mhcount pre ip6 saddr fd00:202:1::1 'exthdr frag exists' counter
ip netns exec $B nft add rule inet mhcount pre ip6 saddr fd00:202:1::1 counter
inA() { ip netns exec $A env LD_PRELOAD="$lib" "$@"; }
inB() { ip netns exec $B env LD_PRELOAD="$lib" "$@"; }

# The cut: everything to or from the first subnet is dropped in A.
cut() {
  ip netns exec $A nft add table inet cut
  ip netns exec $A nft add chain inet cut in '{ type filter hook input priority 0; }'
  ip netns exec $A nft add chain inet cut out '{ type filter hook output priority 0; }'
  ip netns exec $A nft add rule inet cut in ip saddr 10.202.0.0/24 drop
  ip netns exec $A nft add rule inet cut out ip daddr 10.202.0.0/24 drop
}
mend() { ip netns exec $A nft delete table inet cut; }

# run NAME A2 B2 V6: A (10.202.0.1 + A2) streams to B (10.202.0.2 + B2);
# the first link is cut a third into the transfer (the client waits at
# its gate for it) and mended 4 s later. V6: count B's IPv6 input.
run() {
  local name=$1 a2=$2 b2=$3 v6=$4 crc src want counts frags all bytes t_unr cut_off after budget _
  port=$((port + 1))
  rm -f "$work/gate"
  ip netns exec $B nft reset counters table inet mhcount >/dev/null
  inB timeout 600 "$work/mhstream" server 10.202.0.2 "$b2" $port >"$work/srv.out" 2>"$work/srv.err" &
  local srvpid=$!
  sleep 0.5
  inA env MHSTREAM_GATE="$work/gate" timeout 600 "$work/mhstream" client 10.202.0.1 "$a2" 10.202.0.2 $port "$mib" >"$work/cli.out" 2>"$work/cli.err" &
  local clipid=$!
  for _ in $(seq 50); do grep -q connected "$work/cli.out" && break; sleep 0.1; done
  local up_at; up_at=$(date +%s%N)
  for _ in $(seq 300); do grep -q gate "$work/cli.out" && break; sleep 0.05; done
  local cut_at; cut_at=$(date +%s%N)
  cut
  touch "$work/gate"
  sleep 4
  mend
  wait $clipid; crc=$?
  wait $srvpid; src=$?
  cat "$work/cli.out" "$work/srv.out" | sed 's/^/  /'
  cat "$work/cli.err" "$work/srv.err" | head -5 | sed 's/^/  /'
  want=$((mib << 20))
  grep -q "^server ok $want " "$work/srv.out" && grep -q "^client ok $want " "$work/cli.out" && [ $crc -eq 0 ] && [ $src -eq 0 ]
  result "$name: $mib MiB over two links, the first cut for 4 s in the middle: byte-identical" $?
  grep -q "^server ok .* paddrs 2 " "$work/srv.out" && grep -q "^client ok .* paddrs 2 " "$work/cli.out"
  result "$name: sctp_getpaddrs lists both of the peer's addresses on both sides" $?
  # ADDR_UNREACHABLE for 10.202.0.2 on the client, timed from the cut
  # (the client's clock starts at connect, seen here within 0.1 s):
  # within (Path.Max.Retrans + 1) x RTO.Max, plus a heartbeat interval and
  # an RTO for an idle path's probe, plus 1 s of slack (mhstream.c's
  # settings: 2, 400 ms, 500 ms).
  t_unr=$(awk '$1 == "path" && $2 == "10.202.0.2" && $3 == "unreachable" {print $4; exit}' "$work/cli.out")
  cut_off=$(( (cut_at - up_at) / 1000000 ))
  after=$(awk -v t="${t_unr:-999}" -v c="$cut_off" 'BEGIN {printf "%d", t * 1000 - c}')
  budget=$(( 3 * 400 + 500 + 400 + 1000 ))
  [ -n "$t_unr" ] && [ "$after" -le "$budget" ]
  result "$name: the client hears ADDR_UNREACHABLE for the cut path ${after} ms after the cut (budget $budget ms)" $?
  grep -q '^path 10.202.0.2 available' "$work/cli.out"
  result "$name: and ADDR_AVAILABLE once the link is back" $?
  # (Counted as they arrive: a UDP GSO datagram crosses the veth as one.)
  counts=$(ip netns exec $B nft list table inet mhcount | grep -o 'packets [0-9]* bytes [0-9]*' | awk '{print $2, $4}' | tr '\n' ' ')
  if [ "$v6" = 1 ]; then
    read -r _ _ _ _ frags _ all bytes <<<"$counts"
  else
    read -r frags _ all bytes _ <<<"$counts"
  fi
  [ "${frags:-1}" -eq 0 ] && [ "${bytes:-0}" -gt $((4 << 20)) ]
  result "$name: the second link (MTU 1280) carried $(( ${bytes:-0} >> 20 )) MiB in ${all:-?} datagrams, ${frags:-?} IP fragments" $?
}

run IPv4 10.202.1.1 10.202.1.2 0
# Dual-stack: IPv6 sockets bound to an IPv4 and an IPv6 address each (the
# IPv4 peer address shown v4-mapped); the failover goes to IPv6.
run dual-stack fd00:202:1::1 fd00:202:1::2 1
echo "e2e-multihome: $pass passed, $fail failed"
[ $fail -eq 0 ]
