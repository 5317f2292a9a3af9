#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#  1. Release build (gcc; the CUDA backend too when the toolkit is installed) and every test,
#     including the real-model checks (Gemma 3 270M, SmolLM2-135M-Instruct, Qwen2.5-Coder-0.5B-Instruct:
#     scripts/get-models.sh fetches them first);
#  2. the same tests built with clang under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. a ThreadSanitizer build of the engine and thread-pool tests;
#  4. a static libollm built with the vcpkg port's default options, installed, and consumed;
#  5. every libFuzzer target for OLLM_FUZZ_SECONDS (default 60) each, on the sanitizer build.
# Ends with one line "N passed, N failed" counting test cases and fuzzers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${OLLM_JOBS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

"$root/scripts/get-models.sh" > /dev/null

echo "== Release build and tests"
"$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs" 2>&1 | tee "$logs/release.log"

echo "== Sanitizer build (clang, address+undefined) and tests"
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOLLM_CUDA=OFF -DOLLM_SANITIZE=address,undefined -DOLLM_BUILD_FUZZERS=ON
cmake --build "$root/build-asan" -j "$jobs"
# The real-model comparison (label real_model, minutes of compute) runs in the Release pass only.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" -LE real_model 2>&1 | tee "$logs/asan.log"

echo "== ThreadSanitizer: engines, batching, cancellation and the thread pool"
# Its own small build (clang, -fsanitize=thread, no oneDNN: its OpenMP runtime is not instrumented).
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOLLM_CUDA=OFF -DOLLM_ONEDNN=OFF -DOLLM_SANITIZE=thread -DOLLM_BUILD_FUZZERS=OFF -DOLLM_BUILD_EXAMPLES=OFF
cmake --build "$root/build-tsan" -j "$jobs" --target test_models test_kernels
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir "$root/build-tsan" --output-on-failure -j "$jobs" \
  -R "sequences batched|two threads|cancel from another|session reuses|thread pool|parallel_for|exception in any worker" \
  2>&1 | tee "$logs/tsan.log"

echo "== Static libollm with the vcpkg port's default options (onednn on, cuda off): build, install, consumers"
# The configuration ports/ollm/portfile.cmake passes for the default feature set on x64-linux
# (a static triplet), built for real and consumed through find_package and pkg-config --static.
static_status=0
version=$(sed -n 's/^project(ollm VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
{
  cmake -S "$root" -B "$root/build-static" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DOLLM_CUDA=OFF -DOLLM_ONEDNN=ON -DOLLM_BUILD_TESTS=OFF -DOLLM_BUILD_EXAMPLES=OFF -DOLLM_BUILD_FUZZERS=OFF &&
  cmake --build "$root/build-static" -j "$jobs" &&
  "$root/tests/packaging/consumer_test.sh" "$root/build-static" "$root/build-static/consumer_work" "$version" \
    "$(command -v cmake)" Ninja "$(command -v ninja)" "$(command -v cc)" "$(command -v c++)" "$(command -v pkg-config)"
} 2>&1 | tee "$logs/static.log" || static_status=1

echo "== Fuzzers"
fuzz_status=0
"$root/scripts/run-fuzzers.sh" "$root/build-asan" "${OLLM_FUZZ_SECONDS:-60}" 2>&1 | tee "$logs/fuzz.log" || fuzz_status=1

count() { grep -Eo "$1" "$2" | grep -Eo '[0-9]+' | head -n 1; }
passed=0; failed=0
for log in "$logs/release.log" "$logs/asan.log" "$logs/tsan.log"; do
  total=$(count 'out of [0-9]+' "$log"); bad=$(count '[0-9]+ tests failed' "$log")
  passed=$((passed + ${total:-0} - ${bad:-0})); failed=$((failed + ${bad:-0}))
done
if [ "$static_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
fuzzers=$(grep -c '^== fuzz_' "$logs/fuzz.log" || true)
fuzz_failed=$(grep -c '^FAILED: fuzz_' "$logs/fuzz.log" || true)
passed=$((passed + fuzzers - fuzz_failed)); failed=$((failed + fuzz_failed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$fuzz_status" -eq 0 ]
