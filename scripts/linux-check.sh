#!/usr/bin/env bash
# Runs c-tests statically linked on the Linux kernel's own SCTP in a qemu
# guest (../shared/tools/linux-guest.sh, or LINUX_GUEST), so a reader can
# see which expectations were confirmed on Linux. Not part of make check:
# needs qemu-system-x86, linux-image-amd64, busybox-static and cpio.
#   scripts/linux-check.sh [TEST...]     (default: the tests listed below)
# Confirmed on Linux 6.1 (Debian 12's kernel), 2026-12-03: errnos, bad_pointers,
# shutdown, peer_killed, names, threads_shared, early_send, more_calls, file_io, fd_lifecycle, linger, processes,
# send_flags and tcp_style (2026-12-06), and loopback (2 of 3
# boots: once the one-to-many COMM_UP was not there yet right after connect).
set -u
cd "$(dirname "$0")/.."
guest=${LINUX_GUEST:-../shared/tools/linux-guest.sh}
[ -f "$guest" ] || { echo "linux-check: $guest not found"; exit 2; }
tests=${*:-fd_lifecycle linger loopback processes errnos bad_pointers shutdown peer_killed names threads_shared early_send more_calls file_io send_flags tcp_style notifications}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
for t in $tests; do
  cc -static -O1 -Iinclude -o "$work/$t" "c-tests/$t.c" -pthread || { fail=$((fail + 1)); continue; }
  out=$(timeout 600 bash "$guest" "$work/g" $(( 39000 + RANDOM % 1000 )) "$work/$t" 2>&1 | tr -d '\r')
  if echo "$out" | grep -q "^GUEST RC 0"; then
    pass=$((pass + 1)); echo "ok   $t (on Linux's SCTP)"
  else
    fail=$((fail + 1)); echo "FAIL $t (on Linux's SCTP)"; echo "$out" | grep -v "^\s*$" | tail -5 | sed 's/^/    /'
  fi
done
echo "linux-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
