#!/usr/bin/env bash
# Runs the conformance scripts against Linux's own SCTP instead of the shim:
# the helper runs in a qemu guest (../shared/tools/linux-guest.sh, or
# LINUX_GUEST) on Linux's SCTP over UDP encapsulation, sctpshim-peer plays
# the remote endpoint from the host. A script that fails here tests
# something Linux does not do: read its expectation against the RFC again.
# Not part of make check (needs qemu-system-x86, linux-image-amd64,
# busybox-static, cpio).
#   scripts/conformance-linux.sh [-v] [SCRIPT|DIR...]   (default: conformance/scripts)
set -eu
cd "$(dirname "$0")/.."
guest=${LINUX_GUEST:-../shared/tools/linux-guest.sh}
[ -f "$guest" ] || { echo "conformance-linux: $guest not found"; exit 2; }
v=; [ "${1:-}" = -v ] && { v=-v; shift; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -static -O1 -Iinclude -pthread -o "$work/helper" conformance/helper.c
# The guest's console runs one helper after another; each binds the
# wildcard and connects to the host (10.0.2.2 in qemu's user network).
printf '#!/bin/sh\nwhile :; do /helper 0.0.0.0 10.0.2.2; done\n' >"$work/wrapper"
chmod +x "$work/wrapper"
fwd=$(( 39000 + RANDOM % 500 )); encap=$(( fwd + 500 ))
[ -x target/release/sctpshim-peer ] || cargo build --release --bin sctpshim-peer
target/release/sctpshim-peer $v \
  --guest "GUEST_EXTRA=$work/helper GUEST_ENCAP_PORT=$encap exec bash $guest $work/g $fwd $work/wrapper" \
  --peer-udp "$encap" --shim-udp "$fwd" "${@:-conformance/scripts}"
