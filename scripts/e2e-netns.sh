#!/usr/bin/env bash
# Network faults between two network namespaces this script creates (veth
# pair 10.201.0.1 <-> 10.201.0.2), both ends under the shim, cleaned up on
# exit; traffic only on the namespaces' own addresses:
#  1. nftables drops 5% of the SCTP/UDP datagrams at random (numgen) in
#     both directions: socat moves a file byte-identical anyway;
#  2. the link goes down in the middle of a transfer: the sender is told
#     (socat fails) within the RTO/Max.Retrans budget, without spinning.
#  3. a router namespace between a 9000-byte link and a 1400-byte one:
#     path MTU discovery by ICMP, no IP fragmentation of the transfer.
# Needs root (ip netns, nft); skips with a message otherwise.
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
pass=0; fail=0
result() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
# Probe everything the test needs (root, namespaces, veth, nftables with
# numgen) and skip, saying why, where the machine does not allow it.
probe() {
  [ "$(id -u)" = 0 ] && command -v nft >/dev/null && ip netns add sctpshim-probe 2>/dev/null || return 1
  local ok=0
  ip netns exec sctpshim-probe ip link add sp0 type veth peer name sp1 2>/dev/null &&
    ip netns exec sctpshim-probe nft add table inet probe 2>/dev/null &&
    ip netns exec sctpshim-probe nft add chain inet probe c '{ type filter hook input priority 0; }' 2>/dev/null &&
    ip netns exec sctpshim-probe nft add rule inet probe c udp dport 9 numgen random mod 100 lt 5 drop 2>/dev/null || ok=1
  ip netns del sctpshim-probe
  return $ok
}
if ! probe; then
  echo "e2e-netns: skipped (needs root, ip netns, veth and nftables numgen)"; exit 0
fi
A=sctpshim-a$$; B=sctpshim-b$$
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add va$$ netns $A type veth peer name vb$$ netns $B
ip -n $A addr add 10.201.0.1/24 dev va$$; ip -n $B addr add 10.201.0.2/24 dev vb$$
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set va$$ up; ip -n $B link set vb$$ up
port=$(( 20000 + RANDOM % 20000 ))
inA() { ip netns exec $A env LD_PRELOAD="$lib" "$@"; }
inB() { ip netns exec $B env LD_PRELOAD="$lib" "$@"; }

# 1. Random loss both ways.
head -c 4M /dev/urandom > "$work/in.bin"
for n in $A $B; do
  ip netns exec $n nft add table inet loss
  ip netns exec $n nft add chain inet loss input '{ type filter hook input priority 0; }'
  # (The shared engine carries every SCTP port in UDP port 9899.)
  ip netns exec $n nft add rule inet loss input udp dport 9899 numgen random mod 100 lt 5 counter drop
done
export SCTPSHIM_RTO_MIN_MS=100
inB timeout 120 socat -u "SCTP-LISTEN:$port,reuseaddr,bind=10.201.0.2" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
srv=$!
sleep 0.5
start=$(date +%s%N)
inA timeout 120 socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:10.201.0.2:$port,bind=10.201.0.1:$port" 2>"$work/cli.err"
rc=$?
end=$(date +%s%N)
wait $srv
dropped=$(ip netns exec $A nft list table inet loss | grep -o 'packets [0-9]*' | awk '{print $2}')
[ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin" && [ "${dropped:-0}" -gt 0 ]
result "4 MiB between namespaces through 5% random drops each way (nftables numgen, ${dropped:-0} dropped at A), byte-identical ($(( (end - start) / 1000000 )) ms)" $?
for n in $A $B; do ip netns exec $n nft delete table inet loss; done

# 2. The link dies mid-transfer.
port=$((port + 1))
export SCTPSHIM_RTO_MAX_MS=400 SCTPSHIM_MAX_RETRANS=4
inB timeout 60 socat -u "SCTP-LISTEN:$port,reuseaddr,bind=10.201.0.2" OPEN:/dev/null 2>/dev/null &
sleep 0.5
inA timeout 60 socat -u /dev/zero "SCTP-CONNECT:10.201.0.2:$port,bind=10.201.0.1:$port" 2>"$work/dead.err" &
cli=$!
sleep 1
ip -n $A link set va$$ down
down=$(date +%s%N)
wait $cli
rc=$?
took=$(( ($(date +%s%N) - down) / 1000000 ))
# Budget: 4 retransmissions at RTO.Max 400 ms plus the first RTOs, well
# under 10 s; the exit status must be socat's error, not timeout's 124
# nor a signal's (a crash of the shim at exit once gave 134).
[ $rc -ne 0 ] && [ $rc -lt 124 ] && [ $took -lt 10000 ]
result "link down mid-transfer: the sender fails after ${took} ms (rc $rc)" $?

# 3. Path MTU discovery through a router: A's link has MTU 9000, the
# router's link to B 1400. A starts with its route's 9000; the router's
# ICMP "fragmentation needed" (read through IP_RECVERR) or the kernel's
# EMSGSIZE lowers the path to 1400. The file arrives whole, and B sees
# IP fragments only for chunks built before the smaller MTU was known
# (RFC 9260 §7.3): a handful, not the transfer. (B counts packets as
# they arrive: segmentation offload may carry several datagrams in one.)
unset SCTPSHIM_RTO_MAX_MS SCTPSHIM_MAX_RETRANS
R=sctpshim-r$$
ip netns add $R
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; for n in $A $B $R; do ip netns del $n 2>/dev/null; done; rm -rf "$work"; }
ip link add ma$$ netns $A mtu 9000 type veth peer name ra$$ netns $R mtu 9000
ip link add rb$$ netns $R mtu 1400 type veth peer name mb$$ netns $B mtu 1400
ip -n $A addr add 10.202.0.1/24 dev ma$$; ip -n $R addr add 10.202.0.254/24 dev ra$$
ip -n $R addr add 10.203.0.254/24 dev rb$$; ip -n $B addr add 10.203.0.2/24 dev mb$$
for d in "$A ma$$" "$R ra$$" "$R rb$$" "$B mb$$" "$R lo"; do ip -n ${d% *} link set ${d#* } up; done
ip -n $A route add 10.203.0.0/24 via 10.202.0.254
ip -n $B route add 10.202.0.0/24 via 10.203.0.254
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip netns exec $B nft add table inet pmtucount
ip netns exec $B nft add chain inet pmtucount input '{ type filter hook prerouting priority -400; }'
ip netns exec $B nft add rule inet pmtucount input ip saddr 10.202.0.1 'ip frag-off & 0x3fff != 0' counter
ip netns exec $B nft add rule inet pmtucount input ip saddr 10.202.0.1 counter
port=$((port + 1))
head -c 32M /dev/urandom > "$work/in.bin"
inB timeout 120 socat -u "SCTP-LISTEN:$port,reuseaddr,bind=10.203.0.2" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
srv=$!
sleep 0.5
inA timeout 120 socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:10.203.0.2:$port" 2>"$work/cli.err"
rc=$?
wait $srv
counts=$(ip netns exec $B nft list table inet pmtucount | grep -o 'packets [0-9]*' | awk '{print $2}' | tr '\n' ' ')
frags=${counts%% *}; all=$(echo $counts | awk '{print $2}')
[ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin" && [ "${frags:-999}" -le 64 ] && [ "${all:-0}" -gt 500 ]
result "32 MiB through a router onto an MTU-1400 link (A's link 9000): path MTU lowered, byte-identical; IP fragments at B: ${frags:-?} of ${all:-?} packets" $?

echo "e2e-netns: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
