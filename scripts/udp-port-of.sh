#!/usr/bin/env bash
# Prints the UDP port that carries SCTP port PORT under the shim whose
# library is LIB: the shared engine's port (from `sctpshim stat`), or PORT
# itself where SCTP port P travels in UDP port P (SCTPSHIM_ENGINE=thread).
#   scripts/udp-port-of.sh LIB PORT
u=$("$(dirname "$1")/sctpshim" stat 2>/dev/null | awk -v p="$2" '$1 == p && $3 ~ /^(yes|no)$/ {print $2; exit}')
echo "${u:-$2}"
