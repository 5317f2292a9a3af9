#!/usr/bin/env bash
# The ollm vs llama.cpp comparison in one command: makes the Python venv (llama-cpp-python built
# natively from source, gguf, numpy, matplotlib), builds ollm and matmul_bench in build-bench,
# then runs scripts/bench/compare_llamacpp.py, which fetches/generates missing models and writes
# docs/bench/compare_llamacpp.{md,png,json}. Arguments go to compare_llamacpp.py:
#
#   scripts/bench/compare.sh                                    # full run: all models, 5 reps
#   scripts/bench/compare.sh --models gemma3,llama1b-q4_0 --reps 1 -p 64 -n 16 --out-dir /tmp/bench
#
# Environment: OLLM_BENCH_VENV (default /tmp/bench_venv), OLLM_BENCH_BUILD (default build-bench),
# OLLM_BENCH_MODELS (default /work/models-bench: the generated models, several GB, kept out of the repo).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${OLLM_BENCH_VENV:-/tmp/bench_venv}
build=${OLLM_BENCH_BUILD:-$repo/build-bench}
export OLLM_BENCH_MODELS=${OLLM_BENCH_MODELS:-/work/models-bench}
jobs=$(nproc)

# The llama.cpp under comparison is the version the repository's goldens were made with, compiled
# on this machine (--no-binary: GGML_NATIVE, so it uses this CPU's AVX-512 like ollm does).
if ! "$venv/bin/python" -c 'import llama_cpp, gguf, numpy, matplotlib' 2>/dev/null; then
  echo "[compare.sh] setting up $venv (compiling llama.cpp takes ~11 min on 2 cores)" >&2
  python3 -m venv "$venv"
  CMAKE_BUILD_PARALLEL_LEVEL=$jobs "$venv/bin/pip" install --quiet --no-binary llama-cpp-python \
    llama-cpp-python==0.3.36 gguf numpy matplotlib
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOLLM_BUILD_FUZZERS=OFF >&2
fi
# Always: a no-op when up to date, and the comparison must never run a stale binary.
cmake --build "$build" -j"$jobs" --target ollm_cli matmul_bench >&2

exec "$venv/bin/python" "$repo/scripts/bench/compare_llamacpp.py" \
  --ollm "$build/bin/ollm" --matmul-bench "$build/tests/matmul_bench" "$@"
