#!/usr/bin/env bash
# Network faults between two network namespaces this script creates (veth
# pair 10.201.0.1 <-> 10.201.0.2), both ends under the shim, cleaned up on
# exit; traffic only on the namespaces' own addresses:
#  1. nftables drops 5% of the SCTP/UDP datagrams at random (numgen) in
#     both directions: socat moves a file byte-identical anyway;
#  2. the link goes down in the middle of a transfer: the sender is told
#     (socat fails) within the RTO/Max.Retrans budget, without spinning.
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
  ip netns exec $n nft add rule inet loss input udp dport $port numgen random mod 100 lt 5 drop
  ip netns exec $n nft add rule inet loss input udp sport $port numgen random mod 100 lt 5 drop
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
[ $rc -eq 0 ] && cmp -s "$work/in.bin" "$work/out.bin"
result "4 MiB between namespaces through 5% random drops each way (nftables numgen), byte-identical ($(( (end - start) / 1000000 )) ms)" $?
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
# under 10 s; the exit status must be an error, not timeout's 124.
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt 10000 ]
result "link down mid-transfer: the sender fails after ${took} ms (rc $rc)" $?

echo "e2e-netns: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
