#!/usr/bin/env bash
# make bench (issue 16): the shim against kernel TCP and usrsctp, from one
# run, as a table of medians with ratios.
#   bash scripts/bench.sh [target/release/libsctpshim.so]
#
# Programs: bench/sockbench.c (plain socket API: kernel TCP, or SCTP under
# the shim's LD_PRELOAD) and bench/usrbench.c (usrsctp, UDP encapsulation,
# built when /usr/include/usrsctp.h exists), compiled here with cc into a
# temporary directory. Each figure is measured the same way on every path:
#   bulk 64 KiB / 1 KiB   the client writes for BENCH_SECONDS and closes; the
#                         server's goodput (bytes it read / time), Mbit/s
#   100-byte messages     the same with SCTP_NODELAY/TCP_NODELAY, messages/s
#   ping-pong p50/p99     64 bytes, wait for the echo, repeat; microseconds
#   handshakes/s          connect, send one message, close; the server
#                         accepts, reads it, closes
#   BENCH_ASSOCS (10,000) associations on one one-to-many (SOCK_SEQPACKET)
#                         server socket (TCP: connections on an epoll server):
#                         setup time, RSS growth of the process holding the
#                         server's engine per association (the shim: its
#                         sctpshimd, pid from `sctpshim stat`; usrsctp: the
#                         server; TCP: kernel memory, not shown), and the
#                         messages/s the server receives while 10 of them
#                         send 100-byte messages round-robin, then all
#   loss 1% / 10%         bulk (64 KiB writes) for BENCH_LOSS_SECONDS through
#                         nftables random drops (numgen) of the path's packets,
#                         both directions; Mbit/s
# Paths (columns):
#   TCP              kernel TCP over loopback
#   TCP+preload      the same programs with the shim preloaded: the cost the
#                    shim adds to non-SCTP calls (bulk and ping-pong)
#   shim             SCTP under the shim, both ends in one engine (sctpshimd)
#                    over loopback: packets handed over inside the engine
#   shim UDP         the same with SCTPSHIM_LOOPBACK=udp (real UDP datagrams)
#   shim netns       two network namespaces joined by a veth pair
#                    (10.99.0.1 <-> 10.99.0.2), an engine in each (root, ip)
#   usrsctp          usrbench against itself over loopback, UDP encapsulation
# The many-associations figures of the shim use engines of their own: the
# server's (fresh, so that its RSS growth is the associations'), and the
# clients' (processes of 500 sockets each, as a descriptor limit of 1024
# allows), as few engines as the hard descriptor limit allows (an engine
# holds two descriptors per socket; one engine per namespace is the shim's
# own placement); on loopback that is the "shim UDP" column, and "n/a"
# under "shim".
# Settings: BENCH_RUNS (3) runs of BENCH_SECONDS (3) for each figure, the
# median shown; the many-associations and loss figures run BENCH_MANY_RUNS
# and BENCH_LOSS_RUNS times (1: they are long); BENCH_LOSS_SECONDS (20);
# BENCH_ASSOCS (10000); BENCH_PATHS (tcp tcppre shim shimudp netns usrsctp)
# and BENCH_PARTS (basic many loss) to run a part. A benchmark, not a test:
# every run has a timeout, a failed or missing measurement prints "-" and
# is listed under the table; the script fails only when sockbench cannot be
# built. Debian's usrsctp is built with debug output: usrbench turns it off.
set -u
lib=$(realpath "${1:-target/release/libsctpshim.so}")
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3}
secs=${BENCH_SECONDS:-3}
loss_secs=${BENCH_LOSS_SECONDS:-20}
loss_runs=${BENCH_LOSS_RUNS:-1}
many_runs=${BENCH_MANY_RUNS:-1}
assocs=${BENCH_ASSOCS:-10000}
paths=${BENCH_PATHS:-tcp tcppre shim shimudp netns usrsctp}
parts=${BENCH_PARTS:-basic many loss}
stat_tool=$(dirname "$lib")/sctpshim
work=$(mktemp -d /tmp/sctpshim-bench.XXXXXX)
tag=${SCTPSHIM_INSTANCE:-bench}.$$  # SCTPSHIM_INSTANCE of every engine started here
ns_a=sbench-a$$ ns_b=sbench-b$$  # network namespaces
nft_table=sbench$$               # nftables table for the loss runs
t_start=$(date +%s)
notes=() fails=()
note() { notes+=("$*"); }
say() { printf 'bench: [%4ss] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }

# The engines this script started: their environment names our tag.
our_daemons() {
  local d
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = sctpshimd ] || continue
    # (Silenced first: a daemon that just exited takes its environ along.)
    tr '\0' '\n' 2>/dev/null < "$d/environ" | grep -q "^SCTPSHIM_INSTANCE=$tag" && echo "${d#/proc/}"
  done
}
cleanup() {
  trap - EXIT INT TERM
  local p n
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  command -v nft >/dev/null && nft delete table inet "$nft_table" 2>/dev/null
  for n in "$ns_a" "$ns_b"; do
    [ -e "/run/netns/$n" ] || continue
    for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
  done
  for p in $(our_daemons); do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- programs --------------------------------------------------------------
if ! cc -O2 -I"$root/include" -o "$work/sockbench" "$root/bench/sockbench.c" 2>"$work/cc.err"; then
  cat "$work/cc.err" >&2
  echo "bench: cannot build bench/sockbench.c" >&2
  exit 1
fi
usr=""
if [ ! -f /usr/include/usrsctp.h ]; then
  note "usrsctp: /usr/include/usrsctp.h not found (libusrsctp-dev): no usrsctp column"
elif cc -O2 -o "$work/usrbench" "$root/bench/usrbench.c" -lusrsctp -lpthread 2>"$work/cc.err"; then
  usr=$work/usrbench
else
  note "usrsctp: bench/usrbench.c did not build: $(head -c 300 "$work/cc.err" | tr '\n' ' ')"
fi
[ -f "$lib" ] || note "shim: $lib not found: no shim columns"
[ -x "$stat_tool" ] || note "shim: $stat_tool not found: no engine memory figures"
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# --- paths -----------------------------------------------------------------
have_nft=0
command -v nft >/dev/null && [ "$(id -u)" = 0 ] && have_nft=1
[ $have_nft = 1 ] || note "loss: needs root and nft: not measured"
netns_ok=0
netns_up() {
  [ "$(id -u)" = 0 ] || { note "shim netns: skipped (not root)"; return 1; }
  command -v ip >/dev/null || { note "shim netns: skipped (no ip command)"; return 1; }
  if ip netns add "$ns_a" 2>"$work/ns.err" && ip netns add "$ns_b" 2>>"$work/ns.err" &&
    ip link add "sba$$" netns "$ns_a" type veth peer name "sbb$$" netns "$ns_b" 2>>"$work/ns.err" &&
    ip -n "$ns_a" addr add 10.99.0.1/24 dev "sba$$" && ip -n "$ns_b" addr add 10.99.0.2/24 dev "sbb$$" &&
    ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up &&
    ip -n "$ns_a" link set "sba$$" up && ip -n "$ns_b" link set "sbb$$" up; then
    return 0
  fi
  note "shim netns: skipped (could not set up namespaces: $(head -c 200 "$work/ns.err" | tr '\n' ' '))"
  return 1
}
active=()
for p in $paths; do
  case $p in
    tcp) active+=(tcp) ;;
    tcppre|shim|shimudp) [ -f "$lib" ] && active+=("$p") ;;
    netns) [ -f "$lib" ] && netns_up && netns_ok=1 && active+=(netns) ;;
    usrsctp) [ -n "$usr" ] && active+=(usrsctp) ;;
  esac
