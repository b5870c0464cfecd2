#!/usr/bin/env bash
# The shared engine (sctpshimd) seen from processes, with unmodified
# programs and Python:
#  1. Python's subprocess with an SCTP socket as the child's stdout (vfork +
#     dup2 + exec) and socket.dup();
#  2. `sctpshim stat` lists the endpoints and associations of every process
#     with their owners;
#  3. processes killed with SIGKILL while blocked in SCTP calls leave nothing
#     behind in the daemon, nor do one-to-many sockets of a killed process;
#  4. the daemon killed with SIGKILL: existing sockets fail as reset
#     connections, and the next socket() starts a fresh daemon.
# The checks use a daemon of their own (any SCTPSHIM_* variable gives its own
# engine). Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
bin=$(dirname "$lib")
here=$(cd "$(dirname "$0")" && pwd)
pass=0; fail=0
result() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
if [ "${SCTPSHIM_ENGINE:-daemon}" != daemon ]; then
  echo "e2e-process: skipped (SCTPSHIM_ENGINE=${SCTPSHIM_ENGINE}: no shared engine)"; exit 0
fi
export SCTPSHIM_INSTANCE="e2e-process-$$"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))
py() { LD_PRELOAD=$lib timeout 60 python3 "$here/py/process_checks.py" "$@"; }

out=$(py subprocess "$port" 2>&1)
echo "$out" | grep -q "^ok subprocess" && echo "$out" | grep -q "parent stdout still works"
result "Python subprocess(stdout=SCTP socket) and socket.dup()" $?

# 2. Two processes hold endpoints; stat names both owners.
port=$((port + 2))
LD_PRELOAD=$lib timeout 30 socat -u "SCTP-LISTEN:$port,bind=127.0.0.1" OPEN:/dev/null 2>/dev/null &
srv=$!
sleep 0.5
(sleep 3) | LD_PRELOAD=$lib timeout 10 socat -u - "SCTP-CONNECT:127.0.0.1:$port" 2>/dev/null &
cli=$!
sleep 0.5
st=$("$bin/sctpshim" stat)
# socat without fork closes its listener once it has accepted.
echo "$st" | grep -Eq "^ +$port " && [ "$(echo "$st" | grep -c ESTABLISHED)" -ge 2 ] \
  && echo "$st" | grep -q "^sctpshimd pid"
result "sctpshim stat lists both processes' endpoints and associations" $?
kill $srv $cli 2>/dev/null; wait $srv $cli 2>/dev/null

# 3. SIGKILL mid-call: processes blocked in accept and recv.
port=$((port + 2))
pids=()
for i in 0 1 2 3; do
  LD_PRELOAD=$lib python3 -c "
import socket, sys
p = int(sys.argv[1])
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132); l.bind(('127.0.0.1', p)); l.listen()
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132); c.connect(('127.0.0.1', p))
a, _ = l.accept()
c.sendall(b'x' * 100000)
print('ready', flush=True)
a.recv(1); l.accept()
" $((port + i)) > "$work/k$i" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3; do for _ in $(seq 50); do grep -q ready "$work/k$i" && break; sleep 0.1; done; done
busy=$("$bin/sctpshim" stat | sed -n 's/^SOCKETS //p')
kill -9 "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
left=x
for _ in $(seq 100); do
  left=$("$bin/sctpshim" stat | sed -n 's/^SOCKETS //p')
  [ "${left:-0}" = 0 ] && break
  sleep 0.1
done
[ "${busy:-0}" -ge 12 ] && [ "${left:-0}" = 0 ]
result "4 processes killed mid-call holding $busy sockets: ${left:-0} left in the daemon" $?

# 3b. One-to-many sockets of a killed process leave the daemon at once,
#     with their receive buffer full or with nothing unread, while the
#     peer's process lives on (nothing else wakes the engine).
port=$((port + 10))
out=$(py many-killed "$port" "$bin/sctpshim" 2>&1)
echo "$out" | grep -q "^ok many killed"
result "one-to-many sockets of a killed process leave the daemon" $?
[ $? -eq 0 ] || echo "$out" | tail -5

# 4. The daemon killed.
port=$((port + 10))
out=$(py daemon-killed "$port" "$bin/sctpshim" 2>&1)
echo "$out" | grep -q "^ok daemon killed"
result "sctpshimd killed: existing sockets reset, the next socket() starts a new daemon" $?
[ $? -eq 0 ] || echo "$out" | tail -5

# 5. One UDP port for the whole engine, 9899 by default: two processes each
#    hold an association through it at the same time (real UDP, not the
#    loopback shortcut), next to a program's own UDP socket on the SCTP
#    listener's port number. The default daemon; if it found 9899 taken (by
#    another process), whatever port it took instead.
port=$((port + 10))
(
  unset SCTPSHIM_INSTANCE
  export SCTPSHIM_LOOPBACK=udp
  python3 -c "import socket,time; u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $port)); time.sleep(8)" &
  holder=$!
  sleep 0.3
  LD_PRELOAD=$lib timeout 20 socat -u "SCTP-LISTEN:$port,bind=127.0.0.1,fork" "OPEN:$work/both,creat,append" 2>"$work/l.err" &
  l=$!
  sleep 0.5
  (echo one; sleep 2) | LD_PRELOAD=$lib timeout 10 socat -u - "SCTP-CONNECT:127.0.0.1:$port" &
  a=$!
  (echo two; sleep 2) | LD_PRELOAD=$lib timeout 10 socat -u - "SCTP-CONNECT:127.0.0.1:$port" &
  b=$!
  sleep 1
  udp=$(bash "$here/udp-port-of.sh" "$lib" "$port")
  dpid=$("$bin/sctpshim" stat | awk '/^sctpshimd pid/ {print $3}')
  n=$("$bin/sctpshim" stat | grep -c ESTABLISHED)
  # The daemon holds the port, and it is 9899 unless another process has 9899.
  ss -Hulpn "sport = :$udp" | grep -q "pid=$dpid," || n=0
  [ "$udp" = 9899 ] || ss -Hulpn "sport = :9899" | grep -q . || n=0
  echo "$udp" > "$work/udp"
  wait $a $b
  sleep 0.5
  kill $l $holder 2>/dev/null
  [ "$n" -ge 4 ] && grep -qx one "$work/both" && grep -qx two "$work/both"
)
result "two processes' associations through UDP $(cat "$work/udp" 2>/dev/null) at once, beside a UDP socket on the SCTP port" $?

# 6. Another user holding the daemon's abstract name (names have no
#    permissions): the library refuses to talk to it (SO_PEERCRED), and
#    socket() fails instead of handing that user our traffic. Root only.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  (
    export SCTPSHIM_INSTANCE="e2e-process-squat-$$"
    echo x | LD_PRELOAD=$lib timeout 10 socat -u - "SCTP-CONNECT:127.0.0.1:9" 2>/dev/null
    name=$("$bin/sctpshim" stat | awk '/^sctpshimd pid/ {print substr($4, 2); kill=$3} END {if (kill) system("kill " kill)}')
    sleep 0.5
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
      timeout 5 socat "ABSTRACT-LISTEN:$name,fork" /dev/null 2>/dev/null &
    squat=$!
    sleep 0.5
    out=$(LD_PRELOAD=$lib timeout 10 python3 -c "
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132); print('made')
except OSError as e:
    print('refused', e.errno)" 2>&1)
    kill $squat 2>/dev/null
    echo "$out" | grep -q "^refused" && echo "$out" | grep -q "held by another user"
  )
  result "a daemon name held by another user is refused (SO_PEERCRED)" $?
fi

echo "e2e-process: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
