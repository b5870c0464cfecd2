#!/usr/bin/env bash
# Bounded fuzzing of the cargo-fuzz targets in fuzz/ (for CI and `make fuzz`).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 20)
#
# Environment:
#   FUZZ_DECODER_SECONDS  seconds for the decoder targets (decode_packet,
#                         decode_chunk); defaults to SECONDS_PER_TARGET
#   FUZZ_SANITIZER        cargo-fuzz sanitizer (default: address)
#   FUZZ_TARGETS          space-separated subset of targets to run
#
# Builds on *stable* Rust: cargo-fuzz passes nightly-only flags
# (-Zsanitizer=address, -Cpasses=sancov-module, ...), and RUSTC_BOOTSTRAP=1
# makes a stable toolchain accept them. Needs cargo-fuzz on PATH (CI runs
# `cargo install cargo-fuzz --locked`); installs nothing itself.
#
# Each target first replays the inputs under fuzz/regressions/<target>/ (if
# any), then fuzzes for the given time starting from a *copy* of
# fuzz/corpus/<target>/ in a temporary directory, so the repository is left
# untouched. Any crash, panic, sanitizer report, timeout or OOM fails the
# script; the offending input is copied to fuzz/artifacts/<target>/ (ignored
# by git) and printed as hex.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
decoder_secs=${FUZZ_DECODER_SECONDS:-$secs}
sanitizer=${FUZZ_SANITIZER:-address}
targets=${FUZZ_TARGETS:-decode_packet decode_chunk association sockopt ipc_request}
for n in "$secs" "$decoder_secs"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then
    echo "fuzz.sh: seconds must be a positive integer, got '$n'" >&2
    exit 2
  fi
done
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz not found (cargo install cargo-fuzz --locked)" >&2
  exit 2
fi

export RUSTC_BOOTSTRAP=1
host=$(rustc -vV | sed -n 's/^host: //p')
echo "fuzz.sh: building fuzz targets ($(rustc --version), sanitizer: $sanitizer)"
cargo fuzz build -O -a -s "$sanitizer" --target "$host"
bindir=fuzz/target/$host/release

work=$(mktemp -d "${TMPDIR:-/tmp}/sctpshim-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# First 4 KiB of a file as hex (|| true: head closing the pipe early is fine).
hex() { od -An -tx1 -v "$1" | tr -d ' \n' | head -c 8192 || true; echo; }

# Libfuzzer flags common to every run: a hung input is a failure, as is
# memory growth past 2 GiB.
common=(-timeout=25 -rss_limit_mb=2048)

failed=()
summary=()
for t in $targets; do
  bin=$bindir/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin was not built" >&2
    exit 2
  fi
  case $t in
    decode_*) n=$decoder_secs ;;
    *) n=$secs ;;
  esac
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  log=$work/$t/log

  # 1. Known crashers must stay fixed.
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    echo "fuzz.sh: $t: replaying fuzz/regressions/$t/"
    if ! "$bin" "${common[@]}" -artifact_prefix="$work/$t/artifacts/" \
      fuzz/regressions/"$t"/* >"$log.regress" 2>&1; then
      tail -n 40 "$log.regress"
      echo "fuzz.sh: $t: a regression input fails again" >&2
      failed+=("$t (regression)")
      summary+=("$t: FAILED replaying fuzz/regressions/$t")
      continue
    fi
  fi

  # 2. Fuzz from a copy of the seed corpus.
  if [ -d "fuzz/corpus/$t" ]; then
    cp -R "fuzz/corpus/$t/." "$work/$t/corpus/"
  fi
  echo "fuzz.sh: $t: fuzzing for ${n}s"
  rc=0
  "$bin" "${common[@]}" -max_total_time="$n" -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" >"$log" 2>&1 || rc=$?

  # (|| true: a crashed run may lack any of these lines.)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1 || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -n 1 | cut -d' ' -f2)
  corpus_n=$(find "$work/$t/corpus" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log"
    mkdir -p "fuzz/artifacts/$t"
    for a in "$work/$t/artifacts"/*; do
      [ -f "$a" ] || continue
      cp "$a" "fuzz/artifacts/$t/"
      echo "fuzz.sh: $t: failing input fuzz/artifacts/$t/$(basename "$a") (hex):"
      hex "$a"
    done
    failed+=("$t")
    summary+=("$t: FAILED (exit $rc) after ${runs:-?} runs")
  else
    summary+=("$t: ok, ${runs:-?} runs in ${n}s (${rate:-?} exec/s), cov ${cov:-?}, corpus $corpus_n inputs")
  fi
done

echo "fuzz.sh: summary"
for line in "${summary[@]}"; do
  echo "  $line"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all targets passed"