done
is_active() { local p; for p in "${active[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

shim_vars=(LD_PRELOAD="$lib" SCTPSHIM_INSTANCE="$tag" SCTPSHIM_DAEMON_LOG="$work/sctpshimd.log" SCTPSHIM_DAEMON_IDLE_SECS=5)
port=$((20000 + RANDOM % 9000))
SXENV=() CXENV=() CXARGS=()

# cmd_for PATH SIDE MODE: the command line (array CMD) of one side on a
# path, with the current port and the extra environment of that side.
cmd_for() {
  local path=$1 side=$2 mode=$3 bin=$work/sockbench proto=sctp addr=127.0.0.1 pre=() e=() x=()
  case $path in
    tcp) proto=tcp ;;
    tcppre) proto=tcp; e=("${shim_vars[@]}") ;;
    shim) e=("${shim_vars[@]}") ;;
    shimudp) e=("${shim_vars[@]}" SCTPSHIM_LOOPBACK=udp) ;;
    netns)
      addr=10.99.0.2
      if [ "$side" = server ]; then
        pre=(ip netns exec "$ns_b"); e=("${shim_vars[@]}" SCTPSHIM_UDP_PORT=9899)
      else
        pre=(ip netns exec "$ns_a"); e=("${shim_vars[@]}" SCTPSHIM_REMOTE_UDP_PORT=9899)
      fi ;;
    usrsctp)
      bin=$usr
      if [ "$side" = server ]; then x=(-u "$port"); else x=(-u $((port + 1)) -r "$port"); fi ;;
  esac
  if [ "$side" = server ]; then e+=("${SXENV[@]}"); else e+=("${CXENV[@]}"); fi
  CMD=("${pre[@]}" env "${e[@]}" "$bin" "$side" "$mode" -P "$proto" -a "$addr" -p "$port" "${x[@]}")
}

