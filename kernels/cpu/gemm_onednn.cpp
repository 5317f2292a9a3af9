// Prefill GEMM through oneDNN matmul (compiled only with OLLM_ONEDNN): F32 (and BF16 with bf16
// activations) used in place as strided [k, n] views of the mapped rows; F16, exact BF16 and the
// dequantize-then-f32 baseline through per-thread f32 weight chunks. Debian's libdnnl runs on GNU
// OpenMP; our pool threads take column blocks and call oneDNN with one OpenMP thread each, so
// OpenMP never spawns threads that compete with the pool (one 2-thread call measured slower,
// docs/BENCHMARKS.md). Primitives are cached per shape.
#include "cpu/gemm_drivers.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "cpu/dequantize.hpp"
#include "cpu/gemm_float.hpp"
#include "cpu/gemm_int8.hpp"
#include "cpu/quant_blocks.hpp"
#include "util/fail.hpp"

#include <oneapi/dnnl/dnnl.hpp>

// GNU OpenMP (libgomp), the runtime Debian's libdnnl links.
extern "C" void omp_set_num_threads(int);
extern "C" int omp_get_max_threads(void);

namespace ollm::cpu {

namespace {

using dt = dnnl::memory::data_type;

// false: each pool thread runs its column range with 1 OpenMP thread (the default, measured);
// true: one call from the calling thread with n_threads OpenMP threads (for benchmarks).
bool one_call_with_omp = false;

// Weight rows converted per chunk when oneDNN cannot take the type directly (a thread's chunk
// buffer: chunk_rows × k f32, 14.7 MB at k = 14336).
constexpr int64_t chunk_rows = 256;
// Most bytes of bf16 activations converted per pass.
constexpr int64_t act_pass_bytes = int64_t{16} << 20;

// Sets the calling thread's OpenMP thread count for a scope and restores it after (the calling
// thread is the host's: its OpenMP setting must survive the call).
class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreads() { omp_set_num_threads(saved_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Key {
  dt src, wei;
  int64_t m, n, k, x_ld, w_ld, y_ld;
  int threads;
  bool operator<(const Key& o) const {
    return std::tie(src, wei, m, n, k, x_ld, w_ld, y_ld, threads) <
           std::tie(o.src, o.wei, o.m, o.n, o.k, o.x_ld, o.w_ld, o.y_ld, o.threads);
  }
};

struct Prim {
  dnnl::memory::desc src, wei, dst;
  dnnl::matmul matmul;
  size_t scratch_bytes;
};

// Primitives per shape (creating one costs far more than running a small one). Bounded: a
// model has a handful of weight shapes, m varies with the prompt; past the cap, start over.
const Prim& primitive(const Key& key) {
  static std::mutex mutex;
  static std::map<Key, std::unique_ptr<Prim>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  if (cache.size() >= 256) cache.clear();
  auto p = std::make_unique<Prim>();
  p->src = dnnl::memory::desc({key.m, key.k}, key.src, {key.x_ld, 1});
  p->wei = dnnl::memory::desc({key.k, key.n}, key.wei, {1, key.w_ld});
  p->dst = dnnl::memory::desc({key.m, key.n}, dt::f32, {key.y_ld, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const OmpThreads omp(key.threads);  // oneDNN sizes its work split by the threads at creation
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p->src, p->wei, p->dst), attr, cpu_engine());
  p->scratch_bytes = pd.scratchpad_desc().get_size();
  p->matmul = dnnl::matmul(pd);
  return *cache.emplace(key, std::move(p)).first->second;
}

class Buffer {
 public:
  void* get(size_t bytes) {
    if (bytes > size_) {
      data_.reset(static_cast<char*>(std::aligned_alloc(64, (bytes + 4095) / 4096 * 4096)));
      if (!data_) fail(ErrorCode::out_of_memory, "[gemm] cannot allocate {} bytes for oneDNN", bytes);
      size_ = (bytes + 4095) / 4096 * 4096;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(char* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t size_ = 0;
};

// y[m, n] (ld y_ld) = src[m, k] (ld x_ld) · wei[k, n] (element (kk, c) at wei + c * w_ld + kk),
// on the calling thread with `threads` OpenMP threads.
void matmul(dt src_type, const void* src, int64_t x_ld, dt wei_type, const void* wei, int64_t w_ld,
            float* y, int64_t y_ld, int64_t m, int64_t n, int64_t k, int threads) {
  try {
    const Prim& p = primitive({src_type, wei_type, m, n, k, x_ld, w_ld, y_ld, threads});
    thread_local Buffer scratch;
    thread_local dnnl::stream stream(cpu_engine());
    dnnl::memory src_mem(p.src, cpu_engine(), const_cast<void*>(src));
    dnnl::memory wei_mem(p.wei, cpu_engine(), const_cast<void*>(wei));
    dnnl::memory dst_mem(p.dst, cpu_engine(), y);
    dnnl::memory scratch_mem(dnnl::memory::desc({static_cast<int64_t>(p.scratch_bytes)}, dt::u8, {1}),
                             cpu_engine(), scratch.get(std::max<size_t>(p.scratch_bytes, 64)));
    const OmpThreads omp(threads);
    p.matmul.execute(stream, {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem},
                              {DNNL_ARG_DST, dst_mem}, {DNNL_ARG_SCRATCHPAD, scratch_mem}});
    stream.wait();
  } catch (const dnnl::error& e) {
    fail(ErrorCode::internal, "[gemm] oneDNN matmul {}x{}x{}: {} (status {})", m, n, k, e.what(),
         static_cast<int>(e.status));
  }
}

// Runs body(c0, c1, omp_threads) over column blocks of [0, n) (block wide, the last narrower),
// taken dynamically by up to n_threads pool threads, each calling oneDNN with one OpenMP thread;
// or, in the benchmark's one-call mode, once over all columns with n_threads OpenMP threads.
template <class Fn>
void for_column_blocks(ThreadPool& pool, int n_threads, int64_t n, int64_t block, Fn&& body) {
  if (one_call_with_omp) {
    body(int64_t{0}, n, n_threads);
    return;
  }
  PanelQueue queue;
  queue.end = (n + block - 1) / block;
  const int used = static_cast<int>(std::clamp<int64_t>(queue.end, 1, std::max(1, n_threads)));
  pool.run(used, [&](int, int) {
    for (int64_t b = queue.take(); b >= 0; b = queue.take()) body(b * block, std::min(n, (b + 1) * block), 1);
  });
}

// Column blocks for in-place weights: a few per thread (load balance on a busy machine) but wide
// enough that oneDNN's per-call cost stays small.
int64_t in_place_block(int64_t n, int n_threads) {
  return std::max<int64_t>(256, (n / (4 * std::max(1, n_threads)) + 63) / 64 * 64);
}

// Rows [r0, r1) of w converted to f32 into out ([r1 - r0][k]): float types with the ISA
// variant's conversion, quantized types (the baseline) with the scalar dequantizer.
void rows_to_f32(Isa isa, const WeightMatrix& w, int64_t r0, int64_t r1, float* out) {
  if (w.type == DType::f32 || w.type == DType::f16 || w.type == DType::bf16) {
    pick_isa(isa, &scalar::gemm_weight_rows_f32, &avx2::gemm_weight_rows_f32, &avx512::gemm_weight_rows_f32)(w, r0, r1, out);
    return;
  }
  const DequantizeRowFn fn = dequantize_row_fn(w.type);
  for (int64_t r = r0; r < r1; ++r)
    fn(static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * w.row_stride, out + (r - r0) * w.n_cols, w.n_cols);
}

void run_chunked_f32(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
                     int64_t y_stride, ThreadPool& pool, int n_threads) {
  const int64_t k = w.n_cols;
  for_column_blocks(pool, n_threads, w.n_rows, chunk_rows, [&](int64_t c0, int64_t c1, int omp_threads) {
    thread_local Buffer chunk;
    auto* wf = static_cast<float*>(chunk.get(static_cast<size_t>(std::min(chunk_rows, c1 - c0) * k) * 4));
    for (int64_t r0 = c0; r0 < c1; r0 += chunk_rows) {  // one chunk, or all of n in one-call mode
      const int64_t r1 = std::min(c1, r0 + chunk_rows);
      rows_to_f32(isa, w, r0, r1, wf);
      matmul(dt::f32, x, x_stride, dt::f32, wf, k, y + r0, y_stride, m, r1 - r0, k, omp_threads);
    }
  });
}

}  // namespace

bool gemm_onednn_available() noexcept { return true; }

void gemm_onednn_set_one_call(bool one_call) noexcept { one_call_with_omp = one_call; }

void gemm_run_onednn(Isa isa, bool bf16_activations, const WeightMatrix& w, const float* x, int64_t m,
                     int64_t x_stride, float* y, int64_t y_stride, ThreadPool& pool, int n_threads) {
  const int64_t k = w.n_cols;
  // In place only when rows are whole elements apart and element-aligned (oneDNN takes strides
  // in elements); otherwise through converted chunks like F16.
  const size_t elem = w.type == DType::f32 ? 4 : 2;
  const bool in_place = w.row_stride % elem == 0 && reinterpret_cast<uintptr_t>(w.data) % elem == 0;
  if (w.type == DType::f32 && in_place) {
    for_column_blocks(pool, n_threads, w.n_rows, in_place_block(w.n_rows, n_threads),
                      [&](int64_t c0, int64_t c1, int omp_threads) {
                        const auto* wp = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(c0) * w.row_stride;
                        matmul(dt::f32, x, x_stride, dt::f32, wp, static_cast<int64_t>(w.row_stride / 4), y + c0,
                               y_stride, m, c1 - c0, k, omp_threads);
                      });
    return;
  }
  if (w.type == DType::bf16 && bf16_activations && in_place) {
    // Activations rounded to bf16 (oneDNN 2.6 has no f32 x bf16 matmul), in passes of at most
    // act_pass_bytes so the buffer stays small whatever m is.
    const int64_t pass_rows = std::clamp<int64_t>(act_pass_bytes / (2 * k), 1, m);
    thread_local Buffer act;
    auto* xb = static_cast<uint16_t*>(act.get(static_cast<size_t>(pass_rows * k) * 2));
    const auto to_bf16 = pick_isa(isa, &scalar::gemm_rows_to_bf16, &avx2::gemm_rows_to_bf16, &avx512::gemm_rows_to_bf16);
    for (int64_t p0 = 0; p0 < m; p0 += pass_rows) {
      const int64_t rows = std::min(pass_rows, m - p0);
      pool.parallel_for(rows, n_threads, 1, [&](int64_t r0, int64_t r1, int) {
        to_bf16(x + (p0 + r0) * x_stride, x_stride, r1 - r0, k, xb + r0 * k, k);
      });
      for_column_blocks(pool, n_threads, w.n_rows, in_place_block(w.n_rows, n_threads),
                        [&](int64_t c0, int64_t c1, int omp_threads) {
                          const auto* wp = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(c0) * w.row_stride;
                          matmul(dt::bf16, xb, k, dt::bf16, wp, static_cast<int64_t>(w.row_stride / 2),
                                 y + p0 * y_stride + c0, y_stride, rows, c1 - c0, k, omp_threads);
                        });
    }
    return;
  }
  // F16 (no f16 matmul in this oneDNN on CPUs without AVX512-FP16) and exact BF16.
  run_chunked_f32(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
}

void gemm_run_onednn_dequant(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride,
                             float* y, int64_t y_stride, ThreadPool& pool, int n_threads) {
  run_chunked_f32(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
}

}  // namespace ollm::cpu
