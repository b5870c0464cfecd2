#!/usr/bin/env bash
# Kamailio (Debian's kamailio + kamailio-sctp-modules) with SCTP workers,
# started as it usually is (it forks, closes inherited descriptors and
# daemonizes; its SCTP workers are forked children reading one one-to-many
# socket), listening on UDP 5060 and SCTP 5060 at once, answers sipp's
# (Debian's sip-tester) OPTIONS over SCTP: 1,000 of 1,000. Both under the
# shim, whose shared engine carries SCTP in one UDP port of its own (9899),
# so that SCTP 5060 does not need UDP 5060. Prints "N passed, N failed".
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
pass=0; fail=0
result() { if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null; then
  echo "e2e-kamailio: skipped (kamailio or sipp missing; .ci/run installs kamailio, kamailio-sctp-modules, sip-tester)"; exit 0
fi
if [ "${SCTPSHIM_ENGINE:-daemon}" != daemon ]; then
  echo "e2e-kamailio: skipped (SCTPSHIM_ENGINE=${SCTPSHIM_ENGINE}: forked workers need the shared engine)"; exit 0
fi
mods=$(dirname "$(find /usr/lib -name sctp.so -path '*kamailio*' | head -1)")
[ -f "$mods/sl.so" ] || { echo "e2e-kamailio: skipped (kamailio's sctp module missing)"; exit 0; }
work=$(mktemp -d)
port=5060
# A SIP server of the machine's own on 5060: take another port.
if ss -Hlun "sport = :$port" | grep -q . ; then port=$(( 15060 + RANDOM % 1000 )); fi
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null; sleep 0.5; rm -rf "$work"' EXIT
cat >"$work/kamailio.cfg" <<CFG
#!KAMAILIO
debug=2
log_stderror=no
children=2
listen=udp:127.0.0.1:$port
listen=sctp:127.0.0.1:$port
enable_sctp=yes
sctp_children=4
mpath="$mods/"
loadmodule "sctp.so"
loadmodule "sl.so"
request_route {
    if (method == "OPTIONS") {
        sl_send_reply("200", "OK");
        exit;
    }
    sl_send_reply("404", "Not here");
}
CFG
cat >"$work/options.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="OPTIONS">
  <send>
    <![CDATA[
      OPTIONS sip:test@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:test@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
XML
LD_PRELOAD=$lib kamailio -f "$work/kamailio.cfg" -P "$work/pid" -E 2>"$work/kamailio.err"
started=$?
sleep 1
ss -Hlunp "sport = :$port" | grep -q kamailio
udp=$?
result "kamailio starts (daemonizes, SCTP workers) and listens on UDP $port beside SCTP $port" $(( started + udp ))
(cd "$work" && LD_PRELOAD=$lib timeout 60 sipp -sf options.xml -t s1 "127.0.0.1:$port" -i 127.0.0.1 \
  -m 1000 -r 200 -trace_stat -nostdin >sipp.out 2>&1)
ok=$(python3 - "$work" <<'PY'
import csv, glob, sys
rows = list(csv.reader(open(glob.glob(sys.argv[1] + "/*.csv")[0]), delimiter=";"))
h, last = rows[0], rows[-1]
print(last[h.index("SuccessfulCall(C)")], last[h.index("FailedCall(C)")])
PY
)
set -- $ok
[ "${1:-0}" = 1000 ] && [ "${2:-1}" = 0 ]
result "sipp OPTIONS over SCTP: ${1:-0} of 1000 answered by kamailio's SCTP workers (${2:-?} failed)" $?
[ "${1:-0}" = 1000 ] || tail -5 "$work/kamailio.err"
echo "e2e-kamailio: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
