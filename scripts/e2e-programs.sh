#!/usr/bin/env bash
# Unmodified Debian programs with both ends under the shim, over 127.0.0.1
# and ::1: socat fork + EXEC:cat with 4 concurrent clients, ncat in both
# directions and with --exec, iperf3 --sctp (plain, -P 4, -R).
# Prints "N passed, N failed".
#
# SCTP has no half-close: a client whose stdin ends sends SHUTDOWN, which
# ends the association both ways (the kernel does the same), so clients that
# expect an echo keep stdin open a little longer than the transfer takes.
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
export LD_PRELOAD=$lib
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT
pass=0; fail=0
port=$(( 30000 + RANDOM % 20000 ))
result() { # name ok?
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi
}
head -c 300000 /dev/urandom > "$work/small"
# ncat --exec relays with blocking pipe writes: more than a pipe's worth
# (64 KiB) in flight can deadlock ncat itself whatever the transport, so
# its echo test stays below that.
head -c 40000 /dev/urandom > "$work/tiny"
head -c 5M /dev/urandom > "$work/big"

for fam in 4 6; do
  if [ $fam = 4 ]; then ip=127.0.0.1; sip=127.0.0.1; L=SCTP-LISTEN; C=SCTP-CONNECT; else ip=::1; sip='[::1]'; L=SCTP6-LISTEN; C=SCTP6-CONNECT; fi

  # socat: forking echo server, 4 concurrent clients.
  port=$((port + 1))
  timeout 60 socat "$L:$port,fork,reuseaddr,bind=$sip" EXEC:cat 2>"$work/socat-srv.err" &
  srv=$!
  sleep 0.5
  clients=()
  for i in 1 2 3 4; do
    ( (cat "$work/small"; sleep 2) | timeout 30 socat - "$C:$sip:$port" > "$work/echo$i" 2>"$work/echo$i.err" ) &
    clients+=($!)
  done
  ok=0
  wait "${clients[@]}"
  for i in 1 2 3 4; do cmp -s "$work/small" "$work/echo$i" || ok=1; done
  kill $srv 2>/dev/null; wait $srv 2>/dev/null
  result "socat fork EXEC:cat, 4 concurrent clients, IPv$fam" $ok

  # ncat: client → listener, listener → client, and --exec /bin/cat.
  port=$((port + 1))
  (sleep 20 | timeout 30 ncat --sctp --recv-only -l "$ip" $port > "$work/nc1" 2>/dev/null) &
  sleep 0.5
  timeout 30 ncat --sctp --send-only "$ip" $port < "$work/big" 2>/dev/null
  for _ in $(seq 50); do cmp -s "$work/big" "$work/nc1" && break; sleep 0.1; done
  cmp -s "$work/big" "$work/nc1"; result "ncat --sctp client to listener, 5 MiB, IPv$fam" $?
  port=$((port + 1))
  timeout 30 ncat --sctp --send-only -l "$ip" $port < "$work/big" 2>/dev/null &
  sleep 0.5
  (sleep 20 | timeout 30 ncat --sctp --recv-only "$ip" $port > "$work/nc2" 2>/dev/null) &
  for _ in $(seq 100); do cmp -s "$work/big" "$work/nc2" && break; sleep 0.1; done
  cmp -s "$work/big" "$work/nc2"; result "ncat --sctp listener to client, 5 MiB, IPv$fam" $?
  port=$((port + 1))
  timeout 30 ncat --sctp -l "$ip" $port --exec /bin/cat 2>/dev/null &
  sleep 0.5
  (cat "$work/tiny"; sleep 2) | timeout 30 ncat --sctp "$ip" $port > "$work/nc3" 2>/dev/null
  cmp -s "$work/tiny" "$work/nc3"; result "ncat --sctp -l --exec /bin/cat, IPv$fam" $?

  # iperf3 --sctp.
  for opts in "" "-P 4" "-R"; do
    port=$((port + 1))
    timeout 60 iperf3 -s -1 -p $port > "$work/iperf-srv" 2>&1 &
    sleep 0.5
    timeout 60 iperf3 --sctp -c "$ip" -p $port -t 5 $opts > "$work/iperf-cli" 2>&1
    rc=$?
    rate=$(grep -E 'receiver' "$work/iperf-cli" | tail -1 | awk '{for(i=1;i<=NF;i++) if ($i ~ /bits\/sec/) print $(i-1), $i}')
    [ $rc = 0 ] && grep -q "iperf Done" "$work/iperf-cli"; ok=$?
    result "iperf3 --sctp -t 5 $opts, IPv$fam ($rate)" $ok
    [ $ok = 0 ] || tail -5 "$work/iperf-cli"
  done

  # lksctp-tools sctp_darn, TCP-style (-t): uses sctp_getpaddrs and SCTP_STATUS.
  if command -v sctp_darn >/dev/null; then
    port=$((port + 2))
    # Line-buffered to a file and waited for: the listener's output must be
    # complete before it is checked.
    timeout 4 stdbuf -oL sctp_darn -H "$ip" -P $port -l -t > "$work/darn-srv" 2>&1 &
    darn=$!
    sleep 0.5
    (echo hello-darn; sleep 0.5; echo second-message; sleep 0.5) |
      timeout 6 sctp_darn -H "$ip" -P $((port + 1)) -h "$ip" -p $port -s -t 2>&1 | head -c 4000 > "$work/darn-cli"
    wait $darn
    grep -q "hello-darn" "$work/darn-srv" && grep -q "second-message" "$work/darn-srv" &&
      grep -q "New connection, peer addresses" "$work/darn-cli"
    result "sctp_darn -t exchanges messages, IPv$fam" $?
    # One-to-many (default mode): notifications, SNDRCV, sctp_getpaddrs by assoc id.
    port=$((port + 2))
    timeout 4 stdbuf -oL sctp_darn -H "$ip" -P $port -l > "$work/darn-srv" 2>&1 &
    darn=$!
    sleep 0.5
    (echo hello-many; sleep 0.5; echo second-many; sleep 0.5) |
      timeout 6 sctp_darn -H "$ip" -P $((port + 1)) -h "$ip" -p $port -s 2>&1 | head -c 4000 > "$work/darn-cli"
    wait $darn
    grep -q "COMM_UP" "$work/darn-srv" && grep -q "hello-many" "$work/darn-srv" &&
      grep -q "second-many" "$work/darn-srv" && grep -q "sinfo_assoc_id" "$work/darn-srv" &&
      grep -q "New connection, peer addresses" "$work/darn-cli"
    result "sctp_darn (one-to-many) exchanges messages, IPv$fam" $?
    # Interactive (-I) and non-blocking (-n) modes, both ends: generated
    # messages of 20 and 3000 bytes; the non-blocking sender reads COMM_UP
    # right after its first sendmsg, as it can on a kernel's loopback.
    port=$((port + 2))
    (sleep 1.2; for _ in 1 2 3 4 5 6; do echo rcv; sleep 0.2; done; sleep 0.5) |
      timeout 6 stdbuf -oL sctp_darn -H "$ip" -P $port -l -I -n > "$work/darn-srv" 2>&1 &
    darn=$!
    sleep 0.3
    (sleep 0.3; echo "snd=20"; sleep 0.2; echo "snd=3000"; sleep 1.5) |
      timeout 6 stdbuf -oL sctp_darn -H "$ip" -P $((port + 1)) -h "$ip" -p $port -s -I -n > "$work/darn-cli" 2>&1
    wait $darn
    grep -q "COMM_UP" "$work/darn-srv" && grep -q "DATA(20)" "$work/darn-srv" &&
      grep -q "DATA(3000)" "$work/darn-srv" && grep -q "New connection, peer addresses" "$work/darn-cli" &&
      ! grep -q "Resource temporarily unavailable" "$work/darn-cli"
    result "sctp_darn -I -n (interactive, non-blocking) exchanges messages, IPv$fam" $?
  fi

  # checksctp: SCTP sockets can be created.
  if [ "$fam" = 4 ] && command -v checksctp >/dev/null; then
    checksctp 2>&1 | grep -q "SCTP supported"
    result "checksctp reports SCTP supported" $?
  fi

  # lksctp-tools sctp_status: the client's status loop (SCTP_STATUS each round).
  if command -v sctp_status >/dev/null; then
    port=$((port + 2))
    # Each side forks a child that spins (while(1) with a SIGPROF timer
    # printing the status) as long as it holds the socket: on a kernel too,
    # it outlives its parent, so the test kills it.
    timeout -k 1 6 stdbuf -oL sctp_status -H "$ip" -P $port -l > "$work/ss-srv" 2>&1 &
    ss=$!
    sleep 0.4
    timeout -k 1 5 stdbuf -oL sctp_status -H "$ip" -P $((port + 1)) -h "$ip" -p $port -s -x 2 > "$work/ss-cli" 2>&1
    ok=$?
    wait $ss
    pkill -9 -f "sctp_status -H $ip -P ($port|$((port + 1))) " 2>/dev/null
    [ $ok -eq 0 ] && grep -Eq "^1 +[0-9]+ +ESTABLISHED" "$work/ss-cli" &&
      grep -Eq "^1 +[0-9]+ +ESTABLISHED" "$work/ss-srv" && grep -q "Receiving packets" "$work/ss-srv"
    result "sctp_status status loop against a server, IPv$fam" $?
  fi

  # lksctp-tools sctp_test, one-to-many: test cases 0..6 with 20 rounds each.
  if command -v sctp_test >/dev/null; then
    ok=0
    for c in 0 1 2 3 4 5 6; do
      port=$((port + 2))
      timeout 40 sctp_test -H "$ip" -P $port -l > "$work/st-srv" 2>&1 &
      srv=$!
      sleep 0.4
      timeout 30 sctp_test -H "$ip" -P $((port + 1)) -h "$ip" -p $port -s -c $c -x 20 > "$work/st-cli" 2>&1 || ok=1
      sleep 0.3
      kill $srv 2>/dev/null; wait $srv 2>/dev/null
      sent=$(grep -c 'sendmsg(' "$work/st-cli")
      got=$(grep -c 'Data ' "$work/st-srv")
      if [ "$sent" -eq 0 ] || [ "$got" -ne "$sent" ] || ! grep -q 'COMMUNICATION_UP' "$work/st-srv"; then
        ok=1; echo "     sctp_test -c $c: sent $sent, server got $got"
      fi
    done
    result "sctp_test -c 0..6 -x 20 (one-to-many), IPv$fam" $ok
  fi
done
echo "e2e-programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