# The engine (sctpshimd) of instance INST serving the path's server side:
# `engine PATH INST pid|udp`.
engine() {
  local pre=() out
  [ "$1" = netns ] && pre=(ip netns exec "$ns_b")
  [ -x "$stat_tool" ] || return 0
  out=$("${pre[@]}" env -u LD_PRELOAD SCTPSHIM_INSTANCE="$2" "$stat_tool" stat 2>/dev/null)
  if [ "$3" = pid ]; then
    awk '/^sctpshimd pid/ {print $3; exit}' <<<"$out"
  else
    awk -v p="$port" '$1 == p && $3 ~ /^(yes|no)$/ {print $2; exit}' <<<"$out"
  fi
}
# The same, waiting up to 3 s for the server's engine to have its endpoint.
engine_wait() {
  local i v
  for i in $(seq 30); do
    v=$(engine "$1" "$2" udp)
    [ -n "$v" ] && break
    sleep 0.1
  done
  engine "$@"
}

# run_pair PATH MODE TIMEOUT SERVER_ARGS... -- CLIENT_ARGS...
# Starts the server, runs BEFORE_CLIENT (a hook: loss rules, engine pid;
# it may add to CXENV and CXARGS), runs the client under timeout, waits for
# the server (SERVER_WAIT seconds) and leaves both outputs in $work/last.out.
SERVER_WAIT=5 BEFORE_CLIENT=""
run_pair() {
  local path=$1 mode=$2 tmo=$3 sx=() cx=() rc spid i
  shift 3
  while [ $# -gt 0 ] && [ "$1" != -- ]; do sx+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  cx=("$@")
  port=$((port + 10))
  CXARGS=()
  cmd_for "$path" server "$mode"
  "${CMD[@]}" "${sx[@]}" >"$work/srv.out" 2>"$work/srv.err" &
  spid=$!
  sleep 0.1 # (clients retry a refused first connect for 5 s)
  [ -n "$BEFORE_CLIENT" ] && $BEFORE_CLIENT "$path" "$spid"
  cmd_for "$path" client "$mode"
  timeout "$tmo" "${CMD[@]}" "${cx[@]}" "${CXARGS[@]}" >"$work/cli.out" 2>"$work/cli.err"
  rc=$?
  i=0
  while kill -0 "$spid" 2>/dev/null && [ $i -lt $((SERVER_WAIT * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$spid" 2>/dev/null; then
    # SIGALRM: a bulk server prints what it has received so far.
    kill -ALRM "$spid" 2>/dev/null
    sleep 0.2
    kill "$spid" 2>/dev/null
  fi
  wait "$spid" 2>/dev/null
  cat "$work/srv.out" "$work/cli.out" >"$work/last.out"
  LAST_RC=$rc
  LAST_ERR=$(cat "$work/cli.err" "$work/srv.err" | grep -v '^sockbench client many: \|^usrbench client many: ' | head -3 | tr '\n' ' ' | head -c 300)
}

# The value of KEY in the last run's result lines.
val() { grep -h '^result' "$work/last.out" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k && $2 != "-" {print $2; exit}'; }

declare -A V NA
# record PATH FIG KEY LABEL: keeps the last run's KEY as a sample of FIG.
record() {
  local v
  v=$(val "$3")
  if [ -n "$v" ]; then
    V["$1:$2"]+=" $v"
    say "$1 $2: $v"
  else
    local why="exit $LAST_RC"
    [ "$LAST_RC" = 124 ] && why="timed out"
    fails+=("$1 $4: no result ($why) ${LAST_ERR}")
    say "$1 $2: FAILED ($why) $LAST_ERR"
  fi
}

# --- 1-4: bulk, messages, ping-pong, handshakes ------------------------------
basic() {
  local path=$1 t=$((secs + 60))
  run_pair "$path" bulk $t -s 65536 -T "$secs" -- -s 65536 -T "$secs"
  record "$path" bulk64 mbps "bulk 64 KiB"
  run_pair "$path" bulk $t -s 1024 -T "$secs" -- -s 1024 -T "$secs"
  record "$path" bulk1k mbps "bulk 1 KiB"
  if [ "$path" != tcppre ]; then
    run_pair "$path" msgrate $t -s 100 -T "$secs" -- -s 100 -T "$secs"
    record "$path" msgrate msgs_per_s "100-byte messages"
  fi
  run_pair "$path" pingpong $t -s 64 -T "$secs" -- -s 64 -T "$secs"
  record "$path" p50 p50_us "ping-pong"
  [ -n "$(val p50_us)" ] && record "$path" p99 p99_us "ping-pong p99"
  if [ "$path" != tcppre ]; then
    run_pair "$path" handshake $t -s 100 -T "$secs" -- -s 100 -T "$secs"
    record "$path" hs hs_per_s "handshakes"
  fi
}
if [[ " $parts " == *" basic "* ]]; then
  for r in $(seq 1 "$runs"); do
    for path in "${active[@]}"; do
      say "run $r/$runs: $path"
      basic "$path"
    done
  done
fi

# --- 5: many associations ----------------------------------------------------
# The hook: the server engine's pid (memory) and, for the shim, the UDP
# port its clients send to.
many_hook() {
  local path=$1 spid=$2 pid u
  case $path in
    usrsctp) CXARGS+=(-m "$spid"); sleep 0.3 ;;
    shimudp|netns)
      pid=$(engine_wait "$path" "$tag-ms$r" pid)
      [ -n "$pid" ] && CXARGS+=(-m "$pid")
      if [ "$path" = shimudp ]; then
        u=$(engine "$path" "$tag-ms$r" udp)
        CXENV+=(SCTPSHIM_REMOTE_UDP_PORT="${u:-0}")
      fi ;;
  esac
}
many() {
  local path=$1 w=$(((assocs + 499) / 500)) per hard
  # Client processes per engine: as many as its descriptors allow.
  hard=$(ulimit -Hn)
  [ "$hard" = unlimited ] && hard=1048576
  per=$(((hard - 256) / 2 / 500))
  [ "$per" -lt 1 ] && per=1
  SXENV=() CXENV=()
  case $path in
    tcp) ;;
    usrsctp) ;;
    shimudp)
      SXENV=(SCTPSHIM_INSTANCE="$tag-ms$r")
      CXENV=(SCTPSHIM_INSTANCE="$tag-mc$r") ;;
    netns)
      # Its own UDP port: the engine of the other figures may still hold 9899.
      SXENV=(SCTPSHIM_INSTANCE="$tag-ms$r" SCTPSHIM_UDP_PORT=9898)
      CXENV=(SCTPSHIM_INSTANCE="$tag-mc$r" SCTPSHIM_REMOTE_UDP_PORT=9898) ;;
    *) return ;;
  esac
  local cargs=(-n "$assocs" -T "$secs")
  case $path in
    shimudp|netns) cargs+=(-I "$per" -B 40000 -w "$w") ;;
    usrsctp) cargs+=(-B 40000) ;;
  esac
  BEFORE_CLIENT=many_hook
  run_pair "$path" many 400 -T 300 -- "${cargs[@]}"
  BEFORE_CLIENT="" SXENV=() CXENV=()
  record "$path" setup setup_s "$assocs associations"
  if [ -n "$(val setup_s)" ]; then
    [ "$path" != tcp ] && record "$path" mem kib_per_assoc "$assocs associations: memory"
    record "$path" rate10 rate_few "$assocs associations: 10 sending"
    record "$path" rate10k rate_all "$assocs associations: all sending"
  fi
  # The many-associations engines are done: they would otherwise idle on.
  for p in $(our_daemons); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -q "^SCTPSHIM_INSTANCE=$tag-m[sc]$r" && kill "$p" 2>/dev/null
  done
}
NA["tcp:mem"]=1
NA["shim:setup"]=1 NA["shim:mem"]=1 NA["shim:rate10"]=1 NA["shim:rate10k"]=1
if [[ " $parts " == *" many "* ]]; then
  for r in $(seq 1 "$many_runs"); do
    for path in "${active[@]}"; do
      case $path in tcp|shimudp|netns|usrsctp) say "many $r/$many_runs: $path"; many "$path" ;; esac
    done
  done
