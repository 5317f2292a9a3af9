// The decoder forward pass over one batch: rows from several sequences (prefill chunks and
// decode tokens mixed), each sequence attending to its own KV blocks. Written against the CPU
// kernels; knows nothing of sampling or scheduling.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "cpu/thread_pool.hpp"
#include "ollm/engine.hpp"
#include "model/decoder_config.hpp"
#include "model/decoder_weights.hpp"
#include "runtime/kv_cache.hpp"

namespace ollm::model {

struct BatchSequence {
  runtime::KvSequence* kv = nullptr;  // holds kv->n_tokens cached tokens; the batch appends
  int64_t first_row = 0;              // rows [first_row, first_row + n_rows) of the batch
  int64_t n_rows = 0;                 // positions kv->n_tokens .. + n_rows - 1
  bool logits_last = false;           // logits for the last row
  bool logits_all = false;            // logits for every row (verification)
};

struct Batch {
  std::vector<int32_t> tokens;        // [n_rows]
  std::vector<BatchSequence> sequences;
  // Instead of logits, write the final-norm hidden states ([rows, hidden]) of the same rows:
  // the model's embeddings of those positions (the output matrix is skipped).
  bool hidden_states = false;
};

class DecoderRunner {
 public:
  // Rows per pass through the MLP (see mlp_block).
  static constexpr int64_t mlp_chunk_rows = 256;

  // numerics: Numerics::llamacpp swaps in llama.cpp's rounding steps (cpu/llamacpp_numerics.hpp);
  // its attention then needs an F16 or F32 KV cache (the engine checks).
  DecoderRunner(const DecoderConfig& config, const DecoderWeights& weights, Numerics numerics = Numerics::standard);

  // Runs the batch, appends every row's K/V to its sequence (the caller reserved the blocks)
  // and advances kv->n_tokens. logits: [rows with logits, vocab] in sequence order, the rows of
  // a logits_all sequence in position order (or their hidden states, batch.hidden_states).
  // Returns the number of rows written.
  // Token ids are validated (invalid_argument naming the id).
  int64_t forward(const Batch& batch, runtime::KvCache& cache, std::vector<float>& logits, cpu::ThreadPool& pool,
                  int n_threads);

  const DecoderConfig& config() const noexcept { return config_; }

 private:
  void attention_block(int64_t layer, const Batch& batch, runtime::KvCache& cache, cpu::ThreadPool& pool,
                       int n_threads);
  void mlp_block(int64_t layer, int64_t n, cpu::ThreadPool& pool, int n_threads);
  void moe_block(int64_t layer, int64_t n, cpu::ThreadPool& pool, int n_threads);
  // y[rows, w.n_rows] = x[rows, w.n_cols] · wᵀ with this runner's activation rounding.
  void linear(const cpu::WeightMatrix& w, const float* x, int64_t rows, float* y, cpu::ThreadPool& pool,
              int n_threads);
  // The same for up to 4 matrices over the same rows x (q, k, v; gate, up): ys[i] = x · ws[i]ᵀ, in
  // one pass over the thread pool where their types allow (cpu::matmul_shared_input).
  void linear_shared(std::initializer_list<const cpu::WeightMatrix*> ws, std::initializer_list<float*> ys,
                     const float* x, int64_t rows, cpu::ThreadPool& pool, int n_threads);
  void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n) const;
  void gated_activation(const float* gate, const float* up, float* out, int64_t rows, int64_t n, int64_t gate_stride,
                        int64_t up_stride) const;

  const DecoderConfig& config_;
  const DecoderWeights& weights_;
  Numerics numerics_;
  cpu::RopeTable rope_table_, rope_local_table_;
  // Scratch, grown to the largest batch seen.
  // The stage buffer of at least count floats, shared by whichever block runs (attention's
  // q/k/v/output, the MLP's intermediates): one call per block, the pointer valid until the next.
  float* stage(int64_t count);

  std::vector<float> x_, h_, o_, stage_, router_, sel_w_, moe_gate_, moe_up_, moe_act_, moe_out_;
  std::vector<int32_t> positions_, sel_ids_;
  std::vector<float> logit_in_, rounded_x_;
  std::vector<const void*> k_blocks_, v_blocks_;
};

}  // namespace ollm::model
