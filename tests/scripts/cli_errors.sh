#!/usr/bin/env bash
# `ollm` exit codes and messages on bad input: 2 for usage errors, 1 for failed operations,
# and the message names the file and the problem.
set -u
ollm=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect() {  # expect EXIT_CODE STDERR_SUBSTRING -- COMMAND...
  local code=$1 needle=$2; shift 3
  "$@" > "$tmp/out" 2> "$tmp/err"
  local got=$?
  if [ "$got" -ne "$code" ] || ! grep -qF -- "$needle" "$tmp/err"; then
    echo "FAIL: $* -> exit $got (want $code), stderr: $(cat "$tmp/err") (want '$needle')"
    failures=$((failures + 1))
  else
    echo "ok: $* -> $got"
  fi
}

printf 'GGUF\x01\x00\x00\x00' > "$tmp/v1.gguf"
printf 'not a model at all' > "$tmp/junk.gguf"
expect 2 "model is required" -- "$ollm" inspect
expect 2 "--bogus" -- "$ollm" inspect --bogus x
expect 1 "does not exist" -- "$ollm" inspect "$tmp/missing.gguf"
expect 1 "bad magic" -- "$ollm" inspect "$tmp/junk.gguf"
expect 1 "GGUF version 1 is not supported" -- "$ollm" inspect "$tmp/v1.gguf"
"$ollm" --version > "$tmp/version" || { echo "FAIL: --version"; failures=$((failures + 1)); }
grep -q "^backends: cpu" "$tmp/version" || { echo "FAIL: --version lacks backends"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ]