fi

# --- 6: loss -----------------------------------------------------------------
# nftables drops N% of the path's packets at random, each packet once: on
# loopback the input hook sees every packet once; between the namespaces,
# each namespace's input hook the packets coming from the other.
loss_pct=0
nft_drop() { # [netns] MATCH...
  local pre=()
  if [ "$1" = "-n" ]; then pre=(ip netns exec "$2"); shift 2; fi
  "${pre[@]}" nft add table inet "$nft_table" 2>/dev/null
  "${pre[@]}" nft add chain inet "$nft_table" input '{ type filter hook input priority 0; policy accept; }' 2>/dev/null
  "${pre[@]}" nft add rule inet "$nft_table" input "$@" numgen random mod 100 lt "$loss_pct" drop
}
nft_clear() {
  nft delete table inet "$nft_table" 2>/dev/null
  if [ $netns_ok = 1 ]; then
    ip netns exec "$ns_a" nft delete table inet "$nft_table" 2>/dev/null
    ip netns exec "$ns_b" nft delete table inet "$nft_table" 2>/dev/null
  fi
}
loss_hook() {
  local path=$1 u
  case $path in
    tcp) nft_drop tcp dport "$port" && nft_drop tcp sport "$port" ;;
    shimudp) # one engine: both directions are datagrams to its own port
      u=$(engine_wait shimudp "$tag" udp)
      [ -n "$u" ] && nft_drop udp dport "$u" ;;
    netns) nft_drop -n "$ns_b" udp dport 9899 && nft_drop -n "$ns_a" udp sport 9899 ;;
    usrsctp) nft_drop udp dport "{ $port, $((port + 1)) }" ;;
  esac
  [ $? = 0 ] || fails+=("$path loss $loss_pct%: the nftables rule failed")
}
NA["shim:loss1"]=1 NA["shim:loss10"]=1 NA["tcppre:loss1"]=1 NA["tcppre:loss10"]=1
if [[ " $parts " == *" loss "* ]] && [ $have_nft = 1 ]; then
  for r in $(seq 1 "$loss_runs"); do
    for path in "${active[@]}"; do
      case $path in tcp|shimudp|netns|usrsctp) ;; *) continue ;; esac
      for loss_pct in 1 10; do
        say "loss $loss_pct% $r/$loss_runs: $path ($loss_secs s)"
        BEFORE_CLIENT=loss_hook SERVER_WAIT=60
        run_pair "$path" bulk $((loss_secs + 150)) -s 65536 -T "$loss_secs" -- -s 65536 -T "$loss_secs"
        BEFORE_CLIENT="" SERVER_WAIT=5
        nft_clear
        record "$path" "loss$loss_pct" mbps "bulk under $loss_pct% loss"
      done
    done
  done
