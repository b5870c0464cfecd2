#!/usr/bin/env bash
# Java's SCTP API (OpenJDK's com.sun.nio.sctp, which calls libsctp and the
# socket calls underneath) under the shim: scripts/java/SctpE2E.java, run as
# a single-file program (one-to-one echo, one-to-many with three clients and
# branch() in the middle of traffic, notifications and shutdown()), in the
# shared engine and in the thread placement. Needs java (17 or later) and
# lksctp's libsctp.so.1 (lksctp-tools); skipped with a message without them.
# Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v java >/dev/null 2>&1; then
  echo "e2e-java: skipped (no java: apt-get install openjdk-17-jdk-headless)"; exit 0
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libsctp\.so\.1'; then
  echo "e2e-java: skipped (no libsctp.so.1: apt-get install lksctp-tools)"; exit 0
fi
pass=0; fail=0
port=$(( 20000 + RANDOM % 20000 ))
for engine in daemon thread; do
  out=$(SCTPSHIM_ENGINE=$engine SCTPSHIM_INSTANCE="e2e-java-$$" LD_PRELOAD=$lib \
    timeout 180 java "$here/java/SctpE2E.java" "$port" 2>&1)
  rc=$?
  n=$(grep -c '^ok ' <<<"$out")
  if [ $rc -eq 0 ] && [ "$n" -eq 3 ]; then
    pass=$((pass + 1)); echo "ok   Java SCTP ($engine): $(grep '^ok ' <<<"$out" | sed 's/^ok //' | paste -sd ';' | cut -c1-200)"
  else
    fail=$((fail + 1)); echo "FAIL Java SCTP ($engine), exit $rc:"; grep -v '^\s*at ' <<<"$out" | tail -8
  fi
  port=$((port + 10))
done
echo "e2e-java: $pass passed, $fail failed"
[ $fail -eq 0 ]
