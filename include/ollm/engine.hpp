// ollm::Engine — batch-first generation over one shared Model. Several requests advance together
// in every step (prompt chunks and decode tokens mixed in one batch), each with its own blocks of
// the engine's KV cache. Requests start, finish and are cancelled independently.
//
//   auto model = ollm::Model::load(path);
//   ollm::Engine engine(model, {.threads = 2, .kv_cache_tokens = 8192});
//   auto id = engine.submit({.prompt = "Once upon a time", .max_tokens = 64},
//                           [](std::string_view piece) { std::cout << piece; return true; });
//   engine.run_until_done();
//   ollm::GenerationResult r = engine.take_result(id);
//
// Thread-safety: an Engine is driven (submit/step/run_until_done/take_result) from one thread
// at a time; cancel() may be called from any thread. Engines are independent: several engines
// on one Model may run on different threads at once. Callbacks run on the driving thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ollm/export.h"
#include "ollm/thread_pool.hpp"
#include "ollm/model.hpp"
#include "ollm/sampling.hpp"
#include "ollm/types.hpp"

namespace ollm {

// How the forward pass rounds intermediate values.
//  standard: ollm's kernels (f32 attention probabilities, RoPE angles as transformers computes
//    them, exact GELU, f32 scales for 8-bit activation blocks).
//  llamacpp: the rounding steps of llama.cpp's CPU backend, so that logits track llama.cpp's to
//    within float summation order rather than differing by the few percent that two equally valid
//    8-bit activation roundings differ by: queries and attention probabilities rounded to fp16
//    (F16 KV cache; needs an F16 or F32 cache), GELU through ggml's fp16 table, RoPE angles
//    iterated in f32, fp16 scales on 8-bit activation blocks of the legacy formats, activations
//    rounded to fp16 / bf16 for F16 / BF16 weights, RMS norm sums in double. For migrations and
//    A/B checks against llama.cpp; attention runs in plain scalar code (slower decode).
//  exact: the f32 model that the GGUF dequantizes to, as transformers computes it in float32 for
//    users who audit outputs: quantized weights meet f32 activations in f32 arithmetic (decode:
//    weight codes converted in registers; prefill: weight chunks dequantized to f32 for the f32
//    GEMM) instead of 8-bit activation blocks; every other step is already f32. Keep the KV cache
//    in F32 for the reference match (F16 K/V are read exactly but were rounded when stored): the
//    CLI defaults --numerics exact to --kv-type f32; EngineOptions leave kv_type to the caller.
//    Decode costs about what standard decode costs (memory-bound); prefill is slower (f32 FMA
//    instead of int8 dot products) — docs/BENCHMARKS.md.
enum class Numerics { standard, llamacpp, exact };
OLLM_API const char* numerics_name(Numerics numerics) noexcept;

// Every field is range-checked when the Engine is made: a value outside the range given here
// throws Error(invalid_argument) naming the field, its value and the range.
struct EngineOptions {
  int threads = 0;                 // compute threads, 0..1024; 0 = all of the pool's threads
  // The pool the engine's regions run on, shareable by many engines (ollm/thread_pool.hpp).
  // Null: the library's shared pool (one thread per hardware thread, also used by the public
  // ops), or a pool of its own when `threads` asks for more than that pool has. Engines sharing
  // a pool take turns region by region instead of oversubscribing the cores.
  std::shared_ptr<ThreadPool> thread_pool;
  int64_t kv_cache_tokens = 4096;  // KV budget in tokens shared by all sequences, 0..2^31-1 (0: bytes decide)
  uint64_t kv_cache_bytes = 0;     // or in bytes (when non-zero and smaller)
  DType kv_type = DType::f16;      // F16, BF16, F32, or Q8_0 (head dims multiples of 32)
  int64_t kv_block_tokens = 16;    // KV block size (the unit of allocation), 1..65536
  int max_sequences = 8;           // sequences advanced together per step, 1..4096
  int64_t max_batch_tokens = 512;  // tokens per step (prompt chunks are cut to fit), 1..2^31-1
  Numerics numerics = Numerics::standard;
};

enum class FinishReason {
  none,          // still running
  length,        // max_tokens reached
  eos,           // end-of-sequence / end-of-turn token
  stop_string,   // one of the stop strings appeared (it is not part of the text)
  cancelled,     // cancel() or the callback returned false
  context_full,  // the model's context or the KV budget ran out (error says which)
  error,         // this request failed on its own (its stream callback threw, ...): error says how;
                 // the other requests of the batch are unaffected
};
OLLM_API const char* finish_reason_name(FinishReason reason) noexcept;

enum class Pooling { none, mean, last };

using SessionId = uint64_t;
using RequestId = uint64_t;

struct GenerationRequest {
  std::string prompt;                 // tokenized with the model's tokenizer when prompt_ids is empty
  std::vector<int32_t> prompt_ids;
  bool add_special_tokens = true;     // BOS etc. when tokenizing `prompt`
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;      // stop strings, matched across token boundaries
  bool stop_at_eos = true;            // stop on the model's EOS / end-of-turn ids
  SessionId session = 0;              // 0: a one-off sequence; else reuse that session's KV
};

struct GenerationResult {
  std::string text;                   // generated text (stop string excluded)
  std::vector<int32_t> tokens;        // generated ids (the stop/EOS token included)
  FinishReason finish = FinishReason::none;
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;          // prompt tokens served from the session's KV cache
  std::string error;                  // why, for context_full and error
};

// Receives each piece of text as it becomes final; return false to cancel the request. An
// exception thrown from it ends that request with FinishReason::error (its message in
// GenerationResult::error); it does not propagate out of step().
using StreamCallback = std::function<bool(std::string_view piece)>;

class OLLM_API Engine {
 public:
  explicit Engine(std::shared_ptr<const Model> model, const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Throws Error(invalid_argument) for an empty prompt (or prompt text that
  // tokenizes to nothing), a token id outside the vocabulary, max_tokens < 0, an empty stop
  // string, a sampling setting out of range (naming it), an unknown or busy session, or a
  // prompt longer than the model's context or the KV budget; Error(not_found) when the model
  // has no tokenizer (Model::tokenizer()).
  RequestId submit(GenerationRequest request, StreamCallback on_text = {});
  // Thread-safe. The request finishes with FinishReason::cancelled at the next step.
  void cancel(RequestId id) noexcept;
  // Runs one batched forward step over the active requests. Returns false when nothing is left.
  bool step();
  void run_until_done();
  bool finished(RequestId id) const;
  // The result of a finished request (then forgotten). Throws invalid_argument if unknown or running.
  GenerationResult take_result(RequestId id);

  // Convenience: submit, run until this request is done, return its result.
  GenerationResult generate(GenerationRequest request, StreamCallback on_text = {});

  // Multi-turn: a session keeps its KV cache between requests; a new request whose prompt
  // starts with the session's previous tokens reuses them and computes only the rest.
  SessionId open_session();
  void close_session(SessionId id);   // frees its KV blocks
  void reset_session(SessionId id);   // forgets its history and frees its KV blocks; the id stays valid

  // The logits of every position of `ids` ([ids.size(), vocab], row-major) from a fresh
  // sequence, for verification against reference implementations.
  std::vector<float> logits(std::span<const int32_t> ids);

  // The model's final-norm hidden states of `ids` from a fresh sequence (no logits computed):
  // every position ([ids.size(), hidden_size], Pooling::none), their mean, or the last one
  // ([hidden_size]); `normalize` scales each returned vector to unit L2 norm.
  std::vector<float> embeddings(std::span<const int32_t> ids, Pooling pooling = Pooling::mean, bool normalize = false);

  const Model& model() const noexcept;
  int64_t kv_free_tokens() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ollm
