#!/usr/bin/env bash
# Release build of the library, the ollm tool and the tests into ./build (2 parallel jobs by default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$root/build" -j "${OLLM_JOBS:-2}"
