// The public ollm::matmul: validates the type and every size once, then runs the CPU matmul
// (kernels/cpu/matmul.hpp) on the shared thread pool.
#include "cpu/matmul.hpp"
#include "ollm/ops.hpp"
#include "util/fail.hpp"

namespace ollm {

void matmul(DType w_type, std::span<const uint8_t> w_bytes, int64_t n, int64_t k, std::span<const float> x, int64_t m,
            std::span<float> y, int n_threads) {
  const auto traits = dtype_traits(w_type);
  if (!traits) fail(ErrorCode::invalid_argument, "[ops] matmul: unknown weight type id {}", static_cast<uint32_t>(w_type));
  if (!cpu::matmul_supports(w_type))
    fail(ErrorCode::unsupported, "[ops] matmul: no matmul kernel for {} weights", traits->name);
  if (n < 0 || k < 0 || m < 0) fail(ErrorCode::invalid_argument, "[ops] matmul: negative size n={} k={} m={}", n, k, m);
  if (k % traits->block_elements != 0)
    fail(ErrorCode::invalid_argument, "[ops] matmul: k={} is not a whole number of {}-element {} blocks", k,
         traits->block_elements, traits->name);
  const uint64_t row_bytes = static_cast<uint64_t>(k / traits->block_elements) * traits->block_bytes;
  uint64_t w_expected = 0, x_expected = 0, y_expected = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n), row_bytes, &w_expected) || w_expected != w_bytes.size())
    fail(ErrorCode::invalid_argument, "[ops] matmul: {} weight bytes, but n={} rows of k={} {} elements are {} bytes each",
         w_bytes.size(), n, k, traits->name, row_bytes);
  if (__builtin_mul_overflow(static_cast<uint64_t>(m), static_cast<uint64_t>(k), &x_expected) || x_expected != x.size())
    fail(ErrorCode::invalid_argument, "[ops] matmul: x has {} values, expected m*k = {}*{}", x.size(), m, k);
  if (__builtin_mul_overflow(static_cast<uint64_t>(m), static_cast<uint64_t>(n), &y_expected) || y_expected != y.size())
    fail(ErrorCode::invalid_argument, "[ops] matmul: y has {} values, expected m*n = {}*{}", y.size(), m, n);
  if (m == 0 || n == 0) return;
  cpu::ThreadPool& pool = cpu::default_thread_pool();
  const cpu::WeightMatrix w{w_type, w_bytes.data(), n, k, static_cast<size_t>(row_bytes)};
  cpu::matmul(w, x.data(), m, k, y.data(), n, pool, n_threads <= 0 ? pool.size() : n_threads);
}

}  // namespace ollm
