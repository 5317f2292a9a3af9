#!/usr/bin/env bash
# chat_session.sh OLLM MODEL INPUT EXPECTED: pipes INPUT (one user turn a line) into
# `ollm chat -m MODEL` (greedy, the model's own chat template, one session) and requires its
# standard output to equal EXPECTED byte for byte (llama.cpp's greedy replies, each followed by a
# newline: tests/data/<model>/chat_session_expected.txt from
# scripts/reference/make_instruct_llamacpp_goldens.py). Exits 77 (CTest: skipped) when MODEL has
# not been downloaded (scripts/get-models.sh).
set -uo pipefail
ollm=$1 model=$2 input=$3 expected=$4
if [ ! -f "$model" ]; then
  echo "SKIP: $model not downloaded (scripts/get-models.sh)"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# -n: the golden's replies were generated with at most 64 tokens each.
if ! "$ollm" chat -m "$model" -n 64 -t 2 < "$input" > "$out"; then
  echo "FAIL: ollm chat exited with an error"
  exit 1
fi
if ! cmp -s "$out" "$expected"; then
  echo "FAIL: ollm chat's replies differ from llama.cpp's"
  diff <(cat "$expected") <(cat "$out")
  exit 1
fi
echo "ollm chat replied as llama.cpp: $(wc -l < "$expected") turns, $(wc -c < "$expected") bytes"
