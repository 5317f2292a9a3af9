#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, seeded from tests/fuzz/seeds
# (and tests/data for formats with real fixtures). Fails on the first crash, leak or sanitizer report.
set -euo pipefail
build_dir=$(cd "${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for fuzzer in "$build_dir"/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  seeds="$root/tests/fuzz/seeds/${name#fuzz_}"
  corpus="$work/$name"
  mkdir -p "$corpus"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/ 2>/dev/null || true
  # Formats with committed real fixtures seed from those too.
  [ "$name" = fuzz_gguf ] && cp "$root"/tests/data/gguf/*.gguf "$corpus"/ 2>/dev/null || true
  # Per-input limits: past them libFuzzer reports a finding (timeout, malloc or RSS). The chat
  # template target runs with small engine limits (its source says which), so a hang or a blow-up
  # there is a missing engine bound: it gets tight limits.
  limits=(-rss_limit_mb=4096 -timeout=20)
  [ "$name" = fuzz_chat_template ] && limits=(-rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=5)
  echo "== $name: ${seconds}s (${limits[*]})"
  if ! (cd "$work" && "$fuzzer" -max_total_time="$seconds" "${limits[@]}" -max_len=65536 \
        -print_final_stats=1 "$corpus" > "$work/$name.log" 2>&1); then
    echo "FAILED: $name (last lines of its log follow; the crashing input is in the log)"
    tail -n 60 "$work/$name.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/$name.log" | tail -n 2 || true
  fi
done
exit $status
