#!/usr/bin/env bash
# Prints the conformance coverage as the README's table: for each group of
# conformance/scripts (ETSI TS 102 369's), the number of scripts and the
# RFC 9260 sections their comments cite, then the scripts Linux answers
# differently (linux-differs). Usage: scripts/conformance-coverage.sh
set -eu
cd "$(dirname "$0")/../conformance/scripts"
total=0
echo "| Group | Scripts | Sections cited: RFC 9260, or RFC 6458 for socket API effects (scripts) |"
echo "|---|---:|---|"
for d in setup termination data bundling duplicates retransmission fault invalid ootb vtag; do
  [ -d "$d" ] || continue
  n=$(ls "$d"/*.pkt | wc -l); total=$((total + n))
  secs=$(grep -oh "§[0-9][0-9.]*[0-9]" "$d"/*.pkt | sort | uniq -c | sort -k2 -V |
         awk '{printf "%s%s (%s)", sep, $2, $1; sep=", "}')
  echo "| $d | $n | $secs |"
done
echo "| **all** | **$total** | |"
echo
echo "Scripts whose expectation Linux 6.1 does not share (the shim keeps RFC 9260's answer, or one the RFC leaves open; each line says what Linux does):"
grep -l "^linux-differs" */*.pkt | while read -r f; do
  echo "- \`$f\`: $(grep -m1 '^linux-differs' "$f" | cut -d' ' -f2-)"
done