fi

# --- the table -----------------------------------------------------------------
cols=(tcp tcppre shim shimudp netns usrsctp)
declare -A head=([tcp]="TCP" [tcppre]="TCP+preload" [shim]="shim" [shimudp]="shim UDP"
  [netns]="shim netns" [usrsctp]="usrsctp")
figs=(bulk64 bulk1k msgrate p50 p99 hs setup mem rate10 rate10k loss1 loss10)
declare -A label=(
  [bulk64]="bulk, 64 KiB writes (Mbit/s)"
  [bulk1k]="bulk, 1 KiB writes (Mbit/s)"
  [msgrate]="100 B messages, NODELAY (msg/s)"
  [p50]="ping-pong 64 B, p50 (us)"
  [p99]="ping-pong 64 B, p99 (us)"
  [hs]="handshakes/s (connect, send, close)"
  [setup]="$assocs assocs: setup (s)"
  [mem]="$assocs assocs: KiB per assoc"
  [rate10]="$assocs assocs, 10 sending (msg/s)"
  [rate10k]="$assocs assocs, all sending (msg/s)"
  [loss1]="bulk, 1% loss (Mbit/s)"
  [loss10]="bulk, 10% loss (Mbit/s)")
median() {
  printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END {if (NR == 0) exit; if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
fmt() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v }'; }
declare -A M
for f in "${figs[@]}"; do
  for c in "${cols[@]}"; do
    [ -n "${V["$c:$f"]:-}" ] && M["$c:$f"]=$(median "${V["$c:$f"]}")
  done
done
cell() { # value cell of column $1, figure $2
  if [ -n "${M["$1:$2"]:-}" ]; then fmt "${M["$1:$2"]}"
  elif [ -n "${NA["$1:$2"]:-}" ] || { [ "$1" = tcppre ] && [[ $2 =~ ^(msgrate|hs|setup|mem|rate10|rate10k)$ ]]; }; then echo "n/a"
  else echo "-"; fi
}
ratio() { # column $1 against column $3, figure $2
  local a=${M["$1:$2"]:-} b=${M["$3:$2"]:-}
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { if (b <= 0) printf "-"; else if (a / b < 0.1) printf "%.3f", a / b; else printf "%.2f", a / b }'
  else echo "-"; fi
}
table() { # title, then a function printing a cell for (column, figure)
  local title=$1 fn=$2 f c line
  echo
  echo "$title"
  line=$(printf '| %-36s' "")
  for c in "${cols[@]}"; do line+=$(printf '| %11s ' "${head[$c]}"); done
  echo "$line|"
  line="|-------------------------------------"
  for c in "${cols[@]}"; do line+="|------------:"; done
  echo "$line|"
  for f in "${figs[@]}"; do
    line=$(printf '| %-36s' "${label[$f]}")
    for c in "${cols[@]}"; do line+=$(printf '| %11s ' "$($fn "$c" "$f")"); done
    echo "$line|"
  done
}
to_tcp() { if [ "$1" = tcp ]; then echo ""; else ratio "$1" "$2" tcp; fi; }
to_usr() { if [ "$1" = usrsctp ]; then echo ""; else ratio "$1" "$2" usrsctp; fi; }
echo
echo "sctpshim benchmark: medians of $runs runs of ${secs} s (many associations: $many_runs run(s); loss: $loss_runs run(s) of ${loss_secs} s)"
table "Values (latency and memory: lower is better)" cell
table "Ratio to kernel TCP (value / TCP value)" to_tcp
table "Ratio to usrsctp (value / usrsctp value)" to_usr
echo
echo "Notes:"
echo "- n/a: not applicable or not measured on that path: TCP memory is kernel memory; the shim's"
echo "  $assocs-association figures run on engines of their own through UDP (the \"shim UDP\" column);"
echo "  nftables cannot drop what the engine hands over internally (\"shim\" loss); TCP+preload"
echo "  measures bulk and ping-pong only."
echo "- shim UDP loss: drops on the engine's UDP port (one engine carries both ends). Retransmission"
echo "  timers are each stack's defaults (RTO.Min 1 s for SCTP, 200 ms for Linux TCP)."
for n in "${notes[@]}"; do echo "- $n"; done
if [ ${#fails[@]} -gt 0 ]; then
  echo
  echo "Failed runs (shown as - or left out of the median):"
  for f in "${fails[@]}"; do echo "- $f"; done
fi
echo
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
echo "$(date '+%Y-%m-%d %H:%M %Z'); $(uname -m), ${cpu:-unknown CPU}, $(nproc) CPUs, Linux $(uname -r);" \
  "took $(($(date +%s) - t_start)) s"
exit 0
