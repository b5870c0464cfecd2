#!/usr/bin/env bash
# Interoperation with usrsctp (RFC 6951 UDP encapsulation on both sides):
# usrsctp's own throughput tool, tsctp (Debian's libusrsctp-examples),
# against unmodified socat under the shim, each way. usrsctp listens and
# sends on the UDP port given with -E and sends to the one given with -U;
# the shim sends to the port SCTPSHIM_REMOTE_UDP_PORT says, and receives on
# its engine's port (scripts/udp-port-of.sh).
# Then PPIDs each way between a usrsctp client and a server under the shim.
# Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
tsctp=${TSCTP:-/usr/lib/usrsctp/tsctp}
[ -x "$tsctp" ] || { echo "tsctp missing (libusrsctp-examples)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; shift; for f in "$@"; do grep -v '^\[' "$f" | tail -5; done; }
port=$(( 20000 + RANDOM % 20000 ))

# 1. socat (shim) sends a file to a usrsctp server: tsctp's summary line
# (message size, messages, ..., bytes, seconds, bytes/s, lost) must count
# every byte once the association has ended.
head -c 4000000 /dev/urandom > "$work/in.bin"
timeout 60 "$tsctp" -E "$port" -p "$port" > "$work/srv.log" 2>&1 &
sleep 0.5
SCTPSHIM_REMOTE_UDP_PORT=$port LD_PRELOAD=$lib timeout 30 socat -u "OPEN:$work/in.bin" "SCTP-CONNECT:127.0.0.1:$port" 2>"$work/cli.err"
rc=$?
got=""
for _ in $(seq 50); do
  got=$(grep -aE '^[0-9]+, [0-9]+, [0-9]+, [0-9]+, ' "$work/srv.log" | head -1 | cut -d, -f4 | tr -d ' ')
  [ -n "$got" ] && break
  sleep 0.1
done
kill %1 2>/dev/null; wait 2>/dev/null
if [ $rc -eq 0 ] && [ "$got" = 4000000 ]; then
  ok "socat (shim) -> usrsctp tsctp server, 4 MB"
else
  bad "socat (shim) -> usrsctp tsctp server, 4 MB (rc=$rc, server counted '${got}')" "$work/cli.err" "$work/srv.log"
fi

# 2, 3. A usrsctp client sends 2,000 messages of 1,000 bytes (ordered, then
# unordered) to socat (shim): all 2,000,000 bytes arrive.
for mode in ordered unordered; do
  port=$((port + 1))
  flag=""; [ $mode = unordered ] && flag=-u
  rm -f "$work/out.bin"
  LD_PRELOAD=$lib timeout 60 socat -u "SCTP-LISTEN:$port,reuseaddr,bind=127.0.0.1" "OPEN:$work/out.bin,creat,trunc" 2>"$work/srv.err" &
  srv=$!
  sleep 0.5
  udp=$(bash "$(dirname "$0")/udp-port-of.sh" "$lib" "$port")
  timeout 30 "$tsctp" -E $((port + 20000)) -U "$udp" -p "$port" -l 1000 -n 2000 $flag 127.0.0.1 > "$work/cli.log" 2>&1
  rc=$?
  wait $srv
  src=$?
  size=$(stat -c %s "$work/out.bin" 2>/dev/null || echo 0)
  if [ $rc -eq 0 ] && [ $src -eq 0 ] && [ "$size" = 2000000 ]; then
    ok "usrsctp tsctp client ($mode) -> socat (shim), 2000 x 1000 B"
  else
    bad "usrsctp tsctp client ($mode) -> socat (shim) (rc=$rc/$src, $size bytes)" "$work/cli.log" "$work/srv.err"
  fi
done
# 4. PPIDs are opaque: a usrsctp client sends PPIDs in network byte order
# (htonl(7) is 00 00 00 07 on the wire, usrsctp does not swap), each also
# as the payload; the server under the shim must read the payload's bytes
# in rcv_ppid and echoes with that PPID, which the client checks the same
# way (c-tests/interop/).
port=$((port + 1))
if cc -O1 -Iinclude -o "$work/ppid_echo" c-tests/interop/ppid_echo.c -pthread 2>"$work/cc.err" &&
   cc -O1 -o "$work/ppid_usrsctp" c-tests/interop/ppid_usrsctp.c -lusrsctp -pthread 2>>"$work/cc.err"; then
  LD_PRELOAD=$lib timeout 30 "$work/ppid_echo" "$port" > "$work/echo.log" 2>&1 &
  srv=$!
  sleep 0.5
  udp=$(bash "$(dirname "$0")/udp-port-of.sh" "$lib" "$port")
  timeout 20 "$work/ppid_usrsctp" "$port" $((port + 20000)) "$udp" > "$work/cli.log" 2>&1
  rc=$?
  wait $srv
  src=$?
  if [ $rc -eq 0 ] && [ $src -eq 0 ]; then
    ok "PPID byte order: usrsctp client <-> shim server, 6 PPIDs each way"
  else
    bad "PPID byte order: usrsctp client <-> shim server (rc=$rc/$src)" "$work/cli.log" "$work/echo.log"
  fi
else
  bad "PPID byte order: building the peers (libusrsctp-dev)" "$work/cc.err"
fi
echo "e2e-usrsctp: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
