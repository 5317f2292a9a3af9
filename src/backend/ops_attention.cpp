// The public transformer-op entry points (include/ollm/ops.hpp): validate shapes once, with
// messages that name the values, then run the CPU kernels on the shared thread pool.
#include <algorithm>
#include <cmath>

#include "backend/validate.hpp"
#include "cpu/attention.hpp"
#include "cpu/ops.hpp"
#include "cpu/thread_pool.hpp"
#include "ollm/ops.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

int threads_or_default(int n_threads, cpu::ThreadPool& pool) { return n_threads > 0 ? n_threads : pool.size(); }

}  // namespace

void rope(const RopeParams& p, std::span<float> x, std::span<const int32_t> pos, int n_heads) {
  if (n_heads <= 0 || p.head_dim <= 0)
    fail(ErrorCode::invalid_argument, "[rope] n_heads {} and head_dim {} must be positive", n_heads, p.head_dim);
  const uint64_t per_token = static_cast<uint64_t>(n_heads) * static_cast<uint64_t>(p.head_dim);
  if (x.size() != pos.size() * per_token)
    fail(ErrorCode::invalid_argument, "[rope] x has {} values but {} positions x {} heads x {} dims need {}", x.size(),
         pos.size(), n_heads, p.head_dim, pos.size() * per_token);
  backend::validate_rope_params(p);
  const cpu::RopeTable table = cpu::make_rope_table(p);
  cpu::rope(p, table, x.data(), static_cast<int64_t>(pos.size()), n_heads, pos.data());
}

void rms_norm(std::span<const float> x, std::span<const float> weight, std::span<float> y, int64_t n, float eps,
              int n_threads) {
  if (n <= 0) fail(ErrorCode::invalid_argument, "[rms_norm] row length {} must be positive", n);
  if (x.size() % static_cast<uint64_t>(n) != 0)
    fail(ErrorCode::invalid_argument, "[rms_norm] x has {} values, not a whole number of rows of {}", x.size(), n);
  if (y.size() != x.size())
    fail(ErrorCode::invalid_argument, "[rms_norm] y has {} values but x has {}", y.size(), x.size());
  if (!weight.empty() && weight.size() != static_cast<uint64_t>(n))
    fail(ErrorCode::invalid_argument, "[rms_norm] weight has {} values but rows have {}", weight.size(), n);
  if (!(eps >= 0.0f)) fail(ErrorCode::invalid_argument, "[rms_norm] eps {} must be >= 0", eps);
  const int64_t rows = static_cast<int64_t>(x.size()) / n;
  const float* w = weight.empty() ? nullptr : weight.data();
  auto& pool = cpu::default_thread_pool();
  // Rows are independent; threads only pay off on large inputs.
  const int threads = rows * n < (int64_t{1} << 16) ? 1 : threads_or_default(n_threads, pool);
  pool.parallel_for(rows, threads, 1, [&](int64_t begin, int64_t end, int) {
    cpu::rms_norm(x.data() + begin * n, w, y.data() + begin * n, end - begin, n, eps);
  });
}

void attention(const AttentionParams& p, std::span<const float> q, std::span<const int32_t> q_pos, DType kv_type,
               std::span<const uint8_t> k, std::span<const uint8_t> v, std::span<float> out, int n_threads) {
  if (p.n_heads <= 0 || p.n_kv_heads <= 0 || p.head_dim <= 0 || p.head_dim_v <= 0)
    fail(ErrorCode::invalid_argument,
         "[attention] n_heads {}, n_kv_heads {}, head_dim {}, head_dim_v {} must all be positive", p.n_heads,
         p.n_kv_heads, p.head_dim, p.head_dim_v);
  if (p.n_heads % p.n_kv_heads != 0)
    fail(ErrorCode::invalid_argument, "[attention] n_heads {} is not a multiple of n_kv_heads {}", p.n_heads,
         p.n_kv_heads);
  if (!std::isfinite(p.scale)) fail(ErrorCode::invalid_argument, "[attention] scale {} is not finite", p.scale);
  if (!(p.softcap >= 0.0f) || !std::isfinite(p.softcap))
    fail(ErrorCode::invalid_argument, "[attention] softcap {} must be 0 (off) or positive", p.softcap);
  if (p.window < 0) fail(ErrorCode::invalid_argument, "[attention] window {} must be >= 0", p.window);
  if (!cpu::attention_supports(kv_type))
    fail(ErrorCode::unsupported, "[attention] K/V type {} is not supported (F32, F16, BF16, Q8_0 are)",
         dtype_name(kv_type));
  if (kv_type == DType::q8_0 && (p.head_dim % 32 != 0 || p.head_dim_v % 32 != 0))
    fail(ErrorCode::invalid_argument, "[attention] Q8_0 K/V needs head dims that are multiples of 32 (got {} and {})",
         p.head_dim, p.head_dim_v);
  const uint64_t n_q = q_pos.size();
  const uint64_t q_row = static_cast<uint64_t>(p.n_heads) * static_cast<uint64_t>(p.head_dim);
  if (q.size() != n_q * q_row)
    fail(ErrorCode::invalid_argument, "[attention] q has {} values but {} positions x {} heads x {} dims need {}",
         q.size(), n_q, p.n_heads, p.head_dim, n_q * q_row);
  const uint64_t o_row = static_cast<uint64_t>(p.n_heads) * static_cast<uint64_t>(p.head_dim_v);
  if (out.size() != n_q * o_row)
    fail(ErrorCode::invalid_argument, "[attention] out has {} values but {} queries x {} heads x {} dims need {}",
         out.size(), n_q, p.n_heads, p.head_dim_v, n_q * o_row);
  const uint64_t k_token = dtype_row_bytes(kv_type, int64_t{p.n_kv_heads} * p.head_dim);
  const uint64_t v_token = dtype_row_bytes(kv_type, int64_t{p.n_kv_heads} * p.head_dim_v);
  if (k.size() % k_token != 0)
    fail(ErrorCode::invalid_argument, "[attention] k has {} bytes, not a whole number of {}-byte tokens ({} kv heads x {} dims of {})",
         k.size(), k_token, p.n_kv_heads, p.head_dim, dtype_name(kv_type));
  const uint64_t n_kv = k.size() / k_token;
  if (v.size() != n_kv * v_token)
    fail(ErrorCode::invalid_argument, "[attention] v has {} bytes but {} tokens of {} bytes need {}", v.size(), n_kv,
         v_token, n_kv * v_token);
  for (uint64_t i = 0; i < n_q; ++i)
    if (q_pos[i] < 0) fail(ErrorCode::invalid_argument, "[attention] q_pos[{}] = {} is negative", i, q_pos[i]);
  if (n_q == 0) return;
  const void* k_block = k.data();
  const void* v_block = v.data();
  // One block holding every token (block_tokens >= 1 even for an empty cache).
  const int64_t block_tokens = std::max<int64_t>(1, static_cast<int64_t>(n_kv));
  const cpu::KvView kv_k{kv_type, &k_block, block_tokens, static_cast<int64_t>(n_kv), k_token};
  const cpu::KvView kv_v{kv_type, &v_block, block_tokens, static_cast<int64_t>(n_kv), v_token};
  auto& pool = cpu::default_thread_pool();
  cpu::attention(p, q.data(), q_pos.data(), static_cast<int64_t>(n_q), kv_k, kv_v, out.data(), pool,
                 threads_or_default(n_threads, pool));
}

}  // namespace ollm
