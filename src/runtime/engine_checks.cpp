// Range checks of EngineOptions and GenerationRequest (see engine_checks.hpp).
#include "runtime/engine_checks.hpp"

#include <string_view>

#include "runtime/kv_cache.hpp"
#include "util/fail.hpp"

namespace ollm::runtime {

void check_engine_options(const EngineOptions& o) {
  if (o.threads < 0 || o.threads > max_engine_threads)
    fail(ErrorCode::invalid_argument, "[engine] threads {} is out of range (0..{}; 0 = all hardware threads)",
         o.threads, max_engine_threads);
  if (o.kv_cache_tokens < 0 || o.kv_cache_tokens > max_cache_tokens)
    fail(ErrorCode::invalid_argument, "[engine] kv_cache_tokens {} is out of range (0..{}; 0 = kv_cache_bytes decides)",
         o.kv_cache_tokens, max_cache_tokens);
  if (o.kv_cache_tokens == 0 && o.kv_cache_bytes == 0)
    fail(ErrorCode::invalid_argument, "[engine] kv_cache_tokens and kv_cache_bytes are both 0: give the KV budget in one of them");
  if (o.kv_type != DType::f16 && o.kv_type != DType::bf16 && o.kv_type != DType::f32 && o.kv_type != DType::q8_0)
    fail(ErrorCode::invalid_argument, "[engine] kv_type {} is not a KV cache type (F16, BF16, F32 or Q8_0)",
         dtype_name(o.kv_type));
  if (o.kv_block_tokens < 1 || o.kv_block_tokens > max_block_tokens)
    fail(ErrorCode::invalid_argument, "[engine] kv_block_tokens {} is out of range (1..{})", o.kv_block_tokens,
         max_block_tokens);
  if (o.max_sequences < 1 || o.max_sequences > max_engine_sequences)
    fail(ErrorCode::invalid_argument, "[engine] max_sequences {} is out of range (1..{})", o.max_sequences,
         max_engine_sequences);
  if (o.max_batch_tokens < 1 || o.max_batch_tokens > max_cache_tokens)
    fail(ErrorCode::invalid_argument, "[engine] max_batch_tokens {} is out of range (1..{})", o.max_batch_tokens,
         max_cache_tokens);
  if (std::string_view(numerics_name(o.numerics)) == "unknown")
    fail(ErrorCode::invalid_argument, "[engine] numerics {} is not an ollm::Numerics value",
         static_cast<int>(o.numerics));
}

void check_request(const GenerationRequest& r) {
  if (r.max_tokens < 0)
    fail(ErrorCode::invalid_argument, "[engine] max_tokens {} is out of range (0..{})", r.max_tokens, INT32_MAX);
  for (size_t i = 0; i < r.stop.size(); ++i)
    if (r.stop[i].empty())
      fail(ErrorCode::invalid_argument, "[engine] stop string {} is empty (it would match before any text)", i);
}

}  // namespace ollm::runtime
