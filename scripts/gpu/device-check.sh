#!/usr/bin/env bash
# The CUDA backend's whole check on a lent GPU machine, in two halves:
#
#   scripts/gpu/device-check.sh pack   (here, on the build machine)
#     Builds build-gpu (Release, CUDA for sm_90, no oneDNN: the GPU machine has no Debian
#     libraries) and copies what the run needs into .gpu/ (git-ignored through
#     .git/info/exclude): the test executables, the ollm tool, libollm, the shared libraries
#     they load that the GPU image lacks, the gguf wheel and the Llama 3 tokenizer archive for
#     the benchmark model.
#
#   scripts/gpu/device-check.sh run    (there, through the device tool with carry [".gpu"])
#     Writes under $OUT: gpu.txt (nvidia-smi, the measured device-to-device bandwidth),
#     tests.log (the device-parameterised op suite, the quantized matmul test, the tiny families
#     on CUDA), memcheck.log (compute-sanitizer on the op suite), bench.jsonl (ollm bench
#     --device cuda on Llama-3-8B-shaped random models), and summary.txt. Stages can be chosen:
#     OLLM_GPU_STAGES="tests memcheck bench" (the default: all three).
#
# A machine without a GPU makes the run stop at once with exit 77 and says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
carry="$root/.gpu"

pack() {
  grep -qx '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$root/.git/info/exclude"
  cmake -S "$root" -B "$root/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOLLM_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DOLLM_ONEDNN=OFF -DOLLM_BUILD_FUZZERS=OFF
  cmake --build "$root/build-gpu" -j "${OLLM_JOBS:-2}" --target ollm_cli test_backend test_models test_cuda_matmul
  rm -rf "$carry" && mkdir -p "$carry/bin" "$carry/lib" "$carry/data"
  cp "$root/build-gpu/bin/ollm" "$root/build-gpu/tests/test_backend" "$root/build-gpu/tests/test_models" \
     "$root/build-gpu/tests/test_cuda_matmul" "$carry/bin/"
  cp -L "$root/build-gpu/src/libollm.so.0" "$carry/lib/"  # the soname the executables ask for (no links)
  # The Debian libraries the executables load, except libc/libstdc++/libgcc (the GPU image's own
  # are newer) and the CUDA ones (its toolkit has them).
  for exe in "$carry"/bin/*; do ldd "$exe"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
    grep -Ev '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|ld-linux[^/]*)\.so|libcu' |
    while read -r lib; do cp -L "$lib" "$carry/lib/"; done
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$carry/data" gguf==0.19.0
  cp "$root/../shared/testdata/tokenizers/llama3.tar.xz" "$carry/data/"
  du -sh "$carry"
  # The test executables read the fixtures at the paths compiled into them.
  echo "$root" > "$carry/data/build-root"
}

run() {
  out=${OUT:-$root/gpu-out}
  mkdir -p "$out"
  stages=${OLLM_GPU_STAGES:-tests memcheck bench}
  if ! nvidia-smi > "$out/gpu.txt" 2>&1; then
    echo "device-check: no GPU here (nvidia-smi failed); nothing to check" | tee -a "$out/summary.txt"
    exit 77
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv >> "$out/gpu.txt"
  # The fixtures' compiled-in paths point at the build machine's checkout: link it to this one.
  built_root=$(cat "$carry/data/build-root")
  if [ "$built_root" != "$root" ] && [ ! -e "$built_root" ]; then
    mkdir -p "$(dirname "$built_root")" && ln -s "$root" "$built_root"
  fi
  mkdir -p "$built_root/build-gpu"
  cublas_dirs=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
  export LD_LIBRARY_PATH="$carry/lib:/usr/local/cuda/lib64:${cublas_dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  bin="$carry/bin"
  # Device-to-device copy bandwidth (bytes read + written), the decode benchmarks' limit.
  python3 - >> "$out/gpu.txt" 2>&1 <<'PY' || true
import torch
n = 1 << 30
a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record()
for _ in range(20): b.copy_(a)
e.record(); torch.cuda.synchronize()
sec = s.elapsed_time(e) / 1e3 / 20
print(f"d2d copy: {2 * n / sec / 1e9:.0f} GB/s (read + write, 1 GiB, mean of 20)")
PY
  status=0
  if [[ " $stages " == *" tests "* ]]; then
    {
      echo "== test_backend on cuda"; OLLM_TEST_DEVICE=cuda "$bin/test_backend" || status=1
      echo "== test_cuda_matmul"; "$bin/test_cuda_matmul" || status=1
      echo "== tiny families on cuda"
      OLLM_TEST_DEVICE=cuda "$bin/test_models" "--test-case=every family*,quantized models*,embeddings are*" || status=1
      echo "== the same families on the cpu (the reference the GPU run is read against)"
      "$bin/test_models" "--test-case=every family*" || status=1
    } > "$out/tests.log" 2>&1
    echo "tests: $([ $status -eq 0 ] && echo passed || echo FAILED) (tests.log)" >> "$out/summary.txt"
  fi
  if [[ " $stages " == *" memcheck "* ]]; then
    if OLLM_TEST_DEVICE=cuda compute-sanitizer --tool memcheck --error-exitcode 3 --leak-check full \
         "$bin/test_backend" > "$out/memcheck.log" 2>&1; then
      echo "memcheck: clean (memcheck.log)" >> "$out/summary.txt"
    else
      status=1; echo "memcheck: FAILED (memcheck.log)" >> "$out/summary.txt"
    fi
  fi
  if [[ " $stages " == *" bench "* ]]; then
    models=/tmp/ollm-bench-models
    mkdir -p "$models"
    python3 -m pip install -q --no-index --no-deps --target /tmp/site "$carry"/data/gguf-*.whl
    PYTHONPATH=/tmp/site python3 "$root/scripts/bench/make_random_llama.py" --out-dir "$models" \
      --models llama8b-f16 --tokenizer-archive "$carry/data/llama3.tar.xz" > "$out/bench-models.log" 2>&1
    # Q8_0 and Q4_K by ollm's quantizer (a uniform type; llama.cpp's Q4_K_M mix needs llama.cpp).
    "$bin/ollm" quantize "$models/llama8b-f16.gguf" "$models/llama8b-q8_0.gguf" Q8_0 >> "$out/bench-models.log" 2>&1
    "$bin/ollm" quantize "$models/llama8b-f16.gguf" "$models/llama8b-q4_k.gguf" Q4_K >> "$out/bench-models.log" 2>&1
    for m in llama8b-q4_k llama8b-q8_0 llama8b-f16; do
      "$bin/ollm" bench -m "$models/$m.gguf" --device cuda -p 512,4096 -n 128 -s 1,8,32,64 -r 3 --warmup 1 \
        --load-repetitions 1 --json >> "$out/bench.jsonl" 2>> "$out/bench-models.log" || status=1
    done
    echo "bench: $(wc -l < "$out/bench.jsonl") models measured (bench.jsonl)" >> "$out/summary.txt"
  fi
  cat "$out/summary.txt"
  exit $status
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run (see the header)" >&2; exit 2 ;;
esac
